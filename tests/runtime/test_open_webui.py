"""Open WebUI, installed at the catalog's version, on the env of each bake's rendered Deployment: what it
reads, what it ends up configured with, and requests through it to the stub upstreams."""

from __future__ import annotations

import io
import time
import wave
from pathlib import Path

import pytest

from environments import SERVERS
from pods import http_status
from source import unread_env_names

pytestmark = [pytest.mark.runtime, pytest.mark.usefixtures("loopback_only")]


def test_probe_routes_answer_as_the_rendered_probes_expect(stack):
    for kind in ("startup", "liveness", "readiness"):
        assert http_status(stack.webui.probe_url(kind)) == 200, kind


def test_every_env_name_is_read_by_the_installed_version(stack):
    assert unread_env_names(stack.webui, SERVERS["open-webui"], "open_webui") == []


def test_it_serves_on_a_read_only_root_with_only_tmp_and_its_data_writable(stack):
    # pods.Pod.start runs it in a mount namespace where the root filesystem is read-only and only its volumes
    # are not: /tmp only if the manifest mounts an emptyDir there. Without one it does not start (torch's
    # inductor cache dir comes from tempfile.gettempdir(): "No usable temporary directory"); with one, an
    # upload over 1 MB (spooled to a temporary file by starlette's UploadFile) works too.
    pod = stack.webui
    mounts = {line.split()[4]: line.split()[5] for line in Path(f"/proc/{pod.process.pid}/mountinfo").read_text().splitlines()}
    assert mounts["/"].startswith("ro") and mounts["/tmp"].startswith("rw"), mounts
    status, body = stack.upload("/api/v1/files/?process=false", "large.txt", b"x" * (2 << 20), "text/plain")
    assert status == 200, body


def test_image_generation_is_sd_next_with_the_login_of_its_secret(stack):
    env = stack.webui.env
    status, config = stack.webui_call("GET", "/api/v1/images/config")
    assert status == 200, config
    assert config["ENABLE_IMAGE_GENERATION"] is (env["ENABLE_IMAGE_GENERATION"] == "True")
    if "stable-diffusion" not in stack.stubs:
        return
    assert config["IMAGE_GENERATION_ENGINE"] == "automatic1111"
    assert config["AUTOMATIC1111_BASE_URL"] == env["AUTOMATIC1111_BASE_URL"] == stack.url("stable-diffusion")
    assert config["AUTOMATIC1111_API_AUTH"] == stack.repo.secret("stable-diffusion-secrets")["auth"]
    status, models = stack.webui_call("GET", "/api/v1/images/models")
    assert status == 200, models
    assert [m["id"] for m in models] == ["sd_xl_base_1.0"]
    seen = stack.stubs["stable-diffusion"].seen("GET", "/sdapi/v1/sd-models")
    assert seen and all(r.headers["authorization"] == stack.stubs["stable-diffusion"].expected for r in seen)


def test_speech_to_text_is_speaches_with_the_model_the_pull_job_fetched(stack):
    if "faster-whisper" not in stack.stubs:
        pytest.fail("every bake of the matrix deploys speaches")
    env = stack.webui.env
    status, config = stack.webui_call("GET", "/api/v1/audio/config")
    assert status == 200, config
    stt = config["stt"]
    assert (stt["ENGINE"], stt["OPENAI_API_BASE_URL"], stt["MODEL"]) == ("openai", stack.url("faster-whisper", "/v1"), env["AUDIO_STT_MODEL"])
    pulled = [r.path.removeprefix("/v1/models/") for r in stack.stubs["faster-whisper"].seen("POST", "/v1/models/")]
    assert pulled == [env["AUDIO_STT_MODEL"]]
    status, body = stack.upload("/api/v1/audio/transcriptions", "hello.wav", silence_wav(), "audio/wav")
    assert status == 200, body
    assert body["text"] == "hello from speaches"
    sent = stack.stubs["faster-whisper"].seen("POST", "/v1/audio/transcriptions")
    assert sent and sent[-1].form()["model"] == env["AUDIO_STT_MODEL"]


