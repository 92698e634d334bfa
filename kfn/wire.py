"""The wire formats: a KRM ResourceList and a multi-document stream, cut per item.

kpt and kustomize send block-style YAML. Cutting the ``items:`` sequence (or the
stream) into one text per item lets kfn write every item it did not change back
byte for byte (comments, key order, quoting and YAML 1.1 traps such as ``yes``
or ``0777`` all survive) and keeps a run close to the cost of a bare parse.
The cut body is parsed in one call that must yield exactly one entry per cut, so
a wrong cut cannot go unnoticed: the whole input is parsed instead. Input the
splitter does not handle (flow style, JSON, directives, aliases across items)
takes that path too and is re-emitted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from kfn.errors import InputError
from kfn.yamlio import backend, dump, dump_item, exact_round_trip, has_anchors, lossy, parse, parse_all

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from typing import Any

# A line at column 0 that is not a sequence entry or comment (searched in "\n" + text).
_TOP_LEVEL = re.compile(r"\n(?!-[ \n])([^ \n#][^\n]*)")
_SIMPLE_KEY = re.compile(r"""(["']?)([A-Za-z_][\w.-]*)\1:(?:[ \t]+(.*))?$""")  # kpt may quote keys


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
        chunk = self.chunks[index]
        kept = []
        start = 0
        while True:  # line by line from the top: an item's own lines are never split up
            end = chunk.find("\n", start)
            line = chunk[start:] if end < 0 else chunk[start:end]
            if line.strip() and not line.lstrip().startswith("#"):
                break
            kept.append(line + "\n")
            if end < 0:
                break
            start = end + 1
        return "".join(kept)


def _split_items(region: str) -> tuple[list[str], int] | None:
    """Cut the body of a block ``items:`` sequence into one text per entry.

    Patterns start with a literal newline (the region gets one in front) so the
    regex engine can skip ahead instead of testing every position. ``region``
    runs from the ``items:`` line to the next top-level line (``_TOP_LEVEL``), so
    it holds no line at column 0 that is not an entry, comment or blank.
    """
    text = "\n" + region
    first = re.search(r"\n( *)-[ \n]", text)
    if first is None:
        return ([], 0) if _only_comments(region) else None
    n = len(first.group(1))
    if n and re.search(r"\n {0,%d}[^ \n#]" % (n - 1), text):
        return None  # something less indented than the entries
    if n and re.search(r"\n {%d}(?!-[ \n])[^ \n#]" % n, text):  # at column 0 ruled out by the caller's cut
        return None  # something at the entries' indent that is not an entry
    starts = [m.start() for m in re.finditer(r"\n {%d}-[ \n]" % n, text)]  # == line start in region
    starts[0] = 0  # leading comments travel with the first item
    starts.append(len(region))
    return [region[a:b] for a, b in zip(starts, starts[1:])], n


def _only_comments(text: str) -> bool:
    first = text.lstrip()[:1]  # the first non-blank line starts with it: decides unless it is "#"
    if first != "#":
        return not first
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.split("\n"))


def _ends_in_a_block_scalar(chunk: str) -> bool:
    """A last item that may end inside a block scalar without a line break: written back with the line
    break it needs, the scalar's value would change, so such input is parsed whole and re-emitted."""
    return not chunk.endswith("\n") and ("|" in chunk or ">" in chunk)


def normalized(text: str) -> str:
    """Line breaks as LF and no byte-order mark: what a YAML reader sees, so the splitter sees it too."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _alone(chunks: list[str]) -> dict[int, Any] | None:
    """Each chunk that may hold an anchor or alias, parsed on its own; None when one does not parse alone.

    Written back verbatim, an item must not lean on an anchor in another one: kpt
    writes items to separate files. The parse also applies the alias-expansion bound.
    """
    parsed = {}
    for i, chunk in enumerate(chunks):
        if has_anchors(chunk):
            try:
                parsed[i] = parse(chunk)
            except InputError:
                return None
    return parsed


def _parse_chunks(region: str, chunks: list[str], exact_if: Callable[[str, Any], bool] | None) -> list | None:
    """Parse the cut ``items:`` body in one call (far cheaper than one call per item).

    The parse must yield exactly one item per chunk, else the cut is not trusted
    (None). With anchors, each chunk is parsed on its own instead: anchor names
    are per item then, as they are once kpt has written the items to files.
    Items ``exact_if`` picks for editing are read exactly where it matters.
    """
    alone = _alone(chunks)
    if alone is None:
        return None
    if alone:
        items = [(alone[i] if i in alone else parse(chunk, aliases_checked=True)) for i, chunk in enumerate(chunks)]
        if any(not isinstance(one, list) or len(one) != 1 for one in items):
            return None
        items = [one[0] for one in items]
    else:
        items = parse(region, aliases_checked=True) if chunks else []
    if not isinstance(items, list) or len(items) != len(chunks):
        return None
    if exact_if is not None and backend() != "pyyaml":  # ``lossy``, with the backend looked up once
        for i, chunk in enumerate(chunks):
            if exact_if(chunk, items[i]) and not exact_round_trip(chunk):
                items[i] = parse(chunk, exact=True)[0]
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

    @property
    def results(self) -> list:
        """Results of earlier functions in the pipeline (kpt passes them along)."""
        return list(self.header.get("results") or [])


_DOC_START = re.compile(r"---[ \t]*(?:#[^\n]*)?\n")


def _strip_doc_start(text: str) -> str:
    found = _DOC_START.match(text)
    return text[found.end() :] if found else text


# A top-level "kind: ResourceList", the key and value possibly quoted.
_KIND_LINE = re.compile(r"""\n["']?kind["']?[ \t]*:[ \t]*["']?ResourceList["']?[ \t]*(?:#[^\n]*)?(?:\n|$)""")


