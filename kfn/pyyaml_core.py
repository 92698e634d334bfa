"""PyYAML with YAML 1.2 core-schema meaning and source-preserving plain scalars.

PyYAML resolves YAML 1.1 (``yes`` is true, ``0777`` is 511, ``1:30`` is 90).
kustomize and kpt read YAML 1.2, so this loader installs the core-schema
resolvers instead, and keeps the text of plain scalars the emitter would not
write back identically (see ``kfn.scalars.Plain*``).
"""

from __future__ import annotations

import re
import sys

import yaml
from yaml.constructor import BaseConstructor, ConstructorError
from yaml.resolver import BaseResolver

from kfn.errors import InputError
from kfn.scalars import PlainFloat, PlainInt, PlainStr, TaggedDict, TaggedList, TaggedStr, needs_escapes, scalar, tag_text

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from typing import Any

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"


class CoreResolver(BaseResolver):
    """Implicit tags of the YAML 1.2 core schema, nothing else."""

    yaml_implicit_resolvers: dict = {}


# Numbers as yaml-rs reads them, which is also how go-yaml v3 (kpt, kustomize) reads them: the core
# schema's forms, plus underscores anywhere in the digits ("1_000"), a sign before a 0x/0o prefix, 0b
# binary and upper-case prefixes. Both backends must give the same values for what kfn checks.
# Each pattern has one way to match (a digit, then digits or underscores): no backtracking on long runs.
_DIGITS = r"_*[0-9][0-9_]*"
_INT_FORMS = r"^[-+]?(?:%s|0[xX]_*[0-9a-fA-F][0-9a-fA-F_]*|0[oO]_*[0-7][0-7_]*|0[bB]_*[01][01_]*)$" % _DIGITS
_FLOAT_FORMS = (
    r"^(?:[-+]?(?:_*\.%s|%s(?:\.[0-9_]*)?)(?:[eE][-+]?%s)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$" % (_DIGITS, _DIGITS, _DIGITS)
)
_CORE = [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_INT, _INT_FORMS, "-+0123456789_"),
    (_FLOAT, _FLOAT_FORMS, "-+.0123456789_"),
]
for _tag, _pattern, _first in _CORE:
    CoreResolver.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


# Python refuses to turn an int of more decimal digits than this into text or back (3.11+; 0: no limit).
_MAX_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 0)()


