"""`make preflight`: before Flux first reconciles, what the live cluster lacks for this repo, one line each.

Usage: python -m tools.preflight [CLUSTER] (the Makefile passes CLUSTER; it may be left out when the repo
has one cluster).

Reads the cluster only through kubectl (tools/cluster.py), the cluster's answers through tools/clusters.py
(clusters/<name>/cluster.yaml) and what Flux will apply from kubernetes/rendered/<name>/<layer>/. Each missing prerequisite is one line,
`preflight: <layer>: <what is missing> — <the fix>`; exit 0 only when nothing is missing, 1 when something
is, 2 when kubectl cannot ask the cluster at all (one line saying why).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from kfn import api
from tools import clusters, manifests
from tools.answers import active_layers
from tools.catalog import resource_vendor
from tools.cluster import Cluster, Kubectl, Unreachable, meta
from tools.manifests import Manifest
from tools.sops_files import SopsError
from tools.validate.policy import requested_addresses

ROOT = Path(__file__).resolve().parent.parent
# Namespaces the add-ons' own installers create; the fix for a missing one is installing the add-on.
INSTALLED_BY = {"velero": "Velero", "metallb-system": "MetalLB", "gpu-operator": "the NVIDIA GPU Operator"}
# Where a namespace the repo creates itself is stood in for while it does not exist yet (see dry_run).
STAND_IN_NAMESPACE = "default"


class NotReady(Exception):
    """The repo itself is not ready to be checked (no rendered output)."""


@dataclass(frozen=True)
class Missing:
    layer: str
    what: str
    fix: str

    def line(self) -> str:
        return f"preflight: {self.layer}: {self.what} — {self.fix}"


@dataclass
class Repo:
    """What this repo will ask of the cluster: the answers and the rendered layers."""

    answers: dict
    layers: dict[str, list[Manifest]]

    @classmethod
    def load(cls, cluster: str) -> Repo:
        answers = clusters.load(cluster)
        rendered = ROOT / manifests.RENDERED / cluster
        wanted = active_layers(answers)
        missing = [layer for layer in wanted if not (rendered / layer).is_dir()]
        if missing:
            raise NotReady(f"{rendered.relative_to(ROOT)}/{missing[0]}: missing; run `make render` first")
        layers = {}
        for directory in (rendered / layer for layer in wanted):
            files = sorted(f for f in directory.rglob("*.yaml") if f.name != "kustomization.yaml")
            layers[directory.name] = [m for f in files for m in manifests.parse_documents(f.read_text(), str(f.relative_to(ROOT)))]
        return cls(answers, layers)

    def all(self) -> Iterator[Manifest]:
        for docs in self.layers.values():
            yield from docs

    def served_by(self, layer: str) -> set[str]:
        return {f"{m.kind}/{m.name}" for m in self.layers.get(layer, [])}

    @property
    def created_namespaces(self) -> set[str]:
        return {m.name for m in self.all() if m.kind == "Namespace"}


def needs_crd(layer: str, crd: str, version: str, install: str) -> Callable[[Cluster], list[Missing]]:
    def check(cluster: Cluster) -> list[Missing]:
        served = cluster.served.get(crd)
        if served is None:
            return [Missing(layer, f"CRD {crd} is not installed", install)]
        if version not in served:
            return [Missing(layer, f"CRD {crd} does not serve {version} (serves {', '.join(sorted(served)) or 'nothing'})", f"upgrade: {install}")]
        return []

    return check


def needs_workload(layer: str, kind: str, name: str, namespace: str | None, install: str) -> Callable[[Cluster], list[Missing]]:
    def check(cluster: Cluster) -> list[Missing]:
        if cluster.workload(kind, name, namespace):
            return []
        where = f" in namespace {namespace}" if namespace else ""
        return [Missing(layer, f"no {kind} {name}{where} (its controller is not running)", install)]

    return check


# --- the prerequisites of each layer -----------------------------------------------------------


def version_check(repo: Repo, cluster: Cluster) -> list[Missing]:
    wanted = str(repo.answers.get("kubernetes_version", ""))
    major, minor = cluster.server_version
    want_minor = int(wanted.partition(".")[2] or 0)
    if (major, minor) < (1, want_minor):
        return [Missing("cluster", f"Kubernetes {major}.{minor} is older than kubernetes_version {wanted} (the schemas `make validate` checked)", f"upgrade the cluster to {wanted} or later, or set kubernetes_version: '{major}.{minor}' in its cluster.yaml and `make render validate`")]
    return []


def storage_check(repo: Repo, cluster: Cluster) -> list[Missing]:
    wanted = repo.answers.get("storage_class", "")
    if wanted in cluster.storage_classes:
        if repo.answers.get("backup_method") == "csi-snapshot" and cluster.provisioners.get(wanted) != repo.answers.get("csi_driver"):
            return [Missing("backup", f"StorageClass {wanted} is provisioned by {cluster.provisioners.get(wanted)!r}, not csi_driver {repo.answers.get('csi_driver')!r}", "set csi_driver to the StorageClass's provisioner (docs/updating.md: changing an answer)")]
        return []
    have = ", ".join(sorted(cluster.storage_classes)) or "none"
    return [Missing("core", f"StorageClass {wanted} does not exist (the cluster has: {have})", f"install the storage provider that creates {wanted}, or change storage_class (docs/updating.md)")]


def gpu_check(repo: Repo, cluster: Cluster) -> list[Missing]:
    """Allocatable GPU resources on the nodes against the rendered workloads' limits (slots, with time-slicing)."""
    wanted: dict[str, int] = {}
    for m in repo.all():
        for container in ((m.doc.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []:
            for resource, amount in ((container.get("resources") or {}).get("limits") or {}).items():
                if resource_vendor(resource):
                    wanted[resource] = wanted.get(resource, 0) + int(str(amount))
    out = []
    for resource, needed in sorted(wanted.items()):
        per_node = [int(str(((n.get("status") or {}).get("allocatable") or {}).get(resource, 0))) for n in cluster.nodes]
        total = sum(per_node)
        plugin = {"nvidia": "the NVIDIA GPU Operator or k8s-device-plugin", "amd": "the AMD GPU device plugin (ROCm)", "intel": "the Intel GPU device plugin"}[resource_vendor(resource)]
        if total == 0:
            out.append(Missing("apps", f"no node has allocatable {resource}", f"install {plugin} on the GPU nodes"))
        elif total < needed:
            sharing = " and point the ClusterPolicy at time-slicing-config (README, Bootstrap step 4)" if "gpu" in repo.layers else ""
            out.append(Missing("apps", f"{total} allocatable {resource} on {sum(1 for n in per_node if n)} node(s), the GPU workloads need {needed}", f"add GPUs or share them{sharing}"))
    runtime = repo.answers.get("gpu_runtime_class", "")
    if runtime and wanted and runtime not in cluster.runtime_classes:
        out.append(Missing("apps", f"RuntimeClass {runtime} (gpu_runtime_class) does not exist", "install the GPU runtime that creates it (GPU Operator: nvidia), or change gpu_runtime_class"))
    return out


def lb_check(repo: Repo, cluster: Cluster) -> list[Missing]:
    if repo.answers.get("lb_provider") == "metallb":
        checks = [
            needs_crd("lb", "ipaddresspools.metallb.io", "v1beta1", "install MetalLB >= 0.13"),
            needs_crd("lb", "l2advertisements.metallb.io", "v1beta1", "install MetalLB >= 0.13"),
            needs_workload("lb", "Deployment", "controller", "metallb-system", "install MetalLB in namespace metallb-system"),
            needs_workload("lb", "DaemonSet", "speaker", "metallb-system", "install MetalLB in namespace metallb-system (its speaker announces the IPs)"),
        ]
        return [m for check in checks for m in check(cluster)]
    out = [m for check in (
        needs_crd("lb", "ciliumloadbalancerippools.cilium.io", "v2", "install Cilium >= 1.18"),
        needs_crd("lb", "ciliuml2announcementpolicies.cilium.io", "v2alpha1", "install Cilium >= 1.18 with l2announcements.enabled=true"),
    ) for m in check(cluster)]
    agent = cluster.workload("DaemonSet", "cilium")
    if agent is None:
        out.append(Missing("lb", "no DaemonSet cilium (the Cilium agent is not running)", "install Cilium >= 1.18 as the cluster's CNI"))
    elif cluster.config_map(meta(agent).get("namespace", "kube-system"), "cilium-config").get("enable-l2-announcements") != "true":
        out.append(Missing("lb", "Cilium's L2 announcements are off (cilium-config enable-l2-announcements)", "helm upgrade cilium with l2announcements.enabled=true (and kubeProxyReplacement), then restart the agents"))
    return out


def lb_ip_check(repo: Repo, cluster: Cluster) -> list[Missing]:
    """The LoadBalancer IPs this repo asks for, already held by a Service it does not own."""
    ours = {(m.namespace, m.name) for m in repo.all() if m.kind == "Service"}
    # The addresses `make validate` holds to the pool: Services' and the Gateway's (either implementation).
    wanted = {ip: m.ident for m in repo.all() for ip, _ in requested_addresses(m)}
    out = []
    for service in cluster.services:
        m = meta(service)
        owner = (m.get("labels") or {})
        if (m.get("namespace"), m.get("name")) in ours or owner.get("gateway.networking.k8s.io/gateway-name") or owner.get("io.cilium.gateway/owning-gateway") or owner.get("gateway.envoyproxy.io/owning-gateway-name"):
            continue  # this repo's own Services, and those its Gateway's implementation creates for it
        spec, status = service.get("spec") or {}, service.get("status") or {}
        held = {i.get("ip") for i in (status.get("loadBalancer") or {}).get("ingress") or []}
        held |= set(spec.get("externalIPs") or []) | {ip for ip, _ in api.lb_ips(service)}  # annotations, loadBalancerIP
        for ip in sorted(held & set(wanted)):
            out.append(Missing("apps", f"{ip} ({wanted[ip]}) is already held by Service {m.get('namespace')}/{m.get('name')}", "pick a free address in lb_pool (docs/updating.md), or free it"))
    return out


def backup_check(repo: Repo, cluster: Cluster) -> list[Missing]:
    checks = [
        needs_crd("backup", "schedules.velero.io", "v1", "install Velero >= 1.15.1 in namespace velero"),
        needs_workload("backup", "Deployment", "velero", "velero", "install Velero >= 1.15.1 in namespace velero"),
        needs_workload("backup", "DaemonSet", "node-agent", "velero", "install Velero with its node-agent (helm: deployNodeAgent=true; it moves the volume data)"),
    ]
    if repo.answers.get("backup_method") == "csi-snapshot":
        checks.append(needs_crd("backup", "volumesnapshotclasses.snapshot.storage.k8s.io", "v1", "install the CSI external-snapshotter CRDs and snapshot-controller"))
    return [m for check in checks for m in check(cluster)]


def netpol_check(repo: Repo, cluster: Cluster) -> list[Missing]:
    if repo.answers.get("lb_provider") != "cilium":
        return []  # plain NetworkPolicy: a built-in kind (whether the CNI enforces it is not visible through the API)
    out = needs_crd("netpol", "ciliumnetworkpolicies.cilium.io", "v2", "install Cilium as the cluster's CNI")(cluster)
    if not out and cluster.workload("DaemonSet", "cilium") is None:
        out.append(Missing("netpol", "no DaemonSet cilium: nothing enforces CiliumNetworkPolicy", "install Cilium as the cluster's CNI"))
    return out


def gateway_check(repo: Repo, cluster: Cluster) -> list[Missing]:
    gateway_api = "install the Gateway API standard CRDs >= v1.0"
    out = [m for check in (
        needs_crd("gateway", "gateways.gateway.networking.k8s.io", "v1", gateway_api),
        needs_crd("gateway", "httproutes.gateway.networking.k8s.io", "v1", gateway_api),
        needs_crd("gateway", "certificates.cert-manager.io", "v1", "install cert-manager >= 1.15"),
    ) for m in check(cluster)]
    wanted = repo.answers.get("gateway_class", "")
    classes = {meta(c).get("name"): c for c in cluster.custom("gatewayclasses.gateway.networking.k8s.io")}
    conditions = {c.get("type"): c.get("status") for c in ((classes.get(wanted) or {}).get("status") or {}).get("conditions") or []}
    if wanted not in classes:
        out.append(Missing("gateway", f"GatewayClass {wanted} does not exist", "install its implementation (Cilium: gatewayAPI.enabled=true; Envoy Gateway: GatewayClass eg)"))
    elif conditions.get("Accepted") != "True":
        out.append(Missing("gateway", f"GatewayClass {wanted} is not Accepted by a controller", "check that its implementation is running"))
    issuer = repo.answers.get("cluster_issuer", "")
    if issuer not in {meta(i).get("name") for i in cluster.custom("clusterissuers.cert-manager.io")}:
        out.append(Missing("gateway", f"ClusterIssuer {issuer} does not exist", "create it with a gatewayHTTPRoute HTTP-01 solver (or DNS-01)"))
    out += cert_manager_gateway_support(cluster)
    return out


def cert_manager_gateway_support(cluster: Cluster) -> list[Missing]:
    """cert-manager issues for Gateways only with --enable-gateway-api (>= 1.15; config enableGatewayAPI: true)."""
    controller = next((w for w in cluster.workloads if w.get("kind") == "Deployment" and (meta(w).get("labels") or {}).get("app.kubernetes.io/component") == "controller"
                       and (meta(w).get("labels") or {}).get("app.kubernetes.io/name") == "cert-manager"), None)
    if controller is None:
        return [Missing("gateway", "no cert-manager controller Deployment", "install cert-manager >= 1.15 with config.enableGatewayAPI: true")]
    pod = (controller.get("spec") or {}).get("template", {}).get("spec", {})
    args = [str(a) for c in pod.get("containers") or [] for a in c.get("args") or []]
    if any(a in ("--enable-gateway-api", "--enable-gateway-api=true") or "ExperimentalGatewayAPISupport=true" in a for a in args):
        return []
    namespace = meta(controller).get("namespace", "cert-manager")
    mounted = [v["configMap"]["name"] for v in pod.get("volumes") or [] if isinstance(v.get("configMap"), dict)]
    if any("enableGatewayAPI: true" in text for name in mounted for text in cluster.config_map(namespace, name).values()):
        return []
    return [Missing("gateway", "cert-manager runs without Gateway API support", "helm upgrade cert-manager with config.enableGatewayAPI: true (cert-manager >= 1.15)")]


def flux_secret_check(repo: Repo, cluster: Cluster) -> list[Missing]:
    """Bootstrap step 3 (`make flux-secret`) creates the Secret Flux decrypts with, as you."""
    if cluster.kubectl.can_i("create", "secrets", "flux-system"):
        return []
    return [Missing("cluster", "you may not create Secrets in namespace flux-system (kubectl auth can-i)", "`make flux-secret` loads the age key there: run it as a cluster admin")]


LAYER_CHECKS: dict[str, Callable[[Repo, Cluster], list[Missing]]] = {
    "core": storage_check,
    "apps": lambda repo, cluster: gpu_check(repo, cluster) + lb_ip_check(repo, cluster),
    "lb": lb_check,
    "backup": backup_check,
    "netpol": netpol_check,
    "gateway": gateway_check,
}


# --- the API server's dry-run ------------------------------------------------------------------


def namespace_check(repo: Repo, cluster: Cluster) -> list[Missing]:
    """Namespaces a layer applies into that neither exist nor come from this repo."""
    out = []
    for layer, docs in repo.layers.items():
        missing = sorted({m.namespace for m in docs if m.namespace} - cluster.namespaces - repo.created_namespaces)
        for namespace in missing:
            install = INSTALLED_BY.get(namespace, "the add-on that owns it")
            out.append(Missing(layer, f"namespace {namespace} does not exist", f"install {install} (it creates {namespace})"))
    return out


def dry_run_document(m: Manifest, cluster: Cluster, created: set[str]) -> dict:
    """The object as Flux applies it: without the sops metadata Flux strips when it decrypts, and, while a
    namespace this repo creates does not exist yet, in a namespace that does (a dry-run stores nothing,
    so the Namespace from `core` would not exist for the objects after it)."""
    doc = {k: v for k, v in m.doc.items() if k != "sops"}
    if m.namespace in created and m.namespace not in cluster.namespaces:
        doc["metadata"] = {**doc["metadata"], "namespace": STAND_IN_NAMESPACE}
    return doc


def dry_run(repo: Repo, cluster: Cluster, layer: str) -> list[Missing]:
    docs = [dry_run_document(m, cluster, repo.created_namespaces) for m in repo.layers[layer]]
    if not docs:
        return []
    stream = yaml.safe_dump_all(docs, sort_keys=False)
    result = cluster.kubectl.run("apply", "--dry-run=server", "--filename", "-", stdin=stream)
    if result.returncode == 0:
        return []
    errors = [line.strip() for line in result.stderr.splitlines() if line.strip().lower().startswith(("error", "the "))]
    return [Missing(layer, f"the API server's dry-run refused: {line}", "fix the manifest (or the cluster policy that refuses it), `make render`, run preflight again") for line in errors or [f"kubectl exited {result.returncode}"]]


# --- the run ----------------------------------------------------------------------------------


def preflight(repo: Repo, cluster: Cluster) -> list[Missing]:
    found = version_check(repo, cluster)
    found += flux_secret_check(repo, cluster)
    found += namespace_check(repo, cluster)
    blocked = {m.layer for m in found}
    for layer in repo.layers:
        check = LAYER_CHECKS.get(layer)
        layer_found = check(repo, cluster) if check else []
        found += layer_found
        # A layer whose prerequisite is missing fails its dry-run for the same reason: one line is enough.
        if not layer_found and layer not in blocked:
            found += dry_run(repo, cluster, layer)
    found += [Missing("cluster", f"cannot read: {why}", "run preflight with a kubeconfig that may read the cluster (get/list)") for why in dict.fromkeys(cluster.forbidden)]
    return found


def chosen(argv: list[str]) -> str:
    """The cluster to check: the one named, else the repo's only one."""
    every = clusters.names()
    if argv:
        if argv[0] not in every:
            raise NotReady(f"CLUSTER: {argv[0]!r}: no such cluster (clusters: {', '.join(every) or 'none'})")
        return argv[0]
    if len(every) == 1:
        return every[0]
    if not every:
        raise NotReady("no cluster in clusters/ (make add-cluster NAME=...)")
    raise NotReady(f"CLUSTER: this repo has {len(every)} clusters ({', '.join(every)}): name the one your kubectl reaches, e.g. make preflight CLUSTER={every[0]}")


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print("usage: python -m tools.preflight [CLUSTER]", file=sys.stderr)
        return 2
    try:
        repo = Repo.load(chosen(argv))
        cluster = Cluster(Kubectl())
        found = preflight(repo, cluster)
    except (Unreachable, clusters.ClusterError, NotReady, SopsError) as err:
        print(f"preflight: {err}", file=sys.stderr)
        return 2
    for missing in found:
        print(missing.line())
    major, minor = cluster.server_version
    if found:
        print(f"preflight: {len(found)} missing prerequisite{'s' * (len(found) != 1)} on Kubernetes {major}.{minor}; Flux would fail where each line says")
        return 1
    print(f"preflight: OK, Kubernetes {major}.{minor} has every prerequisite of {', '.join(repo.layers)}, and the API server's dry-run accepts all {sum(map(len, repo.layers.values()))} objects")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
