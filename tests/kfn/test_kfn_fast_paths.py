"""The one-pass paths give what the plain definitions give.

``checks.Checker`` (one pass, used by ``core.process``) against every check of
``checks.CHECKS`` run over its own subset of the list, as ``checks.run`` was
first written; ``core.process`` against patching every item and then
``checks.run``. Inputs: every golden case, the benchmark's workloads, and random
ResourceLists from the fuzzer's generator under each of its configs. And
``Draft.own`` (one walk) against checking the path first and then walking it
again, on random trees and paths. ``scalars.string``'s gate before its
ambiguity regex against the regex alone.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path

import kfn_fuzz
import pytest
import yaml_rs

from bench.workload import resource_list as bench_resource_list
from kfn import checks, core, scalars, selectors, yamlio
from kfn.config import Config, parse_config
from kfn.draft import Draft, FieldTypeError
from kfn.errors import ConfigError

TESTDATA = Path(__file__).resolve().parents[2] / "kfn" / "testdata"
BUDGET = parse_config({"apiVersion": "kfn.ai-gitops.dev/v1alpha1", "kind": "AIPatches", "metadata": {"name": "p"},
                       "spec": {"gpu": {"physical": 2, "timeSlicingReplicas": 2}}})


def reference_checks(items: list, config: Config) -> list:
    """Each check over the resources of the kinds it looks at, in CHECKS order (no shared pass)."""
    considered = [item for item in items if isinstance(item, dict) and not selectors.is_skipped(item)]
    out = []
    for check, kinds in checks.CHECKS:
        if kinds is None:
            subset = [item for item in considered if selectors.has_markers(item, selectors.ALL_MARKERS)]
        else:
            subset = [item for item in considered if selectors.kind_of(item) in kinds]
        out.extend(check(subset, config))
    return out


def reference_process(items: list, config: Config) -> tuple[list, list]:
    patched, results = [], []
    for item in items:
        new, problems = core.patch(item, config)
        patched.append(new)
        results += problems
    return patched, results + reference_checks(patched, config)


def assert_same(items: list, config: Config) -> None:
    assert checks.run(items, config) == reference_checks(items, config)
    got, want = core.process(items, config), reference_process(items, config)
    assert got[1] == want[1]
    assert len(got[0]) == len(want[0])
    assert all((a is b) == (a is item) and a == b for a, b, item in zip(got[0], want[0], items))


def golden_cases() -> list[tuple[list, Config]]:
    cases = []
    for case in sorted(TESTDATA.iterdir()):
        source = case / "input.yaml"
        if not source.exists():
            continue
        try:
            doc = yaml_rs.loads(source.read_text())
        except Exception:  # malformed on purpose (error cases)
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
            continue
        config_file = case / "config.yaml"
        raw = yaml_rs.loads(config_file.read_text()) if config_file.exists() else doc.get("functionConfig")
        try:
            config = parse_config(raw)
        except ConfigError:
            continue
        cases.append((case.name, doc["items"], config))
    return cases


@pytest.mark.parametrize(("name", "items", "config"), golden_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_one_pass_matches_every_check_on_its_own_on_golden_cases(name: str, items: list, config: Config) -> None:
    assert_same(items, config)
    assert_same(items, BUDGET)
    assert_same(items + items, config)  # the same names twice: duplicate IPs, an exceeded budget


def test_one_pass_matches_every_check_on_its_own_on_all_golden_items_at_once() -> None:
    items = [item for _, case_items, _ in golden_cases() for item in case_items]
    found = reference_checks(reference_process(items, Config())[0], Config())
    assert len({r["message"].split(" ")[0] for r in found}) > 5  # several checks report, in one list
    for config in (Config(), BUDGET):
        assert_same(items, config)


@pytest.mark.parametrize("workload", ["realistic", "mixed", "all-edited"])
def test_one_pass_matches_every_check_on_its_own_on_the_bench_workloads(workload: str) -> None:
    items = yaml_rs.loads(bench_resource_list(60, workload=workload))["items"]
    for config in (Config(), BUDGET):
        assert_same(items, config)
        assert_same(items + items, config)


def test_one_pass_matches_every_check_on_its_own_on_random_lists() -> None:
    rng = random.Random(10)
    configs = [Config(), BUDGET]
    for raw in kfn_fuzz.CONFIGS:
        try:
            configs.append(parse_config(yaml_rs.loads(raw) if raw else None))
        except ConfigError:
            pass
    seen = 0
    for _ in range(300):
        try:
            doc = yamlio.parse(kfn_fuzz.resource_list(rng))  # numbers past the int-string limit: as kfn reads them
        except Exception:
            continue
        items = doc.get("items") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            continue
        seen += len(items)
        for config in configs:
            assert_same(items, config)
    assert seen > 300


class TwoWalkDraft(Draft):
    """``Draft.own`` as first written: check the whole path (``peek``), then walk it again copying each step."""

    def own(self, *path: str | int, kind: type = dict) -> object:
        self.peek(*path, kind=kind)
        node = self.root
        for depth, step in enumerate(path):
            child = node[step] if isinstance(node, list) else node.get(step)
            if child is None:
                child = kind() if depth == len(path) - 1 else {}
            elif id(child) not in self._owned:
                child = dict(child) if isinstance(child, dict) else list(child)
            else:
                node = child
                continue
            node[step] = child
            self._owned.add(id(child))
            node = child
        return node


def _outcome(draft: Draft, op: str, path: tuple, kind: type) -> tuple:
    try:
        return ("ok", getattr(draft, op)(*path, kind=kind))
    except FieldTypeError as err:
        return ("type error", err.path, str(err))
    except IndexError:
        return ("index error",)


def _shape(value: object, owned: set) -> object:
    """The structure, with which containers are a draft's own copies."""
    if isinstance(value, dict):
        return ("map", id(value) in owned, {k: _shape(v, owned) for k, v in value.items()})
    if isinstance(value, list):
        return ("list", id(value) in owned, [_shape(v, owned) for v in value])
    return value


