"""The YAML layer: block splitting, fallbacks, quoting, source-preserving scalars, no aliases."""

from __future__ import annotations

import pytest
import yaml
import yaml_rs

from kfn import pyyaml_core, wire, yamlio

TRICKY_ITEMS = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
# a comment before the first item
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: block-scalars
  data:
    literal: |
      - looks like an item
      # looks like a comment
      ---
      key: value
    folded: >
      folded
      text
    quoted: "- dash: and colon # hash"
    multi: "first line
      continued"
# a comment between items
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: flow-in-block}
  data: {a: "1", b: [x, y]}

-   apiVersion: v1
    kind: ConfigMap
    metadata:
      name: odd-inner-indent
    data:
      list:
      - one
      - - nested
        - pair
functionConfig:
  apiVersion: v1
  kind: ConfigMap
  metadata:
    name: function-input
"""


def test_split_items_match_a_whole_parse(backend: str) -> None:
    source = wire.read_resource_list(TRICKY_ITEMS)
    assert source.chunks is not None, "the block splitter should handle this input"
    assert source.items == yaml_rs.loads(TRICKY_ITEMS)["items"]
    assert source.function_config == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"}}
    assert wire.write_resource_list(source, source.items, []).split("items:\n", 1)[1] == TRICKY_ITEMS.split("items:\n", 1)[1].split("functionConfig:")[0]


@pytest.mark.parametrize(
    "text",
    [
        '{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{"kind": "A", "metadata": {"name": "a"}}]}',
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [{kind: A, metadata: {name: a}}]\n",
        "%YAML 1.2\n---\napiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: A\n  metadata: {name: a}\n",
    ],
    ids=["json", "flow-items", "directive"],
)
def test_unsplittable_input_falls_back_to_a_whole_parse(text: str, backend: str) -> None:
    source = wire.read_resource_list(text)
    assert source.chunks is None
    assert source.items == [{"kind": "A", "metadata": {"name": "a"}}]
    assert wire.write_resource_list(source, source.items, []).endswith("items:\n- kind: A\n  metadata:\n    name: a\n")


TRICKY_STRINGS = [
    "yes", "No", "on", "OFF", "y", "n", "true", "Null", "~", "", "0777", "0o17", "0x1F", "1_000", "1e3", ".5", "+1",
    "-1", ".inf", "-.nan", "12:30:00", "2024-01-01", "2024-01-01T10:00:00Z", "<<", "=", "- dash", "-dash", "--flag",
    "? q", ":colon", "a: b", "a #b", "#hash", "*star", "&amp", "!bang", "%pct", "@at", "`tick", "{brace", "[bracket",
    "trailing ", " leading", "tab\there", "ends:", "---", "...", 'say "hi"', "it's", 'both "\' quotes',
    "line\nbreak\n", "no final newline\nhere", "  indented first\nline", "crlf\r\nline", "bell\x07", "é unicode ✓",
    "10Gi", "500m", "1.2.3", "0 3 * * *", "http://x:80/a#frag",
]


@pytest.mark.parametrize("value", TRICKY_STRINGS)
def test_strings_read_back_as_the_same_string_in_yaml_1_1_and_1_2(value: str) -> None:
    text = yamlio.dump({"k": value, "list": [value]})
    assert yaml.safe_load(text) == {"k": value, "list": [value]}  # YAML 1.1 reader
    assert yaml_rs.loads(text, parse_datetime=False) == {"k": value, "list": [value]}
    assert pyyaml_core.load(text) == {"k": value, "list": [value]}


@pytest.mark.parametrize("value", [0, -3, 7, 1.5, -0.25, 1e20, float("inf"), float("-inf"), True, False, None])
def test_non_strings_read_back_as_the_same_value(value: object) -> None:
    assert pyyaml_core.load(yamlio.dump({"k": value})) == {"k": value}
    assert yaml_rs.loads(yamlio.dump({"k": value})) == {"k": value}


PLAIN_TRAPS = "a: yes\nb: on\nc: 0777\nd: 0o17\ne: 1_000\nf: 2024-01-01\ng: 12:30:00\nh: ~\ni: 1e3\nj: +1\nk: .5\n"


def test_exact_parse_writes_plain_scalars_back_as_written() -> None:
    parsed = pyyaml_core.load(PLAIN_TRAPS)
    assert parsed["c"] == 777 and parsed["d"] == 15 and parsed["a"] == "yes"  # YAML 1.2 core meaning
    assert yamlio.dump(parsed) == PLAIN_TRAPS.replace("h: ~", "h: null")


def test_yaml_rs_items_with_traps_are_reparsed_exactly_when_edited() -> None:
    text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: A\n  mode: 0777\n- kind: B\n  mode: 0777\n- kind: C\n  mode: 1\n"
    source = wire.read_resource_list(text, exact_if=lambda text, item: item["kind"] in ("A", "C"))
    assert type(source.items[0]["mode"]) is yamlio.PlainInt and source.items[0]["mode"].text == "0777"
    assert type(source.items[1]["mode"]) is int  # not edited: read fast, written verbatim
    assert type(source.items[2]["mode"]) is int  # canonical already: no exact parse needed


def test_shared_objects_are_written_without_anchors() -> None:
    shared = {"key": "nvidia.com/gpu", "operator": "Exists"}
    text = yamlio.dump({"a": [shared, shared], "b": shared})
    assert "&" not in text and "*" not in text
    assert yaml.safe_load(text) == {"a": [shared, shared], "b": shared}


def test_duplicate_keys_are_refused_by_both_backends(backend: str) -> None:
    with pytest.raises(yamlio.InputError, match="duplicate"):
        yamlio.parse("a: 1\na: 2\n")


def test_multi_document_stream_keeps_untouched_documents_verbatim(backend: str) -> None:
    stream = "# first\nkind: A # note\nmetadata: {name: a}\n---\nkind: B\nmetadata:\n  name: b\n...\n---\nkind: C\n"
    source = wire.read_stream(stream)
    assert [d["kind"] for d in source.items] == ["A", "B", "C"]
    changed = [source.items[0], {"kind": "B", "metadata": {"name": "b2"}}, source.items[2]]
    assert wire.write_stream(source, changed) == "# first\nkind: A # note\nmetadata: {name: a}\n---\nkind: B\nmetadata:\n  name: b2\n---\nkind: C\n"


HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"


def round_trip(body: str) -> tuple[wire.ResourceList, str]:
    source = wire.read_resource_list(HEADER + body)
    return source, wire.write_resource_list(source, source.items, [])


def test_tabs_in_block_scalars_and_a_missing_final_newline_still_split(backend: str) -> None:
    body = "- kind: ConfigMap\n  metadata: {name: make}\n  data:\n    Makefile: |\n      all:\n      \techo tab\n- kind: ConfigMap\n  metadata: {name: last}"
    source, out = round_trip(body)
    assert source.chunks is not None
    assert source.items[0]["data"]["Makefile"] == "all:\n\techo tab\n"
    assert out == HEADER + body + "\n"


def test_anchors_in_the_input_never_reach_the_output(backend: str) -> None:
    source, out = round_trip("- kind: A\n  data: &shared {x: '1'}\n- kind: B\n  data: *shared\n")
    assert source.chunks is None  # not cut: an alias could outlive its anchor
    assert "&shared" not in out and "*shared" not in out
    assert source.items[1]["data"] == {"x": "1"}
