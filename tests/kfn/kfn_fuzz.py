"""A bounded random-ResourceList fuzzer for kfn: ``make fuzz SEED=1 CASES=10000``.

Each case is a ResourceList (sometimes a legacy stream) built from pieces that
have broken kfn before: YAML 1.1 traps, tags, anchors and ``*.log`` in block
scalars, C1 and tab-led strings, wrong-typed fields, odd marker numbers, CRLF,
a BOM, quoted keys, JSON with surrogate pairs, alias bombs, deep nesting, bad
configs, upstream results; a share is then cut or spliced at random bytes.
Every case runs in-process with both YAML backends, and every ``cli_every``-th
through the real ``kfn`` command (and its output through ``kpt``). Problems:

- crash: an exception other than KfnError (a traceback), or a traceback / more
  than one stderr line / stdout on exit 2 from the command;
- wrong: output that is not valid YAML 1.2 (both parsers, printable characters
  only), not a ResourceList, an untouched item changed (value or source bytes),
  upstream results dropped, the backends disagreeing, the command's output
  differing from the in-process one, or kpt failing to read it;
- hang: a case over the per-case time limit.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]  # the checkout's kfn (and kfn_shapes) when run as a script

import kfn_shapes  # noqa: E402
import yaml_rs  # noqa: E402

from kfn import cli, core, wire, yamlio  # noqa: E402
from kfn.config import parse_config  # noqa: E402
from kfn.errors import ConfigError, KfnError  # noqa: E402
from kfn.yamlio import has_anchors  # noqa: E402

BACKENDS = ("yaml-rs", "pyyaml")
# The config file a legacy-mode case names (KRM mode ignores the argument).
LEGACY_CONFIG = HERE.parents[1] / "kfn" / "examples" / "ai" / "aipatches.yaml"
# Outside YAML 1.2's printable set: what no output may hold raw.
NOT_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")

# --- generating cases ------------------------------------------------------------

TRAP_SCALARS = [
    "yes", "on", "0777", "0o17", "1_000", "2024-01-01", "12:30:00", "~", "1e3", "+1", ".5", "!!str 0777",
    "!!str yes", "!!float 1", "!custom thing", '"a\\x85b"', '"\\u0080\\ufffe"', '"\\tled by a tab"',
    '"tab\\tinside"', '"\\ud83d\\ude00"', "'it''s'", '"\\x1b[0m"', '"\\N\\L\\P"', "é ✓", "null", "",
]
BLOCK_SCALARS = [
    "|\n      *.log\n      &amp; stays\n      - not: an item\n",
    ">-\n      folded *text\n      &anchor-looking\n",
    "|+\n      keep\n\n",
    "|2\n        indented\n",
]


def _scalar(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return rng.choice(BLOCK_SCALARS).rstrip("\n")
    return rng.choice(TRAP_SCALARS)


def _data(rng: random.Random) -> str:
    lines = ["  data:"]
    for i in range(rng.randint(1, 4)):
        lines.append(f"    k{i}: {_scalar(rng)}")
    if rng.random() < 0.2:
        lines += ["    base: &base", "      a: 1", "    copy: *base"]
    return "\n".join(lines)


def _marker(rng: random.Random) -> str:
    return rng.choice(['"1"', "2", '"0"', '"64"', '"65"', '"٣"', '"²"', '"99999999999999999999"', '" 1"', "one", "1.0", "-1", "{}"])


def _deployment(rng: random.Random, i: int) -> str:
    annotations = [f"      ai-gitops.dev/gpu: {_marker(rng)}"] if rng.random() < 0.7 else []
    if rng.random() < 0.5:
        annotations.append("      ai-gitops.dev/probes: " + rng.choice(["ollama", "http:8080/x", "tcp:70000", "nope", "http:0"]))
    if rng.random() < 0.2:
        annotations.append("      ai-gitops.dev/container: " + rng.choice(["app", "missing"]))
    pod = ["    template:", "      spec:"]
    if rng.random() < 0.2:
        pod.append("        tolerations: " + rng.choice(["{}", '"x"', "[]", "\n        - key: a\n          effect: NoSchedule"]))
    if rng.random() < 0.2:
        pod.append("        nodeSelector: " + rng.choice(["[]", '"x"', "{a: b}"]))
    container = ["        containers:", "        - name: app", "          image: x:1"]
    if rng.random() < 0.3:
        container.append("          resources: " + rng.choice(['"x"', "{}", "{limits: []}", "{requests: {nvidia.com/gpu: 1}}", "{limits: {gpu: 1}}"]))
    if rng.random() < 0.2:
        container.append("          env:\n          - name: E\n            value: " + _scalar(rng).replace("\n", "\n    "))
    meta = [f"  name: d{i}", "  namespace: ai"]
    if rng.random() < 0.15:
        meta.append("  labels: " + rng.choice(['"x"', "[]", "null", "{a: b}"]))
    if annotations:
        meta += ["  annotations:"] + [a[2:] for a in annotations]
    return "\n".join(["apiVersion: apps/v1", "kind: " + rng.choice(["Deployment", "StatefulSet", "CronJob", "Pod"]), "metadata:", *meta, "spec:", *pod, *container])


def _pvc(rng: random.Random, i: int) -> str:
    labels = "  labels: " + rng.choice(['"x"', "[]", "{a: b}", "{backup.velero.io/backup-tier: Weekly}"]) if rng.random() < 0.3 else None
    meta = ["metadata:", f"  name: p{i}"] + ([labels] if labels else [])
    if rng.random() < 0.7:
        meta += ["  annotations:", "    ai-gitops.dev/data-class: " + rng.choice(["models", "data", "cache", "junk", '"0"'])]
    return "\n".join(["apiVersion: v1", "kind: PersistentVolumeClaim", *meta, "spec:", "  accessModes: [ReadWriteOnce]"])


def _configmap(rng: random.Random, i: int) -> str:
    head = ["apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: c{i}"]
    if rng.random() < 0.2:
        head += ["  annotations:", '    config.kubernetes.io/index: "' + rng.choice(["0", "²", "12", "-1"]) + '"']
    return "\n".join(head) + "\n" + _data(rng)


def _other(rng: random.Random, i: int) -> str:
    return rng.choice([
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\n  annotations:\n    lbipam.cilium.io/ips: 10.0.0.{i % 3}\nspec:\n  type: LoadBalancer",
        f"apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: k{i}\n  # a comment",
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: enc{i}\n  annotations:\n    ai-gitops.dev/gpu: '1'\nsops:\n  mac: x",
        f"kind: Thing\nmetadata: {{name: flow{i}, annotations: {{ai-gitops.dev/gpu: '1'}}}}",
        f'"apiVersion": v1\n"kind": ConfigMap\n"metadata":\n  "name": q{i}',
    ])


def _confused(rng: random.Random, i: int) -> str:
    """A resource that uses every path kfn reads, with values or keys swapped for other YAML types."""
    doc = kfn_shapes.drop_some(rng, kfn_shapes.base(rng, i), rng.choice([0.0, 0.1, 0.3]))
    return kfn_shapes.render(kfn_shapes.confuse(rng, doc, rng.choice([0, 1, 1, 2, 3])))


ITEMS: tuple[Callable[[random.Random, int], str], ...] = (_deployment, _pvc, _configmap, _other, _confused, _confused)


def _config(rng: random.Random) -> str | None:
    """One of CONFIGS, or a full config (AIPatches or ConfigMap) with type confusion."""
    if rng.random() < 0.7:
        return rng.choice(CONFIGS)
    doc = kfn_shapes.AIPATCHES if rng.random() < 0.7 else kfn_shapes.CONFIG_MAP_INPUT
    return kfn_shapes.render(kfn_shapes.confuse(rng, kfn_shapes.drop_some(rng, doc, 0.2), rng.choice([0, 1, 1, 2])))

CONFIGS = [
    None,
    "apiVersion: kfn.ai-gitops.dev/v1alpha1\nkind: AIPatches\nmetadata:\n  name: p\nspec:\n  gpu:\n    vendor: amd",
    "apiVersion: kfn.ai-gitops.dev/v1alpha1\nkind: AIPatches\nmetadata:\n  name: p\nspec:\n  gpu:\n    physical: 2\n    timeSlicingReplicas: 2",
    "apiVersion: kfn.ai-gitops.dev/v1alpha1\nkind: AIPatches\nmetadata:\n  name: p\nspec:\n  gpu:\n    vendor: nvidea",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: function-input\ndata:\n  gpu.physical: '٣'",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: function-input\ndata:\n  gpu.timeSlicingReplicas: '99999999999999999999999'",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: function-input\ndata:\n  gpu.vendor: intel",
    "[]",
]


def _indent(text: str, pad: str) -> str:
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def _items(rng: random.Random) -> list[str]:
    return [rng.choice(ITEMS)(rng, i) for i in range(rng.randint(0, 6))]


def stream(rng: random.Random) -> str:
    """A legacy-plugin input: documents separated by ``---``, sometimes with comments and a leading marker."""
    docs = _items(rng) or ["kind: A\nmetadata: {name: a}"]
    return ("---\n" if rng.random() < 0.3 else "") + "".join(d + "\n" + rng.choice(["---\n", "--- # next\n", "# c\n---\n"]) for d in docs)


def resource_list(rng: random.Random) -> str:
    items = _items(rng)
    if rng.random() < 0.05:  # an alias bomb in one item
        items.append("kind: Bomb\nmetadata:\n  name: b\ndata:\n  a: &a [x,x,x,x,x,x,x,x,x]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                     "  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]")
    if rng.random() < 0.03:
        depth = rng.choice([60, 70, 300])
        items.append("kind: Deep\nmetadata:\n  name: deep\ndata:\n  x: " + "[" * depth + "]" * depth)
    style = rng.choice(["compact", "indented", "compact"])
    pad = "  " if style == "indented" else ""
    body = "".join(_indent("- " + _indent(item, "  ")[2:], pad) + "\n" for item in items)
    header = rng.choice(["config.kubernetes.io/v1", "config.kubernetes.io/v1beta1"])
    text = f"apiVersion: {header}\nkind: ResourceList\nitems:{' []' if not items else ''}\n{body}"
    config = _config(rng)
    if config is not None:
        text += "functionConfig:\n" + _indent(config, "  ") + "\n"
    if rng.random() < 0.15:
        text += "results:\n- message: from an earlier function\n  severity: warning\n"
    return text


def _as_json(rng: random.Random, text: str) -> str:
    """The same list as JSON, with \\u escapes (surrogate pairs included) where non-ASCII."""
    os.environ["KFN_YAML"] = "pyyaml"  # the same case whichever backend the last case left set
    try:
        doc = yamlio.parse(text)
        return json.dumps(doc, ensure_ascii=rng.random() < 0.7, indent=rng.choice([None, 2]), default=str)
    except (KfnError, ValueError, TypeError):  # not YAML; an int past the int-string limit; a complex key
        return text


def _mutate(rng: random.Random, text: str) -> str:
    """Random byte-level damage: cut, duplicate or swap a slice, or insert an odd character."""
    if not text:
        return text
    a = rng.randrange(len(text))
    b = min(len(text), a + rng.randint(1, 40))
    choice = rng.randrange(4)
    if choice == 0:
        return text[:a] + text[b:]
    if choice == 1:
        return text[:b] + text[a:b] + text[b:]
    if choice == 2:
        return text[:a] + rng.choice(["\t", "\x85", "\u2028", "*", "&x ", "!!", "'", '"', "{", "- ", "\n  ", "\r", "\ufeff", "%"]) + text[a:]
    lines = text.split("\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def make_case(rng: random.Random) -> str:
    text = stream(rng) if rng.random() < 0.1 else resource_list(rng)
    roll = rng.random()
    if roll < 0.08:
        text = _as_json(rng, text)
    elif roll < 0.14:
        text = text.replace("\n", "\r\n")
    elif roll < 0.18:
        text = "\ufeff" + text
    elif roll < 0.22:
        text = "---\n" + text
    elif roll < 0.25:
        text = text.replace("\nkind: ResourceList", '\n"kind": "ResourceList"')
    if rng.random() < 0.2:
        text = _mutate(rng, text)
    return text


# --- checking a case ---------------------------------------------------------------


class Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def in_process(text: str, backend: str, timeout: float) -> tuple[str, str, int]:
    """("ok" | "error" | "crash" | "hang", stdout or message, exit code) for one backend."""
    os.environ["KFN_YAML"] = backend
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        out, _, code = cli._run([str(LEGACY_CONFIG)], text)
        return "ok", out, code
    except KfnError as err:
        return "error", str(err), 2
    except Hang:
        return "hang", "", -1
    except Exception as err:  # noqa: BLE001 - the point: any other exception is a finding
        return "crash", f"{type(err).__name__}: {err}", -1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _untouched_problems(text: str, out: str) -> list[str]:
    """Items kfn did not edit must come out equal in value, and byte for byte when the input was cut."""
    os.environ["KFN_YAML"] = "pyyaml"
    source = wire.read_resource_list(text)
    try:
        config = parse_config(source.function_config)
    except ConfigError:
        config = None
    got = wire.read_resource_list(out)
    problems = []
    if len(got.items) != len(source.items):
        return [f"{len(source.items)} items in, {len(got.items)} out"]
    if got.results[: len(source.results)] != source.results:
        problems.append("upstream results not carried through")
    cut = wire.read_resource_list(text)
    for i, item in enumerate(source.items):
        edited = config is not None and core.patch(item, config)[0] is not item
        if not edited and tagged(got.items[i]) != tagged(item):
            problems.append(f"untouched item {i} changed")
        if not edited and cut.chunks is not None and cut.chunks[i] not in out:
            problems.append(f"untouched item {i} not written back byte for byte")
    return problems


def tagged(value: object) -> object:
    """``value`` with the tags the exact loader keeps made visible to ``==`` (a lost tag is a change)."""
    tag = getattr(value, "tag", None)
    if isinstance(value, float) and value != value:
        return "NaN"  # equal to itself here, unlike float("nan")
    if isinstance(value, dict):
        value = {k: tagged(v) for k, v in value.items()}
    elif isinstance(value, list):
        value = [tagged(v) for v in value]
    return value if tag is None else (tag, value)


def _unreadable(out: str, read: Callable[[str], object]) -> list[str]:
    """Raw non-printables in an output, or a backend whose ``read`` of it fails."""
    bad = NOT_PRINTABLE.search(out)
    if bad:
        return [f"raw U+{ord(bad.group()):04X} in the output"]
    for backend in BACKENDS:
        os.environ["KFN_YAML"] = backend
        try:
            read(out)
        except KfnError as err:
            return [f"output does not parse ({backend}): {err}"]
    return []


def _yaml_rs_reads(text: str) -> bool:
    try:
        yaml_rs.loads(text, parse_datetime=False)
    except (yaml_rs.YAMLDecodeError, TypeError, ValueError):
        return False
    return True


def _same_meaning(a: str, b: str) -> bool:
    """Two outputs that read the same with the exact loader (tags and NaN included)."""
    os.environ["KFN_YAML"] = "pyyaml"
    read = yamlio.parse if wire.looks_like_resource_list(a) else yamlio.parse_all  # a ResourceList or a stream
    try:
        return tagged(read(a)) == tagged(read(b))
    except KfnError:
        return False


def output_problems(text: str, out: str) -> list[str]:
    """What is wrong with a successful output (empty when nothing)."""
    try:  # a YAML 1.2 reader on its own, then kfn's reading (anchor names are per item, as in kpt's files)
        yaml_rs.loads(out, parse_datetime=False)
    except yaml_rs.YAMLDecodeError as err:
        # yaml-rs refuses a redefined anchor, which YAML 1.2 allows, and some tags libyaml takes (!!-):
        # then the input was refused too, and the items that hold them came out verbatim.
        if not has_anchors(out) and _yaml_rs_reads(text):
            return [f"output does not parse (yaml-rs): {err}"]
    problems = _unreadable(out, wire.read_resource_list)
    if problems:
        return problems
    if "\n\t" in out or re.search(r"[|>][-+0-9]*\n\s*\t", out):
        return ["a tab-led line in a block scalar"]
    return _untouched_problems(text, out)


def _with_config(out: str, config: object) -> str:
    """``out`` with ``config`` as its functionConfig (kfn's output carries none), as a caller sends it again."""
    if config is None:
        return out
    if not config or not isinstance(config, (dict, list)):
        return out + f"functionConfig: {yamlio.dump(config).removeprefix('--- ')}"
    return out + "functionConfig:\n" + _indent(yamlio.dump(config), "  ")


def closure_problems(text: str, out: str, code: int) -> list[str]:
    """kfn's output fed back with the same config must be accepted and come out the same (items and results)."""
    if wire.looks_like_resource_list(text):
        os.environ["KFN_YAML"] = "pyyaml"  # the config as the exact loader reads it, tags and long numbers kept
        try:
            again = _with_config(out, wire.read_resource_list(text).function_config)
        except KfnError:
            return []  # a config that cannot be written back in block style (a complex key): nothing to feed back
        finally:
            os.environ["KFN_YAML"] = BACKENDS[0]
        try:
            out_again, _, code_again = cli._run([], again)
        except KfnError as err:
            return [f"closure: kfn refuses its own output: {err}"]
    else:
        try:
            out_again, _, code_again = cli._run([str(LEGACY_CONFIG)], out)
        except KfnError as err:
            return [f"closure: kfn refuses its own output stream: {err}"]
    if code_again != code:
        return [f"closure: exit {code} then {code_again} on the output"]
    if out_again != out:
        return [f"closure: a second run changes the output: {_first_difference(out, out_again)}"]
    return []


def _first_difference(a: str, b: str) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"at {at}: {a[max(0, at - 80):at + 80]!r} / {b[max(0, at - 80):at + 80]!r}"


def stream_problems(out: str) -> list[str]:
    """What is wrong with a legacy-mode output stream (empty when nothing)."""
    return _unreadable(out, wire.read_stream)


def command(text: str, backend: str, timeout: float) -> subprocess.CompletedProcess | None:
    kfn = Path(sys.executable).parent / "kfn"
    try:
        return subprocess.run([str(kfn), str(LEGACY_CONFIG)], input=text.encode("utf-8", "surrogatepass"), capture_output=True,
                              env={**os.environ, "KFN_YAML": backend}, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def kpt_reads(out: str, timeout: float) -> str | None:
    """None when kpt reads the output back (through a no-op function), else why not."""
    try:
        done = subprocess.run(["kpt", "fn", "eval", "-", "--exec", "/bin/cat", "-o", "stdout"], input=out.encode(),
                              capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"kpt: {err}"
    return None if done.returncode == 0 else "kpt cannot read the output: " + done.stderr.decode()[-300:]


def check(text: str, timeout: float, through_cli: bool) -> list[tuple[str, str]]:
    """(class, detail) for every problem of one case: class is crash, wrong or hang."""
    outcomes = {backend: in_process(text, backend, timeout) for backend in BACKENDS}
    problems = [(kind if kind != "hang" else "hang", f"{backend}: {detail}")
                for backend, (kind, detail, _) in outcomes.items() if kind in ("crash", "hang")]
    if problems:
        return problems
    (kind_a, out_a, code_a), (kind_b, out_b, code_b) = outcomes.values()
    # Same bytes, but for the one documented exception (kfn/README.md, "How the YAML is handled"): a plain
    # key of an edited item that kfn would quote (0777:, yes:, a::) comes out canonical from yaml-rs.
    if (kind_a, code_a) != (kind_b, code_b) or (kind_a == "ok" and out_a != out_b and not _same_meaning(out_a, out_b)):
        return [("wrong", f"backends disagree: yaml-rs {kind_a} {code_a} {out_a[:200]!r} / pyyaml {kind_b} {code_b} {out_b[:200]!r}")]
    if kind_a == "ok":  # closure, on one backend (they agree): the output fed back changes nothing
        os.environ["KFN_YAML"] = BACKENDS[0]
        try:
            problems += [("wrong", p) for p in closure_problems(text, out_a, code_a)]
        except Exception as err:  # noqa: BLE001 - a crash on kfn's own output
            problems.append(("crash", f"closure: {type(err).__name__}: {err}"))
    if kind_a == "ok" and not wire.looks_like_resource_list(text):
        problems += [("wrong", p) for p in stream_problems(out_a)]
    if kind_a == "ok" and wire.looks_like_resource_list(text):
        try:
            problems += [("wrong", p) for p in output_problems(text, out_a)]
        except KfnError as err:
            problems.append(("wrong", f"checking the output: {err}"))
    if through_cli:
        for backend in BACKENDS:
            done = command(text, backend, timeout * 4)
            if done is None:
                problems.append(("hang", f"kfn command ({backend})"))
                continue
            stderr = done.stderr.decode("utf-8", "replace")
            if "Traceback" in stderr or done.returncode not in (0, 1, 2):
                problems.append(("crash", f"kfn command ({backend}) exit {done.returncode}: {stderr[-300:]}"))
            elif done.returncode == 2 and (done.stdout or len(stderr.splitlines()) != 1 or not stderr.startswith("kfn: ")):
                problems.append(("wrong", f"kfn command ({backend}): exit 2 must be one kfn: line and no stdout: {stderr[:200]!r}"))
            elif done.returncode != 2 and done.stdout.decode() != out_a:
                problems.append(("wrong", f"kfn command ({backend}) output differs from in-process"))
        if kind_a == "ok" and wire.looks_like_resource_list(text) and kpt_reads(text, timeout * 10) is None:
            why = kpt_reads(out_a, timeout * 10)
            if why:
                problems.append(("wrong", why))
    return problems


def run(seed: int, cases: int, *, cli_every: int = 10, timeout: float = 5.0, report: Callable[[str], None] = print) -> dict[str, int]:
    """Run ``cases`` cases from ``seed``; returns the counts and reports each problem."""
    rng = random.Random(seed)
    counts = {"cases": 0, "through kfn": 0, "crash": 0, "wrong": 0, "hang": 0}
    saved = os.environ.get("KFN_YAML")
    try:
        for n in range(cases):
            text = make_case(rng)
            through_cli = cli_every > 0 and n % cli_every == 0
            counts["cases"] += 1
            counts["through kfn"] += through_cli
            for kind, detail in check(text, timeout, through_cli):
                counts[kind] += 1
                report(f"case {n} ({kind}): {detail}\n  input: {text[:2000]!r}")
    finally:
        if saved is None:
            os.environ.pop("KFN_YAML", None)
        else:
            os.environ["KFN_YAML"] = saved
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--cli-every", type=int, default=10, help="every N-th case also through the kfn command and kpt")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per case and backend")
    args = parser.parse_args()
    started = time.perf_counter()
    counts = run(args.seed, args.cases, cli_every=args.cli_every, timeout=args.timeout)
    print(f"fuzz seed={args.seed}: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" ({time.perf_counter() - started:.0f} s)")
    return 1 if counts["crash"] or counts["wrong"] or counts["hang"] else 0


if __name__ == "__main__":
    sys.exit(main())
