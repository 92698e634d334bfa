"""The driver: run the chosen stages, print one line per problem and a summary."""

from __future__ import annotations

import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Callable, TextIO

from tools.catalog import Catalog, CatalogError
from tools.clusters import ANSWERS_FILE, CLUSTERS
from tools.manifests import Manifest
from tools.sops_files import key_files
from tools.validate import budget, catalog, drift, flux, images, origin, policy, schema, secrets, workspaces
from tools.validate.problems import Problem
from tools.validate.repo import Repo

STAGES = ("flux", "drift", "secrets", "schema", "policy")


@dataclass
class Context:
    repo: Repo
    kubernetes_version: str | None  # --kubernetes-version; None: each cluster's own answer
    key_files: list[Path]

    @cached_property
    def flux(self) -> flux.FluxView:
        return flux.collect(self.repo)

    @cached_property
    def clusters(self) -> dict[str, workspaces.ClusterSources]:
        return workspaces.read_all(self.repo.root)

    def applied(self) -> list[Manifest]:
        return self.flux.applied()

    def applied_by_cluster(self) -> dict[str, list[Manifest]]:
        out: dict[str, list[Manifest]] = {}
        for build in self.flux.builds:
            out.setdefault(build.cluster, []).extend(build.docs)
        return out

    def answers(self, cluster: str) -> dict:
        """The cluster's checked answers; {} when it has none the tools can use (reported once, up front)."""
        found = self.clusters.get(cluster)
        return found.answers if found else {}

    @cached_property
    def sources_by_resource(self) -> dict[str, dict[str, str]]:
        return {name: origin.sources_by_resource(c.manifests, c.patches) for name, c in self.clusters.items()}


def facts(services: Catalog | CatalogError, answers: dict) -> Catalog | CatalogError | None:
    """The catalog with one cluster's answers (its GPU vendor picks the images); None without answers."""
    if isinstance(services, CatalogError):
        return services
    return replace(services, answers=answers) if answers else None


def policy_stage(c: Context) -> list[Problem]:
    services = catalog.load(c.repo.root)
    out = []
    for cluster, applied in sorted(c.applied_by_cluster().items()):
        if cluster in c.clusters and c.clusters[cluster].problems:
            continue  # without its answers or sources (said once, up front) every judgement would be a guess
        found = facts(services, c.answers(cluster))
        sources = c.clusters[cluster].manifests if cluster in c.clusters else []
        out += policy.check(applied, sources, found) + images.check(applied, found) + budget.check(found, applied, cluster)
    return out


def schema_stage(c: Context) -> list[Problem]:
    """Each cluster's applied documents against the schemas of its kubernetes_version (or the override)."""
    out = []
    for cluster, applied in sorted(c.applied_by_cluster().items()):
        version = c.kubernetes_version or str(c.answers(cluster).get("kubernetes_version") or schema.DEFAULT_KUBERNETES_VERSION)
        why = None if c.kubernetes_version else schema.version_problem(version)
        if why:
            answers_file = (CLUSTERS / cluster / ANSWERS_FILE).as_posix()
            out.append(Problem(answers_file, "-", "kubernetes_version", f"{why}, so cluster {cluster}'s manifests are not checked against any schema", "pick a supported version, or run with KUBERNETES_VERSION=<one of them>", "schema"))
            continue
        out += schema.check(applied, version, c.repo.root)
    return out


CHECKS: dict[str, Callable[[Context], list[Problem]]] = {
    "flux": lambda c: flux.check(c.flux),
    "drift": lambda c: drift.check(c.repo),
    "secrets": lambda c: secrets.check(c.repo, c.applied(), c.key_files, {n: s.answers for n, s in c.clusters.items() if s.answers}),
    "schema": schema_stage,
    "policy": policy_stage,
}


def run_stages(ctx: Context, stages: list[str], progress: Callable[[int, str, list[Problem], float], None]) -> list[Problem]:
    """Every stage in order; the drift render (the slow one) runs alongside the others."""
    started = time.perf_counter()
    answers = [p for c in ctx.clusters.values() for p in c.problems]
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
    return answers + parse + found


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


def validate(root: Path, kubernetes_version: str | None, stages: list[str], age_key: Path | None, out: TextIO = sys.stdout) -> int:
    """Run ``stages`` on the repo at ``root``; 0 when nothing is wrong, 1 otherwise. ``kubernetes_version``
    overrides every cluster's answer; ``age_key`` (relative to the repo) replaces the repo's key files."""
    if kubernetes_version:
        schema.check_version(kubernetes_version)
    repo = Repo(root)
    ctx = Context(repo, kubernetes_version, [repo.root / age_key] if age_key else key_files(repo.root))
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
