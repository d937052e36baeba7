"""The reminder daemon as real processes: `zwgk daemon` children on a real SQLite file or PostgreSQL schema
(a simulation register: their clocks are set by ZWGK_NOW), delivering over real SMTP (aiosmtpd) and HTTP
(http.server) to servers in this process.

Nothing is mocked and nothing is timed: every wait polls with a generous bound (tests/daemon_helpers.WAIT).
What is asserted is what an office would check afterwards: which reminders reached the server and how often
(by idempotency key), what the outbox rows say, what the heartbeat rows say, what the daemon logged; and for
the seal job, which seals the register holds and which root digest each witness received, checked with
`zwgk verify --against`.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sqlite3
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from notifiers import Result
from states.authority import REGISTER
from tests.conftest import ADMIN
from tests.daemon_helpers import (
    NOW,
    PEOPLE,
    RECIPIENTS,
    ClosedPort,
    Daemons,
    HeldReceiver,
    HungServer,
    RobotRecorder,
    SmtpRecorder,
    SmtpServer,
    WebhookRecorder,
    daemon_row,
    daemon_rows,
    digest_in,
    duplicates,
    email_channel,
    free_port,
    keys_of,
    overdue_items,
    rows,
    scalar,
    seed_people,
    statuses,
    wait_for,
    webhook_channel,
    witness_key,
    write_config,
)
from tests.recording import Recorder
from tests.tampering import Raw
from workflow import Workflow
from workflow.clock import fixed
from workflow.config import load
from workflow.daemon import LEASE, Daemon
from workflow.ledger.events import Digest, canonical
from workflow.logs import configure


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    d = Daemons(tmp_path)
    yield d
    d.cleanup()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(SmtpRecorder())
    yield server.start()
    server.stop()


@pytest.fixture
def down() -> Iterator[ClosedPort]:
    """A relay that is down (connections refused) at a port that is this test's alone, until it starts its server."""
    port = ClosedPort()
    yield port
    port.close()


@pytest.fixture
def webhook() -> Iterator[WebhookRecorder]:
    server = WebhookRecorder()
    yield server
    server.close()


def open_wf(daemons: Daemons, url: str, config: Path, clock: datetime = NOW) -> Workflow:
    wf = Workflow(url, clock=fixed(clock), config=load(config))
    daemons.workflows.append(wf)
    return wf


def setup(daemons: Daemons, url: str, config: Path, items: int, *, clock: datetime = NOW) -> Workflow:
    """The people and `items` overdue drafts, written through the API by this process; nothing planned yet."""
    wf = open_wf(daemons, url, config, clock)
    seed_people(wf)
    overdue_items(wf, items)
    assert scalar(wf, "SELECT count(*) FROM zwgk_notification") == 0
    return wf


def sent_keys(wf: Workflow) -> set[str]:
    return keys_of(wf, "status = 'sent'")


def all_sent(wf: Workflow, total: int) -> bool:
    s = statuses(wf)
    return s["sent"] == total and sum(s.values()) == total


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def holder_pid(wf: Workflow) -> int | None:
    holder = scalar(wf, "SELECT holder FROM zwgk_lease WHERE name = :name", name=LEASE)
    return int(holder.rsplit(":", 2)[1]) if holder else None


# ---------------------------------------------------------------- 1. one pass, as cron runs it


def test_once_sends_every_due_reminder_once_and_exits(sqlite_url: str, tmp_path: Path, daemons: Daemons) -> None:
    config = write_config(tmp_path / "zwgk.toml", {"console": {"type": "console"}})
    wf = setup(daemons, sqlite_url, config, 30)
    total = 30 * len(PEOPLE)

    first = daemons.once(sqlite_url, config)

    # Every reminder is on stdout exactly once: one block per (item, recipient), headed by the recipient.
    heads = Counter((m.group(1), m.group(3)) for m in
                    re.finditer(r"^\[提醒→(\S+) (\S+)\] .*?(od-\d{4})", first.stdout(), re.M))
    assert set(heads) == {(p, f"od-{k:04d}") for p in RECIPIENTS for k in range(30)}
    assert set(heads.values()) == {1}, heads.most_common(3)
    assert first.stdout().rstrip().splitlines()[-1] == (
        f"rolled 0, recomputed 0, planned {total}, sent {total}, failed 0, dead 0, sealed 1, witnessed 0")

    # The outbox: one row per (deadline, step, recipient, channel), all sent at the first attempt.
    found = rows(wf, "SELECT key, deadline_id, step, recipient, channel, status, attempts, sent_at, claimed_by "
                     "FROM zwgk_notification")
    assert len(found) == total
    assert {r.status for r in found} == {"sent"}
    assert {r.attempts for r in found} == {1}
    assert all(r.sent_at and r.claimed_by is None for r in found)
    step = found[0].step
    assert step.startswith("overdue") and {r.step for r in found} == {step}  # the latest step only
    deadline_ids = [r.id for r in rows(wf, "SELECT id FROM zwgk_deadline")]
    assert {(r.deadline_id, r.recipient, r.channel) for r in found} == {
        (d, p, "console") for d in deadline_ids for p in RECIPIENTS}
    assert len({r.key for r in found}) == total  # each with its own idempotency key

    # The log on stderr is JSON lines, with one notify.sent per key.
    log = first.log()  # raises if a line is not JSON
    assert log and all(isinstance(e, dict) and "event" in e and "level" in e for e in log)
    sent_events = Counter(e["key"] for e in log if e["event"] == "notify.sent")
    assert sent_events == Counter({r.key: 1 for r in found})
    assert [e["planned"] for e in log if e["event"] == "plan"] == [total]
    assert [e["sealed"] for e in log if e["event"] == "seal"] == [1]  # every chain's head, in the register

    # The heartbeat says it stopped, and what it did; the SQLite lease is given back.
    beat = daemon_row(wf, first.pid)
    assert beat is not None and beat.stopped_at is not None
    assert (beat.planned, beat.sent, beat.failed) == (total, total, 0)
    assert scalar(wf, "SELECT count(*) FROM zwgk_lease") == 0

    # A second pass finds nothing to do and sends nothing again.
    second = daemons.once(sqlite_url, config)
    assert "提醒→" not in second.stdout()
    assert second.stdout().rstrip().splitlines()[-1] == (
        "rolled 0, recomputed 0, planned 0, sent 0, failed 0, dead 0, sealed 0, witnessed 0")  # nothing moved
    assert statuses(wf) == Counter({"sent": total})
    assert len(daemon_rows(wf)) == 2


# ---------------------------------------------------------------- 2. SIGTERM mid-batch


def test_sigterm_hands_back_the_unsent_claims_and_a_restart_delivers_the_rest(
        sqlite_url: str, tmp_path: Path, daemons: Daemons, smtp: SmtpServer) -> None:
    config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(smtp.port)})
    wf = setup(daemons, sqlite_url, config, 8)
    total = 8 * len(PEOPLE)
    smtp.recorder.delay = 0.8  # a slow relay: the batch of 40 would take half a minute

    first = daemons.start(sqlite_url, config)
    # Strike while a message is inside DATA (begun, not yet answered): that one may finish, no other.
    wait_for(lambda: smtp.recorder.count() >= 2 and smtp.recorder.in_flight(),
             "a few reminders sent and one in flight", alive=[first])
    before = smtp.recorder.count()
    first.signal(signal.SIGTERM)
    assert first.wait() == 0, first.describe()
    smtp.recorder.settle()
    delivered = smtp.recorder.received()
    assert before <= sum(delivered.values()) <= before + 1, "it went on sending after SIGTERM"
    assert not duplicates(delivered)

    # Claimed but not sent: pending again, unclaimed, the attempt not counted; sent: exactly what arrived.
    s = statuses(wf)
    assert s["sending"] == 0 and s["dead"] == 0
    assert sent_keys(wf) == set(delivered)
    left = rows(wf, "SELECT attempts, claimed_by, claimed_until FROM zwgk_notification WHERE status = 'pending'")
    assert len(left) == total - len(delivered) > 0
    assert all(r.attempts == 0 and r.claimed_by is None and r.claimed_until is None for r in left)
    beat = daemon_row(wf, first.pid)
    assert beat.stopped_at is not None and beat.sent == len(delivered)
    assert scalar(wf, "SELECT count(*) FROM zwgk_lease") == 0  # a standby need not wait for it to expire
    events = [e["event"] for e in json_lines(first.stderr())]
    assert "started" in events and "stopping" in events and events[-1] == "stopped"

    # Restarted (and the relay fast again): the rest goes out, nothing twice.
    smtp.recorder.delay = 0
    second = daemons.start(sqlite_url, config)
    wait_for(lambda: all_sent(wf, total), "every reminder sent after the restart", alive=[second])
    assert second.stop() == 0, second.describe()
    received = smtp.recorder.received()
    assert received == Counter({k: 1 for k in keys_of(wf)}), duplicates(received)
    assert len(received) == total
    assert daemon_row(wf, second.pid).sent == total - len(delivered)


