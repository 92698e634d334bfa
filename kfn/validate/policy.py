"""Stage 5, domain policy over everything a cluster applies (both layers together).

kfn checks each overlay while it renders; only here do the layers meet, so only here can we see
a GPU budget spent across layers, a Service IP outside the pool that another layer defines, or a
claim that no Velero Schedule selects.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from kfn import selectors
from kfn.validate.problems import Problem
from kfn.validate.repo import Manifest

STAGE = "policy"
DEFAULT_BACKUP_LABEL = "backup.velero.io/backup-tier"
EXCLUDE_LABEL = "velero.io/exclude-from-backup"
LB_IP_ANNOTATIONS = ("lbipam.cilium.io/ips", "io.cilium/lb-ipam-ips", "metallb.io/loadBalancerIPs")
GPU_RESOURCE_PREFIXES = ("nvidia.com/gpu", "amd.com/gpu", "gpu.intel.com/")
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet")


# --- LoadBalancer addresses ----------------------------------------------------


@dataclass(frozen=True)
class Pool:
    name: str
    text: str      # as written, for messages
    first: int
    last: int

    def __contains__(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return self.first <= int(ip) <= self.last


def address_range(text: str) -> tuple[int, int] | None:
    """A CIDR or ``start-stop`` range as integers; None when it does not parse."""
    try:
        if "-" in text:
            start, stop = (ipaddress.ip_address(p.strip()) for p in text.split("-", 1))
            return int(start), int(stop)
        net = ipaddress.ip_network(text.strip(), strict=False)
        return int(net.network_address), int(net.broadcast_address)
    except ValueError:
        return None


def pools(applied: list[Manifest]) -> list[Pool]:
    found = []
    for m in applied:
        spec = m.doc.get("spec") if isinstance(m.doc.get("spec"), dict) else {}
        texts: list[str] = []
        if m.kind == "CiliumLoadBalancerIPPool" and not spec.get("disabled"):
            for block in spec.get("blocks") or []:
                if isinstance(block, dict):
                    texts.append(block["cidr"] if block.get("cidr") else f"{block.get('start')}-{block.get('stop')}")
        elif m.kind == "IPAddressPool" and m.api_version.startswith("metallb.io/"):
            texts.extend(str(a) for a in spec.get("addresses") or [])
        for text in texts:
            bounds = address_range(str(text))
            if bounds:
                found.append(Pool(m.ident, str(text), *bounds))
    return found


def service_ips(m: Manifest) -> list[tuple[str, str]]:
    """(field, address) for every LoadBalancer address a Service asks for."""
    out = []
    annotations = selectors.annotations(m.doc)
    for key in LB_IP_ANNOTATIONS:
        for ip in str(annotations.get(key) or "").split(","):
            if ip.strip():
                out.append((f"metadata.annotations.{key}", ip.strip()))
    spec = m.doc.get("spec") if isinstance(m.doc.get("spec"), dict) else {}
    if spec.get("loadBalancerIP"):
        out.append(("spec.loadBalancerIP", str(spec["loadBalancerIP"])))
    return out


def check_addresses(applied: list[Manifest]) -> list[Problem]:
    out = []
    available = pools(applied)
    pool_text = ", ".join(f"{p.text} ({p.name})" for p in available) or "none"
    claimed: dict[str, Manifest] = {}
    for m in applied:
        if not selectors.is_service(m.doc):
            continue
        for field, text in service_ips(m):
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                out.append(Problem(m.file, m.ident, field, f"{text!r} is not an IP address", "write one IPv4 address per Service", STAGE))
                continue
            if not any(ip in p for p in available):
                out.append(Problem(m.file, m.ident, field, f"{ip} is outside every LoadBalancer pool ({pool_text}), so it is never assigned", "pick a free address inside the pool, or widen the pool", STAGE))
            other = claimed.setdefault(str(ip), m)
            if other is not m:
                out.append(Problem(m.file, m.ident, field, f"{ip} is also claimed by {other.ident} ({other.file}); only one of them gets it", "give each LoadBalancer Service its own address", STAGE))
    return out


# --- backups -------------------------------------------------------------------


def selector_matches(selector: dict, labels: dict) -> bool:
    """metav1.LabelSelector semantics (an empty selector matches everything)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if str(labels.get(key)) != str(value) or key not in labels:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), [str(v) for v in expr.get("values") or []]
        present = key in labels
        if op == "In" and not (present and str(labels[key]) in values):
            return False
        if op == "NotIn" and present and str(labels[key]) in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def schedule_selects(schedule: Manifest, namespace: str, labels: dict) -> bool:
    """Whether a Velero Schedule's backups include a claim in ``namespace`` with ``labels``."""
    template = ((schedule.doc.get("spec") or {}).get("template") or {})
    if (schedule.doc.get("spec") or {}).get("paused"):
        return False
    included = template.get("includedNamespaces") or []
    if included and "*" not in included and namespace not in included:
        return False
    if namespace in (template.get("excludedNamespaces") or []):
        return False
    resources = [str(r).lower() for r in template.get("includedResources") or template.get("includedNamespaceScopedResources") or []]
    if resources and "*" not in resources and not {"persistentvolumeclaims", "pvc"} & set(resources):
        return False
    excluded = [str(r).lower() for r in template.get("excludedResources") or template.get("excludedNamespaceScopedResources") or []]
    if {"persistentvolumeclaims", "pvc"} & set(excluded):
        return False
    alternatives = template.get("orLabelSelectors")
    if alternatives:
        return any(selector_matches(s or {}, labels) for s in alternatives)
    return selector_matches(template.get("labelSelector") or {}, labels)


