"""Bounded slices of the fuzzer and the semantic oracle (``make fuzz`` runs more) and Hypothesis properties of the YAML layer."""

from __future__ import annotations

import pytest
import yaml
import yaml_rs
from hypothesis import given, settings
from hypothesis import strategies as st

import kfn_fuzz
import kfn_oracle
from kfn import pyyaml_core, wire, yamlio
from kfn.numbers import whole_number


def test_fuzz_slice_finds_nothing() -> None:
    """400 random cases in-process with both backends, 8 through the kfn command and kpt."""
    found: list[str] = []
    counts = kfn_fuzz.run(seed=20261122, cases=400, cli_every=50, report=found.append)
    assert found == [], "\n".join(found[:5])
    assert counts["cases"] == 400 and counts["through kfn"] == 8


def test_fuzz_oracle_sees_a_changed_untouched_item() -> None:
    """The oracle itself can fail: an output that rewrites an untouched item is reported."""
    text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: A\n  metadata: {name: a}\n  data: {mode: 0777}\n"
    out = text.replace("0777", "'0777'")
    assert any("untouched item 0" in p for p in kfn_fuzz.output_problems(text, out))
    assert kfn_fuzz.output_problems(text, text.replace("{name: a}", "{name: a} ")) == ["untouched item 0 not written back byte for byte"]


SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)


@SETTINGS
@given(st.text())
def test_any_string_reads_back_the_same_in_yaml_1_1_and_1_2(value: str) -> None:
    try:
        text = yamlio.dump({"k": value, "l": [value]})
    except yamlio.InputError:  # only a lone surrogate may be refused: no UTF-8 text holds one
        assert any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        return
    assert not kfn_fuzz.NOT_PRINTABLE.search(text)
    assert yaml_rs.loads(text, parse_datetime=False) == {"k": value, "l": [value]}
    assert pyyaml_core.load(text) == {"k": value, "l": [value]}
    if not any(c in value for c in "\x85\u2028\u2029"):  # written escaped; PyYAML 1.1 folds them raw only
        assert yaml.safe_load(text) == {"k": value, "l": [value]}


JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.characters(exclude_categories=("Cs",))),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@SETTINGS
@given(JSON_LIKE)
def test_any_data_dumps_to_yaml_both_backends_read_back(doc: object) -> None:
    text = yamlio.dump(doc)
    for backend in ("yaml-rs", "pyyaml"):
        import os

        os.environ["KFN_YAML"] = backend
        try:
            assert yamlio.parse(text) == doc
        finally:
            os.environ.pop("KFN_YAML", None)


@SETTINGS
@given(st.text(max_size=12))
def test_whole_numbers_are_ascii_digits_in_bounds(text: str) -> None:
    number = whole_number(text, 1, 64)
    plain_digits = text.isascii() and text.isdigit() and len(text) <= 10
    if number is None:
        assert not (plain_digits and 1 <= int(text) <= 64)
    else:
        assert plain_digits and int(text) == number and 1 <= number <= 64


@SETTINGS
@given(st.lists(st.sampled_from(kfn_fuzz.TRAP_SCALARS), min_size=1, max_size=5), st.booleans())
def test_untouched_items_come_back_byte_for_byte(values: list[str], indented: bool) -> None:
    pad = "  " if indented else ""
    items = "".join(f"{pad}- kind: A\n{pad}  metadata: {{name: a{i}}}\n{pad}  data:\n{pad}    v: {v}\n" for i, v in enumerate(values))
    text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items
    try:
        source = wire.read_resource_list(text)
    except yamlio.InputError:
        return  # a value both backends refuse (a surrogate escape)
    assert wire.write_resource_list(source, source.items, []).split("items:\n", 1)[1] == items


def test_oracle_slice_finds_nothing() -> None:
    """300 random valid workloads: kfn's output against the README's model (``make oracle`` runs more)."""
    found: list[str] = []
    counts = kfn_oracle.run(seed=20261203, cases=300, report=found.append)
    assert found == [], "\n".join(found[:3])
    assert counts["items"] > 1000


@pytest.mark.parametrize(
    ("before", "after"),
    [("failureThreshold: 3\n", "failureThreshold: 4\n"), ("effect: NoSchedule\n", "effect: NoExecute\n"), ("\nresults:\n- ", "\nresults:\n- x: 1\n- ")],
    ids=["probe-threshold", "toleration", "extra-result"],
)
def test_the_oracle_sees_a_wrong_edit_or_result(before: str, after: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle itself can fail: kfn's output with one documented value changed is reported."""
    real = kfn_oracle.krm.run

    def altered(text: str) -> tuple[str, int]:
        out, code = real(text)
        return out.replace(before, after, 1), code

    monkeypatch.setattr(kfn_oracle.krm, "run", altered)
    found: list[str] = []
    kfn_oracle.run(seed=1, cases=60, report=found.append)
    assert found