# ---------------------------------------------------------------- 3. kill -9 mid-send


def test_kill_9_while_sending_then_restart_delivers_everything(
        db_url: str, tmp_path: Path, daemons: Daemons, smtp: SmtpServer) -> None:
    config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(smtp.port)})
    wf = setup(daemons, db_url, config, 8)
    total = 8 * len(PEOPLE)
    smtp.recorder.delay = 0.8

    first = daemons.start(db_url, config)
    wait_for(lambda: smtp.recorder.count() >= 2 and smtp.recorder.in_flight(),
             "a few reminders sent and one in flight", alive=[first])
    first.kill()
    killed_beat = daemon_row(wf, first.pid)
    assert killed_beat is not None and killed_beat.stopped_at is None  # it never said goodbye
    assert statuses(wf)["sending"] > 0  # its claims are left to expire
    # What may arrive twice: what reached the server but is not marked sent (the message in flight).
    smtp.recorder.settle()
    suspects = set(smtp.recorder.begun) - sent_keys(wf)
    assert len(suspects) <= 1, suspects

    smtp.recorder.delay = 0
    second = daemons.start(db_url, config)
    wait_for(lambda: all_sent(wf, total), "every reminder sent after the restart", alive=[second])
    assert second.stop() == 0, second.describe()

    received = smtp.recorder.received()
    assert set(received) == keys_of(wf) and len(received) == total
    twice = duplicates(received)
    assert set(twice) <= suspects, f"sent twice although not in flight when killed: {twice}, suspects: {suspects}"
    assert len(twice) <= 1 and max(received.values()) <= 2
    assert all(r.claimed_by is None for r in rows(wf, "SELECT claimed_by FROM zwgk_notification"))
    assert daemon_row(wf, second.pid).stopped_at is not None


# ---------------------------------------------------------------- 4. three daemons on PostgreSQL


def test_three_daemons_on_postgresql_share_2000_reminders_each_sent_once(
        pg_url: str, tmp_path: Path, daemons: Daemons, webhook: WebhookRecorder) -> None:
    items, total = 400, 400 * len(PEOPLE)
    # lease_seconds is generous here on purpose: a batch that outlives its claim is another test's subject.
    config = write_config(tmp_path / "zwgk.toml", {"webhook": webhook_channel(webhook.url)},
                          reminders={"batch": 50, "lease_seconds": 60})
    wf = open_wf(daemons, pg_url, config)
    seed_people(wf)

    trio = [daemons.start(pg_url, config) for _ in range(3)]
    wait_for(lambda: len(daemon_rows(wf)) == 3, "three heartbeats", alive=trio)
    # 400 overdue items arrive at once while the daemons run: they plan and send them side by side.
    overdue_items(wf, items, one_transaction=True)
    wait_for(lambda: all_sent(wf, total), f"{total} reminders sent", timeout=120, alive=trio)
    for d in trio:
        assert d.running(), d.describe()
    for d in trio:
        assert d.stop() == 0, d.describe()

    received = webhook.received()
    assert sum(received.values()) == total and len(received) == total, duplicates(received)
    assert set(received) == keys_of(wf)
    assert scalar(wf, "SELECT count(*) FROM zwgk_deadline") == items
    assert scalar(wf, "SELECT count(DISTINCT deadline_id) FROM zwgk_notification") == items
    assert {r.attempts for r in rows(wf, "SELECT attempts FROM zwgk_notification")} == {1}
    beats = daemon_rows(wf)
    assert len(beats) == 3 and all(b.stopped_at is not None for b in beats)
    # No deadline was planned twice (each Planned counts, even one the unique key would have swallowed),
    # and the sends add up.
    assert sum(b.planned for b in beats) == total
    assert sum(b.sent for b in beats) == total
    print("per daemon (planned, sent):", [(b.planned, b.sent) for b in beats])


# ---------------------------------------------------------------- 5. retries and dead letters


def test_smtp_down_for_a_while_retries_then_delivers_once(sqlite_url: str, tmp_path: Path, daemons: Daemons,
                                                          down: ClosedPort) -> None:
    config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(down.port)},
                          reminders={"max_attempts": 50, "backoff_seconds": 0.1, "backoff_max_seconds": 0.5})
    wf = setup(daemons, sqlite_url, config, 3)
    total = 3 * len(PEOPLE)

    d = daemons.start(sqlite_url, config)
    wait_for(lambda: (scalar(wf, "SELECT min(attempts) FROM zwgk_notification") or 0) >= 2,
             "every reminder tried at least twice", alive=[d])
    failing = rows(wf, "SELECT status, last_error FROM zwgk_notification")
    assert {r.status for r in failing} <= {"pending", "sending"}
    assert any(r.last_error and "Connection" in r.last_error for r in failing), failing

    server = SmtpServer(SmtpRecorder(), down).start()
    try:
        wait_for(lambda: all_sent(wf, total), "every reminder sent once the server is back", alive=[d])
        assert d.stop() == 0, d.describe()
    finally:
        server.stop()

    received = server.recorder.received()
    assert received == Counter({k: 1 for k in keys_of(wf)})
    done = rows(wf, "SELECT attempts, last_error, sent_at FROM zwgk_notification")
    assert all(r.attempts > 1 and r.last_error is None and r.sent_at for r in done)
    beat = daemon_row(wf, d.pid)
    assert beat.sent == total and beat.failed >= total
    assert any(e.get("event") == "send_failed" for e in json_lines(d.stderr()))


def test_smtp_down_for_good_dead_letters_after_max_attempts(sqlite_url: str, tmp_path: Path,
                                                            daemons: Daemons, down: ClosedPort) -> None:
    config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(down.port)},
                          reminders={"max_attempts": 3, "backoff_seconds": 0.1, "backoff_max_seconds": 0.2})
    wf = setup(daemons, sqlite_url, config, 3)
    total = 3 * len(PEOPLE)

    d = daemons.start(sqlite_url, config)
    wait_for(lambda: statuses(wf)["dead"] == total, "every reminder dead-lettered", alive=[d])
    assert d.stop() == 0, d.describe()

    dead = rows(wf, "SELECT id, key, status, attempts, last_error, sent_at, claimed_by FROM zwgk_notification")
    assert len(dead) == total
    assert all(r.status == "dead" and r.attempts == 3 and r.sent_at is None and r.claimed_by is None for r in dead)
    assert all(r.last_error and "ConnectionRefusedError" in r.last_error for r in dead), dead[0].last_error
    log = json_lines(d.stderr())
    assert Counter(e["notification"] for e in log if e.get("event") == "dead_letter") == Counter(
        {r.id: 1 for r in dead})

    listed = daemons.cli(sqlite_url, config, "reminders", "--dead", "--json")
    assert listed.returncode == 0, listed.stderr
    shown = json.loads(listed.stdout)
    assert sorted(n["id"] for n in shown) == sorted(r.id for r in dead)
    assert all(n["status"] == "dead" and n["attempts"] == 3 and "ConnectionRefusedError" in n["last_error"]
               for n in shown)
    human = daemons.cli(sqlite_url, config, "reminders", "--dead")
    assert human.returncode == 0, human.stderr
    assert len(human.stdout.splitlines()) == total
    for r in dead:
        assert re.search(rf"^#{r.id}\s+dead\s+email\b.*last error: .*ConnectionRefusedError", human.stdout, re.M)


