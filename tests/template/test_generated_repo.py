"""Bakes of the template, default and a pairwise matrix, checked through their rendered output.

The matrix covers every pair of the factors gpu_vendor (4) × lb_provider (2) × optional services
(all on / all off) × age key (generated / given) in 8 bakes instead of the full 32, and mixes in
range pools and "no GPU sharing" on a few rows.
"""

from __future__ import annotations

import ipaddress
import json
import stat
import tomllib

import pytest
import yaml

from kfn import api

from template_repo import (
    CASES,
    CATALOG,
    LB_ANNOTATIONS,
    ROOT,
    TIERS,
    Baked,
    container,
    deployed,
    enabled,
    gpu_resource,
)

# gpu_node_selector answers of CASES -> the nodeSelector every GPU pod gets, written out.
NODE_SELECTORS = {
    "": {},
    "nvidia.com/gpu.present=true": {"nvidia.com/gpu.present": "true"},
    "intel.feature.node.kubernetes.io/gpu=true": {"intel.feature.node.kubernetes.io/gpu": "true"},
}


@pytest.fixture(params=list(CASES))
def baked(request, bakery) -> Baked:
    return bakery(request.param, **CASES[request.param])


def workloads(baked: Baked) -> dict[str, dict]:
    return {**baked.of_kind("Deployment"), **baked.of_kind("StatefulSet")}


def test_only_enabled_services_are_deployed(baked):
    expected = set(deployed(baked.answers))
    assert set(workloads(baked)) == expected
    assert set(baked.of_kind("Service")) == expected
    base = baked.sources / "kubernetes" / "apps" / "base" / "ai"
    assert {p.name for p in base.iterdir() if p.is_dir()} == expected
    secrets = {p.name.removesuffix(".sops.yaml") for p in (baked.answers_file.parent / "secrets").iterdir()}
    assert secrets == {name for name in expected if (base / name / "secret.sops.yaml").is_file()}


def test_every_ai_workload_has_all_three_probes(baked):
    for name, workload in workloads(baked).items():
        probes = {key for key in container(workload) if key.endswith("Probe")}
        assert probes == {"startupProbe", "livenessProbe", "readinessProbe"}, name


def test_gpu_limits_only_on_gpu_workloads_of_the_chosen_vendor(baked):
    vendor = baked.answers["gpu_vendor"]
    services = deployed(baked.answers)
    for name, workload in workloads(baked).items():
        resources = container(workload)["resources"]
        pod = workload["spec"]["template"]["spec"]
        gpu_keys = {key for part in resources.values() for key in part if "gpu" in key}
        if services[name]["images"][vendor]["backend"] != "cpu":
            assert resources["limits"][gpu_resource(baked.answers)] == 1, name
            assert gpu_keys == {gpu_resource(baked.answers)}, name
            # The resource request alone places the pod; a node selector only where the answer asks for one.
            assert pod.get("nodeSelector", {}) == NODE_SELECTORS[baked.answers["gpu_node_selector"]], name
            assert pod.get("runtimeClassName") == (baked.answers["gpu_runtime_class"] or None), name
        else:
            assert not gpu_keys, name
            assert "runtimeClassName" not in pod, name
        assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"]), name


def test_kfn_takes_every_profile_tier_and_node_selector_from_the_repos_config(baked):
    """The rendered functionConfig (from the catalog) leaves nothing to kfn's deprecated defaults: no warning."""
    config_file = baked.sources / "kubernetes" / "kfn" / "overlay" / "ai-patches.yaml"
    config = api.parse_config(yaml.safe_load(config_file.read_text()))
    found = api.run_checks(baked.resources, config)
    assert [r["message"] for r in found if r["severity"] != "error"] == []
    assert not set(CATALOG) & config.defaulted.profiles, "a catalog service left to kfn's built-in profile"
    assert not config.defaulted.tiers


