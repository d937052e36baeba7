"""`zwgk daemon --status`: the heartbeats, and a daemon that went quiet without saying it stopped."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from scripts.zwgk import main
from tests.conftest import seed
from workflow import Workflow
from workflow import schema as t
from workflow.daemon import Daemon

NOW = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai


def status(capsys: pytest.CaptureFixture[str], url: str, now: datetime) -> list[dict[str, object]]:
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZWGK_NOW", now.isoformat())
        assert main(["--db", url, "daemon", "--status", "--json"]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    return json.loads(out.out)  # type: ignore[no-any-return]


def test_status_shows_each_daemon_stopped_running_or_silent(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/zwgk.db"
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZWGK_NOW", NOW.isoformat())
        assert main(["--db", url, "init"]) == 0
    assert status(capsys, url, NOW) == []

    wf = seed(Workflow(url, clock=lambda: NOW))
    done = Daemon(wf)
    done.once()  # a pass that ends says so
    alive = Daemon(wf)
    alive.beat()  # a daemon between two heartbeats
    killed = Daemon(wf)
    killed.beat()
    with wf.engine.begin() as c:  # killed outright a while ago: its last beat is old
        c.execute(update(t.daemon).where(t.daemon.c.id == killed.id)
                  .values(beat_at=(NOW - timedelta(minutes=5)).isoformat()))
    wf.close()

    states = {b["id"]: b["state"] for b in status(capsys, url, NOW + timedelta(seconds=10))}
    assert states == {done.id: "stopped", alive.id: "running", killed.id: "silent"}
    # Three heartbeat intervals (30 s by default) without a beat and a daemon counts as silent.
    later = {b["id"]: b["state"] for b in status(capsys, url, NOW + timedelta(seconds=91))}
    assert later[alive.id] == "silent"
