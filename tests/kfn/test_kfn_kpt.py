"""End to end: ``kpt fn eval --exec`` and ``kpt fn render --allow-exec`` (kpt from the machine image)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kfn_testing import copy_example, has_alias, old_release_package, run, snapshot, tool

UNTOUCHED = ("settings.yaml", "webui-secret.sops.yaml", "Kptfile", "kustomization.yaml", "aipatches.yaml")


def kpt(*args: str, backend: str = "yaml-rs") -> str:
    done = run([tool("kpt"), "fn", *args], env={"KFN_YAML": backend})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def eval_args(package: Path) -> list[str]:
    return ["eval", str(package), "--exec", tool("kfn"), "--fn-config", str(package / "aipatches.yaml")]


def assert_patched(before: dict[str, str], package: Path) -> None:
    after = snapshot(package)
    assert after.keys() == before.keys()
    for name in UNTOUCHED:
        assert after[name] == before[name], name  # comments, SOPS block, `yes`/`on`/`0777` all as written
    ollama = after["ollama.yaml"]
    assert "# Ollama: GPU inference server; models live on a PVC." in ollama
    assert "# the server; kfn adds GPU limits and probes here" in ollama
    deployment, claim, _ = yaml.safe_load_all(ollama)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"] == {"nvidia.com/gpu": 1}
    assert container["livenessProbe"]["httpGet"] == {"path": "/", "port": 11434}
    assert claim["metadata"]["labels"] == {"backup.velero.io/backup-tier": "GFS"}
    assert not any(has_alias(text) for text in after.values())


@pytest.mark.parametrize("backend", ["yaml-rs", "pyyaml"])
def test_eval_patches_keeps_comments_and_second_run_changes_nothing(tmp_path: Path, backend: str) -> None:
    package = copy_example(tmp_path / "ai")
    before = snapshot(package)
    kpt(*eval_args(package), backend=backend)
    assert_patched(before, package)
    first = snapshot(package)
    kpt(*eval_args(package), backend=backend)
    assert snapshot(package) == first


def test_render_runs_the_kptfile_pipeline_and_second_run_changes_nothing(tmp_path: Path) -> None:
    package = copy_example(tmp_path / "ai")
    before = snapshot(package)
    kpt("render", str(package), "--allow-exec")
    assert_patched(before, package)
    first = snapshot(package)
    kpt("render", str(package), "--allow-exec")
    assert snapshot(package) == first


def test_eval_with_key_value_config(tmp_path: Path) -> None:
    """``-- k=v`` arrives as a ConfigMap function-input (rule 7)."""
    package = copy_example(tmp_path / "ai")
    kpt("eval", str(package), "--exec", tool("kfn"), "--", "gpu.vendor=amd")
    deployment = next(yaml.safe_load_all((package / "ollama.yaml").read_text()))
    spec = deployment["spec"]["template"]["spec"]
    assert spec["containers"][0]["resources"]["limits"] == {"amd.com/gpu": 1}
    assert "nodeSelector" not in spec  # amd.com/gpu alone places the pod (kfn/README.md, vendor defaults)


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("open-webui.yaml", "192.168.10.240", "192.168.10.241", "LoadBalancer IP 192.168.10.241 is already used by Service ai/ollama"),
        ("aipatches.yaml", "physical: 1", "physical: -1", "spec.gpu.physical: -1 is below the minimum 0"),
    ],
    ids=["error-result", "invalid-config"],
)
def test_failure_names_the_reason_and_writes_nothing(tmp_path: Path, file: str, old: str, new: str, message: str) -> None:
    package = copy_example(tmp_path / "ai")
    target = package / file
    target.write_text(target.read_text().replace(old, new))
    before = snapshot(package)
    done = run([tool("kpt"), "fn", *eval_args(package)])
    assert done.returncode != 0
    assert message in done.stdout + done.stderr
    assert snapshot(package) == before


# Files kfn does not edit, each holding what once broke a kpt pipeline (issue 10): a `*.log` and an
# `&` in block scalars, tagged scalars, escaped C1 characters and U+FFFE, and tab-led strings.
# Escapes are written as kpt itself writes them: kpt re-escapes "\x85" as "\N" even through /bin/cat.
TRAPS = {
    "traps.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: traps # a comment kpt keeps
data:
  cleanup.sh: |
    rm -f /var/log/*.log
    run &
  mode: !!str 0777
  flag: !!str yes
  c1: "bell\\Nnext\\x80\\uFFFE"
  tabbed: "\\tled by a tab\\nsecond line"
""",
    "gpu.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: trapped-gpu
  annotations:
    ai-gitops.dev/gpu: "1"
    note: "\\tled by a tab\\nand C1 \\x9b"
spec:
  template:
    spec:
      containers:
      - name: app
        image: x:1
        args:
        - |
          cp *.bin &
        env:
        - name: MODE
          value: !!str 0644
""",
}


def test_render_with_yaml_traps_keeps_untouched_files_and_is_stable(tmp_path: Path) -> None:
    package = copy_example(tmp_path / "ai")
    for name, text in TRAPS.items():
        (package / name).write_text(text)
    before = snapshot(package)
    kpt("render", str(package), "--allow-exec")
    first = snapshot(package)
    assert first["traps.yaml"] == before["traps.yaml"]  # byte for byte: tags, comments, block scalars
    for name in UNTOUCHED:
        assert first[name] == before[name], name
    gpu = first["gpu.yaml"]
    assert "nvidia.com/gpu: 1" in gpu and 'value: "0644"' in gpu and "cp *.bin &" in gpu
    assert not any(has_alias(text) for name, text in first.items() if name in TRAPS)
    kpt("render", str(package), "--allow-exec")
    assert snapshot(package) == first


def test_an_old_release_config_keeps_working_with_warnings_naming_the_replacements(tmp_path: Path) -> None:
    """kpt passes (the warnings are results, not errors), applies kfn 0.1's whisper probes and shows why."""
    package = old_release_package(tmp_path)
    shown = kpt(*eval_args(package))
    statefulset = next(yaml.safe_load_all((package / "whisper.yaml").read_text()))
    startup = statefulset["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    assert startup["httpGet"] == {"path": "/docs", "port": 9000} and startup["failureThreshold"] == 180
    assert 'spec.probes.whisper: takes what it does not set from the built-in profile "whisper" ("whisper" is renamed "faster-whisper")' in shown
    assert 'the built-in "stable-diffusion" profile probes over TCP since kfn 0.2.0' in shown
    assert "[error]" not in shown.lower() and "error:" not in shown.lower(), shown
