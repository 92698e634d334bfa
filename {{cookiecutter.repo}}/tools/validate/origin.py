"""Which file a user edits for a rendered resource: the base manifest kustomize built it from.

`make validate` judges the rendered output, because that is what Flux applies; but nobody edits
kubernetes/rendered/ by hand, so a problem about a resource's content names its source too. The source
of a resource is the one document outside rendered/ with the same kind and name that is not a
kustomize patch (a patch names the same resource but holds only part of it). Where two sources would
match (the same kind and name in two namespaces), none is named rather than a wrong one.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from tools.manifests import RENDERED, Manifest
from tools.validate.problems import Problem
from tools.validate.repo import KUSTOMIZATION_FILES, Repo

# Problems about a resource's content: a user fixes them in the source. Drift and Secrets problems are
# about the committed files themselves, so they keep naming those.
CONTENT_STAGES = ("schema", "policy")


def patch_files(repo: Repo) -> set[Path]:
    """Every file some kustomization under kubernetes/ uses as a patch."""
    found: set[Path] = set()
    for name in KUSTOMIZATION_FILES:
        for kustomization in repo.path("kubernetes").rglob(name):
            try:
                doc = yaml.safe_load(kustomization.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError, OSError):
                continue  # the flux stage reports a kustomization it cannot read
            if not isinstance(doc, dict):
                continue
            patches = doc.get("patches") or []
            paths = [p.get("path") for p in patches if isinstance(p, dict)] + list(doc.get("patchesStrategicMerge") or [])
            found.update((kustomization.parent / p).resolve() for p in paths if isinstance(p, str))
    return found


def sources_by_resource(repo: Repo, sources: list[Manifest]) -> dict[str, str]:
    """"Kind/name" (a problem's resource) -> the one source file that defines it."""
    patches = patch_files(repo)
    found: dict[str, set[str]] = {}
    for m in sources:
        if m.kind and m.name and repo.path(m.file).resolve() not in patches:
            found.setdefault(m.ident, set()).add(m.file)
    return {ident: files.pop() for ident, files in found.items() if len(files) == 1}


def attach(problems: list[Problem], sources: dict[str, str]) -> list[Problem]:
    """The content problems about rendered resources, each with the source file to edit."""
    return [
        replace(p, source=sources[p.resource])
        if p.stage in CONTENT_STAGES and not p.source and p.file.startswith(RENDERED + "/") and p.resource in sources
        else p
        for p in problems
    ]
