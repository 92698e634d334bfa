"""Regression cases for the hostile-input classes of issue 15, one or more per class.

Each runs in-process with both YAML backends (the ``backend`` fixture) and holds
the output to the fuzzer's checks (valid YAML, untouched items unchanged) and to
closure: the output fed back with the same config is accepted and changes nothing.
"""

from __future__ import annotations

import time

import pytest
import yaml_rs
from hypothesis import given, settings
from hypothesis import strategies as st

import kfn_fuzz
from kfn_testing import GPU_ITEM, HEAD, run as run_tool, tool
from kfn import krm, legacy, pyyaml_core, yamlio
from kfn.errors import InputError, type_name

CONFIG_MAP = "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: function-input\n  data:\n"


def run(text: str) -> tuple[str, int]:
    out, code = krm.run(text)
    assert kfn_fuzz.output_problems(text, out) == []
    assert kfn_fuzz.closure_problems(text, out, code) == []
    return out, code


def gpu_item(*, meta: str = "", pod: str = "", container: str = "") -> str:
    item = GPU_ITEM.replace("    annotations:\n", meta + "    annotations:\n").replace("        containers:\n", pod + "        containers:\n")
    return item + container


# --- a value of the wrong type at a path kfn reads ------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        gpu_item(container="          resources:\n            limits:\n              1: 2\n            requests:\n              1: 2\n              2.5: 1\n              null: 1\n"),
        gpu_item(pod="        tolerations:\n        - key: [nvidia.com/gpu]\n          effect: NoSchedule\n"),
        gpu_item(pod="        volumes:\n        - name: [m]\n          emptyDir: {}\n", container="          volumeMounts:\n          - name: [m]\n            mountPath: /models\n"),
    ],
    ids=["integer-resource-name", "list-toleration-key", "list-volume-mount-name"],
)
def test_a_wrong_typed_value_where_kfn_reads_is_no_crash(item: str, backend: str) -> None:
    out, code = run(HEAD + item)
    assert code == 0 and "nvidia.com/gpu: 1" in out


def test_a_list_toleration_key_tolerates_nothing(backend: str) -> None:
    out, _ = run(HEAD + gpu_item(pod="        tolerations:\n        - key: [nvidia.com/gpu]\n          effect: NoSchedule\n"))
    assert "- key: nvidia.com/gpu\n          operator: Exists" in out


@pytest.mark.parametrize("order", ["null-first", "null-second"])
def test_a_duplicate_ip_on_a_service_with_null_metadata_is_reported(order: str, backend: str) -> None:
    services = [
        "- apiVersion: v1\n  kind: Service\n  metadata: null\n  spec:\n    loadBalancerIP: 10.0.0.1\n",
        "- apiVersion: v1\n  kind: Service\n  metadata:\n    name: b\n  spec:\n    loadBalancerIP: 10.0.0.1\n",
    ]
    out, code = run(HEAD + "".join(services if order == "null-first" else services[::-1]))
    assert code == 1 and "LoadBalancer IP 10.0.0.1 is already used by Service" in out


@pytest.mark.parametrize(("name", "written"), [("[x]", 'name: ""'), ("{a: 1}", 'name: ""'), ("0777", 'name: ""'), ("1", 'name: ""'), ("true", 'name: ""'), ("'0777'", 'name: "0777"')])
def test_result_references_are_strings(name: str, written: str, backend: str) -> None:
    """kpt reads resourceRef fields into strings: a list there fails the whole pipeline."""
    item = GPU_ITEM.replace("name: gpu", f"name: {name}").replace('"1"', '"x"').replace("  metadata:\n", "  metadata:\n    namespace: [ns]\n")
    out, code = run(HEAD + item)
    results = out.split("results:\n", 1)[1]
    assert code == 1 and written in results and "namespace" not in results


