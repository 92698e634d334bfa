"""Anti-pattern checks over a list of resources. Pure, no I/O.

Each check takes the resources (plain dicts) and a ``Config`` and returns KRM
result dicts naming the resource and field. ``run`` applies them all and is
what a repo-wide validator calls; ``Checker`` does the same one resource at a
time (``kfn.core.process`` checks each item right after editing it), in one
pass that looks up each resource's kind, pod spec and container resources once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kfn import deprecated, selectors
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
    """A vendor GPU resource, the configured one, or any ``<domain>/gpu`` (a non-string key, ``1: 2``, is none)."""
    return isinstance(name, str) and (name in GPU_RESOURCES or name == config.gpu.resource or name.endswith("/gpu"))


_EMPTY: dict = {}  # a missing or wrong-typed mapping, as the checks read it (never written to)


def _resource_maps(item: dict, spec: dict | None) -> list[tuple[tuple, dict, dict]]:
    """(container path, limits, requests) of every container of a workload (``selectors.all_containers``'s order).

    ``spec``: the item's ``selectors.pod_spec``.
    """
    if spec is None:
        return []
    base = selectors.pod_spec_path(item)
    out = []
    for field in ("initContainers", "containers"):
        found = spec.get(field)
        if not isinstance(found, list):
            continue
        for i, container in enumerate(found):
            if not isinstance(container, dict):
                continue
            resources = container.get("resources")
            if not isinstance(resources, dict):
                resources = _EMPTY
            limits = resources.get("limits")
            requests = resources.get("requests")
            out.append((base + (field, i), limits if isinstance(limits, dict) else _EMPTY, requests if isinstance(requests, dict) else _EMPTY))
    return out


def _bare_gpu_in(item: dict, maps: list, config: Config) -> list[Result]:
    out = []
    for path, limits, requests in maps:
        for field, found in (("limits", limits), ("requests", requests)):
            if "gpu" in found:
                message = f'bare "gpu" is not a Kubernetes resource; use {config.gpu.resource}'
                out.append(result(item, "error", message, path + ("resources", field, "gpu")))
    return out


def bare_gpu(items: list[dict], config: Config) -> list[Result]:
    return [found for item in items for found in _bare_gpu_in(item, _resource_maps(item, selectors.pod_spec(item)), config)]


def _gpu_requests_in(item: dict, maps: list, config: Config) -> list[Result]:
    out = []
    for path, limits, requests in maps:
        for name, wanted in requests.items():
            if is_gpu_resource(name, config) and limits.get(name) != wanted:
                limit = f"its limit {limits[name]}" if name in limits else "no limit"
                message = f"GPU request {name}={wanted} differs from {limit}; GPUs go in limits and requests must equal them"
                out.append(result(item, "error", message, path + ("resources", "requests", name)))
    return out


def gpu_requests_match_limits(items: list[dict], config: Config) -> list[Result]:
    return [found for item in items for found in _gpu_requests_in(item, _resource_maps(item, selectors.pod_spec(item)), config)]


def _under_model_path(mount_path: str) -> bool:
    clean = mount_path.rstrip("/")
    return any(clean == root or clean.startswith(root + "/") for root in MODEL_PATHS)


def _emptydir_in(item: dict, spec: dict | None) -> list[Result]:
    """``spec``: the item's ``selectors.pod_spec``."""
    out = []
    volumes = spec.get("volumes") if spec is not None else None
    # Names are compared as strings only: a list or mapping where a name belongs names nothing.
    scratch = {v["name"] for v in volumes if isinstance(v, dict) and "emptyDir" in v and isinstance(v.get("name"), str)} if isinstance(volumes, list) else set()
    for path, container in selectors.all_containers(item) if scratch else ():
        mounts = container.get("volumeMounts") if isinstance(container.get("volumeMounts"), list) else []
        for i, mount in enumerate(mounts):
            if isinstance(mount, dict) and isinstance(mount.get("name"), str) and mount["name"] in scratch and _under_model_path(str(mount.get("mountPath", ""))):
                message = f'emptyDir volume "{mount["name"]}" holds model data at {mount["mountPath"]}: models are lost on every restart; use a PersistentVolumeClaim'
                out.append(result(item, "error", message, path + ("volumeMounts", i, "mountPath")))
    return out


def emptydir_model_data(items: list[dict], config: Config) -> list[Result]:
    return [found for item in items for found in _emptydir_in(item, selectors.pod_spec(item))]


def _backup_label_in(item: dict, config: Config, use: _DeprecatedUse | None = None) -> list[Result]:
    """The contradicting labels of an item's claims; ``use`` also sees each claim's data class (one walk)."""
    label = config.backup.label
    out = []
    for path, claim, data_class in classified_claims(item):
        if use is not None and data_class in use.tiers:
            use.tier_used(item, path, data_class)
        tier = config.backup.tiers.get(data_class)
        meta = claim.get("metadata") if isinstance(claim.get("metadata"), dict) else {}
        labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
        if tier is not None and label in labels and str(labels[label]) != tier:
            message = f'backup label {label}={labels[label]} contradicts data class "{data_class}", which needs {tier}'
            out.append(result(item, "error", message, path + ("metadata", "labels", label)))
    return out


def backup_label_contradicts_class(items: list[dict], config: Config) -> list[Result]:
    return [found for item in items for found in _backup_label_in(item, config)]


def _pod_gpus(maps: list, resource: str) -> tuple[int, tuple]:
    """GPUs one pod holds (max of the init containers and the sum of the containers)."""
    total, init_peak, where = 0, 0, ()
    for path, limits, _ in maps:
        count = limits.get(resource)
        if not isinstance(count, int) or isinstance(count, bool):
            continue
        where = where or path + ("resources", "limits", resource)
        if path[-2] == "initContainers":
            init_peak = max(init_peak, count)
        else:
            total += count
    return max(total, init_peak), where


class _GpuBudget:
    """The running GPU total over the workloads so far; one error at the first that exceeds the capacity."""

    def __init__(self, config: Config) -> None:
        gpu = config.gpu
        self.gpu = gpu
        self.capacity = gpu.physical * gpu.time_slicing_replicas
        self.used = 0
        self.done = gpu.physical <= 0  # no budget configured, or already reported

    def add(self, item: dict, maps: list) -> list[Result]:
        gpu = self.gpu
        per_pod, where = _pod_gpus(maps, gpu.resource)
        self.used += per_pod * selectors.replicas(item)
        if per_pod and self.used > self.capacity:
            self.done = True
            message = (
                f"GPU budget exceeded: workloads so far ask for {self.used} {gpu.resource} (limits x replicas), "
                f"capacity is physical {gpu.physical} x timeSlicingReplicas {gpu.time_slicing_replicas} = {self.capacity}"
            )
            return [result(item, "error", message, where)]
        return []


def gpu_budget(items: list[dict], config: Config) -> list[Result]:
    budget = _GpuBudget(config)
    for item in items:
        if budget.done:
            break
        found = budget.add(item, _resource_maps(item, selectors.pod_spec(item)))
        if found:
            return found
    return []


def lb_ips(item: dict) -> Iterator[tuple[str, tuple]]:
    """Every LoadBalancer IP a Service asks for, in any of the four forms, with the field it sits in."""
    notes = selectors.annotations(item)
    for name in LB_IP_ANNOTATIONS:
        listed = [ip.strip() for ip in str(notes.get(name, "")).split(",")]
        for ip in dict.fromkeys(listed):  # "10.0.0.1,10.0.0.1" is one IP in one field: one result at most
            if ip:
                yield ip, ("metadata", "annotations", name)
    spec = item.get("spec") if isinstance(item.get("spec"), dict) else {}
    if spec.get("loadBalancerIP"):
        yield str(spec["loadBalancerIP"]).strip(), ("spec", "loadBalancerIP")


def _sharing_key(item: dict) -> str | None:
    notes = selectors.annotations(item)
    return next((f"{name}={notes[name]}" for name in LB_SHARING_ANNOTATIONS if notes.get(name)), None)


class _LoadBalancerIps:
    """The Services seen so far by LoadBalancer IP; an error for each later Service that takes one again."""

    def __init__(self) -> None:
        self.owners: dict[str, tuple[dict, tuple]] = {}

    def add(self, item: dict) -> list[Result]:
        if not selectors.is_service(item):
            return []
        owners = self.owners
        out = []
        meta = selectors.metadata(item)
        me = (meta.get("namespace"), meta.get("name"))
        for ip, path in lb_ips(item):
            first = owners.setdefault(ip, (item, me))
            other, other_id = first
            if other_id == me:
                continue
            key = _sharing_key(item)
            if key is not None and key == _sharing_key(other):
                continue
            other_meta = selectors.metadata(other)
            where = "/".join(str(p) for p in (other_meta.get("namespace"), other_meta.get("name")) if p)
            out.append(result(item, "error", f"LoadBalancer IP {ip} is already used by Service {where}", path))
        return out


def duplicate_lb_ips(items: list[dict], config: Config) -> list[Result]:
    seen = _LoadBalancerIps()
    return [found for item in items for found in seen.add(item)]


def _wrong_kind(item: dict, marker: str, kinds: str) -> Result:
    message = f'{marker} is ignored on a {selectors.kind_of(item)}: it applies to {kinds}'
    return result(item, "warning", message, ("metadata", "annotations", marker))


_WORKLOAD_KINDS_TEXT = ", ".join(selectors.WORKLOAD_KINDS)


def _marker_parsers(config: Config) -> dict[str, Callable[[str], Any]]:
    return {
        selectors.MARKER_GPU: gpu_count,
        selectors.MARKER_PROBES: lambda value: resolve(value, config.probes),
    }


def _unknown_markers_in(item: dict, parsers: dict[str, Callable[[str], Any]]) -> list[Result]:
    out = []
    notes = selectors.annotations(item)
    workload = None  # is_workload(item), looked up once it is needed
    for marker, parse in parsers.items():
        value = selectors.marker_in(notes, marker)
        if value is None:
            continue
        if workload is None:
            workload = selectors.is_workload(item)
        if not workload:
            out.append(_wrong_kind(item, marker, _WORKLOAD_KINDS_TEXT))
            continue
        try:
            parse(value)
        except ValueError as err:
            out.append(result(item, "error", f"{marker}: {err}", ("metadata", "annotations", marker)))
    container = selectors.marker_in(notes, selectors.MARKER_CONTAINER)
    if container is not None and selectors.is_workload(item) and selectors.target_container(item) is None:
        names = ", ".join(str(c.get("name")) for c in selectors.containers(selectors.pod_spec(item) or {}))
        message = f'{selectors.MARKER_CONTAINER}: "{container}" names no container (have: {names})'
        out.append(result(item, "error", message, ("metadata", "annotations", selectors.MARKER_CONTAINER)))
    out.extend(_unknown_data_classes(item, notes))
    return out


def unknown_markers(items: list[dict], config: Config) -> list[Result]:
    """Marker values kfn cannot act on: an error each, so typos never pass silently."""
    parsers = _marker_parsers(config)
    return [found for item in items for found in _unknown_markers_in(item, parsers)]


def _unknown_data_classes(item: dict, notes: dict | None = None) -> list[Result]:
    """The data-class marker on a PVC, a StatefulSet or one of its claim templates.

    ``notes``: the item's annotations, when the caller has them already.
    """
    marker = selectors.MARKER_DATA_CLASS
    value = selectors.marker_in(selectors.annotations(item) if notes is None else notes, marker)
    if value is not None and selectors.kind_of(item) not in _CLAIM_HOLDERS:
        return [_wrong_kind(item, marker, "PersistentVolumeClaim, StatefulSet")]
    out = []
    if value is not None and value not in DATA_CLASSES:
        out.append(_unknown_data_class(item, value, ()))
    for i, claim in selectors.claim_templates_at(item):
        value = selectors.marker(claim, marker)
        if value is not None and value not in DATA_CLASSES:
            out.append(_unknown_data_class(item, value, ("spec", "volumeClaimTemplates", i)))
    return out


def _unknown_data_class(item: dict, value: str, path: tuple) -> Result:
    message = f'{selectors.MARKER_DATA_CLASS}: "{value}" is not one of {", ".join(DATA_CLASSES)}'
    return result(item, "error", message, path + ("metadata", "annotations", selectors.MARKER_DATA_CLASS))


def config_warnings(items: list[dict], config: Config) -> list[Result]:
    """The warnings about the functionConfig itself (deprecated forms in it), whatever the items."""
    return [dict(found) for found in config.warnings]


class _DeprecatedUse:
    """One warning per deprecated default (``kfn.deprecated``) the items use, at the first item using it.

    Whether kfn added the default to that item or an earlier run did does not matter: the same input
    and kfn's own output give the same warnings (a second run reports what the first did).

    Once each default the config leaves to kfn has been reported (or none is left), ``done``.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.profiles = set(config.defaulted.profiles)
        self.tiers = set(config.defaulted.tiers)
        self.node_selector = config.defaulted.node_selector
        self.found: list[Result] = []

    @property
    def done(self) -> bool:
        return not (self.profiles or self.tiers or self.node_selector)

    def workload(self, item: dict, notes: dict) -> None:
        """A workload's probes and GPU markers (``notes``: its annotations)."""
        profile = selectors.marker_in(notes, selectors.MARKER_PROBES) if self.profiles else None
        if profile in self.profiles and selectors.is_workload(item):
            self.profiles.discard(profile)
            self.found.append(result(item, "warning", deprecated.profile_message(profile), ("metadata", "annotations", selectors.MARKER_PROBES)))
        count = selectors.marker_in(notes, selectors.MARKER_GPU) if self.node_selector else None
        if count is not None and _is_gpu_count(count) and selectors.is_workload(item):
            self.node_selector = False
            gpu = self.config.gpu
            message = deprecated.node_selector_message(gpu.vendor, gpu.resource, gpu.node_selector)
            self.found.append(result(item, "warning", message, (*selectors.pod_spec_path(item), "nodeSelector")))

    def tier_used(self, item: dict, path: tuple, data_class: str) -> None:
        """A claim of ``data_class`` (one of ``tiers``) at ``path`` in ``item``."""
        self.tiers.discard(data_class)
        message = deprecated.tier_message(data_class, self.config.backup.tiers[data_class])
        self.found.append(result(item, "warning", message, path + ("metadata", "annotations", selectors.MARKER_DATA_CLASS)))


def _is_gpu_count(value: str) -> bool:
    try:
        gpu_count(value)
    except ValueError:
        return False
    return True


def deprecated_defaults(items: list[dict], config: Config) -> list[Result]:
    """A warning for each deprecated default the items rely on (a built-in profile, tier or node selector)."""
    use = _DeprecatedUse(config)
    for item in items:
        if use.done:
            break
        kind = selectors.kind_of(item)
        if kind in _WORKLOADS:
            use.workload(item, selectors.annotations(item))
        if kind in _CLAIM_HOLDERS and use.tiers:
            _backup_label_in(item, config, use)
    return use.found


_WORKLOADS = frozenset(selectors.WORKLOAD_KINDS)
_CLAIM_HOLDERS = frozenset(("PersistentVolumeClaim", "StatefulSet"))

# Each check with the kinds it looks at (None: any kind), in the order of their
# results. ``Checker`` runs them all in one pass and hands each check only those kinds
# (tests/kfn/test_kfn_api.py holds it to running each of these over its subset).
CHECKS: tuple[tuple[Callable[[list[dict], Config], list[Result]], frozenset | None], ...] = (
    (config_warnings, None),
    (unknown_markers, None),
    (bare_gpu, _WORKLOADS),
    (gpu_requests_match_limits, _WORKLOADS),
    (emptydir_model_data, _WORKLOADS),
    (backup_label_contradicts_class, _CLAIM_HOLDERS),
    (gpu_budget, _WORKLOADS),
    (duplicate_lb_ips, frozenset(("Service",))),
    (deprecated_defaults, _WORKLOADS | _CLAIM_HOLDERS),
)


class Checker:
    """Every check of ``CHECKS``, one resource at a time: ``add`` each resource in order, then ``results``.

    The results are those of ``run`` on the same resources, in the same order
    (by check, then by resource): each resource's kind, pod spec and container
    resources are looked up once for all checks instead of once per check.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self._parsers = _marker_parsers(config)
        self._budget = _GpuBudget(config)
        self._lb_ips = _LoadBalancerIps()
        self._deprecated_use = _DeprecatedUse(config)
        # One list per entry of CHECKS, in its order.
        self._unknown: list[Result] = []
        self._bare: list[Result] = []
        self._requests: list[Result] = []
        self._emptydir: list[Result] = []
        self._backup: list[Result] = []
        self._over_budget: list[Result] = []
        self._duplicate_ips: list[Result] = []

    def add(self, item: Any) -> None:
        """Check one resource (kfn skips what ``selectors.is_skipped`` names, rule 5)."""
        if not isinstance(item, dict) or selectors.is_skipped(item):
            return
        config = self.config
        kind = selectors.kind_of(item)
        use = self._deprecated_use
        if selectors.has_markers(item, selectors.ALL_MARKERS):
            self._unknown += _unknown_markers_in(item, self._parsers)
            if kind in _WORKLOADS and (use.profiles or use.node_selector):
                use.workload(item, selectors.annotations(item))
        if kind in _WORKLOADS:
            spec = selectors.pod_spec(item)
            maps = _resource_maps(item, spec)
            if maps:
                self._bare += _bare_gpu_in(item, maps, config)
                self._requests += _gpu_requests_in(item, maps, config)
                self._emptydir += _emptydir_in(item, spec)
            if not self._budget.done:
                self._over_budget += self._budget.add(item, maps)
        if kind in _CLAIM_HOLDERS:
            self._backup += _backup_label_in(item, config, use if use.tiers else None)
        if kind == "Service":
            self._duplicate_ips += self._lb_ips.add(item)

    def results(self) -> list[Result]:
        return (
            config_warnings([], self.config) + self._unknown + self._bare + self._requests + self._emptydir
            + self._backup + self._over_budget + self._duplicate_ips + self._deprecated_use.found
        )


def run(items: list[dict], config: Config) -> list[Result]:
    """Every check over every resource kfn does not skip (rule 5), in a fixed order."""
    checker = Checker(config)
    for item in items:
        checker.add(item)
    return checker.results()
