"""What source-controller leaves out of the artifact Flux builds from: the repo's `.sourceignore`.

Flux docs, GitRepository "Excluding files": `.sourceignore` at the repo root holds gitignore patterns, and
matching files are not in the artifact, so no Kustomization can build them. The subset implemented here is
the one a gitignore file of this repo needs: comments and blank lines, `!` negation, a trailing `/` (a
directory only), a `/` at the start or in the middle (anchored at the root; otherwise a name matched at
any depth), and the globs `*`, `?` and `**`. A path is left out when it or one of its parent directories
is (git does not look inside an excluded directory, so a negation cannot bring a file back from one).
Flux's own default exclusions (VCS metadata, CI files) never hold a Kubernetes manifest of this repo and
are not modelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

FILE = ".sourceignore"


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    negated: bool
    directory_only: bool


def glob_regex(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


def parse(text: str) -> list[Pattern]:
    found = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line[negated:]
        directory_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        body = glob_regex(line.lstrip("/"))
        found.append(Pattern(re.compile(body if anchored else f"(?:.*/)?{body}"), negated, directory_only))
    return found


class SourceIgnore:
    """The repo's exclusions; `excluded(rel)` for a repo-relative file path."""

    def __init__(self, root: Path) -> None:
        path = root / FILE
        self.patterns = parse(path.read_text(encoding="utf-8")) if path.is_file() else []

    def matches(self, rel: str, is_dir: bool) -> bool:
        verdict = False
        for pattern in self.patterns:
            if (is_dir or not pattern.directory_only) and pattern.regex.fullmatch(rel):
                verdict = not pattern.negated
        return verdict

    def excluded(self, rel: str | PurePosixPath) -> bool:
        parts = PurePosixPath(rel).parts
        return any(self.matches("/".join(parts[:i]), i < len(parts)) for i in range(1, len(parts) + 1))