# ---------------------------------------------------------------- 6. SQLite: one works, one waits


def test_sqlite_standby_takes_over_when_the_holder_is_killed(sqlite_url: str, tmp_path: Path, daemons: Daemons,
                                                             smtp: SmtpServer) -> None:
    # The SQLite lease lasts 3 x the longest interval (3 s here); a standby must see it held throughout.
    config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(smtp.port)},
                          daemon={"heartbeat_every": 1.0})
    wf = setup(daemons, sqlite_url, config, 10)
    total = 10 * len(PEOPLE)
    smtp.recorder.delay = 0.5

    pair = [daemons.start(sqlite_url, config), daemons.start(sqlite_url, config)]
    wait_for(lambda: holder_pid(wf) is not None and smtp.recorder.count() >= 1, "a lease holder sending",
             alive=pair)
    holder = next(d for d in pair if d.pid == holder_pid(wf))
    standby = next(d for d in pair if d is not holder)

    # The standby runs and beats, but sends nothing while the holder lives.
    wait_for(lambda: daemon_row(wf, standby.pid) is not None, "the standby's heartbeat", alive=pair)
    first_beat = daemon_row(wf, standby.pid).beat_at
    wait_for(lambda: daemon_row(wf, standby.pid).beat_at > first_beat, "the standby beating again", alive=pair)
    wait_for(lambda: smtp.recorder.in_flight(), "a message in flight", alive=pair)
    claimers = {r.claimed_by for r in rows(wf, "SELECT claimed_by FROM zwgk_notification WHERE status = 'sending'")}
    standby_beat = daemon_row(wf, standby.pid)
    assert holder_pid(wf) == holder.pid
    assert standby_beat.sent == 0 and standby_beat.planned == 0
    assert claimers == {daemon_row(wf, holder.pid).id}
    assert 0 < smtp.recorder.count() < total

    holder.kill()
    sent_by_holder = sent_keys(wf)  # before the standby can take over: the lease has 3 s to run
    smtp.recorder.delay = 0
    smtp.recorder.settle()
    suspects = set(smtp.recorder.begun) - sent_by_holder
    assert len(suspects) <= 1, suspects
    wait_for(lambda: all_sent(wf, total), "the standby to deliver the rest", alive=[standby])
    assert holder_pid(wf) == standby.pid
    assert standby.stop() == 0, standby.describe()

    received = smtp.recorder.received()
    assert set(received) == keys_of(wf) and len(received) == total
    twice = duplicates(received)
    assert set(twice) <= suspects and len(twice) <= 1, (twice, suspects)
    took_over = daemon_row(wf, standby.pid)
    assert took_over.stopped_at is not None and 0 < took_over.sent < total
    assert daemon_row(wf, holder.pid).stopped_at is None


# ---------------------------------------------------------------- 7. catch-up after downtime

CREATED = datetime.fromisoformat("2026-09-01T09:00:00+08:00")
DUE = date(2026, 9, 29)  # 20 working days after 2026-09-01
# 5 working days after DUE: 09-30, (National Day 10-01..07), 10-08, 10-09, Sat 10-10 (a working day), 10-12.
CAUGHT_UP = datetime.fromisoformat("2026-10-12T10:00:00+08:00")
NEXT_DAY = datetime.fromisoformat("2026-10-13T10:00:00+08:00")


def test_catch_up_after_downtime_plans_one_reminder_per_recipient_not_one_per_missed_day(
        sqlite_url: str, tmp_path: Path, daemons: Daemons) -> None:
    config = write_config(tmp_path / "zwgk.toml", {"console": {"type": "console"}})
    wf = setup(daemons, sqlite_url, config, 6, clock=CREATED)
    deadlines = rows(wf, "SELECT id, due_on, step FROM zwgk_deadline")
    assert len(deadlines) == 6 and {(r.due_on, r.step) for r in deadlines} == {(DUE.isoformat(), None)}
    assert wf.timeline.reached(DUE, CAUGHT_UP) == 5

    # No daemon ran from before the first reminder (one working day before DUE) until 5 working days after.
    once = daemons.once(sqlite_url, config, now=CAUGHT_UP)
    planned = rows(wf, "SELECT deadline_id, step, recipient, status FROM zwgk_notification")
    assert Counter((r.deadline_id, r.step) for r in planned) == Counter(
        {(d.id, "overdue5"): len(PEOPLE) for d in deadlines})
    assert {(r.deadline_id, r.recipient) for r in planned} == {(d.id, p) for d in deadlines for p in RECIPIENTS}
    assert {r.status for r in planned} == {"sent"}
    heads = [line for line in once.stdout().splitlines() if line.startswith("[提醒→")]
    assert len(heads) == len(planned) and all(line.endswith("已逾期 5 个工作日") for line in heads)
    assert "今天到期" not in once.stdout() and "还有" not in once.stdout()
    after = rows(wf, "SELECT step, status, next_at FROM zwgk_deadline")
    assert {(r.step, r.status) for r in after} == {(5, "overdue")}
    assert {datetime.fromisoformat(r.next_at) for r in after} == {NEXT_DAY.replace(hour=8, minute=30)}

    # Later the same day: nothing new. The next working day: exactly the next step, once per recipient.
    again = daemons.once(sqlite_url, config, now=CAUGHT_UP + timedelta(hours=5))
    assert "提醒→" not in again.stdout()
    assert scalar(wf, "SELECT count(*) FROM zwgk_notification") == len(planned)
    daemons.once(sqlite_url, config, now=NEXT_DAY)
    steps = Counter(r.step for r in rows(wf, "SELECT step FROM zwgk_notification"))
    assert steps == Counter({"overdue5": len(planned), "overdue6": len(planned)})
    assert statuses(wf) == Counter({"sent": 2 * len(planned)})


# ---------------------------------------------------------------- 8. more: regressions of bugs found


def test_long_running_daemon_logs_only_json_lines(sqlite_url: str, tmp_path: Path, daemons: Daemons,
                                                  smtp: SmtpServer) -> None:
    """Found as a bug (APScheduler's plain-text "maximum number of running instances reached" warnings among the
    JSON lines whenever a send sweep outlasted send_every); fixed: its records go through the JSON formatter,
    and it logs errors only."""
    config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(smtp.port)})
    setup(daemons, sqlite_url, config, 1)
    smtp.recorder.delay = 0.5  # each send outlasts send_every (0.2 s)
    d = daemons.start(sqlite_url, config)
    wait_for(lambda: smtp.recorder.count() >= 3, "three reminders sent", alive=[d])
    assert d.stop() == 0, d.describe()
    bad = [line for line in d.stderr().splitlines() if line.strip() and not line.startswith("{")]
    assert not bad, bad[:3]
    log = d.log()  # every line parses as JSON
    assert all("event" in e and "level" in e and "timestamp" in e for e in log)
    assert not [e for e in log if "maximum number of running instances" in str(e["event"])]
    events = [e["event"] for e in log]
    assert events[0] == "started" and events[-1] == "stopped" and events.count("send") >= 1


