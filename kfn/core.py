"""kfn's one entry point: ``process(items, config) -> (items, results)``. Pure, no I/O.

Edits run on a private copy of each item that carries a marker; an item the
edits leave equal to its input is returned as the very same object, which is
how the adapters know to write it back verbatim.
"""

from __future__ import annotations

from typing import Any, Callable

from kfn import checks, selectors
from kfn.backup import add_backup_label
from kfn.config import Config
from kfn.gpu import add_gpu
from kfn.probes import add_probes

# Each edit changes one aspect of a (copied) item in place.
EDITS: tuple[Callable[[dict, Config], None], ...] = (add_gpu, add_backup_label, add_probes)


_CONTAINERS = (dict, list)


def copy_tree(value: Any) -> Any:
    """Deep copy of plain YAML data; scalars are immutable and shared (keeps Plain* text)."""
    if isinstance(value, dict):
        return {k: copy_tree(v) if isinstance(v, _CONTAINERS) else v for k, v in value.items()}
    if isinstance(value, list):
        return [copy_tree(v) if isinstance(v, _CONTAINERS) else v for v in value]
    return value


def patch(item: dict, config: Config) -> dict:
    """One item with every edit applied, or the item itself when nothing changes."""
    if not isinstance(item, dict) or not selectors.is_editable(item):
        return item
    work = copy_tree(item)
    for edit in EDITS:
        edit(work, config)
    return item if work == item else work


def process(items: list[dict], config: Config) -> tuple[list[dict], list[dict[str, Any]]]:
    """Patch every item (same order, none dropped), then check the result."""
    patched = [patch(item, config) for item in items]
    return patched, checks.run(patched, config)


def has_errors(results: list[dict[str, Any]]) -> bool:
    return any(r.get("severity") == "error" for r in results)
