"""The generated repo as the validator reads it: its YAML files, each parsed once."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

import yaml

from tools.clusters import TEMPLATES
from tools.manifests import Manifest, parse_documents
from tools.validate.problems import Problem

# Directories that hold tooling, not manifests: never scanned.
SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".pytest_cache", ".mypy_cache"})
YAML_SUFFIXES = (".yaml", ".yml")
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

def has_kustomization(directory: Path) -> bool:
    return any((directory / name).is_file() for name in KUSTOMIZATION_FILES)


class Repo:
    """A checkout of the generated repo, read lazily and cached."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.parse_problems: list[Problem] = []
        self._manifests: dict[Path, list[Manifest]] = {}

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root).as_posix() or "."
        except ValueError:
            return path.as_posix()

    def path(self, rel: str) -> Path:
        return self.root / rel

    @cached_property
    def yaml_files(self) -> list[Path]:
        """Every YAML file of the tree outside tooling directories and templates/ (Jinja, read rendered for
        each cluster by tools/validate/workspaces.py), sorted."""
        found = []
        for top, dirs, files in os.walk(self.root):
            skip = SKIP_DIRS | {TEMPLATES.as_posix()} if Path(top) == self.root else SKIP_DIRS
            dirs[:] = sorted(d for d in dirs if d not in skip and not (Path(top, d, "pyvenv.cfg")).exists())
            found.extend(Path(top, f) for f in sorted(files) if f.endswith(YAML_SUFFIXES))
        return found

    def yaml_files_under(self, directory: Path) -> list[Path]:
        directory = directory.resolve()
        return [p for p in self.yaml_files if p.is_relative_to(directory)]

    def manifests(self, path: Path) -> list[Manifest]:
        """The documents of one file; a file that is not YAML becomes a problem, once."""
        path = path.resolve()
        if path not in self._manifests:
            rel = self.rel(path)
            try:
                self._manifests[path] = parse_documents(path.read_text(encoding="utf-8"), rel)
            except (yaml.YAMLError, UnicodeDecodeError) as err:
                self._manifests[path] = []
                what = " ".join(str(err).split())
                self.parse_problems.append(
                    Problem(rel, "-", "-", f"not valid YAML: {what}", "fix the syntax", "parse")
                )
        return self._manifests[path]

    def all_manifests(self, paths: list[Path] | None = None) -> list[Manifest]:
        return [m for p in (self.yaml_files if paths is None else paths) for m in self.manifests(p)]
