"""kfn's one entry point: ``process(items, config) -> (items, results)``. Pure, no I/O.

Edits run on a copy-on-write draft of each item that carries a marker; an item
the edits leave equal to its input is returned as the very same object, which
is how the adapters know to write it back verbatim.
"""

from __future__ import annotations

from collections.abc import Callable

from kfn import checks, selectors
from kfn.backup import add_backup_label
from kfn.config import Config
from kfn.draft import Draft
from kfn.gpu import add_gpu
from kfn.probes import add_probes

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from typing import Any

# Each edit changes one aspect of an item through its draft.
EDITS: tuple[Callable[[Draft, Config], None], ...] = (add_gpu, add_backup_label, add_probes)


def patch(item: dict, config: Config) -> dict:
    """One item with every edit applied, or the item itself when nothing changes."""
    if not isinstance(item, dict) or not selectors.is_editable(item):
        return item
    draft = Draft(item)
    for edit in EDITS:
        edit(draft, config)
    return draft.root if draft.changed and draft.root != item else item


def process(items: list[dict], config: Config) -> tuple[list[dict], list[dict[str, Any]]]:
    """Patch every item (same order, none dropped), then check the result."""
    patched = [patch(item, config) for item in items]
    return patched, checks.run(patched, config)


def has_errors(results: list[dict[str, Any]]) -> bool:
    return any(r.get("severity") == "error" for r in results)
