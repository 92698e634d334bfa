"""End to end: the legacy exec plugin under the pip-installed ``kubectl kustomize --enable-alpha-plugins``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from kfn_testing import PLUGIN_HOME, ROOT, copy_example, documents, has_alias, old_release_package, run, tool

PATCHED = {("Deployment", "ollama"), ("Deployment", "open-webui"), ("StatefulSet", "whisper"),
           ("PersistentVolumeClaim", "ollama-models"), ("PersistentVolumeClaim", "open-webui-data")}


def build(overlay: Path, plugin_home: Path = PLUGIN_HOME, backend: str = "yaml-rs") -> str:
    done = run([tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(overlay)],
               env={"KUSTOMIZE_PLUGIN_HOME": str(plugin_home), "KFN_YAML": backend})
    assert done.returncode == 0, done.stderr
    return done.stdout


def without_transformer(overlay: Path) -> None:
    text = (overlay / "kustomization.yaml").read_text()
    (overlay / "kustomization.yaml").write_text(text.split("# Legacy exec plugin")[0])


@pytest.mark.parametrize("backend", ["yaml-rs", "pyyaml"])
def test_plugin_patches_and_leaves_the_rest_identical(tmp_path: Path, backend: str) -> None:
    overlay = copy_example(tmp_path / "ai")
    patched = documents(build(overlay, backend=backend))
    plain = copy_example(tmp_path / "plain")
    without_transformer(plain)
    untouched = documents(build(plain))
    assert patched.keys() == untouched.keys()
    for key, doc in patched.items():
        if key not in PATCHED:
            assert doc == untouched[key], key  # ConfigMap traps, Services, SOPS Secret: same bytes
    ollama = yaml.safe_load(patched[("Deployment", "ollama")])["spec"]["template"]["spec"]
    assert ollama["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": 1}
    assert ollama["containers"][0]["startupProbe"]["httpGet"] == {"path": "/api/version", "port": 11434}
    assert ollama["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert ollama["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    whisper = yaml.safe_load(patched[("StatefulSet", "whisper")])["spec"]
    assert whisper["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8000}
    assert whisper["volumeClaimTemplates"][0]["metadata"]["labels"] == {"backup.velero.io/backup-tier": "Daily"}
    pvc = yaml.safe_load(patched[("PersistentVolumeClaim", "ollama-models")])
    assert pvc["metadata"]["labels"] == {"backup.velero.io/backup-tier": "GFS"}
    assert "sops" in yaml.safe_load(patched[("Secret", "webui-secret")])
    assert not has_alias("".join(patched.values()))


def test_second_build_over_the_output_changes_nothing(tmp_path: Path) -> None:
    first = build(copy_example(tmp_path / "ai"))
    again = tmp_path / "again"
    again.mkdir()
    (again / "all.yaml").write_text(first)
    shutil.copy(ROOT / "kfn" / "examples" / "ai" / "aipatches.yaml", again)
    (again / "kustomization.yaml").write_text("resources:\n- all.yaml\ntransformers:\n- aipatches.yaml\n")
    assert build(again) == first
    assert build(again) == first  # and deterministic


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("ollama.yaml", 'ai-gitops.dev/gpu: "1"', 'ai-gitops.dev/gpu: "two"', 'ai-gitops.dev/gpu: "two" is not a whole number of GPUs from 1 to 64'),
        ("aipatches.yaml", "vendor: nvidia", "vendor: nvidea", 'spec.gpu.vendor: "nvidea" is not one of nvidia, amd, intel'),
    ],
    ids=["error-result", "invalid-config"],
)
def test_failure_fails_the_build_naming_the_reason(tmp_path: Path, file: str, old: str, new: str, message: str) -> None:
    overlay = copy_example(tmp_path / "ai")
    target = overlay / file
    target.write_text(target.read_text().replace(old, new))
    done = run([tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(overlay)],
               env={"KUSTOMIZE_PLUGIN_HOME": str(PLUGIN_HOME)})
    assert done.returncode != 0
    assert message in done.stderr


def test_plugin_runs_from_a_plain_copy_with_only_pyyaml(tmp_path: Path) -> None:
    """What the cookiecutter does: copy kfn/ into a repo; the plugin must not need kfn installed."""
    system_python = shutil.which("python3", path="/usr/bin:/bin")
    if system_python is None or run([system_python, "-c", "import yaml"]).returncode != 0:
        pytest.skip("no system python3 with PyYAML to run the copied plugin with")
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "kfn", repo / "kfn", ignore=shutil.ignore_patterns("__pycache__", "testdata"))
    plugin = repo / "kfn" / "plugin" / "kfn.ai-gitops.dev" / "v1alpha1" / "aipatches" / "AIPatches"
    stream = (ROOT / "kfn" / "examples" / "ai" / "ollama.yaml").read_text()
    config = ROOT / "kfn" / "examples" / "ai" / "aipatches.yaml"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    done = run([system_python, "-I", str(plugin), str(config)], stdin=stream, cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert "nvidia.com/gpu: 1" in done.stdout
    assert len(list(yaml.safe_load_all(done.stdout))) == 3


def test_an_old_release_config_still_builds(tmp_path: Path) -> None:
    """kubectl kustomize shows a plugin's stderr only on failure: the 0.1 whisper config must not fail."""
    overlay = old_release_package(tmp_path)
    whisper = yaml.safe_load(documents(build(overlay))[("StatefulSet", "whisper")])
    assert whisper["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"] == {"path": "/docs", "port": 9000}
