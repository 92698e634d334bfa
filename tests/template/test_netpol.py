"""Network policies on baked repos, for both LB providers: default-deny plus exactly the stack's flows.

The flows are read back from the rendered policies (both flavours into one form) and compared with the
list the issue names, so a missing or an extra allow rule fails.
"""

from __future__ import annotations

import pytest

from template_repo import Baked
from test_generated_repo import CASES

WORLD = "internet"
LB = "anywhere"


@pytest.fixture(params=["nvidia-cilium-all-generated", "amd-metallb-all-generated", "none-cilium-none-generated", "nvidia-metallb-none-given"])
def baked(request, bakery) -> Baked:
    return bakery(request.param, **CASES[request.param])


def app_of(selector: dict) -> str | None:
    return (selector.get("matchLabels") or {}).get("app.kubernetes.io/name")


def flows(baked: Baked) -> tuple[set, set, list[dict]]:
    """(ingress edges, egress edges, namespace-wide policies); an edge is (source, destination, port)."""
    ingress, egress, wide = set(), set(), []
    for policy in baked.rendered("netpol"):
        spec = policy["spec"]
        cilium = policy["kind"] == "CiliumNetworkPolicy"
        me = app_of(spec["endpointSelector" if cilium else "podSelector"])
        if me is None:
            wide.append(policy)
            continue
        for rule in spec.get("ingress", []):
            ports = [int(p["port"]) for block in rule.get("toPorts", []) for p in block["ports"]] if cilium else [p["port"] for p in rule.get("ports", [])]
            sources = [app_of(s) for s in rule.get("fromEndpoints", [])] if cilium else [app_of(s["podSelector"]) for s in rule.get("from", [])]
            if cilium and rule.get("fromEntities") == ["all"] or not cilium and "from" not in rule:
                sources = [LB]
            ingress |= {(s, me, p) for s in sources for p in ports}
        for rule in spec.get("egress", []):
            ports = [int(p["port"]) for block in rule.get("toPorts", []) for p in block["ports"]] if cilium else [p["port"] for p in rule.get("ports", [])]
            targets = [app_of(s) for s in rule.get("toEndpoints", [])] if cilium else [app_of(s["podSelector"]) if "podSelector" in s else WORLD for s in rule.get("to", [])]
            if cilium and rule.get("toEntities") == ["world"]:
                targets = [WORLD]
            egress |= {(me, t, p) for t in targets for p in ports}
    return ingress, egress, wide


def expected(baked: Baked) -> tuple[set, set]:
    """The flows the stack needs, written out (the template derives them from catalog/services.yaml)."""
    a = baked.answers
    on = {"faster-whisper": a["enable_whisper"] is True, "stable-diffusion": a["enable_stable_diffusion"] is True,
          "qdrant": a["enable_qdrant"] is True, "litellm": a["enable_litellm"] is True, "gatus": a["enable_gatus"] is True}
    ports = {"ollama": 11434, "open-webui": 8080, "qdrant": 6333, "litellm": 4000, "stable-diffusion": 7860, "faster-whisper": 8000}
    deployed = {"ollama", "open-webui"} | {n for n in ports if on.get(n)}
    inner = {("open-webui", "ollama", 11434), ("ollama-pull-models", "ollama", 11434)}
    inner |= {("open-webui", name, ports[name]) for name in ("qdrant", "litellm", "stable-diffusion", "faster-whisper") if on[name]}
    inner |= {("litellm", "ollama", 11434)} if on["litellm"] else set()
    inner |= {("faster-whisper-pull-model", "faster-whisper", 8000)} if on["faster-whisper"] else set()
    inner |= {("gatus", name, ports[name]) for name in deployed} if on["gatus"] else set()
    lb = {(LB, "open-webui", 8080)} | {(LB, n, ports[n]) for n in ("stable-diffusion", "faster-whisper") if on[n]}
    online = {"ollama", "open-webui"} | {n for n in ("stable-diffusion", "faster-whisper") if on[n]}
    internet = {(n, WORLD, p) for n in online for p in (443, 80)}
    return inner | lb, inner | internet


def test_policy_kind_follows_the_lb_provider(baked):
    kinds = {d["kind"] for d in baked.rendered("netpol")}
    assert kinds == ({"CiliumNetworkPolicy"} if baked.answers["lb_provider"] == "cilium" else {"NetworkPolicy"})
    assert all(d["metadata"]["namespace"] == baked.answers["namespace"] for d in baked.rendered("netpol"))


def test_exactly_the_stacks_flows_are_allowed(baked):
    ingress, egress, _ = flows(baked)
    want_in, want_out = expected(baked)
    assert ingress == want_in
    assert egress == want_out


def test_default_deny_and_dns_for_every_pod(baked):
    _, _, wide = flows(baked)
    by_name = {p["metadata"]["name"]: p["spec"] for p in wide}
    assert set(by_name) == {"default-deny", "allow-dns"}
    deny, dns = by_name["default-deny"], by_name["allow-dns"]
    if baked.answers["lb_provider"] == "cilium":
        assert deny == {"endpointSelector": {}, "ingress": [{}], "egress": [{}]}
        target = dns["egress"][0]["toEndpoints"][0]["matchLabels"]
        assert target == {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}
        assert {(p["port"], p["protocol"]) for p in dns["egress"][0]["toPorts"][0]["ports"]} == {("53", "UDP"), ("53", "TCP")}
    else:
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        rule = dns["egress"][0]
        assert rule["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
        assert {(p["port"], p["protocol"]) for p in rule["ports"]} == {(53, "UDP"), (53, "TCP")}


def test_every_workload_has_its_own_policy(baked):
    ingress, egress, _ = flows(baked)
    with_policy = {app_of(d["spec"].get("endpointSelector", d["spec"].get("podSelector"))) for d in baked.rendered("netpol")}
    for doc in baked.rendered("apps"):
        if doc["kind"] in ("Deployment", "Job"):
            assert doc["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] in with_policy, doc["metadata"]["name"]
