"""The answers table (tests/answers/): every valid case passes and every invalid case gives exactly its
one line, through cookiecutter's own rendering of the defaults and the generated repo's tools/answers.py
(the rules of the bake's pre-generation hook and of `make render` for each cluster.yaml)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from tooling import ROOT

TABLE = Path(__file__).parent / "answers"
PROJECT = ROOT / "{{cookiecutter.repo}}"
sys.path[:0] = [str(ROOT), str(PROJECT)]  # hooks.extensions (cookiecutter.json's _extensions), kfn, tools

from tools import answers as rules  # noqa: E402


def cases(kind: str) -> list[Path]:
    return sorted((TABLE / kind).glob("*.yaml"))


def rendered(overrides: dict) -> dict:
    """cookiecutter.json's answers with `overrides`, rendered as `cookiecutter --no-input k=v` renders them."""
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    context = generate_context(context_file=str(ROOT / "cookiecutter.json"), extra_context=overrides)
    return dict(prompt_for_config(context, no_input=True))


def problems(overrides: dict) -> list[str]:
    return rules.problems(rendered(overrides), rules.load_catalog(PROJECT / rules.CATALOG_FILE))


@pytest.mark.parametrize("case", cases("valid"), ids=lambda p: p.stem)
def test_valid_answers_pass(case):
    assert problems(yaml.safe_load(case.read_text())["answers"]) == []


@pytest.mark.parametrize("case", cases("invalid"), ids=lambda p: p.stem)
def test_invalid_answers_give_their_one_line(case):
    entry = yaml.safe_load(case.read_text())
    found = problems(entry["answers"])
    assert len(found) == 1 and found[0].startswith(entry["says"]), found


def test_the_table_covers_every_answer_the_rules_check():
    """An answer with a rule and no invalid case would be a rule nothing tests."""
    catalog = rules.load_catalog(PROJECT / rules.CATALOG_FILE)
    checked = set(rules.SIMPLE_CHECKS) | set(rules.size_checks(catalog))
    covered = {key for case in cases("invalid") for key in yaml.safe_load(case.read_text())["answers"]}
    assert checked - covered == set()
