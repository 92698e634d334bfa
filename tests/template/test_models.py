"""Models as data: catalog/models.yaml is the one list; `make render` carries it into the Ollama pull Job,
LiteLLM, Open WebUI and Gatus. Driven through the baked repo's own make targets (the README's steps)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from template_repo import CASES, Baked, container, run

ALL_ON = "nvidia-cilium-all-generated"


def env_of(workload: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container(workload).get("env", [])}


def litellm_models(baked: Baked) -> dict[str, dict]:
    config = yaml.safe_load(baked.config_map("litellm-config")["data"]["config.yaml"])
    return {m["model_name"]: m for m in config["model_list"]}


def gatus_model_checks(baked: Baked) -> dict[str, dict]:
    checks = yaml.safe_load(baked.config_map("gatus-config")["data"]["models.yaml"])["endpoints"]
    return {c["name"]: c for c in checks}


def pulled(baked: Baked) -> list[str]:
    return env_of(baked.of_kind("Job")["ollama-pull-models"])["PULL_MODELS"].split()


def mounted_config(baked: Baked, deployment: str) -> str:
    volumes = baked.of_kind("Deployment")[deployment]["spec"]["template"]["spec"]["volumes"]
    return next(v["configMap"]["name"] for v in volumes if "configMap" in v)


def fresh(baked: Baked) -> Baked:
    """The same repo re-read from disk (Baked caches what it parsed)."""
    return Baked(baked.path, baked.answers, baked.given_private_key)


def make(baked: Baked, *args: str) -> subprocess.CompletedProcess:
    return run(["make", "--no-print-directory", *args], baked.path, VENV=os.environ["VENV"])


def readme_step(baked: Baked, step: str) -> str:
    """The first command of a Day-2 bullet of the baked README, exactly as printed there."""
    readme = baked.readme
    bullet = re.search(rf"^- \*\*{re.escape(step)}\*\*: (.*?)(?=^- |^#)", readme, re.M | re.S)
    assert bullet, f"README has no Day-2 step {step!r}"
    return re.search(r"`(make [^`]+)`", bullet.group(1)).group(1)


@pytest.fixture
def all_on(bakery, tmp_path) -> Baked:
    return bakery(ALL_ON, **CASES[ALL_ON]).copy(tmp_path)


def test_the_readme_add_a_model_step_runs_as_written(all_on):
    before = {deployment: mounted_config(all_on, deployment) for deployment in ("litellm", "gatus")}
    command = readme_step(all_on, "Add a model")
    assert command == "make add-model MODEL=qwen3:8b"
    result = run(["bash", "-c", f"{command} VENV={os.environ['VENV']}"], all_on.path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert make(all_on, "render", "validate", f"AGE_KEY={all_on.private_key}").returncode == 0
    after = fresh(all_on)
    assert yaml.safe_load((after.path / "catalog" / "models.yaml").read_text())["ollama"]["models"][-1] == "qwen3:8b"
    assert pulled(after) == ["llama3.2:3b", "nomic-embed-text", "qwen3:8b"]
    ns = after.answers["namespace"]
    assert litellm_models(after)["qwen3:8b"] == {
        "model_name": "qwen3:8b",
        "litellm_params": {"model": "ollama_chat/qwen3:8b", "api_base": f"http://ollama.{ns}.svc.cluster.local:11434"},
    }
    check = gatus_model_checks(after)["qwen3:8b"]
    assert (check["method"], check["url"], yaml.safe_load(check["body"])) == (
        "POST", f"http://ollama.{ns}.svc.cluster.local:11434/api/show", {"model": "qwen3:8b"})
    # The mounted configs have new names (content hash): the LiteLLM and Gatus pods roll.
    for deployment, name in before.items():
        assert mounted_config(after, deployment) != name
    committed = run(["git", "status", "--porcelain"], after.path).stdout
    assert "catalog/models.yaml" in committed and "kubernetes/rendered/" in committed


def test_an_embedding_model_is_served_by_litellm_as_one(all_on):
    assert make(all_on, "add-model", "MODEL=mxbai-embed-large").returncode == 0
    after = fresh(all_on)
    served = litellm_models(after)
    assert served["mxbai-embed-large"]["litellm_params"]["model"] == "ollama/mxbai-embed-large"
    assert served["mxbai-embed-large"]["model_info"] == {"mode": "embedding"}
    assert served["nomic-embed-text"]["litellm_params"]["model"] == "ollama/nomic-embed-text"
    assert served["llama3.2:3b"]["litellm_params"]["model"] == "ollama_chat/llama3.2:3b" and "model_info" not in served["llama3.2:3b"]
    webui = env_of(after.of_kind("Deployment")["open-webui"])
    # Through LiteLLM, Open WebUI names models by LiteLLM's model_name.
    assert (webui["DEFAULT_MODELS"], webui["RAG_EMBEDDING_MODEL"]) == ("llama3.2:3b", "nomic-embed-text")


def test_a_removed_model_leaves_the_job_and_litellm(all_on):
    models = all_on.path / "catalog" / "models.yaml"
    models.write_text(models.read_text().replace("    - llama3.2:3b\n", "    - phi4-mini\n"))
    assert make(all_on, "render").returncode == 0
    after = fresh(all_on)
    assert pulled(after) == ["phi4-mini", "nomic-embed-text"]
    assert set(litellm_models(after)) == set(gatus_model_checks(after)) == {"phi4-mini", "nomic-embed-text"}
    job = env_of(after.of_kind("Job")["ollama-pull-models"])
    assert (job["KEEP_MODELS"], job["PRUNE_MODELS"]) == ("phi4-mini:latest nomic-embed-text:latest", "false")


def test_without_litellm_open_webui_names_ollama_models_with_their_tag(bakery, tmp_path):
    repo = bakery("default").copy(tmp_path)
    assert not (repo.sources / "kubernetes" / "apps" / "base" / "ai" / "litellm").exists()
    models = repo.path / "catalog" / "models.yaml"
    models.write_text(models.read_text().replace("    - llama3.2:3b\n", "    - phi4-mini\n"))
    assert make(repo, "render").returncode == 0
    webui = env_of(fresh(repo).of_kind("Deployment")["open-webui"])
    # Ollama lists an untagged pull as name:latest (/api/tags), and that is the id Open WebUI shows.
    assert webui["DEFAULT_MODELS"] == "phi4-mini:latest"


@pytest.mark.parametrize("name", ["llama 3", "Llama3", "a'b;rm -rf x", ""])
def test_a_bad_model_name_is_one_line_and_changes_nothing(bakery, name):
    baked = bakery("default")
    result = make(baked, "add-model", f"MODEL={name}")
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert ours == [f"models: MODEL: {name!r} is not an Ollama model name (name[:tag], lower case, e.g. llama3.2:3b)"]
    assert run(["git", "status", "--porcelain"], baked.path).stdout == ""


def test_a_list_without_an_embedding_model_fails_the_render_in_one_line(all_on):
    models = all_on.path / "catalog" / "models.yaml"
    models.write_text(models.read_text().replace("    - nomic-embed-text\n", ""))
    result = make(all_on, "render")
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert ours == ["render: catalog/models.yaml: ollama.models has no embedding model (a name with 'embed', or one of "
                    "all-minilm, bge-large, bge-m3, paraphrase-multilingual): Open WebUI embeds documents with it"]
    assert run(["git", "status", "--porcelain"], all_on.path).stdout == " M catalog/models.yaml\n"


def test_pruning_removes_only_what_the_list_no_longer_has(all_on, tmp_path):
    """The pull Job's script as rendered, with `prune: true`, against an `ollama` that records its calls.

    No Ollama server runs here (no binary in any package index this machine reaches): the stand-in only
    answers `ollama list` as Ollama prints it (NAME ID SIZE MODIFIED) and logs pull/rm."""
    models = all_on.path / "catalog" / "models.yaml"
    models.write_text(models.read_text().replace("prune: false", "prune: true"))
    assert make(all_on, "render").returncode == 0
    job = container(fresh(all_on).of_kind("Job")["ollama-pull-models"])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    fake = bin_dir / "ollama"
    fake.write_text(f"""#!/bin/sh
