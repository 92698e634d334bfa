"""Fixtures for `make validate`: one bake per test module, a fresh copy of it per break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from validate_repo import Repo, bake


@pytest.fixture(scope="module")
def baked(tmp_path_factory) -> Path:
    """The default bake (`cookiecutter --no-input`), never modified: tests copy it."""
    return bake(tmp_path_factory.mktemp("bake"))


@pytest.fixture
def repo(baked, tmp_path) -> Repo:
    """A private copy of the bake, git history and age key included, to break one way."""
    target = tmp_path / baked.name
    shutil.copytree(baked, target, symlinks=True)
    return Repo(target)
