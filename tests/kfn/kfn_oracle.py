"""A semantic oracle for kfn: ``make oracle SEED=1 CASES=10000``.

An independent model of the edits and checks kfn/README.md documents, written from the README
and not from kfn's code: the vendor defaults, the probe profiles and the tier defaults are read
from the README's own tables, everything else is the README's prose turned into code. Random
valid workloads (and configs) go through kfn (``kfn.krm.run``, in-process); kfn's parsed output
items must equal the model's, and kfn's results must be the model's findings (by check,
severity and resource; the README does not fix the wording or the field path syntax).
"""

from __future__ import annotations

import argparse
import copy
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]  # the checkout's kfn (and kfn_shapes) when run as a script

import kfn_shapes  # noqa: E402

from kfn import krm, yamlio  # noqa: E402

README = HERE.parents[1] / "kfn" / "README.md"
GPU, CONTAINER, CLASS, PROBES = (kfn_shapes.MARKERS[k] for k in ("gpu", "container", "class", "probes"))
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")  # the markers table
MODEL_PATHS = ("/root/.ollama", "/models", "/root/.cache")
LB_IPS = ("lbipam.cilium.io/ips", "io.cilium/lb-ipam-ips", "metallb.io/loadBalancerIPs", "metallb.universe.tf/loadBalancerIPs")
SHARING = ("lbipam.cilium.io/sharing-key", "metallb.io/allow-shared-ip")
CLASSES = ("models", "data", "cache")


# --- what the README's tables say -------------------------------------------------------------


def _table(heading: str) -> list[list[str]]:
    """The rows (cells without backquotes) of the first table after ``heading``."""
    text = README.read_text().split(heading, 1)[1]
    rows = []
    for line in text.split("\n"):
        if line.startswith("|"):
            cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
            if not set(cells[0]) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header


def vendor_defaults() -> dict[str, dict]:
    """vendor -> {resources, nodeSelector} from "Vendor defaults and their sources"."""
    out = {}
    for vendor, resource, selector, *_ in _table("### Vendor defaults and their sources"):
        resources = re.findall(r"[\w.-]+/[\w.-]+", resource)
        label = re.match(r'([\w./-]+): "([^"]*)"', selector)
        out[vendor] = {"resources": resources, "nodeSelector": {label.group(1): label.group(2)} if label else {}}
    return out


def probe_profiles() -> dict[str, dict]:
    """profile -> {port, protocol, startup, liveness, readiness (path, failureThreshold)} from the deprecated built-ins."""
    out = {}
    for name, port, startup, liveness, readiness, budget in _table("#### Deprecated built-in profiles"):
        if not port.isdigit():
            continue  # the generic forms
        minutes = int(re.match(r"(\d+) min", budget).group(1))
        tcp = startup == "TCP"
        out[name] = {
            "port": int(port), "protocol": "tcp" if tcp else "http",
            "startup": _spec(None if tcp else startup, minutes * 6), "liveness": _spec(None if tcp else liveness, 3),
            "readiness": _spec(None if tcp else readiness, 3),
        }
    return out


def _spec(path: str | None, threshold: int) -> dict:
    return {"path": path or "/", "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": threshold}


def tier_defaults() -> dict[str, str]:
    row = next(r for r in _table("## Configuration reference") if r[0].startswith("spec.backup.tiers"))
    return dict(zip(CLASSES, re.findall(r"`(\w+)`", row[1])))


VENDORS = vendor_defaults()
PROFILES = probe_profiles()
TIERS = tier_defaults()


# --- the model --------------------------------------------------------------------------------


