"""exposure: gateway: the UIs over HTTPS on one Gateway with cert-manager certificates, for both LB providers."""

from __future__ import annotations

import ipaddress
import re
import shutil

import pytest

import yaml

from template_repo import CASES, LB_ANNOTATIONS, Baked, deployed, run
from tooling import VENV

GATEWAY_CASES = ["intel-cilium-all-given", "none-metallb-all-given"]
# Envoy Gateway on Cilium's LB IPAM: the Envoy Service outside the app namespace asks Cilium's pool.
ENVOY_ON_CILIUM = {"lb_provider": "cilium", "gateway_class": "eg", "exposure": "gateway", "domain": "lab.example.org", "enable_gatus": "no"}


@pytest.fixture(params=[*GATEWAY_CASES, "envoy-on-cilium"])
def baked(request, bakery) -> Baked:
    return bakery(request.param, **(ENVOY_ON_CILIUM if request.param == "envoy-on-cilium" else CASES[request.param]))


def test_one_https_listener_and_route_per_ui_with_a_cert_manager_certificate(baked):
    answers, ns = baked.answers, baked.answers["namespace"]
    gateway = {d["metadata"]["name"]: d for d in baked.rendered("gateway") if d["kind"] == "Gateway"}[ns]
    assert gateway["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": answers["cluster_issuer"]}
    assert gateway["spec"]["gatewayClassName"] == answers["gateway_class"]
    uis = {name: s for name, s in deployed(answers).items() if s.get("host")}
    assert set(uis) == {"open-webui", "stable-diffusion", "faster-whisper"}
    listeners = {l["name"]: l for l in gateway["spec"]["listeners"]}
    routes = {d["metadata"]["name"]: d["spec"] for d in baked.rendered("gateway") if d["kind"] == "HTTPRoute"}
    for name, service in uis.items():
        host = f"{service['host']}.{answers['domain']}"
        listener = listeners[f"https-{name}"]
        assert (listener["hostname"], listener["port"], listener["protocol"]) == (host, 443, "HTTPS")
        assert listener["tls"] == {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": f"{name}-tls"}]}
        assert routes[name]["hostnames"] == [host]
        assert routes[name]["parentRefs"] == [{"name": ns, "sectionName": f"https-{name}"}]
        assert routes[name]["rules"] == [{"backendRefs": [{"name": name, "port": service["service_port"]}]}]
        assert baked.of_kind("Service")[name]["spec"]["type"] == "ClusterIP"
        assert f"https://{host}" in baked.readme
    redirect = routes["https-redirect"]
    assert redirect["parentRefs"] == [{"name": ns, "sectionName": "http"}]
    assert redirect["rules"][0]["filters"] == [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]
    assert not [s for s in baked.of_kind("Service").values() if s["spec"]["type"] == "LoadBalancer"]


def test_validate_checks_the_routes_against_the_gateway_api_schema(bakery, tmp_path):
    baked = bakery(GATEWAY_CASES[0], **CASES[GATEWAY_CASES[0]])
    repo = tmp_path / "repo"
    shutil.copytree(baked.path, repo, symlinks=True)
    make = ["make", "--no-print-directory", f"VENV={VENV}"]
    ok = run([*make, "validate"], repo)
    assert ok.returncode == 0 and "no schema for gateway.networking.k8s.io" not in ok.stdout, ok.stdout
    routes = repo / "templates" / "kubernetes" / "infrastructure" / "base" / "gateway" / "gateway.yaml"
    routes.write_text(routes.read_text().replace("  hostnames:\n", "  hostname:\n", 1))
    assert run([*make, "render"], repo).returncode == 0
    result = run([*make, "validate"], repo)
    assert result.returncode != 0
    assert any("HTTPRoute/" in line and "'hostname' was unexpected" in line for line in result.stdout.splitlines()), result.stdout


# Where each implementation puts the Gateway's LoadBalancer Service, and how it asks for the address:
# Cilium: Service cilium-gateway-<gateway> in the Gateway's namespace, spec.addresses -> LB IPAM
# (cilium/cilium operator/pkg/model/translation/gateway-api/testdata/basic_http_listener_load_balancer/
# service-output.yaml@13d2ffa, Documentation/network/servicemesh/gateway-api/addresses.rst@38ad0ab).
# Envoy Gateway: the Envoy Service in the controller namespace envoy-gateway-system, carrying the Gateway's
# spec.infrastructure.annotations; spec.addresses would become externalIPs, which MetalLB ignores
# (envoyproxy/gateway v1.9.0 internal/gatewayapi/translator.go buildIR, internal/infrastructure/kubernetes/
# proxy/resource_provider.go).
def gateway_service(gateway: dict) -> tuple[str, dict[str, str]]:
    """(namespace, annotations) of the LoadBalancer Service the Gateway's implementation creates."""
    spec = gateway["spec"]
    if spec["gatewayClassName"] == "cilium":
        ips = [a["value"] for a in spec.get("addresses", []) if a["type"] == "IPAddress"]
        return gateway["metadata"]["namespace"], {LB_ANNOTATIONS["cilium"]: ",".join(ips)} if ips else {}
    assert "addresses" not in spec, "Envoy Gateway turns spec.addresses into externalIPs, which no LB pool announces"
    return "envoy-gateway-system", spec.get("infrastructure", {}).get("annotations", {})


def in_block(ip: str, block: str) -> bool:
    if "-" in block:
        start, stop = (ipaddress.ip_address(p.strip()) for p in block.split("-"))
        return start <= ipaddress.ip_address(ip) <= stop
    return ipaddress.ip_address(ip) in ipaddress.ip_network(block, strict=False)


def assigned_and_announced(baked: Baked, namespace: str, annotations: dict[str, str]) -> str | None:
    """The address the rendered pool gives a Service in ``namespace`` with ``annotations``, if it is announced."""
    provider = baked.answers["lb_provider"]
    wanted = annotations.get(LB_ANNOTATIONS[provider])
    if not wanted:
        return None  # both pools hand out addresses only on request (MetalLB autoAssign: false)
    lb = baked.rendered("lb")
    if provider == "metallb":
        pools = [d for d in lb if d["kind"] == "IPAddressPool" and namespace in d["spec"]["serviceAllocation"]["namespaces"]
                 and any(in_block(wanted, a) for a in d["spec"]["addresses"])]
        announced = {p for d in lb if d["kind"] == "L2Advertisement" for p in d["spec"]["ipAddressPools"]}
        return wanted if any(p["metadata"]["name"] in announced for p in pools) else None
    def selects(policy: dict) -> bool:  # metav1.LabelSelector over Cilium's namespace label of a Service
        selector = policy["spec"]["serviceSelector"]
        labels = {"io.kubernetes.service.namespace": namespace}
        return selector.get("matchLabels", {}).items() <= labels.items() and all(
            e["operator"] == "In" and labels.get(e["key"]) in e["values"] for e in selector.get("matchExpressions", []))
    blocks = [b.get("cidr") or f"{b['start']}-{b['stop']}" for d in lb if d["kind"] == "CiliumLoadBalancerIPPool" and selects(d) for b in d["spec"]["blocks"]]
    announced = any(d["kind"] == "CiliumL2AnnouncementPolicy" and d["spec"]["loadBalancerIPs"] and selects(d) for d in lb)
    return wanted if announced and any(in_block(wanted, b) for b in blocks) else None


def test_the_gateways_address_is_assigned_and_announced(baked):
    gateway = {d["metadata"]["name"]: d for d in baked.rendered("gateway") if d["kind"] == "Gateway"}[baked.answers["namespace"]]
    namespace, annotations = gateway_service(gateway)
    assert assigned_and_announced(baked, namespace, annotations) == baked.answers["open_webui_ip"]


def test_acme_http01_solvers_are_reachable_through_default_deny(baked):
    """cert-manager starts its solver pods in the namespace (label and port: cert-manager/cert-manager v1.21.1
    pkg/apis/acme/v1/types.go, pkg/issuer/acme/http/http.go); the Gateway's proxy must reach port 8089."""
    (policy,) = [d for d in baked.rendered("netpol") if d["metadata"]["name"] == "acme-http01-solver"]
    spec = policy["spec"]
    if policy["kind"] == "CiliumNetworkPolicy":
        assert spec["endpointSelector"] == {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}}
        assert spec["ingress"] == [{"fromEntities": ["all"], "toPorts": [{"ports": [{"port": "8089", "protocol": "TCP"}]}]}]
    else:
        assert spec["podSelector"] == {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}}
        assert spec["policyTypes"] == ["Ingress"]
        assert spec["ingress"] == [{"ports": [{"port": 8089, "protocol": "TCP"}]}]


def test_readme_cluster_issuer_solves_http01_through_this_gateway(baked):
    ns, readme = baked.answers["namespace"], baked.readme
    block = re.search(r"```yaml\n(apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\n.*?)```", readme, re.DOTALL)
    assert block, "the README shows no ClusterIssuer"
    issuer = yaml.safe_load(block.group(1))
    assert issuer["metadata"]["name"] == baked.answers["cluster_issuer"]
    (solver,) = issuer["spec"]["acme"]["solvers"]
    gateways = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in baked.rendered("gateway") if d["kind"] == "Gateway"}
    (ref,) = solver["http01"]["gatewayHTTPRoute"]["parentRefs"]
    gateway = gateways[(ref["namespace"], ref["name"])]
    listener = {l["name"]: l for l in gateway["spec"]["listeners"]}[ref["sectionName"]]
    assert ref["kind"] == "Gateway" and (listener["protocol"], listener["port"]) == ("HTTP", 80)
    assert listener["allowedRoutes"]["namespaces"]["from"] == "Same" and ref["namespace"] == ns  # the solver's route lives in ns
