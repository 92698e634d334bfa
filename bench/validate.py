"""Benchmark `make validate` in baked repos: the default bake, and how the time grows with services.

Run from the project root: `.venv/bin/python -m bench.validate` (a benchmark, not a test: it
prints figures and asserts nothing). Each answer set is baked once with the real cookiecutter;
`make validate` is timed end to end (median of REPEATS runs), then each stage alone in-process,
so the table shows where the time goes.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

TEMPLATE = Path(__file__).resolve().parents[1]
# The validator is the generated repo's own tooling; the template's copy is plain Python (never rendered).
sys.path.insert(0, str(TEMPLATE / "{{cookiecutter.repo}}"))

from tools.sops_files import key_files  # noqa: E402
from tools.validate.repo import Repo  # noqa: E402
from tools.validate.run import CHECKS, STAGES, Context  # noqa: E402

REPEATS = 3
OFF = {"enable_stable_diffusion": False, "enable_whisper": False, "enable_qdrant": False, "enable_litellm": False, "enable_gatus": False}
ON = {"enable_stable_diffusion": True, "enable_whisper": True, "enable_qdrant": True, "enable_litellm": True, "enable_gatus": True}
BAKES = (("optional services off", OFF), ("default answers", {}), ("every service on", ON))
# Beyond the template's seven services: copies of Qdrant (a CPU service with probes, limits and
# a ClusterIP Service) added to the apps layer's templates and rendered, to show the growth per service.
SERVICES = Path("templates/kubernetes/apps/base/ai")
EXTRA_COPIES = (10, 30)
SERVICE = """\
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: ai}}
spec:
  selector: {{app.kubernetes.io/name: {name}}}
  ports: [{{name: http, port: 6333, targetPort: http}}]
"""


NETWORK_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: ai}}
spec:
  podSelector: {{matchLabels: {{app.kubernetes.io/name: {name}}}}}
  policyTypes: [Ingress]
  ingress: [{{from: [{{podSelector: {{}}}}]}}]
"""


def tool_env() -> dict[str, str]:
    # VENV: the bake and `make` use this environment's tools instead of creating .venv.
    return {**os.environ, "VENV": sys.prefix, "PATH": f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def bake(output: Path, answers: dict[str, str]) -> Path:
    """The real `cookiecutter --no-input` from a clone of HEAD (its chatter captured, not printed)."""
    clone = output.parent / "template"
    if not clone.exists():
        subprocess.run(["git", "clone", "-q", str(TEMPLATE), str(clone)], check=True)
    pairs = [f"{k}={v}" for k, v in answers.items()]
    result = subprocess.run([str(Path(sys.prefix) / "bin" / "cookiecutter"), "--no-input", "-o", str(output), str(clone), *pairs], capture_output=True, text=True, env=tool_env())
    if result.returncode:
        raise SystemExit(f"bake failed: {result.stderr.strip()}")
    return next(p for p in output.iterdir() if p.is_dir())


def time_make_validate(project: Path) -> tuple[float, str]:
    env = tool_env()
    times, last = [], ""
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = subprocess.run(["make", "--no-print-directory", "validate", f"VENV={sys.prefix}"], cwd=project, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - started)
        last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr.strip()
    return statistics.median(times), last


def time_stages(project: Path) -> dict[str, float]:
    """Each stage alone on a fresh context (the flux builds count where they are first needed)."""
    ctx = context(project)
    out = {}
    for stage in STAGES:
        started = time.perf_counter()
        CHECKS[stage](ctx)
        out[stage] = time.perf_counter() - started
    return out


def context(project: Path) -> Context:
    """What `make validate` checks with: each cluster's own kubernetes_version, the repo's key files."""
    return Context(Repo(project), None, key_files(project))


def add_copies(project: Path, count: int) -> None:
    """``count`` more services in the apps layer's templates (Qdrant renamed), then `make render`."""
    base = project / SERVICES
    listing = base / "kustomization.yaml"
    image = yaml.safe_load((project / "catalog" / "services.yaml").read_text())["services"]["qdrant"]["images"]["nvidia"]["image"]
    for i in range(count):
        name = f"qdrant-copy{i}"
        target = base / name
        target.mkdir()
        # The copy keeps Qdrant's catalog facts (markers, resources, claims) but is no catalogued
        # service itself, so it carries its image and its own NetworkPolicy.
        text = (base / "qdrant" / "deployment.yaml").read_text().replace("name: qdrant\n", f"name: {name}\n")
        text = text.replace("# image: set by `make render` from catalog/services.yaml", f"image: {image}")
        (target / "deployment.yaml").write_text(text)
        (target / "service.yaml").write_text(SERVICE.format(name=name))
        (target / "networkpolicy.yaml").write_text(NETWORK_POLICY.format(name=name))
        (target / "kustomization.yaml").write_text("resources: [deployment.yaml, service.yaml, networkpolicy.yaml]\n")
        listing.write_text(listing.read_text() + f"  - {name}\n")
    result = subprocess.run(["make", "--no-print-directory", "render", f"VENV={sys.prefix}"], cwd=project, capture_output=True, text=True, env=tool_env())
    if result.returncode:
        raise SystemExit(f"render with {count} copies failed: {result.stderr.strip()}")


def services(project: Path) -> int:
    """The services the repo deploys: its rendered Deployments."""
    return len(list(project.glob("kubernetes/rendered/*/apps/*/deployment-*.yaml")))


def report(label: str, project: Path) -> None:
    total, summary = time_make_validate(project)
    stages = time_stages(project)
    documents = len(context(project).applied())
    print(f"{label:28} {services(project):>8} {documents:>9} {total:>13.2f}   " + " ".join(f"{stages[s]:>7.2f}" for s in STAGES))
    if not summary.startswith("validate: OK"):
        print(f"  note: {summary}")


def main() -> int:
    print(f"make validate, median of {REPEATS} runs; stages timed alone in-process (seconds)")
    header = f"{'bake':28} {'services':>8} {'documents':>9} {'make validate':>13}   " + " ".join(f"{s:>7}" for s in STAGES)
    print(header)
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        for i, (label, answers) in enumerate(BAKES):
            report(label, bake(Path(tmp) / str(i), answers))
        for count in EXTRA_COPIES:
            project = bake(Path(tmp) / f"copies{count}", ON)
            add_copies(project, count)
            report(f"every service + {count} more", project)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
