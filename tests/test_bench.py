"""`make bench`'s template benchmarks still run against the template as it is (they print figures and
assert nothing themselves, so a layout change breaks them silently): each must finish and measure what it
says. Slow (about 2 minutes): `make test-all`, or `pytest -m slow tests/test_bench.py`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tooling import ROOT


@pytest.mark.slow
@pytest.mark.parametrize("bench, rows", [
    ("bench.validate", ["default answers", "every service + 30 more"]),
    ("bench.bake", ["bake, VENV=", "cruft update (one changed manifest)"]),
])
def test_template_benchmark_runs(bench, rows):
    result = subprocess.run([sys.executable, "-m", bench], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for row in rows:
        assert any(line.lstrip().startswith(row) for line in result.stdout.splitlines()), result.stdout
    assert "note:" not in result.stdout, result.stdout  # a grown repo that does not validate measures the wrong thing
