"""YAML in and out: YAML 1.2 meaning, verbatim pass-through, block style, no aliases.

Two parse backends give the same values: yaml-rs (fast, the default) and PyYAML
with a YAML 1.2 core-schema resolver (``KFN_YAML=pyyaml``, also used whenever
yaml-rs is not installed). The emitter is our own, so both backends write the
same bytes.

Why the block splitter: kpt and kustomize send block-style ResourceLists and
multi-document streams. Cutting the text into one chunk per item lets kfn write
every item it did not change back byte for byte (comments, key order, quoting
and YAML 1.1 traps such as ``yes`` or ``0777`` all survive) and keeps the cost
of a run close to a bare parse. Input the splitter cannot cut safely (flow
style, JSON, directives, CRLF) is parsed whole and re-emitted.

Plain scalars in items kfn edits keep their source text (``0777`` stays
``0777``, ``on`` stays ``on``): the exact loader wraps them in ``Plain*``
types that the emitter writes back verbatim.
"""

from __future__ import annotations

import os
import re
from _json import encode_basestring  # the C half of json: no json package import at start-up
from typing import Any, Callable, Iterator

from kfn.errors import InputError

# --- scalars -----------------------------------------------------------------


class PlainInt(int):
    """An int read from a plain scalar whose source text is not canonical."""

    text: str


class PlainFloat(float):
    """A float read from a plain scalar whose source text is not canonical."""

    text: str


class PlainStr(str):
    """A string read from a plain scalar that the emitter would have quoted."""

    text: str


_PLAIN_TYPES = (PlainInt, PlainFloat, PlainStr)

# Strings any YAML 1.1 or 1.2 reader might take for something else; the
# emitter quotes them (rule 10). Loose on purpose: quoting too much is harmless.
_AMBIGUOUS = re.compile(
    r"""(?:y|yes|n|no|true|false|on|off|null|~|<<|=
        |[-+]?\.?[0-9][0-9_:.]*(?:[eE][-+]?[0-9_]+)?
        |[-+]?0[xob][0-9a-f_]+
        |[-+]?\.(?:inf|nan)
        |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[tT \t].*)?
        )\Z""",
    re.IGNORECASE | re.VERBOSE,
)
# Scalars yaml-rs reads to a value the emitter writes back with the same text.
_CANONICAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?|true|false|null")
_UNSAFE_START = frozenset("!&*{}[]|>'\"%@`#,")
_SPECIAL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029\ufeff\t]")
# Characters JSON leaves raw but YAML does not count as printable.
_YAML_ESCAPES = {0x7F: "\\x7f", 0x85: "\\N", 0x2028: "\\L", 0x2029: "\\P", 0xFEFF: "\\ufeff"}
_quote_memo: dict[str, str] = {}


def _string(s: str) -> str:
    """How a one-line string is written: plain when unambiguous, else double-quoted."""
    out = _quote_memo.get(s)
    if out is None:
        if (
            not s
            or _AMBIGUOUS.match(s)
            or s[0] in _UNSAFE_START
            or s[0] in " -?:" and (len(s) == 1 or s[1] == " " or s[0] == " ")
            or s[-1] in " :"
            or ": " in s
            or " #" in s
            or s.startswith(("---", "..."))
            or _SPECIAL_CHARS.search(s)
            or "\n" in s
            or "\r" in s
        ):
            out = _quoted(s)
        else:
            out = s
        if len(_quote_memo) < 100_000:
            _quote_memo[s] = out
    return out


def _quoted(s: str) -> str:
    """Single quotes when that avoids escaping double quotes, else JSON-style double quotes."""
    if '"' in s and "'" not in s and not _SPECIAL_CHARS.search(s) and "\n" not in s and "\r" not in s:
        return "'" + s + "'"
    return encode_basestring(s).translate(_YAML_ESCAPES)


def scalar(v: Any) -> str:
    """How a scalar (or a mapping key) is written."""
    if type(v) in _PLAIN_TYPES:
        return v.text
    if isinstance(v, str):
        return _string(v)
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
    raise InputError(f"cannot write a value of type {type(v).__name__}: {v!r}")


def _literal_ok(s: str) -> bool:
    """A multi-line string fits a literal block scalar (else it is double-quoted)."""
    return (
        not s.startswith((" ", "\n"))
        and not s.endswith("\n\n")
        and _SPECIAL_CHARS.search(s.replace("\t", "")) is None
        and "\r" not in s
        and not any(line.endswith(" ") for line in s.split("\n"))
    )