def looks_like_resource_list(text: str) -> bool:
    """Rule 1, mostly without a full parse: a top-level ``kind: ResourceList``."""
    text = normalized(text)
    if _KIND_LINE.search("\n" + text):
        return True
    if "ResourceList" not in text:
        return False
    try:  # flow style or JSON, possibly after a directive or "---"
        doc = parse(_strip_doc_start(text))
    except InputError:
        return False  # a multi-document stream or malformed: not one ResourceList
    return isinstance(doc, dict) and doc.get("kind") == "ResourceList"


def read_resource_list(text: str, exact_if: Callable[[str, Any], bool] | None = None) -> ResourceList:
    """Parse a KRM ResourceList; ``exact_if(text, item)`` marks items that will be edited."""
    text = normalized(text)
    body = _strip_doc_start(text)
    cut = _cut_resource_list(body, exact_if)
    if cut is None:
        doc = parse(body, exact=True)
        _check_resource_list(doc)
        return ResourceList(doc, list(doc.get("items") or []), None)
    return cut


def _cut_resource_list(body: str, exact_if: Callable[[str, Any], bool] | None) -> ResourceList | None:
    text = "\n" + body
    tops = list(_TOP_LEVEL.finditer(text))
    items_at = None
    for i, m in enumerate(tops):
        key = _SIMPLE_KEY.match(m.group(1))
        if key is None:  # also every directive ("%") and document marker ("---", "..."): not one block document
            return None
        if key.group(2) == "items":
            inline = (key.group(3) or "").split("#")[0].strip()
            if inline not in ("", "[]"):
                return None
            items_at = i
    if items_at is None:
        return None
    start = min(tops[items_at].end() + 1, len(text))
    end = tops[items_at + 1].start() + 1 if items_at + 1 < len(tops) else len(text)
    region = text[start:end]
    split = _split_items(region)
    if split is None:
        return None
    chunks, n = split
    if chunks and _ends_in_a_block_scalar(chunks[-1]):
        return None
    rest = text[1:start] + text[end:]
    header = parse(rest, exact="!" in rest)  # a tag (!!set) read as the whole-parse path reads it
    _check_resource_list(header)
    items = _parse_chunks(region, chunks, exact_if)
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
    results = doc.get("results")
    if results is not None and not isinstance(results, list):
        raise InputError("stdin: ResourceList results is not a list")
    for i, item in enumerate(items or []):
        if not isinstance(item, dict):
            raise InputError(f"stdin: items[{i}] is not a mapping")


def write_resource_list(source: ResourceList, items: list, results: list[dict]) -> str:
    """The output ResourceList: unchanged items verbatim, changed ones re-emitted.

    ``results`` follow the results of earlier functions in the pipeline, which are kept;
    one already among them (kfn's own output fed back in) is not added again.
    """
    upstream = source.results
    if upstream and results:
        seen = {dump_item(r, 0) for r in upstream}
        results = [r for r in results if dump_item(r, 0) not in seen]
    results = upstream + results
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

# Line-start patterns here and below search "\n" + text: led by a literal, the regex
# engine skips ahead, several times faster than "^" in MULTILINE mode.
_DOC_MARKER = re.compile(r"\n(?:---|\.\.\.)[ \t]*(?:#.*)?$", re.M)


def _cut_stream(text: str) -> Iterator[str]:
    pos = 0
    for m in _DOC_MARKER.finditer("\n" + text):  # offsets in text: start() is the marker's, end() past its newline
        yield text[pos : m.start()]
        pos = m.end()
    yield text[pos:]


def read_stream(text: str, exact_if: Callable[[str, Any], bool] | None = None) -> Chunked:
    """Parse a multi-document stream of resources (what kustomize hands a legacy plugin)."""
    text = normalized(text)
    chunks = None
    if not _ends_in_a_block_scalar(text) and not re.search(r"\n(?:%|---[ \t]*[^ \t#\n]|\.\.\.[ \t]*[^ \t#\n])", "\n" + text):
        chunks = [c for c in _cut_stream(text) if not _only_comments(c)]
        if _alone(chunks) is None:
            chunks = None
    if chunks is None:
        return Chunked(_checked_docs([d for d in parse_all(text) if d is not None]), None)
    docs = []
    for chunk in chunks:
        doc = parse(chunk, aliases_checked=True)
        if exact_if is not None and isinstance(doc, dict) and exact_if(chunk, doc) and lossy(chunk):
            doc = parse(chunk, exact=True)
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
