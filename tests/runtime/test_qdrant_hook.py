"""Qdrant's Velero pre-backup hook, run as Velero would exec it in the container, against the Qdrant stub on
the pod's port and a storage directory that holds what earlier full snapshots left behind (bakes with Qdrant)."""

from __future__ import annotations

import pytest

from pods import run_backup_hook

pytestmark = [pytest.mark.runtime, pytest.mark.usefixtures("loopback_only")]
NEEDS = "qdrant"


@pytest.mark.parametrize("earlier_backups", [0, 2])
def test_the_qdrant_hook_leaves_one_full_snapshot_and_nothing_else(stack, earlier_backups):
    pod, stub = stack.pods["qdrant"], stack.stubs["qdrant"]
    snapshots = stub.snapshots
    stub.collections.setdefault("open-webui_files", [])
    snapshots.mkdir(parents=True, exist_ok=True)
    for day in range(1, earlier_backups + 1):  # as Qdrant leaves the volume after earlier full snapshots
        stub.take_full_snapshot(f"2026-01-0{day}-00-00-00")
    before = len(stub.seen("POST", "/snapshots"))
    result = run_backup_hook(pod, [], {"QDRANT__SERVICE__API_KEY": stub.api_key})
    assert result.returncode == 0, result.stderr
    made = stub.seen("POST", "/snapshots")[before:]
    assert len(made) == 1 and made[0].headers["api-key"] == stub.api_key
    left = sorted(p.relative_to(snapshots).as_posix() for p in snapshots.rglob("*"))
    (full,) = [name for name in left if name.endswith(".snapshot")]
    assert left == [full, f"{full}.checksum"] and not full.startswith("full-snapshot-2026-01-"), left


def test_the_qdrant_hook_fails_when_qdrant_refuses_the_key(stack):
    result = run_backup_hook(stack.pods["qdrant"], [], {"QDRANT__SERVICE__API_KEY": "not-the-key"})
    assert result.returncode != 0
