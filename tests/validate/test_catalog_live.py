"""The catalog is live in a baked repo: `make render` sets every catalogued image and claim size from
catalog/services.yaml whatever the manifests say, `make validate` names a rendered value that differs,
and `make diff` shows what a change does to the cluster, Secret values masked."""

from __future__ import annotations

import sys

import yaml

from validate_repo import Repo

CATALOG = "catalog/services.yaml"
APPS = "kubernetes/rendered/production/apps/ai"
CORE = "kubernetes/rendered/production/core/ai"
OLLAMA = "ollama/ollama:0.33.0"  # the nvidia image of the catalog this test module bakes with
BUMPED = "ollama/ollama:0.33.1"


def image_of(repo: Repo, rel: str) -> str:
    (doc,) = repo.load(rel)
    return doc["spec"]["template"]["spec"]["containers"][0]["image"]


def storage_of(repo: Repo, claim: str) -> str:
    (doc,) = repo.load(f"{CORE}/persistentvolumeclaim-{claim}.yaml")
    return doc["spec"]["resources"]["requests"]["storage"]


def test_an_image_changed_in_the_catalog_reaches_every_container_of_its_service(repo):
    repo.edit(CATALOG, f'image: "{OLLAMA}", backend: cuda', f'image: "{BUMPED}", backend: cuda')
    stale = repo.validate()
    assert stale.returncode != 0
    for workload in ("Deployment/ollama", "Job/ollama-pull-models"):
        line = stale.problem(workload, ".image:")
        assert f"service ollama: runs {OLLAMA} but {CATALOG} sets {BUMPED}" in line, line
    repo.render()
    assert image_of(repo, f"{APPS}/deployment-ollama.yaml") == BUMPED
    assert image_of(repo, f"{APPS}/job-ollama-pull-models.yaml") == BUMPED
    outcome = repo.validate()
    assert outcome.returncode == 0, outcome.stdout


def test_render_overrides_an_image_a_manifest_sets(repo):
    """A tag written into a base manifest by hand (or left by an old template) never reaches the cluster."""
    repo.edit("templates/kubernetes/apps/base/ai/ollama/deployment.yaml", "          # image: set by", "          image: ollama/ollama:0.1.0\n          # image: set by")
    repo.render()
    assert image_of(repo, f"{APPS}/deployment-ollama.yaml") == OLLAMA
    assert repo.validate().returncode == 0
    build = repo.make("build")  # prints what make render writes
    assert build.returncode == 0 and "# cluster production, layer apps\n" in build.stdout
    assert f"image: {OLLAMA}\n" in build.stdout and "ollama/ollama:0.1.0" not in build.stdout


def test_claim_sizes_come_from_the_catalog_and_the_answers_it_names(repo):
    repo.edit(CATALOG, "data_class: data, size: 20Gi}", "data_class: data, size: 30Gi}")
    answers = f"clusters/{repo.cluster}/cluster.yaml"
    repo.edit(answers, f"\nollama_pvc_size: {repo.answers['ollama_pvc_size']}\n", "\nollama_pvc_size: 200Gi\n")
    stale = repo.validate()
    assert "claim stable-diffusion-data: requests 20Gi but catalog/services.yaml sizes it 30Gi" in stale.problem("PersistentVolumeClaim/stable-diffusion-data", "storage")
    repo.render()
    assert storage_of(repo, "stable-diffusion-data") == "30Gi"
    assert storage_of(repo, "ollama-models") == "200Gi"
    assert repo.validate().returncode == 0


def test_gpu_policy_judges_a_service_by_its_entry_whatever_image_it_runs(repo):
    """Open WebUI has no GPU backend: a GPU given to it is named even when its image is not the catalog's."""
    path = repo.file(f"{APPS}/deployment-open-webui.yaml")
    doc = yaml.safe_load(path.read_text())
    container = doc["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "example.org/open-webui:patched"
    container["resources"]["limits"]["nvidia.com/gpu"] = 1
    path.write_text(yaml.safe_dump(doc))
    outcome = repo.validate()
    assert outcome.returncode != 0
    gpu = outcome.problem("Deployment/open-webui", "resources.limits.nvidia.com/gpu")
    assert "service open-webui: image example.org/open-webui:patched has no nvidia GPU backend" in gpu
    image = outcome.problem("Deployment/open-webui", "containers[open-webui].image")
    assert "runs example.org/open-webui:patched but catalog/services.yaml sets ghcr.io/open-webui/open-webui:" in image


def test_a_catalog_entry_without_an_image_is_one_line_and_nothing_is_written(repo):
    before = {p: p.read_bytes() for p in repo.file("kubernetes/rendered").rglob("*") if p.is_file()}
    repo.edit(CATALOG, f'image: "{OLLAMA}", backend: cuda', 'image: "", backend: cuda')
    result = repo.make("render")
    assert result.returncode != 0
    assert "render: catalog/services.yaml: services.ollama.images.nvidia.image: '' is not an image reference" in result.stderr
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in repo.file("kubernetes/rendered").rglob("*") if p.is_file()} == before
    outcome = repo.validate()
    assert outcome.returncode != 0 and "Traceback" not in outcome.stdout + outcome.stderr
    assert "services.ollama.images.nvidia.image" in outcome.problem("catalog/services.yaml: -: -:")


