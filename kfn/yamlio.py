"""YAML documents in and out: YAML 1.2 meaning, block style, no aliases.

Two parse backends give the same values: yaml-rs (fast, the default) and PyYAML
with a YAML 1.2 core-schema resolver (``KFN_YAML=pyyaml``, also used whenever
yaml-rs is not installed). The emitter is our own, so both backends write the
same bytes.

Plain scalars in items kfn edits keep their source text (``0777`` stays
``0777``, ``on`` stays ``on``): the exact loader wraps them in ``Plain*``
types that the emitter writes back verbatim. ``kfn.wire`` cuts whole
ResourceLists and streams into per-item texts on top of this module.
"""

from __future__ import annotations

import os
import re
import sys
from functools import cache
from importlib.machinery import PathFinder

from kfn.errors import InputError
from kfn.scalars import AMBIGUOUS, MAX_SIMPLE_KEY, PlainFloat, PlainInt, PlainStr, TaggedDict, TaggedList, TaggedStr, needs_escapes, quote_memo, scalar, string

__all__ = ["PlainFloat", "PlainInt", "PlainStr", "InputError", "backend", "dump", "dump_item", "has_anchors", "lossy", "parse", "parse_all", "scalar"]

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from typing import Any


# Scalars yaml-rs reads to a value the emitter writes back with the same text. Pattern
# strings like _TOKEN below: compiled (and cached by re) only when an edited item has a suspect.
_CANONICAL = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?|true|false|null"


def _literal_ok(s: str) -> bool:
    """A multi-line string fits a literal block scalar (else it is double-quoted)."""
    return (
        not s.startswith((" ", "\n"))
        and not s.endswith("\n\n")
        and "\n\t" not in s  # a tab-led line: kyaml cannot read it back inside a block scalar
        and not s.startswith("\t")
        and not needs_escapes(s.replace("\t", ""))
        and "\r" not in s
        and not any(line.endswith(" ") for line in s.split("\n"))
    )


# --- emitter -----------------------------------------------------------------

_TAGGED_COLLECTIONS = (TaggedDict, TaggedList)


def _emit_value(v: Any, head: str, ind: int, out: list[str]) -> None:
    """Write ``v`` after ``head`` (a ``key:`` or ``-`` line start) at indent ``ind``."""
    if type(v) in _TAGGED_COLLECTIONS:  # the tag on the head line, the collection indented below
        if not v:
            out.append(f"{head} {v.tag} {'{}' if isinstance(v, dict) else '[]'}\n")
        elif isinstance(v, dict):
            out.append(f"{head} {v.tag}\n")
            _emit_map(v, ind + 2, out)
        else:
            out.append(f"{head} {v.tag}\n")
            _emit_seq(v, ind + 2, out)
    elif isinstance(v, dict) and v:
        out.append(head + "\n")
        _emit_map(v, ind + 2, out)
    elif isinstance(v, list) and v:
        out.append(head + "\n")
        _emit_seq(v, ind, out)
    elif isinstance(v, dict):
        out.append(head + " {}\n")
    elif isinstance(v, list):
        out.append(head + " []\n")
    elif isinstance(v, str) and "\n" in v and type(v) not in (PlainStr, TaggedStr) and _literal_ok(v):
        chomp = "" if v.endswith("\n") else "-"
        pad = " " * (ind + 2)
        body = v[:-1] if v.endswith("\n") else v
        lines = [pad + line + "\n" if line else "\n" for line in body.split("\n")]
        if ind + 2 > MAX_INDENT - 2 and re.search(_DEEP_LINE, "\n" + "".join(lines)):
            _too_deep()  # a line of the block that starts with "- " past the bound
        out.append(head + " |" + chomp + "\n")
        out.extend(lines)
    else:
        out.append(head + " " + scalar(v) + "\n")


def _too_deep() -> None:
    raise InputError(f"an edited item would nest deeper than {MAX_INDENT} columns when written in block style")


