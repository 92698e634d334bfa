"""Day-2 commands as the generated README gives them: key rotation, Secrets (template updates:
test_cruft_update.py; versions and reviews: test_catalog_live.py), and the
`make validate` rules for what a user edits in (quantities, pool edges, Flux Helm kinds, unknown kinds)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import yaml

from validate_repo import Outcome, Repo

BASE = "templates/kubernetes/apps/base/ai"


def sops_decrypt(repo: Repo, path: Path, key_file: Path, text: str | None = None) -> subprocess.CompletedProcess:
    command = ["sops", "decrypt", "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin" if text else str(path)]
    return repo.run(*command, stdin=text, SOPS_AGE_KEY_FILE=str(key_file))


def secret_files(repo: Repo) -> list[Path]:
    return sorted(repo.path.glob("clusters/*/secrets/*.sops.yaml"))


def test_rotate_key_leaves_nothing_the_old_key_can_decrypt(repo, tmp_path):
    old_key = tmp_path / "old.agekey"
    shutil.copy(repo.file("age.agekey"), old_key)
    before = {p: p.read_text() for p in secret_files(repo)}
    result = repo.make("rotate-key")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validate: OK" in result.stdout
    new_key = repo.file("age.agekey")
    new_recipient = new_key.read_text().split("public key: ")[1].split()[0]
    assert f"age: {new_recipient}" in repo.file(".sops.yaml").read_text()
    assert json.loads(repo.file(".cruft.json").read_text())["context"]["cookiecutter"]["age_public_key"] == new_recipient
    kept = list(repo.path.glob("age-old-*.agekey"))
    assert len(kept) == 1 and kept[0].read_text() == old_key.read_text()
    assert repo.run("git", "check-ignore", "-q", kept[0].name).returncode == 0
    for path, old_text in before.items():
        assert sops_decrypt(repo, path, new_key).returncode == 0, path
        assert sops_decrypt(repo, path, old_key).returncode != 0, path
        # The old key with the old sops block from git history: the data key changed, so this fails too.
        hybrid = yaml.safe_load(path.read_text())
        hybrid["sops"]["age"] = yaml.safe_load(old_text)["sops"]["age"]
        assert sops_decrypt(repo, path, old_key, text=yaml.safe_dump(hybrid)).returncode != 0, path
    assert not list(repo.path.rglob(".rotating.*"))


def test_rotate_key_without_the_key_changes_nothing(repo):
    repo.file("age.agekey").rename(repo.file("elsewhere.agekey"))
    before = {p: p.read_bytes() for p in [*secret_files(repo), repo.file(".sops.yaml"), repo.file(".cruft.json")]}
    result = repo.make("rotate-key")
    assert result.returncode != 0
    assert f"rotate-key: no key for cluster {repo.cluster}'s recipient" in result.stderr and "nothing was changed" in result.stderr
    assert {p: p.read_bytes() for p in before} == before


def test_secret_show_prints_the_decrypted_secret(repo):
    result = repo.make("secret-show", f"FILE={repo.secret}")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["stringData"]["WEBUI_SECRET_KEY"]
    usage = repo.make("secret-show")
    assert usage.returncode != 0 and "usage: make secret-show FILE=" in usage.stderr


def test_validate_names_a_cluster_recipient_that_disagrees(repo):
    answers = f"clusters/{repo.cluster}/cluster.yaml"
    repo.edit(answers, f"age_public_key: {repo.answers['age_public_key']}", "age_public_key: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")
    outcome = repo.validate()
    assert outcome.returncode != 0
    line = outcome.problem(f"{answers}: -: age_public_key: is age1ql3z7hjy")
    assert f"but .sops.yaml encrypts cluster {repo.cluster}'s Secrets for" in line and f"make rotate-key CLUSTER={repo.cluster}" in line
    outcome.problem(".sops.yaml: -: -: differs from what `make render` produces")  # render writes the rule from the answer


def edit_resources(repo: Repo, old: str, new: str) -> Outcome:
    repo.edit(f"{BASE}/open-webui/deployment.yaml", old, new)
    repo.render()
    return repo.validate()


def test_validate_rejects_a_quantity_the_api_server_rejects(repo):
    outcome = edit_resources(repo, 'memory: "2Gi"', 'memory: "48GB"')
    assert outcome.returncode != 0
    assert "resources.limits.memory: '48GB' is not a Kubernetes quantity" in outcome.problem("Deployment/open-webui", "48GB")


def test_validate_rejects_limits_below_requests(repo):
    outcome = edit_resources(repo, 'memory: "512Mi"', 'memory: "4Gi"')
    assert outcome.returncode != 0
    assert "limit 2Gi is below the request 4Gi" in outcome.problem("Deployment/open-webui", "resources.limits.memory")


def test_validate_rejects_the_pools_broadcast_address(repo):
    service = f"{BASE}/services.yaml"
    repo.edit(service, "10.10.2.25", "10.10.2.31")
    repo.render()
    outcome = repo.validate()
    assert outcome.returncode != 0
    assert "10.10.2.31 is the network or broadcast address of its pool" in outcome.problem("Service/open-webui", "10.10.2.31")


HELM = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: grafana, namespace: ai}
spec: {url: "https://grafana.github.io/helm-charts", interval: 1h}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: podinfo, namespace: ai}
spec: {url: "oci://ghcr.io/stefanprodan/charts/podinfo", interval: 10m, ref: {tag: "6.9.2"}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: grafana, namespace: ai}
spec:
  interval: 30m
  chart:
    spec: {chart: grafana, version: "10.x", sourceRef: {kind: HelmRepository, name: grafana}}
  values: {persistence: {enabled: true}}
"""


