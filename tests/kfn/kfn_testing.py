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
