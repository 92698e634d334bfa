"""Several clusters in one repo (issue 16): `make add-cluster`, an edited cluster.yaml, `make rotate-key
CLUSTER=`, `make remove-cluster`, and the move of a single-cluster repo (`tools.clusters adopt`), through
the generated repo's own Makefile, kustomize, kfn and sops."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from template_repo import Baked, container, load_all
from tooling import VENV

LAB = {"gpu_vendor": "amd", "lb_pool": "10.20.0.8/29", "open_webui_ip": "10.20.0.9", "stable_diffusion_ip": "10.20.0.10",
       "whisper_ip": "10.20.0.11", "storage_class": "local-path", "exposure": "gateway", "domain": "lab.example.org"}


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def set_answers(repo: Baked, name: str, **answers: str) -> None:
    path = repo.path / "clusters" / name / "cluster.yaml"
    text = path.read_text()
    for key, value in answers.items():
        lines = [line for line in text.splitlines() if line.startswith(f"{key}:")]
        assert len(lines) == 1, key
        text = text.replace(lines[0] + "\n", f"{key}: {value}\n")
    path.write_text(text)


def rendered(repo: Baked, name: str) -> list[dict]:
    return [d for p in sorted((repo.path / "kubernetes" / "rendered" / name).rglob("*.yaml")) if p.name != "kustomization.yaml" for d in load_all(p)]


def flux_paths(repo: Baked, name: str) -> set[str]:
    docs = (d for p in (repo.path / "clusters" / name).glob("*.yaml") if p.name != "cluster.yaml" for d in load_all(p))
    return {d["spec"]["path"] for d in docs if d["kind"] == "Kustomization"}


@pytest.fixture(scope="module")
def prepared(bakery, tmp_path_factory) -> Baked:
    """The default bake plus cluster `lab`: AMD, its own pool, a Gateway, another StorageClass (made once)."""
    repo = bakery("default").copy(tmp_path_factory.mktemp("two-clusters"))
    before = files(repo.path / "kubernetes" / "rendered" / "production")
    added = repo.make("add-cluster", "NAME=lab")
    assert added.returncode == 0, added.stdout + added.stderr
    set_answers(repo, "lab", **LAB)
    render = repo.make("render")
    assert render.returncode == 0, render.stdout + render.stderr
    assert files(repo.path / "kubernetes" / "rendered" / "production") == before, "rendering lab changed production"
    return repo


@pytest.fixture
def two_clusters(prepared, tmp_path) -> Baked:
    """A copy of the two-cluster repo for one test to change."""
    return prepared.copy(tmp_path)


def test_a_second_cluster_with_another_vendor_renders_its_own_manifests(two_clusters):
    lab = rendered(two_clusters, "lab")
    ollama = container(next(d for d in lab if d["kind"] == "Deployment" and d["metadata"]["name"] == "ollama"))
    assert ollama["image"].endswith("-rocm") and ollama["resources"]["limits"]["amd.com/gpu"] == 1
    assert not any(d["kind"] == "ConfigMap" and d["metadata"]["name"] == "time-slicing-config" for d in lab)  # AMD is not time-sliced
    claims = [d for d in lab if d["kind"] == "PersistentVolumeClaim"]
    assert claims and {c["spec"]["storageClassName"] for c in claims} == {"local-path"}
    gateway = next(d for d in lab if d["kind"] == "Gateway")
    assert "chat.lab.example.org" in {listener.get("hostname") for listener in gateway["spec"]["listeners"]}
    production = rendered(two_clusters, "production")
    assert container(next(d for d in production if d["kind"] == "Deployment" and d["metadata"]["name"] == "ollama"))["image"] == "ollama/ollama:0.33.0"
    for name in ("production", "lab"):
        layers = {p.name for p in (two_clusters.path / "kubernetes" / "rendered" / name).iterdir()}
        assert flux_paths(two_clusters, name) == {f"./kubernetes/rendered/{name}/{layer}" for layer in layers}
    assert "amd.com/gpu" in (two_clusters.path / "clusters" / "lab" / "README.md").read_text()
    validate = two_clusters.make("validate")
    assert validate.returncode == 0, validate.stdout + validate.stderr


def test_each_cluster_has_its_own_secrets_and_a_sops_rule(two_clusters):
    rules = yaml.safe_load((two_clusters.path / ".sops.yaml").read_text())["creation_rules"]
    assert [r["path_regex"] for r in rules] == [r"^clusters/lab/secrets/[^/]+\.sops\.ya?ml$", r"^clusters/production/secrets/[^/]+\.sops\.ya?ml$"]
    secrets = {name: sorted(p.name for p in (two_clusters.path / "clusters" / name / "secrets").iterdir()) for name in ("production", "lab")}
    assert secrets["production"] == secrets["lab"] == ["open-webui.sops.yaml", "stable-diffusion.sops.yaml"]
    values = [yaml.safe_load(two_clusters.sops_decrypt(two_clusters.path / "clusters" / name / "secrets" / "open-webui.sops.yaml").stdout)["stringData"]["WEBUI_SECRET_KEY"] for name in ("production", "lab")]
    assert values[0] != values[1], "a new cluster gets fresh secret values"


def test_a_bad_answer_in_cluster_yaml_is_one_line_and_nothing_is_rendered(two_clusters):
    before = files(two_clusters.path / "kubernetes" / "rendered")
    set_answers(two_clusters, "lab", gpu_vendor="matrox", whisper_ip="10.99.0.1")
    render = two_clusters.make("render")
    assert render.returncode != 0
    lines = [line for line in render.stderr.splitlines() if line.startswith("render:") or line.startswith("clusters/")]
    assert lines == [
        "render: clusters/lab/cluster.yaml: gpu_vendor: matrox — must be one of nvidia, amd, intel, none",
        "clusters/lab/cluster.yaml: whisper_ip: 10.99.0.1 — is outside lb_pool 10.20.0.8/29",
    ], render.stderr
    assert "Traceback" not in render.stderr
    assert files(two_clusters.path / "kubernetes" / "rendered") == before


@pytest.mark.parametrize(("text", "says"), [
    ("gpu_count: [1]\n", "clusters/lab/cluster.yaml: gpu_count: [1] — must be given as text"),
    ("kubernetes_version: 1.30\n", "clusters/lab/cluster.yaml: kubernetes_version: 1.3 — write it in quotes ('1.3')"),
    ("gpu_vendor: amd\ngpu_venddor: amd\n", "clusters/lab/cluster.yaml: gpu_venddor: not an answer of this template"),
    ("[not, a, mapping]\n", "clusters/lab/cluster.yaml: must be a mapping of answer keys to values"),
    ("gpu_vendor: amd\n  bad: indent\n", "clusters/lab/cluster.yaml: not valid YAML (line 2)"),
], ids=["list", "float", "typo", "not-a-mapping", "yaml"])
def test_hostile_cluster_yaml_gets_one_line(two_clusters, text, says):
    path = two_clusters.path / "clusters" / "lab" / "cluster.yaml"
    original = path.read_text()
    kept = [line for line in original.splitlines(keepends=True) if not line.startswith(tuple(k.split(":")[0] + ":" for k in text.splitlines() if ":" in k))]
    path.write_text(text if text.startswith("[") or "bad:" in text else "".join(kept) + text)
    render = two_clusters.make("render", "CLUSTER=lab")
    assert render.returncode != 0 and "Traceback" not in render.stderr
    assert says in render.stderr, render.stderr


def test_an_int_where_text_is_asked_is_taken_as_written(two_clusters):
    set_answers(two_clusters, "lab", gpu_count="2")  # unquoted: YAML reads an int
    render = two_clusters.make("render", "CLUSTER=lab")
    assert render.returncode == 0, render.stderr


def test_rotate_key_of_one_cluster_leaves_the_other_alone(two_clusters):
    production = {p: p.read_bytes() for p in (two_clusters.path / "clusters" / "production" / "secrets").iterdir()}
    rendered_production = files(two_clusters.path / "kubernetes" / "rendered" / "production")
    rotate = two_clusters.make("rotate-key", "CLUSTER=lab")
    assert rotate.returncode == 0, rotate.stdout + rotate.stderr
    own_key = two_clusters.path / "clusters" / "lab" / "age.agekey"
    recipient = own_key.read_text().split("public key: ")[1].split()[0]
    assert f"age_public_key: {recipient}\n" in (two_clusters.path / "clusters" / "lab" / "cluster.yaml").read_text()
    assert (two_clusters.path / "age.agekey").is_file(), "production still uses the repo's key"
    assert {p: p.read_bytes() for p in production} == production
    assert files(two_clusters.path / "kubernetes" / "rendered" / "production") == rendered_production
    secret = two_clusters.path / "clusters" / "lab" / "secrets" / "open-webui.sops.yaml"
    env = {"SOPS_AGE_KEY_FILE": str(own_key), "PATH": f"{VENV / 'bin'}:/usr/bin:/bin"}
    assert subprocess.run(["sops", "decrypt", str(secret)], capture_output=True, env=env).returncode == 0
    env["SOPS_AGE_KEY_FILE"] = str(two_clusters.path / "age.agekey")
    assert subprocess.run(["sops", "decrypt", str(secret)], capture_output=True, env=env).returncode != 0, "the old key still decrypts lab"
    assert two_clusters.git("check-ignore", "clusters/lab/age.agekey").strip() == "clusters/lab/age.agekey"
    several = two_clusters.make("rotate-key")
    assert several.returncode != 0 and "CLUSTER: (not set) — name one of the clusters: lab, production" in several.stderr


def test_remove_cluster_is_the_inverse_of_add(two_clusters):
    removed = two_clusters.make("remove-cluster", "NAME=lab")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert not (two_clusters.path / "clusters" / "lab").exists() and not (two_clusters.path / "kubernetes" / "rendered" / "lab").exists()
    render = two_clusters.make("render")
    assert render.returncode == 0 and "lab" not in yaml.safe_load((two_clusters.path / ".sops.yaml").read_text())["creation_rules"][0]["path_regex"]
    last = two_clusters.make("remove-cluster", "NAME=production")
    assert last.returncode != 0 and "is the repo's only cluster" in last.stderr


@pytest.mark.parametrize(("name", "says"), [
    ("Lab", "must be a DNS-1123 label"), ("rendered", "is a directory name the layout already uses"),
    ("production", "clusters/production/ exists already"), ("../x", "must be a DNS-1123 label"), ("a b; rm -rf .", "must be a DNS-1123 label"),
])
def test_add_cluster_refuses_a_bad_name_in_one_line(bakery, tmp_path, name, says):
    repo = bakery("default").copy(tmp_path)
    result = repo.make("add-cluster", f"NAME={name}")
    assert result.returncode != 0 and says in result.stderr and "Traceback" not in result.stderr
    assert repo.git("status", "--porcelain") == ""


def test_a_single_cluster_repo_is_adopted_with_its_secrets(bakery, tmp_path):
    """What `tools.clusters adopt` does for a repo generated before several clusters: answers from
    .cruft.json, Secrets moved unchanged (sops binds no path), the same rendered output."""
    repo = bakery("default").copy(tmp_path)
    rendered_before = files(repo.path / "kubernetes" / "rendered")
    secrets = repo.path / "clusters" / "production" / "secrets"
    old_home = repo.path / "kubernetes" / "apps" / "base" / "ai"
    for secret in list(secrets.iterdir()):
        (old_home / secret.name.removesuffix(".sops.yaml")).mkdir(parents=True)
        secret.replace(old_home / secret.name.removesuffix(".sops.yaml") / "secret.sops.yaml")
    (repo.path / "clusters" / "production" / "cluster.yaml").unlink()
    # What the old render derived from catalog/models.yaml beside the base manifests, which cruft leaves.
    leftover = old_home / "open-webui" / "models.yaml"
    leftover.write_text("# Generated by `make render` from catalog/models.yaml (tools/models.py): edit the list there, not this file.\nkind: Deployment\n")
    render = repo.make("render")
    assert render.returncode != 0 and "a repo generated before several clusters: make adopt" in render.stderr, render.stderr
    adopt = repo.make("adopt")
    assert adopt.returncode == 0, adopt.stderr
    assert not (repo.path / "kubernetes" / "apps").exists(), "the old base is left behind"
    render = repo.make("render")
    assert render.returncode == 0, render.stderr
    assert files(repo.path / "kubernetes" / "rendered") == rendered_before
    assert repo.git("status", "--porcelain") == "", "adopting changed something a render writes"


def test_an_answer_a_template_update_adds_is_named_with_the_line_to_add(two_clusters):
    """After `cruft update` brings a new answer, .cruft.json has its default and cluster.yaml does not:
    render names the line. A repo whose record predates the answer gets the key and where its default is."""
    path = two_clusters.path / "clusters" / "lab" / "cluster.yaml"
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True) if not line.startswith("amd_gfx_version:")))
    render = two_clusters.make("render", "CLUSTER=lab")
    assert render.returncode != 0
    assert "clusters/lab/cluster.yaml: amd_gfx_version: missing — add `amd_gfx_version: \"\"` (its value in .cruft.json)" in render.stderr, render.stderr
    record = two_clusters.path / ".cruft.json"
    data = json.loads(record.read_text())
    del data["context"]["cookiecutter"]["amd_gfx_version"]
    record.write_text(json.dumps(data, indent=4) + "\n")
    render = two_clusters.make("render", "CLUSTER=lab")
    assert "clusters/lab/cluster.yaml: amd_gfx_version: missing — add `amd_gfx_version: <value>`" in render.stderr, render.stderr
    assert "Traceback" not in render.stderr
