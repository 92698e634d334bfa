"""Regression cases, one per bug class the fuzzer (tests/kfn/kfn_fuzz.py) or issue 10 found.

Each runs in-process with both YAML backends (the ``backend`` fixture); the
command-line contract (one ``kfn:`` line, no stdout) is in test_kfn_cli.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml_rs

import kfn_fuzz
from kfn_testing import GPU_ITEM, HEAD
from kfn import krm, wire
from kfn.errors import InputError

UNTOUCHED = """\
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: traps
  data:
    script: |
      rm -f *.log
      echo &done
    mode: !!str 0777
    flag: yes
"""


def run(text: str) -> tuple[str, int]:
    out, code = krm.run(text)
    assert kfn_fuzz.output_problems(text, out) == []
    return out, code


def test_star_in_a_block_scalar_keeps_every_other_item_verbatim(backend: str) -> None:
    """``*.log`` once sent the whole list through the re-emitter, and ``!!str 0777`` became an int."""
    out, _ = run(HEAD + GPU_ITEM + UNTOUCHED)
    assert UNTOUCHED in out
    assert "nvidia.com/gpu: 1" in out


def test_an_edited_item_keeps_the_meaning_of_its_tagged_scalars(backend: str) -> None:
    item = GPU_ITEM.replace("    annotations:\n", "    labels:\n      mode: !!str 0777\n      one: !!float 1\n      flag: !!str yes\n    annotations:\n")
    out, _ = run(HEAD + item)
    assert 'mode: "0777"' in out and "one: 1.0" in out and 'flag: "yes"' in out  # the same bytes from both backends


@pytest.mark.parametrize(
    "text",
    [
        HEAD.replace("\n", "\r\n") + UNTOUCHED.replace("\n", "\r\n"),
        "\ufeff" + HEAD + UNTOUCHED,
        HEAD.replace("kind: ResourceList", '"kind": "ResourceList"') + UNTOUCHED,
        "---\n" + HEAD + UNTOUCHED,
    ],
    ids=["crlf", "bom", "quoted-kind", "document-start"],
)
def test_valid_block_input_is_read_and_its_items_kept_verbatim(text: str, backend: str) -> None:
    assert wire.looks_like_resource_list(text)
    out, code = krm.run(text)
    assert code == 0 and UNTOUCHED in out


@pytest.mark.parametrize("prefix", ["", "---\n", "\ufeff"])
def test_json_with_surrogate_pairs_is_a_resource_list(prefix: str, backend: str) -> None:
    doc = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{"kind": "A", "metadata": {"name": "smile 😀"}}]}
    text = prefix + json.dumps(doc)  # ensure_ascii: "\ud83d\ude00"
    assert "\\ud83d\\ude00" in text and wire.looks_like_resource_list(text)
    out, _ = run(text)
    assert "name: smile 😀" in out


def test_a_surrogate_escape_in_yaml_is_refused_by_both_backends(backend: str) -> None:
    with pytest.raises(InputError, match="surrogate"):
        krm.run(HEAD + '- kind: A\n  metadata: {name: "\\ud83d\\ude00"}\n')


@pytest.mark.parametrize(
    ("value", "written"),
    [("a\\x85b", "a\\Nb"), ("\\u0080\\x9f", "\\x80\\x9f"), ("\\ufffe\\uffff", "\\ufffe\\uffff"), ("\\tled\\nby a tab", "\\tled\\nby a tab")],
    ids=["nel", "c1", "non-characters", "tab-led-lines"],
)
def test_non_printables_are_written_escaped(value: str, written: str, backend: str) -> None:
    """kpt rejects raw C1 controls and U+FFFE, and cannot read a block scalar whose line starts with a tab."""
    item = GPU_ITEM.replace("    annotations:\n", f'    labels:\n      v: "{value}"\n    annotations:\n')
    out, _ = run(HEAD + item)
    assert f'v: "{written}"' in out


@pytest.mark.parametrize(
    ("field", "value"),
    [("labels", '"x"'), ("labels", "[]")],
)
def test_a_wrong_typed_label_map_is_an_error_not_replaced(field: str, value: str, backend: str) -> None:
    item = f"- apiVersion: v1\n  kind: PersistentVolumeClaim\n  metadata:\n    name: p\n    {field}: {value}\n    annotations:\n      ai-gitops.dev/data-class: models\n"
    out, code = run(HEAD + item)
    assert code == 1
    assert item in out  # untouched, byte for byte
    assert f"metadata.labels is {'str' if value.startswith(chr(34)) else 'list'} " in out
    assert "path: metadata.labels" in out


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ("        tolerations: {}\n", "spec.template.spec.tolerations"),
        ("        nodeSelector: []\n", "spec.template.spec.nodeSelector"),
        ("          resources: x\n", "spec.template.spec.containers[0].resources"),
    ],
    ids=["tolerations-map", "node-selector-list", "resources-string"],
)
def test_a_wrong_typed_pod_field_is_an_error_naming_resource_and_field(line: str, path: str, backend: str) -> None:
    anchor = "        - name: app\n" if "resources" in line else "        containers:\n"
    item = GPU_ITEM.replace(anchor, anchor + line if "resources" in line else line + anchor)
    out, code = run(HEAD + item)
    assert code == 1 and item in out
    assert f"path: {path}" in out and "name: gpu" in out


@pytest.mark.parametrize("count", ['"٣"', '"²"', '"99999999999999999999"', '"+1"', '"65"', '"0"'])
def test_gpu_markers_are_strict_ascii_whole_numbers(count: str, backend: str) -> None:
    item = GPU_ITEM.replace('ai-gitops.dev/gpu: "1"', f"ai-gitops.dev/gpu: {count}")
    out, code = run(HEAD + item)
    assert code == 1 and item in out and "is not a whole number of GPUs from 1 to 64" in out


@pytest.mark.parametrize("value", ["'٣'", "'99999999999999999999999'", "'-1'", "'+2'"])
def test_config_numbers_are_strict_and_config_errors_are_results(value: str, backend: str) -> None:
    """kyaml and the kpt catalog report an unusable functionConfig as an error result, exit non-zero."""
    config = f"functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: function-input\n  data:\n    gpu.physical: {value}\n"
    out, code = run(HEAD + GPU_ITEM + config)
    assert code == 1 and GPU_ITEM in out
    assert "data.gpu.physical:" in out and "severity: error" in out and "name: function-input" in out


def test_results_of_earlier_functions_are_kept(backend: str) -> None:
    upstream = "results:\n- message: from an earlier function\n  severity: warning\n"
    out, _ = run(HEAD + GPU_ITEM.replace('"1"', '"x"') + upstream)
    assert out.split("results:\n", 1)[1].startswith("- message: from an earlier function\n  severity: warning\n- message: ")


BOMB = "  data:\n    a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"    {n}: &{n} [{','.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefg", "bcdefgh")
)


def test_an_alias_bomb_is_refused(backend: str) -> None:
    with pytest.raises(InputError, match="excessive aliasing"):
        krm.run(HEAD + "- kind: A\n  metadata: {name: a}\n" + BOMB)


def test_modest_aliases_inside_one_item_are_fine_and_kept_verbatim(backend: str) -> None:
    item = "- kind: A\n  metadata: {name: a}\n  data:\n    base: &base {x: 1}\n    copy: *base\n"
    out, _ = run(HEAD + item + item.replace("name: a", "name: b"))  # the same anchor name in two items
    assert out.count("*base") == 2


@pytest.mark.parametrize("nesting", ["[" * 65 + "]" * 65, "\n" + "".join(" " * (4 + i) + f"k{i}:\n" for i in range(260)) + " " * 264 + "v"])
def test_deep_nesting_is_refused_before_either_parser_recurses(nesting: str, backend: str) -> None:
    with pytest.raises(InputError, match="nest"):
        krm.run(HEAD + "- kind: A\n  metadata: {name: a}\n  data: " + nesting + "\n")


def test_a_100000_level_flow_bomb_is_one_error_line_not_a_crash(backend: str) -> None:
    text = HEAD + "- a: " + "[" * 100_000 + "]" * 100_000 + "\n"
    done = subprocess.run([sys.executable, "-m", "kfn.cli"], input=text, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("kfn: ") and len(done.stderr.splitlines()) == 1


# --- the splitter's safety nets: each input below is cut wrongly without its net ---------------------

CROSS_ITEM_ALIAS = HEAD + "- kind: A\n  metadata: {name: a}\n  data: &shared {k: v}\n" + GPU_ITEM.replace("  spec:\n", "  extra: *shared\n  spec:\n", 1)
# libyaml (and kpt's go-yaml) read a quoted scalar's continuation line even at the entries' indent.
FAKE_ENTRY = HEAD + '- kind: A\n  metadata: {name: a}\n  note: "looks like\n- kind: B"\n' + GPU_ITEM
FAKE_ENTRY_INDENTED = HEAD + '  - kind: A\n    metadata: {name: a}\n    note: "looks like\n  not an entry"\n  - kind: B\n'
LESS_INDENTED = HEAD + '  - kind: A\n    metadata: {name: a}\n    note: "looks like\n - x"\n  - kind: B\n'


@pytest.mark.parametrize("text", [CROSS_ITEM_ALIAS, FAKE_ENTRY, FAKE_ENTRY_INDENTED, LESS_INDENTED],
                         ids=["alias-across-items", "one-item-per-cut", "entry-indent", "less-indented"])
def test_splitter_safety_nets_send_the_input_to_a_whole_parse(text: str, backend: str) -> None:
    source = wire.read_resource_list(text)
    assert source.chunks is None  # the net refused the cut
    out, _ = krm.run(text)
    assert yaml_rs.loads(out)["items"][: len(source.items)] is not None
    assert kfn_fuzz.output_problems(text, out) == []


def test_a_recursive_alias_is_refused(backend: str) -> None:
    with pytest.raises(InputError, match="recursive"):
        krm.run(HEAD + "- kind: A\n  metadata: {name: a}\n  data:\n    base: &base\n      again: *base\n")


def test_a_byte_order_mark_past_the_start_is_refused(backend: str) -> None:
    with pytest.raises(InputError, match="byte-order mark"):
        krm.run(HEAD.replace("\nkind:", "\n\ufeffkind:"))


def test_a_non_string_kind_is_an_ordinary_item(backend: str) -> None:
    out, code = run(HEAD + "- kind: [Deployment]\n  metadata:\n    name: odd\n    annotations:\n      ai-gitops.dev/gpu: '1'\n")
    assert code == 0 and "kind: [Deployment]" in out


@pytest.mark.parametrize("line", ["    : 1}}", "  - : x"], ids=["empty-key", "empty-key-in-sequence"])
def test_an_empty_mapping_key_is_refused_by_both_backends(line: str, backend: str) -> None:
    """yaml-rs reads `: v` (no key); libyaml and kpt's go-yaml refuse it (fuzz seed 2, case 261)."""
    with pytest.raises(InputError, match="invalid YAML"):
        krm.run(HEAD + "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data:\n" + line + "\n")


def test_an_explicit_key_is_still_read(backend: str) -> None:
    out, code = run(HEAD + "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data:\n    ? k\n    : v\n")
    assert code == 0 and "? k\n    : v" in out
