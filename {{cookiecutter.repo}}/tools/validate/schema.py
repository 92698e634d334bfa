"""Stage 4, schemas: every applied document against the Kubernetes OpenAPI schemas or a vendored CRD schema.

Built-in kinds use the strict JSON schemas shipped in the `kubernetes-validate` wheel (offline;
unknown fields fail), resolved the way its ``validate`` resolves them. We compile each schema once
instead of calling ``validate`` per document, which re-reads the 1.4 MB definitions file every
time (about 8x slower here). CRDs use the JSON schemas in ``schemas/`` here, or the repo's own ``schemas/`` folder (the user's, for
CRDs the template does not ship), made strict the same way. A built-in group without the kind, or a CRD
group whose schema is known under another version, is an error: a wrong apiVersion the API server
refuses. A CRD nobody vendored is a warning naming the user's folder: Flux may well accept it.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import jsonschema
import kubernetes_validate.utils as kv
from referencing import Registry, Resource

from tools.validate.problems import Problem
from tools.manifests import Manifest

STAGE = "schema"
SCHEMA_DIR = Path(__file__).parent / "schemas"
USER_SCHEMA_DIR = "schemas"  # in the repo root: the user's own CRD schemas, never touched by template updates
DEFAULT_KUBERNETES_VERSION = "1.30"
MESSAGE_LIMIT = 240
Validator = jsonschema.Draft202012Validator


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


# k8s.io groups that are CRDs installed separately: the CSI external-snapshotter's and Gateway API's.
CRD_GROUPS_UNDER_K8S_IO = ("snapshot.storage.k8s.io", "gateway.networking.k8s.io")


def is_builtin_group(group: str) -> bool:
    """Core and k8s.io groups ship with Kubernetes; dotted groups elsewhere (and *.x-k8s.io) are CRDs."""
    if group in CRD_GROUPS_UNDER_K8S_IO or group.endswith(".x-k8s.io"):
        return False
    return "." not in group or group.endswith(".k8s.io")


def minor_of(version: str) -> tuple[int, int]:
    major, minor = version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


def version_problem(kubernetes_version: str) -> str | None:
    """Why the wheel has no schemas for ``kubernetes_version``, or None."""
    known = kv.all_versions()
    if not re.fullmatch(r"v?\d+\.\d+(\.\d+)?", kubernetes_version) or not minor_of(known[0]) <= minor_of(kubernetes_version) <= minor_of(known[-1]):
        return f"{kubernetes_version!r} is not supported (kubernetes-validate has schemas for {kv.major_minor(known[0])} to {kv.major_minor(known[-1])})"
    return None


def check_version(kubernetes_version: str) -> None:
    """Fail early, in one line, on a --kubernetes-version the wheel has no schemas for."""
    why = version_problem(kubernetes_version)
    if why:
        raise SystemExit(f"validate: --kubernetes-version {why}")


@lru_cache(maxsize=None)
def builtin_schema_dir(kubernetes_version: str) -> str:
    """The wheel's newest schema set not newer than the wanted version (as its validate picks)."""
    usable = [v for v in kv.all_versions() if minor_of(v) <= minor_of(kubernetes_version)]
    return f"kubernetes-json-schema/v{usable[-1]}-local-strict"


@lru_cache(maxsize=None)
def builtin_definitions(schema_dir: str) -> Resource:
    return Resource.from_contents(kv.schema_contents(f"{schema_dir}/_definitions.json", schema_dir))


@lru_cache(maxsize=None)
def builtin_validator(api_version: str, kind: str, kubernetes_version: str) -> Validator | None:
    schema_dir = builtin_schema_dir(kubernetes_version)
    # The wheel's file naming: rbac.authorization.k8s.io/v1 -> rbac-v1, apps/v1 -> apps-v1, v1 -> v1.
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv.schema_contents(f"{schema_dir}/{kind.lower()}-{api}.json", kubernetes_version)
    except FileNotFoundError:
        return None
    registry = builtin_definitions(schema_dir) @ (Resource.from_contents(schema) @ Registry())
    return Validator(schema, registry=registry)


