"""`zwgk daemon --status`: the heartbeats, and a daemon that went quiet without saying it stopped."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from scripts.zwgk import main
from tests.conftest import ADMIN, seed
from workflow import SimulatedClock, Workflow
from workflow import schema as t
from workflow.daemon import Daemon

NOW = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai


def status(capsys: pytest.CaptureFixture[str], url: str, now: datetime, *,
           dead: bool = False) -> list[dict[str, object]]:
    """The heartbeats; the exit code is 1 when a daemon is silent (for cron and monitoring), else 3 if there are
    `dead` letters nobody acknowledged, else 0."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZWGK_NOW", now.isoformat())
        code = main(["--db", url, "daemon", "--status", "--json"])
    out = capsys.readouterr()
    assert out.err == ""
    beats: list[dict[str, object]] = json.loads(out.out)
    assert code == (1 if any(b["state"] == "silent" for b in beats) else 3 if dead else 0)
    return beats


def letters(wf: Workflow, *states: str) -> list[int]:
    """Outbox rows in these states (a witness's message: no deadline needed), their numbers."""
    out = []
    with wf.engine.begin() as c:
        for state in states:
            out.append(c.execute(insert(t.notification).values(
                key=f"k{uuid.uuid4().hex}", due_on="2026-10-12", step="seal", recipient="w", channel="console",
                address="w", subject="s", text="t", fields="{}", status=state, attempts=8,
                next_attempt_at=NOW.isoformat(), created_at=NOW.isoformat())).inserted_primary_key[0])
    return out


def zwgk(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZWGK_NOW", NOW.isoformat())
        code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_status_exits_3_while_dead_letters_wait_to_be_acknowledged(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/zwgk.db"
    wf = seed(Workflow(url, clock=lambda: NOW))
    Daemon(wf).once()
    first, second, sent = letters(wf, "dead", "dead", "sent")
    status(capsys, url, NOW, dead=True)
    code, out, _ = zwgk(capsys, "--db", url, "daemon", "--status")
    assert code == 3 and "2 dead letters not acknowledged" in out

    # Refused whole, nothing recorded: a number that is no dead letter (sent, or unknown) among them.
    for bad in ([str(first), str(sent)], [str(first), "999"], ["x"]):
        code, out, err = zwgk(capsys, "--db", url, "reminders", "--ack", *bad)
        assert code == 2 and out == "" and len(err.splitlines()) == 1, (bad, err)
    status(capsys, url, NOW, dead=True)

    code, out, _ = zwgk(capsys, "--db", url, "reminders", "--ack", str(first), "--as", "clerk")
    assert (code, out) == (0, "acknowledged 1 dead letter\n")
    status(capsys, url, NOW, dead=True)
    code, out, _ = zwgk(capsys, "--db", url, "reminders", "--ack", "all")
    assert (code, out) == (0, "acknowledged 1 dead letter\n")
    status(capsys, url, NOW)

    code, out, _ = zwgk(capsys, "--db", url, "reminders", "--dead", "--json")
    acked = {n["id"]: (n["acked_by"], n["acked_at"]) for n in json.loads(out)}
    assert acked[first] == ("clerk", NOW.isoformat()) and acked[second][0] == Workflow(url).operator
    code, out, _ = zwgk(capsys, "--db", url, "reminders", "--dead")
    line = next(x for x in out.splitlines() if x.startswith(f"#{first} "))
    assert line.endswith("  acknowledged by clerk 2026-10-12T10:00:00+08:00"), line  # the office's time
    assert len(letters(wf, "dead")) == 1  # a new dead letter: 3 again; a silent daemon says more (1)
    status(capsys, url, NOW, dead=True)
    status(capsys, url, NOW + timedelta(minutes=5), dead=True)
    wf.close()


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
    with wf.engine.begin() as c:  # killed outright a while ago, on another computer: its last beat is old
        c.execute(update(t.daemon).where(t.daemon.c.id == killed.id)
                  .values(beat_at=(NOW - timedelta(minutes=5)).isoformat(), host="office-pc"))
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
