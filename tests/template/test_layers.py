"""The Flux layering rule on baked repos: which kinds each rendered layer holds, and the dependsOn graph.

kustomize-controller dry-runs every object of a Kustomization and applies none when one fails
(fluxcd/pkg ssa ApplyAll), so the layers the apps need may hold only built-in kinds, and every
add-on (custom resources, or objects in another operator's namespace) must be a layer of its own
that nothing depends on.
"""

from __future__ import annotations

import re

import pytest
import yaml

from template_repo import Baked
from test_generated_repo import CASES

ADDON_KINDS = {
    "lb": {"cilium": {"CiliumLoadBalancerIPPool", "CiliumL2AnnouncementPolicy"}, "metallb": {"IPAddressPool", "L2Advertisement"}},
    "backup": {"Schedule", "ConfigMap"},  # the ConfigMap: each tier's Velero resource policy
    "gpu": {"ConfigMap"},
    "netpol": {"cilium": {"CiliumNetworkPolicy"}, "metallb": {"NetworkPolicy"}},
    "gateway": {"Gateway", "HTTPRoute"},
}


@pytest.fixture(params=["default", "nvidia-metallb-none-given", "amd-metallb-all-generated", "none-cilium-none-generated",
                        "none-metallb-all-given", "intel-cilium-all-given"])
def baked(request, bakery) -> Baked:
    return bakery(request.param, **CASES[request.param])


def flux_kustomizations(baked: Baked) -> dict[str, dict]:
    files = (p for p in (baked.path / "clusters" / baked.cluster).glob("*.yaml") if p.name != "cluster.yaml")
    docs = (d for p in files for d in yaml.safe_load_all(p.read_text()) if d)
    return {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "Kustomization"}


def kinds(baked: Baked, layer: str) -> set[str]:
    return {doc["kind"] for doc in baked.rendered(layer)}


def test_each_layer_the_answers_switch_on_is_rendered_and_has_one_flux_kustomization(baked):
    sharing = baked.answers["gpu_vendor"] == "nvidia" and baked.answers["gpu_time_slicing_replicas"] != "1"
    gateway = baked.answers["exposure"] == "gateway"
    layers = ["core", "apps", "lb", *(["gpu"] if sharing else []), "backup", "netpol", *(["gateway"] if gateway else [])]
    assert sorted(layers) == baked.layers == sorted(flux_kustomizations(baked))
    build = baked.make("build")
    assert re.findall(r"^# cluster \S+, layer (\S+)$", build.stdout, re.MULTILINE) == layers, build.stderr


def test_core_holds_only_the_namespace_and_claims_and_apps_only_builtin_kinds(baked):
    assert kinds(baked, "core") == {"Namespace", "PersistentVolumeClaim"}
    groups = {doc["apiVersion"].rpartition("/")[0] for doc in baked.rendered("apps")}
    assert all("." not in g or g.endswith(".k8s.io") for g in groups), groups


def test_every_addon_holds_only_its_own_kinds(baked):
    for layer in set(baked.layers) - {"core", "apps"}:
        expected = ADDON_KINDS[layer]
        expected = expected[baked.answers["lb_provider"]] if isinstance(expected, dict) else expected
        assert kinds(baked, layer) == expected, layer


def test_apps_depends_on_core_only_and_nothing_depends_on_an_addon(baked):
    specs = flux_kustomizations(baked)
    graph = {name: [d["name"] for d in spec.get("dependsOn", [])] for name, spec in specs.items()}
    assert graph.pop("apps") == ["core"]
    assert graph.pop("core") == []
    assert all(deps in ([], ["core"]) for deps in graph.values()), graph


def test_apps_waits_for_its_deployments_not_the_pull_job(baked):
    spec = flux_kustomizations(baked)["apps"]
    deployments = {(d["metadata"]["namespace"], d["metadata"]["name"]) for d in baked.rendered("apps") if d["kind"] == "Deployment"}
    checks = spec["healthChecks"]
    assert {(c["namespace"], c["name"]) for c in checks} == deployments
    assert {(c["apiVersion"], c["kind"]) for c in checks} == {("apps/v1", "Deployment")}
    assert "wait" not in spec  # wait: true would also wait for the model-pull Job
    minutes = int(spec["timeout"].removesuffix("m"))
    assert minutes >= 25  # Stable Diffusion's kfn startup budget is 20 minutes, plus the image pull
