"""Manifests as this repo's tooling reads them: where they live, how a stream is cut into documents, and
what identifies one. One module for the renderer (tools/render.py), the validator (tools/validate/) and
the key tooling (tools/sops_files.py), so the three never disagree on a document boundary or a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

KUBERNETES = "kubernetes"
RENDERED = "kubernetes/rendered"
SOPS_SUFFIXES = (".sops.yaml", ".sops.yml")
SOPS_CONFIG = ".sops.yaml"
AGE_KEY = "age.agekey"  # git-ignored: *.agekey
CRUFT_RECORD = ".cruft.json"  # the answers record (cruft's format)

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DOC_START = re.compile(r"^---[ \t]*$", re.M)

Identity = tuple[str, str, str]  # kind, namespace, name


@dataclass(frozen=True)
class Manifest:
    """One YAML document: its parsed value, the file it lives in, and its own text."""

    doc: dict
    file: str
    text: str

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind") or "")

    @property
    def api_version(self) -> str:
        return str(self.doc.get("apiVersion") or "")

    @property
    def name(self) -> str:
        return str((self.doc.get("metadata") or {}).get("name") or "")

    @property
    def namespace(self) -> str:
        return str((self.doc.get("metadata") or {}).get("namespace") or "")

    @property
    def identity(self) -> Identity:
        return self.kind, self.namespace, self.name

    @property
    def ident(self) -> str:
        return f"{self.kind or '?'}/{self.name or '?'}"

    @property
    def encrypted(self) -> bool:
        return isinstance(self.doc.get("sops"), dict)


def split_documents(text: str) -> list[str]:
    """Cut a multi-document stream at its ``---`` lines, keeping each document's text."""
    return [chunk for chunk in _DOC_START.split(text) if chunk.strip()]


def parse_documents(text: str, file: str) -> list[Manifest]:
    """Every mapping document in ``text``; raises yaml.YAMLError on bad YAML."""
    out = []
    for chunk in split_documents(text):
        doc = yaml.load(chunk, Loader=LOADER)
        if isinstance(doc, dict):
            out.append(Manifest(doc, file, chunk.lstrip("\n")))
    return out


def selector_matches(selector: dict, labels: dict) -> bool:
    """metav1.LabelSelector semantics (an empty selector matches everything)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if str(labels.get(key)) != str(value) or key not in labels:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), [str(v) for v in expr.get("values") or []]
        present = key in labels
        if op == "In" and not (present and str(labels[key]) in values):
            return False
        if op == "NotIn" and present and str(labels[key]) in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True
