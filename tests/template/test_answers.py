"""Invalid answers: each stops the bake with one `key: value — why` line and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

# The answers table (tests/answers/, README there): the fast tier checks it against tools/answers.py
# directly, this bakes each invalid case through cookiecutter and its hooks.
TABLE = Path(__file__).parents[1] / "answers"
INVALID = [yaml.safe_load(p.read_text()) | {"id": p.stem} for p in sorted((TABLE / "invalid").glob("*.yaml"))]


@pytest.mark.parametrize("case", INVALID, ids=[case["id"] for case in INVALID])
def test_invalid_answer_is_rejected_naming_key_and_value(failed_bake, case):
    stderr, left = failed_bake(**case["answers"])
    problems = [line for line in stderr.splitlines() if "—" in line]
    assert len(problems) == 1, stderr
    assert problems[0].startswith(case["says"]), stderr
    assert not left, f"left behind: {left}"


CLOSED = [("gpu_vendor", "nvidea"), ("lb_provider", "kube-vip"), ("whisper_model", "huge"), ("enable_qdrant", "maybe"), ("open_webui_auth", "sometimes"), ("backup_method", "snapshots")]


@pytest.mark.parametrize(("key", "value"), CLOSED, ids=[f"{k}={v}" for k, v in CLOSED])
def test_closed_questions_are_cookiecutter_choices(cookies, tmpdir, key, value):
    """Choice lists and booleans: cookiecutter asks again on a bad interactive answer and refuses a bad
    `key=value` before the hooks run, naming both; nothing is written."""
    result = cookies.bake(extra_context={key: value})
    assert isinstance(result.exception, ValueError), result.exception
    assert str(result.exception).startswith(f"{value} provided for ") and key in str(result.exception)
    assert not [p for p in Path(tmpdir, "cookies").rglob("*") if p.is_file()]


@pytest.mark.parametrize("value", ["no", "false", "0", "n"])
def test_yes_no_answers_keep_their_issue_3_spellings(bakery, value):
    baked = bakery(f"whisper-{value}", enable_whisper=value)
    assert baked.answers["enable_whisper"] is False
    assert "faster-whisper" not in baked.of_kind("Deployment")


def test_every_problem_is_reported_at_once(failed_bake):
    bad = {"repo": "Bad", "gpu_count": "x", "whisper_ip": "10.10.2.25", "kubernetes_version": "1.2", "qdrant_pvc_size": "1G"}
    stderr, left = failed_bake(**bad)
    lines = [line for line in stderr.splitlines() if "—" in line]
    assert [line.split(":")[0] for line in lines] == ["repo", "gpu_count", "kubernetes_version", "qdrant_pvc_size", "whisper_ip"]
    assert "5 invalid answer(s); nothing was generated." in stderr
    assert not left


def test_disabled_service_ip_is_not_checked(bakery):
    """An IP for a service that is switched off appears in no manifest, so it cannot be wrong (the cluster's
    answers keep it, for the day the service is switched on: then it is checked)."""
    baked = bakery("sd-off-bad-ip", enable_stable_diffusion="no", stable_diffusion_ip="not-an-ip")
    assert "not-an-ip" not in "".join(p.read_text() for p in baked.path.rglob("*.yaml") if p != baked.answers_file)


@pytest.mark.parametrize(("vendor", "expected"), [("amd", "10.3.0"), ("nvidia", None)])
def test_amd_gfx_version_reaches_ollama_only_on_rocm(bakery, vendor, expected):
    """HSA_OVERRIDE_GFX_VERSION lets ROCm run a Radeon card it does not list as the nearest target
    (ollama docs/gpu.mdx "Overrides on Linux"); other vendors ignore the answer."""
    baked = bakery(f"gfx-{vendor}", gpu_vendor=vendor, amd_gfx_version="10.3.0")
    ollama = baked.of_kind("Deployment")["ollama"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in ollama["env"]}
    assert env.get("HSA_OVERRIDE_GFX_VERSION") == expected
