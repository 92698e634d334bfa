"""What the suites that drive baked repos share: the tools' environment and fresh age keys."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyrage

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