# --- emitter -----------------------------------------------------------------


def _emit_value(v: Any, head: str, ind: int, out: list[str]) -> None:
    """Write ``v`` after ``head`` (a ``key:`` or ``-`` line start) at indent ``ind``."""
    if isinstance(v, dict) and v:
        out.append(head + "\n")
        _emit_map(v, ind + 2, out)
    elif isinstance(v, list) and v:
        out.append(head + "\n")
        _emit_seq(v, ind, out)
    elif isinstance(v, dict):
        out.append(head + " {}\n")
    elif isinstance(v, list):
        out.append(head + " []\n")
    elif isinstance(v, str) and "\n" in v and type(v) is not PlainStr and _literal_ok(v):
        chomp = "" if v.endswith("\n") else "-"
        pad = " " * (ind + 2)
        body = v[:-1] if v.endswith("\n") else v
        out.append(head + " |" + chomp + "\n")
        out.extend(pad + line + "\n" if line else "\n" for line in body.split("\n"))
    else:
        out.append(head + " " + scalar(v) + "\n")


def _emit_map(m: dict, ind: int, out: list[str], first: str | None = None) -> None:
    pad = " " * ind
    memo = _quote_memo
    for k, v in m.items():
        key = memo.get(k) if k.__class__ is str else None  # exact type: Plain* write their own text
        head = (first if first is not None else pad) + (key if key is not None else scalar(k)) + ":"
        first = None
        # Fast path for the most common value, a one-line string.
        if v.__class__ is str and "\n" not in v:
            text = memo.get(v)
            out.append(head + " " + (text if text is not None else _string(v)) + "\n")
        else:
            _emit_value(v, head, ind, out)


def _emit_seq(seq: list, ind: int, out: list[str], first: str | None = None) -> None:
    pad = " " * ind + "-"
    for v in seq:
        dash = pad if first is None else first + "-"
        first = None
        if isinstance(v, dict) and v:
            _emit_map(v, ind + 2, out, first=dash + " ")
        elif isinstance(v, list) and v:
            _emit_seq(v, ind + 2, out, first=dash + " ")
        else:
            _emit_value(v, dash, ind, out)


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


def backend() -> str:
    """The configured parse backend: ``yaml-rs`` (default) or ``pyyaml``."""
    wanted = os.environ.get("KFN_YAML", "yaml-rs").strip().lower().replace("_", "-")
    if wanted not in ("yaml-rs", "pyyaml"):
        raise InputError(f'KFN_YAML: "{wanted}" is not one of yaml-rs, pyyaml')
    if wanted == "yaml-rs":
        try:
            import yaml_rs  # noqa: F401
        except ImportError:
            return "pyyaml"
    return wanted


def _parse_fast(text: str) -> Any:
    import yaml_rs

    try:
        return yaml_rs.loads(text, parse_datetime=False)
    except yaml_rs.YAMLDecodeError as err:
        raise InputError("invalid YAML: " + " ".join(str(err).split())) from None


def _parse_exact(text: str) -> Any:
    from kfn import pyyaml_core

    return pyyaml_core.load(text)


def _exact_round_trip(text: str) -> bool:
    """True when every plain scalar in ``text`` survives yaml-rs plus our emitter."""
    if _SUSPECT.search(text) is None:
        return True
    for token in _TOKEN.findall(text):
        if _AMBIGUOUS.match(token) and not _CANONICAL.fullmatch(token):
            return False
    return True


# Cheap first look for values that might be traps (sign, dot, leading zero, separators, 1.1 words).
_SUSPECT = re.compile(
    r"(?:[:\-][ \t]+|[,\[{][ \t]*)(?:[-+]?\.[0-9a-zA-Z]|[-+][0-9]|~|<<|0[0-9a-zA-Z_]|[0-9]+[_:eE.]|[0-9]{4}-"
    r"|(?:[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF|True|TRUE|False|FALSE|Null|NULL)[ \t]*(?:$|#|,|\]|\}|:[ \t]|:$))",
    re.M,
)
# A plain scalar that may not survive yaml-rs plus our emitter: numbers, dates and
# YAML 1.1 words. Over-matches on purpose; a false hit only costs an exact re-parse.
_TOKEN = re.compile(
    r"(?<![^\s\[{,])([-+]?\.?[0-9][\w.:+-]*|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)|~|<<"
    r"|[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF|True|TRUE|False|FALSE|Null|NULL)"
    r"(?=[ \t]*(?:$|#|,|\]|\}|:[ \t]|:$))",
    re.M,
)


