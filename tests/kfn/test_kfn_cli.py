"""The ``kfn`` command and the legacy plugin script: modes, exit codes, nothing half-written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kfn_testing import EXAMPLE, PLUGIN_HOME, run, tool

PLUGIN = PLUGIN_HOME / "kfn.ai-gitops.dev" / "v1alpha1" / "aipatches" / "AIPatches"
CONFIG = EXAMPLE / "aipatches.yaml"


def plugin(stdin: str, *args: str, cwd: Path | None = None):
    return run([str(PLUGIN), *args], stdin=stdin, cwd=cwd)


def test_help() -> None:
    done = run([tool("kfn"), "--help"])
    assert done.returncode == 0
    assert "usage: kfn" in done.stdout and "legacy plugin" in done.stdout


def test_plugin_is_executable_with_a_python3_shebang() -> None:
    assert PLUGIN.stat().st_mode & 0o111
    assert PLUGIN.read_text().startswith("#!/usr/bin/env python3\n")


def test_legacy_mode_writes_untouched_documents_verbatim(tmp_path: Path) -> None:
    stream = (EXAMPLE / "settings.yaml").read_text() + "---\n" + (EXAMPLE / "ollama.yaml").read_text()
    done = plugin(stream, str(CONFIG), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    documents = done.stdout.split("---\n")
    assert documents[0] == (EXAMPLE / "settings.yaml").read_text()  # comments, `yes`, `0777` as written
    assert "nvidia.com/gpu: 1" in documents[1]
    assert documents[3] == (EXAMPLE / "ollama.yaml").read_text().split("---\n")[2]  # the Service


def test_legacy_mode_error_results_go_to_stderr_with_exit_1() -> None:
    stream = (EXAMPLE / "ollama.yaml").read_text().replace('gpu: "1"', 'gpu: "-1"')
    done = plugin(stream, str(CONFIG))
    assert done.returncode == 1
    assert 'kfn: error: Deployment/ai/ollama metadata.annotations["ai-gitops.dev/gpu"]' in done.stderr
    assert done.stdout.startswith("# Ollama")


@pytest.mark.parametrize(
    ("stdin", "args", "message"),
    [
        ("kind: ConfigMap\n", ["/nonexistent/aipatches.yaml"], "config file /nonexistent/aipatches.yaml: cannot read it"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [x\n", [str(CONFIG)], "invalid YAML"),
        ("- just\n- a list\n", [str(CONFIG)], "document 1 is not a mapping"),
        ("apiVersion: v1\nkind: ConfigMap\n", [], "not a ResourceList, and no config file argument"),
    ],
    ids=["missing-config-file", "malformed-stream", "not-a-mapping", "no-mode"],
)
def test_unusable_input_one_line_on_stderr_nothing_on_stdout(stdin: str, args: list[str], message: str) -> None:
    done = plugin(stdin, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_invalid_config_file_names_key_and_value(tmp_path: Path) -> None:
    config = tmp_path / "aipatches.yaml"
    config.write_text(CONFIG.read_text().replace("timeSlicingReplicas: 4", "timeSlicingReplicas: lots"))
    done = plugin("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", str(config))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == 'kfn: spec.gpu.timeSlicingReplicas: "lots" is not a whole number from 1 to 1024\n'


def test_non_utf8_stdin_is_refused_cleanly() -> None:
    done = subprocess.run([tool("kfn")], input=b"kind: ResourceList\nitems: []\n# \xff\n", capture_output=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, b"")
    assert b"utf-8" in done.stderr


def test_empty_resource_list_stays_empty() -> None:
    done = run([tool("kfn")], stdin="apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"
