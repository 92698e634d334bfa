"""What the suites that drive baked repos share: the tools' environment and fresh age keys."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyrage

ROOT = Path(__file__).resolve().parents[1]
# This interpreter's virtualenv already holds the generated repo's requirements: `make VENV=...`
# reuses it instead of letting every bake create its own .venv.
VENV = Path(sys.prefix)
# Set when the suite itself runs under `make test`; a user's shell or CI runner has none of them.
OUTER_MAKE = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")


def tool_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell in a baked repo: the tools on PATH, no outer make."""
    inherited = {k: v for k, v in os.environ.items() if k not in OUTER_MAKE}
    return {**inherited, "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ['PATH']}", **extra}


def age_identity() -> tuple[str, str]:
    """A fresh age key pair made in memory: (recipient, identity)."""
    identity = pyrage.x25519.Identity.generate()
    return str(identity.to_public()), str(identity)


def template_snapshot(into: Path) -> Path:
    """The template as `cookiecutter gh:...` sees it: the files git would publish (tracked, and new ones not
    ignored, as they are in the work tree), in a git repo of their own with one commit.

    Baking from the work tree itself would also be wrong in cost: cookiecutter copies the whole template
    (with .venv and out/) into a temporary directory before every bake because hooks/pre_prompt.py exists."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True)
    target = into / "ai-gitops"
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost"]
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "template snapshot"]):
        subprocess.run([*git, *command], cwd=target, check=True, capture_output=True)
    return target


TEMPLATE = template_snapshot(Path(tempfile.mkdtemp(prefix="ai-gitops-template-")))