def _emit_explicit_key(key: str, v: Any, lead: str, ind: int, out: list[str]) -> None:
    """``? key`` / ``: value``: a key too long for an implicit key (YAML readers stop at 1 024 characters)."""
    if ind + 2 > MAX_INDENT:
        _too_deep()
    out.append(f"{lead}? {key}\n")
    _emit_value(v, " " * ind + ":", ind, out)


def _emit_map(m: dict, ind: int, out: list[str], first: str | None = None) -> None:
    if ind > MAX_INDENT:  # each line starts with ind columns of indentation (see _DEEP_LINE)
        _too_deep()
    pad = " " * ind
    memo = quote_memo
    lead = pad if first is None else first
    for k, v in m.items():
        key = memo.get(k) if k.__class__ is str else None  # exact type: Plain* write their own text
        if key is None:
            key = scalar(k)  # only short keys are in the memo: check the others' length
            if len(key) > MAX_SIMPLE_KEY:
                _emit_explicit_key(key, v, lead, ind, out)
                lead = pad
                continue
        # Fast paths by exact type for the common cases; everything else goes through _emit_value.
        cls = v.__class__
        if cls is str and "\n" not in v:
            text = memo.get(v)
            out.append(f"{lead}{key}: {text if text is not None else string(v)}\n")
        elif cls is int:
            out.append(f"{lead}{key}: {v}\n")
        elif cls is dict and v:
            out.append(f"{lead}{key}:\n")
            _emit_map(v, ind + 2, out)
        elif cls is list and v:
            out.append(f"{lead}{key}:\n")
            _emit_seq(v, ind, out)
        else:
            _emit_value(v, f"{lead}{key}:", ind, out)
        lead = pad


def _emit_seq(seq: list, ind: int, out: list[str], first: str | None = None) -> None:
    if ind + 2 > MAX_INDENT:  # each entry line starts with ind columns and "- "
        _too_deep()
    pad = " " * ind + "-"
    memo = quote_memo
    dash = pad if first is None else first + "-"
    for v in seq:
        cls = v.__class__
        if cls is dict and v:
            _emit_map(v, ind + 2, out, first=dash + " ")
        elif cls is str and "\n" not in v:
            text = memo.get(v)
            out.append(f"{dash} {text if text is not None else string(v)}\n")
        elif isinstance(v, dict) and v and cls is not TaggedDict:
            _emit_map(v, ind + 2, out, first=dash + " ")
        elif isinstance(v, list) and v and cls is not TaggedList:
            _emit_seq(v, ind + 2, out, first=dash + " ")
        else:
            _emit_value(v, dash, ind, out)
        dash = pad


def dump(doc: Any) -> str:
    """One document in block style (kyaml layout: sequences not indented under keys)."""
    out: list[str] = []
    if isinstance(doc, dict) and doc:
        _emit_map(doc, 0, out)
    elif isinstance(doc, list) and doc:
        _emit_seq(doc, 0, out)
    else:
        _emit_value(doc, "---", 0, out)
    return "".join(out)


def dump_item(item: Any, dash_indent: int) -> str:
    """One sequence entry of ``items:`` at the given dash indent."""
    out: list[str] = []
    _emit_seq([item], dash_indent, out)
    return "".join(out)


# --- parsers -----------------------------------------------------------------


_YAML_RS_NATIVE = "yaml_rs._yaml_rs"


@cache
def _yaml_rs() -> Any:
    """yaml-rs's compiled module, or None when yaml-rs is not installed.

    Loaded without the package's Python wrapper: that wrapper imports pathlib,
    typing and enum, which cost a short run more than its work. Registered
    under its own name, so a later ``import yaml_rs`` reuses it.
    """
    loaded = sys.modules.get(_YAML_RS_NATIVE)
    if loaded is not None:
        return loaded
    package = PathFinder.find_spec("yaml_rs")
    where = package.submodule_search_locations if package is not None else None
    spec = PathFinder.find_spec(_YAML_RS_NATIVE, where) if where else None
    if spec is None or spec.loader is None:
        return None
    module = spec.loader.create_module(spec)
    spec.loader.exec_module(module)
    sys.modules[_YAML_RS_NATIVE] = module
    return module


