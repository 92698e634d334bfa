"""The GPU memory budget (answer gpu_memory_gb): the bake and `make validate` refuse a worst case that does
not fit one GPU, with one line naming gpu_memory_gb and the GiB needed; what fits gets the runtime
settings derived from the sum, and the README shows the arithmetic. Expected figures are written out
from the catalog's table (catalog/services.yaml), not recomputed by the code under test."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from template_repo import container

GIB = 1024**3


def env(baked, name: str) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container(baked.of_kind("Deployment")[name]).get("env", [])}


def test_a_worst_case_that_does_not_fit_is_refused_in_one_line(failed_bake):
    # qwen2.5:32b q4_K_M: 32e9 × 4.89 / 8 bytes = 18.2 GiB + 2 GiB context = 20.2; Whisper large-v3 5;
    # SDXL even in lowvram mode 4: 29.2 GiB > 24.
    stderr, left = failed_bake(ollama_models="qwen2.5:32b,nomic-embed-text", whisper_model="large-v3")
    lines = [line for line in stderr.splitlines() if "—" in line]
    assert lines == [
        "gpu_memory_gb: 24 — the services that can share one GPU need 29.2 GiB (qwen2.5:32b 20.2 + speech to text 5 "
        "+ Stable Diffusion 4); raise gpu_memory_gb, pick smaller models or a smaller whisper_model, or disable a service"
    ], stderr
    assert not left


@pytest.mark.parametrize("value", ["0", "24GB"])
def test_gpu_memory_gb_must_be_whole_gigabytes(failed_bake, value):
    stderr, left = failed_bake(gpu_memory_gb=value)
    lines = [line for line in stderr.splitlines() if "—" in line]
    assert lines == [f"gpu_memory_gb: {value} — must be a whole number from 1 to 1024"], stderr
    assert not left


def test_the_default_bake_fits_and_derives_its_settings(default_bake):
    # llama3.2:3b 3.7 GiB (3e9 × 4.89 / 8 = 1.7 + 2 context) + SDXL 10 + distil-large-v3 3 = 16.7 of 24.
    ollama = env(default_bake, "ollama")
    assert (ollama["OLLAMA_MAX_LOADED_MODELS"], ollama["OLLAMA_GPU_OVERHEAD"], ollama["OLLAMA_KEEP_ALIVE"], ollama["OLLAMA_NUM_PARALLEL"]) == ("2", str(13 * GIB), "5m", "2")
    assert env(default_bake, "faster-whisper")["WHISPER__TTL"] == "300"
    assert not {"SD_MEDVRAM", "SD_LOWVRAM"} & set(env(default_bake, "stable-diffusion"))
    readme = default_bake.readme
    assert "- total 16.7 GiB of 24 GiB" in readme
    assert "| Stable Diffusion (SD.Next) |" in readme and "| GPU (cuda) | 10 GiB |" in readme


def test_a_tight_budget_moves_stable_diffusion_to_a_lighter_mode(bakery):
    # qwen2.5:14b 10 GiB (14e9 × 4.89 / 8 = 8.0 + 2) + large-v3 5 + SDXL 10 = 25 > 24; SDXL medvram 6: 21 fits.
    baked = bakery("budget-medvram", ollama_models="qwen2.5:14b,nomic-embed-text", whisper_model="large-v3")
    assert env(baked, "stable-diffusion")["SD_MEDVRAM"] == "true"
    ollama = env(baked, "ollama")
    # 24 - 11 GiB for the others leaves 13: qwen2.5:14b 10 and nomic-embed-text 2.3 both stay loaded.
    assert (ollama["OLLAMA_MAX_LOADED_MODELS"], ollama["OLLAMA_GPU_OVERHEAD"]) == ("2", str(11 * GIB))
    readme = baked.readme
    assert "- total 21 GiB of 24 GiB" in readme and "SD.Next runs in memory mode `medvram`" in readme


def test_ollama_alone_on_its_gpu_keeps_models_longer(bakery):
    """AMD GPUs are not shared and only Ollama has a ROCm build: nothing else on its card."""
    baked = bakery("budget-amd", gpu_vendor="amd", ollama_models="llama3.1:8b,nomic-embed-text", gpu_memory_gb="8")
    ollama = env(baked, "ollama")
    # llama3.1:8b 6.6 GiB (8e9 × 4.89 / 8 = 4.6 + 2); with nomic-embed-text (2.3) 8.9 > 8: one model at a time.
    assert (ollama["OLLAMA_MAX_LOADED_MODELS"], ollama["OLLAMA_GPU_OVERHEAD"], ollama["OLLAMA_KEEP_ALIVE"]) == ("1", "0", "30m")


def git_status(repo: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True).stdout


def test_make_validate_refuses_a_budget_that_no_longer_fits(default_bake, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(default_bake.path, repo, symlinks=True)
    answers = repo / "clusters" / "production" / "cluster.yaml"
    # 10 GiB: not even SD.Next's lightest memory mode fits beside the model and speech to text.
    answers.write_text(answers.read_text().replace("gpu_memory_gb: '24'", "gpu_memory_gb: '10'"))
    edited = type(default_bake)(repo, default_bake.answers, default_bake.given_private_key)
    render = edited.make("render")  # the same rule as the bake's: nothing is rendered
    assert render.returncode != 0 and git_status(repo) == " M clusters/production/cluster.yaml\n", render.stdout
    assert re.search(r"^render: clusters/production/cluster\.yaml: gpu_memory_gb: 10 — the services that can share one GPU need 10\.7 GiB", render.stderr, re.M), render.stderr
    result = edited.make("validate")
    assert result.returncode != 0
    lines = [line for line in result.stdout.splitlines() if "gpu_memory_gb" in line]
    assert lines and all("clusters/production/cluster.yaml" in line for line in lines), result.stdout
    assert any("10.7 GiB" in line for line in lines), result.stdout
