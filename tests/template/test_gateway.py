"""exposure: gateway: the UIs over HTTPS on one Gateway with cert-manager certificates, for both LB providers."""

from __future__ import annotations

import shutil

import pytest

from template_repo import CASES, Baked, deployed, run
from tooling import VENV

GATEWAY_CASES = ["intel-cilium-all-given", "none-metallb-all-given"]


@pytest.fixture(params=GATEWAY_CASES)
def baked(request, bakery) -> Baked:
    return bakery(request.param, **CASES[request.param])


def test_one_https_listener_and_route_per_ui_with_a_cert_manager_certificate(baked):
    answers, ns = baked.answers, baked.answers["namespace"]
    gateway = {d["metadata"]["name"]: d for d in baked.rendered("gateway") if d["kind"] == "Gateway"}[ns]
    assert gateway["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": answers["cluster_issuer"]}
    assert gateway["spec"]["gatewayClassName"] == answers["gateway_class"]
    assert gateway["spec"]["addresses"] == [{"type": "IPAddress", "value": answers["open_webui_ip"]}]
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
        assert f"https://{host}" in (baked.path / "README.md").read_text()
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
    routes = repo / "kubernetes" / "infrastructure" / "base" / "gateway" / "gateway.yaml"
    routes.write_text(routes.read_text().replace("  hostnames:\n", "  hostname:\n", 1))
    assert run([*make, "render"], repo).returncode == 0
    result = run([*make, "validate"], repo)
    assert result.returncode != 0
    assert any("HTTPRoute/" in line and "'hostname' was unexpected" in line for line in result.stdout.splitlines()), result.stdout