def backend() -> str:
    """The configured parse backend: ``yaml-rs`` (default) or ``pyyaml``."""
    wanted = os.environ.get("KFN_YAML", "yaml-rs").strip().lower().replace("_", "-")
    if wanted not in ("yaml-rs", "pyyaml"):
        raise InputError(f'KFN_YAML: "{wanted}" is not one of yaml-rs, pyyaml')
    if wanted == "yaml-rs" and _yaml_rs() is None:
        return "pyyaml"
    return wanted


# --- input limits (checked before either backend sees the text) -----------------

# Nesting bounds: block nesting by indent column, flow nesting by bracket depth. Both
# parsers recurse per level (libyaml's composer on the C stack, our constructor and
# emitter in Python), so depth is bounded where both backends still agree.
MAX_INDENT = 256
MAX_FLOW_DEPTH = 64
# A line indented past MAX_INDENT: spaces, and "- " and "? " (each nests: "- - - x"); a "-" or "?"
# that starts a scalar ("--x") is text, not indentation. The emitter keeps to the same bound.
_DEEP_LINE = "\n(?: |[-?](?= )){%d}" % (MAX_INDENT + 1)
# Raw line separators YAML 1.1 readers (PyYAML, kpt's older kyaml) break lines at; 1.2 does not.
# A byte-order mark past the start (kfn.wire strips a leading one): the backends disagree on it.
_LINE_SEPARATORS = {"\x85": "U+0085 (NEL)", "\u2028": "U+2028", "\u2029": "U+2029", "\ufeff": "U+FEFF (byte-order mark)"}


# A \u escape of a UTF-16 surrogate: libyaml and go-yaml reject it in YAML, yaml-rs pairs it up.
_SURROGATE_ESCAPE = r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}"


def _check_limits(text: str, aliases: bool = True) -> None:
    # Each whole-text scan below is led by a one-character test (memchr, ~1 ms on 20 MB) where
    # the scan itself (a two-character find, a count, a regex) would cost 10-20 ms.
    if "\\" in text and re.search(_SURROGATE_ESCAPE, text):
        raise InputError("invalid YAML: a \\u escape of a UTF-16 surrogate (write the character itself, or \\U0001F600 style)")
    for char, name in _LINE_SEPARATORS.items():
        if char in text:
            raise InputError(f"raw {name} in the input: YAML 1.1 and 1.2 readers disagree on it; write it escaped in double quotes")
    if re.search(_DEEP_LINE, "\n" + text):
        raise InputError(f"nesting deeper than {MAX_INDENT} columns of indentation")
    if ("[" in text or "{" in text) and text.count("[") + text.count("{") > MAX_FLOW_DEPTH and _flow_depth(text) > MAX_FLOW_DEPTH:
        raise InputError(f"flow collections nested deeper than {MAX_FLOW_DEPTH} levels")
    if aliases and has_anchors(text):
        from kfn.pyyaml_core import alias_expansion_ok

        if not alias_expansion_ok(text):
            raise InputError("document contains excessive aliasing (the bound kyaml applies)")


def _flow_depth(text: str) -> int:
    """Bracket depth outside double-quoted strings: an estimate, exact for JSON and kyaml output."""
    depth = deepest = 0
    for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"|[\[\]{}]', text):
        token = m.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth = max(depth - 1, 0)
    return deepest


# An anchor or alias where YAML allows one: a line start, after "key:", "-", "[", "{" or ",".
# A pattern string, not compiled at import: most inputs have no "&" or "*" and never need it.
_ANCHOR = r"(?:^[ \t]*|[:\-][ \t]+|[\[{,][ \t]*)[&*][^\s,\[\]{}]+(?=[\s,\]}]|$)"


def has_anchors(text: str) -> bool:
    """Anchors or aliases (may over-match, e.g. ``*.log`` in a block scalar; never under-matches)."""
    return ("&" in text or "*" in text) and re.search(_ANCHOR, text, re.M) is not None


# --- parsers: the one entry point -------------------------------------------------


