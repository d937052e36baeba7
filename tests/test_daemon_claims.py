"""Claims in the outbox, in one process with clocks set by hand: the fencing token and the clock-skew margin.

Two `Sender`s (two daemons) share the database; their channel is a plugin notifier that holds each send until the
test lets it go, so every interleaving here is forced, not hoped for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from notifiers import Contact, Message, Result, register
from tests.conftest import downgrade
from tests.daemon_helpers import NOW, PEOPLE, overdue_items, rows, seed_people, wait_for
from workflow import Workflow, db
from workflow.config import parse
from workflow.outbox import Sender, Tally, unacknowledged
from workflow.reminders import Planner, build_channels


class Gate:
    """The `gated` channel: each send waits at the gate until the test opens it with the result to give."""

    channel = "gated"
    timeout = 1.0

    def __init__(self, _settings: Any) -> None:
        self.arrivals: list[str] = []
        self.results: list[Result] = []
        self.opened = threading.Semaphore(0)
        self.lock = threading.Lock()

    def address(self, person: Contact) -> str | None:
        return person.id

    def send(self, message: Message) -> Result:
        with self.lock:
            self.arrivals.append(message.key)
        assert self.opened.acquire(timeout=60), "the test never opened the gate"
        with self.lock:
            return self.results.pop(0)

    def open(self, result: Result) -> None:
        with self.lock:
            self.results.append(result)
        self.opened.release()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def gated() -> Iterator[None]:
    unregister = register("gated", Gate)
    yield
    unregister()


LEASE, SKEW = 30.0, 2.0


@pytest.fixture
def wf(db_url: str) -> Iterator[Workflow]:
    config = parse({"schedule": [], "channels": {"gated": {}},
                    "reminders": {"channels": ["gated"], "office_hours_only": False, "lease_seconds": LEASE,
                                  "clock_skew_seconds": SKEW, "backoff_seconds": 1, "backoff_max_seconds": 1}})
    wf = Workflow(db_url, clock=lambda: NOW, config=config)
    seed_people(wf)
    overdue_items(wf, 1)
    Planner(wf.engine, wf.config, build_channels(wf.config)).plan(NOW)
    yield wf
    wf.close()


def sender(wf: Workflow, me: str, clock: Clock) -> tuple[Sender, Gate]:
    channels = build_channels(wf.config)
    gate = channels["gated"].inner  # type: ignore[attr-defined]  (a plugin comes wrapped)
    assert isinstance(gate, Gate)
    return Sender(wf.engine, wf.config.reminders, channels, me, clock), gate


def in_background(s: Sender) -> tuple[threading.Thread, list[Tally]]:
    out: list[Tally] = []
    thread = threading.Thread(target=lambda: out.append(s.deliver()), daemon=True)
    thread.start()
    return thread, out


def keep_one(wf: Workflow) -> None:
    """One message in the outbox, so that every claim here is a claim of it."""
    with wf.engine.begin() as c:
        c.execute(text("DELETE FROM zwgk_notification WHERE id <> (SELECT min(id) FROM zwgk_notification)"))


def row(wf: Workflow, key: str) -> Any:
    [found] = rows(wf, "SELECT status, claimed_by, attempts FROM zwgk_notification WHERE key = :k", k=key)
    return found


def test_a_send_that_returns_after_its_claim_was_taken_over_cannot_mark_the_row_even_under_a_new_claim(
        wf: Workflow) -> None:
    """A's first send hangs past its claim; B takes the message over and fails it; A claims it again. When A's
    first send returns, its mark must not land on the row now held under A's second claim (a check of the
    holder's name, `claimed_by = A`, would let it: only the token of that claim tells the two apart)."""
    keep_one(wf)
    clock = Clock(NOW)
    a, gate_a = sender(wf, "A", clock)
    first, _ = in_background(a)
    wait_for(lambda: gate_a.arrivals, "A's first send at its channel")
    key = gate_a.arrivals[0]

    clock.now = NOW + timedelta(seconds=LEASE + SKEW + 1)  # A's claim ran out, the margin too
    b, gate_b = sender(wf, "B", clock)
    gate_b.open(Result(False, "relay busy", retry=True))
    assert b.deliver().failed == 1
    assert row(wf, key).status == "pending"

    clock.now += timedelta(seconds=5)  # past B's backoff: A claims it again, under a new token
    second, _ = in_background(a)
    wait_for(lambda: len(gate_a.arrivals) == 2 and row(wf, key).claimed_by == "A", "A's second claim and send")
    assert gate_a.arrivals == [key, key]

    gate_a.open(Result(True, "first send, returning late"))
    first.join(60)
    assert row(wf, key).status == "sending", "the late mark landed on the second claim"
    gate_a.open(Result(True, "second send"))
    second.join(60)
    assert row(wf, key).status == "sent"