@pytest.fixture
def scheduler_logger() -> Iterator[logging.Logger]:
    """APScheduler's stdlib logger, as configure() leaves it, put back afterwards (conftest restores structlog)."""
    logger = logging.getLogger("apscheduler")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield logging.getLogger("apscheduler.executors.default")
    logger.handlers, logger.propagate = saved[0], saved[1]
    logger.setLevel(saved[2])


def test_apscheduler_records_are_json_lines_and_errors_only(scheduler_logger: logging.Logger,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    configure(json=True, level=logging.INFO)  # as `zwgk daemon` does
    scheduler_logger.warning("Execution of job %s skipped: maximum number of running instances reached", "send")
    scheduler_logger.error("Error running job %s", "send")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines  # the warning only says a sweep outlasted its interval: not logged
    entry = json.loads(lines[0])
    assert (entry["event"], entry["level"], entry["logger"]) == (
        "Error running job send", "error", "apscheduler.executors.default")
    assert datetime.fromisoformat(entry["timestamp"]).utcoffset() == timedelta(0)


def test_an_apscheduler_error_keeps_its_traceback_in_the_json_log(scheduler_logger: logging.Logger,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    configure(json=True, level=logging.INFO)
    try:
        {}["missing"]
    except KeyError:
        scheduler_logger.exception('Job "%s" raised an exception', "send")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    entry = json.loads(lines[0])
    assert (entry["event"], entry["level"]) == ('Job "send" raised an exception', "error")
    assert "<traceback object" not in lines[0]
    assert "Traceback (most recent call last)" in lines[0] and "KeyError: 'missing'" in lines[0]


def test_a_daemon_paused_mid_send_loses_its_claim_and_cannot_mark_what_another_took_over(
        pg_url: str, tmp_path: Path, daemons: Daemons) -> None:
    """The one re-send left (documented): daemon A is paused (SIGSTOP) while its message is with the receiver, for
    longer than its claim and the clock-skew margin; B takes the claim over and sends that message again, with the
    same key. Everything else goes out once, and A, resumed, touches nothing that B now holds."""
    requests = iter(range(1_000_000))
    hook = HeldReceiver(hold=lambda key: next(requests) == 0)  # only the very first request waits
    try:
        config = write_config(tmp_path / "zwgk.toml", {"webhook": webhook_channel(hook.url)})
        wf = setup(daemons, pg_url, config, 1)
        total = len(PEOPLE)
        a = daemons.start(pg_url, config)
        wait_for(hook.arrived, "A's first message at the receiver", alive=[a])
        a.signal(signal.SIGSTOP)
        b = daemons.start(pg_url, config)
        wait_for(lambda: all_sent(wf, total), "B sending everything once A's claims expired", alive=[b])
        hook.release()  # A's request is answered: it finds the answer when it wakes
        a.signal(signal.SIGCONT)
        wait_for(lambda: any(e.get("event") == "claim_lost" for e in json_lines(a.stderr())),
                 "A noticing that its claim was taken over", alive=[a])
        for d in (a, b):
            assert d.stop() == 0, d.describe()

        paused = hook.first()
        received = hook.received()
        assert set(received) == keys_of(wf) and received[paused] == 2
        assert duplicates(received) == {paused: 2} and hook.overlaps == [paused]
        assert daemon_row(wf, a.pid).sent == 0 and daemon_row(wf, b.pid).sent == total
        lost = [e for e in json_lines(a.stderr()) if e.get("event") == "claim_lost"]
        assert [e["notification"] for e in lost] == [scalar(wf, "SELECT id FROM zwgk_notification WHERE key = :k",
                                                            k=paused)]
    finally:
        hook.close()


def test_a_receiver_slower_than_the_timeout_gets_each_message_once_per_attempt_never_twice_at_once(
        pg_url: str, tmp_path: Path, daemons: Daemons) -> None:
    """The receiver never answers (each send times out after 1 s, within its 3 s claim), and daemon B's clock runs
    1.5 s ahead of A's: B sees A's claims expire early, yet waits the clock-skew margin (5 s) before taking one over.
    So no message is ever posted while an earlier post of it is still open, and each is posted once per attempt."""
    hook = HeldReceiver()
    try:
        config = write_config(tmp_path / "zwgk.toml", {"webhook": webhook_channel(hook.url, timeout=1)},
                              reminders={"max_attempts": 3, "clock_skew_seconds": 5})
        wf = setup(daemons, pg_url, config, 1)
        total = len(PEOPLE)
        pair = [daemons.start(pg_url, config), daemons.start(pg_url, config, skew=1.5)]
        wait_for(lambda: statuses(wf)["dead"] == total, "every message dead-lettered after 3 attempts", alive=pair)
        for d in pair:
            assert d.stop() == 0, d.describe()
        assert hook.overlaps == []
        assert hook.received() == Counter({k: 3 for k in keys_of(wf)})
        assert {r.attempts for r in rows(wf, "SELECT attempts FROM zwgk_notification")} == {3}
        # the read's own timeout or the whole send's, whichever comes first: both are the channel's timeout
        assert all(r.last_error and ("timed out" in r.last_error or "no whole answer within 1 s" in r.last_error)
                   for r in rows(wf, "SELECT last_error FROM zwgk_notification"))
    finally:
        hook.close()


def test_a_lease_not_well_above_the_channels_timeout_is_refused(sqlite_url: str, tmp_path: Path,
                                                               daemons: Daemons) -> None:
    """The configuration of the "58 POSTs for 5 reminders" run: a 10 s webhook timeout under a 2 s claim."""
    config = write_config(tmp_path / "zwgk.toml", {"webhook": webhook_channel("http://127.0.0.1:9/hook", timeout=10)},
                          reminders={"lease_seconds": 2})
    wf = setup(daemons, sqlite_url, config, 1)
    for args in (("daemon", "--once"), ("daemon",), ("remind",)):
        done = daemons.cli(sqlite_url, config, *args)
        assert done.returncode == 2 and done.stdout == "", (args, done)
        [line] = done.stderr.splitlines()
        assert "reminders.lease_seconds: 2 is not well above channel webhook's timeout of 10 s" in line, line
        assert "at least 30" in line
    assert scalar(wf, "SELECT count(*) FROM zwgk_notification") == 0
    assert scalar(wf, "SELECT count(*) FROM zwgk_daemon") == 0


def publish(wf: Workflow, item_id: str) -> int:
    """Walk `item_id` through the pipeline to published (its reviewers are seed_people's REVIEWERS); returns its
    (now met) proactive deadline's id."""
    for action, actor, extra in (("submit", "clerk", {}), ("proofread", "proof", {}),
                                 ("clear", "sec", {"decision": "full"}), ("check", "lead1", {}),
                                 ("approve", "head1", {}), ("publish", "clerk", {})):
        wf.advance(item_id, action, actor=actor, **extra)
    met = rows(wf, "SELECT id, status FROM zwgk_deadline WHERE item_id = :i AND kind = 'proactive'", i=item_id)
    assert [r.status for r in met] == ["met"]
    return int(met[0].id)


def test_reminders_queued_before_the_deadline_was_met_are_not_sent_after(sqlite_url: str, tmp_path: Path,
                                                                          daemons: Daemons, down: ClosedPort) -> None:
    """Found as a bug (every queued reminder went out, escalations included); fixed by cancelling them."""
    config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(down.port)},
                          reminders={"max_attempts": 50, "backoff_seconds": 0.1, "backoff_max_seconds": 0.5})
    wf = setup(daemons, sqlite_url, config, 2)
    total = 2 * len(PEOPLE)

    d = daemons.start(sqlite_url, config)
    wait_for(lambda: len(rows(wf, "SELECT id FROM zwgk_notification WHERE attempts >= 1")) == total,
             "every reminder tried once", alive=[d])
    # Meanwhile the office publishes od-0000: its duty to publish (and every reminder about it) is met.
    met = publish(wf, "od-0000")
    met_keys = keys_of(wf, f"deadline_id = {met}")
    open_keys = keys_of(wf) - met_keys
    assert len(met_keys) == len(open_keys) == len(PEOPLE)
    wait_for(lambda: keys_of(wf, f"deadline_id = {met} AND status = 'cancelled'") == met_keys,
             "the daemon to cancel the reminders about the published item", alive=[d])

    server = SmtpServer(SmtpRecorder(), down).start()
    try:
        wait_for(lambda: statuses(wf)["pending"] + statuses(wf)["sending"] == 0, "the outbox to settle",
                 alive=[d])
        assert d.stop() == 0, d.describe()
    finally:
        server.stop()
    received = server.recorder.received()
    assert received == Counter({k: 1 for k in open_keys})
    assert sent_keys(wf) == open_keys
    assert keys_of(wf, "status = 'cancelled'") == met_keys


