"""Copy-on-write editing of one item, so unchanged parts stay shared with the input."""

from __future__ import annotations

from kfn.errors import type_name

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from typing import Any

_NAMES = {dict: "a mapping", list: "a list"}


class FieldTypeError(Exception):
    """A field an edit must change holds the wrong type (``labels: "x"``): the item is left as it is."""

    def __init__(self, path: tuple, found: Any, wanted: type) -> None:
        super().__init__(f"is {type_name(found)} {_short(found)}, not {_NAMES[wanted]}: left unchanged")
        self.path = path


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _copy(container: Any) -> Any:
    """A copy of a tagged mapping or list that keeps its tag (kfn.scalars.Tagged*)."""
    import copy

    return copy.copy(container)


class Draft:
    """A shallow copy of an item; an edit asks ``own(path)`` for each mapping or list it changes.

    ``own`` copies every container on the path the first time it is asked for,
    so the input item is never mutated and only the edited branches are new
    objects. Reading goes through ``root`` as usual, or through ``peek`` where
    the type of what is found matters.
    """

    __slots__ = ("root", "_owned")

    def __init__(self, item: dict) -> None:
        self.root = dict(item)
        self._owned = {id(self.root)}

    @property
    def changed(self) -> bool:
        return len(self._owned) > 1

    def peek(self, *path: str | int, kind: type = dict) -> Any:
        """The ``kind`` container at ``path``, or None where it (or a step before it) is missing or null.

        Raises FieldTypeError where a step holds something else: an edit never
        replaces a field it does not understand.
        """
        node: Any = self.root
        last = len(path) - 1
        for depth, step in enumerate(path):
            node = node[step] if isinstance(node, list) else node.get(step)
            if node is None:
                return None
            wanted = kind if depth == last else list if isinstance(path[depth + 1], int) else dict
            if not isinstance(node, wanted):
                raise FieldTypeError(path[: depth + 1], node, wanted)
        return node

    def own(self, *path: str | int, kind: type = dict) -> Any:
        """The ``kind`` container at ``path``, private to this draft; missing or null steps become empty.

        Raises FieldTypeError, before changing anything, where a step holds another type.
        One walk checks the types and finds where the path leaves the draft's own
        containers; only the steps from there on are copied (or created).
        """
        node: Any = self.root
        owned = self._owned
        found = []  # the containers at path[:1], path[:2], ... up to the first missing or null step
        shared = -1  # the first depth whose container is still the input's (only this draft's above it)
        last = len(path) - 1
        for depth, step in enumerate(path):
            node = node[step] if isinstance(node, list) else node.get(step)
            if node is None:
                break
            wanted = kind if depth == last else list if isinstance(path[depth + 1], int) else dict
            if not isinstance(node, wanted):
                raise FieldTypeError(path[: depth + 1], node, wanted)
            if shared < 0 and id(node) not in owned:
                shared = depth
            found.append(node)
        if shared < 0:
            shared = len(found)
            if shared == len(path):
                return node  # already this draft's
        # Below an input container everything is the input's too: copy (or create) each step from here.
        node = found[shared - 1] if shared else self.root
        present = len(found)
        for depth in range(shared, len(path)):
            if depth < present:
                child = found[depth]
                cls = child.__class__
                child = dict(child) if cls is dict else list(child) if cls is list else _copy(child)
            else:
                child = kind() if depth == last else {}
            node[path[depth]] = child
            owned.add(id(child))
            node = child
        return node

    def own_child(self, parent: Any, at: tuple, key: str | int, kind: type = dict) -> Any:
        """``own(*at, key, kind=kind)`` where ``parent``, the container at ``at``, is this draft's already.

        One step instead of a walk from the root: an edit that changes several
        fields of one container owns that container once and its children from it.
        """
        node = parent[key] if isinstance(parent, list) else parent.get(key)
        if node is None:
            node = kind()
        elif not isinstance(node, kind):
            raise FieldTypeError((*at, key), node, kind)
        elif id(node) in self._owned:
            return node
        else:
            node = dict(node) if isinstance(node, dict) else list(node)
        parent[key] = node
        self._owned.add(id(node))
        return node

    @staticmethod
    def peek_child(parent: Any, at: tuple, key: str, kind: type = dict) -> Any:
        """``peek(*at, key, kind=kind)`` where ``parent`` is the container at ``at`` (known to be one)."""
        node = parent.get(key)
        if node is not None and not isinstance(node, kind):
            raise FieldTypeError((*at, key), node, kind)
        return node
