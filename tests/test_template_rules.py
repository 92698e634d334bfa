"""The generated repo's template rules without a bake (the fast tier): the flow graph and Gatus targets of
tools/flows.py, the GPU-or-CPU decision of tools/answers.py, and the macros of templates/macros/workload.j2
as `make render` loads them. tests/template checks the same through real bakes."""

from __future__ import annotations

import sys

import pytest
import yaml

from tooling import TEMPLATE

PROJECT = TEMPLATE / "{{cookiecutter.repo}}"
sys.path.insert(0, str(PROJECT))
from tools import answers, clusters, flows  # noqa: E402

CATALOG = answers.load_catalog(PROJECT / answers.CATALOG_FILE)
VENDORS = ("nvidia", "amd", "intel", "none")


def service(port: int, clients: list[str], ip_answer: str | None = None, internet: bool = False, jobs=(), probe="http") -> dict:
    return {"port": port, "service_port": port + 1, "clients": clients, "ip_answer": ip_answer, "internet": internet,
            "jobs": list(jobs), "probes": {"protocol": probe, "readiness": "/ready"}}


# A small stack: a UI users open (LoadBalancer), a backend it and a Job talk to, a monitor of both.
STACK = {
    "ui": service(8080, ["monitor"], ip_answer="ui_ip"),
    "backend": service(11434, ["ui", "monitor", "absent"], internet=True,
                       jobs=[{"name": "backend-pull", "internet": True}], probe="tcp"),
    "monitor": service(9000, []),
}


def test_each_flow_is_granted_at_both_ends_and_only_to_deployed_clients():
    found = {w.name: w for w in flows.network_flows(STACK)}
    assert list(found) == ["ui", "backend", "backend-pull", "monitor"]  # catalog order, a service before its Jobs
    assert found["ui"] == flows.Workload("ui", (("monitor", 8080),), 8080, (("backend", 11434),), False)
    # "absent" is no deployed workload: no hole for it; the service's own Job is let in.
    assert found["backend"].ingress == (("ui", 11434), ("monitor", 11434), ("backend-pull", 11434))
    assert found["backend"].lb_port is None and found["backend"].internet is True
    assert found["backend-pull"] == flows.Workload("backend-pull", (), None, (("backend", 11434),), True)
    assert found["monitor"].egress == (("ui", 8080), ("backend", 11434))


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("switch", [True, False])
def test_the_catalogs_flows_mirror_each_other(vendor, switch):
    cluster = {"gpu_vendor": vendor, **{flag: switch for flag in answers.boolean_answers(CATALOG)}}
    workloads = flows.network_flows(answers.deployed(cluster, CATALOG))
    ingress = {(client, w.name, port) for w in workloads for client, port in w.ingress}
    egress = {(w.name, server, port) for w in workloads for server, port in w.egress}
    assert ingress == egress and ingress
    assert {w.name for w in workloads} >= {client for client, _, _ in ingress}


def test_gatus_checks_every_other_service_through_its_service_name():
    targets = flows.gatus_targets({**STACK, "gatus": service(8080, [])}, "ai")
    assert targets == [
        flows.Target("ui", "ui", "http://ui.ai.svc.cluster.local:8081/ready", "[STATUS] == 200"),
        flows.Target("backend", "api", "tcp://backend.ai.svc.cluster.local:11435", "[CONNECTED] == true"),
        flows.Target("monitor", "api", "http://monitor.ai.svc.cluster.local:9001/ready", "[STATUS] == 200"),
    ]


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_service_holds_a_gpu_where_its_image_has_a_backend_for_the_vendor(vendor):
    cluster = {"gpu_vendor": vendor, "whisper_model": "auto", **{flag: True for flag in answers.boolean_answers(CATALOG)}}
    on_gpu = {name for name in CATALOG["services"] if answers.on_gpu(cluster, CATALOG, name)}
    assert on_gpu == {name for name, s in CATALOG["services"].items() if s["images"][vendor]["backend"] != "cpu"}
    assert answers.gpu_workloads(cluster, CATALOG) == [n for n in CATALOG["services"] if n in on_gpu]
    # Ollama has a GPU build for every vendor; speaches only for NVIDIA (CUDA), and its model follows.
    assert ("ollama" in on_gpu) is (vendor != "none")
    assert ("faster-whisper" in on_gpu) is (vendor == "nvidia")
    whisper = CATALOG["services"]["faster-whisper"]["models"]
    assert answers.stt_model(cluster, CATALOG) == whisper["auto-gpu" if vendor == "nvidia" else "auto-cpu"]


def render(source: str, **context) -> dict:
    """A template using the macro library, rendered with `make render`'s environment, read as YAML."""
    env = clusters.environment(CATALOG, PROJECT)
    head = '{%- import "templates/macros/workload.j2" as workload -%}\n'
    return yaml.safe_load(env.from_string(head + source).render(**context))


def test_the_pod_block_runs_as_the_images_user_and_makes_claims_writable_for_it():
    pod = "spec:\n  template:\n    spec:\n      {{- workload.pod_security(uid, claims=claims, run_as_group=group) }}\n"
    as_user = render(pod, uid=1000, claims=[{"claim": "data"}], group=False)["spec"]["template"]["spec"]
    assert as_user == {"automountServiceAccountToken": False, "securityContext": {
        "runAsNonRoot": True, "runAsUser": 1000, "fsGroup": 1000, "seccompProfile": {"type": "RuntimeDefault"}}}
    scratch = render(pod, uid=65534, claims=[], group=True)["spec"]["template"]["spec"]["securityContext"]
    assert scratch == {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534, "seccompProfile": {"type": "RuntimeDefault"}}
    # Root upstream: runAsNonRoot would stop the pod; the containers drop every capability instead.
    root = render(pod, uid=0, claims=[{"claim": "data"}], group=False)["spec"]["template"]["spec"]["securityContext"]
    assert root == {"seccompProfile": {"type": "RuntimeDefault"}}


def test_a_container_takes_its_hardening_resources_and_claims_from_the_macros():
    source = """\
spec:
  template:
    spec:
      containers:
        - name: x
          {{- workload.resources(cpu=(2, "500m"), memory=("1Gi", "2Gi")) }}
          volumeMounts:
            {{- workload.claim_mounts(svc) }}
          {{- workload.container_security(read_only=true) }}
"""
    svc = CATALOG["services"]["open-webui"]
    fields = render(source, svc=svc)["spec"]["template"]["spec"]["containers"][0]
    assert fields["resources"] == {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "500m", "memory": "2Gi"}}
    assert fields["volumeMounts"] == [{"name": v["claim"], "mountPath": v["mount"]} for v in svc["volumes"]]
    assert fields["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True}


@pytest.mark.parametrize("vendor", VENDORS)
def test_kfns_gpu_marker_is_on_exactly_the_services_that_hold_a_gpu(vendor):
    cluster = {"gpu_vendor": vendor}
    for name in CATALOG["services"]:
        marked = render("annotations:\n  {{- workload.markers(cluster, name) }}\n", cluster=cluster, name=name)["annotations"]
        assert marked.get("ai-gitops.dev/gpu") == ("1" if answers.on_gpu(cluster, CATALOG, name) else None)
        assert marked["ai-gitops.dev/probes"] == name


def test_workloads_reach_a_service_by_its_service_name_and_port():
    port = CATALOG["services"]["ollama"]["service_port"]
    assert answers.service_url({"namespace": "genai"}, CATALOG, "ollama") == f"http://ollama.genai.svc.cluster.local:{port}"