def _int(text: str) -> int | None:
    """The integer, or None for one Python cannot write as text (see ``_construct_int``)."""
    text = text.replace("_", "")
    digits = text.lstrip("+-")
    if digits[:2].lower() in ("0o", "0x", "0b"):
        value = int(text[: len(text) - len(digits)] + digits[2:], {"o": 8, "x": 16, "b": 2}[digits[1].lower()])
    elif _MAX_DIGITS and len(text.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
        return None
    else:
        value = int(text)
    # 8**d < 10**d: an int of at most 3*d bits is printable, and the exact bound is computed only past that.
    return None if _MAX_DIGITS and value.bit_length() > 3 * _MAX_DIGITS and abs(value) >= 10**_MAX_DIGITS else value


def _float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if lowered.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    return float(text.replace("_", ""))


class CoreConstructor(BaseConstructor):
    """Plain Python values; duplicate keys are an error, as in kyaml and yaml-rs."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        if not isinstance(node, yaml.MappingNode):
            raise ConstructorError(None, None, "expected a mapping", node.start_mark)
        mapping: dict = {}
        for key_node, value_node in node.value:
            key = _hashable_key(self.construct_object(key_node, deep=True), key_node)
            if key in mapping:
                raise ConstructorError(None, None, f"duplicate mapping key: {key!r}", key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=True)
        return mapping

    def construct_document(self, node: yaml.Node) -> Any:
        # Build everything eagerly: no generators, no shared partial objects.
        return self.construct_object(node, deep=True)


def _hashable_key(key: Any, node: yaml.Node) -> Any:
    """A mapping key as yaml-rs builds it: a mapping becomes a frozenset of its pairs; a list is refused."""
    if isinstance(key, dict):
        try:
            return frozenset(key.items())
        except TypeError:
            pass
    elif not isinstance(key, list):
        return key
    raise ConstructorError(None, None, "a list or nested mapping as a mapping key is not supported", node.start_mark)


def _construct_plain(loader: CoreConstructor, node: yaml.ScalarNode, kind: type, tagged: type, value: Any) -> Any:
    """``value``, wrapped with its source text when written back plain it would change.

    Only untagged plain scalars keep their text: ``!!str 0777`` must be written
    quoted (it is a string), ``!!float 1`` as a float, and a raw BOM or control
    character escaped.
    """
    # libyaml reports plain style as "", the pure-Python parser as None. A node's start mark sits on
    # its properties, so a tag shows in the source there (``!!str yes`` resolves like ``yes``).
    # Only a one-line plain scalar's value is its source text (more lines fold into one value).
    implicit = not node.style and node.start_mark.line == node.end_mark.line and not _TAGGED.match(loader.source, node.start_mark.index)
    if implicit and scalar(value) != node.value and not needs_escapes(node.value):
        wrapped = tagged(value)
        wrapped.text = node.value
        return wrapped
    return kind(value) if kind is not type(value) else value


_TAGGED = re.compile(r"(?:&[^\s]+[ \t]+)?!")


def _construct_str(loader: CoreConstructor, node: yaml.ScalarNode) -> str:
    return _construct_plain(loader, node, str, PlainStr, node.value)


def _construct_int(loader: CoreConstructor, node: yaml.ScalarNode) -> int:
    try:
        value = _int(node.value.strip())
    except ValueError:  # e.g. !!int "x": a tag the text does not fit
        raise ConstructorError(None, None, f"{node.value!r} is not an integer", node.start_mark) from None
    if value is None:  # too long to print: a string, as go-yaml (kpt) reads an integer it cannot hold
        return _construct_plain(loader, node, str, PlainStr, node.value)
    return _construct_plain(loader, node, int, PlainInt, value)


def _construct_float(loader: CoreConstructor, node: yaml.ScalarNode) -> float:
    try:
        value = _float(node.value.strip())
    except ValueError:
        raise ConstructorError(None, None, f"{node.value!r} is not a float", node.start_mark) from None
    return _construct_plain(loader, node, float, PlainFloat, value)


def _construct_null(loader: CoreConstructor, node: yaml.ScalarNode) -> None:
    return None


def _construct_bool(loader: CoreConstructor, node: yaml.ScalarNode) -> bool:
    return node.value.lower() == "true"


def _construct_seq(loader: CoreConstructor, node: yaml.SequenceNode) -> list:
    return [loader.construct_object(child, deep=True) for child in node.value]


def _construct_any(loader: CoreConstructor, suffix: str, node: yaml.Node) -> Any:
    """Unknown or 1.1-only tags (!!binary, !!timestamp, !custom): the underlying data and the tag,
    which the emitter writes back (kpt keeps tags in files kfn does not own)."""
    if isinstance(node, yaml.MappingNode):
        value: Any = TaggedDict(loader.construct_mapping(node))
    elif isinstance(node, yaml.SequenceNode):
        value = TaggedList(_construct_seq(loader, node))
    else:
        value = TaggedStr(node.value)
    value.tag = tag_text(node.tag)
    return value


CoreConstructor.add_constructor("tag:yaml.org,2002:null", _construct_null)
CoreConstructor.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
CoreConstructor.add_constructor(_INT, _construct_int)
CoreConstructor.add_constructor(_FLOAT, _construct_float)
CoreConstructor.add_constructor(_STR, _construct_str)
CoreConstructor.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
CoreConstructor.add_constructor("tag:yaml.org,2002:map", CoreConstructor.construct_mapping)
CoreConstructor.add_multi_constructor("", _construct_any)

if getattr(yaml, "__with_libyaml__", False):
    from yaml.cyaml import CParser

    class CoreLoader(CParser, CoreConstructor, CoreResolver):
        def __init__(self, stream: str) -> None:
            self.source = stream
            CParser.__init__(self, stream)
            CoreConstructor.__init__(self)
            CoreResolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class CoreLoader(Reader, Scanner, Parser, Composer, CoreConstructor, CoreResolver):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            self.source = stream
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            CoreConstructor.__init__(self)
            CoreResolver.__init__(self)


def _error(err: yaml.YAMLError) -> InputError:
    return InputError("invalid YAML: " + " ".join(str(err).split()))


def load(text: str) -> Any:
    """One document."""
    try:
        return yaml.load(text, Loader=CoreLoader)  # noqa: S506 - CoreLoader builds plain data only
    except yaml.YAMLError as err:
        raise _error(err) from None


def load_all(text: str) -> list:
    """Every document of a stream."""
    try:
        return list(yaml.load_all(text, Loader=CoreLoader))  # noqa: S506
    except yaml.YAMLError as err:
        raise _error(err) from None


# go-yaml's (and so kyaml's) bound on alias expansion: once past 1 000 decoded nodes of which
# over 100 sit inside alias expansions, those may make up at most 99% of the decoded nodes,
# falling to 10% at 4 million.
_RATIO_LOW, _RATIO_HIGH = 400_000, 4_000_000


def _allowed_alias_ratio(decoded: int) -> float:
    if decoded <= _RATIO_LOW:
        return 0.99
    if decoded >= _RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - _RATIO_LOW) / (_RATIO_HIGH - _RATIO_LOW)


def _excessive(decoded: int, aliased: int) -> bool:
    return aliased > 100 and decoded > 1000 and aliased / decoded > _allowed_alias_ratio(decoded)


class _Excessive(Exception):
    pass


_VISITING = (-1, -1)  # a node whose subtree is being sized

def alias_expansion_ok(text: str) -> bool:
    """Whether expanding every alias of ``text`` stays within go-yaml's bound (nothing is expanded here).

    go-yaml checks as it decodes; this checks every subtree's totals, so a bomb
    anywhere fails at its own level.
    """
    sizes: dict[int, tuple[int, int]] = {}  # node id -> (decoded nodes, of which inside alias expansions)

    def size(node: yaml.Node) -> tuple[int, int]:
        decoded, aliased = 1, 0
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        for child in children:
            seen = sizes.get(id(child))
            if seen is _VISITING:  # go-yaml: "anchor ... value contains itself"
                raise InputError("invalid YAML: an alias inside its own anchor's value (a recursive structure)")
            if seen is None:  # first visit, in document order: the anchored node itself
                sizes[id(child)] = _VISITING
                seen = sizes[id(child)] = size(child)
                decoded, aliased = decoded + seen[0], aliased + seen[1]
            else:  # a later visit is an alias: the alias node, then all of its target again
                decoded, aliased = decoded + 1 + seen[0], aliased + seen[0]
        if _excessive(decoded, aliased):
            raise _Excessive
        return decoded, aliased

    try:
        for root in yaml.compose_all(text, Loader=CoreLoader):
            if root is not None:
                size(root)
    except yaml.YAMLError as err:
        raise _error(err) from None
    except _Excessive:
        return False
    return True