def add_to_apps(repo: Repo, name: str, manifest: str) -> None:
    directory = repo.file(f"{BASE}/{name}")
    directory.mkdir()
    (directory / f"{name}.yaml").write_text(manifest)
    (directory / "kustomization.yaml").write_text(f"resources: [{name}.yaml]\n")
    repo.edit(f"{BASE}/kustomization.yaml", "resources:\n", f"resources:\n  - {name}\n")


def test_flux_helm_kinds_validate_and_a_typo_is_caught(repo):
    add_to_apps(repo, "grafana", HELM)
    repo.render()
    assert repo.validate().returncode == 0, repo.validate().stdout
    repo.edit(f"{BASE}/grafana/grafana.yaml", "  interval: 30m\n", "  intervall: 30m\n")
    repo.render()
    outcome = repo.validate()
    assert outcome.returncode != 0 and outcome.stages == {"schema": 1}, outcome.stdout


def test_a_crd_without_a_schema_is_a_warning_naming_the_users_folder(repo):
    """In an add-on layer (a CRD in a layer the apps need is an error of its own, test_make_validate)."""
    backup = "templates/kubernetes/infrastructure/base/backup"
    repo.file(f"{backup}/monitor.yaml").write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: ai}\nspec: {size: 1}\n")
    repo.edit(f"{backup}/kustomization.yaml", "resources:\n", "resources:\n  - monitor.yaml\n")
    repo.render()
    outcome = repo.validate()
    assert outcome.returncode == 0, outcome.stdout
    line = outcome.problem("Widget/w")
    assert line.startswith("warning: ") and "schemas/example.com/widget_v1.json" in line and "kfn/" not in line
    schema = repo.file("schemas/example.com/widget_v1.json")
    schema.parent.mkdir(parents=True)
    schema.write_text(json.dumps({"type": "object", "properties": {"apiVersion": {}, "kind": {}, "metadata": {}, "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}))
    repo.edit(f"{backup}/monitor.yaml", "size: 1", "size: big")
    repo.render()
    outcome = repo.validate()
    assert outcome.returncode != 0 and "'big' is not of type 'integer'" in outcome.problem("Widget/w")


def test_render_removes_a_layer_the_makefile_no_longer_lists(repo):
    """A repo updated from a template that split its layers keeps no stale rendered layer for Flux to apply."""
    stale = repo.file(f"kubernetes/rendered/{repo.cluster}/infrastructure")
    stale.mkdir()
    (stale / "kustomization.yaml").write_text("resources: []\n")
    result = repo.make("render")
    assert result.returncode == 0, result.stderr
    assert f"removed kubernetes/rendered/{repo.cluster}/infrastructure: no longer a layer" in result.stdout
    assert not stale.exists()
