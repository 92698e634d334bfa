"""Benchmark what a bake costs a user, and a template update.

Run from the project root: `.venv/bin/python -m bench.bake` (a benchmark: it prints figures and asserts
nothing). The template is a `git clone` of this checkout's HEAD, as `cookiecutter gh:...` would fetch it.
Rows, each the median of its runs, wall-clock seconds:
- bake with VENV=<an environment that has the tools>: nothing is installed;
- bake from scratch: the repo's own .venv from requirements.txt, pip's cache warm (the first bake on a
  machine also downloads about 130 MB once: not measured, it depends on the network);
- cruft update of a baked repo to a template commit that changes one manifest (VENV unset: the scratch
  bakes cruft makes must not provision anything).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.prefix) / "bin"
REPEATS = {"venv": 5, "scratch": 2, "cruft": 3}
OUTER_MAKE = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "VENV")


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in OUTER_MAKE}
    return {**base, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **extra}


def run(command: list[str], cwd: Path, **extra: str) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env(**extra))
    if result.returncode:
        raise SystemExit(f"{' '.join(command[:3])} failed: {result.stderr.strip()[-800:]}")


def timed(action: Callable[[], None], repeats: int) -> tuple[float, float, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), max(times)


def bake(template: Path, output: Path, **extra: str) -> Path:
    if output.exists():
        shutil.rmtree(output)
    run([str(BIN / "cookiecutter"), "--no-input", "-o", str(output), str(template)], template.parent, **extra)
    return output / "ai-gitops"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-bake-") as tmp:
        work = Path(tmp)
        template = work / "template"
        run(["git", "clone", "-q", str(ROOT), str(template)], work)
        rows = [
            ("bake, VENV= (nothing installed)", timed(lambda: bake(template, work / "a", VENV=str(sys.prefix)), REPEATS["venv"]), REPEATS["venv"]),
            ("bake from scratch (.venv, warm pip cache)", timed(lambda: bake(template, work / "b"), REPEATS["scratch"]), REPEATS["scratch"]),
        ]
        repo = bake(template, work / "c", VENV=str(sys.prefix))
        deployment = template / "{{cookiecutter.repo}}" / "templates" / "kubernetes" / "apps" / "base" / "ai" / "ollama" / "deployment.yaml"
        original = deployment.read_text()
        changed = original.replace("  replicas: 1\n", "  replicas: 1\n  revisionHistoryLimit: 5\n", 1)
        if changed == original:
            raise SystemExit(f"{deployment}: no `replicas: 1` line to change")
        deployment.write_text(changed)
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
        run([*git, "commit", "-qam", "bench: revisionHistoryLimit"], template)
        pristine = work / "pristine"
        shutil.copytree(repo, pristine, symlinks=True)

        def update() -> None:
            shutil.rmtree(repo)
            shutil.copytree(pristine, repo, symlinks=True)
            run([str(BIN / "cruft"), "update", "-y"], repo)
            if "revisionHistoryLimit: 5" not in repo.joinpath(deployment.relative_to(template / "{{cookiecutter.repo}}")).read_text():
                raise SystemExit("cruft update did not bring the template's change")

        rows.append(("cruft update (one changed manifest)", timed(update, REPEATS["cruft"]), REPEATS["cruft"]))
    print("bake and template update, wall-clock seconds (min / median / max of n runs)")
    for label, (low, median, high), n in rows:
        print(f"  {label:44} {low:6.1f} {median:6.1f} {high:6.1f}   n={n}")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
