"""Which file a user edits for a rendered resource: the template kustomize built it from.

`make validate` judges the rendered output, because that is what Flux applies; but nobody edits
kubernetes/rendered/ by hand, so a problem about a resource's content names its source too. The source
of a resource of cluster <name> (kubernetes/rendered/<name>/...) is the one document of that cluster's
workspace (templates/ rendered for it, tools/validate/workspaces.py) with the same kind and name that is
not a kustomize patch (a patch names the same resource but holds only part of it): its template under
templates/kubernetes/. Where two sources would match (the same kind and name in two namespaces), none
is named rather than a wrong one. Images and claim sizes name catalog/services.yaml themselves
(tools/validate/catalog.py), encrypted Secrets clusters/<name>/secrets/ (tools/validate/secrets.py).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from tools.manifests import RENDERED, Manifest
from tools.validate.problems import Problem
from tools.validate.repo import KUSTOMIZATION_FILES

# Problems about a resource's content: a user fixes them in the source. Drift and Secrets problems are
# about the committed files themselves, so they keep naming those.
CONTENT_STAGES = ("schema", "policy")


def patch_files(directory: Path) -> set[Path]:
    """Every file some kustomization under ``directory`` uses as a patch (resolved paths)."""
    found: set[Path] = set()
    for name in KUSTOMIZATION_FILES:
        for kustomization in directory.rglob(name):
            try:
                doc = yaml.safe_load(kustomization.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError, OSError):
                continue  # the render reports a kustomization it cannot read
            if not isinstance(doc, dict):
                continue
            patches = doc.get("patches") or []
            paths = [p.get("path") for p in patches if isinstance(p, dict)] + list(doc.get("patchesStrategicMerge") or [])
            found.update((kustomization.parent / p).resolve() for p in paths if isinstance(p, str))
    return found


def sources_by_resource(sources: list[Manifest], patches: set[str]) -> dict[str, str]:
    """"Kind/name" (a problem's resource) -> the one source file that defines it."""
    found: dict[str, set[str]] = {}
    for m in sources:
        if m.kind and m.name and m.file not in patches:
            found.setdefault(m.ident, set()).add(m.file)
    return {ident: files.pop() for ident, files in found.items() if len(files) == 1}


def rendered_cluster(file: str) -> str | None:
    """The cluster whose rendered output ``file`` is (kubernetes/rendered/<name>/...)."""
    parts = file.split("/")
    prefix = RENDERED.split("/")
    return parts[len(prefix)] if parts[: len(prefix)] == prefix and len(parts) > len(prefix) + 1 else None


def attach(problems: list[Problem], sources: dict[str, dict[str, str]]) -> list[Problem]:
    """The content problems about rendered resources, each with the source file to edit
    (``sources``: cluster -> its sources_by_resource)."""
    out = []
    for p in problems:
        found = sources.get(rendered_cluster(p.file) or "", {}).get(p.resource)
        out.append(replace(p, source=found) if p.stage in CONTENT_STAGES and not p.source and found else p)
    return out
