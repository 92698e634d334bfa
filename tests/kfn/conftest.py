"""kfn test fixtures: the golden-file switch and the YAML backend parameter."""

from __future__ import annotations

import os

import pytest

from kfn_testing import BACKENDS


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden", default=False)) or os.environ.get("KFN_UPDATE_GOLDEN") == "1"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KFN_YAML", request.param)
    return request.param