@pytest.mark.parametrize(
    "data",
    ["    gpu.vendor: amd\n    gpu.vendor.x: y\n", "    gpu.vendor.x: y\n    gpu.vendor: amd\n"],
    ids=["value-then-section", "section-then-value"],
)
def test_a_dotted_key_under_a_value_is_a_config_error(data: str, backend: str) -> None:
    out, code = run(HEAD + GPU_ITEM + CONFIG_MAP + data)
    assert code == 1 and GPU_ITEM in out and "data.gpu.vendor" in out and "severity: error" in out


# --- complex keys, int-string limits ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{"kind": "A", "data": {[1, 2]: 2}}]}',
        HEAD + "- kind: A\n  metadata:\n    name: a\n  data:\n    ? [a, b]\n    : 1\n",
        HEAD + gpu_item(meta="    labels:\n      ? {a: [1]}\n      : 1\n"),
    ],
    ids=["json-like-flow", "untouched", "edited"],
)
def test_a_list_as_a_mapping_key_is_one_error_line(text: str, backend: str) -> None:
    with pytest.raises(InputError, match="as a mapping key"):
        krm.run(text)


def test_a_mapping_as_a_key_passes_untouched_and_is_refused_where_it_must_be_written(backend: str) -> None:
    untouched = "- kind: A\n  metadata:\n    name: a\n  data:\n    {x: 1}: 2\n"
    out, code = run(HEAD + untouched)
    assert code == 0 and untouched in out
    with pytest.raises(InputError, match="complex key"):
        krm.run(HEAD + gpu_item(meta="    labels:\n      {x: 1}: 2\n"))


HUGE = "1" * 5000


@pytest.mark.parametrize(
    "item",
    [
        GPU_ITEM.replace('"1"', HUGE),
        GPU_ITEM.replace('"1"', f'"x"\n      config.kubernetes.io/path: a.yaml\n      config.kubernetes.io/index: {HUGE}'),
        gpu_item(meta=f"    labels:\n      n: {HUGE}\n      h: 0x{'f' * 4000}\n"),
        gpu_item(meta=f"    labels:\n      ? {HUGE}\n      : n\n"),
        "- kind: A\n  metadata:\n    name: a\n  data:\n    n: " + HUGE + "\n",
        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: r\n  spec:\n    replicas: " + HUGE
        + "\n    template:\n      spec:\n        containers:\n        - name: a\n          resources:\n            limits:\n              nvidia.com/gpu: 1\n",
    ],
    ids=["gpu-marker", "file-index", "edited-values", "edited-key", "untouched", "replicas"],
)
def test_a_number_past_pythons_int_string_limit_is_read_as_text(item: str, backend: str) -> None:
    """yaml-rs reads 5 000 digits as an int that Python 3.11 refuses to print; go-yaml reads a string."""
    config = "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: function-input\n  data:\n    gpu.physical: '1'\n"
    out, code = run(HEAD + item + config)
    assert HUGE in out
    if "marker" in item:
        assert code == 1 and "is not a whole number of GPUs" in out


def test_a_huge_config_number_is_a_config_error(backend: str) -> None:
    config = "functionConfig:\n  apiVersion: kfn.ai-gitops.dev/v1alpha1\n  kind: AIPatches\n  metadata:\n    name: p\n  spec:\n    gpu:\n      physical: "
    out, code = run(HEAD + GPU_ITEM + config + HUGE + "\n")
    assert code == 1 and "spec.gpu.physical:" in out


# --- output that must be valid YAML, and accepted by kfn itself ----------------------------------------


@pytest.mark.parametrize("value", ["a\n\n        b", "a\n        #b", "first\n        second"], ids=["blank-line", "hash", "folded"])
def test_a_multi_line_plain_scalar_in_an_edited_item_keeps_its_value(value: str, backend: str) -> None:
    out, _ = run(HEAD + gpu_item(meta=f"    labels:\n      m: {value}\n"))
    expected = yamlio.parse(f"m: {value.replace(chr(10) + '      ', chr(10))}\n")["m"]
    assert yamlio.parse(out)["items"][0]["metadata"]["labels"]["m"] == expected


