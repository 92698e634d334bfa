"""`make preflight` against recorded cluster states: a stand-in `kubectl` first on PATH answers from JSON
recorded the way kubectl prints it (tests/template/preflight/), the rest is the baked repo's own code.

A cluster with everything passes, one with nothing names every prerequisite, and each state with one
prerequisite taken away gets exactly one line naming it. kubectl failing, hanging or without a cluster
gets one line and exit 2. Every call is logged: preflight only reads and dry-runs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from template_repo import Baked, run
from tooling import VENV

HERE = Path(__file__).parent / "preflight"
STATES = HERE / "states"
# The second bake covers what the default does not: MetalLB, the Gateway with cert-manager, a
# RuntimeClass and CSI snapshots.
GATEWAY_BAKE = {"lb_provider": "metallb", "exposure": "gateway", "gpu_runtime_class": "nvidia", "backup_method": "csi-snapshot"}
READ_ONLY = ("version -o json", "get ", "auth can-i ", "apply --dry-run=server ")


@pytest.fixture(scope="module")
def default_repo(bakery) -> Baked:
    return bakery("default")


@pytest.fixture(scope="module")
def gateway_repo(bakery) -> Baked:
    return bakery("preflight-gateway", **GATEWAY_BAKE)


def state(tmp_path: Path, recorded: str | None = "everything") -> Path:
    target = tmp_path / "state"
    if recorded:
        shutil.copytree(STATES / recorded, target)
    else:
        target.mkdir()
    return target


def preflight(repo: Baked | Path, cluster: Path, *args: str, **env: str):
    path = f"{HERE}:{VENV / 'bin'}:/usr/bin:/bin"
    where = repo if isinstance(repo, Path) else repo.path
    return run(["make", "--no-print-directory", "preflight", f"VENV={VENV}", *args], where, PATH=path, KUBECTL_STATE=str(cluster), **env)


def problems(stdout: str) -> list[str]:
    """The lines naming a missing prerequisite (the last line is the summary)."""
    return [line for line in stdout.splitlines() if line.startswith("preflight: ") and " — " in line]


def edit(cluster: Path, name: str, change: Callable[[dict], object]) -> None:
    path = cluster / name
    document = json.loads(path.read_text()) if path.is_file() else {"apiVersion": "v1", "items": [], "kind": "List", "metadata": {"resourceVersion": ""}}
    change(document)
    path.write_text(json.dumps(document, indent=4))


def drop(name: str, *names: str) -> Callable[[Path], None]:
    """Take the named objects out of a recorded list."""
    return lambda cluster: edit(cluster, name, lambda d: d.update(items=[i for i in d["items"] if i["metadata"]["name"] not in names]))


def each(name: str, change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(cluster: Path) -> None:
        edit(cluster, name, lambda d: [change(i) for i in d["items"]])

    return apply


def set_gpus(count: str | None) -> Callable[[Path], None]:
    def change(node: dict) -> None:
        for key in ("allocatable", "capacity"):
            node["status"][key].pop("nvidia.com/gpu", None)
            if count and node["metadata"]["name"] == "gpu-1":
                node["status"][key]["nvidia.com/gpu"] = count

    return each("nodes.json", change)


def serve_only(crd: str, version: str) -> Callable[[Path], None]:
    def change(item: dict) -> None:
        if item["metadata"]["name"] == crd:
            item["spec"]["versions"] = [v for v in item["spec"]["versions"] if v["name"] == version]

    return each("customresourcedefinitions.json", change)


def write(name: str, content: object) -> Callable[[Path], None]:
    return lambda cluster: (cluster / name).write_text(json.dumps(content))


def hold_ip(ip: str) -> Callable[[Path], None]:
    def change(listing: dict) -> None:
        service = json.loads(json.dumps(listing["items"][-1]))
        service["metadata"].update(name="old-chat", namespace="legacy")
        service["status"]["loadBalancer"]["ingress"][0]["ip"] = ip
        listing["items"].append(service)

    return lambda cluster: edit(cluster, "services.json", change)


def without_args(name: str, flag: str) -> Callable[[Path], None]:
    def change(item: dict) -> None:
        if item["metadata"]["name"] == name:
            for container in item["spec"]["template"]["spec"]["containers"]:
                container["args"] = [a for a in container.get("args", []) if a != flag]

    return each("deployments.json", change)


def set_config(key: str, value: str) -> Callable[[Path], None]:
    return each("configmaps.json", lambda cm: cm["data"].update({key: value}))


def not_accepted(name: str) -> Callable[[Path], None]:
    def change(item: dict) -> None:
        if item["metadata"]["name"] == name:
            item["status"]["conditions"] = [{**c, "status": "False", "reason": "Pending"} for c in item["status"]["conditions"]]

    return each("gatewayclasses.gateway.networking.k8s.io.json", change)


# (id, bake, what is taken away, the one line it must give)
SINGLE_MISSING = [
    ("storage-class", "default", drop("storageclasses.json", "longhorn"), "core: StorageClass longhorn does not exist"),
    ("no-gpu", "default", set_gpus(None), "apps: no node has allocatable nvidia.com/gpu"),
    ("not-time-sliced", "default", set_gpus("1"), "apps: 1 allocatable nvidia.com/gpu on 1 node(s), the GPU workloads need 3"),
    ("gpu-operator", "default", drop("namespaces.json", "gpu-operator"), "gpu: namespace gpu-operator does not exist"),
    ("cilium-pool-v2", "default", serve_only("ciliumloadbalancerippools.cilium.io", "v2alpha1"), "lb: CRD ciliumloadbalancerippools.cilium.io does not serve v2"),
    ("cilium-l2", "default", set_config("enable-l2-announcements", "false"), "lb: Cilium's L2 announcements are off"),
    ("cilium-netpol", "default", drop("customresourcedefinitions.json", "ciliumnetworkpolicies.cilium.io"), "netpol: CRD ciliumnetworkpolicies.cilium.io is not installed"),
    ("velero-crd", "default", drop("customresourcedefinitions.json", "schedules.velero.io"), "backup: CRD schedules.velero.io is not installed"),
    ("velero", "default", drop("deployments.json", "velero"), "backup: no Deployment velero in namespace velero"),
    ("node-agent", "default", drop("daemonsets.json", "node-agent"), "backup: no DaemonSet node-agent in namespace velero"),
    ("ip-taken", "default", hold_ip("10.10.2.25"), "apps: 10.10.2.25 (Service/open-webui) is already held by Service legacy/old-chat"),
    ("old-kubernetes", "default", write("version.json", {"serverVersion": {"major": "1", "minor": "31+", "gitVersion": "v1.31.9-eks-1"}}), "cluster: Kubernetes 1.31 is older than kubernetes_version 1.33"),
    ("flux-secret", "default", write("can-i.json", {"create secrets flux-system": "no"}), "cluster: you may not create Secrets in namespace flux-system"),
    ("dry-run", "default", write("denials.json", {"Deployment/ollama": 'admission webhook "validate.kyverno.svc-fail" denied the request: image tag must not be latest'}),
     'apps: the API server\'s dry-run refused: Error from server (Forbidden): error when creating "STDIN": admission webhook "validate.kyverno.svc-fail" denied the request'),
    ("runtime-class", "gateway", drop("runtimeclasses.json", "nvidia"), "apps: RuntimeClass nvidia (gpu_runtime_class) does not exist"),
    ("metallb-speaker", "gateway", drop("daemonsets.json", "speaker"), "lb: no DaemonSet speaker in namespace metallb-system"),
    ("metallb-crd", "gateway", drop("customresourcedefinitions.json", "l2advertisements.metallb.io"), "lb: CRD l2advertisements.metallb.io is not installed"),
    ("snapshot-crd", "gateway", drop("customresourcedefinitions.json", "volumesnapshotclasses.snapshot.storage.k8s.io"), "backup: CRD volumesnapshotclasses.snapshot.storage.k8s.io is not installed"),
    ("csi-driver", "gateway", each("storageclasses.json", lambda sc: sc.update(provisioner="rancher.io/local-path")), "backup: StorageClass longhorn is provisioned by 'rancher.io/local-path', not csi_driver 'driver.longhorn.io'"),
    ("gateway-api", "gateway", drop("customresourcedefinitions.json", "httproutes.gateway.networking.k8s.io"), "gateway: CRD httproutes.gateway.networking.k8s.io is not installed"),
    ("gateway-class", "gateway", drop("gatewayclasses.gateway.networking.k8s.io.json", "eg"), "gateway: GatewayClass eg does not exist"),
    ("gateway-class-accepted", "gateway", not_accepted("eg"), "gateway: GatewayClass eg is not Accepted by a controller"),
    ("cert-manager-gateway", "gateway", without_args("cert-manager", "--enable-gateway-api"), "gateway: cert-manager runs without Gateway API support"),
    ("cluster-issuer", "gateway", drop("clusterissuers.cert-manager.io.json", "letsencrypt"), "gateway: ClusterIssuer letsencrypt does not exist"),
]


def repo_for(name: str, default_repo: Baked, gateway_repo: Baked) -> Baked:
    return default_repo if name == "default" else gateway_repo


@pytest.mark.parametrize("bake", ["default", "gateway"])
def test_a_cluster_with_everything_passes_and_is_only_read(bake, default_repo, gateway_repo, tmp_path):
    cluster = state(tmp_path)
    result = preflight(repo_for(bake, default_repo, gateway_repo), cluster)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("preflight: OK, Kubernetes 1.33 has every prerequisite of core, apps, lb"), result.stdout
    calls = [line.removeprefix("--request-timeout=20s ") for line in (cluster / "calls.log").read_text().splitlines()]
    assert calls and all(call.startswith(READ_ONLY) for call in calls), calls
    assert sum(call.startswith("apply --dry-run=server") for call in calls) == len(repo_for(bake, default_repo, gateway_repo).layers)


def test_a_cluster_with_nothing_names_every_prerequisite(default_repo, tmp_path):
    result = preflight(default_repo, state(tmp_path, "nothing"))
    assert result.returncode != 0, result.stdout + result.stderr
    found = problems(result.stdout)
    expected = [
        "gpu: namespace gpu-operator does not exist", "backup: namespace velero does not exist",
        "core: StorageClass longhorn does not exist (the cluster has: local-path)", "apps: no node has allocatable nvidia.com/gpu",
        "lb: CRD ciliumloadbalancerippools.cilium.io is not installed", "lb: CRD ciliuml2announcementpolicies.cilium.io is not installed",
        "lb: no DaemonSet cilium", "backup: CRD schedules.velero.io is not installed", "backup: no Deployment velero",
        "backup: no DaemonSet node-agent", "netpol: CRD ciliumnetworkpolicies.cilium.io is not installed",
    ]
    assert len(found) == len(expected), result.stdout
    for line in expected:
        assert any(f"preflight: {line}" in got for got in found), (line, result.stdout)
    assert all(" — " in line and line.split(" — ")[1] for line in found), "every line says how to fix it"
    assert result.stdout.splitlines()[-1] == f"preflight: {len(expected)} missing prerequisites on Kubernetes 1.33; Flux would fail where each line says"


@pytest.mark.parametrize(("bake", "take_away", "line"), [c[1:] for c in SINGLE_MISSING], ids=[c[0] for c in SINGLE_MISSING])
def test_each_missing_prerequisite_is_one_line(bake, take_away, line, default_repo, gateway_repo, tmp_path):
    cluster = state(tmp_path)
    take_away(cluster)
    result = preflight(repo_for(bake, default_repo, gateway_repo), cluster)
    assert result.returncode != 0, result.stdout + result.stderr
    found = problems(result.stdout)
    assert len(found) == 1 and found[0].startswith(f"preflight: {line}"), result.stdout


KUBECTL_FAILURES = [
    ("no-cluster", lambda cluster: None, "preflight: kubectl cannot reach the cluster: The connection to the server localhost:8080 was refused"),
    ("unauthorized", lambda cluster: (cluster / "fail.txt").write_text("error: You must be logged in to the server (Unauthorized)\n"),
     "preflight: kubectl cannot reach the cluster: error: You must be logged in to the server (Unauthorized)"),
    ("hangs", lambda cluster: (cluster / "hang").touch(), "preflight: kubectl version: no answer within 2 s"),
]


@pytest.mark.parametrize(("make_state", "line"), [c[1:] for c in KUBECTL_FAILURES], ids=[c[0] for c in KUBECTL_FAILURES])
def test_kubectl_that_cannot_ask_the_cluster_gets_one_line(make_state, line, default_repo, tmp_path):
    cluster = state(tmp_path, None)
    make_state(cluster)
    result = preflight(default_repo, cluster, PREFLIGHT_TIMEOUT="2")
    assert result.returncode != 0, result.stdout + result.stderr
    assert result.stdout == ""
    said = [text for text in result.stderr.splitlines() if not text.startswith("make")]  # make adds its own "Error 2"
    assert len(said) == 1 and said[0].startswith(line), result.stderr


def test_with_several_clusters_preflight_asks_which_one_and_checks_the_one_named(default_repo, tmp_path):
    """Each cluster is checked with its own answers and rendered output; none named: one line asking."""
    repo = tmp_path / "repo"
    shutil.copytree(default_repo.path, repo, symlinks=True)
    added = run(["make", "--no-print-directory", "add-cluster", "NAME=lab", f"VENV={VENV}"], repo)
    assert added.returncode == 0, added.stdout + added.stderr
    answers = repo / "clusters" / "lab" / "cluster.yaml"
    answers.write_text(answers.read_text().replace("storage_class: longhorn", "storage_class: ceph-block"))
    assert run(["make", "--no-print-directory", "render", "CLUSTER=lab", f"VENV={VENV}"], repo).returncode == 0
    cluster = state(tmp_path)
    unnamed = preflight(repo, cluster)
    assert unnamed.returncode == 2 and unnamed.stdout == "", unnamed.stdout
    said = [text for text in unnamed.stderr.splitlines() if not text.startswith("make")]
    assert said == ["preflight: CLUSTER: this repo has 2 clusters (lab, production): name the one your kubectl reaches, e.g. make preflight CLUSTER=lab"], unnamed.stderr
    assert preflight(repo, cluster, "CLUSTER=production").returncode == 0
    lab = preflight(repo, cluster, "CLUSTER=lab")
    assert problems(lab.stdout) and problems(lab.stdout)[0].startswith("preflight: core: StorageClass ceph-block does not exist"), lab.stdout
    unknown = preflight(repo, cluster, "CLUSTER=staging")
    assert unknown.returncode == 2 and "CLUSTER: 'staging': no such cluster (clusters: lab, production)" in unknown.stderr
