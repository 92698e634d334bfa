"""Service settings that running the real servers showed wrong (tests/runtime runs them; these check the
rendered manifests in `make test`): LiteLLM's routes per model kind and its offline cost map, speaches' TTL
name, the speaches pull Job's image, and Open WebUI's URL and CORS origin from the exposure answers."""

from __future__ import annotations

import sys

import pytest
import yaml

from template_repo import CATALOG, Baked, container
from test_generated_repo import CASES
from tooling import ROOT

sys.path.insert(0, str(ROOT / "hooks"))
from models import is_embedding_model, litellm_model  # noqa: E402

ALL_ON = "nvidia-cilium-all-generated"
GATEWAY = "intel-cilium-all-given"


@pytest.fixture
def all_on(bakery) -> Baked:
    return bakery(ALL_ON, **CASES[ALL_ON])


def env(baked: Baked, name: str) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container(baked.of_kind("Deployment")[name])["env"]}


@pytest.mark.parametrize("name, embedding", [
    ("nomic-embed-text", True), ("mxbai-embed-large:335m", True), ("qwen3-embedding:0.6b", True), ("bge-m3", True),
    ("all-minilm:22m", True), ("llama3.2:3b", False), ("qwen3:8b", False), ("gemma3", False),
])
def test_an_ollama_model_is_an_embedding_model_by_its_name(name, embedding):
    assert is_embedding_model(name) is embedding
    assert litellm_model(name) == ({"model": f"ollama/{name}", "model_info": {"mode": "embedding"}} if embedding
                                   else {"model": f"ollama_chat/{name}", "model_info": {}})


def test_litellm_serves_embedding_models_as_embeddings_and_uses_its_own_cost_map(all_on):
    config = yaml.safe_load(all_on.of_kind("ConfigMap")["litellm-config"]["data"]["config.yaml"])
    routes = {m["model_name"]: (m["litellm_params"]["model"], m.get("model_info")) for m in config["model_list"]}
    assert routes == {"llama3.2:3b": ("ollama_chat/llama3.2:3b", None),
                      "nomic-embed-text": ("ollama/nomic-embed-text", {"mode": "embedding"})}
    assert env(all_on, "litellm")["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"


def test_speaches_keeps_its_model_loaded_with_the_setting_its_version_reads(all_on):
    settings = env(all_on, "faster-whisper")
    assert int(settings["WHISPER__TTL"]) >= -1  # seconds, -1 never unloads (config.py@v0.8.3 WhisperConfig.ttl)
    assert "STT_MODEL_TTL" not in settings  # speaches 0.9.0-rc.1 and later only


def test_the_speaches_pull_job_runs_the_small_curl_image_as_its_user(all_on):
    (job,) = CATALOG["faster-whisper"]["jobs"]
    spec = all_on.of_kind("Job")["faster-whisper-pull-model"]["spec"]["template"]["spec"]
    assert spec["containers"][0]["image"] == job["image"] == "curlimages/curl:8.21.0"
    assert spec["securityContext"]["runAsUser"] == job["run_as_user"]
    server_images = {i["image"] for i in CATALOG["faster-whisper"]["images"].values()}
    assert spec["containers"][0]["image"] not in server_images


@pytest.mark.parametrize("case, url", [(ALL_ON, "http://10.10.2.25"), (GATEWAY, "https://chat.lab.example.org")])
def test_open_webui_knows_its_url_and_accepts_only_that_origin(bakery, case, url):
    settings = env(bakery(case, **CASES[case]), "open-webui")
    assert settings["WEBUI_URL"] == settings["CORS_ALLOW_ORIGIN"] == url
