"""Found by the red team of issue 11: outbox claims and the daemon's commands (workflow/outbox.py,
workflow/daemon.py, scripts/zwgk.py), each test a finding that failed before its fix."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text

from scripts.zwgk import main
from tests.conftest import seed
from tests.daemon_helpers import NOW, overdue_items, rows, seed_people
from workflow import Workflow
from workflow import schema as t
from workflow.config import parse
from workflow.outbox import Sender, unacknowledged
from workflow.reminders import Planner, build_channels

TIMEOUT = 1.0  # the webhook's `timeout`
LEASE, SKEW = 3 * TIMEOUT, 0.5  # the smallest lease the configuration accepts


class DripReceiver:
    """A webhook receiver that answers the first request for a key one status-line byte every 50 ms until `release()`:
    no socket read ever waits `timeout`, so urllib never times out, however long the send takes. Later requests
    for the same key are answered at once. It counts each key's POSTs."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                key = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["key"]
                with receiver.lock:
                    first = key not in receiver.keys
                    receiver.keys.append(key)
                w = self.wfile
                if first:  # the status line itself, a byte at a time
                    w.write(b"HTTP/1.1 ")
                    while not receiver.released.wait(0.05):
                        w.write(b"2")
                        w.flush()
                    return
                w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                w.flush()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def received(self) -> Counter[str]:
        with self.lock:
            return Counter(self.keys)

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def drip() -> Iterator[DripReceiver]:
    r = DripReceiver()
    yield r
    r.close()


def test_a_slow_dripping_receiver_makes_a_live_daemon_resend_what_another_holds(db_url: str,
                                                                               drip: DripReceiver) -> None:
    """outbox.py promises 'a live daemon never sends what another has claimed', on the premise that a send lasts
    at most the channel's `timeout`. urllib and smtplib bound each socket read with it, not the send: a receiver
    that answered a byte at a time kept daemon A's send going past its whole claim, and daemon B (same clock)
    took the claim over and sent the message again. Now the whole send is bounded (notifiers/_deadline.py): A
    gives up at the timeout, and the message waits for its backoff, claimed by nobody."""
    config = parse({"schedule": [], "channels": {"webhook": {"url": drip.url, "timeout": TIMEOUT}},
                    "reminders": {"channels": ["webhook"], "office_hours_only": False, "lease_seconds": LEASE,
                                  "clock_skew_seconds": SKEW}})
    wf = Workflow(db_url, clock=lambda: NOW, config=config)
    seed_people(wf)
    overdue_items(wf, 1)
    Planner(wf.engine, wf.config, build_channels(wf.config)).plan(NOW)
    with wf.engine.begin() as c:
        c.execute(text("DELETE FROM zwgk_notification WHERE id <> (SELECT min(id) FROM zwgk_notification)"))
    started = time.monotonic()

    def clock() -> datetime:  # one clock for both daemons: NOW, running in real time
        return NOW + timedelta(seconds=time.monotonic() - started)

    a = Sender(wf.engine, wf.config.reminders, build_channels(wf.config), "A", clock)
    thread = threading.Thread(target=a.deliver, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    b = Sender(wf.engine, wf.config.reminders, build_channels(wf.config), "B", clock)
    b_sent = b.deliver().sent
    drip.release()
    [row] = rows(wf, "SELECT status, attempts, claimed_by, last_error FROM zwgk_notification")
    wf.close()
    assert (row.status, row.attempts, row.claimed_by) == ("pending", 1, None)
    assert "no whole answer within 1 s" in row.last_error
    assert (b_sent, list(drip.received().values())) == (0, [1])


def test_reminders_ack_works_on_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """scripts/zwgk.py `_reads_only` counts every `reminders` command as read-only, `--ack` included: the database
    is opened `mode=ro` and `zwgk reminders --ack` always fails with 'attempt to write a readonly database' (exit
    2). tests/test_daemon_status.py::test_status_exits_3_while_dead_letters_wait_to_be_acknowledged fails on main
    for this reason, and its 'refused whole' checks there pass only because every --ack is refused."""
    url = f"sqlite:///{tmp_path}/zwgk.db"
    when = datetime.fromisoformat("2026-10-12T10:00:00+08:00")
    with seed(Workflow(url, clock=lambda: when)) as wf, wf.engine.begin() as c:
        c.execute(insert(t.notification).values(
            key="k1", due_on="2026-10-12", step="seal", recipient="w", channel="console", address="w", subject="s",
            text="t", fields="{}", status="dead", attempts=8, next_attempt_at=when.isoformat(),
            created_at=when.isoformat()))
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZWGK_NOW", when.isoformat())
        code = main(["--db", url, "reminders", "--ack", "all"])
    err = capsys.readouterr().err
    assert code == 0, err
    with Workflow(url) as wf:
        assert unacknowledged(wf.engine) == 0



def free_pid() -> int:
    """A pid no process has: the killed daemon's."""
    pid = 2**22 + 1  # above Linux's default pid_max
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except OSError:
            pass
        pid += 1


def test_status_recovers_after_a_daemon_killed_outright_is_replaced(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A daemon killed outright (power cut, OOM killer, `kill -9`, a reboot of the township's PC) never writes
    `stopped_at`; its row stays `silent` for ever and `zwgk daemon --status` exits 1 for ever, even once a new daemon
    runs on the same host (and masks exit 3, dead letters). No command clears it: monitoring built on the exit code
    (deploy/zwgk.cron) alarms until someone edits the table by hand. Fix: a silent daemon superseded by a newer one
    on its host (started after its last beat) counts as `gone`, not silent; or `zwgk daemon --forget ID`."""
    from workflow.daemon import Daemon

    url = f"sqlite:///{tmp_path}/zwgk.db"
    when = datetime.fromisoformat("2026-10-12T10:00:00+08:00")
    wf = seed(Workflow(url, clock=lambda: when))
    killed = Daemon(wf)
    killed.beat()
    with wf.engine.begin() as c:  # its last beat, yesterday: then the power went
        c.execute(t.daemon.update().where(t.daemon.c.id == killed.id)
                  .values(beat_at=(when - timedelta(days=1)).isoformat(), pid=free_pid(),
                          started_at=(when - timedelta(days=2)).isoformat()))
    Daemon(wf).beat()  # today's daemon on the same host, beating
    wf.close()
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZWGK_NOW", when.isoformat())
        code = main(["--db", url, "daemon", "--status"])
    assert code == 0, capsys.readouterr().out