def test_a_claimed_reminder_is_not_sent_once_its_deadline_is_met(sqlite_url: str, tmp_path: Path, daemons: Daemons,
                                                                 smtp: SmtpServer) -> None:
    config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(smtp.port)})
    wf = setup(daemons, sqlite_url, config, 2)
    smtp.recorder.delay = 0.6  # one batch of 10, sent in id order: od-0000's five, then od-0001's
    d = daemons.start(sqlite_url, config)
    wait_for(lambda: smtp.recorder.in_flight(), "the first reminder in flight", alive=[d])
    met = publish(wf, "od-0001")  # while od-0000's reminders are still going out
    published_after = smtp.recorder.count() + 1  # at most the one in flight had begun before
    wait_for(lambda: statuses(wf)["pending"] + statuses(wf)["sending"] == 0, "the outbox to settle", alive=[d])
    assert d.stop() == 0, d.describe()
    met_keys = keys_of(wf, f"deadline_id = {met}")
    late = [k for k in smtp.recorder.keys[published_after:] if k in met_keys]
    assert not late, f"sent after the item was published: {late}"
    # What was not sent of the met deadline's is cancelled; od-0000's all went out.
    assert keys_of(wf, f"deadline_id = {met} AND status <> 'sent'") == keys_of(
        wf, f"deadline_id = {met} AND status = 'cancelled'")
    assert keys_of(wf, f"deadline_id <> {met}") == keys_of(wf, f"deadline_id <> {met} AND status = 'sent'")


BEFORE_DAY = datetime.fromisoformat("2026-09-28T10:00:00+08:00")  # one working day before DUE
DUE_DAY = datetime.fromisoformat("2026-09-29T10:00:00+08:00")


def test_a_reminder_superseded_while_the_relay_was_down_is_not_sent(sqlite_url: str, tmp_path: Path,
                                                                    daemons: Daemons, down: ClosedPort) -> None:
    """Found as a bug (after a relay outage the drafter got '还有 1 个工作日到期' on the due day beside '今天到期';
    an outage of a week sent every step at once); fixed: a newer step cancels the older ones still pending."""
    config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(down.port)},
                          reminders={"max_attempts": 50})
    wf = setup(daemons, sqlite_url, config, 2, clock=CREATED)
    # The relay is down: "1 working day left" fails, and the channel rests for the pass after its first failure.
    first = daemons.once(sqlite_url, config, now=BEFORE_DAY)
    assert first.stdout().splitlines()[-1] == (
        "rolled 0, recomputed 0, planned 2, sent 0, failed 1, dead 0, sealed 1, witnessed 0")
    assert Counter((r.step, r.attempts) for r in rows(
        wf, "SELECT step, attempts FROM zwgk_notification WHERE status = 'pending'")) == {("before1", 1): 1,
                                                                                           ("before1", 0): 1}

    server = SmtpServer(SmtpRecorder(), down).start()
    try:
        daemons.once(sqlite_url, config, now=DUE_DAY)  # back up on the due day
    finally:
        server.stop()
    steps = {r.key: r.step for r in rows(wf, "SELECT key, step FROM zwgk_notification")}
    received = server.recorder.received()
    assert Counter(steps[k] for k in received) == {"due": 2}, "stale reminders delivered: " + ", ".join(
        k for k in received if steps[k] != "due")
    assert set(received.values()) == {1}
    assert Counter((r.step, r.status) for r in rows(wf, "SELECT step, status FROM zwgk_notification")) == {
        ("before1", "cancelled"): 2, ("due", "sent"): 2}


def test_once_says_it_waited_while_another_daemon_holds_the_sqlite_lease(sqlite_url: str, tmp_path: Path,
                                                                          daemons: Daemons, smtp: SmtpServer) -> None:
    config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(smtp.port)},
                          daemon={"heartbeat_every": 1.0})  # a 3 s SQLite lease
    wf = setup(daemons, sqlite_url, config, 6)
    smtp.recorder.delay = 0.3  # 30 reminders: the holder is busy for 9 s
    holder = daemons.start(sqlite_url, config)
    wait_for(lambda: holder_pid(wf) == holder.pid and smtp.recorder.count() >= 1, "the holder sending",
             alive=[holder])

    once = daemons.start(sqlite_url, config, "--once", "--json")
    assert once.wait() == 0, once.describe()
    assert holder.running() and holder_pid(wf) == holder.pid
    done = json.loads(once.stdout())
    assert (done["planned"], done["sent"]) == (0, 0)
    assert done["waiting"] is True

    # Once the holder has stopped (handing back its claim), a pass does the rest and did not wait.
    smtp.recorder.delay = 0
    assert holder.stop() == 0, holder.describe()
    left = 6 * len(PEOPLE) - daemon_row(wf, holder.pid).sent
    again = daemons.start(sqlite_url, config, "--once", "--json")
    assert again.wait() == 0, again.describe()
    done = json.loads(again.stdout())
    assert (done["planned"], done["sent"], done["waiting"]) == (0, left, False)
    assert all_sent(wf, 6 * len(PEOPLE))