def model_config(spec: dict) -> dict:
    """The README's configuration reference applied to an AIPatches spec (valid by construction)."""
    gpu, backup = spec.get("gpu", {}), spec.get("backup", {})
    vendor = gpu.get("vendor", "nvidia")
    resource = gpu.get("resource") or VENDORS[vendor]["resources"][0]
    profiles = copy.deepcopy(PROFILES)
    config_warnings = 0
    for name, override in spec.get("probes", {}).items():
        profiles[name] = _override(override, profiles.get(name))
        # README checks table: an entry that takes fields from a built-in, and a path on a TCP profile.
        if name in PROFILES and ("port" not in override or _override(override, None) != profiles[name]):
            config_warnings += 1
        if profiles[name]["protocol"] == "tcp":
            config_warnings += sum("path" in override.get(kind, {}) for kind in ("startup", "liveness", "readiness"))
    selector_unset = "nodeSelector" not in gpu
    return {
        "resource": resource,
        # Configuration reference: unset is the (deprecated) vendor default, {} none.
        "nodeSelector": VENDORS[vendor]["nodeSelector"] if selector_unset else gpu["nodeSelector"],
        # What the deprecated defaults fill in, for the "deprecated default used" warnings.
        "pending": {"profiles": set(PROFILES) - set(spec.get("probes", {})), "tiers": set(CLASSES) - set(backup.get("tiers", {})),
                    "selector": selector_unset and bool(VENDORS[vendor]["nodeSelector"])},
        "config_warnings": config_warnings,
        "tolerations": gpu.get("tolerations") or [{"key": resource, "operator": "Exists", "effect": "NoSchedule"}],
        "runtimeClassName": gpu.get("runtimeClassName", ""),
        "capacity": gpu.get("physical", 0) * gpu.get("timeSlicingReplicas", 1),
        "label": backup.get("label", "backup.velero.io/backup-tier"),
        "tiers": {**TIERS, **backup.get("tiers", {})},
        "profiles": profiles,
    }


def _override(override: dict, base: dict | None) -> dict:
    """A spec.probes entry over a built-in profile (or over the defaults of the configuration reference)."""
    base = copy.deepcopy(base) or {"port": override["port"], "protocol": "http",
                                   "startup": _spec("/", 30), "liveness": _spec("/", 3), "readiness": _spec("/", 3)}
    base["port"] = override.get("port", base["port"])
    base["protocol"] = override.get("protocol", base["protocol"])
    for kind in ("startup", "liveness", "readiness"):
        base[kind].update(override.get(kind, {}))
    return base


