"""Invalid answers: each stops the bake with one `key: value — why` line and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

# A valid age recipient with one character changed: right alphabet and length, bad checksum.
BAD_CHECKSUM_KEY = "age1cevvlpztxa5wgvv585c0axy9uhqp623rxuphxca4xs5qkd0xhdts8f6zr5"

INVALID = [
    ("repo", "Bad_Name"),
    ("cluster_name", "prod cluster"),
    ("cluster_name", "base"),
    ("namespace", "kube-system"),
    ("namespace", "AI"),
    ("git_url", "git@github.com:org/repo.git"),
    ("git_branch", "feature..x"),
    ("git_branch", "-main"),
    ("gpu_count", "two"),
    ("gpu_count", "-1"),
    ("gpu_time_slicing_replicas", "0"),
    ("gpu_node_selector", "nvidia.com/gpu.present"),
    ("gpu_node_selector", "gpu=yes please"),
    ("storage_class", "Fast_SSD"),
    ("lb_pool", "10.10.2.0/33"),
    ("lb_pool", "10.10.2.25/29"),
    ("lb_pool", "10.10.2.30-10.10.2.25"),
    ("open_webui_ip", "10.10.3.5"),
    ("open_webui_ip", "10.10.2.24"),
    ("whisper_ip", "10.10.2.31"),
    ("whisper_ip", "10.10.2.256"),
    ("stable_diffusion_ip", "10.10.2.25"),
    ("age_public_key", "age1abc"),
    ("age_public_key", BAD_CHECKSUM_KEY),
    ("kubernetes_version", "1.29"),
    ("kubernetes_version", "v1.33"),
    ("ollama_models", "llama3 2"),
    ("ollama_pvc_size", "100GB"),
]


@pytest.mark.parametrize(("key", "value"), INVALID, ids=[f"{k}={v}" for k, v in INVALID])
def test_invalid_answer_is_rejected_naming_key_and_value(failed_bake, key, value):
    stderr, left = failed_bake(**{key: value})
    problems = [line for line in stderr.splitlines() if "—" in line]
    assert len(problems) == 1, stderr
    assert problems[0].startswith(f"{key}: {value} — "), stderr
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


@pytest.mark.parametrize(
    ("answers", "why"),
    [
        ({"gpu_time_slicing_replicas": "2"}, "3 GPU workloads (ollama, stable-diffusion, faster-whisper) need 3 GPU slots"),
        ({"gpu_vendor": "amd", "gpu_count": "0"}, "must be at least 1 with gpu_vendor amd"),
        ({"gpu_count": "0"}, "must be at least 1 with gpu_vendor nvidia"),
    ],
    ids=["over-budget", "amd-no-gpus", "no-gpus"],
)
def test_gpu_budget_is_checked_before_generation(failed_bake, answers, why):
    stderr, left = failed_bake(**answers)
    assert f"gpu_count: {answers.get('gpu_count', '1')} — " in stderr and why in stderr, stderr
    assert not left


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


@pytest.mark.parametrize(("answers", "line"), [
    ({"backup_method": "csi-snapshot", "storage_class": "ceph-rbd"}, "csi_driver: (empty) — backup_method csi-snapshot needs the CSI driver of StorageClass ceph-rbd"),
    ({"backup_method": "csi-snapshot", "csi_driver": "Longhorn Driver"}, "csi_driver: Longhorn Driver — must be a CSI driver name"),
], ids=["csi-snapshot-unknown-driver", "csi-driver-not-a-name"])
def test_csi_snapshot_needs_a_driver_name(failed_bake, answers, line):
    stderr, left = failed_bake(**answers)
    problems = [p for p in stderr.splitlines() if "—" in p]
    assert len(problems) == 1 and problems[0].startswith(line), stderr
    assert not left