echo "$*" >> {log}
if [ "$1" = list ]; then
  printf 'NAME                       ID              SIZE      MODIFIED\\n'
  printf 'llama3.2:3b                a80c4f17acd5    2.0 GB    2 days ago\\n'
  printf 'nomic-embed-text:latest    0a109f422b47    274 MB    2 days ago\\n'
  printf 'mistral:7b                 f974a74358d6    4.1 GB    9 days ago\\n'
fi
""")
    fake.chmod(0o755)
    env = {**{e["name"]: e["value"] for e in job["env"]}, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(job["command"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    calls = [line for line in log.read_text().splitlines() if line != "list"]
    assert calls == ["pull llama3.2:3b", "pull nomic-embed-text", "rm mistral:7b"]


def test_the_bake_adds_an_embedding_model_when_the_answer_names_none(bakery):
    baked = bakery("none-cilium-none-generated", **CASES["none-cilium-none-generated"])
    assert yaml.safe_load((baked.path / "catalog" / "models.yaml").read_text())["ollama"]["models"] == ["nomic-embed-text"]
    assert pulled(baked) == ["nomic-embed-text"]
    assert env_of(baked.of_kind("Deployment")["open-webui"])["DEFAULT_MODELS"] == ""


def test_generated_files_say_where_they_come_from(bakery):
    baked = bakery(ALL_ON, **CASES[ALL_ON])
    apps = Path(baked.sources, "kubernetes", "apps", "base", "ai")
    for path in (apps / "ollama" / "models.yaml", apps / "open-webui" / "models.yaml", apps / "litellm" / "config.yaml", apps / "gatus" / "models.yaml"):
        assert path.read_text().startswith("# Generated by `make render` from catalog/models.yaml"), path
