"""Golden cases: kfn/testdata/<case>/{input.yaml, config.yaml?, expected.yaml | expected-error.txt}.

input.yaml is a ResourceList without functionConfig; config.yaml, when present,
is appended as its functionConfig. Each case runs in-process and through the
``kfn`` CLI, with both YAML backends. ``--update-golden`` (or
KFN_UPDATE_GOLDEN=1) rewrites expected.yaml; review every diff by eye.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kfn_testing import TESTDATA, run, tool
from kfn import core, krm, pyyaml_core
from kfn.config import parse_config
from kfn.errors import KfnError

CASES = sorted(p.name for p in TESTDATA.iterdir() if (p / "input.yaml").exists())


def resource_list(case: Path) -> str:
    text = (case / "input.yaml").read_text()
    config = case / "config.yaml"
    if config.exists():
        text += "functionConfig:\n" + indent(config.read_text())
    return text


def indent(text: str) -> str:
    return "".join("  " + line if line.strip() else line for line in text.splitlines(True))


def expected_error(case: Path) -> list[str] | None:
    path = case / "expected-error.txt"
    return [line for line in path.read_text().splitlines() if line.strip()] if path.exists() else None


def check_success(case: Path, out: str, code: int, update: bool) -> None:
    expected = case / "expected.yaml"
    if update:
        expected.write_text(out)
    assert out == expected.read_text()
    assert code == (1 if re.search(r"^  severity: error$", out, re.M) else 0)


@pytest.mark.parametrize("name", CASES)
def test_in_process(name: str, backend: str, update_golden: bool) -> None:
    case = TESTDATA / name
    patterns = expected_error(case)
    if patterns is not None:
        with pytest.raises(KfnError) as err:
            krm.run(resource_list(case))
        for pattern in patterns:
            assert re.search(pattern, str(err.value)), (pattern, str(err.value))
        return
    out, code = krm.run(resource_list(case))
    check_success(case, out, code, update_golden and backend == "yaml-rs")


@pytest.mark.parametrize("name", CASES)
def test_cli(name: str, backend: str) -> None:
    case = TESTDATA / name
    done = run([tool("kfn")], stdin=resource_list(case), env={"KFN_YAML": backend})
    patterns = expected_error(case)
    if patterns is not None:
        assert done.returncode == 2
        assert done.stdout == ""
        assert len(done.stderr.splitlines()) == 1, done.stderr
        for pattern in patterns:
            assert re.search(pattern, done.stderr), (pattern, done.stderr)
        return
    assert done.stderr == ""
    check_success(case, done.stdout, done.returncode, update=False)


def without_results(out: str) -> str:
    cut = out.find("\nresults:\n")
    return out if cut < 0 else out[: cut + 1]


@pytest.mark.parametrize("name", [n for n in CASES if (TESTDATA / n / "expected.yaml").exists()])
def test_second_run_changes_nothing(name: str, backend: str) -> None:
    case = TESTDATA / name
    first, _ = krm.run(resource_list(case))
    again = without_results(first)
    if (case / "config.yaml").exists():
        again += "functionConfig:\n" + indent((case / "config.yaml").read_text())
    second, _ = krm.run(again)
    assert without_results(second) == without_results(first)


# Config errors pass the items through unchanged; their expected.yaml says so.
@pytest.mark.parametrize("name", [n for n in CASES if (TESTDATA / n / "expected.yaml").exists() and not n.startswith("config-error")])
def test_output_means_exactly_what_core_computed(name: str, backend: str) -> None:
    """Whatever the text reuse does, the output parses (YAML 1.2) to core.process of the parsed input."""
    text = resource_list(TESTDATA / name)
    source = pyyaml_core.load(text)
    items, results = core.process(source["items"] or [], parse_config(source.get("functionConfig")))
    out = pyyaml_core.load(krm.run(text)[0])
    assert (out["items"] or []) == items
    assert out.get("results", []) == results
