"""Stub upstreams for the real Open WebUI and LiteLLM servers: Ollama, SD.Next, speaches and Qdrant.

Each listens on 127.0.0.1 only, records every request it gets and enforces authentication as the real
server does (sources beside each rule), so a test can assert both what reached the upstream and that a
request without the right credentials would have been refused. They answer the routes the servers under
test call, with the response shapes those servers' clients parse.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        """The text fields of a multipart/form-data body (file parts by their field name: their filename)."""
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {self.headers.get('content-type', '')}\r\n\r\n".encode() + self.body
        )
        fields = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[name] = part.get_filename() or part.get_content()
        return fields


Reply = tuple[int, Any]  # status, JSON-able body (bytes/str are sent as they are)


@dataclass
class Stub:
    """One upstream: a route table, an auth rule and the log of what arrived."""

    name: str
    routes: list[tuple[str, str, Callable[[Request, re.Match], Reply]]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    port: int = 0

    def authorized(self, request: Request) -> bool:
        return True

    def route(self, method: str, pattern: str):
        def register(handler):
            self.routes.append((method, pattern, handler))
            return handler

        return register

    def answer(self, request: Request) -> Reply:
        if not self.authorized(request):
            return self.refusal()
        for method, pattern, handler in self.routes:
            match = re.fullmatch(pattern, request.path.split("?")[0])
            if match and method == request.method:
                return handler(request, match)
        return 404, {"error": f"{self.name} stub: no route {request.method} {request.path}"}

    def refusal(self) -> Reply:
        return 401, {"error": "unauthorized"}

    def seen(self, method: str, path_prefix: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def serve(self, port: int = 0) -> ThreadingHTTPServer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_one(self) -> None:
                request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, self.body())
                stub.requests.append(request)
                try:
                    status, payload = stub.answer(request)
                except Exception as error:  # a stub that cannot parse a request says so, as a server would
                    status, payload = 500, {"error": f"{stub.name} stub: {error!r}"}
                if isinstance(payload, (bytes, str)):
                    data = payload.encode() if isinstance(payload, str) else payload
                    kind = "application/x-ndjson" if isinstance(payload, str) and payload.startswith("{") else "text/plain"
                else:
                    data, kind = json.dumps(payload).encode(), "application/json"
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self) -> bytes:
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    return b"".join(chunks)
                length = int(self.headers.get("content-length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_one

            def log_message(self, *args) -> None:  # the request log is stub.requests
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


VECTOR = [0.1, 0.2, 0.3, 0.4]
# What Ollama's library says each model does (ollama.com/search?c=embedding): the stub's truth, kept apart from
# the template's naming rule (the generated repo's tools/models.py) so a wrong rule meets a stub that disagrees with it.
EMBEDDING_MODELS = {"nomic-embed-text", "mxbai-embed-large", "all-minilm", "bge-m3", "bge-large", "snowflake-arctic-embed",
                    "snowflake-arctic-embed2", "granite-embedding", "embeddinggemma", "qwen3-embedding", "paraphrase-multilingual"}


def is_embedding_model(name: str) -> bool:
    return name.split(":")[0] in EMBEDDING_MODELS


def ollama(models: list[str]) -> Stub:
    """Ollama has no authentication (ollama/ollama server/routes.go). Chat models chat, embedding models embed:
    a chat request for an embedding model fails as Ollama's does ("does not support chat")."""
    stub = Stub("ollama")

    def known(request: Request) -> tuple[str, Reply | None]:
        model = request.json().get("model", "")
        bare = model.removesuffix(":latest")
        if bare not in models and model not in models:
            return model, (404, {"error": f"model '{model}' not found"})
        return model, None

    @stub.route("GET", "/")
    def root(request, match):
        return 200, "Ollama is running"

    @stub.route("GET", "/api/version")
    def version(request, match):
        return 200, {"version": "0.33.0"}

    @stub.route("GET", "/api/tags")
    def tags(request, match):
        return 200, {"models": [{"name": m, "model": m, "modified_at": "2026-01-01T00:00:00Z", "size": 1, "digest": "0" * 64,
                                 "details": {"format": "gguf", "family": "llama", "parameter_size": "3B", "quantization_level": "Q4_K_M"}}
                                for m in models]}

    @stub.route("GET", "/api/ps")
    def ps(request, match):
        return 200, {"models": []}

    @stub.route("POST", "/api/show")
    def show(request, match):
        model, missing = known(request)
        if missing:
            return missing
        return 200, {"modelfile": "", "parameters": "", "template": "{{ .Prompt }}", "details": {"family": "llama"},
                     "model_info": {}, "capabilities": ["embedding"] if is_embedding_model(model) else ["completion"]}

    def reply(request: Request, key: str, content: Any) -> Reply:
        model, missing = known(request)
        if missing:
            return missing
        if key != "embeddings" and is_embedding_model(model):
            return 400, {"error": f'"{model}" does not support {"chat" if key == "message" else "generate"}'}
        done = {"model": model, "created_at": "2026-01-01T00:00:00Z", "done": True, "done_reason": "stop",
                "total_duration": 1, "prompt_eval_count": 3, "eval_count": 1}
        if key == "embeddings":
            return 200, {**done, "embeddings": content}
        if request.json().get("stream", True):
            part = {"model": model, "created_at": done["created_at"], key: content, "done": False}
            empty = {"message": {"role": "assistant", "content": ""}} if key == "message" else {key: ""}
            return 200, json.dumps(part) + "\n" + json.dumps({**done, **empty}) + "\n"
        return 200, {**done, key: content}

    @stub.route("POST", "/api/chat")
    def chat(request, match):
        return reply(request, "message", {"role": "assistant", "content": "pong"})

    @stub.route("POST", "/api/generate")
    def generate(request, match):
        return reply(request, "response", "pong")

    @stub.route("POST", "/api/embed")
    def embed(request, match):
        given = request.json().get("input", "")
        return reply(request, "embeddings", [VECTOR for _ in (given if isinstance(given, list) else [given])])

    @stub.route("POST", "/api/embeddings")
    def embeddings_legacy(request, match):
        model, missing = known(request)
        return missing or (200, {"embedding": VECTOR})

    return stub