def parser(*, exact: bool = False) -> Callable[[str], Any]:
    """The function that parses one document; ``exact`` keeps the source text of plain scalars."""
    return _parse_exact if exact or backend() == "pyyaml" else _parse_fast


def parse(text: str, *, exact: bool = False) -> Any:
    return parser(exact=exact)(text)


# --- block splitting ---------------------------------------------------------

# A line at column 0 that is not a sequence entry or comment (searched in "\n" + text).
_TOP_LEVEL = re.compile(r"\n(?!-[ \n])([^ \n#][^\n]*)")
_SIMPLE_KEY = re.compile(r"([A-Za-z_][\w.-]*):(?:[ \t]+(.*))?$")


class Chunked:
    """Parsed items plus, when the input could be cut, each item's source text."""

    api_version = "config.kubernetes.io/v1"

    def __init__(self, items: list, chunks: list[str] | None, dash_indent: int = 0) -> None:
        self.items = items
        self.chunks = chunks
        self.dash_indent = dash_indent

    def text_of(self, index: int, item: Any) -> str | None:
        """The verbatim source of item ``index`` if ``item`` is still that parsed object."""
        if self.chunks is not None and self.items[index] is item:
            return self.chunks[index]
        return None

    def leading_comments(self, index: int) -> str:
        """Comment lines before item ``index`` in the input, kept when the item is re-emitted."""
        if self.chunks is None:
            return ""
        lines = self.chunks[index].split("\n")
        kept = []
        for line in lines:
            if line.strip() and not line.lstrip().startswith("#"):
                break
            kept.append(line + "\n")
        return "".join(kept)


def _split_items(region: str) -> tuple[list[str], int] | None:
    """Cut the body of a block ``items:`` sequence into one text per entry.

    Patterns start with a literal newline (the region gets one in front) so the
    regex engine can skip ahead instead of testing every position.
    """
    text = "\n" + region
    first = re.search(r"\n( *)-[ \n]", text)
    if first is None:
        return ([], 0) if _only_comments(region) else None
    n = len(first.group(1))
    if n and re.search(r"\n {0,%d}[^ \n#]" % (n - 1), text):
        return None  # something less indented than the entries
    if re.search(r"\n {%d}(?!-[ \n])[^ \n#]" % n, text):
        return None  # something at the entries' indent that is not an entry
    starts = [m.start() for m in re.finditer(r"\n {%d}-[ \n]" % n, text)]  # == line start in region
    starts[0] = 0  # leading comments travel with the first item
    starts.append(len(region))
    return [region[a:b] for a, b in zip(starts, starts[1:])], n


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.split("\n"))


def _splittable(text: str) -> bool:
    """No CRLF, directives or document markers (substring tests: far cheaper than a regex)."""
    return not ("\r" in text or text.startswith(("%", "---", "...")) or "\n%" in text or "\n---" in text or "\n..." in text)


def _parse_chunks(chunks: list[str], exact_if: Callable[[str, Any], bool] | None) -> list | None:
    load = parser()
    check_exact = exact_if is not None and load is not _parse_exact
    items = []
    for chunk in chunks:
        parsed = load(chunk)
        if not isinstance(parsed, list) or len(parsed) != 1:
            return None
        item = parsed[0]
        if check_exact and exact_if(chunk, item) and not _exact_round_trip(chunk):
            item = _parse_exact(chunk)[0]
        items.append(item)
    return items


class ResourceList(Chunked):
    """An input ResourceList: its items (with source chunks) and functionConfig."""

    def __init__(self, header: dict, items: list, chunks: list[str] | None, dash_indent: int = 0) -> None:
        super().__init__(items, chunks, dash_indent)
        self.header = header
        if header.get("apiVersion") == "config.kubernetes.io/v1beta1":
            self.api_version = "config.kubernetes.io/v1beta1"  # answer in the caller's version

    @property
    def function_config(self) -> Any:
        return self.header.get("functionConfig")


def _strip_doc_start(text: str) -> str:
    return text[4:] if text.startswith("---\n") else text


def looks_like_resource_list(text: str) -> bool:
    """Rule 1 without a full parse: a top-level ``kind: ResourceList``."""
    if re.search(r"^kind:[ \t]*[\"']?ResourceList[\"']?[ \t]*(?:#.*)?$", text, re.M):
        return True
    stripped = text.lstrip()
    if stripped.startswith("{"):
        doc = parse(text)
        return isinstance(doc, dict) and doc.get("kind") == "ResourceList"
    return False


