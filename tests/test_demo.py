"""`make demo` writes nothing into the checkout it runs in (a later `cookiecutter .` from there copies the
whole directory before its first question), and a second run reuses the tools the first installed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tooling import TEMPLATE, tool_env

pytestmark = pytest.mark.bake


def ignored_and_untracked(checkout: Path) -> set[str]:
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=checkout, capture_output=True, text=True, check=True)
    return set(status.stdout.splitlines())


def demo(demo_dir: Path) -> subprocess.CompletedProcess[str]:
    command = ["make", "--no-print-directory", "demo", f"DEMO_DIR={demo_dir}"]
    result = subprocess.run(command, cwd=TEMPLATE, capture_output=True, text=True, env=tool_env())
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_demo_stays_outside_the_checkout_and_installs_its_tools_once(tmp_path):
    before = ignored_and_untracked(TEMPLATE)
    first = demo(tmp_path)
    tools = tmp_path / "tools" / "pyvenv.cfg"
    installed = tools.stat().st_mtime_ns
    second = demo(tmp_path)

    assert ignored_and_untracked(TEMPLATE) <= before, "make demo wrote into the checkout"
    assert "installing cookiecutter and the demo repo's tools" in first.stdout
    assert "installing" not in second.stdout + second.stderr and tools.stat().st_mtime_ns == installed
    assert "== git" in second.stdout and "## Access points" in second.stdout
    repo = tmp_path / "ai-gitops"
    # The demo repo's own make targets find its tools through .venv, which git does not list.
    assert (repo / ".venv").resolve() == tools.parent
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout == ""
    build = subprocess.run(["make", "--no-print-directory", "-q", ".venv/.installed"], cwd=repo, env=tool_env())
    assert build.returncode == 0, "the demo repo's Makefile would install its tools again"