def test_documents_are_embedded_by_ollama_with_the_configured_model(stack):
    env = stack.webui.env
    status, config = stack.webui_call("GET", "/api/v1/retrieval/embedding")
    assert status == 200, config
    assert (config["RAG_EMBEDDING_ENGINE"], config["RAG_EMBEDDING_MODEL"], config["ollama_config"]["url"]) == \
        ("ollama", env["RAG_EMBEDDING_MODEL"], stack.url("ollama"))
    ollama = stack.stubs["ollama"]
    before = len(ollama.seen("POST", "/api/embed"))
    status, body = stack.upload("/api/v1/files/?process_in_background=false", "notes.txt",
                                b"The runtime suite checks Open WebUI against its stubs.", "text/plain")
    assert status == 200, body
    embeds = ollama.seen("POST", "/api/embed")[before:]
    assert embeds and {r.json()["model"] for r in embeds} == {env["RAG_EMBEDDING_MODEL"]}
    if "qdrant" in stack.stubs:
        qdrant = stack.stubs["qdrant"]
        upserts = qdrant.seen("PUT", "/collections/")
        assert any(r.path.split("?")[0].endswith("/points") for r in upserts), [r.path for r in qdrant.requests]
        assert all(r.headers.get("api-key") == qdrant.api_key for r in qdrant.requests if r.path.startswith("/collections"))


def test_a_chat_reaches_ollama_through_the_configured_connection(stack):
    env = stack.webui.env
    if "OPENAI_API_BASE_URL" in env:  # LiteLLM: the only connection
        status, config = stack.webui_call("GET", "/openai/config")
        assert status == 200, config
        assert config["ENABLE_OPENAI_API"] is True and config["OPENAI_API_BASE_URLS"] == [stack.url("litellm", "/v1")]
        assert stack.webui_call("GET", "/ollama/config")[1]["ENABLE_OLLAMA_API"] is False
    else:
        status, config = stack.webui_call("GET", "/ollama/config")
        assert status == 200, config
        assert config["ENABLE_OLLAMA_API"] is True and config["OLLAMA_BASE_URLS"] == [stack.url("ollama")]
        assert stack.webui_call("GET", "/openai/config")[1]["ENABLE_OPENAI_API"] is False
    status, models = stack.webui_call("GET", "/api/models")
    assert status == 200, models
    assert "llama3.2:3b" in {m["id"] for m in models["data"]}
    before = len(stack.stubs["ollama"].seen("POST", "/api/chat"))
    status, reply = stack.webui_call("POST", "/api/chat/completions",
                                     {"model": "llama3.2:3b", "stream": False, "messages": [{"role": "user", "content": "ping"}]})
    assert status == 200, reply
    assert reply["choices"][0]["message"]["content"] == "pong"
    chats = stack.stubs["ollama"].seen("POST", "/api/chat")[before:]
    assert [r.json()["model"] for r in chats] == ["llama3.2:3b"]


def test_the_api_needs_a_login(stack):
    status, config = stack.call("open-webui", "GET", "/api/config")
    assert status == 200 and config["features"]["auth"] is True
    assert stack.call("open-webui", "GET", "/api/models")[0] == 401


def test_its_url_and_cors_origin_are_where_users_open_it(stack):
    answers = stack.answers()
    expected = (f"https://chat.{answers['domain']}" if answers["exposure"] == "gateway" else f"http://{answers['open_webui_ip']}")
    status, config = stack.webui_call("GET", "/api/v1/auths/admin/config")
    assert status == 200, config
    assert config["WEBUI_URL"] == expected
    assert "CORS_ALLOW_ORIGIN IS SET TO '*'" not in stack.webui.log()
    assert cors_origin(stack, expected) == expected
    assert cors_origin(stack, "https://elsewhere.example.net") is None


def test_settings_changed_in_the_ui_give_way_to_the_manifest_after_a_restart(stack):
    status, config = stack.webui_call("GET", "/api/v1/retrieval/embedding")
    status, changed = stack.webui_call("POST", "/api/v1/retrieval/embedding/update", {
        "RAG_EMBEDDING_ENGINE": "ollama", "RAG_EMBEDDING_MODEL": "changed-in-the-ui",
        "ollama_config": {"url": "http://127.0.0.1:9", "key": ""}})
    assert status == 200, changed
    assert stack.webui_call("GET", "/api/v1/retrieval/embedding")[1]["RAG_EMBEDDING_MODEL"] == "changed-in-the-ui"
    stack.restart_open_webui()
    status, after = stack.webui_call("GET", "/api/v1/retrieval/embedding")
    assert status == 200, after
    assert (after["RAG_EMBEDDING_MODEL"], after["ollama_config"]["url"]) == (config["RAG_EMBEDDING_MODEL"], config["ollama_config"]["url"])


def cors_origin(stack, origin: str) -> str | None:
    import urllib.request
    request = urllib.request.Request(stack.url("open-webui", "/api/config"), method="OPTIONS",
                                     headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers.get("access-control-allow-origin")
    except urllib.error.HTTPError as error:
        return error.headers.get("access-control-allow-origin")


def silence_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * 8000)
    return buffer.getvalue()
