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
from kfn.draft import Draft, FieldTypeError
from kfn.gpu import add_gpu
from kfn.probes import add_probes
from kfn.results import field_path, result

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from typing import Any

# Each edit changes one aspect of an item through its draft.
EDITS: tuple[Callable[[Draft, Config], None], ...] = (add_gpu, add_backup_label, add_probes)


def patch(item: dict, config: Config) -> tuple[dict, list[dict[str, Any]]]:
    """One item with every edit applied (or the item itself when nothing changes), and its error results.

    An edit that meets a wrong-typed field (``labels: "x"``) leaves the whole
    item as it was and says which field: never half an edit.
    """
    if not isinstance(item, dict) or not selectors.is_editable(item):
        return item, []
    draft = Draft(item)
    try:
        for edit in EDITS:
            edit(draft, config)
    except FieldTypeError as err:
        return item, [result(item, "error", f"{field_path(*err.path)} {err}", err.path)]
    return (draft.root if draft.changed and draft.root != item else item), []


def process(items: list[dict], config: Config) -> tuple[list[dict], list[dict[str, Any]]]:
    """Patch every item (same order, none dropped), then check the result.

    Each item is checked right after its edits, while it is fresh in the CPU
    caches; the results are those of ``checks.run`` on the patched list.
    """
    patched, results = [], []
    checker = checks.Checker(config)
    for item in items:
        new, problems = patch(item, config)
        patched.append(new)
        checker.add(new)
        if problems:
            results += problems
    return patched, results + checker.results()


def has_errors(results: list[dict[str, Any]]) -> bool:
    return any(r.get("severity") == "error" for r in results)