def _catches_sigterm(pid: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to see the handler installed")
def test_sigterm_during_startup_stops_the_daemon(sqlite_url: str, tmp_path: Path, daemons: Daemons) -> None:
    """Found as a bug (a SIGTERM before scheduler.start() called shutdown() on a scheduler not yet running, and
    the daemon ran on until SIGKILL); fixed: the handler only raises a flag that a scheduler job acts on."""
    config = write_config(tmp_path / "zwgk.toml", {"console": {"type": "console"}})
    wf = setup(daemons, sqlite_url, config, 1)
    busy = sqlite3.connect(tmp_path / "zwgk.db", isolation_level=None)
    busy.execute("BEGIN IMMEDIATE")  # another writer holds the file: the daemon's first heartbeat waits
    try:
        d = daemons.start(sqlite_url, config)
        wait_for(lambda: _catches_sigterm(d.pid), "the daemon's SIGTERM handler")
        d.signal(signal.SIGTERM)
    finally:
        busy.execute("ROLLBACK")
        busy.close()
    first = datetime.fromisoformat(wait_for(lambda: daemon_row(wf, d.pid), "the first heartbeat").beat_at)
    wait_for(lambda: not d.running() or datetime.fromisoformat(daemon_row(wf, d.pid).beat_at)
             >= first + timedelta(seconds=5), "the daemon to exit (or to beat on for 5 s)")
    assert not d.running(), "SIGTERM ignored: " + d.stderr()[-1500:]
    assert d.wait() == 0
    assert daemon_row(wf, d.pid).stopped_at is not None
    log = d.log()  # JSON lines only: no traceback from a thread
    assert [e["signal"] for e in log if e["event"] == "stopping"] == ["SIGTERM"]
    assert log[-1]["event"] == "stopped"


# ---------------------------------------------------------------- 9. seals, and their digests sent to witnesses

# Who keeps each seal's root digest outside the office: one by e-mail, one by a WeCom robot's @-mention of a
# mobile number, and one whom the e-mail channel cannot reach (no address): not queued, a warning logged.
COUNTY = {"name": "县政务公开办", "channel": "email", "email": "gongkai@county.example"}
DUTY = {"name": "县政府值班室", "channel": "wecom", "phone": "13800000000"}
NO_MAIL = {"name": "乡纪委", "channel": "email", "phone": "13900000000"}


@pytest.fixture
def robot() -> Iterator[RobotRecorder]:
    server = RobotRecorder()
    yield server
    server.close()


@dataclass(frozen=True)
class Seal:
    """A seal in the register, and what it recorded: [chain, seq, hash] of each unit chain, by chain."""

    seq: int
    hash: str
    chains: list[list[Any]]

    @property
    def digest(self) -> str:
        return f"{self.seq}:{self.hash}"


def seals(wf: Workflow) -> list[Seal]:
    return [Seal(r.seq, r.hash, sorted(json.loads(r.data)["chains"]))
            for r in rows(wf, "SELECT seq, hash, data FROM zwgk_event WHERE chain = :c AND action = 'seal' "
                              "ORDER BY seq", c=REGISTER)]


def unit_heads(wf: Workflow) -> list[list[Any]]:
    return [[r.chain, r.seq, r.hash] for r in rows(
        wf, "SELECT chain, seq, hash FROM zwgk_chain WHERE chain <> :c ORDER BY chain", c=REGISTER)]


def root_digest(wf: Workflow) -> str:
    head = rows(wf, "SELECT seq, hash FROM zwgk_chain WHERE chain = :c", c=REGISTER)[0]
    return f"{head.seq}:{head.hash}"


def witness_mail(server: SmtpServer) -> list[Any]:
    return [m for m in server.recorder.mail if str(m["X-Zwgk-Idempotency-Key"]).startswith("zwgk:seal:")]


def mail_text(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


def verified_against(daemons: Daemons, url: str, config: Path, digest: str) -> str:
    """`zwgk verify --against DIGEST` passes; its ok line."""
    done = daemons.cli(url, config, "verify", "--against", digest)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: ") and done.stderr == "", done.stdout + done.stderr
    return done.stdout.splitlines()[0]


def test_a_pass_seals_every_chain_once_and_each_witness_receives_the_root_digest(
        db_url: str, tmp_path: Path, daemons: Daemons, smtp: SmtpServer, robot: RobotRecorder) -> None:
    config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(smtp.port),
                                                  "wecom": {"type": "wecom", "url": robot.url, "timeout": 10}},
                          witnesses=[COUNTY, DUTY, NO_MAIL])
    wf = setup(daemons, db_url, config, 2)
    wf.add_unit("station", name="农业综合服务站", by=ADMIN)  # a second unit: a chain of its own
    reminders = 2 * len(PEOPLE)  # by e-mail; nobody has a phone for the robot

    first = daemons.once(db_url, config)
    assert first.stdout().rstrip().splitlines()[-1] == (
        f"rolled 0, recomputed 0, planned {reminders}, sent {reminders + 2}, failed 0, dead 0, sealed 1, witnessed 2")
    # One seal, of every unit chain at its head, and it is the register's head: the root digest.
    [seal] = seals(wf)
    heads = unit_heads(wf)
    assert [c for c, _, _ in heads] == ["gov", "station"]
    assert seal.chains == heads
    assert root_digest(wf) == seal.digest
    # Through the outbox, one message per reachable witness, with no deadline behind it.
    queued = rows(wf, "SELECT key, deadline_id, recipient, channel, address, status, attempts, sent_at "
                      "FROM zwgk_notification WHERE step = 'seal' ORDER BY channel")
    assert [(r.key, r.deadline_id, r.recipient, r.channel, r.address, r.status, r.attempts) for r in queued] == [
        (witness_key(seal.seq, COUNTY["name"], "email"), None, COUNTY["name"], "email", COUNTY["email"], "sent", 1),
        (witness_key(seal.seq, DUTY["name"], "wecom"), None, DUTY["name"], "wecom", DUTY["phone"], "sent", 1)]
    assert all(r.sent_at for r in queued)
    assert [e["witness"] for e in first.log() if e["event"] == "witness_unreachable"] == [NO_MAIL["name"]]
    assert [e["witnessed"] for e in first.log() if e["event"] == "seal"] == [2]

    # What each witness received: the root digest, which `zwgk verify --against` accepts.
    [mail] = witness_mail(smtp)
    assert mail["To"].addresses[0].addr_spec == COUNTY["email"]
    assert mail["X-Zwgk-Idempotency-Key"] == queued[0].key
    [post] = robot.received()
    assert post["text"]["mentioned_mobile_list"] == [DUTY["phone"]]
    kept = digest_in(mail_text(mail))
    assert kept == digest_in(post["text"]["content"]) == seal.digest
    assert verified_against(daemons, db_url, config, kept).endswith(f"root digest {kept}")
    assert sum(1 for k in smtp.recorder.received() if not k.startswith("zwgk:seal:")) == reminders

    # Nothing moved: the next pass seals nothing and sends nobody anything.
    again = daemons.once(db_url, config)
    assert again.stdout().rstrip().splitlines()[-1] == (
        "rolled 0, recomputed 0, planned 0, sent 0, failed 0, dead 0, sealed 0, witnessed 0")
    assert [s.digest for s in seals(wf)] == [seal.digest]
    assert len(witness_mail(smtp)) == 1 and len(robot.received()) == 1

    # A new draft in `gov` moves its chain: the next pass seals again, `station` where it was.
    overdue_items(wf, 1, formed_on=NOW.date(), prefix="new")  # due in 20 working days: no reminder yet
    third = daemons.once(db_url, config)
    assert third.stdout().rstrip().splitlines()[-1] == (
        "rolled 0, recomputed 0, planned 0, sent 2, failed 0, dead 0, sealed 1, witnessed 2")
    old, new = seals(wf)
    assert new.chains == unit_heads(wf) != old.chains
    assert new.chains[1] == old.chains[1] and new.chains[0][1] > old.chains[0][1]
    assert root_digest(wf) == new.digest
    mails = witness_mail(smtp)
    assert len(mails) == 2 and len(robot.received()) == 2
    assert digest_in(mail_text(mails[1])) == digest_in(robot.received()[1]["text"]["content"]) == new.digest
    # Either digest a witness kept still verifies: the register holds both, and every chain what they sealed.
    for kept in (old.digest, new.digest):
        assert verified_against(daemons, db_url, config, kept).endswith(f"root digest {new.digest}")
    # And --against checks what it is given: a digest the register never had fails.
    forged = Digest(old.seq, old.hash[:-1] + ("0" if old.hash[-1] != "0" else "1"))
    assert not wf.verify(against=forged).ok


def test_the_digest_a_witness_kept_catches_a_database_its_owner_rewrote_whole(
        db_url: str, tmp_path: Path, daemons: Daemons, smtp: SmtpServer) -> None:
    config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(smtp.port)}, witnesses=[COUNTY])
    wf = setup(daemons, db_url, config, 1)
    daemons.once(db_url, config)
    [mail] = witness_mail(smtp)
    kept = digest_in(mail_text(mail))
    [seal] = seals(wf)
    assert kept == seal.digest

    # The owner rewrites `gov` from its first event (another operator), relinks and rehashes it, and rewrites
    # the seal to match: every hash and link agrees again, so verify alone cannot tell.
    raw = Raw(db_url)
    try:
        raw.drop_guards()
        raw.set_event(1, "gov", operator="someone@elsewhere")
        raw.rewrite_from(1, "gov")
        gov_hash = raw.head("gov")[1]
        data = json.loads(raw.event(seal.seq, REGISTER)["data"])
        data["chains"] = [[c, n, gov_hash if c == "gov" else h] for c, n, h in data["chains"]]
        raw.set_event(seal.seq, REGISTER, data=canonical(data))
        raw.rewrite_from(seal.seq, REGISTER)
    finally:
        raw.close()
    assert root_digest(wf) != kept
    alone = daemons.cli(db_url, config, "verify")
    assert alone.returncode == 0 and alone.stdout.startswith("ok: "), alone.stdout + alone.stderr

    # What the witness kept does tell.
    caught = daemons.cli(db_url, config, "verify", "--against", kept)
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert caught.stderr.startswith("zwgk: verify failed: ") and "rewritten" in caught.stderr, caught.stderr
    assert len(caught.stderr.strip().splitlines()) == 1


