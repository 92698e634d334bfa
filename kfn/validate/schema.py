"""Stage 4, schemas: every applied document against the Kubernetes OpenAPI schemas or a vendored CRD schema.

Built-in kinds use the `kubernetes-validate` wheel (offline, strict: unknown fields fail). CRDs use
the JSON schemas in ``schemas/`` made strict the same way. A kind with neither is a problem: an
unknown kind usually means a wrong apiVersion, and the API server would refuse it.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path

from importlib.resources import files

import jsonschema
import kubernetes_validate.utils as kv

from kfn.validate.problems import Problem
from kfn.validate.repo import Manifest

STAGE = "schema"
SCHEMA_DIR = Path(__file__).parent / "schemas"
DEFAULT_KUBERNETES_VERSION = "1.30"
MESSAGE_LIMIT = 240


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def is_builtin_group(group: str) -> bool:
    """Core and k8s.io groups ship with Kubernetes; dotted groups elsewhere are CRDs."""
    return "." not in group or group.endswith(".k8s.io")


def strict(node: object) -> object:
    """openapi2jsonschema --strict: closed objects, and ``nullable`` admits null."""
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items()}
    if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def vendored_file(group: str, version: str, kind: str) -> Path:
    return SCHEMA_DIR / group / f"{kind.lower()}_{version}.json"


@lru_cache(maxsize=None)
def crd_validator(group: str, version: str, kind: str) -> jsonschema.Draft202012Validator | None:
    path = vendored_file(group, version, kind)
    if not path.is_file():
        return None
    return jsonschema.Draft202012Validator(strict(json.loads(path.read_text(encoding="utf-8"))))


@lru_cache(maxsize=None)
def known_api_versions(kind: str, kubernetes_version: str) -> tuple[str, ...]:
    """apiVersions that do have a schema for ``kind``, to name the likely fix."""
    found = {f"{p.parent.name}/{p.stem.rsplit('_', 1)[1]}" for p in SCHEMA_DIR.glob(f"*/{kind.lower()}_*.json")}
    versions = [v for v in kv.all_versions() if minor_of(v) <= minor_of(kubernetes_version)] or kv.all_versions()
    schema_dir = files("kubernetes_validate") / "kubernetes-json-schema" / f"v{versions[-1]}-local"
    for entry in schema_dir.iterdir():
        if re.fullmatch(re.escape(kind.lower()) + r"(-[a-z0-9]+)*-v[0-9a-z]+\.json", entry.name):
            enum = json.loads(entry.read_text()).get("properties", {}).get("apiVersion", {}).get("enum") or []
            found.update(enum)
    return tuple(sorted(found))


def short(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 1] + "…"


def error_field(path: object) -> str:
    return ".".join(str(p) for p in path) or "-"


def unknown_kind(m: Manifest, kubernetes_version: str) -> Problem:
    known = known_api_versions(m.kind, kubernetes_version)
    fix = f"use apiVersion {' or '.join(known)}" if known else "vendor the CRD's schema in kfn/validate/schemas/ (see its README) or fix kind/apiVersion"
    what = f"no schema for {m.api_version} {m.kind} in Kubernetes {kubernetes_version} or the vendored CRDs"
    return Problem(m.file, m.ident, "apiVersion", what, fix, STAGE)


def check_doc(m: Manifest, kubernetes_version: str) -> Problem | None:
    if not m.api_version or not m.kind:
        return Problem(m.file, m.ident, "apiVersion" if not m.api_version else "kind", "missing", "every manifest needs apiVersion and kind", STAGE)
    doc = {k: v for k, v in m.doc.items() if k != "sops"}
    group, version = split_api_version(m.api_version)
    if not is_builtin_group(group):
        validator = crd_validator(group, version, m.kind)
        if validator is None:
            return unknown_kind(m, kubernetes_version)
        error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
        if error is None:
            return None
        return Problem(m.file, m.ident, error_field(error.absolute_path), short(error.message), f"fix it to match the {m.api_version} {m.kind} schema", STAGE)
    try:
        kv.validate(copy.deepcopy(doc), kubernetes_version, strict=True)
    except kv.SchemaNotFoundError:
        return unknown_kind(m, kubernetes_version)
    except kv.ValidationError as error:
        return Problem(m.file, m.ident, error_field(error.path), short(error.message), f"fix it to match the Kubernetes {kubernetes_version} {m.api_version} {m.kind} schema", STAGE)
    return None


def minor_of(version: str) -> tuple[int, int]:
    major, minor = version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


def check_version(kubernetes_version: str) -> None:
    """Fail early, in one line, on a version the wheel has no schemas for."""
    known = kv.all_versions()
    if not re.fullmatch(r"v?\d+\.\d+(\.\d+)?", kubernetes_version) or not minor_of(known[0]) <= minor_of(kubernetes_version) <= minor_of(known[-1]):
        raise SystemExit(f"validate: --kubernetes-version {kubernetes_version!r} is not supported (kubernetes-validate has schemas for {kv.major_minor(known[0])} to {kv.major_minor(known[-1])})")


def check(applied: list[Manifest], kubernetes_version: str) -> list[Problem]:
    out = []
    for m in applied:
        problem = check_doc(m, kubernetes_version)
        if problem is not None:
            out.append(problem)
    return out
