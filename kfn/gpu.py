"""The GPU edit: vendor limits, node selector, tolerations and runtime class."""

from __future__ import annotations

from kfn import selectors
from kfn.config import Config
from kfn.draft import Draft
from kfn.numbers import whole_number

# More than any one node holds (8-16 GPUs): a higher count is a typo, not a request.
MAX_GPUS = 64


def gpu_count(value: str) -> int:
    """The GPU marker's count; ValueError says why a value is not one (and, for what kfn 0.1 took, what to write)."""
    count = whole_number(value, 1, MAX_GPUS)
    if count is None:
        raise ValueError(f'"{value}" is not a whole number of GPUs from 1 to {MAX_GPUS}{_since_0_2(value)}')
    return count


def _since_0_2(value: str) -> str:
    """What kfn 0.1 accepted here and 0.2 refuses: digits of other scripts, counts above MAX_GPUS."""
    if len(value) <= 10 and value.isdecimal() and not value.isascii():
        return f' (kfn 0.1 read it as {int(value)}; write "{int(value)}" in ASCII digits)'
    if len(value) <= 10 and value.isascii() and value.isdigit() and int(value) > MAX_GPUS:
        return "; no node holds that many (kfn 0.1 took any count): write the GPUs one pod needs"
    return ""


def _missing_tolerations(existing: list, wanted: tuple) -> list:
    """Each wanted toleration whose key+effect is not tolerated yet (existing ones win)."""
    # A list, not a set: a wrong-typed key or effect (``key: [a]``) is unhashable, and matches nothing.
    seen = [(t.get("key"), t.get("effect")) for t in existing if isinstance(t, dict)]
    return [dict(t) for t in wanted if (t.get("key"), t.get("effect")) not in seen]


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
    if value is None:  # most items: no lookups past the marker
        return
    spec = selectors.pod_spec(item)
    target = selectors.target_container(item, spec)
    if target is None or spec is None:
        return
    try:
        count = gpu_count(value)
    except ValueError:
        return  # reported by checks.unknown_markers
    pod = selectors.pod_spec_path(item)
    at = (*pod, "containers", target[0], "resources")
    resources = draft.own(*at)
    draft.own_child(resources, at, "limits")[gpu.resource] = count
    requests = draft.peek_child(resources, at, "requests")
    if requests is not None and gpu.resource in requests:
        draft.own_child(resources, at, "requests")[gpu.resource] = count
    pod_spec = draft.own(*pod)  # already this draft's (on the path above): a walk, no copy
    selector = draft.peek_child(pod_spec, pod, "nodeSelector") or {}
    missing = {key: label for key, label in gpu.node_selector.items() if key not in selector}
    if missing:
        draft.own_child(pod_spec, pod, "nodeSelector").update(missing)
    tolerations = draft.peek_child(pod_spec, pod, "tolerations", kind=list) or []
    added = _missing_tolerations(tolerations, gpu.tolerations)
    if added:
        draft.own_child(pod_spec, pod, "tolerations", kind=list).extend(added)
    if gpu.runtime_class_name and "runtimeClassName" not in spec:
        pod_spec["runtimeClassName"] = gpu.runtime_class_name
