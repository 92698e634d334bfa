"""Stage 2, rendered drift: is what `make render` writes exactly what it makes of the sources now?

That is kubernetes/rendered/, each cluster's Flux objects (clusters/<name>/*.yaml but cluster.yaml, from
templates/flux/) and .sops.yaml (from each cluster's age_public_key).

The render is the repo's own `make render`, run on a scratch copy of the tree, so there is one
definition of rendering (the Makefile's) and the check can never disagree with it. The copy leaves
out git, virtualenvs, the age private key and the committed rendered output; nothing in the repo
is touched.
"""

from __future__ import annotations

import difflib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from tools.validate import tools
from tools.clusters import ANSWERS_FILE, CLUSTERS
from tools.manifests import RENDERED, SOPS_CONFIG
from tools.validate.problems import Problem
from tools.validate.repo import SKIP_DIRS, Repo

STAGE = "drift"
FIX = "run `make render` and commit the result"
DIFF_LINES = 14


def ignore_for_copy(root: Path):
    rendered = (root / RENDERED).resolve()

    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        return {
            n for n in names
            if n in SKIP_DIRS
            or n.endswith(".agekey")
            or (here / n).resolve() == rendered
            or (here / n / "pyvenv.cfg").exists()
        }

    return ignore


def render_copy(repo: Repo, scratch: Path) -> str:
    """Run `make render` on a copy of the repo in ``scratch``; returns the error, or ""."""
    shutil.copytree(repo.root, scratch, ignore=ignore_for_copy(repo.root), symlinks=True, dirs_exist_ok=True)
    # VENV names the environment this validator runs in, so the copy sets up nothing. Every cluster is
    # rendered: a `make rotate-key CLUSTER=x` (or any make run with CLUSTER) that runs validate must not
    # pass its CLUSTER on through MAKEFLAGS, or the other clusters' output would look stale.
    args = ["make", "--no-print-directory", "-s", "render", f"VENV={sys.prefix}"]
    outer_make = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "CLUSTER")
    try:
        result = tools.run(args, cwd=scratch, env={k: v for k, v in os.environ.items() if k not in outer_make})
    except FileNotFoundError:
        return "`make` is not installed"
    return tools.first_error_line(result.stderr or result.stdout) if result.returncode else ""


def files_under(directory: Path) -> dict[str, bytes]:
    if not directory.is_dir():
        return {}
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def rendered_files(root: Path) -> dict[str, bytes]:
    """Repo-relative path -> content of every file `make render` writes."""
    found = {f"{RENDERED}/{name}": content for name, content in files_under(root / RENDERED).items()}
    written = [p for p in sorted((root / CLUSTERS).glob("*/*.yaml")) if p.name != ANSWERS_FILE] + [root / SOPS_CONFIG]
    return found | {p.relative_to(root).as_posix(): p.read_bytes() for p in written if p.is_file()}


def short_diff(committed: bytes, expected: bytes, name: str) -> str:
    lines = list(difflib.unified_diff(
        committed.decode("utf-8", "replace").splitlines(),
        expected.decode("utf-8", "replace").splitlines(),
        fromfile=f"committed/{name}", tofile="make render", lineterm="", n=1,
    ))
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"... ({len(lines) - DIFF_LINES} more diff lines)"]
    return "\n".join(lines)


def compare(committed: dict[str, bytes], expected: dict[str, bytes]) -> list[Problem]:
    out = []
    for name in sorted(set(committed) | set(expected)):
        if name not in committed:
            out.append(Problem(name, "-", "-", "missing: `make render` produces this file but it is not committed", FIX, STAGE))
        elif name not in expected:
            out.append(Problem(name, "-", "-", "stale: `make render` no longer produces this file", FIX + " (it deletes the file)", STAGE))
        elif committed[name] != expected[name]:
            out.append(Problem(name, "-", "-", "differs from what `make render` produces from the current sources", FIX, STAGE, short_diff(committed[name], expected[name], name)))
    return out


def check(repo: Repo) -> list[Problem]:
    with tempfile.TemporaryDirectory(prefix="validate-render-") as tmp:
        scratch = Path(tmp) / "repo"
        error = render_copy(repo, scratch)
        if error:
            return [Problem("Makefile", "-", "render", f"`make render` fails on the current sources: {error}", "fix the overlay or the manifest it names, then `make render`", STAGE)]
        return compare(rendered_files(repo.root), rendered_files(scratch))
