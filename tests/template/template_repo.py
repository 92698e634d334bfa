"""Baking and inspecting generated repositories with the real tools (cookiecutter, make, kubectl, sops, git)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

from tooling import ROOT, VENV, age_identity, tool_env

CATALOG = yaml.safe_load((ROOT / "{{cookiecutter.repo}}" / "catalog" / "services.yaml").read_text())["services"]
LB_ANNOTATIONS = {"cilium": "lbipam.cilium.io/ips", "metallb": "metallb.io/loadBalancerIPs"}
# Irreplaceable data gets the long GFS retention; what can be downloaded again gets Daily.
TIERS = {"models": "Daily", "data": "GFS", "cache": "Daily"}


# The pairwise matrix of test_generated_repo (and the vendor rows test_services reads): every pair of
# gpu_vendor (4) × lb_provider (2) × optional services (all on / all off) × age key (generated / given).
ALL_ON = {"enable_stable_diffusion": "yes", "enable_whisper": "yes", "enable_qdrant": "yes", "enable_litellm": "yes", "enable_gatus": "yes"}
ALL_OFF = {"enable_stable_diffusion": "no", "enable_whisper": "no", "enable_qdrant": "no", "enable_litellm": "no", "enable_gatus": "no"}
GATEWAY = {"exposure": "gateway", "domain": "lab.example.org"}
RANGE_POOL = {"lb_pool": "10.10.2.25-10.10.2.30", "open_webui_ip": "10.10.2.30", "stable_diffusion_ip": "10.10.2.29", "whisper_ip": "10.10.2.25"}

CASES: dict[str, dict[str, str]] = {
    "default": {},
    "nvidia-cilium-all-generated": {"gpu_vendor": "nvidia", "lb_provider": "cilium", **ALL_ON, "gpu_node_selector": "nvidia.com/gpu.present=true"},
    "nvidia-metallb-none-given": {"gpu_vendor": "nvidia", "lb_provider": "metallb", **ALL_OFF, **RANGE_POOL,
                                  "age_public_key": "given", "gpu_time_slicing_replicas": "1"},
    "amd-cilium-none-given": {"gpu_vendor": "amd", "lb_provider": "cilium", **ALL_OFF, **RANGE_POOL, "age_public_key": "given"},
    # Only Ollama has a ROCm build: one AMD GPU is enough for every service.
    "amd-metallb-all-generated": {"gpu_vendor": "amd", "lb_provider": "metallb", **ALL_ON, "gpu_count": "1"},
    "intel-cilium-all-given": {"gpu_vendor": "intel", "lb_provider": "cilium", **ALL_ON, "age_public_key": "given",
                               "gpu_node_selector": "intel.feature.node.kubernetes.io/gpu=true",
                               "cluster_name": "lab", "namespace": "genai", "git_branch": "flux/lab", **GATEWAY},
    "intel-metallb-none-generated": {"gpu_vendor": "intel", "lb_provider": "metallb", **ALL_OFF, "intel_gpu_driver": "xe",
                                     "gpu_runtime_class": "intel-gpu"},
    "none-cilium-none-generated": {"gpu_vendor": "none", "lb_provider": "cilium", **ALL_OFF, "ollama_models": ""},
    "none-metallb-all-given": {"gpu_vendor": "none", "lb_provider": "metallb", **ALL_ON, "age_public_key": "given", **GATEWAY},
}


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=tool_env(**env))


def bake_context(answers: dict[str, str], key_dir: Path) -> tuple[dict[str, str], Path | None]:
    """The extra context for a bake; `age_public_key="given"` swaps in a fresh key pair made here."""
    if answers.get("age_public_key") != "given":
        return dict(answers), None
    recipient, identity = age_identity()
    private_key = key_dir / "given.agekey"
    private_key.write_text(f"{identity}\n")
    return {**answers, "age_public_key": recipient}, private_key


def enabled(answers: dict, flag: str | None) -> bool:
    return flag is None or answers[flag] is True


def deployed(answers: dict) -> dict[str, dict]:
    """The catalog entries a bake with these answers deploys."""
    return {name: s for name, s in CATALOG.items() if enabled(answers, s["enabled_by"])}


def gpu_resource(answers: dict) -> str:
    vendor = answers["gpu_vendor"]
    return {"nvidia": "nvidia.com/gpu", "amd": "amd.com/gpu", "intel": f"gpu.intel.com/{answers['intel_gpu_driver']}"}[vendor]


def load_all(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@dataclass
class Baked:
    path: Path
    answers: dict
    given_private_key: Path | None

    @property
    def cluster(self) -> str:
        return self.answers["cluster_name"]

    @property
    def private_key(self) -> Path:
        return self.given_private_key or self.path / "age.agekey"

    def make(self, *targets: str, **env: str) -> subprocess.CompletedProcess:
        return run(["make", "--no-print-directory", *targets, f"VENV={VENV}"], self.path, **env)

    def sops_decrypt(self, path: Path) -> subprocess.CompletedProcess:
        command = ["sops", "decrypt", "--input-type", "yaml", "--output-type", "yaml", str(path)]
        return run(command, self.path, SOPS_AGE_KEY_FILE=str(self.private_key))

    def rendered(self, layer: str) -> list[dict]:
        directory = self.path / "kubernetes" / "rendered" / self.cluster / layer
        return [doc for path in sorted(directory.rglob("*.yaml")) if path.name != "kustomization.yaml" for doc in load_all(path)]

    @cached_property
    def resources(self) -> list[dict]:
        return [doc for layer in self.layers for doc in self.rendered(layer)]

    @property
    def layers(self) -> list[str]:
        """The rendered layers, as `make render` wrote them."""
        return sorted(p.name for p in (self.path / "kubernetes" / "rendered" / self.cluster).iterdir() if p.is_dir())

    def of_kind(self, kind: str) -> dict[str, dict]:
        return {doc["metadata"]["name"]: doc for doc in self.resources if doc["kind"] == kind}

    def copy(self, into: Path) -> Baked:
        """A copy of this bake to change (the shared bakes stay read-only), git history included."""
        target = into / self.path.name
        shutil.copytree(self.path, target, symlinks=True, ignore=shutil.ignore_patterns(".venv"))
        return Baked(target, self.answers, self.given_private_key)

    def config_map(self, name: str) -> dict:
        """A ConfigMap from a kustomize configMapGenerator: `name` plus the hash of its content."""
        found = [doc for n, doc in self.of_kind("ConfigMap").items() if re.fullmatch(rf"{re.escape(name)}-[a-z0-9]{{10}}", n)]
        assert len(found) == 1, f"{len(found)} generated ConfigMaps {name}-<hash>"
        return found[0]

    def sops_files(self) -> list[Path]:
        """The cluster's encrypted Secrets and their rendered copies."""
        return sorted([*self.path.glob("clusters/*/secrets/*.sops.yaml"), *self.path.glob("kubernetes/**/*.sops.yaml")])

    @cached_property
    def sources(self) -> Path:
        """The cluster's templates rendered as kustomize builds them (`python -m tools.clusters workspace`):
        kubernetes/apps/base/ai/..., kubernetes/kfn/overlay/ai-patches.yaml, ... (a read-only view)."""
        into = Path(tempfile.mkdtemp(prefix="workspace-"))
        result = run([str(VENV / "bin" / "python"), "-m", "tools.clusters", "workspace", self.cluster, str(into / "ws")], self.path)
        assert result.returncode == 0, result.stderr
        return into / "ws"

    @property
    def readme(self) -> str:
        """The cluster's README (`make render` writes it from clusters/<name>/cluster.yaml)."""
        return (self.path / "clusters" / self.cluster / "README.md").read_text()

    @property
    def answers_file(self) -> Path:
        return self.path / "clusters" / self.cluster / "cluster.yaml"

    def worktree_files(self) -> list[Path]:
        return [p for p in self.path.rglob("*") if p.is_file() and ".git" not in p.relative_to(self.path).parts]

    def git(self, *args: str) -> str:
        result = run(["git", *args], self.path)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def git_objects(self) -> bytes:
        return subprocess.run(
            ["git", "cat-file", "--batch-all-objects", "--batch"], cwd=self.path, capture_output=True, check=True
        ).stdout


def container(workload: dict) -> dict:
    """The container kfn targets: the one named by ai-gitops.dev/container, else the first."""
    containers = workload["spec"]["template"]["spec"]["containers"]
    wanted = workload["metadata"].get("annotations", {}).get("ai-gitops.dev/container")
    return next((c for c in containers if c["name"] == wanted), containers[0])