def claims(applied: list[Manifest]) -> list[tuple[Manifest, str, dict, str]]:
    """(owner, field, claim metadata, namespace) for every PVC and StatefulSet claim template."""
    out = []
    for m in applied:
        if selectors.is_pvc(m.doc):
            out.append((m, "metadata.labels", m.doc.get("metadata") or {}, m.namespace or "default"))
        elif m.kind == "StatefulSet":
            for i, template in enumerate(selectors.claim_templates(m.doc)):
                out.append((m, f"spec.volumeClaimTemplates[{i}].metadata.labels", template.get("metadata") or {}, m.namespace or "default"))
    return out


def check_backups(applied: list[Manifest], label: str) -> list[Problem]:
    out = []
    schedules = [m for m in applied if m.kind == "Schedule" and m.api_version.startswith("velero.io/")]
    for owner, field, meta, namespace in claims(applied):
        labels = meta.get("labels") or {}
        if str(labels.get(EXCLUDE_LABEL, "")).lower() == "true":
            continue
        tier = labels.get(label)
        if tier is None:
            out.append(Problem(owner.file, owner.ident, f"{field}.{label}", "no backup tier, so no backup will ever include this volume", f'add the ai-gitops.dev/data-class marker (models, data or cache) for kfn and run `make render`, or label it {EXCLUDE_LABEL}: "true" to opt out', STAGE))
        elif not any(schedule_selects(s, namespace, labels) for s in schedules):
            out.append(Problem(owner.file, owner.ident, f"{field}.{label}", f"tier {tier} but no Velero Schedule selects it in namespace {namespace}", f"add a Schedule whose template includes namespace {namespace} and selects {label}: {tier}", STAGE))
    return out


# --- workloads -----------------------------------------------------------------


def uses_gpu(container: dict) -> bool:
    limits = (container.get("resources") or {}).get("limits") or {}
    return any(str(k).startswith(GPU_RESOURCE_PREFIXES) for k in limits)


def check_workloads(applied: list[Manifest]) -> list[Problem]:
    out = []
    for m in applied:
        if not selectors.is_workload(m.doc):
            continue
        base = ".".join(selectors.pod_spec_path(m.doc))
        for container in selectors.containers(selectors.pod_spec(m.doc) or {}):
            where = f"{base}.containers[{container.get('name')}]"
            limits = (container.get("resources") or {}).get("limits") or {}
            for resource in ("cpu", "memory"):
                if resource not in limits:
                    out.append(Problem(m.file, m.ident, f"{where}.resources.limits.{resource}", "no limit, so one runaway pod can starve the node's AI workloads", f"set resources.limits.{resource}", STAGE))
            if m.kind not in LONG_RUNNING:
                continue
            wanted = ["livenessProbe", "readinessProbe"] + (["startupProbe"] if uses_gpu(container) else [])
            for probe in wanted:
                if probe not in container:
                    out.append(Problem(m.file, m.ident, f"{where}.{probe}", "missing: a hung or still-loading model server gets traffic or is never restarted", "add the ai-gitops.dev/probes marker (a kfn profile) and run `make render`, or write the probe", STAGE))
    return out