def strict(node: object) -> object:
    """openapi2jsonschema --strict: closed objects, and ``nullable`` admits null."""
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items()}
    # Only object schemas close: a oneOf/anyOf branch that lists properties without `type` is a
    # constraint on its parent (Gateway API's `addresses` items), not an object of its own.
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


@lru_cache(maxsize=None)
def crd_validator(api_version: str, kind: str, user_dir: Path) -> Validator | None:
    group, version = split_api_version(api_version)
    for directory in (user_dir, SCHEMA_DIR):
        path = directory / group / f"{kind.lower()}_{version}.json"
        if path.is_file():
            return Validator(strict(json.loads(path.read_text(encoding="utf-8"))))
    return None


def validator_for(api_version: str, kind: str, kubernetes_version: str, user_dir: Path) -> Validator | None:
    if is_builtin_group(split_api_version(api_version)[0]):
        return builtin_validator(api_version, kind, kubernetes_version)
    return crd_validator(api_version, kind, user_dir)


@lru_cache(maxsize=None)
def known_api_versions(kind: str, kubernetes_version: str, user_dir: Path) -> tuple[str, ...]:
    """apiVersions that do have a schema for ``kind``, to name the likely fix."""
    found = {f"{p.parent.name}/{p.stem.rsplit('_', 1)[1]}" for d in (user_dir, SCHEMA_DIR) for p in d.glob(f"*/{kind.lower()}_*.json")}
    pattern = re.compile(re.escape(kind.lower()) + r"(-[a-z0-9]+)*-v[0-9a-z]+\.json")
    for entry in (files("kubernetes_validate") / builtin_schema_dir(kubernetes_version)).iterdir():
        if pattern.fullmatch(entry.name):
            found.update(json.loads(entry.read_text()).get("properties", {}).get("apiVersion", {}).get("enum") or [])
    return tuple(sorted(found))


def short(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 1] + "…"


def unknown_kind(m: Manifest, kubernetes_version: str, user_dir: Path) -> Problem:
    known = known_api_versions(m.kind, kubernetes_version, user_dir)
    what = f"no schema for {m.api_version} {m.kind} in Kubernetes {kubernetes_version} or the vendored CRDs"
    if known or is_builtin_group(split_api_version(m.api_version)[0]):
        fix = f"use apiVersion {' or '.join(known)}" if known else "fix kind/apiVersion: Kubernetes has no such built-in kind"
        return Problem(m.file, m.ident, "apiVersion", what, fix, STAGE)
    group, version = split_api_version(m.api_version)
    fix = f"its fields are not checked; to check them, save the CRD's openAPIV3Schema as JSON at {USER_SCHEMA_DIR}/{group}/{m.kind.lower()}_{version}.json"
    return Problem(m.file, m.ident, "apiVersion", what, fix, STAGE, severity="warning")


def check_doc(m: Manifest, kubernetes_version: str, user_dir: Path) -> Problem | None:
    if not m.api_version or not m.kind:
        return Problem(m.file, m.ident, "apiVersion" if not m.api_version else "kind", "missing", "every manifest needs apiVersion and kind", STAGE)
    validator = validator_for(m.api_version, m.kind, kubernetes_version, user_dir)
    if validator is None:
        return unknown_kind(m, kubernetes_version, user_dir)
    # Flux decrypts before applying: the sops block never reaches the API server.
    error = jsonschema.exceptions.best_match(validator.iter_errors({k: v for k, v in m.doc.items() if k != "sops"}))
    if error is None:
        return None
    field = ".".join(str(p) for p in error.absolute_path) or "-"
    where = f"Kubernetes {kubernetes_version}" if is_builtin_group(split_api_version(m.api_version)[0]) else "the vendored"
    return Problem(m.file, m.ident, field, short(error.message), f"fix it to match the {where} {m.api_version} {m.kind} schema", STAGE)


def check(applied: list[Manifest], kubernetes_version: str, repo_root: Path) -> list[Problem]:
    user_dir = repo_root / USER_SCHEMA_DIR
    return [p for p in (check_doc(m, kubernetes_version, user_dir) for m in applied) if p is not None]
