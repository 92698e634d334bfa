"""The service catalog drives what runs: true per-vendor images, probes on routes the image serves,
one version per image, a stack wired together, and a new service added through the catalog alone."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from template_repo import CASES, CATALOG, Baked, container, deployed, run
from tooling import TEMPLATE, VENV, add_echo_service, tool_env

# Per vendor, the workloads that hold a GPU with every service on (the catalog's backends, written out
# here so that a catalog edit which moves a GPU shows up as a failing test, not as a silent change).
GPU_HOLDERS = {
    "nvidia-cilium-all-generated": {"ollama", "stable-diffusion", "faster-whisper"},
    "amd-metallb-all-generated": {"ollama"},
    "intel-cilium-all-given": {"ollama"},
    "none-metallb-all-given": set(),
}
VERSION = re.compile(r"v?\d+(?:\.\d+)*")


def workloads(baked: Baked) -> dict[str, dict]:
    return {**baked.of_kind("Deployment"), **baked.of_kind("StatefulSet"), **baked.of_kind("Job")}


def env_of(workload: dict) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(workload).get("env", [])}


@pytest.fixture(params=list(GPU_HOLDERS))
def vendor_bake(request, bakery) -> Baked:
    return bakery(request.param, **CASES[request.param])


def test_gpu_holders_per_vendor(vendor_bake, request):
    holders = {name for name, w in workloads(vendor_bake).items() if any("gpu" in k for k in container(w)["resources"].get("limits", {}))}
    assert holders == GPU_HOLDERS[request.node.callspec.params["vendor_bake"]]


def test_no_workload_holds_a_gpu_its_image_cannot_use(vendor_bake):
    vendor = vendor_bake.answers["gpu_vendor"]
    for name, service in deployed(vendor_bake.answers).items():
        workload = vendor_bake.of_kind("Deployment")[name]
        image = container(workload)["image"]
        assert image == service["images"][vendor]["image"], name
        holds = any("gpu" in k for k in container(workload)["resources"].get("limits", {}))
        assert holds == (service["images"][vendor]["backend"] != "cpu"), name


def test_every_probe_targets_the_catalog_port_and_a_route_the_image_serves(vendor_bake):
    for name, service in deployed(vendor_bake.answers).items():
        main = container(vendor_bake.of_kind("Deployment")[name])
        assert {"name": "http", "containerPort": service["port"]} in main["ports"], name
        for field in ("startupProbe", "livenessProbe", "readinessProbe"):
            probe = main[field]
            action = probe.get("httpGet") or probe["tcpSocket"]
            assert action["port"] == service["port"], (name, field)
            if "httpGet" in probe:
                assert probe["httpGet"]["path"] in service["routes"], (name, field)
            else:
                assert service["probes"]["protocol"] == "tcp", (name, field)


def test_one_version_per_image_and_every_image_from_the_catalog():
    versions: dict[str, set[str]] = {}
    for service in CATALOG.values():
        for run_ in service["images"].values():
            repository, _, tag = run_["image"].rpartition(":")
            versions.setdefault(repository, set()).add(VERSION.match(tag).group() if VERSION.match(tag) else tag)
    assert {r: v for r, v in versions.items() if len(v) > 1} == {}


def test_rendered_images_are_the_catalogs(vendor_bake):
    catalogued = {run_["image"] for s in CATALOG.values() for run_ in s["images"].values()}
    catalogued |= {job["image"] for s in CATALOG.values() for job in s.get("jobs", []) if "image" in job}  # a Job's own image
    for name, workload in workloads(vendor_bake).items():
        for c in workload["spec"]["template"]["spec"]["containers"]:
            assert c["image"] in catalogued, (name, c["image"])


def test_open_webui_is_wired_to_the_stack_from_git(vendor_bake):
    answers = vendor_bake.answers
    env = env_of(vendor_bake.of_kind("Deployment")["open-webui"])
    ns = answers["namespace"]
    assert env["ENABLE_PERSISTENT_CONFIG"] == "False"
    assert env["RAG_EMBEDDING_ENGINE"] == "ollama" and env["RAG_EMBEDDING_MODEL"] == "nomic-embed-text"
    assert env["RAG_OLLAMA_BASE_URL"] == f"http://ollama.{ns}.svc.cluster.local:11434"
    pull = env_of(vendor_bake.of_kind("Job")["ollama-pull-models"])
    assert "nomic-embed-text" in pull["PULL_MODELS"].split()
    # LiteLLM on: one model list (through LiteLLM), the direct Ollama connection off.
    assert env["ENABLE_OLLAMA_API"] == "False" and env["OPENAI_API_BASE_URL"] == f"http://litellm.{ns}.svc.cluster.local:4000/v1"
    assert env["AUTOMATIC1111_BASE_URL"] == f"http://stable-diffusion.{ns}.svc.cluster.local:80"
    assert env["AUTOMATIC1111_API_AUTH"] == {"secretKeyRef": {"name": "stable-diffusion-secrets", "key": "auth"}}
    assert env["AUDIO_STT_ENGINE"] == "openai"
    assert env["AUDIO_STT_OPENAI_API_BASE_URL"] == f"http://faster-whisper.{ns}.svc.cluster.local:80/v1"
    model = env["AUDIO_STT_MODEL"]
    gpu = CATALOG["faster-whisper"]["images"][answers["gpu_vendor"]]["backend"] != "cpu"
    assert model == CATALOG["faster-whisper"]["models"]["auto-gpu" if gpu else "auto-cpu"]
    assert f"/v1/models/{model}" in container(vendor_bake.of_kind("Job")["faster-whisper-pull-model"])["command"][-1]
    services = vendor_bake.of_kind("Service")
    assert services["stable-diffusion"]["spec"]["ports"][0]["port"] == 80
    assert services["faster-whisper"]["spec"]["ports"][0]["port"] == 80


def test_stable_diffusion_login_comes_from_a_file_never_the_command_line(vendor_bake):
    sd = container(vendor_bake.of_kind("Deployment")["stable-diffusion"])
    assert sd["args"][sd["args"].index("--auth-file") + 1] == "/run/secrets/sdnext/auth"
    assert not {"--auth", "--api-auth", "--gradio-auth"} & set(sd["args"]) and "COMMANDLINE_ARGS" not in env_of(vendor_bake.of_kind("Deployment")["stable-diffusion"])
    secret_file = vendor_bake.path / "clusters" / vendor_bake.cluster / "secrets" / "stable-diffusion.sops.yaml"
    auth = yaml.safe_load(vendor_bake.sops_decrypt(secret_file).stdout)["stringData"]["auth"]
    assert re.fullmatch(r"admin:[0-9a-f]{48}", auth)  # one user:password line, as --auth-file parses it
    mounts = {m["mountPath"]: m["name"] for m in sd["volumeMounts"]}
    assert mounts["/mnt/data"] == "stable-diffusion-data" and mounts["/mnt/models"] == "stable-diffusion-models"
    claims = vendor_bake.of_kind("PersistentVolumeClaim")
    assert claims["stable-diffusion-data"]["metadata"]["annotations"]["ai-gitops.dev/data-class"] == "data"
    assert claims["stable-diffusion-models"]["metadata"]["annotations"]["ai-gitops.dev/data-class"] == "models"


def test_speech_to_text_runs_float16_on_a_gpu_and_int8_on_the_cpu(vendor_bake):
    env = env_of(vendor_bake.of_kind("Deployment")["faster-whisper"])
    gpu = CATALOG["faster-whisper"]["images"][vendor_bake.answers["gpu_vendor"]]["backend"] != "cpu"
    assert (env["WHISPER__INFERENCE_DEVICE"], env["WHISPER__COMPUTE_TYPE"]) == (("cuda", "float16") if gpu else ("cpu", "int8"))


def test_gatus_checks_every_service_through_its_service_dns_name(vendor_bake):
    """Never through a LoadBalancer IP: plain NetworkPolicy may drop hairpin traffic to it, and the
    egress rules allow Gatus only the in-cluster flows to each service's pods."""
    answers, ns = vendor_bake.answers, vendor_bake.answers["namespace"]
    config = yaml.safe_load(vendor_bake.config_map("gatus-config")["data"]["config.yaml"])
    urls = {(e["group"], e["name"]): e["url"] for e in config["endpoints"]}
    expected = {}
    for name, service in deployed(answers).items():
        if name == "gatus":
            continue
        http = service["probes"]["protocol"] == "http"
        path = service["probes"]["readiness"] if http else ""
        group = "ui" if service["ip_answer"] else "api"
        expected[(group, name)] = f"{'http' if http else 'tcp'}://{name}.{ns}.svc.cluster.local:{service['service_port']}{path}"
    assert urls == expected
    lb_ips = {answers[s["ip_answer"]] for s in deployed(answers).values() if s["ip_answer"]}
    assert not [url for url in urls.values() if any(f"/{ip}:" in url for ip in lb_ips)]


