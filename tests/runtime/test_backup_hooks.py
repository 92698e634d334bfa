"""The Velero pre-backup hooks of the rendered Deployments, run as Velero would exec them in the container
(test_qdrant_hook.py has Qdrant's): Open WebUI's against the live database of the running server."""

from __future__ import annotations

import sqlite3

import pytest

from environments import SERVERS
from pods import run_backup_hook

pytestmark = [pytest.mark.runtime, pytest.mark.usefixtures("loopback_only")]


def test_the_sqlite_hook_copies_the_live_database_consistently(stack):
    pod = stack.webui
    data = pod.mounts["/app/backend/data"]
    copy = data / "webui.backup.db"
    copy.unlink(missing_ok=True)
    result = run_backup_hook(pod, [str(SERVERS["open-webui"].bin)], {})
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert ("admin@example.org",) in db.execute("SELECT email FROM user").fetchall()
    assert pod.process.poll() is None  # the server kept running while its database was copied
