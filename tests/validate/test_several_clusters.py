"""Several clusters in one repo (`make add-cluster`): each is rendered from templates/ with its own
answers and validated with them, its Flux objects apply only its own rendered output, and adding one
leaves the others' bytes as they were."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from validate_repo import Repo

LAB = {"gpu_vendor": "amd", "lb_pool": "10.20.0.8/29", "open_webui_ip": "10.20.0.9", "stable_diffusion_ip": "10.20.0.10", "whisper_ip": "10.20.0.11"}


def tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def flux_paths(repo: Repo, cluster: str) -> list[str]:
    """spec.path of every Flux Kustomization in clusters/<cluster>/."""
    found = []
    for path in sorted(repo.file(f"clusters/{cluster}").glob("*.yaml")):
        found += [d["spec"]["path"] for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "Kustomization"]
    return found


@pytest.fixture(scope="module")
def two_clusters(baked, tmp_path_factory) -> Repo:
    """The bake plus cluster lab: AMD GPUs and another address pool, rendered."""
    repo = Repo(tmp_path_factory.mktemp("two") / baked.name)
    shutil.copytree(baked, repo.path, symlinks=True)
    added = repo.make("add-cluster", "NAME=lab")
    assert added.returncode == 0, added.stdout + added.stderr
    answers = repo.file("clusters/lab/cluster.yaml")
    document = yaml.safe_load(answers.read_text())
    for key, value in LAB.items():
        repo.edit("clusters/lab/cluster.yaml", f"\n{key}: {document[key]}\n", f"\n{key}: {value}\n")
    repo.render()
    return repo


@pytest.fixture
def lab(two_clusters, tmp_path) -> Repo:
    repo = Repo(tmp_path / two_clusters.path.name)
    shutil.copytree(two_clusters.path, repo.path, symlinks=True)
    return repo


def test_a_second_cluster_renders_with_its_answers_and_validates(two_clusters, baked):
    repo = two_clusters
    outcome = repo.validate()
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    production = "kubernetes/rendered/production"
    assert tree(repo.file(production)) == tree(baked / production), "adding a cluster changed production's output"
    assert tree(repo.file("clusters/production")) == tree(baked / "clusters/production")
    ollama = repo.load("kubernetes/rendered/lab/apps/ai/deployment-ollama.yaml")[0]["spec"]["template"]["spec"]["containers"][0]
    assert ollama["image"].startswith("ollama/ollama:") and ollama["image"].endswith("-rocm")
    assert "amd.com/gpu" in ollama["resources"]["limits"]
    assert "nvidia.com/gpu" not in repo.file("kubernetes/rendered/lab/apps/ai/deployment-ollama.yaml").read_text()
    for cluster in ("production", "lab"):
        paths = flux_paths(repo, cluster)
        assert paths and all(p.startswith(f"./kubernetes/rendered/{cluster}/") for p in paths), (cluster, paths)
    # Each cluster's answers judge its own output: lab's images are checked against the catalog's AMD ones.
    assert "services.stable-diffusion.images.amd.image" in outcome.problem("warning: ", "rendered/lab/apps/ai/deployment-stable-diffusion.yaml")


def test_a_cluster_pointed_at_another_clusters_output_fails_naming_the_path(lab):
    lab.edit("clusters/lab/apps.yaml", "path: ./kubernetes/rendered/lab/apps", "path: ./kubernetes/rendered/production/apps")
    outcome = lab.validate()
    assert outcome.returncode != 0
    line = outcome.problem("clusters/lab/apps.yaml: Kustomization/apps: spec.path: ./kubernetes/rendered/production/apps is cluster production's rendered output")
    assert "point it at ./kubernetes/rendered/lab/<layer>" in line
    assert outcome.stages["flux"] == 1 and outcome.stages["drift"] == 1, outcome.stdout
    # production's manifests judged with lab's answers: its NVIDIA images are not lab's AMD ones.
    outcome.problem("rendered: kubernetes/rendered/production/apps/ai/deployment-ollama.yaml", "services.ollama.images.amd.image")


def test_cluster_answers_flux_would_see_are_a_problem(lab):
    """.sourceignore keeps cluster.yaml out of Flux's artifact; without it Flux's generated kustomization fails."""
    lab.edit(".sourceignore", "clusters/*/cluster.yaml\n", "")
    outcome = lab.validate()
    assert outcome.stages == {"flux": 2}, outcome.stdout
    for cluster in ("lab", "production"):
        line = outcome.problem(f"clusters/{cluster}/cluster.yaml: -: -: not a Kubernetes object")
        assert "add it to .sourceignore" in line


def test_a_rendered_secret_must_be_its_clusters_file(lab):
    """Each cluster's Secrets are its own: lab's rendered copy of production's Secret is named."""
    secret = "apps/ai/secret-open-webui-secrets.sops.yaml"
    shutil.copy(lab.file(f"kubernetes/rendered/production/{secret}"), lab.file(f"kubernetes/rendered/lab/{secret}"))
    outcome = lab.validate()
    assert outcome.returncode != 0
    line = outcome.problem(f"(rendered: kubernetes/rendered/lab/{secret}): Secret/open-webui-secrets: -: differs from its source")
    assert line.startswith("clusters/lab/secrets/open-webui.sops.yaml (rendered: ")
    assert outcome.stages == {"drift": 1, "secrets": 1}, outcome.stdout
