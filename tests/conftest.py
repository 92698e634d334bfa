"""Options for the whole suite: registered here so `pytest --update-golden` works from the root too."""

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite kfn/testdata/*/expected.yaml from kfn's output")
