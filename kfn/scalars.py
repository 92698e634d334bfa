"""How one scalar (or mapping key) is written, and the types that keep a plain scalar's source text.

Shared by the emitter (``kfn.yamlio``) and the exact loader (``kfn.pyyaml_core``),
which wraps plain scalars in ``Plain*`` types only when ``scalar`` would not
write them back as they were.
"""

from __future__ import annotations

import re

try:
    from _json import encode_basestring  # the C half of json: no json package import at start-up
except ImportError:  # pragma: no cover - Python builds without the C accelerator
    from json.encoder import py_encode_basestring as encode_basestring

from kfn.errors import InputError

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from typing import Any


class PlainInt(int):
    """An int read from a plain scalar whose source text is not canonical."""

    text: str


class PlainFloat(float):
    """A float read from a plain scalar whose source text is not canonical."""

    text: str


class PlainStr(str):
    """A string read from a plain scalar that the emitter would have quoted."""

    text: str


PLAIN_TYPES = (PlainInt, PlainFloat, PlainStr)


class TaggedStr(str):
    """A scalar under a tag YAML 1.2's core schema does not resolve (``!!binary``, ``!custom``): its text."""

    tag: str


class TaggedDict(dict):
    """A mapping under such a tag (``!!set``, ``!custom {a: 1}``)."""

    tag: str


class TaggedList(list):
    """A sequence under such a tag (``!!omap``, ``!custom [a]``)."""

    tag: str


TAGGED_TYPES = (TaggedStr, TaggedDict, TaggedList)


def tag_text(tag: str) -> str:
    """How a resolved tag is written: ``!!binary``, ``!local``, or verbatim ``!<tag:example.com,2000:x>``."""
    if tag.startswith("tag:yaml.org,2002:"):
        return "!!" + tag[len("tag:yaml.org,2002:") :]
    return tag if tag.startswith("!") else f"!<{tag}>"

# Strings any YAML 1.1 or 1.2 reader might take for something else; the
# emitter quotes them (rule 10). Loose on purpose: quoting too much is harmless. A new
# branch must keep to _NUMBER_START (string() skips the regex for other long strings).
AMBIGUOUS = re.compile(
    r"""(?:y|yes|n|no|true|false|on|off|null|~|<<|=
        |[-+]?[._]*[0-9][0-9_:.]*(?:[eE][-+_]*[0-9_]+)?
        |[-+]?0[xob][0-9a-f_]+
        |[-+]?\.(?:inf|nan)
        |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[tT \t].*)?
        )\Z""",
    re.IGNORECASE | re.VERBOSE,
)
_UNSAFE_START = frozenset("!&*{}[]|>'\"%@`#,")
# AMBIGUOUS's words are at most 5 characters; its numbers and dates start with one of these.
# Testing that first spares most strings (names, paths, images) the regex.
_NUMBER_START = frozenset("+-._0123456789")
# Everything outside YAML 1.2's printable set (C0 but tab, DEL, C1, surrogates, U+FFFE/FFFF),
# plus tab and what YAML 1.1 readers take for a line break (NEL, U+2028/2029) or a BOM.
_SPECIAL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff\t]")
_SURROGATES = re.compile("[\ud800-\udfff]")
# Characters JSON leaves raw but YAML does not count as printable (kpt rejects them raw).
_YAML_ESCAPES = {
    **{c: f"\\x{c:02x}" for c in range(0x7F, 0xA0)},
    0x85: "\\N",
    0x2028: "\\L",
    0x2029: "\\P",
    0xFEFF: "\\ufeff",
    0xFFFE: "\\ufffe",
    0xFFFF: "\\uffff",
}
quote_memo: dict[str, str] = {}  # string() results no longer than MAX_SIMPLE_KEY (the emitter relies on that)
# The longest implicit mapping key YAML readers take (libyaml, go-yaml, yaml-rs: 1 024 characters).
MAX_SIMPLE_KEY = 1024


def needs_escapes(s: str) -> bool:
    """``s`` holds a character that only a double-quoted escape may write."""
    return _SPECIAL_CHARS.search(s) is not None


def string(s: str) -> str:
    """How a one-line string is written: plain when unambiguous, else double-quoted."""
    out = quote_memo.get(s)
    if out is None:
        ambiguous = (len(s) <= 5 or s[0] in _NUMBER_START) and AMBIGUOUS.match(s)  # the gate: see _NUMBER_START
        out = _quoted(s) if not s or ambiguous or not _plain_safe(s) else s
        if len(quote_memo) < 100_000 and len(out) <= MAX_SIMPLE_KEY:
            quote_memo[s] = out
    return out


def _plain_safe(s: str) -> bool:
    """A non-empty ``s`` written plain reads back as this text (whatever type a reader then resolves)."""
    return not (
        s[0] in _UNSAFE_START
        or s[0] in " -?:" and (len(s) == 1 or s[1] == " " or s[0] == " ")
        or s[-1] in " :"
        or ": " in s
        or " #" in s
        or s.startswith(("---", "..."))
        or _SPECIAL_CHARS.search(s)
        or "\n" in s
        or "\r" in s
    )


def _quoted(s: str) -> str:
    """Single quotes when that avoids escaping double quotes, else JSON-style double quotes."""
    if '"' in s and "'" not in s and not _SPECIAL_CHARS.search(s) and "\n" not in s and "\r" not in s:
        return "'" + s + "'"
    if _SURROGATES.search(s):  # no UTF-8 text can hold one: refuse rather than write broken output
        raise InputError(f"cannot write a string holding a lone UTF-16 surrogate: {s[:60]!r}")
    return encode_basestring(s).translate(_YAML_ESCAPES)


def scalar(v: Any) -> str:
    """How a scalar (or a mapping key) is written."""
    if type(v) in PLAIN_TYPES:
        return v.text
    if type(v) is TaggedStr:  # the tag decides the type: plain unless the text itself needs quotes
        return v.tag + " " + (v if v and _plain_safe(v) else _quoted(v))
    if isinstance(v, str):
        return string(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        if v != v:
            return ".nan"
        if v in (float("inf"), float("-inf")):
            return ".inf" if v > 0 else "-.inf"
        text = repr(float(v))
        return text if ("." in text or "e" in text) else text + ".0"
    if isinstance(v, frozenset):  # how yaml-rs (and so the exact loader) reads a mapping used as a key
        raise InputError("cannot write a mapping used as a mapping key (a complex key) in block style")
    raise InputError(f"cannot write a value of type {type(v).__name__}: {v!r}"[:200])