def test_every_pvc_has_the_backup_tier_of_its_data_class_and_a_schedule_selects_it(baked):
    claims = baked.of_kind("PersistentVolumeClaim")
    assert claims, "no PVCs rendered"
    selected = {
        selector["matchLabels"]["backup.velero.io/backup-tier"]
        for s in baked.of_kind("Schedule").values()
        for selector in s["spec"]["template"]["orLabelSelectors"] if "matchLabels" in selector
    }
    for name, claim in claims.items():
        data_class = claim["metadata"]["annotations"]["ai-gitops.dev/data-class"]
        tier = claim["metadata"]["labels"]["backup.velero.io/backup-tier"]
        assert tier == TIERS[data_class], name
        assert tier in selected, name
        assert claim["spec"]["storageClassName"] == baked.answers["storage_class"]


def test_every_lb_service_has_its_provider_ip_annotation_inside_the_pool(baked):
    provider = baked.answers["lb_provider"]
    pool = baked.answers["lb_pool"]
    for name, service in baked.of_kind("Service").items():
        annotations = service["metadata"].get("annotations", {})
        ip_answer = deployed(baked.answers)[name]["ip_answer"]
        if ip_answer and baked.answers["exposure"] == "loadbalancer":
            assert service["spec"]["type"] == "LoadBalancer"
            assert annotations == {LB_ANNOTATIONS[provider]: baked.answers[ip_answer]}, name
            ip = ipaddress.IPv4Address(baked.answers[ip_answer])
            if "-" in pool:
                first, last = (ipaddress.IPv4Address(part) for part in pool.split("-"))
                assert first <= ip <= last
            else:
                assert ip in ipaddress.IPv4Network(pool)
        else:
            assert service["spec"]["type"] == "ClusterIP", name
            assert not annotations, name


def test_lb_pool_uses_the_current_api_of_the_provider(baked):
    kinds = {(doc["apiVersion"], doc["kind"]) for doc in baked.rendered("lb")}
    if baked.answers["lb_provider"] == "cilium":
        assert {("cilium.io/v2", "CiliumLoadBalancerIPPool"), ("cilium.io/v2alpha1", "CiliumL2AnnouncementPolicy")} <= kinds
        pool = baked.of_kind("CiliumLoadBalancerIPPool")[f"{baked.answers['namespace']}-pool"]
        block = pool["spec"]["blocks"][0]
        pool_text = baked.answers["lb_pool"]
        assert block == ({"start": pool_text.split("-")[0], "stop": pool_text.split("-")[1]} if "-" in pool_text else {"cidr": pool_text})
    else:
        assert {("metallb.io/v1beta1", "IPAddressPool"), ("metallb.io/v1beta1", "L2Advertisement")} <= kinds
    assert not any(group.startswith("metallb.universe.tf") or group.endswith("v2alpha1") and kind.endswith("IPPool") for group, kind in kinds)


def test_time_slicing_config_only_for_nvidia_sharing(baked):
    config_maps = baked.of_kind("ConfigMap")
    sharing = baked.answers["gpu_vendor"] == "nvidia" and baked.answers["gpu_time_slicing_replicas"] != "1"
    assert ("time-slicing-config" in config_maps) == sharing
    if sharing:
        config = yaml.safe_load(config_maps["time-slicing-config"]["data"]["any"])
        resources = config["sharing"]["timeSlicing"]["resources"]
        assert resources == [{"name": "nvidia.com/gpu", "replicas": int(baked.answers["gpu_time_slicing_replicas"])}]


