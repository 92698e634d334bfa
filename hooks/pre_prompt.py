"""Before the first question: are the bake's prerequisites here? One line per missing tool, with how to get it.
Then, at cookiecutter's interactive command line, which questions to ask (questions.py).

The bake needs, besides cookiecutter: `make` and `git` (the repo's Makefile and its first commit), and a
python3 that can create a virtualenv (the repo's tools are pip-installed into `<repo>/.venv`), unless
$VENV names an environment that already has them. Standard library (and cookiecutter's PyYAML) only.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent  # cookiecutter's copy of the template
sys.path[:0] = [str(TEMPLATE_ROOT / "{{cookiecutter.repo}}"), str(TEMPLATE_ROOT)]  # tools.answers, and kfn

from bake import remove_template_copy  # noqa: E402  (this hook runs from the template copy's hooks/ directory)
from questions import ask_fewer  # noqa: E402

HOW_TO_GET = {
    "make": "make: not found on PATH — install it (Debian/Ubuntu: apt install make; macOS: xcode-select --install)",
    "git": "git: not found on PATH — install it (Debian/Ubuntu: apt install git; macOS: xcode-select --install)",
    "python3": "python3: not found on PATH — the repo's tools run in a python3 virtualenv; install Python 3.10 or later",
    "venv": "python3 -m venv: not available — install it (Debian/Ubuntu: apt install python3-venv), or set VENV to an "
    "environment that has the repo's requirements.txt",
}


def missing() -> list[str]:
    found = [HOW_TO_GET[tool] for tool in ("make", "git") if not shutil.which(tool)]
    if os.environ.get("VENV", ".venv") != ".venv":
        return found  # the user's own environment: nothing is created
    python3 = shutil.which("python3")
    if not python3:
        return [*found, HOW_TO_GET["python3"]]
    probe = subprocess.run([python3, "-c", "import venv, ensurepip"], capture_output=True)
    return found if probe.returncode == 0 else [*found, HOW_TO_GET["venv"]]


def main() -> int:
    problems = missing()
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print("Nothing was asked or written; run cookiecutter again once these are installed.", file=sys.stderr)
        remove_template_copy(Path.cwd())
        return 1
    ask_fewer(Path.cwd())
    return 0


if __name__ == "__main__":
    sys.exit(main())
