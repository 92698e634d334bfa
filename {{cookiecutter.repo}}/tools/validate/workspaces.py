"""Each cluster as `make render` sees it: its checked answers and its sources, templates/ rendered for it.

The validator judges kubernetes/rendered/<name>/, but a user edits the shared templates
(templates/kubernetes/...) and the cluster's answers (clusters/<name>/cluster.yaml). Each cluster's
workspace is rendered with the function `make render` uses (tools.clusters.workspace) into a scratch
directory and read there; every document is named by the file it came from: its template, or
catalog/models.yaml for the files the model list derives.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tools import clusters, models
from tools.manifests import Manifest, parse_documents
from tools.validate.origin import patch_files
from tools.validate.problems import Problem

STAGE = "answers"  # a cluster.yaml the tools refuse: reported once, before the stages


@dataclass
class ClusterSources:
    name: str
    answers: dict  # clusters.load(name); {} when cluster.yaml cannot be used (`problems` say why)
    manifests: list[Manifest] = field(default_factory=list)  # the workspace's documents, by source file
    patches: set[str] = field(default_factory=set)  # the source files some kustomization uses as a patch
    problems: list[Problem] = field(default_factory=list)

    @property
    def answers_file(self) -> str:
        return (clusters.CLUSTERS / self.name / clusters.ANSWERS_FILE).as_posix()


def source_of(root: Path, relative: Path) -> str:
    """The file a user edits for workspace file `relative` (kubernetes/...)."""
    template = clusters.TEMPLATES / relative
    return template.as_posix() if (root / template).is_file() else models.MODELS_FILE.as_posix()


def answer_problems(name: str, error: Exception) -> list[Problem]:
    """One problem per line of a ClusterError (`<file>: <key>: <why>`), at the file it names."""
    out = []
    default = (clusters.CLUSTERS / name / clusters.ANSWERS_FILE).as_posix()
    for line in str(error).splitlines():
        file, sep, what = line.partition(": ")
        file, what = (file, what) if sep and "/" in file else (default, line)
        key, sep, rest = what.partition(": ")
        value, dash, why = rest.partition(" — ")
        if sep and dash and " " not in key:  # `key: value — why`, as tools/answers.py words it
            what = f"{value}: {why}" if value != "missing" else f"missing: {why}"
        else:
            key = "-"
        out.append(Problem(file, "-", key, what, "fix it, then `make render`", STAGE))
    return out


def read(root: Path, name: str) -> ClusterSources:
    """Cluster `name`'s answers and sources; what stops either becomes a problem, never an exception."""
    try:
        answers = clusters.load(name, root)
    except clusters.ClusterError as err:
        return ClusterSources(name, {}, problems=answer_problems(name, err))
    found = ClusterSources(name, answers)
    with tempfile.TemporaryDirectory(prefix=f"validate-{name}-") as tmp:
        workspace = Path(tmp).resolve()
        try:
            clusters.workspace(name, answers, workspace, root)
        except (clusters.ClusterError, models.ModelsError) as err:
            found.problems = answer_problems(name, err)
            return found
        kubernetes = workspace / "kubernetes"
        sources = {path: source_of(root, path.relative_to(workspace)) for path in sorted(kubernetes.rglob("*.y*ml")) if path.is_file()}
        found.patches = {sources[p] for p in patch_files(kubernetes) if p in sources}
        for path, source in sources.items():
            try:
                found.manifests += parse_documents(path.read_text(encoding="utf-8"), source)
            except yaml.YAMLError as err:
                found.problems.append(Problem(source, "-", "-", f"renders to invalid YAML for cluster {name}: {' '.join(str(err).split())}", "fix the template", STAGE))
    return found


def read_all(root: Path) -> dict[str, ClusterSources]:
    return {name: read(root, name) for name in clusters.names(root)}
