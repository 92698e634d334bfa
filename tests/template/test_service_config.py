"""Service settings that running the real servers showed wrong (tests/runtime runs them; these check the
rendered manifests in `make test`): LiteLLM's routes per model kind and its offline cost map, speaches' TTL
name, the speaches pull Job's image, and Open WebUI's URL and CORS origin from the exposure answers."""

from __future__ import annotations

import sys

import pytest
import yaml

from template_repo import CATALOG, Baked, container
from test_generated_repo import CASES
from tooling import ROOT, TEMPLATE

sys.path.insert(0, str(TEMPLATE / "{{cookiecutter.repo}}"))
# The generated repo's tools/models.py owns the embedding rule and LiteLLM's routes (models as data).
from tools import models as MODELS  # noqa: E402

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
    assert MODELS.is_embedding(name) is embedding
    (entry,) = yaml.safe_load(MODELS.litellm_config(MODELS.Models(ollama=(name,), prune=False), "http://ollama:11434"))["model_list"]
    assert entry["litellm_params"]["model"] == f"{'ollama' if embedding else 'ollama_chat'}/{name}"
    assert entry.get("model_info") == ({"mode": "embedding"} if embedding else None)


def test_litellm_serves_embedding_models_as_embeddings_and_uses_its_own_cost_map(all_on):
    # configMapGenerator names it litellm-config-<content hash>, so a changed model list rolls the pod.
    (generated,) = [m for name, m in all_on.of_kind("ConfigMap").items() if name.startswith("litellm-config-")]
    config = yaml.safe_load(generated["data"]["config.yaml"])
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