def _pod(item: dict) -> dict | None:
    if item["kind"] == "Pod":
        return item.get("spec")
    spec = item.get("spec", {})
    if item["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {}).get("spec") if item["kind"] in WORKLOADS else None


def _gpu_count(value: str) -> int | None:
    """README: a positive whole number of ASCII digits, at most 64."""
    return int(value) if re.fullmatch(r"[0-9]+", value) and 1 <= int(value) <= 64 else None


def _profile(value: str, config: dict) -> dict | None:
    if value in config["profiles"]:
        return config["profiles"][value]
    generic = re.fullmatch(r"http:([0-9]+)(/\S*)?|tcp:([0-9]+)", value)
    port = int(generic.group(1) or generic.group(3)) if generic else 0
    if not 1 <= port <= 65535:
        return None
    path = generic.group(2) or "/"
    return {"port": port, "protocol": "tcp" if generic.group(3) else "http",
            "startup": _spec(path, 30), "liveness": _spec(path, 3), "readiness": _spec(path, 3)}


def _probe(profile: dict, kind: str) -> dict:
    spec = profile[kind]
    action = {"tcpSocket": {"port": profile["port"]}} if profile["protocol"] == "tcp" else {"httpGet": {"path": spec["path"], "port": profile["port"]}}
    return {**action, "periodSeconds": spec["periodSeconds"], "timeoutSeconds": spec["timeoutSeconds"], "failureThreshold": spec["failureThreshold"]}


def _target(item: dict, pod: dict) -> dict | None:
    wanted = item["metadata"].get("annotations", {}).get(CONTAINER)
    return next((c for c in pod.get("containers", []) if wanted is None or c.get("name") == wanted), None)


def skipped(item: dict) -> bool:
    """README: items kfn never edits nor checks (of the kinds generated here)."""
    return item["metadata"].get("annotations", {}).get("config.kubernetes.io/local-config") == "true" or "sops" in item


def mistyped(item: dict, config: dict) -> bool:
    """README "How the YAML is handled": an edit never replaces a field of the wrong type; the item stays as it is.
    (Generated here: PVC labels, and a pod's tolerations or nodeSelector, where the GPU edit writes.)"""
    if item["kind"] == "PersistentVolumeClaim":
        labels = item["metadata"].get("labels", {})
        return not isinstance(labels, dict) and item["metadata"].get("annotations", {}).get(CLASS) in CLASSES
    pod = _pod(item)
    notes = item["metadata"].get("annotations", {})
    if pod is None or _target(item, pod) is None or _gpu_count(notes.get(GPU, "")) is None:
        return False
    return not isinstance(pod.get("tolerations", []), list) or not isinstance(pod.get("nodeSelector", {}), dict)


def edit(item: dict, config: dict) -> dict:
    """The README's markers table and merge rules, on a copy."""
    if skipped(item) or mistyped(item, config):
        return item
    item = copy.deepcopy(item)
    notes = item["metadata"].get("annotations", {})
    pod = _pod(item)
    target = _target(item, pod) if pod is not None else None
    count = _gpu_count(notes[GPU]) if GPU in notes else None
    if target is not None and count is not None:
        resources = target.setdefault("resources", {})
        resources.setdefault("limits", {})[config["resource"]] = count
        if config["resource"] in resources.get("requests", {}):
            resources["requests"][config["resource"]] = count
        for key, value in config["nodeSelector"].items():
            pod.setdefault("nodeSelector", {}).setdefault(key, value)
        for toleration in config["tolerations"]:
            if not any((t.get("key"), t.get("effect")) == (toleration.get("key"), toleration.get("effect")) for t in pod.get("tolerations", [])):
                pod.setdefault("tolerations", []).append(dict(toleration))
        if config["runtimeClassName"]:
            pod.setdefault("runtimeClassName", config["runtimeClassName"])
    profile = _profile(notes[PROBES], config) if PROBES in notes and target is not None else None
    if profile is not None:
        for kind in ("startup", "liveness", "readiness"):
            target.setdefault(kind + "Probe", _probe(profile, kind))
    for claim, data_class in _classified(item):
        labels = claim.setdefault("metadata", {}).setdefault("labels", {})
        if data_class in CLASSES:
            labels.setdefault(config["label"], config["tiers"][data_class])
        if not labels:
            del claim["metadata"]["labels"]
    return item


def _classified(item: dict) -> list[tuple[dict, str]]:
    """(claim, data class) for a PVC or each claim template of a StatefulSet (its own marker wins)."""
    outer = item["metadata"].get("annotations", {}).get(CLASS)
    if item["kind"] == "PersistentVolumeClaim":
        return [(item, outer)] if outer is not None else []
    if item["kind"] != "StatefulSet":
        return []
    found = []
    for claim in item["spec"].get("volumeClaimTemplates", []):
        own = claim.get("metadata", {}).get("annotations", {}).get(CLASS)
        value = outer if own is None else own  # its own marker wins, an empty or unknown one too
        if value is not None:
            found.append((claim, value))
    return found


def _containers(pod: dict) -> list[dict]:
    return pod.get("initContainers", []) + pod.get("containers", [])


def _is_gpu(name: str, config: dict) -> bool:
    return name.endswith("/gpu") or name.startswith("gpu.intel.com/") or name == config["resource"]


def findings(items: list[dict], config: dict) -> Counter:
    """(check, severity, resource name) of every finding of the README's checks table, on the edited items."""
    found: Counter = Counter()
    used, owners = 0, {}
    pending = copy.deepcopy(config["pending"])
    found["deprecated", "warning", "p"] += config["config_warnings"]
    for item in items:
        if skipped(item):
            continue
        name, kind = item["metadata"]["name"], item["kind"]
        found += deprecated_defaults_used(item, config, pending)
        if mistyped(item, config):
            found["wrong type", "error", name] += 1
        notes = item["metadata"].get("annotations", {})
        pod = _pod(item)
        for marker, valid in ((GPU, lambda v: _gpu_count(v) is not None), (PROBES, lambda v: _profile(v, config) is not None)):
            if marker in notes and pod is None:
                found["wrong kind", "warning", name] += 1
            elif marker in notes and not valid(notes[marker]):
                found["unknown marker", "error", name] += 1
        if CONTAINER in notes and pod is not None and _target(item, pod) is None:
            found["unknown marker", "error", name] += 1
        if CLASS in notes and kind not in ("PersistentVolumeClaim", "StatefulSet"):
            found["wrong kind", "warning", name] += 1
        else:
            values = [notes.get(CLASS)] + [c.get("metadata", {}).get("annotations", {}).get(CLASS) for c in item.get("spec", {}).get("volumeClaimTemplates", [])]
            found["unknown marker", "error", name] += sum(v is not None and v not in CLASSES for v in values)
            for claim, data_class in _classified(item):
                labels = claim.get("metadata", {}).get("labels", {})
                label = labels.get(config["label"]) if isinstance(labels, dict) else None
                if data_class in CLASSES and label is not None and label != config["tiers"][data_class]:
                    found["backup label", "error", name] += 1
        if pod is not None:
            scratch = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
            pod_total, init_peak = 0, 0
            for container in _containers(pod):
                limits = container.get("resources", {}).get("limits", {})
                requests = container.get("resources", {}).get("requests", {})
                found["bare gpu", "error", name] += ("gpu" in limits) + ("gpu" in requests)
                found["requests", "error", name] += sum(_is_gpu(r, config) and limits.get(r) != v for r, v in requests.items())
                for mount in container.get("volumeMounts", []):
                    path = mount["mountPath"].rstrip("/")
                    if mount["name"] in scratch and any(path == root or path.startswith(root + "/") for root in MODEL_PATHS):
                        found["emptyDir", "error", name] += 1
                gpus = limits.get(config["resource"], 0)
                if container in pod.get("initContainers", []):
                    init_peak = max(init_peak, gpus)
                else:
                    pod_total += gpus
            spec = item["spec"].get("jobTemplate", {}).get("spec", {}) if kind == "CronJob" else item["spec"]
            pods = 1 if kind in ("DaemonSet", "Pod") else spec.get("parallelism" if kind in ("Job", "CronJob") else "replicas", 1)
            used += max(pod_total, init_peak) * pods
        if kind == "Service":
            # One finding per IP and field that names it (the field is where the fix goes).
            ips = [(ip.strip(), key) for key in LB_IPS for ip in notes.get(key, "").split(",") if ip.strip()]
            ips += [(item["spec"]["loadBalancerIP"], "spec")] if item["spec"].get("loadBalancerIP") else []
            share = next((f"{k}={notes[k]}" for k in SHARING if notes.get(k)), None)
            for ip, _ in dict.fromkeys(ips):
                owner = owners.setdefault(ip, (name, share))
                if owner[0] != name and (share is None or share != owner[1]):
                    found["duplicate ip", "error", name] += 1
    if config["capacity"] > 0 and used > config["capacity"]:
        found["gpu budget", "error", "*"] += 1
    return +found  # without the zero counts


def deprecated_defaults_used(item: dict, config: dict, pending: dict) -> Counter:
    """README checks table, "deprecated default used": once per run and default, at the first item relying on it."""
    found: Counter = Counter()
    name, notes = item["metadata"]["name"], item["metadata"].get("annotations", {})
    if _pod(item) is not None:
        if notes.get(PROBES) in pending["profiles"]:
            pending["profiles"].discard(notes[PROBES])
            found["deprecated", "warning", name] += 1
        if pending["selector"] and _gpu_count(notes.get(GPU, "")) is not None:
            pending["selector"] = False
            found["deprecated", "warning", name] += 1
    for _, data_class in _classified(item):
        if data_class in pending["tiers"]:
            pending["tiers"].discard(data_class)
            found["deprecated", "warning", name] += 1
    return found


# --- kfn's side -------------------------------------------------------------------------------

_CHECKS = (
    ("deprecated in kfn", "deprecated"), ("probes over TCP", "deprecated"),
    ("is ignored on a", "wrong kind"), ("bare \"gpu\"", "bare gpu"), ("GPU request", "requests"), ("emptyDir volume", "emptyDir"),
    ("backup label", "backup label"), ("GPU budget exceeded", "gpu budget"), ("LoadBalancer IP", "duplicate ip"),
    ("left unchanged", "wrong type"), ("ai-gitops.dev/", "unknown marker"),
)


def kfn_findings(results: list[dict]) -> Counter:
    found: Counter = Counter()
    for r in results:
        message = str(r.get("message"))
        check = next((c for text, c in _CHECKS if text in message), message)
        found[check, r.get("severity"), "*" if check == "gpu budget" else (r.get("resourceRef") or {}).get("name")] += 1
    return found


# --- random valid inputs ----------------------------------------------------------------------


def _resources(rng: random.Random) -> dict:
    names = ["nvidia.com/gpu", "amd.com/gpu", "gpu.intel.com/i915", "gpu.intel.com/xe", "gpu", "cpu", "example.com/gpu"]
    out = {}
    for field in ("limits", "requests"):
        if rng.random() < 0.5:
            out[field] = {n: rng.choice([1, 2]) for n in rng.sample(names, rng.randint(1, 2))}
    return out


def _container(rng: random.Random, name: str, volumes: list[str]) -> dict:
    c: dict[str, Any] = {"name": name, "image": "x:1"}
    if rng.random() < 0.6:
        c["resources"] = _resources(rng)
    if volumes and rng.random() < 0.6:
        paths = ["/models", "/models/x", "/modelsx", "/root/.ollama", "/root/.cache/hf", "/root/.cache/", "/data"]
        c["volumeMounts"] = [{"name": rng.choice(volumes), "mountPath": rng.choice(paths)} for _ in range(rng.randint(1, 2))]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        if rng.random() < 0.2:
            c[probe] = {"tcpSocket": {"port": 1}}
    return c


def _markers(rng: random.Random, containers: list[str], profiles: list[str]) -> dict:
    notes = {}
    if rng.random() < 0.6:
        notes[GPU] = rng.choice(["1", "2", "4", "64", "0", "65", "x", "1.5", "-1", "٣"])
    if rng.random() < 0.5:
        notes[PROBES] = rng.choice([*PROFILES, *profiles, "http:8000/healthz", "http:9000", "tcp:5432", "nope", "http:0", "tcp:70000"])
    if rng.random() < 0.3:
        notes[CONTAINER] = rng.choice([*containers, "missing"])
    if rng.random() < 0.2:
        notes[CLASS] = rng.choice(CLASSES + ("junk",))
    return notes


def workload(rng: random.Random, i: int, profiles: list[str]) -> dict:
    kind = rng.choice(WORKLOADS)
    volumes = [f"v{n}" for n in range(rng.randint(0, 2))]
    names = [f"c{n}" for n in range(rng.randint(1, 3))]
    pod: dict[str, Any] = {"containers": [_container(rng, n, volumes) for n in names]}
    if rng.random() < 0.3:
        pod["initContainers"] = [_container(rng, "init", volumes)]
    if volumes:
        pod["volumes"] = [{"name": v, **({"emptyDir": {}} if rng.random() < 0.5 else {"persistentVolumeClaim": {"claimName": v}})} for v in volumes]
    if rng.random() < 0.3:
        pod["nodeSelector"] = {rng.choice(["nvidia.com/gpu.present", "zone", "intel.feature.node.kubernetes.io/gpu"]): "x"}
    if rng.random() < 0.3:
        pod["tolerations"] = [{"key": rng.choice(["nvidia.com/gpu", "amd.com/gpu", "other"]), "operator": "Exists", "effect": rng.choice(["NoSchedule", "NoExecute"])}]
    if rng.random() < 0.2:
        pod["runtimeClassName"] = "mine"
    template = {"spec": pod}
    count = rng.randint(0, 3)
    spec: dict[str, Any] = {"template": template}
    if kind == "CronJob":
        spec = {"schedule": "* * * * *", "jobTemplate": {"spec": {"parallelism": count, "template": template}}}
    elif kind == "Job":
        spec["parallelism"] = count
    elif kind == "Pod":
        spec = pod
    elif kind != "DaemonSet" and rng.random() < 0.8:
        spec["replicas"] = count
    if kind == "StatefulSet" and rng.random() < 0.7:
        spec["volumeClaimTemplates"] = [_claim_template(rng, n) for n in range(rng.randint(1, 2))]
    meta: dict[str, Any] = {"name": f"w{i}", "namespace": "ai"}
    notes = _markers(rng, names, profiles)
    if notes:
        meta["annotations"] = notes
    api_version = "batch/v1" if kind in ("Job", "CronJob") else "v1" if kind == "Pod" else "apps/v1"
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": spec}


def _claim_template(rng: random.Random, n: int) -> dict:
    meta: dict[str, Any] = {"name": f"t{n}"}
    if rng.random() < 0.4:
        meta["annotations"] = {CLASS: rng.choice(CLASSES + ("junk",))}
    if rng.random() < 0.3:
        meta["labels"] = {"backup.velero.io/backup-tier": rng.choice(["GFS", "Daily"]), "tier": "GFS"}
    return {"metadata": meta, "spec": {"accessModes": ["ReadWriteOnce"]}}


def pvc(rng: random.Random, i: int) -> dict:
    meta: dict[str, Any] = {"name": f"p{i}"}
    if rng.random() < 0.8:
        meta["annotations"] = {CLASS: rng.choice(CLASSES + ("junk",))}
    if rng.random() < 0.3:
        meta["labels"] = {rng.choice(["backup.velero.io/backup-tier", "tier"]): rng.choice(["GFS", "Daily", "Weekly"])}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": {"accessModes": ["ReadWriteOnce"]}}


def service(rng: random.Random, i: int) -> dict:
    notes = {}
    for key in rng.sample(LB_IPS, rng.randint(0, 2)):
        notes[key] = ",".join(f"10.0.0.{rng.randint(1, 4)}" for _ in range(rng.randint(1, 2)))
    if rng.random() < 0.3:
        notes[rng.choice(SHARING)] = rng.choice(["a", "b"])
    if rng.random() < 0.1:
        notes[rng.choice([GPU, PROBES, CLASS])] = "1"
    spec: dict[str, Any] = {"type": "LoadBalancer"}
    if rng.random() < 0.3:
        spec["loadBalancerIP"] = f"10.0.0.{rng.randint(1, 4)}"
    meta: dict[str, Any] = {"name": f"s{i}", "namespace": "ai"}
    if notes:
        meta["annotations"] = notes
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def config_spec(rng: random.Random) -> dict:
    """A valid AIPatches spec with a random share of the fields of the configuration reference."""
    spec: dict[str, Any] = {}
    vendor = rng.choice(list(VENDORS))
    gpu: dict[str, Any] = {"vendor": vendor}
    if rng.random() < 0.3:
        gpu["resource"] = rng.choice(VENDORS[vendor]["resources"])
    if rng.random() < 0.2:
        gpu["nodeSelector"] = {"pool": "gpu", "zone": "x"}
    if rng.random() < 0.2:
        gpu["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
    if rng.random() < 0.2:
        gpu["runtimeClassName"] = "nvidia"
    if rng.random() < 0.4:
        gpu["physical"] = rng.randint(1, 4)
        gpu["timeSlicingReplicas"] = rng.randint(1, 3)
    spec["gpu"] = gpu
    if rng.random() < 0.4:
        spec["backup"] = {"label": rng.choice(["tier", "backup.velero.io/backup-tier"]), "tiers": {c: rng.choice(["GFS", "Daily", "Weekly"]) for c in rng.sample(CLASSES, rng.randint(0, 3))}}
    if rng.random() < 0.3:
        spec["probes"] = {rng.choice(list(PROFILES)): {"port": 7000, "readiness": {"path": "/ready", "failureThreshold": 5}},
                          "mine": {"port": 9000, "protocol": rng.choice(["http", "tcp"]), "startup": {"periodSeconds": 3}}}
    return spec


def skipped_or_mistyped(rng: random.Random, item: dict) -> dict:
    """Sometimes an item kfn must leave alone (local config, SOPS) or one with a field of the wrong type."""
    roll = rng.random()
    if roll < 0.05:
        item["metadata"].setdefault("annotations", {})["config.kubernetes.io/local-config"] = "true"
    elif roll < 0.08:
        item["sops"] = {"mac": "x"}
    elif roll < 0.12 and item["kind"] == "PersistentVolumeClaim":
        item["metadata"]["labels"] = rng.choice(["x", ["a"]])
    elif roll < 0.12 and _pod(item) is not None:
        _pod(item)[rng.choice(["tolerations", "nodeSelector"])] = rng.choice(["x", 1])
    return item


def make_case(rng: random.Random) -> tuple[list[dict], dict, dict | None]:
    """Items, the config spec they are checked against, and the functionConfig that carries it."""
    spec = config_spec(rng) if rng.random() < 0.85 else {}
    profiles = list(spec.get("probes", {}))
    makers: list[Callable[[random.Random, int], dict]] = [lambda r, i: workload(r, i, profiles)] * 3 + [pvc, service]
    items = [skipped_or_mistyped(rng, rng.choice(makers)(rng, i)) for i in range(rng.randint(1, 8))]
    return items, spec, function_config(rng, spec)


def function_config(rng: random.Random, spec: dict) -> dict | None:
    """How a caller sends ``spec`` (README "Configuration reference"): an AIPatches resource, nothing
    for the defaults, or the dotted-key ConfigMap of ``kpt fn eval -- k=v`` when no list or map needs a file."""
    if not spec.get("gpu", {}).get("physical") and spec in ({}, {"gpu": {"vendor": "nvidia"}}) and rng.random() < 0.5:
        return None
    flat = {f"{section}.{key}": value for section in ("gpu", "backup") for key, value in spec.get(section, {}).items()}
    if "probes" not in spec and not any(isinstance(v, (list, dict)) and k != "backup.tiers" for k, v in flat.items()) and rng.random() < 0.4:
        tiers = flat.pop("backup.tiers", {})
        data = {**{k: str(v) for k, v in flat.items()}, **{f"backup.tiers.{c}": t for c, t in tiers.items()}}
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"}, "data": data}
    return {"apiVersion": "kfn.ai-gitops.dev/v1alpha1", "kind": "AIPatches", "metadata": {"name": "p"}, "spec": spec}


def resource_list(items: list[dict], config: dict | None) -> str:
    body = "".join("- " + kfn_shapes.render(item).replace("\n", "\n  ") + "\n" for item in items)
    text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + body
    return text if config is None else text + "functionConfig:\n  " + kfn_shapes.render(config).replace("\n", "\n  ") + "\n"


def check(items: list[dict], spec: dict, sent: dict | None) -> list[str]:
    """How kfn's output differs from the model's (empty when it does not)."""
    config = model_config(spec)
    out, code = krm.run(resource_list(items, sent))
    got = yamlio.parse(out)
    expected = [edit(item, config) for item in items]
    problems = [f"item {i} ({item['kind']} {item['metadata']['name']}): kfn {got['items'][i]!r}\n  model {item!r}"
                for i, item in enumerate(expected) if got["items"][i] != item]
    want, have = findings(expected, config), kfn_findings(got.get("results") or [])
    if want != have:
        problems.append(f"results: model only {dict(want - have)}, kfn only {dict(have - want)}")
    if code != int(any(severity == "error" for _, severity, _ in want)):
        problems.append(f"exit code {code}")
    return problems


def run(seed: int, cases: int, report: Callable[[str], None] = print) -> dict[str, int]:
    rng = random.Random(seed)
    counts = {"cases": 0, "items": 0, "differ": 0}
    for n in range(cases):
        items, spec, sent = make_case(rng)
        counts["cases"] += 1
        counts["items"] += len(items)
        problems = check(items, spec, sent)
        if problems:
            counts["differ"] += 1
            report(f"case {n}: " + "\n  ".join(problems) + f"\n  config: {sent!r}")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", type=int, default=2000)
    args = parser.parse_args()
    started = time.perf_counter()
    counts = run(args.seed, args.cases)
    print(f"oracle seed={args.seed}: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" ({time.perf_counter() - started:.0f} s)")
    return 1 if counts["differ"] else 0


if __name__ == "__main__":
    sys.exit(main())