def test_flux_kustomizations_point_at_rendered_paths(baked):
    cluster_dir = baked.path / "clusters" / baked.cluster
    objects = {doc["kind"] + "/" + doc["metadata"]["name"]: doc for p in cluster_dir.glob("*.yaml") if p.name != "cluster.yaml" for doc in yaml.safe_load_all(p.read_text())}
    source = objects[f"GitRepository/{baked.answers['repo']}"]
    assert source["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    assert source["spec"]["url"] == baked.answers["git_url"]
    assert source["spec"]["ref"] == {"branch": baked.answers["git_branch"]}
    for layer in baked.layers:
        spec = objects[f"Kustomization/{layer}"]["spec"]
        assert objects[f"Kustomization/{layer}"]["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
        assert spec["prune"] is True
        if layer in ("core", "apps"):  # the layers that may hold encrypted Secrets
            assert spec["decryption"] == {"provider": "sops", "secretRef": {"name": "sops-age"}}
        assert spec["sourceRef"] == {"kind": "GitRepository", "name": baked.answers["repo"]}
        assert spec["path"] == f"./kubernetes/rendered/{baked.cluster}/{layer}"
        assert (baked.path / spec["path"] / "kustomization.yaml").is_file()


def test_render_through_its_own_makefile_is_idempotent_and_validate_passes(baked):
    render = baked.make("render")
    assert render.returncode == 0, render.stderr
    assert baked.git("status", "--porcelain") == "", "make render changed the committed output"
    validate = baked.make("validate")
    assert validate.returncode == 0, validate.stdout + validate.stderr


def test_git_has_one_commit_on_the_branch_and_no_private_key(baked):
    assert baked.git("branch", "--show-current").strip() == baked.answers["git_branch"]
    assert baked.git("rev-list", "--count", "HEAD").strip() == "1"
    tracked = baked.git("ls-files").splitlines()
    assert not [path for path in tracked if path.endswith(".agekey")]
    assert "kfn/plugin/kfn.ai-gitops.dev/v1alpha1/aipatches/AIPatches" in tracked
    assert not [path for path in tracked if "testdata" in path or "__pycache__" in path]
    private_key = next(l for l in baked.private_key.read_text().splitlines() if l.startswith("AGE-SECRET-KEY-"))
    assert private_key.encode() not in baked.git_objects()


def test_age_key_generated_private_or_absent_when_given(baked):
    recipient = yaml.safe_load((baked.path / ".sops.yaml").read_text())["creation_rules"][0]["age"]
    key_file = baked.path / "age.agekey"
    if baked.given_private_key:
        assert recipient == baked.answers["age_public_key"]
        assert not list(baked.path.rglob("*.agekey"))
    else:
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert f"# public key: {recipient}" in key_file.read_text()
        assert baked.git("check-ignore", "age.agekey").strip() == "age.agekey"


def test_answers_record_keeps_the_recipient_for_a_rebake(baked):
    record = json.loads((baked.path / ".cruft.json").read_text())
    recipient = yaml.safe_load((baked.path / ".sops.yaml").read_text())["creation_rules"][0]["age"]
    assert record["context"]["cookiecutter"]["age_public_key"] == recipient
    assert "AGE-SECRET-KEY" not in json.dumps(record)
    assert record["commit"] is None or len(record["commit"]) == 40


def test_every_secret_decrypts_with_real_sops_and_no_value_leaks(baked):
    files = baked.sops_files()
    rendered = [p for p in files if "rendered" in p.parts]
    expected = 1 + sum(enabled(baked.answers, f) for f in ("enable_stable_diffusion", "enable_qdrant", "enable_litellm"))
    assert len(rendered) == expected
    values = []
    for path in files:
        result = baked.sops_decrypt(path)
        assert result.returncode == 0, f"{path}: {result.stderr}"
        secret = yaml.safe_load(result.stdout)
        assert secret["kind"] == "Secret" and secret["metadata"]["namespace"] == baked.answers["namespace"]
        values += list(secret["stringData"].values())
    assert values and not any("<random" in value for value in values)
    for value in set(values):
        needle = value.encode()
        assert len(needle) >= 24, "generated values must be long enough to be unguessable"
        for path in baked.worktree_files():
            assert needle not in path.read_bytes(), f"secret value in {path}"
        assert needle not in baked.git_objects(), "secret value in a git object"


def test_requirements_pin_the_projects_versions(default_bake):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = dict(line.split("==") for line in project["dependencies"] + project["optional-dependencies"]["dev"])
    lines = [line for line in (default_bake.path / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert lines and all(pins[name] == version for name, version in (line.split("==") for line in lines))