def test_readme_access_table_lists_every_deployed_service(vendor_bake):
    readme = vendor_bake.readme
    for name, service in deployed(vendor_bake.answers).items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| {service['title']} |"))
        assert f"{service['service_port']} → {service['port']}" in row, name


def test_validate_rejects_a_gpu_for_an_image_without_that_vendors_backend(bakery, tmp_path):
    """A user gives speaches (CUDA or CPU builds only) an Intel GPU: make validate names it."""
    baked = bakery("intel-cilium-all-given", **CASES["intel-cilium-all-given"])
    repo = tmp_path / "repo"
    shutil.copytree(baked.path, repo, symlinks=True)
    deployment = repo / "templates" / "kubernetes" / "apps" / "base" / "ai" / "faster-whisper" / "deployment.yaml"
    deployment.write_text(deployment.read_text().replace("    ai-gitops.dev/probes: faster-whisper", '    ai-gitops.dev/gpu: "1"\n    ai-gitops.dev/probes: faster-whisper'))
    make = ["make", "--no-print-directory", f"VENV={VENV}"]
    assert run([*make, "render"], repo).returncode == 0
    result = run([*make, "validate"], repo)
    assert result.returncode != 0
    line = next(l for l in result.stdout.splitlines() if "Deployment/faster-whisper" in l and "gpu.intel.com/i915" in l)
    assert "image ghcr.io/speaches-ai/speaches:0.8.3-cpu has no intel GPU backend" in line


