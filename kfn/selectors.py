"""Which resources kfn looks at, and where their parts live. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterator

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from typing import Any

GROUP = "kfn.ai-gitops.dev"
CONFIG_KIND = "AIPatches"

MARKER_GPU = "ai-gitops.dev/gpu"
MARKER_CONTAINER = "ai-gitops.dev/container"
MARKER_DATA_CLASS = "ai-gitops.dev/data-class"
MARKER_PROBES = "ai-gitops.dev/probes"
MARKERS = frozenset((MARKER_GPU, MARKER_DATA_CLASS, MARKER_PROBES))
ALL_MARKERS = MARKERS | {MARKER_CONTAINER}
MARKER_PREFIX = "ai-gitops.dev/"

LOCAL_CONFIG = "config.kubernetes.io/local-config"

# Where each workload kind keeps its pod spec. A bare Pod is a workload too: it is edited and checked
# like the others (its GPU counts once in the budget).
POD_SPEC_PATHS = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
WORKLOAD_KINDS = tuple(POD_SPEC_PATHS)

# Kinds kfn leaves alone, with the apiVersion prefix that makes them the tool's own kind.
_SKIPPED_KINDS = {
    "Kptfile": "",
    "Kustomization": "kustomize.config.k8s.io/",
    "Component": "kustomize.config.k8s.io/",
    CONFIG_KIND: GROUP + "/",
}
_NO_ANNOTATIONS: dict = {}  # shared empty result (annotations, metadata): callers only read it


def kind_of(item: dict) -> str:
    """The item's kind, or "" when it is missing or not a string (``kind: [x]`` must not break a lookup)."""
    kind = item.get("kind")
    return kind if isinstance(kind, str) else ""


def metadata(item: dict) -> dict:
    """The item's metadata mapping, or an empty one when it is missing, null or not a mapping."""
    meta = item.get("metadata")
    return meta if isinstance(meta, dict) else _NO_ANNOTATIONS


def annotations(item: dict) -> dict:
    meta = item.get("metadata")
    found = meta.get("annotations") if isinstance(meta, dict) else None
    return found if isinstance(found, dict) else _NO_ANNOTATIONS


def marker(item: dict, name: str) -> str | None:
    """A marker annotation's value as text (annotations are strings; tolerate numbers)."""
    return marker_in(annotations(item), name)


def marker_in(notes: dict, name: str) -> str | None:
    """``marker`` on an item's ``annotations``, for callers that read several markers."""
    value = notes.get(name)
    return None if value is None else str(value).strip()


def is_skipped(item: dict) -> bool:
    """Items kfn never edits nor checks (rule 5)."""
    group = _SKIPPED_KINDS.get(kind_of(item))
    if group is not None and str(item.get("apiVersion", "")).startswith(group):
        return True
    local = annotations(item).get(LOCAL_CONFIG)
    return "sops" in item or (local is not None and str(local).lower() == "true")


def has_markers(item: dict, names: frozenset[str] = MARKERS) -> bool:
    """True for items an edit may change (one of ``names`` set): a cheap test before any copying."""
    if not names.isdisjoint(annotations(item)):
        return True
    return kind_of(item) == "StatefulSet" and any(MARKER_DATA_CLASS in annotations(t) for t in claim_templates(item))


def is_editable(item: dict) -> bool:
    return has_markers(item) and not is_skipped(item)


def is_editable_source(text: str, item: dict) -> bool:
    """``is_editable`` with a free first look at the item's source text."""
    return MARKER_PREFIX in text and is_editable(item)


def is_workload(item: dict) -> bool:
    return kind_of(item) in POD_SPEC_PATHS and pod_spec(item) is not None


def pod_spec_path(item: dict) -> tuple[str, ...]:
    return POD_SPEC_PATHS.get(kind_of(item), ())


def pod_spec(item: dict) -> dict | None:
    path = pod_spec_path(item)
    node: Any = item if path else None
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _mappings_at(found: Any) -> list[tuple[int, dict]]:
    """(index, entry) for each mapping in a list; indices count every entry, so they make paths."""
    return [(i, entry) for i, entry in enumerate(found) if isinstance(entry, dict)] if isinstance(found, list) else []


def containers_at(spec: dict, field: str = "containers") -> list[tuple[int, dict]]:
    return _mappings_at(spec.get(field))


def containers(spec: dict, field: str = "containers") -> list[dict]:
    return [container for _, container in containers_at(spec, field)]


def all_containers(item: dict) -> Iterator[tuple[tuple, dict]]:
    """Every container and init container with its path inside the item."""
    spec = pod_spec(item)
    if spec is None:
        return
    for field in ("initContainers", "containers"):
        for i, container in containers_at(spec, field):
            yield pod_spec_path(item) + (field, i), container


_SPEC_UNKNOWN = object()


def target_container(item: dict, spec: Any = _SPEC_UNKNOWN) -> tuple[int, dict] | None:
    """The container markers apply to: the one named by the container marker, else the first.

    ``spec``: the item's ``pod_spec``, when the caller has it already.
    """
    if spec is _SPEC_UNKNOWN:
        spec = pod_spec(item)
    listed = spec.get("containers") if spec is not None else None
    if not isinstance(listed, list):
        return None
    wanted = marker(item, MARKER_CONTAINER)
    for i, container in enumerate(listed):  # as containers_at: the mappings, indexed among all entries
        if isinstance(container, dict) and (wanted is None or container.get("name") == wanted):
            return i, container
    return None


def claim_templates_at(item: dict) -> list[tuple[int, dict]]:
    spec = item.get("spec")
    return _mappings_at(spec.get("volumeClaimTemplates") if isinstance(spec, dict) else None)


def claim_templates(item: dict) -> list[dict]:
    return [claim for _, claim in claim_templates_at(item)]


def is_pvc(item: dict) -> bool:
    return kind_of(item) == "PersistentVolumeClaim"


def is_service(item: dict) -> bool:
    return kind_of(item) == "Service" and str(item.get("apiVersion", "")) == "v1"


def replicas(item: dict) -> int:
    """How many pods of a workload run at once, for the GPU budget (DaemonSet: one node)."""
    spec = item.get("spec") if isinstance(item.get("spec"), dict) else {}
    kind = kind_of(item)
    if kind == "CronJob":
        job = spec.get("jobTemplate", {})
        spec = job.get("spec", {}) if isinstance(job, dict) else {}
    key = "parallelism" if kind in ("Job", "CronJob") else "replicas"
    count = spec.get(key, 1) if isinstance(spec, dict) else 1
    return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else 1