def _tree(rng: random.Random, depth: int = 0) -> object:
    """A small random value: scalars, empty and nested lists and mappings."""
    roll = rng.random()
    if depth > 3 or roll < 0.2:
        return rng.choice([None, 1, "x", [], {}])
    if roll < 0.4:
        return [_tree(rng, depth + 1) for _ in range(rng.randint(0, 2))]
    return {key: _tree(rng, depth + 1) for key in rng.sample("abc", rng.randint(0, 3))}


def test_draft_own_in_one_walk_matches_two_walks() -> None:
    rng = random.Random(5)

    for case in range(5000):
        item = {key: _tree(rng) for key in "abc"}
        before = copy.deepcopy(item)
        fast, plain = Draft(item), TwoWalkDraft(item)
        handed_out = []  # what own returned so far: an edit may keep writing to it
        for step in range(rng.randint(1, 6)):
            path = tuple(rng.choice(["a", "b", "c", 0, 1]) for _ in range(rng.randint(0, 4)))
            kind, op = rng.choice([dict, list]), rng.choice(["own", "peek"])
            got, want = _outcome(fast, op, path, kind), _outcome(plain, op, path, kind)
            assert got[0] == want[0] and (got[0] != "type error" or got[1:] == want[1:]), path
            if op == "own" and got[0] == "ok":
                handed_out.append((got[1], want[1]))
            for mine, theirs in handed_out:  # edit every container handed out so far, both the same way
                if isinstance(mine, dict):
                    mine[f"z{step}"] = theirs[f"z{step}"] = case
                else:
                    mine.append(case)
                    theirs.append(case)
            assert _shape(fast.root, fast._owned) == _shape(plain.root, plain._owned)
            assert fast.changed == plain.changed
        assert item == before  # the input is never written to


def test_draft_child_steps_match_whole_paths() -> None:
    """``own_child``/``peek_child`` from an owned container equal ``own``/``peek`` of the whole path."""
    rng = random.Random(6)

    for _ in range(3000):
        item = {key: _tree(rng) for key in "abc"}
        before = copy.deepcopy(item)
        fast, plain = Draft(item), TwoWalkDraft(item)
        at = tuple(rng.choice(["a", "b", "c"]) for _ in range(rng.randint(0, 2)))
        if _outcome(fast, "own", at, dict)[0] != "ok":
            continue
        parent = plain.own(*at)
        key, kind, op = rng.choice("abc"), rng.choice([dict, list]), rng.choice(["own", "peek"])
        try:
            got = ("ok", getattr(fast, op + "_child")(fast.own(*at), at, key, kind=kind))
        except FieldTypeError as err:
            got = ("type error", err.path, str(err))
        want = _outcome(plain, op, (*at, key), kind)
        assert got[0] == want[0] and (got[0] != "type error" or got[1:] == want[1:])
        assert parent == fast.own(*at)
        assert _shape(fast.root, fast._owned) == _shape(plain.root, plain._owned)
        assert item == before


def test_string_gate_keeps_every_ambiguous_string() -> None:
    """Strings ``AMBIGUOUS`` matches pass the length/first-character gate, whatever their case or length."""
    rng = random.Random(7)
    pieces = ["y", "Yes", "nO", "TRUE", "fAlSe", "On", "OFF", "nuLL", "~", "<<", "=", "0", "-1", "+.5", "1_0", "1e3", "0x1F", "0O17",
              "0b1", ".inf", "-.NaN", "_1", "._2", "1e_3", "2024-01-02", "2024-1-2T10:00", "1:20", "a", "\u017f", "\u212a", "s", "-", ".", " ", "x y"]
    for _ in range(20000):
        s = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 3)))
        gated = (len(s) <= 5 or s[0] in scalars._NUMBER_START) and scalars.AMBIGUOUS.match(s)
        assert bool(gated) == bool(scalars.AMBIGUOUS.match(s)), s
