"""Copy-on-write editing of one item, so unchanged parts stay shared with the input."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from typing import Any


class Draft:
    """A shallow copy of an item; an edit asks ``own(path)`` for each mapping or list it changes.

    ``own`` copies every container on the path the first time it is asked for,
    so the input item is never mutated and only the edited branches are new
    objects. Reading goes through ``root`` as usual.
    """

    def __init__(self, item: dict) -> None:
        self.root = dict(item)
        self._owned = {id(self.root)}

    @property
    def changed(self) -> bool:
        return len(self._owned) > 1

    def own(self, *path: str | int) -> Any:
        """The container at ``path``, private to this draft; missing or non-container steps become {}."""
        node: Any = self.root
        for step in path:
            child = node[step] if isinstance(node, list) else node.get(step)
            if id(child) not in self._owned or not isinstance(child, (dict, list)):
                child = dict(child) if isinstance(child, dict) else list(child) if isinstance(child, list) else {}
                node[step] = child
                self._owned.add(id(child))
            node = child
        return node
