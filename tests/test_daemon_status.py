"""`zwgk daemon --status`: the heartbeats, and a daemon that went quiet without saying it stopped."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from scripts.zwgk import main
from tests.conftest import ADMIN, seed
from workflow import SimulatedClock, Workflow
from workflow import schema as t
from workflow.daemon import Daemon

NOW = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai


def status(capsys: pytest.CaptureFixture[str], url: str, now: datetime) -> list[dict[str, object]]:
    """The heartbeats; the exit code is 1 when a daemon is silent (for cron and monitoring), else 0."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZWGK_NOW", now.isoformat())
        code = main(["--db", url, "daemon", "--status", "--json"])
    out = capsys.readouterr()
    assert out.err == ""
    beats: list[dict[str, object]] = json.loads(out.out)
    assert code == (1 if any(b["state"] == "silent" for b in beats) else 0)
    return beats


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


def test_a_clock_set_by_hand_reads_the_heartbeats_of_a_real_database_but_runs_no_daemon_on_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/zwgk.db"
    assert main(["--db", url, "init", "--admin", ADMIN, "--name", "党政办登记管理员"]) == 0  # not a simulation
    wf = Workflow(url)  # the real clock: a daemon may run
    done = Daemon(wf)
    done.once()
    wf.close()
    simulated = Workflow(url, clock=lambda: NOW)
    with pytest.raises(SimulatedClock, match="simulation"):
        Daemon(simulated)
    simulated.close()

    # `--status` only reads, so ZWGK_NOW may be set for it ...
    later = datetime.now(UTC) + timedelta(seconds=10)
    assert [(b["id"], b["state"]) for b in status(capsys, url, later)] == [(done.id, "stopped")]
    # ... while a daemon with that clock is refused, with one line and exit 2, having written nothing.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZWGK_NOW", later.isoformat())
        assert main(["--db", url, "daemon", "--once"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    [line] = out.err.splitlines()
    assert line.startswith("zwgk: ") and "not a simulation" in line, line
    assert [b["id"] for b in status(capsys, url, later)] == [done.id]
