"""The live cluster as `make preflight` reads it: only through the `kubectl` on PATH, and never writing.

Every call is a read (`version`, `get ... -o json`, `auth can-i`) or a server-side dry-run
(`apply --dry-run=server`, which admission and validation see but nothing stores). The user's own
kubectl and kubeconfig are used: PATH as the shell had it (the Makefile passes it in PREFLIGHT_PATH),
falling back to the repo's pinned kubectl beside this interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

# Seconds for one API request (kubectl --request-timeout) and for one kubectl process (PREFLIGHT_TIMEOUT).
REQUEST_TIMEOUT = 20
PROCESS_TIMEOUT = 60


def process_timeout() -> float:
    try:
        return float(os.environ.get("PREFLIGHT_TIMEOUT", PROCESS_TIMEOUT))
    except ValueError:
        return PROCESS_TIMEOUT


class Unreachable(Exception):
    """kubectl cannot talk to a cluster at all: one line says why, and nothing else is checked."""


class Forbidden(Exception):
    """The API server refused a read (RBAC)."""


def kubectl_binary() -> str:
    path = os.environ.get("PREFLIGHT_PATH") or os.environ.get("PATH", "")
    found = shutil.which("kubectl", path=path) or shutil.which("kubectl", path=str(Path(sys.executable).parent))
    if not found:
        raise Unreachable("kubectl: not found on PATH; install kubectl and point it at the cluster (KUBECONFIG)")
    return found


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


@dataclass
class Kubectl:
    binary: str = field(default_factory=kubectl_binary)

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        command = [self.binary, f"--request-timeout={REQUEST_TIMEOUT}s", *args]
        timeout = process_timeout()
        try:
            return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            words = " ".join(args[: next((i for i, a in enumerate(args) if a.startswith("-")), len(args))])
            raise Unreachable(f"kubectl {words}: no answer within {timeout:g} s; check that the cluster is up and KUBECONFIG names it") from None
        except OSError as err:
            raise Unreachable(f"kubectl: cannot run {self.binary}: {err.strerror}") from None

    def json(self, *args: str) -> dict:
        """The JSON a read prints; Forbidden on RBAC refusals, Unreachable on everything else that fails."""
        result = self.run(*args, "-o", "json")
        if result.returncode:
            why = last_line(result.stderr) or f"exit {result.returncode}"
            if "(Forbidden)" in why:
                raise Forbidden(why)
            raise Unreachable(f"kubectl {' '.join(args)}: {why}")
        try:
            return json.loads(result.stdout)
        except ValueError:
            raise Unreachable(f"kubectl {' '.join(args)}: printed no JSON (is `kubectl` a real kubectl?)") from None

    def can_i(self, verb: str, resource: str, namespace: str) -> bool:
        """`kubectl auth can-i`: prints yes (exit 0) or no (exit 1)."""
        result = self.run("auth", "can-i", verb, resource, "--namespace", namespace)
        return result.stdout.strip() == "yes"


def items(listing: dict) -> list[dict]:
    return [i for i in listing.get("items") or [] if isinstance(i, dict)]


def meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


@dataclass
class Cluster:
    """What preflight reads, each read once. A read the user may not make is recorded in `forbidden`."""

    kubectl: Kubectl
    forbidden: list[str] = field(default_factory=list)

    def listing(self, *args: str) -> list[dict]:
        try:
            return items(self.kubectl.json("get", *args))
        except Forbidden as err:
            self.forbidden.append(str(err))
            return []

    @cached_property
    def server_version(self) -> tuple[int, int]:
        """(major, minor) of the API server; Unreachable when there is no cluster to ask."""
        result = self.kubectl.run("version", "-o", "json")
        try:
            server = json.loads(result.stdout or "{}").get("serverVersion")
        except ValueError:
            server = None
        if result.returncode or not server:
            raise Unreachable(f"kubectl cannot reach the cluster: {last_line(result.stderr) or 'no server version'}")
        digits = lambda text: int("".join(ch for ch in str(text) if ch.isdigit()) or 0)  # noqa: E731 - "33+" on EKS/GKE
        return digits(server.get("major")), digits(server.get("minor"))

    @cached_property
    def nodes(self) -> list[dict]:
        return self.listing("nodes")

    @cached_property
    def storage_classes(self) -> set[str]:
        return {meta(i).get("name") for i in self.listing("storageclasses")}

    @cached_property
    def provisioners(self) -> dict[str, str]:
        return {meta(i).get("name"): i.get("provisioner", "") for i in self.listing("storageclasses")}

    @cached_property
    def runtime_classes(self) -> set[str]:
        return {meta(i).get("name") for i in self.listing("runtimeclasses")}

    @cached_property
    def served(self) -> dict[str, set[str]]:
        """CRD name (plural.group) -> the versions it serves."""
        out = {}
        for crd in self.listing("customresourcedefinitions"):
            versions = (crd.get("spec") or {}).get("versions") or []
            out[meta(crd).get("name")] = {v.get("name") for v in versions if v.get("served")}
        return out

    @cached_property
    def namespaces(self) -> set[str]:
        return {meta(i).get("name") for i in self.listing("namespaces")}

    @cached_property
    def services(self) -> list[dict]:
        return self.listing("services", "--all-namespaces")

    @cached_property
    def workloads(self) -> list[dict]:
        """Every Deployment and DaemonSet, for the controllers the add-ons need."""
        return self.listing("deployments,daemonsets", "--all-namespaces")

    def custom(self, plural_group: str) -> list[dict]:
        """Objects of a custom resource whose CRD exists (cluster-scoped ones: GatewayClass, ClusterIssuer)."""
        return self.listing(plural_group) if plural_group in self.served else []

    def config_map(self, namespace: str, name: str) -> dict:
        found = [i for i in self.listing("configmaps", "--namespace", namespace) if meta(i).get("name") == name]
        return (found[0].get("data") or {}) if found else {}

    def workload(self, kind: str, name_suffix: str, namespace: str | None = None) -> dict | None:
        for obj in self.workloads:
            m = meta(obj)
            if obj.get("kind") == kind and str(m.get("name", "")).endswith(name_suffix) and namespace in (None, m.get("namespace")):
                return obj
        return None
