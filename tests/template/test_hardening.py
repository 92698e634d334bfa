"""Pod hardening on baked repos, for both LB providers: every container of every workload, as rendered."""

from __future__ import annotations

import pytest
import yaml

from template_repo import Baked
from test_generated_repo import CASES

# Images that run as root upstream (sources in the manifests' comments): runAsNonRoot would stop them.
ROOT_IMAGES = {"ollama", "open-webui", "faster-whisper", "stable-diffusion", "qdrant", "litellm", "ollama-pull-models"}
READ_ONLY_ROOT = {"ollama"}


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
            if context["readOnlyRootFilesystem"]:
                tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
                assert {"name": tmp["name"], "emptyDir": {}} in pod["volumes"], name


def test_hardening_sits_at_the_end_of_the_base_manifests(baked):
    """Merge contract with concurrent edits of the workload files: the pod-level block ends the pod spec
    and securityContext ends each container, in the files as written."""
    for path in sorted((baked.path / "kubernetes" / "apps" / "base" / "ai").glob("*/*.yaml")):
        if path.name not in ("deployment.yaml", "pull-models.yaml"):  # patches are not the workload files
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") not in ("Deployment", "Job") or "containers" not in doc["spec"]["template"].get("spec", {}):
                continue
            pod = doc["spec"]["template"]["spec"]
            assert list(pod)[-2:] == ["automountServiceAccountToken", "securityContext"], path
            assert all(list(c)[-1] == "securityContext" for c in pod["containers"]), path
