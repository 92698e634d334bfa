"""The LiteLLM proxy, installed at the catalog's version, on the args, env and ConfigMap of the rendered
Deployment, in front of the Ollama stub (bakes that deploy it)."""

from __future__ import annotations

import pytest
import yaml

from environments import SERVERS
from pods import http_status
from source import unread_env_names
from stubs import is_embedding_model

pytestmark = [pytest.mark.runtime, pytest.mark.usefixtures("loopback_only")]
NEEDS = "litellm"


def configured_models(stack) -> list[dict]:
    return yaml.safe_load(stack.pods["litellm"].config_text)["model_list"]


def test_probe_routes_answer_as_the_rendered_probes_expect(stack):
    for kind in ("startup", "liveness", "readiness"):
        assert http_status(stack.pods["litellm"].probe_url(kind)) == 200, kind


def test_every_env_name_is_read_by_the_installed_version(stack):
    assert unread_env_names(stack.pods["litellm"], SERVERS["litellm"], "litellm") == []


def test_it_starts_without_reaching_for_the_internet(stack):
    # Without LITELLM_LOCAL_MODEL_COST_MAP it fetches the cost map from GitHub three times before serving
    # (litellm_core_utils/get_model_cost_map.py); the network policy drops that, and here nothing answers.
    log = stack.pods["litellm"].log()
    assert "model cost map" not in log.lower(), [line for line in log.splitlines() if "cost map" in line.lower()]


def test_every_configured_model_answers_its_own_kind_of_request(stack):
    key = stack.pods["litellm"].env["LITELLM_MASTER_KEY"]
    models = configured_models(stack)
    assert {m["model_name"] for m in models} == {"llama3.2:3b", "nomic-embed-text"}
    for model in models:
        name = model["model_name"]
        before = len(stack.stubs["ollama"].requests)
        if is_embedding_model(name):
            status, body = stack.call("litellm", "POST", "/v1/embeddings", {"model": name, "input": "hello"}, token=key)
            assert status == 200, (name, body)
            assert body["data"][0]["embedding"] == [0.1, 0.2, 0.3, 0.4]
            wanted = "/api/embed"
        else:
            status, body = stack.call("litellm", "POST", "/v1/chat/completions",
                                      {"model": name, "messages": [{"role": "user", "content": "ping"}]}, token=key)
            assert status == 200, (name, body)
            assert body["choices"][0]["message"]["content"] == "pong"
            wanted = "/api/chat"
        reached = [r for r in stack.stubs["ollama"].requests[before:] if r.method == "POST"]
        assert [(r.path, r.json()["model"]) for r in reached] == [(wanted, name)], name


def test_the_model_list_tells_embedding_models_from_chat_models(stack):
    key = stack.pods["litellm"].env["LITELLM_MASTER_KEY"]
    status, body = stack.call("litellm", "GET", "/v1/models", token=key)
    assert status == 200, body
    modes = {m["id"]: m.get("mode") for m in body["data"]}
    assert modes == {name: ("embedding" if is_embedding_model(name) else "chat") for name in modes}


def test_requests_without_the_master_key_are_refused(stack):
    request = {"model": "llama3.2:3b", "messages": [{"role": "user", "content": "ping"}]}
    before = len(stack.stubs["ollama"].seen("POST", "/api/chat"))
    assert stack.call("litellm", "POST", "/v1/chat/completions", request)[0] == 401
    # Without a database every key but the master key is refused (400 "No connected db").
    assert stack.call("litellm", "POST", "/v1/chat/completions", request, token="sk-not-the-master-key")[0] in (400, 401)
    assert stack.call("litellm", "GET", "/v1/models")[0] == 401
    assert len(stack.stubs["ollama"].seen("POST", "/api/chat")) == before
