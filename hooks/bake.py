"""What the hooks do around cookiecutter's rendering: refuse a directory in use, copy kfn, provision the
repo's tools and hand over to the repo's own `make bootstrap`, which writes the first cluster.

Standard library and PyYAML only (cookiecutter installs both): the hooks run in cookiecutter's own
interpreter, which has no pyrage, GitPython, sops or kubectl. Everything that needs those runs inside
the repo's tool environment (`tools/bootstrap.py`, the same code `make bootstrap` runs).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# kfn ships its own demo data and tests; the generated repo only needs the code.
KFN_EXCLUDED = ("testdata", "tests", "examples", "__pycache__", "*.pyc")
REPO_MARKERS = (".git", ".cruft.json")
TOOLS = ("python", "kubectl", "sops")


class BakeError(Exception):
    def __init__(self, step: str, why: str):
        super().__init__(f"step '{step}' failed: {why}")
        self.step = step


@dataclass
class Bake:
    project: Path
    answers: dict
    template_root: Path
    venv: Path | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def cluster(self) -> str:
        return self.answers["cluster_name"]

    @property
    def is_cruft_scratch(self) -> bool:
        """cruft update/diff/check bake the old and new template into a fresh temporary directory to diff
        them (cruft `_generate_output`), with `_commit` in the context (cruft `generate_cookiecutter_context`).
        Those bakes only need the files the template writes: no tools, key, encryption, render or commit."""
        holder = self.project.parent  # cruft's tempfile.TemporaryDirectory(): "tmp" + random, in the temp dir
        return "_commit" in self.answers and holder.name.startswith("tmp") and holder.parent == Path(tempfile.gettempdir()).resolve()


def occupied(project: Path) -> str | None:
    """Why baking into `project` would damage something there (None when it is new or empty).

    cookiecutter --overwrite-if-exists renders over an existing directory and its failure handling
    deletes only directories it created, so an existing repo must be refused before anything is written."""
    entries = sorted(p.name for p in project.iterdir()) if project.is_dir() else []
    if not entries:
        return None
    if set(entries) & set(REPO_MARKERS):
        return (
            f"{project} already holds a repository ({', '.join(sorted(set(entries) & set(REPO_MARKERS)))}); "
            f"nothing was changed. To bring in template changes: cd {project} && cruft update "
            "(see docs/updating.md there)."
        )
    return f"{project} exists and is not empty; nothing was changed. Bake into a new directory (-o DIR)."


def progress(bake: Bake, line: str) -> None:
    """One line on stderr before a step that runs long and prints nothing itself (cookiecutter shows the
    hooks' output as it comes). cruft's scratch bakes stay silent: cruft diffs them, the user never sees them."""
    if not bake.is_cruft_scratch:
        print(line, file=sys.stderr, flush=True)


def run_tool(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if result.returncode:
        detail = (result.stderr or result.stdout).strip().splitlines()[-15:]
        raise RuntimeError(f"`{' '.join(command[:3])} ...` exited {result.returncode}: " + "\n".join(detail))
    return result.stdout


def copy_choices(bake: Bake) -> None:
    """The template's choice lists (cookiecutter.json) for the repo's tools/answers.py, which checks every
    cluster's answers by them after the bake."""
    from tools.answers import choice_lists  # the project template's tools/ (post_gen_project.py's sys.path)

    questions = json.loads((bake.template_root / "cookiecutter.json").read_text(encoding="utf-8"))
    (bake.project / "tools" / "choices.json").write_text(json.dumps(choice_lists(questions), indent=2) + "\n")


def copy_kfn(bake: Bake) -> None:
    source = bake.template_root / "kfn"
    plugin = source / "plugin" / "kfn.ai-gitops.dev" / "v1alpha1" / "aipatches" / "AIPatches"
    if not plugin.is_file():
        raise RuntimeError(f"{plugin} is missing: the template's kfn is incomplete")
    shutil.copytree(source, bake.project / "kfn", ignore=shutil.ignore_patterns(*KFN_EXCLUDED))


# --- the repo's tools ---------------------------------------------------------------------------


def provision_tools(bake: Bake) -> None:
    """$VENV when the user names one (used as it is, nothing installed), else the repo's own .venv from
    its pinned requirements.txt (`make .venv/.installed`: the package index once, then pip's cache)."""
    chosen = os.environ.get("VENV", "")
    if not chosen or chosen == ".venv":
        progress(bake, f"installing the repo's tools into {bake.project / '.venv'} (pip; about 2 minutes the first time, seconds from pip's cache) ...")
        run_tool(["make", "--no-print-directory", ".venv/.installed"], bake.project)
        chosen = ".venv"
    bake.venv = Path(chosen) if Path(chosen).is_absolute() else bake.project / chosen
    missing = [tool for tool in TOOLS if not (bake.venv / "bin" / tool).exists()]
    if missing:
        raise RuntimeError(f"{bake.venv} has no bin/{', bin/'.join(missing)}: install requirements.txt into it")


def template_commit(template_root: Path) -> str:
    """The template checkout's HEAD, so `cruft update` knows where this repo came from ("" outside git)."""
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=template_root, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def template_source(answers: dict) -> str:
    """The template as cruft can find it again: a local path made absolute (cruft clones it from any cwd)."""
    typed = str(answers.get("_template", ""))
    return str(Path(typed).resolve()) if typed and Path(typed).is_dir() else typed


def bootstrap(bake: Bake) -> None:
    """Key, .sops.yaml, encrypted Secrets, render, commit: `make bootstrap` in the repo's tool environment."""
    command = [
        "make", "--no-print-directory", "bootstrap", f"VENV={bake.venv}",
        f"TEMPLATE={template_source(bake.answers)}", f"TEMPLATE_COMMIT={template_commit(bake.template_root)}",
    ]
    outer_make = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")  # a bake started from a Makefile must not leak into this one
    env = {k: v for k, v in os.environ.items() if k not in outer_make}
    progress(bake, "encrypting Secrets, rendering, first commit ...")
    bake.messages.append(run_tool(command, bake.project, env).strip())


STEPS: tuple[tuple[str, Callable[[Bake], None]], ...] = (
    ("copy the answer choices", copy_choices),
    ("copy kfn", copy_kfn),
    ("provision tools", provision_tools),
    ("bootstrap", bootstrap),
)
SCRATCH_STEPS = STEPS[:2]


def run(bake: Bake) -> None:
    for name, step in SCRATCH_STEPS if bake.is_cruft_scratch else STEPS:
        try:
            step(bake)
        except Exception as err:  # every failure becomes one message naming its step
            raise BakeError(name, str(err) or type(err).__name__) from err


def remove_contents(project: Path) -> None:
    """Undo a failed bake: the pre-generation check made sure `project` was new or empty."""
    for path in project.iterdir():
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


def remove_template_copy(template_root: Path) -> None:
    """Because hooks/pre_prompt.py exists, cookiecutter bakes from a copy of the template in a fresh
    `cookiecutter*` temporary directory (utils.create_tmp_repo_dir) and deletes it only after a bake
    that succeeded: a failing hook would leave one copy behind per attempt. The failing hook removes it."""
    holder = template_root.parent
    if holder.name.startswith("cookiecutter") and holder.parent == Path(tempfile.gettempdir()).resolve():
        shutil.rmtree(holder, ignore_errors=True)
