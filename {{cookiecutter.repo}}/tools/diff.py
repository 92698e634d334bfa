"""What changes in the cluster between a git ref and the working tree (`make diff`, `BASE=<ref>`).

Usage: python -m tools.diff [--base REF] [--markdown]

BASE's side is the rendered output committed at BASE: what Flux applies from that commit. The working
tree's side is what `make render` makes of the sources now (rendered on a scratch copy, so the repo is
not touched and a forgotten `make render` does not hide a change). Objects are compared per Flux layer
(`kubernetes/rendered/<cluster>/<layer>/`): added, removed, changed with a unified diff of the rendered
YAML. Secret values are never shown, encrypted or not: each is replaced by a marker saying whether it
changed, and the sops metadata (which changes on every edit) is left out.
"""

from __future__ import annotations

import argparse
import difflib
import io
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from tools import manifests
from tools.manifests import RENDERED
from tools.validate import drift
from tools.validate.repo import Repo

ROOT = Path(__file__).resolve().parent.parent
SECRET_FIELDS = ("data", "stringData")
# GitHub refuses comments over 65 536 characters; the markdown is cut before that, saying so.
MARKDOWN_LIMIT = 60_000

Key = tuple[str, str, str, str, str]  # cluster, layer, kind, namespace, name


class DiffError(Exception):
    pass


@dataclass(frozen=True)
class Change:
    key: Key
    verb: str  # added, removed, changed
    diff: list[str]

    @property
    def layer(self) -> str:
        return f"{self.key[0]}/{self.key[1]}"

    @property
    def title(self) -> str:
        _, _, kind, namespace, name = self.key
        return f"{kind} {namespace + '/' if namespace else ''}{name}"


def masked(doc: dict, before: dict | None) -> str:
    """A Secret as YAML with every value replaced by a marker; on the working tree's side (``before`` is
    BASE's copy) the marker says whether the value differs from BASE's."""
    shown = {k: v for k, v in doc.items() if k != "sops"}
    for field in SECRET_FIELDS:
        values = doc.get(field)
        if isinstance(values, dict):
            theirs = (before or {}).get(field) or {}
            shown[field] = {
                key: "<masked>" if before is None or theirs.get(key) == value else "<masked, changed>"
                for key, value in values.items()
            }
    return yaml.safe_dump(shown, sort_keys=True, default_flow_style=False)


def objects(files: dict[str, str]) -> dict[Key, tuple[dict, str]]:
    """(cluster, layer, kind, namespace, name) -> (document, text) for every rendered object."""
    found = {}
    for name, text in files.items():
        parts = name.split("/")
        if len(parts) < 4 or parts[-1].startswith("kustomization."):
            continue
        for m in manifests.parse_documents(text, name):
            found[(parts[0], parts[1], m.kind, m.namespace, m.name)] = (m.doc, m.text)
    return found


def shown(entry: tuple[dict, str] | None, before: tuple[dict, str] | None = None) -> list[str]:
    """An object's lines as the diff shows them (``before``: BASE's copy, when this is the working tree's)."""
    if entry is None:
        return []
    doc, text = entry
    if doc.get("kind") == "Secret":
        text = masked(doc, before[0] if before else None)
    return text.splitlines()


def compare(base: dict[str, str], work: dict[str, str], base_name: str) -> list[Change]:
    before, after = objects(base), objects(work)
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        old_lines, new_lines = shown(old), shown(new, old)
        if old is not None and new is not None and old_lines == new_lines:
            continue
        verb = "added" if old is None else "removed" if new is None else "changed"
        name = "/".join(key[2:])
        diff = list(difflib.unified_diff(old_lines, new_lines, f"{base_name}/{name}", f"working tree/{name}", lineterm=""))
        changes.append(Change(key, verb, diff))
    return changes


def report(changes: list[Change], base_name: str, markdown: bool) -> str:
    if not changes:
        return f"No change in the cluster between {base_name} and the working tree.\n"
    out = [f"{'## ' if markdown else ''}What changes in the cluster: {base_name} → working tree", ""]
    for layer in sorted({c.layer for c in changes}):
        mine = [c for c in changes if c.layer == layer]
        counts = ", ".join(f"{sum(c.verb == verb for c in mine)} {verb}" for verb in ("added", "removed", "changed") if any(c.verb == verb for c in mine))
        out.append(f"{'### ' if markdown else ''}layer {layer}: {counts}")
        out.extend(f"- {c.verb} {c.title}" for c in mine)
        out.append("")
        for c in mine:
            out.extend([f"<details><summary>{c.verb} {c.title}</summary>", "", "```diff", *c.diff, "```", "", "</details>"] if markdown else c.diff)
            out.append("")
    text = "\n".join(out)
    if markdown and len(text) > MARKDOWN_LIMIT:
        text = text[:MARKDOWN_LIMIT] + "\n```\n\n… cut here (too long for a comment): run `make diff` locally for the rest.\n"
    return text.rstrip("\n") + "\n"


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True)


def committed(ref: str) -> dict[str, str]:
    """Rendered files at ``ref``, relative to kubernetes/rendered/ (empty when it had none)."""
    commit = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode:
        raise DiffError(f"BASE={ref}: not a commit in this repository")
    if git("cat-file", "-e", f"{ref}:{RENDERED}").returncode:
        return {}
    archive = git("archive", "--format=tar", ref, "--", RENDERED)
    if archive.returncode:
        raise DiffError(f"BASE={ref}: git archive failed: {archive.stderr.decode(errors='replace').strip()}")
    files = {}
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member) if member.isfile() else None
            if extracted is not None:
                files[member.name.removeprefix(RENDERED + "/")] = extracted.read().decode("utf-8")
    return files


def rendered_now() -> dict[str, str]:
    """What `make render` makes of the working tree, rendered on a scratch copy."""
    with tempfile.TemporaryDirectory(prefix="diff-render-") as tmp:
        scratch = Path(tmp) / "repo"
        error = drift.render_copy(Repo(ROOT), scratch)
        if error:
            raise DiffError(f"`make render` fails on the working tree: {error}")
        return {name: content.decode("utf-8") for name, content in drift.files_under(scratch / RENDERED).items()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.diff", description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="the git ref to compare with (default HEAD)")
    parser.add_argument("--markdown", action="store_true", help="a pull-request comment instead of plain text")
    args = parser.parse_args(argv)
    try:
        base = committed(args.base)
        changes = compare(base, rendered_now(), args.base)
    except (DiffError, yaml.YAMLError) as err:
        print(f"diff: {err}".splitlines()[0], file=sys.stderr)
        return 1
    sys.stdout.write(report(changes, args.base, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
