"""Policy: the GPU memory budget (tools/gpu_budget.py, the rule the bake applies) over what this repo applies.

Which services hold a GPU is read from a cluster's rendered Deployments (a GPU added by hand counts); the
answers (gpu_memory_gb, the sharing factor) from its clusters/<name>/cluster.yaml, the models from
catalog/models.yaml (tools/clusters.py load).
"""

from __future__ import annotations

from tools import gpu_budget
from tools.catalog import Catalog, CatalogError, resource_vendor
from tools.clusters import ANSWERS_FILE, CLUSTERS
from tools.manifests import Manifest
from tools.validate.problems import Problem

STAGE = "policy"


def containers(m: Manifest) -> list[dict]:
    return ((m.doc.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []


def gpu_holders(applied: list[Manifest], services: dict) -> list[str]:
    """The catalogued services whose rendered Deployment limits a GPU resource."""
    found = []
    for m in applied:
        if m.kind != "Deployment" or m.name not in services:
            continue
        limits = [((c.get("resources") or {}).get("limits") or {}) for c in containers(m)]
        if any(resource_vendor(str(resource)) for limit in limits for resource in limit):
            found.append(m.name)
    return found


def sd_mode(applied: list[Manifest]) -> str:
    """SD.Next's memory mode as its rendered Deployment sets it."""
    names = {str(e.get("name")) for m in applied if m.kind == "Deployment" and m.name == "stable-diffusion" for c in containers(m) for e in c.get("env") or []}
    return next((mode for mode, variable in gpu_budget.SD_MODE_VARIABLES.items() if variable in names), gpu_budget.SD_MODES[0])


def check(loaded: Catalog | CatalogError | None, applied: list[Manifest], cluster: str) -> list[Problem]:
    """`loaded` is the policy stage's catalog with cluster ``cluster``'s answers (an unreadable catalog is
    reported there, once; None: the cluster's answers cannot be read, which is reported before the stages)."""
    if not isinstance(loaded, Catalog) or not loaded.answers:
        return []
    answers_file = (CLUSTERS / cluster / ANSWERS_FILE).as_posix()
    services = loaded.services
    if "gpu_memory" not in (services.get("ollama") or {}):
        return []
    try:
        plan = gpu_budget.plan(loaded.answers, services, gpu_holders(applied, services), sd_mode(applied))
    except (KeyError, ValueError, TypeError) as err:
        return [Problem(answers_file, "-", "-", f"the GPU memory budget cannot read {err}", "restore the answer from git", STAGE)]
    short = plan.shortfall() if plan else None
    if not short:
        return []
    return [Problem(answers_file, "-", "gpu_memory_gb", f"{short}, more than gpu_memory_gb {plan.gpu_memory_gb}", f"{gpu_budget.FIX} (the README's GPU memory budget)", STAGE)]