def test_a_service_added_through_the_catalog_alone_is_deployed(tmp_path):
    """One catalog entry plus its manifest directory (deployment + kustomization): no other file changes."""
    template = tmp_path / "ai-gitops"
    subprocess.run(["git", "clone", "-q", str(TEMPLATE), str(template)], check=True)
    add_echo_service(template)
    result = subprocess.run([str(VENV / "bin" / "cookiecutter"), "--no-input", "-o", str(tmp_path / "out"), str(template)],
                            capture_output=True, text=True, env=tool_env(VENV=str(VENV)))
    assert result.returncode == 0, result.stderr
    baked = Baked(tmp_path / "out" / "ai-gitops", {"cluster_name": "production"}, None)
    echo = container(baked.of_kind("Deployment")["echo"])
    assert echo["readinessProbe"]["httpGet"] == {"path": "/", "port": 5678}  # kfn's profile, from the catalog
    assert baked.of_kind("Service")["echo"]["spec"]["ports"][0]["port"] == 5678
    claim = baked.of_kind("PersistentVolumeClaim")["echo-data"]
    assert claim["metadata"]["labels"]["backup.velero.io/backup-tier"] == "Daily"
    assert "| Echo | ClusterIP `echo.ai.svc` | 5678 → 5678 |" in baked.readme
    policy = next(p for p in baked.rendered("netpol") if p["metadata"]["name"] == "echo")
    assert policy["spec"]["ingress"][0]["fromEndpoints"][0]["matchLabels"] == {"app.kubernetes.io/name": "open-webui"}
    daily = next(s for s in baked.of_kind("Schedule").values() if s["metadata"]["name"].endswith("-daily") and "gfs" not in s["metadata"]["name"])
    assert "echo" in daily["spec"]["template"]["orLabelSelectors"][1]["matchExpressions"][0]["values"]
    validate = baked.make("validate")
    assert validate.returncode == 0, validate.stdout + validate.stderr


def test_readme_states_sdnexts_driver_requirement_only_where_it_holds_a_gpu(vendor_bake):
    """sdnext-cuda:latest moved to a CUDA 13 torch (driver >= 580); where SD.Next runs on the CPU no driver
    is involved, and pinning a CUDA image's digest is not the advice an AMD or Intel user needs."""
    readme = vendor_bake.readme
    sd = CATALOG["stable-diffusion"]
    if vendor_bake.answers["enable_stable_diffusion"] is not True:
        assert "SD.Next) publishes only" not in readme
        return
    run = sd["images"][vendor_bake.answers["gpu_vendor"]]
    on_gpu = run["backend"] != "cpu"
    assert ("NVIDIA driver 580 or newer" in readme) == on_gpu
    assert ("sdnext-cuda@sha256" in readme) == on_gpu
    assert on_gpu == (vendor_bake.answers["gpu_vendor"] == "nvidia")


def test_intel_ollamas_vram_limit_is_documented_not_worked_around(vendor_bake):
    """Vulkan gives free VRAM only to CAP_PERFMON (ollama docs/gpu.mdx@v0.32.15); the namespace enforces
    PodSecurity baseline, which rejects a pod adding PERFMON, so the README says what Ollama does without it."""
    vulkan = CATALOG["ollama"]["images"][vendor_bake.answers["gpu_vendor"]]["backend"] == "vulkan"
    readme = vendor_bake.readme
    assert ("`CAP_PERFMON`" in readme) == vulkan
    ollama = container(vendor_bake.of_kind("Deployment")["ollama"])
    assert ollama["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    namespace = next(d for d in vendor_bake.resources if d["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
