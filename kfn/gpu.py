"""The GPU edit: vendor limits, node selector, tolerations and runtime class."""

from __future__ import annotations

from kfn import selectors
from kfn.config import Config
from kfn.draft import Draft


def gpu_count(value: str) -> int:
    """The GPU marker's count; ValueError says why a value is not one."""
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f'"{value}" is not a positive whole number of GPUs')
    return int(value)


def _merge_tolerations(existing: list, wanted: tuple) -> list:
    """Add each wanted toleration whose key+effect is not tolerated yet (existing ones win)."""
    seen = {(t.get("key"), t.get("effect")) for t in existing if isinstance(t, dict)}
    added = [dict(t) for t in wanted if (t.get("key"), t.get("effect")) not in seen]
    return existing + added


def add_gpu(draft: Draft, config: Config) -> None:
    """Set ``<resource>: n`` on the target container; merge selector and tolerations.

    The marker owns the GPU count, so an existing limit for the configured
    resource is replaced. Everything else is merged: node selector keys, a
    toleration with the same key+effect and a runtimeClassName already in the
    manifest win over the vendor defaults.
    """
    gpu = config.gpu
    item = draft.root
    value = selectors.marker(item, selectors.MARKER_GPU)
    target = selectors.target_container(item)
    spec = selectors.pod_spec(item)
    if value is None or target is None or spec is None:
        return
    try:
        count = gpu_count(value)
    except ValueError:
        return  # reported by checks.unknown_markers
    pod = selectors.pod_spec_path(item)
    resources = (*pod, "containers", target[0], "resources")
    draft.own(*resources, "limits")[gpu.resource] = count
    requests = target[1].get("resources", {}).get("requests") if isinstance(target[1].get("resources"), dict) else None
    if isinstance(requests, dict) and gpu.resource in requests:
        draft.own(*resources, "requests")[gpu.resource] = count
    selector = spec.get("nodeSelector") if isinstance(spec.get("nodeSelector"), dict) else {}
    missing = {key: label for key, label in gpu.node_selector.items() if key not in selector}
    if missing:
        draft.own(*pod, "nodeSelector").update(missing)
    tolerations = spec.get("tolerations") if isinstance(spec.get("tolerations"), list) else []
    merged = _merge_tolerations(tolerations, gpu.tolerations)
    if len(merged) != len(tolerations):
        draft.own(*pod)["tolerations"] = merged
    if gpu.runtime_class_name and "runtimeClassName" not in spec:
        draft.own(*pod)["runtimeClassName"] = gpu.runtime_class_name