@pytest.mark.parametrize("length", [1024, 1025, 3000])
@pytest.mark.parametrize("value", ["v", "{a: b}", "[a, b]", "|\n        two\n        lines"], ids=["scalar", "map", "list", "block"])
def test_a_long_key_in_an_edited_item_is_written_as_an_explicit_key(length: int, value: str, backend: str) -> None:
    key = "k" * length
    item = gpu_item(meta=f"    labels:\n      ? {key}\n      : {value}\n")
    out, _ = run(HEAD + item)
    assert (f"? {key}\n" in out) == (length > 1024)


def test_long_keys_are_read_by_kpt(tmp_path: object) -> None:
    kpt = tool("kpt")
    key = "k" * 2000
    text = HEAD + gpu_item(meta=f"    labels:\n      ? {key}\n      : [a, b]\n      ? {key}x\n      : {{a: b}}\n      ? {key}y\n      : v\n")
    out, _ = krm.run(text)
    done = run_tool([kpt, "fn", "eval", "-", "--exec", "/bin/cat", "-o", "stdout"], stdin=out)
    assert done.returncode == 0, done.stderr
    assert f"{key}x" in done.stdout


def test_flow_nesting_inside_deep_block_nesting_is_refused_not_written_past_the_bound(backend: str) -> None:
    """Block output of 64 flow levels at column 200 would pass 256 columns: kfn would refuse its own output."""
    deep = "".join(" " * (6 + 2 * i) + f"k{i}:\n" for i in range(100)) + " " * 206 + "x: " + "[" * 60 + "]" * 60 + "\n"
    with pytest.raises(InputError, match="nest deeper than 256"):
        krm.run(HEAD + gpu_item(meta="    labels:\n" + deep.replace("      k0:\n", "      k0:\n", 1)))
    untouched = "- kind: A\n  metadata:\n    name: a\n  data:\n" + deep.replace(" " * 6, " " * 4, 1)
    out, code = run(HEAD + untouched.replace("      k0", "    k0"))
    assert code == 0


def test_text_that_starts_with_dashes_is_not_indentation(backend: str) -> None:
    line = " " * 250 + "--------x: y\n"
    item = "- kind: A\n  metadata:\n    name: a\n  data:\n" + "".join(" " * (4 + 2 * i) + f"k{i}:\n" for i in range(124)) + line
    out, code = run(HEAD + item)
    assert code == 0 and line in out


# --- closure: kfn's output fed back in ------------------------------------------------------------------


def test_results_are_not_appended_again_when_the_output_is_fed_back(backend: str) -> None:
    text = HEAD + GPU_ITEM.replace('"1"', '"x"') + "results:\n- message: from an earlier function\n  severity: warning\n"
    out, code = run(text)
    again, code_again = krm.run(out)
    assert (again, code_again) == (out, code)
    assert out.count("from an earlier function") == 1 and out.count("is not a whole number") == 1


# --- tags -----------------------------------------------------------------------------------------------

TAGGED = (
    "  data:\n    a: !custom thing\n    b: !!binary aGk=\n    c: !x {k: 1}\n    d: !y [1]\n    e: !!set {p, q}\n"
    "    f: !!binary |\n      aGk=\n    g: !e []\n    h:\n    - !x {a: b}\n    - !z\n    ? !k key\n    : 1\n"
)
WRITTEN = (
    "  data:\n    a: !custom thing\n    b: !!binary aGk=\n    c: !x\n      k: 1\n    d: !y\n      - 1\n    e: !!set\n      p: null\n      q: null\n"
    '    f: !!binary "aGk=\\n"\n    g: !e []\n    h:\n    - !x\n      a: b\n    - !z ""\n    !k key: 1\n'
)


def test_tags_survive_the_whole_parse_path(backend: str) -> None:
    """A directive sends the list to the whole parse: every item is written anew, its tags with it."""
    out, _ = run("%YAML 1.2\n---\n" + HEAD + "- kind: B\n  metadata:\n    name: b\n" + TAGGED)
    assert WRITTEN in out


