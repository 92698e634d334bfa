"""Fixtures for the template tests: bakes through pytest-cookies, shared per session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from template_repo import Baked, bake_context
from tooling import ROOT, TEMPLATE, VENV

# pytest-cookies renders the context (and so loads cookiecutter.json's `_extensions`, which live in
# hooks/) before cookiecutter puts the template on sys.path; make it importable wherever pytest starts.
if str(TEMPLATE) not in sys.path:
    sys.path.append(str(TEMPLATE))
# Bakes use this virtualenv's tools (the repo's requirements are in it) unless a test says otherwise.
os.environ.setdefault("VENV", str(VENV))


def pytest_configure(config: pytest.Config) -> None:
    # pytest-cookies defaults to the template ".", i.e. wherever pytest was started, and may already
    # have made that absolute (its own pytest_configure can run first). Baking from the work tree would
    # copy .venv before every bake (hooks/pre_prompt.py exists): bake from the snapshot unless the
    # command line named another template.
    if getattr(config.option, "template", None) in (None, ".", str(Path.cwd()), str(ROOT)):
        config.option.template = str(TEMPLATE)


@pytest.fixture(scope="session")
def bakery(cookies_session, tmp_path_factory):
    """Bake each named answer set once per session; tests share the result read-only."""
    baked: dict[str, Baked] = {}

    def bake(name: str, **answers: str) -> Baked:
        if name not in baked:
            keys = tmp_path_factory.mktemp(f"keys-{name}")
            context, private_key = bake_context(answers, keys)
            result = cookies_session.bake(extra_context=context)
            assert result.exit_code == 0, f"bake {name} failed: {result.exception!r}"
            baked[name] = Baked(result.project_path, {**context, **result.context}, private_key)
        return baked[name]

    return bake


@pytest.fixture
def default_bake(bakery) -> Baked:
    return bakery("default")


@pytest.fixture
def failed_bake(cookies, capfd, tmpdir):
    """Bake answers that must fail; returns stderr and what is left in the output directories."""

    def bake(**answers: str) -> tuple[str, list[Path]]:
        result = cookies.bake(extra_context=answers)
        assert result.exit_code != 0, "the bake should have failed"
        left = [path for path in Path(tmpdir, "cookies").rglob("*") if not path.is_dir() or any(path.iterdir())]
        return capfd.readouterr().err, left

    return bake
