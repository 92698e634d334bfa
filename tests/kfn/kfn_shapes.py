"""Resources as Python data, written as YAML by a writer of their own (not kfn's emitter), and
type confusion: any value or key at any position swapped for another YAML type.

Shared by the fuzzer (tests/kfn/kfn_fuzz.py) and the semantic oracle (tests/kfn/kfn_oracle.py).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from typing import Any


class Raw(str):
    """YAML text written as it is: a tag, a number of 5 000 digits, a multi-line plain scalar.
    Continuation lines are indented under the line it starts on."""


class Key(str):
    """A mapping key written as an explicit key (``? key`` / ``: value``): long or complex keys."""


_PLAIN = re.compile(r"[A-Za-z_/][\w./-]*\Z")
_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def scalar_text(v: Any) -> str:
    if isinstance(v, Raw):
        return str(v)
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if _PLAIN.match(v) and v.lower() not in _WORDS:
        return v
    return json.dumps(v)  # a YAML double-quoted scalar (ASCII, escapes for the rest)


def _value(head: str, v: Any, ind: int) -> list[str]:
    if isinstance(v, dict) and v:
        return [head, *_map(v, ind + 2)]
    if isinstance(v, list) and v:
        return [head, *_seq(v, ind + 2)]
    if isinstance(v, dict):
        return [head + " {}"]
    if isinstance(v, list):
        return [head + " []"]
    text = scalar_text(v).replace("\n", "\n" + " " * (ind + 2))
    return [head + " " + text]


def _map(m: dict, ind: int) -> list[str]:
    pad = " " * ind
    lines = []
    for k, v in m.items():
        if isinstance(k, Key):
            lines.append(f"{pad}? " + k.replace("\n", "\n" + pad))
            lines += _value(pad + ":", v, ind)
        else:
            lines += _value(f"{pad}{scalar_text(k)}:", v, ind)
    return lines


def _seq(s: list, ind: int) -> list[str]:
    pad = " " * ind
    lines = []
    for v in s:
        if isinstance(v, dict) and v:
            entry = _map(v, ind + 2)
            lines += [pad + "- " + entry[0][ind + 2 :], *entry[1:]]
        else:
            lines += _value(pad + "-", v, ind)
    return lines


def render(doc: dict) -> str:
    """One resource as block YAML (sequences indented under their key, unlike kyaml)."""
    return "\n".join(_map(doc, 0))


# --- valid resources that use every path kfn reads --------------------------------------------

MARKERS = {"gpu": "ai-gitops.dev/gpu", "probes": "ai-gitops.dev/probes", "container": "ai-gitops.dev/container", "class": "ai-gitops.dev/data-class"}


def _container(name: str) -> dict:
    return {
        "name": name,
        "image": "x:1",
        "resources": {"limits": {"nvidia.com/gpu": 1, "cpu": "1"}, "requests": {"nvidia.com/gpu": 1}},
        "volumeMounts": [{"name": "models", "mountPath": "/models"}, {"name": "cache", "mountPath": "/root/.cache/hf"}],
        "livenessProbe": {"tcpSocket": {"port": 8080}},
    }


def workload(i: int, kind: str) -> dict:
    pod = {
        "nodeSelector": {"zone": "a"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "runtimeClassName": "nvidia",
        "volumes": [{"name": "models", "persistentVolumeClaim": {"claimName": "m"}}, {"name": "cache", "emptyDir": {}}],
        "initContainers": [_container("init")],
        "containers": [_container("app"), _container("side")],
    }
    template = {"metadata": {"labels": {"app": f"w{i}"}}, "spec": pod}
    spec: dict = {"replicas": 2, "template": template}
    if kind == "CronJob":
        spec = {"schedule": "* * * * *", "jobTemplate": {"spec": {"parallelism": 2, "template": template}}}
    elif kind == "Job":
        spec = {"parallelism": 2, "template": template}
    if kind == "StatefulSet":
        spec["volumeClaimTemplates"] = [
            {"metadata": {"name": "data", "annotations": {MARKERS["class"]: "data"}, "labels": {"backup.velero.io/backup-tier": "GFS"}}},
            {"metadata": {"name": "more"}},
        ]
    notes = {MARKERS["gpu"]: "1", MARKERS["probes"]: "ollama", MARKERS["container"]: "app", MARKERS["class"]: "models",
             "config.kubernetes.io/path": f"w{i}.yaml", "config.kubernetes.io/index": "0"}
    meta = {"name": f"w{i}", "namespace": "ai", "labels": {"app": f"w{i}"}, "annotations": notes}
    return {"apiVersion": "batch/v1" if kind in ("Job", "CronJob") else "apps/v1", "kind": kind, "metadata": meta, "spec": spec}


def pvc(i: int) -> dict:
    meta = {"name": f"p{i}", "labels": {"backup.velero.io/backup-tier": "GFS"}, "annotations": {MARKERS["class"]: "models"}}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": {"accessModes": ["ReadWriteOnce"]}}


def service(i: int) -> dict:
    notes = {"lbipam.cilium.io/ips": "10.0.0.1,10.0.0.2", "metallb.io/loadBalancerIPs": "10.0.0.3", "lbipam.cilium.io/sharing-key": "k"}
    meta = {"name": f"s{i}", "namespace": "ai", "annotations": notes}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {"type": "LoadBalancer", "loadBalancerIP": "10.0.0.4"}}


def config_map(i: int) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}, "data": {"k": "v", "n": "1"}}


AIPATCHES = {
    "apiVersion": "kfn.ai-gitops.dev/v1alpha1",
    "kind": "AIPatches",
    "metadata": {"name": "p"},
    "spec": {
        "gpu": {"vendor": "nvidia", "resource": "nvidia.com/gpu", "nodeSelector": {"a": "b"},
                "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
                "runtimeClassName": "nvidia", "physical": 2, "timeSlicingReplicas": 2},
        "backup": {"label": "tier", "tiers": {"models": "GFS", "data": "Daily", "cache": "Weekly"}},
        "probes": {"ollama": {"port": 11434, "protocol": "http", "startup": {"path": "/", "periodSeconds": 5, "timeoutSeconds": 1, "failureThreshold": 3}},
                   "mine": {"port": 9000, "liveness": {"path": "/l"}}},
    },
}
CONFIG_MAP_INPUT = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"},
                    "data": {"gpu.vendor": "amd", "gpu.physical": "1", "backup.tiers.cache": "Weekly", "backup.label": "tier"}}


def base(rng: random.Random, i: int) -> dict:
    maker = rng.choice(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "pvc", "service", "config_map"])
    return {"pvc": pvc, "service": service, "config_map": config_map}.get(maker, lambda n: workload(n, maker))(i)


# --- type confusion -------------------------------------------------------------------------

HUGE = "1" * 5000
REPLACEMENTS: list[Any] = [
    None, "", {}, [], 0, 1, -1, 65, 2.5, True, False, "x", "1", "yes", "nvidia.com/gpu", "/models",
    {"a": "b"}, {"name": "app"}, [1, 2], ["a"], [{"name": "app"}], [[]], [None],
    Raw(HUGE), Raw("-" + HUGE), Raw("0x" + "f" * 4000), Raw(".nan"), Raw("-.inf"), Raw("0777"), Raw("1_000"),
    Raw("!custom thing"), Raw("!!binary aGk="), Raw("!!set {a, b}"), Raw("!x {k: [1]}"), Raw("!y []"),
    Raw("first\nsecond"), Raw("a\n\nb"), Raw("a\n#b"), Raw("x" * 1100), "line\nbreak", "\u0085 \ufeff \x1b",
]
# No YAML 1.1 traps as keys (``0777:``, ``yes:``): in an item kfn edits, the yaml-rs backend writes
# such a key canonically (``777:``, ``"yes":``; the same YAML 1.2 value), see kfn/README.md.
KEY_REPLACEMENTS: list[Any] = [
    1, 0, 2.5, None, "", Key("k" * 1100), Key(HUGE), Key("[a, b]"), Key("{a: 1}"), Key("!custom key"),
    Raw("!!str 1"), Key("first\n  second"),
]


def positions(node: Any, path: tuple = ()) -> Iterator[tuple]:
    """The path of every value (scalar, mapping, list) below ``node``."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield (*path, key)
        yield from positions(child, (*path, key))