def test_three_daemons_on_postgresql_seal_each_move_once_and_each_digest_reaches_the_witness_once(
        pg_url: str, tmp_path: Path, daemons: Daemons, webhook: WebhookRecorder) -> None:
    witness = {"name": "县政务公开办", "channel": "webhook"}
    config = write_config(tmp_path / "zwgk.toml", {"webhook": webhook_channel(webhook.url)},
                          daemon={"seal_every": 0.2}, witnesses=[witness])
    wf = open_wf(daemons, pg_url, config)
    seed_people(wf)

    trio = [daemons.start(pg_url, config) for _ in range(3)]
    wait_for(lambda: len(daemon_rows(wf)) == 3, "three heartbeats", alive=trio)
    wait_for(lambda: len(seals(wf)) == 1 and webhook.count() == 1, "the first seal, witnessed", alive=trio)
    def witnessed(n: int) -> bool:
        return len(seals(wf)) >= n and webhook.count() >= n

    def beats() -> list[str]:
        return [daemon_row(wf, d.pid).beat_at for d in trio]

    for k in range(3):  # the chain of `gov` moves three times (each a host's bulk import in one transaction)
        overdue_items(wf, 5, formed_on=NOW.date(), prefix=f"m{k}", one_transaction=True)
        wait_for(partial(witnessed, k + 2), f"seal {k + 2}, witnessed", alive=trio)
        assert seals(wf)[-1].chains == unit_heads(wf)
    # Then nothing moves while each daemon sweeps for a seal many times more (every 0.2 s, for over a second).
    for _ in range(2):
        before = beats()
        wait_for(lambda: all(b > a for a, b in zip(before, beats(), strict=True)), "a heartbeat of each daemon",
                 alive=trio)
    for d in trio:
        assert d.stop() == 0, d.describe()

    made = seals(wf)
    assert len(made) == 4, [s.chains for s in made]
    assert len({json.dumps(s.chains) for s in made}) == 4  # no two seals of the same heads
    assert sum(e.get("sealed", 0) for d in trio for e in d.log() if e["event"] == "seal") == 4
    received = webhook.received()
    assert received == Counter({witness_key(s.seq, witness["name"], "webhook"): 1 for s in made}), received
    assert keys_of(wf) == set(received) and statuses(wf) == Counter({"sent": 4})
    for s in made:
        assert wf.verify(against=Digest.parse(s.digest)).ok


def test_a_witness_message_that_fails_is_sent_again_later_and_its_digest_verifies(
        db_url: str, tmp_path: Path, recorder: Recorder) -> None:
    """In process, on the `recording` channel: the first attempt fails, the next pass delivers it once."""
    witness = {"name": "县政务公开办", "channel": "recording", "email": "gongkai@county.example"}
    config = load(write_config(tmp_path / "zwgk.toml", {"recording": {"type": "recording"}}, witnesses=[witness]))
    moment = [NOW]
    wf = Workflow(db_url, clock=lambda: moment[0], config=config)
    try:
        seed_people(wf)
        recorder.script = [Result(False, "relay busy", retry=True)]
        first = Daemon(wf).once()
        assert (first.sealed, first.witnessed, first.sent, first.failed, first.dead) == (1, 1, 0, 1, 0)
        [row] = rows(wf, "SELECT key, status, attempts, last_error FROM zwgk_notification")
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "relay busy")

        moment[0] = NOW + timedelta(minutes=5)  # past the backoff; nothing has moved in any chain
        second = Daemon(wf).once()
        assert (second.sealed, second.witnessed, second.sent, second.failed) == (0, 0, 1, 0)
        assert [m.key for m in recorder.attempts] == [row.key, row.key]
        [message] = recorder.delivered
        assert (message.recipient.name, message.address) == (witness["name"], f"witness:{witness['name']}")
        kept = message.fields["digest"]
        assert kept == digest_in(message.text) == seals(wf)[0].digest == str(wf.digest())
        report = wf.verify(against=Digest.parse(kept))
        assert report.ok, report.first_problem
        assert statuses(wf) == Counter({"sent": 1})
    finally:
        wf.close()


def test_a_seal_whose_digest_could_not_be_queued_still_reaches_the_witness(db_url: str, tmp_path: Path,
                                                                           recorder: Recorder) -> None:
    """The seal is committed before its digest is queued: if queueing fails (or the daemon dies in between), the
    next pass queues the latest seal's digest although nothing moved in any chain."""
    witness = {"name": "县政务公开办", "channel": "recording"}
    config = load(write_config(tmp_path / "zwgk.toml", {"recording": {"type": "recording"}}, witnesses=[witness]))
    wf = Workflow(db_url, clock=fixed(NOW), config=config)
    try:
        seed_people(wf)
        recorder.unreachable = [RuntimeError("a notifier's bug")]  # the channel fails once to give an address
        failed = Daemon(wf).once()  # the seal job fails (logged as job_failed); the daemon goes on
        assert (failed.witnessed, failed.broken) == (0, ("seal",))  # `daemon --once` exits 1 on it
        [seal] = seals(wf)  # committed before the queueing failed
        assert root_digest(wf) == seal.digest and scalar(wf, "SELECT count(*) FROM zwgk_notification") == 0
        again = Daemon(wf).once()  # the channel works again; nothing moved in any chain
        assert (again.sealed, again.witnessed, again.sent, again.failed, again.broken) == (0, 1, 1, 0, ())
        assert [s.digest for s in seals(wf)] == [seal.digest]  # no second seal of the same heads
        assert [m.fields["digest"] for m in recorder.delivered] == [seal.digest], "the seal was never witnessed"
        assert keys_of(wf) == {witness_key(seal.seq, witness["name"], "recording")}
        assert wf.verify(against=Digest.parse(seal.digest)).ok
        # Queueing the same seal again adds nothing: the next pass witnesses nothing and sends nothing.
        third = Daemon(wf).once()
        assert (third.sealed, third.witnessed, third.sent) == (0, 0, 0)
        assert len(recorder.delivered) == 1
    finally:
        wf.close()


def test_a_seal_made_by_zwgk_digest_reaches_the_witness_at_the_next_pass(db_url: str, tmp_path: Path,
                                                                         recorder: Recorder) -> None:
    witness = {"name": "县政务公开办", "channel": "recording"}
    config = load(write_config(tmp_path / "zwgk.toml", {"recording": {"type": "recording"}}, witnesses=[witness]))
    wf = Workflow(db_url, clock=fixed(NOW), config=config)
    try:
        seed_people(wf)
        first = Daemon(wf).once()
        assert (first.sealed, first.witnessed, first.sent) == (1, 1, 1)
        overdue_items(wf, 1, formed_on=NOW.date(), prefix="new")  # gov moves (no reminder due yet) ...
        made = wf.digest()  # ... and someone seals it by hand (`zwgk digest`) before the daemon's next pass
        old, new = seals(wf)
        assert new.digest == str(made) == root_digest(wf) and new.chains == unit_heads(wf)
        second = Daemon(wf).once()
        assert (second.sealed, second.witnessed, second.sent, second.failed) == (0, 1, 1, 0)
        assert [s.digest for s in seals(wf)] == [old.digest, new.digest]
        assert [m.fields["digest"] for m in recorder.delivered] == [old.digest, new.digest]
        assert keys_of(wf) == {witness_key(s.seq, witness["name"], "recording") for s in (old, new)}
        assert wf.verify(against=made).ok
    finally:
        wf.close()


