"""What an Ollama model is to the services that serve it: one rule, read by every template that lists models.

LiteLLM routes a model by its provider prefix: `ollama_chat/<name>` calls Ollama's /api/chat and has no
embedding route (a POST /v1/embeddings for it answers 400 "Unmapped LLM provider"), `ollama/<name>` calls
/api/embed; `model_info.mode: embedding` makes /v1/models and the health checks treat it as an embedding
model, so Open WebUI does not offer it for chat (BerriAI/litellm docs/my-website/docs/providers/ollama.md,
proxy/health_check.py; confirmed by running litellm 1.110.2 against an Ollama stub, tests/runtime).
"""

from __future__ import annotations

# Embedding models in Ollama's library (ollama.com/search?c=embedding) whose names do not say "embed".
EMBEDDING_FAMILIES = frozenset({"all-minilm", "bge-m3", "bge-large", "paraphrase-multilingual"})


def is_embedding_model(name: str) -> bool:
    """Whether an Ollama model name (`family[:tag]`) is an embedding model: its family says `embed`, or it is
    one of the library's embedding families that do not."""
    family = name.split(":", 1)[0].rsplit("/", 1)[-1].lower()
    return "embed" in family or family in EMBEDDING_FAMILIES


def litellm_model(name: str) -> dict:
    """LiteLLM's `litellm_params.model` and `model_info` for an Ollama model."""
    if is_embedding_model(name):
        return {"model": f"ollama/{name}", "model_info": {"mode": "embedding"}}
    return {"model": f"ollama_chat/{name}", "model_info": {}}