def _replace(node: Any, path: tuple, value: Any, as_key: bool) -> Any:
    """A copy of ``node`` with the value (or, ``as_key``, the key) at ``path`` replaced."""
    head, rest = path[0], path[1:]
    if isinstance(node, list):
        out = list(node)
        out[head] = _replace(node[head], rest, value, as_key) if rest else value
        return out
    if not rest and as_key:
        return {(value if k == head else k): v for k, v in node.items()}
    return {k: (_replace(v, rest, value, as_key) if rest else value) if k == head else v for k, v in node.items()}


def confuse(rng: random.Random, doc: dict, count: int) -> dict:
    """``doc`` with ``count`` positions given a value (or key) of another type."""
    for _ in range(count):
        found = list(positions(doc))
        if not found:
            break
        path = rng.choice(found)
        as_key = not isinstance(path[-1], int) and rng.random() < 0.2
        replacement = rng.choice(KEY_REPLACEMENTS if as_key else REPLACEMENTS)
        doc = _replace(doc, path, replacement, as_key)
    return doc


def drop_some(rng: random.Random, node: Any, share: float, top: bool = True) -> Any:
    """A copy with about ``share`` of the mapping entries below the top level left out."""
    if isinstance(node, dict):
        return {k: drop_some(rng, v, share, False) for k, v in node.items() if top or rng.random() >= share}
    if isinstance(node, list):
        return [drop_some(rng, v, share, False) for v in node]
    return node
