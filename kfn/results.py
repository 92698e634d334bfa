"""KRM result dicts that name the resource, the field and the source file."""

from __future__ import annotations

from kfn import selectors
from kfn.numbers import MAX_INT, whole_number

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from typing import Any

_PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
_INDEX_ANNOTATIONS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")


def field_path(*parts: Any) -> str:
    """``spec.containers[0].resources.limits["nvidia.com/gpu"]``: keys with dots are quoted."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "." in part or "/" in part:
            out += f'["{part}"]'
        else:
            out += ("." if out else "") + part
    return out


def _text(value: Any) -> str:
    """A resourceRef or file field as kpt's Result reads it, a string: "" where the item has no string.

    An unquoted ``name: 0777`` is a number (an invalid name): yaml-rs does not keep its text, so
    both backends leave it out rather than write 777 from one and 0777 from the other.
    """
    return str(value) if isinstance(value, str) else ""  # str(): a plain str, no PlainStr text nor TaggedStr tag


def result(item: dict, severity: str, message: str, path: tuple = ()) -> dict[str, Any]:
    meta = selectors.metadata(item)
    ref = {"apiVersion": _text(item.get("apiVersion")), "kind": _text(selectors.kind_of(item)), "name": _text(meta.get("name"))}
    namespace = _text(meta.get("namespace"))
    if namespace:
        ref["namespace"] = namespace
    out: dict[str, Any] = {"message": message, "severity": severity, "resourceRef": ref}
    if path:
        out["field"] = {"path": field_path(*path)}
    notes = selectors.annotations(item)
    source = next((notes[a] for a in _PATH_ANNOTATIONS if a in notes), None)
    if source is not None:
        out["file"] = {"path": _text(source)}
        index = next((notes[a] for a in _INDEX_ANNOTATIONS if a in notes), None)
        number = whole_number(str(index), 0, MAX_INT) if index is not None else None
        if number is not None:
            out["file"]["index"] = number
    return out


def config_error(config: Any, message: str) -> dict[str, Any]:
    """The error result for an unusable functionConfig, naming it when it is a resource."""
    return result(config, "error", message) if isinstance(config, dict) else {"message": message, "severity": "error"}


def display(res: dict[str, Any]) -> str:
    """One line for stderr (legacy plugin mode, where kustomize drops results)."""
    ref = res.get("resourceRef", {})
    name = "/".join(p for p in (ref.get("kind"), ref.get("namespace"), ref.get("name")) if p)
    where = f" {res['field']['path']}" if "field" in res else ""
    source = f" ({res['file']['path']})" if "file" in res else ""
    return f"kfn: {res['severity']}: {name}{where}: {res['message']}{source}"
