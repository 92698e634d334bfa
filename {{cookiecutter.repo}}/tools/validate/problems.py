"""One problem per line: where it is, what is wrong, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str      # repo-relative path of the file to change
    resource: str  # "Kind/name", or "-" when the problem is about a file or a directory
    field: str     # dotted field path, or "-"
    what: str
    fix: str
    stage: str = ""
    detail: str = ""  # extra lines shown indented under the problem (a short diff)
    severity: str = "error"  # "warning": printed, but `make validate` still passes
    source: str = ""  # for a rendered resource: the file a user edits (tools/validate/origin.py)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def line(self) -> str:
        lead = "" if self.is_error else f"{self.severity}: "
        where = f"{self.source} (rendered: {self.file})" if self.source else self.file
        return f"{lead}{where}: {self.resource}: {self.field}: {self.what} — {self.fix}"

    def render(self) -> str:
        extra = "".join(f"    {line}\n" for line in self.detail.splitlines())
        return self.line() + "\n" + extra
