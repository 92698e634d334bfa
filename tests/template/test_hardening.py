"""Pod hardening on baked repos, for both LB providers: every container of every workload, as rendered."""

from __future__ import annotations

import pytest
import yaml

from template_repo import Baked
from test_generated_repo import CASES

# Images that run as root upstream (catalog/services.yaml run_as_user, with sources): runAsNonRoot would
# stop them. speaches (1000), Qdrant's -unprivileged image (1000) and Gatus (65534) run as users.
ROOT_IMAGES = {"ollama", "open-webui", "stable-diffusion", "litellm", "ollama-pull-models"}
READ_ONLY_ROOT = {"ollama", "open-webui", "gatus", "faster-whisper-pull-model"}
WRITES_TMP = {"ollama", "open-webui"}


@pytest.fixture(params=["nvidia-cilium-all-generated", "amd-metallb-all-generated", "none-metallb-all-given"])
def baked(request, bakery) -> Baked:
    return bakery(request.param, **CASES[request.param])


def workloads(baked: Baked) -> list[dict]:
    return [d for d in baked.rendered("apps") if d["kind"] in ("Deployment", "StatefulSet", "Job")]


def test_every_pod_has_no_token_and_runtime_default_seccomp(baked):
    assert workloads(baked)
    for workload in workloads(baked):
        pod = workload["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False, workload["metadata"]["name"]
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        name = workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
        assert ("runAsNonRoot" in pod["securityContext"]) == (name not in ROOT_IMAGES)


def test_every_container_drops_everything_it_can(baked):
    for workload in workloads(baked):
        pod = workload["spec"]["template"]["spec"]
        name = workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
        for container in pod["containers"] + pod.get("initContainers", []):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["readOnlyRootFilesystem"] is (name in READ_ONLY_ROOT), name
            if name in WRITES_TMP:
                tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
                assert {"name": tmp["name"], "emptyDir": {}} in pod["volumes"], name