class BasicAuthStub(Stub):
    """SD.Next with --auth-file: HTTP Basic on every /sdapi route (modules/api/api.py), the same login as the UI."""

    def __init__(self, login: str):
        super().__init__("sdnext")
        self.expected = "Basic " + base64.b64encode(login.encode()).decode()

    def authorized(self, request: Request) -> bool:
        return not request.path.startswith("/sdapi") or request.headers.get("authorization") == self.expected

    def refusal(self) -> Reply:
        return 401, {"detail": "Incorrect username or password"}


PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


def sdnext(login: str) -> Stub:
    stub = BasicAuthStub(login)
    options = {"sd_model_checkpoint": "sd_xl_base_1.0"}

    @stub.route("GET", "/sdapi/v1/sd-models")
    def models(request, match):
        return 200, [{"title": "sd_xl_base_1.0", "model_name": "sd_xl_base_1.0", "filename": "/mnt/models/sd_xl_base_1.0.safetensors"}]

    @stub.route("GET", "/sdapi/v1/options")
    def get_options(request, match):
        return 200, options

    @stub.route("POST", "/sdapi/v1/options")
    def set_options(request, match):
        options.update(request.json())
        return 200, None

    @stub.route("POST", "/sdapi/v1/txt2img")
    def txt2img(request, match):
        return 200, {"images": [PNG], "parameters": request.json(), "info": "{}"}

    return stub


def speaches() -> Stub:
    """speaches 0.8.3 without API_KEY accepts any bearer token (src/speaches/dependencies.py: the check only runs
    when api_key is set). It has no model until one is downloaded (POST /v1/models/{id}, routers/models.py);
    a transcription with any other model answers 404."""
    stub = Stub("speaches")
    installed: list[str] = []

    @stub.route("GET", "/health")
    def health(request, match):
        return 200, "OK"

    @stub.route("GET", "/v1/models")
    def models(request, match):
        return 200, {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "Systran"} for m in installed]}

    @stub.route("POST", "/v1/models/(.+)")
    def download(request, match):
        installed.append(match.group(1))
        return 201, {"detail": f"Model '{match.group(1)}' downloaded"}

    @stub.route("POST", "/v1/audio/transcriptions")
    def transcribe(request, match):
        model = request.form().get("model")
        if model not in installed:
            return 404, {"detail": f"Model '{model}' is not installed locally."}
        return 200, {"text": "hello from speaches"}

    return stub