EDITOR = """\
import sys
path = sys.argv[1]
text = open(path).read()
open(path, "w").write(text.replace("WEBUI_SECRET_KEY: ", "WEBUI_SECRET_KEY: changed-", 1))
"""


def test_diff_shows_each_changed_object_per_layer_with_secret_values_masked(repo, tmp_path):
    repo.edit(CATALOG, f'image: "{OLLAMA}", backend: cuda', f'image: "{BUMPED}", backend: cuda')
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR)
    edited = repo.run("make", "--no-print-directory", "secret-edit", f"FILE={repo.secret}",
                      f"VENV={sys.prefix}", EDITOR=f"{sys.executable} {editor}", SOPS_AGE_KEY_FILE=str(repo.file("age.agekey")))
    assert edited.returncode == 0, edited.stderr
    plaintext = yaml.safe_load(repo.sops("decrypt", repo.secret))["stringData"]
    result = repo.make("diff")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "layer production/apps: 3 changed" in out
    for title in ("changed Deployment ai/ollama", "changed Job ai/ollama-pull-models", "changed Secret ai/open-webui-secrets"):
        assert f"- {title}\n" in out
    assert f"-        image: {OLLAMA}\n+        image: {BUMPED}\n" in out
    assert "+  WEBUI_SECRET_KEY: <masked, changed>" in out
    assert "ENC[" not in out and not any(str(v) in out for v in plaintext.values() if len(str(v)) >= 12)
    assert "production/core" not in out  # no claim changed

    markdown = repo.make("diff", "FORMAT=markdown").stdout
    assert markdown.startswith("## What changes in the cluster: HEAD → working tree")
    assert "<details><summary>changed Deployment ai/ollama</summary>" in markdown and "```diff" in markdown

    repo.run("git", "add", "-A")
    assert repo.run("git", "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "bump").returncode == 0
    assert repo.make("diff").stdout == "No change in the cluster between HEAD and the working tree.\n"
    added = repo.make("diff", "BASE=HEAD~1").stdout
    assert "- changed Deployment ai/ollama" in added


def test_diff_names_a_base_that_is_not_a_commit(repo):
    result = repo.make("diff", "BASE=no-such-ref")
    assert result.returncode != 0
    assert "diff: BASE=no-such-ref: not a commit in this repository" in result.stderr
    assert "Traceback" not in result.stderr


def test_readme_change_a_version_runs_as_written(repo):
    repo.edit(CATALOG, f'image: "{OLLAMA}", backend: cuda', f'image: "{BUMPED}", backend: cuda')
    result = repo.run_block(repo.readme_block("Change a version"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validate: OK" in result.stdout and "+        image: ollama/ollama:0.33.1" in result.stdout
    assert repo.run("git", "status", "--porcelain").stdout == ""
    assert image_of(repo, f"{APPS}/deployment-ollama.yaml") == BUMPED


def test_readme_review_a_pull_request_runs_as_written(repo, tmp_path):
    """A branch pushed to origin, reviewed from a clone of it as the README says."""
    origin = tmp_path / "origin.git"
    assert repo.run("git", "clone", "-q", "--bare", ".", str(origin)).returncode == 0
    repo.run("git", "remote", "add", "origin", str(origin))
    repo.run("git", "switch", "-q", "-c", "bump")
    repo.edit(CATALOG, f'image: "{OLLAMA}", backend: cuda', f'image: "{BUMPED}", backend: cuda')
    repo.render()
    repo.run_block("git add -A && git commit -qm bump && git push -q origin bump && git switch -q main")
    block = repo.readme_block("Review a pull request")
    assert "git switch BRANCH" in block
    result = repo.run_block(block.replace("BRANCH", "bump"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "- changed Deployment ai/ollama\n" in result.stdout and f"+        image: {BUMPED}" in result.stdout