# A colon after a blank or a line break: the only places an empty key can end. Led by the colon
# and checked behind, one regex pass costs about a third of three str.find passes (" :", "\t:", "\n:").
_COLON_AFTER_BLANK = re.compile(r":(?<=[ \t\n]:)")


def _has_empty_key(text: str) -> bool:
    """A line whose mapping key is empty (``: v`` or ``- : v``): yaml-rs reads it, libyaml and kpt's
    go-yaml refuse it unless an explicit ``? key`` line comes first. Only colons after a blank or a
    line break are looked at (a regex anchored at every line start costs ~35 ms on 10 000 items)."""
    for found in _COLON_AFTER_BLANK.finditer(text):
        colon = found.start()
        line_start = text.rfind("\n", 0, colon) + 1
        if not text[line_start:colon].strip(" \t-") and text[colon + 1 : colon + 2] in ("", " ", "\t", "\n", "\r"):
            return True
    return text.startswith(":")


# yaml-rs reads a plain scalar of thousands of digits as an int that CPython (3.11+) refuses to
# print (sys.get_int_max_str_digits); the exact loader reads it as a string, as go-yaml does. Such
# a number is a run of at least 3 572 characters of [0-9a-fA-F_] (hex: 0x and 3 572 digits), so
# it covers three consecutive multiples of _STRIDE: a strided sample finds every candidate in
# about 0.1 ms on 3.6 MB, and a candidate is confirmed by reading the text between two samples.
_STRIDE = 1024
_THREE_SAMPLES = r"(?=[0-9a-fA-F_]{3})"
_RUN = r"[0-9a-fA-F_]+"


def _may_hold_a_huge_int(text: str) -> bool:
    if len(text) < 3 * _STRIDE:
        return False
    run = re.compile(_RUN)
    for found in re.finditer(_THREE_SAMPLES, text[::_STRIDE]):
        at = found.start() * _STRIDE
        if run.fullmatch(text, at, at + 2 * _STRIDE + 1):
            return True
    return False


def _tab_in_indentation(text: str) -> bool:
    """A tab among a line's leading blanks: yaml-rs reads some that libyaml (and kpt's go-yaml) refuse."""
    return "\t" in text and re.search(r"\n *\t", "\n" + text) is not None


def _block_scalar_at_the_end(text: str) -> bool:
    """Text ending without a line break, maybe inside a block scalar: yaml-rs then adds one to its value."""
    return not text.endswith("\n") and ("|" in text[text.rfind("\n- ") + 1 :] or ">" in text[text.rfind("\n- ") + 1 :])


def _parse_fast(text: str) -> Any:
    if _has_empty_key(text) or _may_hold_a_huge_int(text) or _tab_in_indentation(text) or _block_scalar_at_the_end(text):
        return _parse_exact(text)  # see each test: the exact loader decides
    native = _yaml_rs()
    try:
        # Duplicate keys are an error (the native default, as in ``yaml_rs.loads``).
        return native._loads(text, parse_datetime=False)
    except (native.YAMLDecodeError, TypeError):  # TypeError: a list as a mapping key (the exact loader says so)
        # yaml-rs is stricter than libyaml, whose rules kpt's go-yaml shares (e.g. on the indent
        # of a quoted scalar's continuation lines): let the exact loader decide, so both backends
        # accept the same input and fail with the same message.
        return _parse_exact(text)


def _parse_exact(text: str) -> Any:
    from kfn import pyyaml_core

    return pyyaml_core.load(text)


def _parse_json(text: str) -> Any:
    """JSON (a YAML 1.2 subset) with Python's own reader, which, unlike both YAML backends, reads
    surrogate-pair escapes such as ``"\\ud83d\\ude00"``. None when ``text`` is not JSON."""
    import json

    def no_duplicates(pairs: list) -> dict:
        out = dict(pairs)
        if len(out) != len(pairs):
            raise InputError("invalid YAML: duplicate mapping key in JSON")
        return out

    def no_constant(name: str) -> None:
        raise ValueError(name + " is not JSON")

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except (ValueError, RecursionError):
        return None  # not JSON after all: YAML flow style, read by the YAML parser


