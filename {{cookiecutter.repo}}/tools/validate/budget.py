"""Policy: the GPU memory budget (tools/gpu_budget.py, the rule the bake applies) over what this repo applies.

Which services hold a GPU is read from the rendered Deployments (a GPU added by hand counts); the answers
(gpu_memory_gb, the models, the sharing factor) from the answers record (tools/answers.py).
"""

from __future__ import annotations

from pathlib import Path

from tools import gpu_budget
from tools.answers import AnswersError, recorded
from tools.manifests import CRUFT_RECORD, Manifest
from tools.validate import catalog
from tools.validate.problems import Problem

STAGE = "policy"


def gpu_holders(applied: list[Manifest], services: dict) -> list[str]:
    """The catalogued services whose rendered Deployment limits a GPU resource."""
    found = []
    for m in applied:
        if m.kind != "Deployment" or m.name not in services:
            continue
        containers = ((m.doc.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
        limits = [((c.get("resources") or {}).get("limits") or {}) for c in containers]
        if any(catalog.resource_vendor(str(resource)) for limit in limits for resource in limit):
            found.append(m.name)
    return found


def check(root: Path, applied: list[Manifest]) -> list[Problem]:
    services = catalog.load(root)
    if "ollama" not in services or "gpu_memory" not in services["ollama"] or not (root / CRUFT_RECORD).is_file():
        return []  # not a generated repo (no catalog budget or no answers record): nothing to weigh
    try:
        answers = recorded(root)
    except AnswersError as err:
        return [Problem(CRUFT_RECORD, "-", "-", str(err), f"restore {CRUFT_RECORD} from git", STAGE)]
    try:
        plan = gpu_budget.plan(answers, services, gpu_holders(applied, services))
    except (KeyError, ValueError, TypeError) as err:
        return [Problem(CRUFT_RECORD, "-", "context.cookiecutter", f"the GPU memory budget cannot read {err}", "restore the answer from git", STAGE)]
    why = plan.problem() if plan else None
    if not why:
        return []
    return [Problem(CRUFT_RECORD, "-", "context.cookiecutter.gpu_memory_gb", why.partition(" — ")[2], "see the README's GPU memory budget", STAGE)]