class QdrantStub(Stub):
    """Qdrant with QDRANT__SERVICE__API_KEY: every route needs the `api-key` header (or a bearer token) except
    /, /healthz, /livez and /readyz (src/actix/auth.rs). POST /snapshots lays out the storage as Qdrant 1.18
    does: a full snapshot at the top of the snapshots path, and one snapshot per collection in
    snapshots/<collection>/ that Qdrant keeps (storage/src/content_manager/snapshots)."""

    OPEN = ("/", "/healthz", "/livez", "/readyz")

    def __init__(self, api_key: str, snapshots: Path | None = None):
        super().__init__("qdrant")
        self.api_key = api_key
        self.snapshots = snapshots
        self.collections: dict[str, list[dict]] = {}

    def authorized(self, request: Request) -> bool:
        path = request.path.split("?")[0]
        if path in self.OPEN or path.startswith(("/livez", "/readyz")):
            return True
        given = request.headers.get("api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
        return given == self.api_key

    def refusal(self) -> Reply:
        return 401, {"status": {"error": "Must provide an API key or an Authorization bearer token"}}

    def take_full_snapshot(self, stamp: str | None = None) -> str:
        """What POST /snapshots leaves on disk; `stamp` (Qdrant's format, one per second) defaults to now."""
        stamp = stamp or time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime())
        assert self.snapshots is not None
        for name in self.collections:
            directory = self.snapshots / name
            directory.mkdir(parents=True, exist_ok=True)
            part = directory / f"{name}-4242424242-{stamp}.snapshot"
            part.write_bytes(b"collection snapshot")
            (directory / f"{part.name}.checksum").write_text("0" * 64)
        full = self.snapshots / f"full-snapshot-{stamp}.snapshot"
        full.write_bytes(b"full snapshot")
        (self.snapshots / f"{full.name}.checksum").write_text("0" * 64)
        return full.name


def ok(result: Any) -> Reply:
    return 200, {"result": result, "status": "ok", "time": 0.0}


def qdrant(api_key: str, snapshots: Path | None = None) -> QdrantStub:
    stub = QdrantStub(api_key, snapshots)
    done = {"operation_id": 0, "status": "completed"}

    @stub.route("GET", "/")
    def root(request, match):
        return 200, {"title": "qdrant - vector search engine", "version": "1.18.2"}

    @stub.route("GET", "/(healthz|livez|readyz)")
    def health(request, match):
        return 200, f"{match.group(1)} check passed"

    @stub.route("GET", "/collections")
    def collections(request, match):
        return ok({"collections": [{"name": n} for n in stub.collections]})

    @stub.route("GET", "/collections/([^/]+)/exists")
    def exists(request, match):
        return ok({"exists": match.group(1) in stub.collections})

    @stub.route("PUT", "/collections/([^/]+)")
    def create(request, match):
        stub.collections.setdefault(match.group(1), [])
        return ok(True)

    @stub.route("DELETE", "/collections/([^/]+)")
    def drop(request, match):
        return ok(stub.collections.pop(match.group(1), None) is not None)

    @stub.route("PUT", "/collections/([^/]+)/index")
    def index(request, match):
        return ok(done)

    @stub.route("PUT", "/collections/([^/]+)/points")
    def upsert(request, match):
        stub.collections.setdefault(match.group(1), []).extend(request.json()["points"])
        return ok(done)

    @stub.route("POST", "/collections/([^/]+)/points/delete")
    def delete(request, match):
        return ok(done)

    @stub.route("POST", "/collections/([^/]+)/points/count")
    def count(request, match):
        return ok({"count": len(stub.collections.get(match.group(1), []))})

    @stub.route("POST", "/collections/([^/]+)/points/scroll")
    def scroll(request, match):
        return ok({"points": [], "next_page_offset": None})

    @stub.route("POST", "/collections/([^/]+)/points/query")
    def query(request, match):
        return ok({"points": []})

    @stub.route("POST", "/snapshots")
    def snapshot(request, match):
        name = stub.take_full_snapshot()
        return ok({"name": name, "creation_time": None, "size": 13, "checksum": "0" * 64})

    return stub
