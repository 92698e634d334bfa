"""The real servers `make test-runtime` runs, installed from the package index at exactly the versions the
catalog pins, each into its own cached virtualenv outside the repo (reused while the pin stays).

Run as a script before the suite enters its loopback-only network namespace (the one step that needs the
package index): `python tests/runtime/environments.py`. A pin without a release on the index fails here,
naming the service, the package and the version.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "{{cookiecutter.repo}}" / "catalog" / "services.yaml"
CACHE = Path(os.environ.get("AI_GITOPS_RUNTIME_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ai-gitops" / "runtime")
STAMP = ".installed"


class PinError(Exception):
    """A catalog pin the package index cannot serve."""


@dataclass(frozen=True)
class Server:
    """A catalog service whose image is built from a package on the index, at the image's version."""

    service: str
    package: str
    # The extra whose requirements the image installs too, and which of them (None: all).
    extra: str
    wanted: frozenset[str] | None = None
    # Requirements of that extra the index cannot serve as pinned: name -> None (leave out) or "" (unpinned).
    relaxed: dict[str, str | None] = field(default_factory=dict)

    @property
    def version(self) -> str:
        images = yaml.safe_load(CATALOG.read_text())["services"][self.service]["images"]
        tags = {entry["image"].rsplit(":", 1)[1] for entry in images.values()}
        if len(tags) != 1:
            raise PinError(f"{self.service}: one version expected across GPU vendors, catalog has {sorted(tags)}")
        return tags.pop().removeprefix("v")

    @property
    def venv(self) -> Path:
        return CACHE / f"{self.package}-{self.version}"

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def installed(self) -> bool:
        return (self.venv / STAMP).is_file()


SERVERS = {
    # The image installs backend/requirements.txt, which has qdrant-client; the wheel has it only in `all`.
    "open-webui": Server("open-webui", "open-webui", extra="all", wanted=frozenset({"qdrant-client"})),
    # The image is built from the repository with the proxy's requirements. The wheel's `proxy` extra also
    # pins packages the index does not serve at that version: litellm-proxy (no release at all; the proxy
    # code is in the litellm wheel) and the proxy-extras/enterprise companions (installed at the newest release).
    "litellm": Server("litellm", "litellm", extra="proxy",
                      relaxed={"litellm-proxy": None, "litellm-proxy-extras": "", "litellm-enterprise": ""}),
}


def pip(server: Server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(server.bin / "python"), "-m", "pip", "install", "-q", *args], capture_output=True, text=True)


def cpu_torch_constraint(into: Path) -> list[str]:
    """Open WebUI's image installs torch's CPU build (Dockerfile: pip3 install torch --index-url .../whl/cpu);
    where the index serves one, use it too rather than the CUDA build and its GB of libraries."""
    listed = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "torch"], capture_output=True, text=True).stdout
    cpu = [v for v in re.findall(r"[\d.]+\+cpu", listed)]
    if not cpu:
        return []
    into.write_text(f"torch=={cpu[0]}\n")
    return ["-c", str(into)]


def extra_requirements(server: Server) -> list[str]:
    """The requirements of the server's extra, from the installed package's metadata, relaxed as declared."""
    probe = (f"import importlib.metadata, json; print(json.dumps(importlib.metadata.requires({server.package!r})))")
    requires = json.loads(subprocess.run([str(server.bin / "python"), "-c", probe], capture_output=True, text=True, check=True).stdout)
    chosen = []
    for line in requires:
        requirement, _, marker = line.partition(";")
        if f'extra == "{server.extra}"' not in marker and f"extra == '{server.extra}'" not in marker:
            continue
        name = re.match(r"[A-Za-z0-9_.-]+", requirement.strip()).group(0).lower()
        if server.wanted is not None and name not in server.wanted:
            continue
        if name in server.relaxed:
            if server.relaxed[name] is None:
                continue
            requirement = name
        rest = re.sub(r"\s*(and\s+)?extra\s*==\s*['\"][^'\"]+['\"]", "", marker).strip()
        rest = re.sub(r"^and\s+", "", rest)
        chosen.append(f"{requirement.strip()}; {rest}" if rest else requirement.strip())
    return chosen


def install(server: Server) -> float:
    """Install the server unless its cached virtualenv already holds this version; returns the seconds spent."""
    if server.installed():
        return 0.0
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(server.venv)], check=True)
    with tempfile.TemporaryDirectory() as scratch:
        constraint = cpu_torch_constraint(Path(scratch) / "torch.txt") if server.package == "open-webui" else []
        result = pip(server, *constraint, f"{server.package}=={server.version}")
        if result.returncode != 0:
            if "No matching distribution" in result.stderr or "Could not find a version" in result.stderr:
                raise PinError(f"{server.service}: the catalog pins {server.package} {server.version}, which has no release on the package index")
            raise PinError(f"{server.service}: pip install {server.package}=={server.version} failed:\n{result.stderr[-2000:]}")
        extras = extra_requirements(server)
        if extras:
            result = pip(server, *constraint, f"{server.package}=={server.version}", *extras)
            if result.returncode != 0:
                raise PinError(f"{server.service}: the requirements of {server.package}[{server.extra}] failed to install:\n{result.stderr[-2000:]}")
    (server.venv / STAMP).write_text(f"{server.package}=={server.version}\n")
    return time.monotonic() - started


def main() -> int:
    for server in SERVERS.values():
        try:
            spent = install(server)
        except PinError as error:
            print(f"test-runtime: {error}", file=sys.stderr)
            return 1
        state = f"installed in {spent:.0f} s" if spent else "cached"
        print(f"test-runtime: {server.package} {server.version} in {server.venv} ({state})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