def read_resource_list(text: str, exact_if: Callable[[str, Any], bool] | None = None) -> ResourceList:
    """Parse a KRM ResourceList; ``exact_if(text, item)`` marks items that will be edited."""
    body = _strip_doc_start(text)
    cut = _cut_resource_list(body, exact_if) if _splittable(body) else None
    if cut is None:
        doc = parse(text, exact=True)
        _check_resource_list(doc)
        return ResourceList(doc, list(doc.get("items") or []), None)
    return cut


def _cut_resource_list(body: str, exact_if: Callable[[str, Any], bool] | None) -> ResourceList | None:
    text = "\n" + body
    tops = list(_TOP_LEVEL.finditer(text))
    items_at = None
    for i, m in enumerate(tops):
        key = _SIMPLE_KEY.match(m.group(1))
        if key is None:
            return None
        if key.group(1) == "items":
            inline = (key.group(2) or "").split("#")[0].strip()
            if inline not in ("", "[]"):
                return None
            items_at = i
    if items_at is None:
        return None
    start = min(tops[items_at].end() + 1, len(text))
    end = tops[items_at + 1].start() + 1 if items_at + 1 < len(tops) else len(text)
    split = _split_items(text[start:end])
    if split is None:
        return None
    chunks, n = split
    header = parse(text[1:start] + text[end:])
    _check_resource_list(header)
    items = _parse_chunks(chunks, exact_if)
    if items is None:
        return None
    return ResourceList(header, items, chunks, n)


def _check_resource_list(doc: Any) -> None:
    if not isinstance(doc, dict):
        raise InputError("stdin: expected a ResourceList mapping, got " + type(doc).__name__)
    if doc.get("kind") != "ResourceList":
        raise InputError(f'stdin: kind "{doc.get("kind")}" is not ResourceList')
    items = doc.get("items")
    if items is not None and not isinstance(items, list):
        raise InputError("stdin: ResourceList items is not a list")
    for i, item in enumerate(items or []):
        if not isinstance(item, dict):
            raise InputError(f"stdin: items[{i}] is not a mapping")


def write_resource_list(source: Chunked, items: list, results: list[dict]) -> str:
    """The output ResourceList: unchanged items verbatim, changed ones re-emitted."""
    out = [f"apiVersion: {source.api_version}\nkind: ResourceList\n"]
    out.append("items:\n" if items else "items: []\n")
    for i, item in enumerate(items):
        text = source.text_of(i, item)
        out.append(text if text is not None else source.leading_comments(i) + dump_item(item, source.dash_indent))
    if out[-1] and not out[-1].endswith("\n"):
        out.append("\n")
    if results:
        out.append("results:\n")
        out.extend(dump_item(r, 0) for r in results)
    return "".join(out)


# --- multi-document streams (legacy exec plugin) -------------------------------

_DOC_MARKER = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:#.*)?$", re.M)


def _cut_stream(text: str) -> Iterator[str]:
    pos = 0
    for m in _DOC_MARKER.finditer(text):
        yield text[pos : m.start()]
        pos = m.end() + 1
    yield text[pos:]


def read_stream(text: str, exact_if: Callable[[str, Any], bool] | None = None) -> Chunked:
    """Parse a multi-document stream of resources (what kustomize hands a legacy plugin)."""
    if "\r" in text or re.search(r"^(?:%|---[ \t]*[^ \t#\n]|\.\.\.[ \t]*[^ \t#\n])", text, re.M):
        from kfn import pyyaml_core

        docs = [d for d in pyyaml_core.load_all(text) if d is not None]
        return Chunked(_checked_docs(docs), None)
    chunks = [c for c in _cut_stream(text) if not _only_comments(c)]
    load = parser()
    check_exact = exact_if is not None and load is not _parse_exact
    docs = []
    for chunk in chunks:
        doc = load(chunk)
        if check_exact and isinstance(doc, dict) and exact_if(chunk, doc) and not _exact_round_trip(chunk):
            doc = _parse_exact(chunk)
        docs.append(doc)
    return Chunked(_checked_docs(docs), [c if c.endswith("\n") else c + "\n" for c in chunks])


def _checked_docs(docs: list) -> list:
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise InputError(f"stdin: document {i + 1} is not a mapping")
    return docs


def write_stream(source: Chunked, items: list) -> str:
    """A multi-document stream: unchanged documents verbatim, changed ones re-emitted."""
    parts = []
    for i, item in enumerate(items):
        text = source.text_of(i, item)
        parts.append(text if text is not None else source.leading_comments(i) + dump(item))
    return "---\n".join(parts)
