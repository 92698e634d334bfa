"""Anti-pattern checks over a list of resources. Pure, no I/O.

Each check takes the resources (plain dicts) and a ``Config`` and returns KRM
result dicts naming the resource and field. ``run`` applies them all and is
what ``kfn.core.process`` and a repo-wide validator call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kfn import selectors
from kfn.backup import classified_claims
from kfn.config import DATA_CLASSES, VENDORS, Config
from kfn.gpu import gpu_count
from kfn.probes import resolve
from kfn.results import result

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from typing import Any

    Result = dict[str, Any]

MODEL_PATHS = ("/root/.ollama", "/models", "/root/.cache")
GPU_RESOURCES = frozenset(name for vendor in VENDORS.values() for name in vendor["resources"])

# Service fields that pin a LoadBalancer IP (comma lists allowed in annotations).
LB_IP_ANNOTATIONS = (
    "lbipam.cilium.io/ips",
    "io.cilium/lb-ipam-ips",
    "metallb.io/loadBalancerIPs",
    "metallb.universe.tf/loadBalancerIPs",
)
# Services that declare the same value here may share an IP on purpose.
LB_SHARING_ANNOTATIONS = ("lbipam.cilium.io/sharing-key", "metallb.io/allow-shared-ip", "metallb.universe.tf/allow-shared-ip")


def is_gpu_resource(name: str, config: Config) -> bool:
    """A vendor GPU resource, the configured one, or any ``<domain>/gpu``."""
    return name in GPU_RESOURCES or name == config.gpu.resource or name.endswith("/gpu")


def _resource_maps(item: dict) -> Iterator[tuple[tuple, dict, dict]]:
    """(container path, limits, requests) of every container of a workload."""
    for path, container in selectors.all_containers(item):
        resources = container.get("resources") if isinstance(container.get("resources"), dict) else {}
        limits = resources.get("limits") if isinstance(resources.get("limits"), dict) else {}
        requests = resources.get("requests") if isinstance(resources.get("requests"), dict) else {}
        yield path, limits, requests


def bare_gpu(items: list[dict], config: Config) -> list[Result]:
    out = []
    for item in items:
        for path, limits, requests in _resource_maps(item):
            for field, found in (("limits", limits), ("requests", requests)):
                if "gpu" in found:
                    message = f'bare "gpu" is not a Kubernetes resource; use {config.gpu.resource}'
                    out.append(result(item, "error", message, path + ("resources", field, "gpu")))
    return out


def gpu_requests_match_limits(items: list[dict], config: Config) -> list[Result]:
    out = []
    for item in items:
        for path, limits, requests in _resource_maps(item):
            for name, wanted in requests.items():
                if is_gpu_resource(name, config) and limits.get(name) != wanted:
                    limit = f"its limit {limits[name]}" if name in limits else "no limit"
                    message = f"GPU request {name}={wanted} differs from {limit}; GPUs go in limits and requests must equal them"
                    out.append(result(item, "error", message, path + ("resources", "requests", name)))
    return out


def _under_model_path(mount_path: str) -> bool:
    clean = mount_path.rstrip("/")
    return any(clean == root or clean.startswith(root + "/") for root in MODEL_PATHS)


def emptydir_model_data(items: list[dict], config: Config) -> list[Result]:
    out = []
    for item in items:
        spec = selectors.pod_spec(item)
        volumes = spec.get("volumes") if spec is not None else None
        scratch = {v.get("name") for v in volumes if isinstance(v, dict) and "emptyDir" in v} if isinstance(volumes, list) else set()
        for path, container in selectors.all_containers(item) if scratch else ():
            mounts = container.get("volumeMounts") if isinstance(container.get("volumeMounts"), list) else []
            for i, mount in enumerate(mounts):
                if isinstance(mount, dict) and mount.get("name") in scratch and _under_model_path(str(mount.get("mountPath", ""))):
                    message = f'emptyDir volume "{mount["name"]}" holds model data at {mount["mountPath"]}: models are lost on every restart; use a PersistentVolumeClaim'
                    out.append(result(item, "error", message, path + ("volumeMounts", i, "mountPath")))
    return out


def backup_label_contradicts_class(items: list[dict], config: Config) -> list[Result]:
    label = config.backup.label
    out = []
    for item in items:
        for path, claim, data_class in classified_claims(item):
            tier = config.backup.tiers.get(data_class)
            meta = claim.get("metadata") if isinstance(claim.get("metadata"), dict) else {}
            labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
            if tier is not None and label in labels and str(labels[label]) != tier:
                message = f'backup label {label}={labels[label]} contradicts data class "{data_class}", which needs {tier}'
                out.append(result(item, "error", message, path + ("metadata", "labels", label)))
    return out


def _pod_gpus(item: dict, resource: str) -> tuple[int, tuple]:
    """GPUs one pod holds (max of the init containers and the sum of the containers)."""
    total, init_peak, where = 0, 0, ()
    for path, limits, _ in _resource_maps(item):
        count = limits.get(resource)
        if not isinstance(count, int) or isinstance(count, bool):
            continue
        where = where or path + ("resources", "limits", resource)
        if path[-2] == "initContainers":
            init_peak = max(init_peak, count)
        else:
            total += count
    return max(total, init_peak), where


def gpu_budget(items: list[dict], config: Config) -> list[Result]:
    gpu = config.gpu
    if gpu.physical <= 0:
        return []
    capacity = gpu.physical * gpu.time_slicing_replicas
    used = 0
    for item in items:
        per_pod, where = _pod_gpus(item, gpu.resource)
        used += per_pod * selectors.replicas(item)
        if per_pod and used > capacity:
            message = (
                f"GPU budget exceeded: workloads so far ask for {used} {gpu.resource} (limits x replicas), "
                f"capacity is physical {gpu.physical} x timeSlicingReplicas {gpu.time_slicing_replicas} = {capacity}"
            )
            return [result(item, "error", message, where)]
    return []


def lb_ips(item: dict) -> Iterator[tuple[str, tuple]]:
    """Every LoadBalancer IP a Service asks for, in any of the four forms, with the field it sits in."""
    notes = selectors.annotations(item)
    for name in LB_IP_ANNOTATIONS:
        for ip in str(notes.get(name, "")).split(","):
            if ip.strip():
                yield ip.strip(), ("metadata", "annotations", name)
    spec = item.get("spec") if isinstance(item.get("spec"), dict) else {}
    if spec.get("loadBalancerIP"):
        yield str(spec["loadBalancerIP"]).strip(), ("spec", "loadBalancerIP")


def _sharing_key(item: dict) -> str | None:
    notes = selectors.annotations(item)
    return next((f"{name}={notes[name]}" for name in LB_SHARING_ANNOTATIONS if notes.get(name)), None)


def duplicate_lb_ips(items: list[dict], config: Config) -> list[Result]:
    owners: dict[str, tuple[dict, tuple]] = {}
    out = []
    for item in items:
        if not selectors.is_service(item):
            continue
        meta = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
        me = (meta.get("namespace"), meta.get("name"))
        for ip, path in lb_ips(item):
            first = owners.setdefault(ip, (item, me))
            other, other_id = first
            if other_id == me:
                continue
            key = _sharing_key(item)
            if key is not None and key == _sharing_key(other):
                continue
            other_meta = other.get("metadata", {})
            where = "/".join(str(p) for p in (other_meta.get("namespace"), other_meta.get("name")) if p)
            out.append(result(item, "error", f"LoadBalancer IP {ip} is already used by Service {where}", path))
    return out


def _wrong_kind(item: dict, marker: str, kinds: str) -> Result:
    message = f'{marker} is ignored on a {selectors.kind_of(item)}: it applies to {kinds}'
    return result(item, "warning", message, ("metadata", "annotations", marker))


def unknown_markers(items: list[dict], config: Config) -> list[Result]:
    """Marker values kfn cannot act on: an error each, so typos never pass silently."""
    out = []
    workload_kinds = ", ".join(selectors.WORKLOAD_KINDS)
    parsers: dict[str, Callable[[str], Any]] = {
        selectors.MARKER_GPU: gpu_count,
        selectors.MARKER_PROBES: lambda value: resolve(value, config.probes),
    }
    for item in items:
        for marker, parse in parsers.items():
            value = selectors.marker(item, marker)
            if value is None:
                continue
            if not selectors.is_workload(item):
                out.append(_wrong_kind(item, marker, workload_kinds))
                continue
            try:
                parse(value)
            except ValueError as err:
                out.append(result(item, "error", f"{marker}: {err}", ("metadata", "annotations", marker)))
        container = selectors.marker(item, selectors.MARKER_CONTAINER)
        if container is not None and selectors.is_workload(item) and selectors.target_container(item) is None:
            names = ", ".join(str(c.get("name")) for c in selectors.containers(selectors.pod_spec(item) or {}))
            message = f'{selectors.MARKER_CONTAINER}: "{container}" names no container (have: {names})'
            out.append(result(item, "error", message, ("metadata", "annotations", selectors.MARKER_CONTAINER)))
        out.extend(_unknown_data_classes(item))
    return out


def _unknown_data_classes(item: dict) -> list[Result]:
    """The data-class marker on a PVC, a StatefulSet or one of its claim templates."""
    marker = selectors.MARKER_DATA_CLASS
    if selectors.marker(item, marker) is not None and not (selectors.is_pvc(item) or selectors.kind_of(item) == "StatefulSet"):
        return [_wrong_kind(item, marker, "PersistentVolumeClaim, StatefulSet")]
    holders = [((), item)] + [(("spec", "volumeClaimTemplates", i), c) for i, c in selectors.claim_templates_at(item)]
    out = []
    for path, holder in holders:
        value = selectors.marker(holder, marker)
        if value is not None and value not in DATA_CLASSES:
            message = f'{marker}: "{value}" is not one of {", ".join(DATA_CLASSES)}'
            out.append(result(item, "error", message, path + ("metadata", "annotations", marker)))
    return out


_WORKLOADS = frozenset(selectors.WORKLOAD_KINDS)
_CLAIM_HOLDERS = frozenset(("PersistentVolumeClaim", "StatefulSet"))

# Each check with the kinds it looks at (None: any kind), so one pass can hand
# every check only the resources it needs.
CHECKS: tuple[tuple[Callable[[list[dict], Config], list[Result]], frozenset | None], ...] = (
    (unknown_markers, None),
    (bare_gpu, _WORKLOADS),
    (gpu_requests_match_limits, _WORKLOADS),
    (emptydir_model_data, _WORKLOADS),
    (backup_label_contradicts_class, _CLAIM_HOLDERS),
    (gpu_budget, _WORKLOADS),
    (duplicate_lb_ips, frozenset(("Service",))),
)


def run(items: list[dict], config: Config) -> list[Result]:
    """Every check over every resource kfn does not skip (rule 5), in a fixed order."""
    considered = [item for item in items if isinstance(item, dict) and not selectors.is_skipped(item)]
    subsets: dict[frozenset | None, list[dict]] = {}  # checks that look at the same kinds share one pass
    out = []
    for check, kinds in CHECKS:
        subset = subsets.get(kinds)
        if subset is None:
            if kinds is None:
                subset = [item for item in considered if selectors.has_markers(item, selectors.ALL_MARKERS)]
            else:
                subset = [item for item in considered if selectors.kind_of(item) in kinds]
            subsets[kinds] = subset
        out.extend(check(subset, config))
    return out
