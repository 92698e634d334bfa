"""What the suites that drive baked repos share: the tools' environment and fresh age keys."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyrage

ROOT = Path(__file__).resolve().parents[1]
# This interpreter's virtualenv already holds the generated repo's requirements: `make VENV=...`
# reuses it instead of letting every bake create its own .venv.
VENV = Path(sys.prefix)
# Set when the suite itself runs under `make test`; a user's shell or CI runner has none of them.
OUTER_MAKE = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")


def tool_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell in a baked repo: the tools on PATH, no outer make."""
    inherited = {k: v for k, v in os.environ.items() if k not in OUTER_MAKE}
    return {**inherited, "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ['PATH']}", **extra}


def age_identity() -> tuple[str, str]:
    """A fresh age key pair made in memory: (recipient, identity)."""
    identity = pyrage.x25519.Identity.generate()
    return str(identity.to_public()), str(identity)


def template_snapshot(into: Path) -> Path:
    """The template as `cookiecutter gh:...` sees it: the files git would publish (tracked, and new ones not
    ignored, as they are in the work tree), in a git repo of their own with one commit.

    Baking from the work tree itself would also be wrong in cost: cookiecutter copies the whole template
    (with .venv) into a temporary directory before every bake because hooks/pre_prompt.py exists."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True)
    target = into / "ai-gitops"
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost"]
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "template snapshot"]):
        subprocess.run([*git, *command], cwd=target, check=True, capture_output=True)
    return target


TEMPLATE = template_snapshot(Path(tempfile.mkdtemp(prefix="ai-gitops-template-")))


# A throwaway service added the way docs/contributing.md says: a catalog entry and its manifest directory.
ECHO_ENTRY = """
  echo:
    title: Echo
    purpose: A throwaway service added in a test
    enabled_by: null
    ip_answer: null
    images:
      nvidia: {image: "hashicorp/http-echo:1.0", backend: cpu}
      amd: {image: "hashicorp/http-echo:1.0", backend: cpu}
      intel: {image: "hashicorp/http-echo:1.0", backend: cpu}
      none: {image: "hashicorp/http-echo:1.0", backend: cpu}
    port: 5678
    service_port: 5678
    probes: {protocol: http, startup: /, liveness: /, readiness: /, startup_minutes: 1}
    routes: [/]
    run_as_user: 65532
    volumes:
      - {claim: echo-data, mount: /data, data_class: cache, size: 1Gi}
    clients: [open-webui, gatus]
    internet: false
    sources: {image: "test"}
"""
ECHO_DEPLOYMENT = """\
{%- set svc = catalog().services["echo"] -%}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
  namespace: {{ cluster.namespace }}
  annotations:
    ai-gitops.dev/probes: echo
spec:
  selector: {matchLabels: {app.kubernetes.io/name: echo}}
  template:
    metadata: {labels: {app.kubernetes.io/name: echo}}
    spec:
      containers:
        - name: echo
          # image: set by `make render` from catalog/services.yaml
          ports: [{name: http, containerPort: {{ svc.port }}}]
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 64Mi}}
          volumeMounts: [{name: data, mountPath: /data}]
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, readOnlyRootFilesystem: true}
      volumes: [{name: data, persistentVolumeClaim: {claimName: echo-data}}]
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
"""


def add_echo_service(template: Path) -> None:
    """Add the echo service to a template checkout: its catalog entry and templates/kubernetes/apps/base/ai/echo/."""
    project = template / "{{cookiecutter.repo}}"
    catalog = project / "catalog" / "services.yaml"
    catalog.write_text(catalog.read_text() + ECHO_ENTRY)
    directory = project / "templates" / "kubernetes" / "apps" / "base" / "ai" / "echo"
    directory.mkdir()
    (directory / "deployment.yaml").write_text(ECHO_DEPLOYMENT)
    (directory / "kustomization.yaml").write_text("resources: [deployment.yaml]\n")
