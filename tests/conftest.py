"""Options and tiers for the whole suite: registered here so they work wherever pytest starts."""

from __future__ import annotations

import pytest

from tooling import ROOT

# The `bake` tier, which `make test-fast` leaves out: every test of the template and `make validate`
# suites (they bake through cookiecutter, seconds each, minutes in all), and anywhere else a test that
# asks for a bake fixture. Derived, not listed by hand, so a new bake test cannot land in the fast tier.
BAKE_SUITES = (ROOT / "tests" / "template", ROOT / "tests" / "validate")
BAKE_FIXTURES = frozenset({"bakery", "default_bake", "failed_bake", "cookies", "cookies_session", "baked", "repo"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite kfn/testdata/*/expected.yaml from kfn's output")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        in_bake_suite = any(suite in item.path.parents for suite in BAKE_SUITES)
        if in_bake_suite or BAKE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.bake)
