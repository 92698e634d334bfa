"""Backups that hold data, on baked repos: a Schedule per tier with a volume-data path, prune protection,
pre-backup hooks that really run, and a README restore drill that names objects the repo has."""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
import subprocess

import pytest

from template_repo import TIERS, Baked

CASES = {
    "fs-backup-all": {"enable_qdrant": "yes", "enable_litellm": "yes"},
    "csi-longhorn-metallb": {"backup_method": "csi-snapshot", "lb_provider": "metallb", "enable_qdrant": "yes"},
    "csi-other-driver-none": {"backup_method": "csi-snapshot", "storage_class": "ceph-rbd", "csi_driver": "rbd.csi.ceph.com",
                              "gpu_vendor": "none", "enable_whisper": "no", "enable_stable_diffusion": "no", "namespace": "genai"},
}
TIER_LABEL = "backup.velero.io/backup-tier"
OPEN_WEBUI_DATA = "/app/backend/data"


@pytest.fixture(params=list(CASES))
def baked(request, bakery) -> Baked:
    return bakery(request.param, **CASES[request.param])


def tier_of(schedule: dict) -> str:
    return next(s["matchLabels"][TIER_LABEL] for s in schedule["spec"]["template"]["orLabelSelectors"] if "matchLabels" in s)


def test_every_tier_has_a_schedule_with_a_volume_data_path(baked):
    schedules = baked.of_kind("Schedule")
    assert {tier_of(s) for s in schedules.values()} == set(TIERS.values())
    classes = baked.of_kind("VolumeSnapshotClass")
    for name, schedule in schedules.items():
        template = schedule["spec"]["template"]
        if baked.answers["backup_method"] == "fs-backup":
            assert template["defaultVolumesToFsBackup"] is True and template["snapshotVolumes"] is False, name
            assert not classes
        else:
            assert template["snapshotMoveData"] is True and template["snapshotVolumes"] is True, name
            assert "defaultVolumesToFsBackup" not in template, name
    if baked.answers["backup_method"] == "csi-snapshot":
        (vsc,) = classes.values()
        assert vsc["metadata"]["labels"]["velero.io/csi-volumesnapshot-class"] == "true"
        assert vsc["driver"] == baked.answers["csi_driver"]
        assert (vsc.get("parameters") == {"type": "snap"}) == (vsc["driver"] == "driver.longhorn.io")
        assert [d["kind"] for d in baked.rendered("backup")].count("VolumeSnapshotClass") == 1


def test_schedules_include_the_pods_that_mount_their_claims(baked):
    """File-system backup and the hooks work through pods: each tier's Schedule must select them."""
    claims = baked.of_kind("PersistentVolumeClaim")
    for schedule in baked.of_kind("Schedule").values():
        names = next(s["matchExpressions"][0]["values"] for s in schedule["spec"]["template"]["orLabelSelectors"] if "matchExpressions" in s)
        tier = tier_of(schedule)
        for deployment in baked.of_kind("Deployment").values():
            pod = deployment["spec"]["template"]
            mounted = {v["persistentVolumeClaim"]["claimName"] for v in pod["spec"].get("volumes", []) if "persistentVolumeClaim" in v}
            in_tier = any(claims[c]["metadata"]["labels"][TIER_LABEL] == tier for c in mounted)
            assert (pod["metadata"]["labels"]["app.kubernetes.io/name"] in names) == in_tier, deployment["metadata"]["name"]


def test_namespace_and_every_claim_are_prune_protected(baked):
    protected = [d for d in baked.rendered("core") if d["kind"] in ("Namespace", "PersistentVolumeClaim")]
    assert {d["kind"] for d in protected} == {"Namespace", "PersistentVolumeClaim"}
    for doc in protected:
        assert doc["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/prune"] == "disabled", doc["metadata"]["name"]


def hook(baked: Baked, name: str) -> dict[str, str]:
    annotations = baked.of_kind("Deployment")[name]["spec"]["template"]["metadata"]["annotations"]
    return {k.removeprefix("pre.hook.backup.velero.io/"): v for k, v in annotations.items() if k.startswith("pre.hook.backup.velero.io/")}


def test_open_webui_hook_makes_a_consistent_sqlite_copy(baked, tmp_path):
    found = hook(baked, "open-webui")
    assert found["container"] == "open-webui" and found["on-error"] in ("Continue", "Fail") and found["timeout"]
    command = json.loads(found["command"])  # Velero reads a JSON array
    live = sqlite3.connect(tmp_path / "webui.db")
    live.execute("create table chat (id integer primary key, body text)")
    live.executemany("insert into chat (body) values (?)", [("hello",), ("world",)])
    live.commit()  # the live connection stays open, as the running app's does
    run = subprocess.run([c.replace(OPEN_WEBUI_DATA, str(tmp_path)) for c in command], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    copy = sqlite3.connect(tmp_path / "webui.backup.db")
    assert copy.execute("select body from chat order by id").fetchall() == [("hello",), ("world",)]


def test_qdrant_hook_is_valid_bash_that_snapshots_into_the_data_volume(baked):
    if "qdrant" not in baked.of_kind("Deployment"):
        pytest.skip("qdrant not enabled")
    found = hook(baked, "qdrant")
    command = json.loads(found["command"])
    assert command[:2] == ["bash", "-c"] and "POST /snapshots" in command[2]
    assert subprocess.run(["bash", "-n", "-c", command[2]], capture_output=True).returncode == 0
    container = baked.of_kind("Deployment")["qdrant"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    assert any(env["QDRANT__STORAGE__SNAPSHOTS_PATH"].startswith(m + "/") for m in mounts)


def restore_drill(baked: Baked) -> list[list[str]]:
    readme = baked.readme
    section = readme.split("\n## Restore\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)
    return [shlex.split(line) for line in block.splitlines() if line.strip()]


def option(words: list[str], name: str) -> str | None:
    return words[words.index(name) + 1] if name in words else None


def test_restore_drill_names_objects_the_repo_has(baked):
    namespace = baked.answers["namespace"]
    schedules = baked.of_kind("Schedule")
    claims = baked.of_kind("PersistentVolumeClaim")
    flux = set(baked.layers)
    drill = restore_drill(baked)
    assert {w[0] for w in drill} == {"velero", "flux", "kubectl"}
    restores = [w for w in drill if w[:3] == ["velero", "restore", "create"]]
    assert restores, "the drill restores nothing"
    for words in drill:
        if words[0] == "flux":
            assert words[1] in ("suspend", "resume") and set(words[3:]) <= flux and words[3:], words
        elif words[0] == "kubectl":
            assert option(words, "-n") == namespace, words
            kind, name = words[-2], words[-1]
            assert name in (claims if kind == "pvc" else baked.of_kind("Deployment")), words
        selector = option(words, "--selector")
        if words[0] == "velero" and selector and selector.startswith("velero.io/schedule-name="):
            assert selector.split("=", 1)[1] in schedules, words
    for words in restores:
        schedule = schedules[option(words, "--from-schedule")]
        assert option(words, "--include-namespaces") == namespace
        assert schedule["spec"]["template"]["includedNamespaces"] == [namespace]
        key, value = option(words, "--selector").split("=", 1)
        restored = [c for c in claims.values() if c["metadata"]["labels"].get(key) == value]
        assert restored and all(c["metadata"]["labels"][TIER_LABEL] == tier_of(schedule) for c in restored), words


def test_make_validate_passes(baked):
    validate = baked.make("validate")
    assert validate.returncode == 0, validate.stdout + validate.stderr