def test_a_daemon_whose_clock_is_set_by_hand_refuses_a_database_that_is_not_a_simulation(
        db_url: str, tmp_path: Path, daemons: Daemons) -> None:
    config = write_config(tmp_path / "zwgk.toml", {"console": {"type": "console"}})
    made = daemons.cli(db_url, config, "init", "--admin", ADMIN, "--name", "党政办登记管理员", real_clock=True)
    assert made.returncode == 0, made.stderr
    wf = Workflow(db_url)  # reads only
    daemons.workflows.append(wf)
    events = scalar(wf, "SELECT count(*) FROM zwgk_event")

    for args in (("--once",), ()):  # ZWGK_NOW set: refused at once, one line, nothing written
        d = daemons.start(db_url, config, *args)
        assert d.wait() == 2, d.describe()
        assert d.stdout() == ""
        [line] = d.stderr().splitlines()
        assert line.startswith("zwgk: ") and "not a simulation" in line and "ZWGK_NOW" in line, line
    assert daemon_rows(wf) == [] and scalar(wf, "SELECT count(*) FROM zwgk_event") == events

    # Reading with such a clock is fine; the real clock runs the daemon (and it seals).
    status = daemons.cli(db_url, config, "daemon", "--status")
    assert status.returncode == 0 and status.stdout.strip() == "no daemon has run on this database", status.stderr
    real = daemons.once(db_url, config, real_clock=True)
    assert real.stdout().rstrip().splitlines()[-1] == (
        "rolled 0, recomputed 0, planned 0, sent 0, failed 0, dead 0, sealed 1, witnessed 0")
    assert [b.stopped_at is not None for b in daemon_rows(wf)] == [True]
    assert len(seals(wf)) == 1


def test_the_daemon_serves_its_counters_as_prometheus_metrics(sqlite_url: str, tmp_path: Path, daemons: Daemons,
                                                               webhook: WebhookRecorder, down: ClosedPort) -> None:
    port = free_port()
    config = write_config(tmp_path / "zwgk.toml",
                          {"webhook": webhook_channel(webhook.url), "email": email_channel(down.port)},
                          reminders={"max_attempts": 1}, daemon={"metrics": f"127.0.0.1:{port}"})
    setup(daemons, sqlite_url, config, 1)
    d = daemons.start(sqlite_url, config)

    def scrape() -> dict[str, float]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
                text = reply.read().decode()
        except OSError:
            return {}
        return {name: float(value) for name, value in
                (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))}

    total = len(PEOPLE)
    wait_for(lambda: scrape().get('zwgk_notifications_dead_lettered_total{channel="email"}') == total,
             "the metrics to count every e-mail dead-lettered", alive=[d])
    metrics = wait_for(lambda: (m := scrape()).get('zwgk_notifications_sent_total{channel="webhook"}') == total and m,
                       "the metrics to count every webhook sent", alive=[d])
    assert metrics['zwgk_notifications_failed_total{channel="email"}'] == total
    assert metrics["zwgk_send_pass_seconds_count"] >= 1
    assert metrics["zwgk_last_successful_pass_timestamp_seconds"] > 0
    assert 'zwgk_claims_lost_total{channel="webhook"}' not in metrics  # none lost: never labelled
    assert d.stop() == 0, d.describe()
    assert webhook.count() == total


def test_metrics_are_off_unless_configured_and_a_bad_address_is_one_line(sqlite_url: str, tmp_path: Path,
                                                                        daemons: Daemons) -> None:
    config = write_config(tmp_path / "zwgk.toml", {"console": {"type": "console"}})
    setup(daemons, sqlite_url, config, 1)
    daemons.once(sqlite_url, config)  # off by default
    write_config(config, {"console": {"type": "console"}}, daemon={"metrics": "nowhere"})
    done = daemons.cli(sqlite_url, config, "daemon", "--once")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"zwgk: {config}: daemon.metrics: 'nowhere' is not HOST:PORT like "
                                        "127.0.0.1:9464"]


def test_a_hung_relay_and_a_sleeping_webhook_hold_up_only_their_own_channels(sqlite_url: str, tmp_path: Path,
                                                                             daemons: Daemons,
                                                                             webhook: WebhookRecorder) -> None:
    """`--once` with an SMTP server that accepts and then hangs, and a webhook that does not answer (30 s timeouts):
    the fast webhook's messages all go out while the slow channels are still in their first send. The relay, once
    it fails, rests for the pass (its other messages wait for the next); nothing is left `sending`."""
    relay, slow = HungServer(), HeldReceiver()
    try:
        config = write_config(tmp_path / "zwgk.toml", {"email": email_channel(relay.port, timeout=30),
                                                      "slow": webhook_channel(slow.url, timeout=30),
                                                      "fast": webhook_channel(webhook.url)},
                              reminders={"backoff_seconds": 0.1, "backoff_max_seconds": 0.1})
        wf = setup(daemons, sqlite_url, config, 4)
        total = 4 * len(PEOPLE)
        once = daemons.start(sqlite_url, config, "--once")
        wait_for(lambda: webhook.count() == total, "every fast message sent", alive=[once])
        assert relay.connections() == 1 and slow.received().total() == 1  # both still in their first send
        assert slow.overlaps == [] and once.running()

        slow.release()  # the slow webhook answers from now on; the relay hangs up
        relay.close()
        assert once.wait() == 0, once.describe()
        by_channel = {r.channel: r for r in rows(wf, "SELECT channel, count(*) AS n, sum(attempts) AS tried, "
                                                     "sum(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) AS sent, "
                                                     "sum(CASE WHEN status = 'sending' THEN 1 ELSE 0 END) AS held "
                                                     "FROM zwgk_notification GROUP BY channel")}
        assert {c: (r.n, r.tried, r.sent, r.held) for c, r in by_channel.items()} == {
            "fast": (total, total, total, 0), "slow": (total, total, total, 0), "email": (total, 1, 0, 0)}
        assert relay.connections() == 1  # the failed relay is not tried again within the pass
    finally:
        relay.close()
        slow.close()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to see the threads' signal masks")
@pytest.mark.parametrize("mode", [("--once",), ()], ids=["once", "running"])
def test_sigterm_while_a_message_is_in_flight_hands_back_the_other_claims(
        sqlite_url: str, tmp_path: Path, daemons: Daemons, mode: tuple[str, ...]) -> None:
    """Found as a flake (a loaded machine: the daemon sent its whole batch after SIGTERM): a sender thread took the
    signal, and the main thread, blocked joining it, never ran the handler. Now only the main thread can take it."""
    hook = HeldReceiver()
    try:
        config = write_config(tmp_path / "zwgk.toml", {"webhook": webhook_channel(hook.url)})
        wf = setup(daemons, sqlite_url, config, 2)
        total = 2 * len(PEOPLE)
        d = daemons.start(sqlite_url, config, *mode)
        wait_for(hook.arrived, "the first message at the receiver", alive=[d])
        assert d.takers(signal.SIGTERM) == d.takers(signal.SIGINT) == [d.pid]
        d.signal(signal.SIGTERM)
        wait_for(lambda: d.logged("stopping"), "the daemon to take the SIGTERM", alive=[d])
        hook.release()  # the message in flight is answered: that one is sent, the rest handed back
        assert d.wait() == 0, d.describe()
        assert statuses(wf) == Counter({"sent": 1, "pending": total - 1})
        assert {(r.attempts, r.claimed_by) for r in rows(wf, "SELECT attempts, claimed_by FROM zwgk_notification "
                                                             "WHERE status = 'pending'")} == {(0, None)}
        assert hook.received().total() == 1
    finally:
        hook.close()
