"""The Python API other tools reuse: config parsing, core.process, checks.run on plain dicts."""

from __future__ import annotations

import copy

import pytest

from kfn import checks, core
from kfn.config import Config, parse_config
from kfn.errors import ConfigError


def deployment(name: str, **annotations: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "annotations": {f"ai-gitops.dev/{k}": v for k, v in annotations.items()}},
        "spec": {"template": {"spec": {"containers": [{"name": name, "image": "example/app:1.0"}]}}},
    }


def test_process_is_pure_and_keeps_unchanged_items_identical() -> None:
    gpu = deployment("ollama", gpu="1", probes="ollama")
    gpu["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"nvidia.com/gpu": 2, "cpu": "1"}}
    claims = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "q", "annotations": {"ai-gitops.dev/data-class": "data"}},
              "spec": {"volumeClaimTemplates": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b", "labels": {"x": "y"}}}]}}
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "m", "annotations": {"ai-gitops.dev/data-class": "models"}}}
    items = [gpu, deployment("plain"), claims, pvc]
    before = copy.deepcopy(items)
    out, results = core.process(items, Config())
    assert items == before  # inputs untouched, however deep the edit
    assert out[1] is items[1]
    assert all(out[i] is not items[i] for i in (0, 2, 3))
    container = out[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {"requests": {"nvidia.com/gpu": 1, "cpu": "1"}, "limits": {"nvidia.com/gpu": 1}}
    assert "startupProbe" in container
    assert out[0]["metadata"] is items[0]["metadata"]  # copy-on-write: untouched branches are shared
    assert [t["metadata"]["labels"] for t in out[2]["spec"]["volumeClaimTemplates"]] == [
        {"backup.velero.io/backup-tier": "GFS"}, {"x": "y", "backup.velero.io/backup-tier": "GFS"}]
    assert out[3]["metadata"]["labels"] == {"backup.velero.io/backup-tier": "GFS"}
    assert [r["severity"] for r in results] == ["warning"] * 4  # the deprecated defaults Config() takes (kfn.deprecated)
    assert results == core.process(out, Config())[1]  # the same on kfn's own output
    again, _ = core.process(out, Config())
    assert all(a is b for a, b in zip(again, out))  # idempotent: a second pass changes nothing


def test_checks_run_on_an_already_rendered_list() -> None:
    """What a repo-wide validator does: no edits, just the checks over rendered resources."""
    rendered = [deployment("a", gpu="lots", probes="ollama")]
    rendered[0]["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"gpu": 1}}
    found = checks.run(rendered, parse_config(None))
    assert [(r["severity"], r["field"]["path"]) for r in found] == [
        ("error", 'metadata.annotations["ai-gitops.dev/gpu"]'),
        ("error", "spec.template.spec.containers[0].resources.limits.gpu"),
        ("warning", 'metadata.annotations["ai-gitops.dev/probes"]'),  # "ollama" from the deprecated built-ins
    ]
    assert found[0]["resourceRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "a"}


def test_skipped_items_are_not_checked() -> None:
    secret = deployment("enc", gpu="nope")
    secret["sops"] = {"version": "3.11.0"}
    assert checks.run([secret], Config()) == []


def config(spec: dict) -> dict:
    return {"apiVersion": "kfn.ai-gitops.dev/v1alpha1", "kind": "AIPatches", "metadata": {"name": "p"}, "spec": spec}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (config({"gpu": {"vendor": "nvidea"}}), 'spec.gpu.vendor: "nvidea" is not one of nvidia, amd, intel'),
        (config({"gpu": {"physical": -1}}), "spec.gpu.physical: -1 is below the minimum 0"),
        (config({"gpu": {"timeSlicingReplicas": 0}}), "spec.gpu.timeSlicingReplicas: 0 is below the minimum 1"),
        (config({"gpu": {"physical": True}}), "spec.gpu.physical: True is not an integer"),
        (config({"gpu": {"vendor": "amd", "resource": "nvidia.com/gpu"}}), 'spec.gpu.resource: "nvidia.com/gpu" does not belong to vendor amd'),
        (config({"gpu": {"nodeSelector": {"nvidia.com/gpu.present": True}}}), 'spec.gpu.nodeSelector."nvidia.com/gpu.present": True is not a string'),
        (config({"gpu": {"tolerations": [{"key": "x", "operator": "In"}]}}), 'spec.gpu.tolerations[0].operator: "In" is not one of Equal, Exists'),
        # Wrong types that kfn 0.1 silently read as "the default" (they are falsy).
        (config({"gpu": {"nodeSelector": []}}), "spec.gpu.nodeSelector: list is not a mapping"),
        (config({"gpu": {"nodeSelector": ""}}), 'spec.gpu.nodeSelector: "" is not a mapping'),
        (config({"gpu": {"tolerations": {}}}), "spec.gpu.tolerations: dict is not a list"),
        (config({"backup": {"tiers": {"model": "GFS"}}}), "spec.backup.tiers.model: unknown key (allowed: models, data, cache)"),
        (config({"probes": {"comfyui": {"startup": {"path": "/x"}}}}), "spec.probes.comfyui.port: missing for a new profile"),
        (config({"probes": {"ollama": {"liveness": {"path": "health"}}}}), 'spec.probes.ollama.liveness.path: "health" does not start with /'),
        ({"apiVersion": "kfn.ai-gitops.dev/v1", "kind": "AIPatches"}, 'apiVersion: "kfn.ai-gitops.dev/v1" is not kfn.ai-gitops.dev/v1alpha1'),
        ({"apiVersion": "v1", "kind": "ConfigMap", "data": {"gpu.vendr": "amd"}}, "data.gpu.vendr: unknown key (allowed: vendor, resource"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "data": {"vendor": "amd"}}, "data.vendor: unknown key (use gpu"),
        ({"apiVersion": "v1", "kind": "Secret"}, 'kind: "Secret" is not AIPatches (or a ConfigMap)'),
    ],
)
def test_invalid_config_names_key_and_value(doc: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(doc)
    assert message in str(err.value)


def test_deprecated_defaults_are_what_the_config_leaves_unset() -> None:
    """kfn.deprecated fills what the config does not name, and Config.defaulted says which (for the warnings)."""
    old = parse_config(config({"gpu": {"vendor": "intel"}, "backup": {"tiers": {"data": "GFS"}}}))
    assert old.gpu.node_selector == {"intel.feature.node.kubernetes.io/gpu": "true"}
    assert old.defaulted.node_selector and old.defaulted.tiers == {"models", "cache"}
    assert "whisper" in old.defaulted.profiles and old.probes["whisper"].port == 9000
    new = parse_config(config({"gpu": {"vendor": "intel", "nodeSelector": {}}, "backup": {"tiers": {"models": "Daily", "data": "GFS", "cache": "Daily"}},
                               "probes": {"whisper": {"port": 9000, "startup": {"path": "/docs", "failureThreshold": 90},
                                                      "liveness": {"path": "/docs"}, "readiness": {"path": "/docs"}}}}))
    assert new.gpu.node_selector == {} and not new.defaulted.node_selector and not new.defaulted.tiers
    assert "whisper" not in new.defaulted.profiles and new.warnings == ()  # a whole profile relies on no built-in
    assert new.probes["whisper"] == old.probes["whisper"]


def test_config_map_values_are_text() -> None:
    parsed = parse_config({"apiVersion": "v1", "kind": "ConfigMap", "data": {"gpu.physical": "2", "backup.tiers.cache": "Weekly"}})
    assert parsed.gpu.physical == 2 and parsed.backup.tiers["cache"] == "Weekly"