def test_tags_survive_in_an_edited_item(backend: str) -> None:
    out, _ = run(HEAD + GPU_ITEM + TAGGED.replace("  data:", "  extra:"))
    assert WRITTEN.replace("  data:", "  extra:") in out and "nvidia.com/gpu: 1" in out


def test_a_tagged_container_kfn_edits_keeps_its_tag(backend: str) -> None:
    pvc = "- apiVersion: v1\n  kind: PersistentVolumeClaim\n  metadata:\n    name: p\n    labels: !custom {a: b}\n    annotations:\n      ai-gitops.dev/data-class: models\n"
    out, _ = run(HEAD + pvc)
    assert "    labels: !custom\n      a: b\n      backup.velero.io/backup-tier: GFS\n" in out


def test_an_ip_listed_twice_in_one_field_is_one_result(backend: str) -> None:
    """Found by the oracle: "10.0.0.1,10.0.0.1" gave the same result twice."""
    services = "".join(
        f"- apiVersion: v1\n  kind: Service\n  metadata:\n    name: {name}\n    annotations:\n      lbipam.cilium.io/ips: {ips}\n"
        for name, ips in (("a", "10.0.0.1"), ("b", "10.0.0.1,10.0.0.1"))
    )
    out, code = run(HEAD + services)
    assert code == 1 and out.count("LoadBalancer IP 10.0.0.1 is already used") == 1


# --- numbers: both backends read the same value ---------------------------------------------------------

NUMBERISH = st.text(alphabet="0123456789_.+-eExXoObBfF", min_size=1, max_size=10)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(NUMBERISH)
def test_both_backends_read_a_number_like_plain_scalar_alike(token: str) -> None:
    """yaml-rs (and go-yaml) read 1_000, 0b11, +0x1 as numbers: the exact loader must too."""
    try:
        fast = yaml_rs.loads(f"k: {token}\n", parse_datetime=False)["k"]
    except yaml_rs.YAMLDecodeError:
        return
    exact = pyyaml_core.load(f"k: {token}\n")["k"]
    assert type_name(fast) == type_name(exact) and (fast == exact or fast != fast and exact != exact), (token, fast, exact)


def test_a_long_digit_run_that_is_no_number_is_read_quickly(backend: str) -> None:
    """The number patterns once backtracked for seconds on 5 000 digits followed by a letter."""
    started = time.perf_counter()
    out, _ = run(HEAD + "- kind: A\n  metadata:\n    name: a\n  data:\n    n: " + HUGE + "x\n    m: " + HUGE + ".5x\n")
    assert time.perf_counter() - started < 2 and HUGE + "x" in out


# --- found by the 10 000-case run -----------------------------------------------------------------------


def test_a_block_scalar_at_the_end_of_input_without_a_line_break_keeps_its_value(backend: str) -> None:
    """Written back verbatim, the last item got a line break added: a clipped block scalar there changed."""
    text = HEAD + "- kind: A\n  metadata:\n    name: a\n  data:\n    k: |\n      one\n      two"
    out, _ = run(text)
    assert yamlio.parse(text)["items"][0]["data"]["k"] == "one\ntwo" == yamlio.parse(out)["items"][0]["data"]["k"]
    stream = "kind: A\nmetadata:\n  name: a\ndata:\n  k: |\n    one\n    two"
    assert yamlio.parse(legacy.run(stream, str(kfn_fuzz.LEGACY_CONFIG))[0])["data"]["k"] == "one\ntwo"


def test_a_tab_in_indentation_is_refused_by_both_backends(backend: str) -> None:
    """yaml-rs read a tab-indented line that libyaml and kpt's go-yaml refuse: the exact loader decides."""
    config = "functionConfig:\n  apiVersion: kfn.ai-gitops.dev/v1alpha1\n  kind: AIPatches\n  metadata:\n    \tname: p\n"
    with pytest.raises(InputError, match="invalid YAML"):
        krm.run(HEAD + GPU_ITEM + config)
