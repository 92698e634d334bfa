"""The driver: run the chosen stages, print one line per problem and a summary."""

from __future__ import annotations

import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, TextIO

from tools.validate import budget, catalog, drift, flux, images, origin, policy, schema, secrets
from tools.validate.problems import Problem
from tools.manifests import RENDERED, Manifest
from tools.validate.repo import Repo

STAGES = ("flux", "drift", "secrets", "schema", "policy")


@dataclass
class Context:
    repo: Repo
    kubernetes_version: str
    age_key: Path

    @cached_property
    def flux(self) -> flux.FluxView:
        return flux.collect(self.repo)

    def applied(self) -> list[Manifest]:
        return self.flux.applied()

    def applied_by_cluster(self) -> dict[str, list[Manifest]]:
        out: dict[str, list[Manifest]] = {}
        for build in self.flux.builds:
            out.setdefault(build.cluster, []).extend(build.docs)
        return out

    @cached_property
    def sources_by_resource(self) -> dict[str, str]:
        return origin.sources_by_resource(self.repo, self.sources())

    def sources(self) -> list[Manifest]:
        """Manifests outside the rendered output: where configs such as AIPatches live."""
        rendered = self.repo.path(RENDERED)
        return self.repo.all_manifests([p for p in self.repo.yaml_files_under(self.repo.path("kubernetes")) if not p.is_relative_to(rendered)])


def policy_stage(c: Context) -> list[Problem]:
    services = catalog.load(c.repo.root)
    return policy.check(c.applied_by_cluster(), c.sources(), services) + images.check(c.applied(), services) + budget.check(services, c.applied())


CHECKS: dict[str, Callable[[Context], list[Problem]]] = {
    "flux": lambda c: flux.check(c.flux),
    "drift": lambda c: drift.check(c.repo),
    "secrets": lambda c: secrets.check(c.repo, c.applied(), c.age_key),
    "schema": lambda c: schema.check(c.applied(), c.kubernetes_version, c.repo.root),
    "policy": policy_stage,
}


def run_stages(ctx: Context, stages: list[str], progress: Callable[[int, str, list[Problem], float], None]) -> list[Problem]:
    """Every stage in order; the drift render (the slow one) runs alongside the others."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(CHECKS["drift"], ctx) if "drift" in stages else None
        found: list[Problem] = []
        for i, stage in enumerate(stages, 1):
            problems = pending.result() if stage == "drift" and pending else CHECKS[stage](ctx)
            problems = origin.attach(problems, ctx.sources_by_resource) if stage in origin.CONTENT_STAGES else problems
            problems = sorted(set(problems), key=lambda p: (p.file, p.resource, p.field, p.what))
            found.extend(problems)
            progress(i, stage, problems, time.perf_counter() - started)
    parse = sorted(set(ctx.repo.parse_problems), key=lambda p: (p.file, p.what))
    return parse + found


def summary(problems: list[Problem], stages: list[str], documents: int | None) -> str:
    """The last line; no timings, so the same tree always gives the same output."""
    warnings = sum(not p.is_error for p in problems)
    if warnings == len(problems):
        counted = f", {documents} documents Flux applies" if documents is not None else ""
        warned = f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
        return f"validate: OK, {len(stages)} stage{'s' * (len(stages) != 1)}{counted}, 0 problems{warned}"
    errors = [p for p in problems if p.is_error]
    per_stage = ", ".join(f"{stage} {n}" for stage, n in Counter(p.stage for p in errors).items())
    return f"validate: {len(errors)} problem{'s' * (len(errors) != 1)} ({per_stage})"


def validate(root: Path, kubernetes_version: str, stages: list[str], age_key: Path, out: TextIO = sys.stdout) -> int:
    """Run ``stages`` on the repo at ``root``; 0 when nothing is wrong, 1 otherwise."""
    schema.check_version(kubernetes_version)
    repo = Repo(root)
    ctx = Context(repo, kubernetes_version, repo.root / age_key)
    tty = out.isatty()

    def progress(i: int, stage: str, problems: list[Problem], elapsed: float) -> None:
        if tty:
            errors = sum(p.is_error for p in problems)
            warnings = len(problems) - errors
            warned = f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
            out.write(f"[{i}/{len(stages)}] {stage}: {errors} problem{'s' * (errors != 1)}{warned} ({elapsed:.1f}s)\n")
            out.flush()

    problems = run_stages(ctx, stages, progress)
    out.write("".join(p.render() for p in problems))
    # Only count when a stage already built the Flux paths (a drift-only run never does).
    documents = len(ctx.applied()) if "flux" in ctx.__dict__ else None
    out.write(summary(problems, stages, documents) + "\n")
    return 1 if any(p.is_error for p in problems) else 0
