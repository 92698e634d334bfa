"""`make test-runtime`: the real Open WebUI and LiteLLM servers on the rendered manifests of real bakes.

Every test here asks for `stack`: one bake of the matrix, with its stub upstreams and its servers running
in this process's network namespace, which must hold nothing but loopback (the make target enters one
with `unshare -n`). One stack runs at a time: they listen on the ports their manifests name.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from environments import CACHE, SERVERS
from pods import LOOPBACK, Pod, RenderedRepo
import stubs
from tooling import ROOT, TEMPLATE, VENV

# The matrix: the default answers; Qdrant and LiteLLM on; HTTPS through a Gateway with single sign-on.
BAKES: dict[str, dict[str, str]] = {
    "default": {},
    "extras": {"enable_qdrant": "yes", "enable_litellm": "yes"},
    # With single sign-on: the OIDC settings are checked like every other env name (the provider is never called).
    "gateway": {"exposure": "gateway", "domain": "lab.example.org", "oidc_issuer_url": "https://id.lab.example.org/realms/lab", "oidc_admin_role": "ai-admin"},
}
DEFAULTS = json.loads((ROOT / "cookiecutter.json").read_text())

# What the images set before the manifest's env applies (open-webui/open-webui Dockerfile ENV; paths under the
# data volume are mapped like the manifest's). The pip-installed server has none of these by itself.
OPEN_WEBUI_IMAGE_ENV = {
    "ENV": "prod", "OLLAMA_BASE_URL": "/ollama", "OPENAI_API_BASE_URL": "", "OPENAI_API_KEY": "",
    "SCARF_NO_ANALYTICS": "true", "DO_NOT_TRACK": "true", "ANONYMIZED_TELEMETRY": "false",
    "WHISPER_MODEL_DIR": "/app/backend/data/cache/whisper/models",
    "SENTENCE_TRANSFORMERS_HOME": "/app/backend/data/cache/embedding/models", "HF_HOME": "/app/backend/data/cache/embedding/models",
}
LITELLM_IMAGE_ENV: dict[str, str] = {}


STARTUPS: list[str] = []  # "bake server: seconds" for the closing summary (README's figures)


def pytest_terminal_summary(terminalreporter) -> None:
    if STARTUPS:
        terminalreporter.write_line("server starts (until the startup probe answered): " + ", ".join(STARTUPS))


def deploys(bake: str, service: str) -> bool:
    flag = {"litellm": "enable_litellm", "qdrant": "enable_qdrant"}[service]
    return str(BAKES[bake].get(flag, DEFAULTS[flag])).lower() in ("yes", "true")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "stack" in metafunc.fixturenames:
        needs = getattr(metafunc.module, "NEEDS", None)
        names = [name for name in BAKES if needs is None or deploys(name, needs)]
        metafunc.parametrize("stack", names, indirect=True, scope="session")


@pytest.fixture(scope="session")
def loopback_only() -> None:
    """Refuse to start a server anywhere but in a namespace that can reach loopback alone (every runtime test
    fails with this reason under a plain `pytest`)."""
    interfaces = [name for _, name in socket.if_nameindex()]
    if interfaces != ["lo"]:
        pytest.fail(f"tests/runtime must run in a loopback-only network namespace (found {interfaces}): use `make test-runtime`")
    missing = [f"{s.package} {s.version}" for s in SERVERS.values() if not s.installed()]
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}: `make test-runtime` installs them first")


@dataclass
class Stack:
    name: str
    repo: RenderedRepo
    root: Path
    stubs: dict[str, stubs.Stub] = field(default_factory=dict)
    pods: dict[str, Pod] = field(default_factory=dict)
    servers: list = field(default_factory=list)
    admin_token: str = ""
    startup_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def webui(self) -> Pod:
        return self.pods["open-webui"]

    def url(self, service: str, path: str = "") -> str:
        return f"http://{LOOPBACK}:{self.repo.local_port(service)}{path}"

    def call(self, service: str, method: str, path: str, body=None, token: str | None = None, raw: bytes | None = None,
             content_type: str = "application/json", timeout: float = 60) -> tuple[int, object]:
        """One request to a server here: (status, parsed JSON or text)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"content-type": content_type} if data is not None else {}
        if token:
            headers["authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url(service, path), data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode(errors="replace")

    def upload(self, path: str, filename: str, content: bytes, content_type: str, **fields: str) -> tuple[int, object]:
        """A multipart/form-data POST to Open WebUI as the admin: one file part, then text fields."""
        boundary = "runtime-boundary-7d1f"
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n".encode() + content + b"\r\n"]
        parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.webui_call("POST", path, raw=body, content_type=f"multipart/form-data; boundary={boundary}")

    def answers(self) -> dict:
        """The answers the repo was baked with, as cruft recorded them."""
        return json.loads((self.repo.path / ".cruft.json").read_text())["context"]["cookiecutter"]

    def restart_open_webui(self) -> None:
        self.webui.stop()
        self.start_open_webui()

    def webui_call(self, method: str, path: str, body=None, **kwargs) -> tuple[int, object]:
        return self.call("open-webui", method, path, body, token=kwargs.pop("token", self.admin_token), **kwargs)

    def start_open_webui(self) -> None:
        server = SERVERS["open-webui"]
        pod = self.pods["open-webui"]
        port = str(pod.container["ports"][0]["containerPort"])
        pod.start([str(server.bin / "open-webui"), "serve", "--host", LOOPBACK, "--port", port], OPEN_WEBUI_IMAGE_ENV)
        self.startup_seconds["open-webui"] = pod.wait_until_started()
        STARTUPS.append(f"{self.name} open-webui {self.startup_seconds['open-webui']:.0f} s")

    def sign_in(self) -> str:
        """The admin's token: the first account signed up is the admin (or, without auth, the default user)."""
        status, body = self.webui_call("POST", "/api/v1/auths/signup",
                                       {"name": "Admin", "email": "admin@example.org", "password": "runtime-Test-1"}, token=None)
        if status != 200:
            status, body = self.webui_call("POST", "/api/v1/auths/signin",
                                           {"email": "admin@example.org", "password": "runtime-Test-1"}, token=None)
        assert status == 200, body
        return body["token"]


def bake(answers: dict[str, str], into: Path) -> RenderedRepo:
    """A real bake of the template snapshot, with this suite's tool environment (nothing downloaded)."""
    os.environ["VENV"] = str(VENV)
    path = Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(into)))
    return RenderedRepo(path, DEFAULTS["cluster_name"], DEFAULTS["namespace"])