def parse(text: str, *, exact: bool = False, aliases_checked: bool = False) -> Any:
    """One document. ``exact`` keeps the source text of plain scalars (see ``Plain*``).

    ``aliases_checked``: the caller has parsed every piece of ``text`` that may
    hold an alias on its own, so the alias-expansion bound was applied there.
    """
    if text.lstrip(" \t\n")[:1] in ("{", "["):  # JSON first: its reader pairs surrogate escapes up
        found = _parse_json(text)
        if found is not None:
            return found
    _check_limits(text, aliases=not aliases_checked)
    try:
        return _parse_exact(text) if exact or backend() == "pyyaml" else _parse_fast(text)
    except RecursionError:
        raise InputError("nesting too deep to read") from None


def parse_all(text: str) -> list:
    """Every document of a stream (the exact loader: streams that need this are rare)."""
    from kfn import pyyaml_core

    _check_limits(text)
    try:
        return pyyaml_core.load_all(text)
    except RecursionError:
        raise InputError("nesting too deep to read") from None


def lossy(text: str) -> bool:
    """Whether ``parse(text)`` may have lost the source text of a plain scalar (then parse exactly)."""
    return backend() != "pyyaml" and not exact_round_trip(text)


# A tag on a node: after the indentation, "- ", "? ", ": " or a flow indicator, maybe after an anchor.
_TAG = r"(?:^[ \t]*|[-?:][ \t]+|[\[{,][ \t]*)(?:&[^\s,\[\]{}]+[ \t]+)?!"


def exact_round_trip(text: str) -> bool:
    """True when every plain scalar in ``text`` survives yaml-rs plus our emitter, and no tag is lost."""
    if "!" in text and re.search(_TAG, text, re.M):
        return False  # yaml-rs drops tags (and reads !!set as a Python set): the exact loader keeps them
    if not any(suspect.search(text) for suspect in _SUSPECTS) and not (
        ("[" in text or "{" in text) and _SUSPECT_IN_FLOW.search(text)
    ):
        return True
    for token in re.findall(_TOKEN, text, re.M):
        if AMBIGUOUS.match(token) and not re.fullmatch(_CANONICAL, token):
            return False
    return True


# Cheap first look for values that might be traps (sign, dot, leading zero, separators,
# 1.1 words) after ":", "-" or a flow indicator. Three patterns, each starting with a
# literal, search several times faster than one that starts with a choice.
_TRAP_START = (
    r"(?:[-+]?\.[0-9a-zA-Z_]|[-+][0-9_]|_+[0-9.]|~|<<|0[0-9a-zA-Z_]|[0-9]+[_:eE.]|[0-9]{4}-"
    r"|(?:[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF|True|TRUE|False|FALSE|Null|NULL)[ \t]*(?:$|#|,|\]|\}|:[ \t]|:$))"
)
# The lookahead holds the first character of every branch of _TRAP_START: most values fail
# it at once instead of trying each branch in turn (a quarter less time per search).
_TRAP_FIRST = r"(?=[-+.~<0-9_yYnNoOTF])"
_SUSPECTS = tuple(re.compile(lead + _TRAP_FIRST + _TRAP_START, re.M) for lead in (r":[ \t]+", r"-[ \t]+", r",[ \t]*"))
# After "[" or "{": searched only in text that holds one (a search led by a character class
# cannot skip ahead, and block-style items rarely hold a bracket: 56 -> 14 ms on 10 000 items).
_SUSPECT_IN_FLOW = re.compile(r"[\[{][ \t]*" + _TRAP_FIRST + _TRAP_START, re.M)
# A plain scalar that may not survive yaml-rs plus our emitter: numbers, dates and
# YAML 1.1 words. Over-matches on purpose; a false hit only costs an exact re-parse.
_TOKEN = (
    r"(?<![^\s\[{,])([-+]?[._]*[0-9][\w.:+-]*|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)|~|<<"
    r"|[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF|True|TRUE|False|FALSE|Null|NULL)"
    r"(?=[ \t]*(?:$|#|,|\]|\}|:[ \t]|:$))"
)
