"""Shared helpers for kfn's tests: paths, the real tools, subprocess runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTDATA = ROOT / "kfn" / "testdata"
PLUGIN_HOME = ROOT / "kfn" / "plugin"
BIN = Path(sys.executable).parent
BACKENDS = ("yaml-rs", "pyyaml")


def tool(name: str) -> str:
    """A real tool: the virtualenv's copy first (kubectl, kfn), then PATH."""
    local = BIN / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} not on PATH")
    return found


def run(cmd: list[str], *, stdin: str = "", cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {})}
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=cwd, env=full_env, timeout=120)


# A ResourceList head and one item kfn edits (a GPU marker), for tests that build inputs.
HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
GPU_ITEM = """\
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: gpu
    annotations:
      ai-gitops.dev/gpu: "1"
  spec:
    template:
      spec:
        containers:
        - name: app
"""


EXAMPLE = ROOT / "kfn" / "examples" / "ai"


def copy_example(dest: Path) -> Path:
    """A fresh copy of the example package (kpt package and kustomize overlay in one)."""
    shutil.copytree(EXAMPLE, dest)
    return dest


def snapshot(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): p.read_text() for p in sorted(directory.rglob("*")) if p.is_file()}


def has_alias(text: str) -> bool:
    """An anchor or alias node (``&id001`` / ``*id001``) anywhere in a YAML text (rule 10)."""
    import re

    return re.search(r"(?:^|[:\-\[,{]\s*)[&*][A-Za-z0-9_-]+(?:\s|$)", text, re.M) is not None


def documents(stream: str) -> dict[tuple[str, str], str]:
    """Each document of a kustomize build keyed by (kind, name)."""
    import re

    out = {}
    for doc in re.split(r"^---\n", stream, flags=re.M):
        kind = re.search(r"^kind: (\S+)", doc, re.M)
        name = re.search(r"^  name: (\S+)", doc, re.M)
        if kind and name:
            out[(kind.group(1), name.group(1))] = doc
    return out


# A kfn 0.1 config and marker: the whisper profile (renamed faster-whisper) with an override of its
# startup budget, and a stable-diffusion path override (the profile is TCP now).
OLD_RELEASE = {
    "whisper.yaml": ("ai-gitops.dev/probes: faster-whisper", "ai-gitops.dev/probes: whisper"),
    "aipatches.yaml": ("  probes:\n", "  probes:\n    whisper:\n      startup: {failureThreshold: 180}\n"
                                      "    stable-diffusion:\n      startup: {path: /internal/ping}\n"),
}


def old_release_package(tmp_path: Path) -> Path:
    package = copy_example(tmp_path / "ai")
    for name, (old, new) in OLD_RELEASE.items():
        text = (package / name).read_text()
        assert old in text, name
        (package / name).write_text(text.replace(old, new, 1))
    return package