def run_job(repo: RenderedRepo, name: str, root: Path) -> subprocess.CompletedProcess:
    """A rendered Job's container command, with its URLs pointed at loopback (its image's curl is this machine's)."""
    container = repo.get("Job", name)["spec"]["template"]["spec"]["containers"][0]
    command = [repo.to_loopback(part) for part in container["command"]]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=root, env={"PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="session")
def stack(request, loopback_only) -> Stack:
    name = request.param
    CACHE.mkdir(parents=True, exist_ok=True)
    # Outside /tmp: a read-only pod gets its own /tmp, which would hide the volumes of a pod kept there.
    root = Path(tempfile.mkdtemp(prefix=f"stack-{name}-", dir=CACHE))
    repo = bake(BAKES[name], root / "bake")
    running = Stack(name, repo, root)
    try:
        start(running)
        yield running
    finally:
        for pod in running.pods.values():
            pod.stop()
        for server in running.servers:
            server.shutdown()
            server.server_close()
        shutil.rmtree(root, ignore_errors=True)


def start(running: Stack) -> None:
    repo, root = running.repo, running.root
    models = [m.strip() for m in DEFAULTS["ollama_models"].split(",") if m.strip()]
    upstreams: dict[str, stubs.Stub] = {"ollama": stubs.ollama(models)}
    if repo.has("Deployment", "stable-diffusion"):
        upstreams["stable-diffusion"] = stubs.sdnext(repo.secret("stable-diffusion-secrets")["auth"])
    if repo.has("Deployment", "faster-whisper"):
        upstreams["faster-whisper"] = stubs.speaches()
    if repo.has("Deployment", "qdrant"):
        qdrant = Pod(repo, "qdrant", root / "qdrant")
        running.pods["qdrant"] = qdrant
        snapshots = Path(qdrant.env["QDRANT__STORAGE__SNAPSHOTS_PATH"])
        upstreams["qdrant"] = stubs.qdrant(qdrant.env["QDRANT__SERVICE__API_KEY"], snapshots)
    for service, stub in upstreams.items():
        running.servers.append(stub.serve(repo.local_port(service)))
    running.stubs = upstreams
    if repo.has("Job", "faster-whisper-pull-model"):
        pulled = run_job(repo, "faster-whisper-pull-model", root)
        assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    if repo.has("Deployment", "litellm"):
        server = SERVERS["litellm"]
        litellm = Pod(repo, "litellm", root / "litellm")
        running.pods["litellm"] = litellm
        litellm.start([str(server.bin / "litellm"), *litellm.args], LITELLM_IMAGE_ENV)
        running.startup_seconds["litellm"] = litellm.wait_until_started()
        STARTUPS.append(f"{running.name} litellm {running.startup_seconds['litellm']:.0f} s")
    running.pods["open-webui"] = Pod(repo, "open-webui", root / "open-webui")
    running.start_open_webui()
    running.admin_token = running.sign_in()