def test_a_daemon_whose_clock_runs_ahead_waits_the_skew_margin_before_taking_over_a_claim(wf: Workflow) -> None:
    keep_one(wf)
    a, gate_a = sender(wf, "A", Clock(NOW))
    thread, _ = in_background(a)
    wait_for(lambda: gate_a.arrivals, "A's send at its channel")
    assert [r.claimed_by for r in rows(wf, "SELECT claimed_by FROM zwgk_notification")] == ["A"]

    # B's clock says A's claim expired 1.5 s ago (it runs ahead): within the margin, B leaves it alone ...
    b, gate_b = sender(wf, "B", Clock(NOW + timedelta(seconds=LEASE + 1.5)))
    assert b.deliver() == Tally() and gate_b.arrivals == []
    # ... and takes it over once the margin is past as well.
    late, gate_late = sender(wf, "C", Clock(NOW + timedelta(seconds=LEASE + SKEW + 0.001)))
    gate_late.open(Result(True, "ok"))
    assert late.deliver().sent == 1
    gate_a.open(Result(True, "ok"))  # A's send returns: the message is C's now, A's mark finds nothing
    thread.join(60)
    assert [r.status for r in rows(wf, "SELECT status FROM zwgk_notification")] == ["sent"]


def test_a_message_that_fails_is_not_tried_again_in_the_same_pass(wf: Workflow) -> None:
    clock = Clock(NOW)
    s, gate = sender(wf, "A", clock)
    gate.open(Result(False, "relay down", retry=True))
    tally = s.deliver()
    assert (tally.sent, tally.failed) == (0, 1) and len(gate.arrivals) == 1  # the channel rests for the pass
    found = rows(wf, "SELECT status, attempts, claimed_by FROM zwgk_notification ORDER BY attempts DESC")
    assert [r.attempts for r in found] == [1] + [0] * (len(PEOPLE) - 1)
    assert {r.status for r in found} == {"pending"} and {r.claimed_by for r in found} == {None}


def test_an_outbox_of_revision_0101_is_upgraded_with_its_claims_and_dead_letters_kept(wf: Workflow) -> None:
    downgrade(wf, "0101")
    with wf.engine.begin() as c:
        c.execute(text("UPDATE zwgk_notification SET status = 'dead' "
                       "WHERE id = (SELECT min(id) FROM zwgk_notification)"))
    before = rows(wf, "SELECT id, key, status FROM zwgk_notification ORDER BY id")
    with wf.engine.begin() as c:
        db.upgrade(c)
    after = rows(wf, "SELECT id, key, status, claim_token, acked_by, acked_at FROM zwgk_notification ORDER BY id")
    assert [(r.id, r.key, r.status) for r in after] == [tuple(r) for r in before]
    assert {(r.claim_token, r.acked_by, r.acked_at) for r in after} == {(None, None, None)}
    assert unacknowledged(wf.engine) == 1
    s, gate = sender(wf, "A", Clock(NOW))
    for _ in range(len(after) - 1):
        gate.open(Result(True, "ok"))
    assert s.deliver().sent == len(after) - 1
