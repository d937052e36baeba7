"""Reminders end to end through the Python API: deadlines opened by signatures, `reminders.Planner` writing the
outbox on a travelling clock, `outbox.Sender` (and the daemon's send job) delivering it.

The clock is a mutable object handed to `Workflow(clock=...)`; every time is in the office's zone (+08:00).
2026: 1-7 October is the National Day holiday, Saturday 10 October a working day, Sunday 11 October a rest day.
Channels are real: a recording notifier registered for the test, the console, and e-mail to an aiosmtpd server.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import text

from notifiers import Message, Result
from tests.conftest import ADMIN, new_info, publish, seed, to_head_approval
from tests.recording import Recorder
from workflow import Workflow
from workflow.config import Config, parse
from workflow.daemon import Daemon
from workflow.duties import Deadline
from workflow.outbox import Sender
from workflow.reminders import Planned, Planner, build_channels
from workflow.testing import captured_logs
from workflow.workdays import WorkCalendar, load_overrides

CST = timezone(timedelta(hours=8))
BODY = "正文机密-BODY-7f3a9c-不得外传"  # an item's body: must never reach a notification
TITLE = "平田乡村庄建设管理办法"


def local(day: date, hour: int = 8, minute: int = 30) -> datetime:
    """A time at the office (08:30 is when it opens)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CST)


PUBLISHED_AT = local(date(2026, 9, 30), 10, 0)  # a Wednesday, the last working day before National Day
DUE = date(2026, 10, 10)  # 3 working days later: 8, 9 and (the working Saturday) 10 October


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> datetime:
        self.now = now
        return now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


# -- a notifier that records what it is handed, registered as the "recording" channel type -----------------


class Crash(BaseException):
    """The daemon process dying mid-send: not an error a notifier reports, nothing catches it."""




def rec_config(reminders: dict[str, Any] | None = None, **channels: dict[str, Any]) -> Config:
    """A configuration whose reminders go to the recording channel `rec` (plus any other channels given)."""
    chans = {"rec": {"type": "recording"}, **channels}
    return parse({"channels": chans, "reminders": {"channels": list(chans), **(reminders or {})}},
                 source="test.toml")


# -- the township ---------------------------------------------------------------------------------------------


Make = Callable[..., tuple[Workflow, Clock]]


@pytest.fixture
def town(db_url: str) -> Iterator[Make]:
    """`town(config)` -> a seeded Workflow on `db_url` with its own travelling clock (set to PUBLISHED_AT).

    `town(config, clock=c, seeded=False)` opens the same database again, e.g. with another configuration."""
    made: list[Workflow] = []

    def make(config: Config | None = None, *, clock: Clock | None = None, seeded: bool = True,
             people: Callable[[Workflow], Any] = seed) -> tuple[Workflow, Clock]:
        clock = clock or Clock(PUBLISHED_AT)
        wf = Workflow(db_url, clock=clock, config=config)
        made.append(wf)
        if seeded:
            people(wf)
        return wf, clock

    yield make
    for wf in made:
        wf.close()


def publish_policy(wf: Workflow, item_id: str = "pol", *, body: str = BODY, title: str = TITLE,
                   drafter: str = "clerk") -> str:
    new_info(wf, id=item_id, kind="policy", category="1.1", timing="immediate", title=title, body=body,
             drafter=drafter)
    publish(wf, item_id)
    return item_id


def publish_interpretation(wf: Workflow, policy: str, item_id: str = "jd") -> str:
    new_info(wf, id=item_id, kind="interpretation", interprets=policy, category="1.1", timing="immediate",
             title=f"《{TITLE}》政策解读", body=BODY)
    publish(wf, item_id)
    return item_id


def deadline(wf: Workflow, key: str) -> Deadline:
    found = [d for d in wf.deadlines() if d.key == key]
    assert len(found) == 1, [d.key for d in wf.deadlines()]
    return found[0]


def planner(wf: Workflow) -> Planner:
    return Planner(wf.engine, wf.config, build_channels(wf.config))


def sender(wf: Workflow, me: str = "sender-a") -> Sender:
    return Sender(wf.engine, wf.config.reminders, build_channels(wf.config), me, wf.clock)


def outbox(wf: Workflow) -> list[dict[str, Any]]:
    """Every column of every outbox row, oldest first."""
    with wf.engine.connect() as c:
        return [dict(r) for r in c.execute(text("SELECT * FROM zwgk_notification ORDER BY id")).mappings()]


def steps(planned: list[Planned]) -> list[tuple[str, str]]:
    return sorted((p.step, p.recipient) for p in planned)


def key(deadline_id: int, due_on: date, step: str, recipient: str, channel: str) -> str:
    """The documented idempotency key: ':' is in no id nor channel name."""
    return f"zwgk:{deadline_id}:{due_on.isoformat()}:{step}:{recipient}:{channel}"


def days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# -- the steps of a reminder, on the working-day calendar ---------------------------------------------------------


def test_reminder_steps_follow_the_working_day_calendar(town: Make) -> None:
    wf, clock = town()
    plan = planner(wf)
    by_day: dict[date, list[tuple[str, str]]] = {}
    pending_by_day: dict[date, list[tuple[str, str]]] = {}  # nothing is sent here: what waits in the outbox
    for day in days(date(2026, 9, 30), date(2026, 10, 20)):
        by_day[day] = steps(plan.plan(clock.set(local(day))))
        pending_by_day[day] = sorted((n.step, n.recipient) for n in wf.notifications(status="pending"))
        if day == date(2026, 9, 30):
            clock.set(PUBLISHED_AT)
            publish_policy(wf)
            interp = deadline(wf, "interpretation:pol")
            assert (interp.due_on, interp.responsible, interp.provisional) == (DUE, "clerk", False)
            assert interp.next_at == local(date(2026, 10, 9))  # the first step: the working day before

    own, leader, head = ["clerk"], ["lead", "multi"], ["head"]  # multi holds leader and head: reminded once

    def step(name: str, *who: list[str]) -> list[tuple[str, str]]:
        return sorted((name, p) for group in who for p in group)

    expected: dict[date, list[tuple[str, str]]] = {day: [] for day in days(date(2026, 9, 30), date(2026, 10, 20))}
    expected |= {
        date(2026, 10, 9): step("before1", own),
        date(2026, 10, 10): step("due", own),  # a working Saturday
        # Sunday 11 October: nothing
        date(2026, 10, 12): step("overdue1", own, leader),  # escalated to the leader role from 1 day overdue
        date(2026, 10, 13): step("overdue2", own, leader),
        date(2026, 10, 14): step("overdue3", own, leader, head),  # ... and to the head from 3 days
        date(2026, 10, 15): step("overdue4", own, leader, head),
        date(2026, 10, 16): step("overdue5", own, leader, head),
        # the weekend of 17-18 October: nothing
        date(2026, 10, 19): step("overdue6", own, leader, head),
        date(2026, 10, 20): step("overdue7", own, leader, head),
    }
    assert by_day == expected
    for holiday in days(date(2026, 10, 1), date(2026, 10, 7)):
        assert by_day[holiday] == []
    # A newer step supersedes the older ones still pending: on any day, what waits is the latest step only.
    latest: list[tuple[str, str]] = []
    for day, planned in expected.items():
        latest = planned or latest
        assert pending_by_day[day] == latest, day

    # The outbox holds exactly those rows, each due at the opening of its day, with the documented key; every
    # step but the last was cancelled when the next one was queued (none was ever tried).
    interp = deadline(wf, "interpretation:pol")
    rows = wf.notifications()
    want = {(s, p, day) for day, planned in expected.items() for s, p in planned}
    assert {(n.step, n.recipient, n.next_attempt_at.astimezone(CST).date()) for n in rows} == want
    assert len(rows) == len(want) == 1 + 1 + 3 + 3 + 4 * 5
    assert {(n.step, n.status) for n in rows} == {(s, "pending" if s == "overdue7" else "cancelled")
                                                  for s, _, _ in want}
    assert sorted((n.step, n.recipient) for n in wf.notifications(status="pending")) == expected[date(2026, 10, 20)]
    for n in rows:
        assert n.key == key(interp.id, DUE, n.step, n.recipient, "console")
        assert n.channel == "console" and n.attempts == 0 and n.sent_at is None
        assert n.deadline_id == interp.id
        assert n.next_attempt_at == local(n.next_attempt_at.astimezone(CST).date())
        escalated = n.recipient != "clerk"
        assert n.subject.startswith("【督办】") == escalated, n.subject
    texts = {r["key"]: r["text"] for r in outbox(wf)}
    escalation = texts[key(interp.id, DUE, "overdue3", "head", "console")]
    assert "督办 escalation: 责任人 clerk 已逾期 3 个工作日" in escalation
    assert "督办" not in texts[key(interp.id, DUE, "overdue3", "clerk", "console")]
    assert {r["due_on"] for r in outbox(wf)} == {DUE.isoformat()}
    assert (interp.status, interp.step, interp.next_at) == ("overdue", 7, local(date(2026, 10, 21)))


def test_the_step_names_before_and_on_the_due_day(town: Make) -> None:
    wf, clock = town()
    publish_policy(wf)
    plan = planner(wf)
    assert plan.plan(clock.set(local(date(2026, 10, 9), 8, 29))) == []  # the office is not open yet
    assert steps(plan.plan(clock.set(local(date(2026, 10, 9))))) == [("before1", "clerk")]
    d = deadline(wf, "interpretation:pol")
    assert (d.status, d.step, d.next_at) == ("open", -1, local(DUE))
    assert plan.plan(clock.set(local(date(2026, 10, 9), 17, 0))) == []
    assert steps(plan.plan(clock.set(local(DUE, 9, 0)))) == [("due", "clerk")]
    d = deadline(wf, "interpretation:pol")
    assert (d.status, d.step, d.next_at) == ("open", 0, local(date(2026, 10, 12)))
    assert d.status_on(date(2026, 10, 11)) == "overdue"  # overdue by the date, before any reminder says so


def test_catch_up_after_downtime_plans_only_the_latest_step(town: Make) -> None:
    """The daemon was down for the whole week: one reminder (overdue5) goes out, not five."""
    wf, clock = town()
    publish_policy(wf)
    plan = planner(wf)
    planned = plan.plan(clock.set(local(date(2026, 10, 16), 11, 0)))  # Friday: 12,13,14,15,16 = 5 days overdue
    assert steps(planned) == [("overdue5", p) for p in ("clerk", "head", "lead", "multi")]
    assert {n.step for n in wf.notifications()} == {"overdue5"}
    assert len(wf.notifications()) == 4
    # planned when the daemon came back, not at the (past) opening time
    assert {n.next_attempt_at for n in wf.notifications()} == {local(date(2026, 10, 16), 11, 0)}
    d = deadline(wf, "interpretation:pol")
    assert (d.status, d.step, d.next_at) == ("overdue", 5, local(date(2026, 10, 19)))
    # the rest of Friday, the night and the weekend add nothing; Monday morning is the next step
    for moment in (local(date(2026, 10, 16), 16, 0), local(date(2026, 10, 16), 23, 0), local(date(2026, 10, 17)),
                   local(date(2026, 10, 18), 12, 0), local(date(2026, 10, 19), 8, 0)):
        assert plan.plan(clock.set(moment)) == [], moment
    assert {p.step for p in plan.plan(clock.set(local(date(2026, 10, 19))))} == {"overdue6"}


def test_dry_run_writes_nothing_and_answers_what_would_be_queued(town: Make) -> None:
    wf, clock = town()
    publish_policy(wf)
    before = (outbox(wf), deadline(wf, "interpretation:pol"))
    moment = clock.set(local(date(2026, 10, 12)))
    dry = planner(wf).plan(moment, dry_run=True)
    assert (outbox(wf), deadline(wf, "interpretation:pol")) == before
    real = planner(wf).plan(moment)
    assert dry == real
    assert steps(real) == [("overdue1", p) for p in ("clerk", "lead", "multi")]


# -- idempotency ---------------------------------------------------------------------------------------------


def unique_rows(wf: Workflow) -> list[tuple[int, str, str, str, str]]:
    rows = [(r["deadline_id"], r["due_on"], r["step"], r["recipient"], r["channel"]) for r in outbox(wf)]
    assert len(rows) == len(set(rows)), "duplicate (deadline, due_on, step, recipient, channel)"
    keys = [r["key"] for r in outbox(wf)]
    assert len(keys) == len(set(keys)), "duplicate idempotency key"
    return sorted(rows)


def rewind(wf: Workflow, deadline_key: str) -> None:
    """Put a deadline back as it was before any reminder was planned for it."""
    first = local(date(2026, 10, 9)).astimezone(UTC).isoformat(timespec="microseconds")
    with wf.engine.begin() as c:
        c.execute(text("UPDATE zwgk_deadline SET step = NULL, status = 'open', next_at = :at WHERE key = :key"),
                  {"at": first, "key": deadline_key})


def test_planning_twice_at_the_same_time_adds_nothing(town: Make) -> None:
    wf, clock = town()
    publish_policy(wf)
    moment = clock.set(local(date(2026, 10, 14)))
    first = planner(wf).plan(moment)
    assert len(first) == 4
    rows = unique_rows(wf)
    assert planner(wf).plan(moment) == []  # a second planner, the same instant
    assert planner(wf).plan(moment + timedelta(minutes=5)) == []
    assert unique_rows(wf) == rows
    interp = deadline(wf, "interpretation:pol")
    assert sorted(r["key"] for r in outbox(wf)) == sorted(
        key(interp.id, DUE, "overdue3", p, "console") for p in ("clerk", "head", "lead", "multi"))


def test_the_outbox_unique_key_refuses_a_replanned_step(town: Make) -> None:
    """Even when a planner plans a step again (it read the deadline before another one moved it on), the unique
    key (deadline, due_on, step, recipient, channel) keeps the outbox free of duplicates."""
    wf, clock = town()
    publish_policy(wf)
    moment = clock.set(local(date(2026, 10, 14)))
    planner(wf).plan(moment)
    rows = outbox(wf)
    rewind(wf, "interpretation:pol")  # what a concurrent planner saw: the deadline before it was moved on
    planner(wf).plan(moment)
    assert outbox(wf) == rows
    unique_rows(wf)


def test_plan_reports_only_what_it_queued(town: Make, recorder: Recorder) -> None:
    wf, clock = town(rec_config())
    publish_policy(wf)
    moment = clock.set(local(date(2026, 10, 14)))
    assert len(planner(wf).plan(moment)) == 4
    rows = outbox(wf)
    rewind(wf, "interpretation:pol")
    again = planner(wf).plan(moment)
    assert again == [], "nothing was queued (every key was already in the outbox), yet it says it was"
    assert outbox(wf) == rows
    d = deadline(wf, "interpretation:pol")
    assert (d.status, d.step, d.next_at) == ("overdue", 3, local(date(2026, 10, 15)))  # moved on all the same
    # The daemon counts what the planner answers.
    rewind(wf, "interpretation:pol")
    assert Daemon(wf).plan().planned == 0


def test_concurrent_planners_create_no_duplicates(town: Make, db_url: str) -> None:
    """Four planners at once over twelve deadlines: threads on PostgreSQL (where each skips the deadlines
    another has locked), one after another on SQLite, where a writer holds the whole database."""
    wf, clock = town()
    for n in range(12):
        publish_policy(wf, f"pol{n}")
    moment = clock.set(local(date(2026, 10, 14)))
    pg = wf.engine.dialect.name == "postgresql"
    planners = [planner(wf) for _ in range(4)]
    results: list[list[Planned]] = []
    if pg:
        barrier = threading.Barrier(len(planners))
        errors: list[BaseException] = []

        def work(p: Planner) -> None:
            try:
                barrier.wait(timeout=30)
                results.append(p.plan(moment))
            except BaseException as e:  # reported below, in the test's thread
                errors.append(e)

        threads = [threading.Thread(target=work, args=(p,)) for p in planners]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        assert len(results) == len(planners)
    else:
        results = [p.plan(moment) for p in planners]
        assert [len(r) for r in results] == [48, 0, 0, 0]
    rows = unique_rows(wf)
    assert len(rows) == 12 * 4  # each deadline: overdue3 to clerk, head, lead, multi
    assert {(due, step) for _, due, step, _, _ in rows} == {(DUE.isoformat(), "overdue3")}
    # Each row is reported by the one planner that inserted it.
    reported = [p.key for r in results for p in r]
    assert sorted(reported) == sorted(r["key"] for r in outbox(wf))
    assert {d.step for d in wf.deadlines(status="overdue")} == {3}


def test_idempotency_keys_do_not_collide(town: Make, recorder: Recorder) -> None:
    # Person ids and channel names may contain '-': ("clerk", "backup-mail") and ("clerk-backup", "mail") made
    # one key zwgk-N-overdue1-clerk-backup-mail when '-' separated the parts; neither may contain ':'.
    config = parse({"channels": {"mail": {"type": "recording"}, "backup-mail": {"type": "recording"}},
                    "reminders": {"channels": ["mail", "backup-mail"]}})
    wf, clock = town(config)
    wf.add_person("clerk-backup", name="备岗", unit="gov", roles=["leader"], by=ADMIN)
    publish_policy(wf)
    planned = planner(wf).plan(clock.set(local(date(2026, 10, 12))))
    assert len(planned) == 8  # clerk, lead, multi, clerk-backup on two channels
    assert sorted((r["recipient"], r["channel"]) for r in outbox(wf)) == sorted(
        (p, c) for p in ("clerk", "clerk-backup", "lead", "multi") for c in ("mail", "backup-mail"))
    d = deadline(wf, "interpretation:pol")
    keys = {r["key"] for r in outbox(wf)}
    assert len(keys) == 8
    assert key(d.id, DUE, "overdue1", "clerk", "backup-mail") in keys
    assert key(d.id, DUE, "overdue1", "clerk-backup", "mail") in keys
    assert sender(wf).deliver().sent == 8
    assert sorted(m.key for m in recorder.delivered) == sorted(keys)


# -- meeting the deadline ------------------------------------------------------------------------------------------


def test_meeting_the_deadline_stops_further_reminders(town: Make) -> None:
    wf, clock = town()
    publish_policy(wf)
    plan = planner(wf)
    assert steps(plan.plan(clock.set(local(date(2026, 10, 9))))) == [("before1", "clerk")]
    clock.set(local(date(2026, 10, 9), 15, 0))
    publish_interpretation(wf, "pol")  # 谁起草、谁解读: published in time
    d = deadline(wf, "interpretation:pol")
    assert (d.status, d.next_at, d.closed_at) == ("met", None, local(date(2026, 10, 9), 15, 0))
    assert wf.item("pol").interpreted_by == ("jd",)
    for day in days(date(2026, 10, 10), date(2026, 10, 30)):
        assert plan.plan(clock.set(local(day, 10, 0))) == [], day
    assert [n.step for n in wf.notifications()] == ["before1"]
    assert wf.deadlines(overdue=True) == []


def test_a_queued_reminder_of_a_met_deadline_is_not_sent(town: Make, recorder: Recorder) -> None:
    wf, clock = town(rec_config())
    publish_policy(wf)
    daemon = Daemon(wf)
    clock.set(local(date(2026, 10, 12), 20, 0))  # the daemon comes back in the evening: overdue1 for the morning
    assert daemon.plan().planned == 3  # clerk, and lead and multi (escalated)
    clock.set(local(date(2026, 10, 13), 8, 0))
    publish_interpretation(wf, "pol")  # the clerk publishes it before the office opens
    assert deadline(wf, "interpretation:pol").status == "met"
    clock.set(local(date(2026, 10, 13), 8, 30))
    done = daemon.send()
    assert (done.sent, done.failed, done.dead) == (0, 0, 0)
    assert recorder.attempts == [], [m.key for m in recorder.attempts]
    assert {(r["status"], r["attempts"], r["claimed_by"]) for r in outbox(wf)} == {("cancelled", 0, None)}
    assert len(wf.notifications(status="cancelled")) == 3
    assert wf.notifications(status="pending") == []
    clock.advance(86400)
    assert daemon.send().sent == 0 and recorder.attempts == []  # cancelled stays cancelled


def test_reminders_queued_before_a_withholding_are_not_sent(town: Make, recorder: Recorder) -> None:
    """Withholding meets the review stage's deadline and cancels the duty to publish: neither reminds."""
    wf, clock = town(rec_config())
    new_info(wf, id="s1", body=BODY)  # to be published by 3 November
    wf.advance("s1", "submit", actor="clerk")  # the confidentiality review: due 9 October
    daemon = Daemon(wf)
    clock.set(local(date(2026, 11, 2), 20, 0))
    assert daemon.plan().planned > 1
    queued = {r["deadline_id"] for r in outbox(wf)}
    stage, duty = deadline(wf, "stage:s1:1:confidentiality_review"), deadline(wf, "proactive:s1")
    assert queued == {stage.id, duty.id}
    clock.set(local(date(2026, 11, 3), 8, 0))
    wf.advance("s1", "withhold", actor="sec", reason="涉及个人隐私", ground="art15")
    assert (deadline(wf, "stage:s1:1:confidentiality_review").status, deadline(wf, "proactive:s1").status) == (
        "met", "cancelled")
    clock.set(local(date(2026, 11, 3), 8, 30))
    assert daemon.send().sent == 0
    assert recorder.attempts == []
    assert {r["status"] for r in outbox(wf)} == {"cancelled"}


def test_a_claim_of_a_met_deadline_is_cancelled_once_its_lease_runs_out(town: Make, recorder: Recorder) -> None:
    wf, clock = town(rec_config({"lease_seconds": 120}))
    publish_policy(wf)
    planner(wf).plan(clock.set(local(date(2026, 10, 12))))
    recorder.script = [Crash()]
    a = sender(wf, "daemon-a")
    with pytest.raises(Crash):
        a.deliver()  # killed while sending the first of three
    assert len(recorder.attempts) == 1
    publish_interpretation(wf, "pol")
    b = sender(wf, "daemon-b")
    clock.advance(60)
    assert b.deliver().sent == 0
    assert {(r["status"], r["claimed_by"]) for r in outbox(wf)} == {("sending", "daemon-a")}  # still a's
    clock.advance(66)  # past the lease and the clock-skew margin (5 s)
    assert b.deliver().sent == 0
    assert {(r["status"], r["claimed_by"], r["claimed_until"]) for r in outbox(wf)} == {("cancelled", None, None)}
    assert len(recorder.attempts) == 1
    assert a.release() == 0  # nothing of a's is left to hand back


def test_a_restarted_deadline_reminds_again(town: Make) -> None:
    wf, clock = town()
    new_info(wf, id="d1", body=BODY)  # to be published within 20 working days: by 3 November
    plan = planner(wf)
    first_round = [steps(plan.plan(clock.set(local(day))))
                   for day in (date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4))]
    assert first_round == [[("before1", "clerk")], [("due", "clerk")],
                           [("overdue1", "clerk"), ("overdue1", "lead"), ("overdue1", "multi")]]
    clock.set(local(date(2026, 11, 4), 10, 0))
    wf.edit_item("d1", actor="clerk", formed_on=date(2026, 11, 4))  # changed: formed anew, 20 working days again
    d = deadline(wf, "proactive:d1")
    assert (d.due_on, d.step, d.status, d.next_at) == (date(2026, 12, 2), None, "open", local(date(2026, 12, 1)))
    second_round = {day: steps(plan.plan(clock.set(local(day)))) for day in days(date(2026, 11, 5), date(2026, 12, 3))}
    assert {day: s for day, s in second_round.items() if s} == {
        date(2026, 12, 1): [("before1", "clerk")],
        date(2026, 12, 2): [("due", "clerk")],
        date(2026, 12, 3): [("overdue1", "clerk"), ("overdue1", "lead"), ("overdue1", "multi")]}
    # The same steps again, told apart by the due day in the unique key and in the idempotency key.
    rows = unique_rows(wf)
    assert sorted((due, step, who) for _, due, step, who, _ in rows) == sorted(
        [(due.isoformat(), step, "clerk") for due in (date(2026, 11, 3), date(2026, 12, 2))
         for step in ("before1", "due")]
        + [(due.isoformat(), "overdue1", who) for due in (date(2026, 11, 3), date(2026, 12, 2))
           for who in ("clerk", "lead", "multi")])
    assert key(d.id, date(2026, 12, 2), "due", "clerk", "console") in {r["key"] for r in outbox(wf)}
    on_the_new_due_day = [(n.step, n.recipient) for n in wf.notifications()
                          if n.next_attempt_at == local(date(2026, 12, 2))]
    assert on_the_new_due_day == [("due", "clerk")]


def test_a_reminder_of_the_old_due_day_is_not_sent_after_a_restart(town: Make, recorder: Recorder) -> None:
    """Found as a bug (the clerk was told of a due day that no longer held); fixed by cancelling it."""
    wf, clock = town(rec_config())
    new_info(wf, id="d1", body=BODY)  # due 3 November
    daemon = Daemon(wf)
    clock.set(local(date(2026, 11, 2), 20, 0))
    assert daemon.plan().planned == 1  # before1 to the clerk, "due 2026-11-03", for the morning
    old = deadline(wf, "proactive:d1")
    clock.set(local(date(2026, 11, 3), 8, 0))
    wf.edit_item("d1", actor="clerk", formed_on=date(2026, 11, 3))  # formed anew: due 1 December
    d = deadline(wf, "proactive:d1")
    assert (d.id, d.due_on) == (old.id, date(2026, 12, 1))
    clock.set(local(date(2026, 11, 3), 8, 30))
    assert daemon.send().sent == 0
    assert recorder.attempts == [], "a reminder for a due day that no longer holds"
    assert [(r["due_on"], r["step"], r["status"], r["attempts"]) for r in outbox(wf)] == [
        ("2026-11-03", "before1", "cancelled", 0)]
    # The new due day has its own reminders, and they are sent.
    clock.set(local(date(2026, 11, 30)))
    assert daemon.plan().planned == 1
    assert daemon.send().sent == 1
    assert [(m.recipient.id, m.fields["due"]) for m in recorder.delivered] == [("clerk", "2026-12-01")]
    assert [(r["due_on"], r["step"], r["status"]) for r in outbox(wf)] == [
        ("2026-11-03", "before1", "cancelled"), ("2026-12-01", "before1", "sent")]


def test_a_stage_reminder_is_for_who_still_has_to_sign(town: Make) -> None:
    wf, clock = town()
    new_info(wf, id="s1", body=BODY)
    wf.advance("s1", "submit", actor="clerk")
    review = deadline(wf, "stage:s1:1:confidentiality_review")
    assert review.roles == ("confidentiality_reviewer", "proofreader")
    wf.advance("s1", "proofread", actor="proof")  # now only the confidentiality review is missing
    review = deadline(wf, "stage:s1:1:confidentiality_review")
    assert (review.roles, review.due_on) == (("confidentiality_reviewer",), date(2026, 10, 9))
    new_info(wf, id="s2", body=BODY)
    to_head_approval(wf, "s2")
    wf.advance("s2", "approve", actor="head")  # the head has approved; the publisher has yet to publish
    approval = deadline(wf, "stage:s2:1:head_approval")
    assert (approval.roles, approval.due_on) == (("publisher",), date(2026, 10, 9))
    planned = planner(wf).plan(clock.set(local(date(2026, 10, 9))))
    assert sorted(p.recipient for p in planned if p.deadline_id == review.id) == ["multi", "sec"]  # not proof
    assert sorted(p.recipient for p in planned if p.deadline_id == approval.id) == ["clerk", "multi"]  # not head


def test_roles_and_escalation_are_those_held_in_the_deadlines_unit(town: Make) -> None:
    """Roles are held in a unit: a stage's reminders go to who holds its roles there, and escalation to that
    unit's leader and head; a person's roles elsewhere, or the unit they work in, do not count."""
    wf, clock = town()
    wf.add_unit("station", name="平田乡农业综合服务站", kind="station", by=ADMIN)
    wf.add_person("clerk2", name="站办事员", unit="station", roles=["drafter"], by=ADMIN)
    wf.add_person("sec2", name="站保密审查", unit="station", roles=["confidentiality_reviewer"], by=ADMIN)
    wf.add_person("lead2", name="分管站长", unit="gov", by=ADMIN)  # works in gov, leads the station
    wf.grant("lead2", "leader", unit="station", by=ADMIN)
    wf.add_person("head2", name="站长", unit="station", roles=["head"], by=ADMIN)
    new_info(wf, id="st1", unit="station", drafter="clerk2", body=BODY)  # to be published by 3 November
    wf.advance("st1", "submit", actor="clerk2")  # the station's review: due 9 October
    new_info(wf, id="g1", body=BODY)  # gov's, also due 3 November
    stage, duty, gov = (deadline(wf, "stage:st1:1:confidentiality_review"), deadline(wf, "proactive:st1"),
                        deadline(wf, "proactive:g1"))
    assert (stage.unit, duty.unit, gov.unit) == ("station", "station", "gov")

    planned = planner(wf).plan(clock.set(local(date(2026, 10, 9))))  # the review is due
    assert steps([p for p in planned if p.deadline_id == stage.id]) == [("due", "sec2")]  # not sec, not multi

    planned = planner(wf).plan(clock.set(local(date(2026, 11, 6))))  # three working days overdue
    by_deadline = {d.id: sorted(p.recipient for p in planned if p.deadline_id == d.id) for d in (stage, duty, gov)}
    assert by_deadline == {
        stage.id: ["head2", "lead2", "sec2"],  # the station's leader and head, not gov's
        duty.id: ["clerk2", "head2", "lead2"],
        gov.id: ["clerk", "head", "lead", "multi"],  # gov's, not lead2 who works there
    }
    escalated = next(p for p in planned if p.deadline_id == duty.id and p.recipient == "head2")
    assert "督办 escalation: 责任人 站办事员 已逾期 3 个工作日" in escalated.text


def test_a_schedule_of_one_unit_reminds_who_holds_its_role_there(town: Make) -> None:
    config = parse({"schedule": [{"id": "st-fin", "title": "站财务收支", "cycle": "quarterly", "due_days": 15,
                                  "role": "drafter", "unit": "station", "category": "3.4"}]})
    wf, clock = town(config)
    wf.add_unit("station", name="平田乡农业综合服务站", kind="station", by=ADMIN)
    wf.add_person("clerk2", name="站办事员", unit="station", roles=["drafter"], by=ADMIN)
    wf.add_person("head2", name="站长", unit="station", roles=["head"], by=ADMIN)
    clock.set(local(date(2026, 10, 9), 9, 0))
    assert wf.roll_schedules() == ["periodic:st-fin:2026Q3"]  # due 27 October
    planned = planner(wf).plan(clock.set(local(date(2026, 10, 30))))  # three working days overdue
    assert steps(planned) == [("overdue3", "clerk2"), ("overdue3", "head2")]  # not gov's drafters, leader or head


def test_a_queued_stage_reminder_is_not_sent_to_who_has_signed_since(town: Make, recorder: Recorder) -> None:
    """Found as a bug (the proofreader was asked to sign what they had signed); fixed by cancelling theirs."""
    wf, clock = town(rec_config())
    new_info(wf, id="s1", body=BODY)
    wf.advance("s1", "submit", actor="clerk")  # the review is due 9 October
    daemon = Daemon(wf)
    clock.set(local(date(2026, 10, 8), 20, 0))
    assert daemon.plan().planned == 3  # before1 for the morning: multi, proof, sec
    clock.set(local(date(2026, 10, 9), 8, 0))
    wf.advance("s1", "proofread", actor="proof")
    assert {(r["recipient"], r["status"]) for r in outbox(wf)} == {
        ("multi", "pending"), ("proof", "cancelled"), ("sec", "pending")}  # in the signature's transaction
    clock.set(local(date(2026, 10, 9), 8, 30))
    assert daemon.send().sent == 2
    assert sorted(m.recipient.id for m in recorder.attempts) == ["multi", "sec"]
    assert {(r["recipient"], r["status"]) for r in outbox(wf)} == {
        ("multi", "sent"), ("proof", "cancelled"), ("sec", "sent")}


def test_a_newer_step_supersedes_what_is_still_pending_of_older_ones(town: Make, recorder: Recorder) -> None:
    """After an outage the recipient gets the latest step only: queuing a step cancels what is still pending of
    that deadline's older steps (tried or not); what was sent stays sent, other deadlines are not touched."""
    wf, clock = town(rec_config())
    publish_policy(wf)  # its interpretation is due 10 October
    clock.set(local(date(2026, 10, 8), 10, 0))
    publish_policy(wf, "pol2", title="平田乡垃圾分类实施方案")  # ... and this one's on 12 October: 9, 10, 12
    first, second = deadline(wf, "interpretation:pol"), deadline(wf, "interpretation:pol2")
    assert (first.due_on, second.due_on) == (DUE, date(2026, 10, 12))
    daemon = Daemon(wf)

    def outbox_of(d: Deadline) -> list[tuple[str, str, str]]:
        return sorted((r["step"], r["recipient"], r["status"]) for r in outbox(wf) if r["deadline_id"] == d.id)

    down = Result(False, "relay unreachable", retry=True)
    clock.set(local(date(2026, 10, 9)))
    assert daemon.plan().planned == 1
    recorder.script = [down]
    assert daemon.send().failed == 1  # tried, to be tried again
    assert outbox_of(first) == [("before1", "clerk", "pending")]

    clock.set(local(date(2026, 10, 10)))
    assert daemon.plan().planned == 2  # the due day of the first, the day before of the second
    assert outbox_of(first) == [("before1", "clerk", "cancelled"), ("due", "clerk", "pending")]
    assert outbox_of(second) == [("before1", "clerk", "pending")]  # another deadline's: untouched
    recorder.script = [down]
    assert daemon.send().failed == 1  # the channel rests for the pass after a failure

    clock.set(local(date(2026, 10, 12)))
    assert daemon.plan().planned == 4
    assert outbox_of(first) == [("before1", "clerk", "cancelled"), ("due", "clerk", "cancelled"),
                                ("overdue1", "clerk", "pending"), ("overdue1", "lead", "pending"),
                                ("overdue1", "multi", "pending")]
    assert outbox_of(second) == [("before1", "clerk", "cancelled"), ("due", "clerk", "pending")]
    assert daemon.send().sent == 4
    assert sorted((m.fields["due"], m.recipient.id) for m in recorder.delivered) == [
        ("2026-10-10", "clerk"), ("2026-10-10", "lead"), ("2026-10-10", "multi"), ("2026-10-12", "clerk")]
    assert [m.key for m in recorder.delivered if ":before1:" in m.key or ":due:" in m.key] == [
        key(second.id, date(2026, 10, 12), "due", "clerk", "rec")]

    clock.set(local(date(2026, 10, 13)))
    assert daemon.plan().planned == 6
    assert [s for s in outbox_of(first) if s[0] == "overdue1"] == [
        ("overdue1", "clerk", "sent"), ("overdue1", "lead", "sent"), ("overdue1", "multi", "sent")]
    assert [s for s in outbox_of(second) if s[0] == "due"] == [("due", "clerk", "sent")]  # sent stays sent
    tried = [r for r in outbox(wf) if r["status"] == "cancelled" and r["attempts"]]  # one a pass: the relay was down
    assert len(tried) == 2 and all(r["last_error"] == "relay unreachable" for r in tried)


# -- office hours ----------------------------------------------------------------------------------------------


def test_a_reminder_planned_at_night_waits_for_the_office_to_open(town: Make, recorder: Recorder) -> None:
    wf, clock = town(rec_config())
    publish_policy(wf)
    daemon = Daemon(wf)
    clock.set(local(date(2026, 10, 12), 20, 0))  # Monday evening: the daemon was down all day
    assert daemon.plan().planned == 3
    assert {n.next_attempt_at for n in wf.notifications()} == {local(date(2026, 10, 12), 20, 0)}
    for moment in (local(date(2026, 10, 12), 20, 0), local(date(2026, 10, 12), 23, 59),
                   local(date(2026, 10, 13), 3, 0), local(date(2026, 10, 13), 8, 29)):
        clock.set(moment)
        assert daemon.send().sent == 0, moment
    assert recorder.attempts == []
    assert {n.status for n in wf.notifications()} == {"pending"}
    clock.set(local(date(2026, 10, 13), 8, 30))
    assert daemon.send().sent == 3
    assert sorted(m.recipient.id for m in recorder.delivered) == ["clerk", "lead", "multi"]
    assert {n.sent_at for n in wf.notifications()} == {local(date(2026, 10, 13), 8, 30)}
    assert {n.status for n in wf.notifications()} == {"sent"}


def test_after_closing_on_friday_the_reminder_goes_out_on_monday(town: Make, recorder: Recorder) -> None:
    wf, clock = town(rec_config())
    publish_policy(wf)
    daemon = Daemon(wf)
    clock.set(local(date(2026, 10, 16), 17, 30))  # Friday, the office has just closed
    assert daemon.plan().planned == 4  # overdue5
    for moment in (local(date(2026, 10, 16), 17, 30), local(date(2026, 10, 17), 10, 0),
                   local(date(2026, 10, 18), 10, 0), local(date(2026, 10, 19), 8, 0)):
        clock.set(moment)
        assert daemon.send().sent == 0, moment
    clock.set(local(date(2026, 10, 19), 9, 0))
    assert daemon.send().sent == 4
    assert {m.fields["step"] for m in recorder.delivered} == {"overdue5"}


def test_without_office_hours_the_reminder_goes_out_at_night(town: Make, recorder: Recorder) -> None:
    wf, clock = town(rec_config({"office_hours_only": False}))
    publish_policy(wf)
    daemon = Daemon(wf)
    clock.set(local(date(2026, 10, 11), 20, 0))  # a Sunday evening: the due day's reminder was never planned
    assert daemon.plan().planned == 1
    assert daemon.send().sent == 1
    assert [m.fields["step"] for m in recorder.delivered] == ["due"]


# -- retries and dead letters ----------------------------------------------------------------------------------


def failing(n: int, detail: str = "451 try again later") -> list[Result | BaseException]:
    return [Result(False, detail, retry=True) for _ in range(n)]


def one_row(wf: Workflow) -> dict[str, Any]:
    rows = outbox(wf)
    assert len(rows) == 1, rows
    return rows[0]


def when(row: dict[str, Any], column: str = "next_attempt_at") -> datetime:
    return datetime.fromisoformat(row[column])


def test_transient_failures_back_off_then_dead_letter(town: Make, recorder: Recorder) -> None:
    wf, clock = town(rec_config({"max_attempts": 5, "backoff_seconds": 60, "backoff_max_seconds": 200}))
    publish_policy(wf)
    planner(wf).plan(clock.set(local(date(2026, 10, 9))))  # before1, to the clerk
    recorder.script = failing(5)
    s = sender(wf)
    ceilings = [60, 120, 200, 200]  # 60 doubling, capped at backoff_max_seconds
    for attempt, ceiling in enumerate(ceilings, start=1):
        tally = s.deliver()
        assert (tally.sent, tally.failed, tally.dead) == (0, 1, 0)
        row = one_row(wf)
        assert (row["status"], row["attempts"], row["last_error"]) == ("pending", attempt, "451 try again later")
        assert (row["claimed_by"], row["claimed_until"], row["sent_at"]) == (None, None, None)
        wait = (when(row) - clock.now).total_seconds()
        assert ceiling / 2 <= wait <= ceiling, (attempt, wait)
        assert s.deliver().failed == 0  # not due again yet: nothing is claimed
        clock.set(when(row) - timedelta(microseconds=1))
        assert s.deliver().failed == 0
        clock.set(when(row))
    tally = s.deliver()
    assert (tally.sent, tally.failed, tally.dead) == (0, 1, 1)
    row = one_row(wf)
    assert (row["status"], row["attempts"], row["last_error"]) == ("dead", 5, "451 try again later")
    assert len(recorder.attempts) == 5
    clock.advance(86400)
    assert s.deliver().failed == 0  # the dead stay dead
    assert len(recorder.attempts) == 5
    assert [n.key for n in wf.notifications(status="dead")] == [row["key"]]
    assert wf.notifications(status="pending") == []


def test_a_permanent_failure_is_dead_at_once(town: Make, recorder: Recorder) -> None:
    wf, clock = town(rec_config())
    publish_policy(wf)
    planner(wf).plan(clock.set(local(date(2026, 10, 9))))
    recorder.script = [Result(False, "550 5.1.1 no such user", retry=False)]
    tally = sender(wf).deliver()
    assert (tally.sent, tally.failed, tally.dead) == (0, 1, 1)
    row = one_row(wf)
    assert (row["status"], row["attempts"], row["last_error"]) == ("dead", 1, "550 5.1.1 no such user")
    clock.advance(86400)
    assert sender(wf).deliver().failed == 0
    assert len(recorder.attempts) == 1


def test_a_notifier_that_raises_is_a_transient_failure(town: Make, recorder: Recorder) -> None:
    wf, clock = town(rec_config({"backoff_seconds": 30}))
    publish_policy(wf)
    planner(wf).plan(clock.set(local(date(2026, 10, 9))))
    recorder.script = [RuntimeError("plugin bug: 'NoneType' has no attribute 'x'")]
    tally = sender(wf).deliver()
    assert (tally.sent, tally.failed, tally.dead) == (0, 1, 0)
    row = one_row(wf)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"] == "RuntimeError: plugin bug: 'NoneType' has no attribute 'x'"
    assert 15 <= (when(row) - clock.now).total_seconds() <= 30
    clock.set(when(row))
    assert sender(wf).deliver().sent == 1
    row = one_row(wf)
    assert (row["status"], row["attempts"], row["last_error"], when(row, "sent_at")) == (
        "sent", 2, None, clock.now)
    assert [m.key for m in recorder.delivered] == [row["key"]]


# -- claims: release and expired leases ---------------------------------------------------------------------------


def test_release_hands_back_what_was_claimed_but_not_sent(town: Make, recorder: Recorder) -> None:
    wf, clock = town(rec_config())
    publish_policy(wf)
    planner(wf).plan(clock.set(local(date(2026, 10, 12))))  # overdue1: three notifications
    stopping = threading.Event()
    recorder.after_send = lambda _m: stopping.set()  # SIGTERM arrives while the first one is being sent
    a = sender(wf, "daemon-a")
    tally = a.deliver(stop=stopping.is_set)
    assert (tally.sent, tally.failed) == (1, 0)
    rows = outbox(wf)
    assert sorted((r["status"], r["attempts"], r["claimed_by"]) for r in rows) == [
        ("pending", 0, None), ("pending", 0, None), ("sent", 1, None)]
    assert a.release() == 0  # already handed back
    recorder.after_send = None
    assert sender(wf, "daemon-b").deliver().sent == 2
    assert sorted(m.key for m in recorder.delivered) == sorted(r["key"] for r in rows)
    assert {r["status"] for r in outbox(wf)} == {"sent"}


def test_release_after_a_crash_and_lease_expiry(town: Make, recorder: Recorder) -> None:
    wf, clock = town(rec_config({"lease_seconds": 120}))
    publish_policy(wf)
    planner(wf).plan(clock.set(local(date(2026, 10, 12))))
    keys = sorted(r["key"] for r in outbox(wf))
    recorder.script = [Crash()]
    a = sender(wf, "daemon-a")
    with pytest.raises(Crash):
        a.deliver()  # killed while sending the first of its claim
    claimed = outbox(wf)
    assert {(r["status"], r["claimed_by"], r["attempts"]) for r in claimed} == {("sending", "daemon-a", 1)}
    assert {when(r, "claimed_until") for r in claimed} == {clock.now + timedelta(seconds=120)}

    b = sender(wf, "daemon-b")
    clock.advance(119)
    assert b.deliver().sent == 0  # the lease still holds
    assert recorder.delivered == []
    clock.advance(5)
    assert b.deliver().sent == 0  # expired, but within the clock-skew margin (5 s)
    clock.advance(2)
    assert b.deliver().sent == 3  # claimed again by another sender, with the same keys
    assert sorted(m.key for m in recorder.delivered) == keys
    assert {(r["status"], r["attempts"], r["claimed_by"]) for r in outbox(wf)} == {("sent", 2, None)}
    assert a.release() == 0


def test_a_sender_whose_lease_ran_out_counts_nothing_it_no_longer_holds(town: Make, recorder: Recorder) -> None:
    """Daemon a is so slow (paused) that its lease runs out while it sends; daemon b claims the three and sends them.
    a's late mark (a failure) changes nothing and is not counted, and a, its channel failed, stops for the pass."""
    wf, clock = town(rec_config({"lease_seconds": 120}))
    publish_policy(wf)
    planner(wf).plan(clock.set(local(date(2026, 10, 12))))
    keys = sorted(r["key"] for r in outbox(wf))
    b_tally: list[Any] = []

    def meanwhile(_m: Message) -> None:
        recorder.after_send = None
        clock.advance(126)  # past the lease and the clock-skew margin
        b_tally.append(sender(wf, "daemon-b").deliver())

    recorder.script = [Result(False, "451 busy", retry=True)]  # a's first attempt fails, after b has taken over
    recorder.after_send = meanwhile
    a_tally = sender(wf, "daemon-a").deliver()
    assert (a_tally.sent, a_tally.failed, a_tally.dead) == (0, 0, 0)
    assert [(t.sent, t.failed) for t in b_tally] == [(3, 0)]
    assert {(r["status"], r["attempts"], r["claimed_by"], r["last_error"]) for r in outbox(wf)} == {
        ("sent", 2, None, None)}
    # At least once: what a was sending when paused went out twice, under the same idempotency key.
    assert sorted({m.key for m in recorder.attempts}) == keys
    assert len(recorder.attempts) == 4


def test_release_returns_the_claim_of_a_stopped_sender(town: Make, recorder: Recorder) -> None:
    wf, clock = town(rec_config())
    publish_policy(wf)
    planner(wf).plan(clock.set(local(date(2026, 10, 12))))
    recorder.script = [Crash()]
    a = sender(wf, "daemon-a")
    with pytest.raises(Crash):
        a.deliver()
    assert sender(wf, "daemon-b").release() == 0  # only one's own claims
    assert a.release() == 3
    assert {(r["status"], r["attempts"], r["claimed_by"], r["claimed_until"]) for r in outbox(wf)} == {
        ("pending", 0, None, None)}
    assert sender(wf, "daemon-b").deliver().sent == 3  # no need to wait for the lease


def test_concurrent_senders_deliver_each_notification_once(pg_url: str, recorder: Recorder) -> None:
    clock = Clock(PUBLISHED_AT)
    with Workflow(pg_url, clock=clock, config=rec_config({"batch": 5})) as wf:
        seed(wf)
        for n in range(6):
            publish_policy(wf, f"pol{n}")
        planner(wf).plan(clock.set(local(date(2026, 10, 14))))
        assert len(outbox(wf)) == 24
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def work(me: str) -> None:
            try:
                barrier.wait(timeout=30)
                sender(wf, me).deliver()
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=work, args=(f"daemon-{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        keys = [m.key for m in recorder.delivered]
        assert sorted(keys) == sorted(r["key"] for r in outbox(wf))
        assert {(r["status"], r["attempts"]) for r in outbox(wf)} == {("sent", 1)}


# -- e-mail, for real ----------------------------------------------------------------------------------------------


class Collector:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 queued"

    def messages(self) -> list[email.message.EmailMessage]:
        out = []
        for env in self.envelopes:
            raw = env.original_content or env.content
            assert isinstance(raw, bytes)
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, email.message.EmailMessage)
            out.append(parsed)
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_on() -> Iterator[Callable[[int], Collector]]:
    """`smtp_on(port)` starts an aiosmtpd server on 127.0.0.1:port; stopped after the test."""
    controllers: list[Controller] = []

    def start(port: int) -> Collector:
        handler = Collector()
        controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="mail.test")
        controller.start()
        controllers.append(controller)
        return handler

    yield start
    for c in controllers:
        c.stop()


MAILED = {  # the plan's people, some with an e-mail address
    "clerk": (["drafter", "publisher"], "clerk@town.example"),
    "proof": (["proofreader"], None),
    "sec": (["confidentiality_reviewer"], None),
    "lead": (["leader"], None),
    "head": (["head"], "head@town.example"),
}


def seed_mailed(wf: Workflow) -> None:
    wf.init(admin=ADMIN, name="党政办登记管理员", simulation=True)
    wf.add_unit("gov", name="平田乡人民政府", by=ADMIN)
    for pid, (roles, address) in MAILED.items():
        wf.add_person(pid, name=f"{pid}同志", unit="gov", roles=roles, email=address, by=ADMIN)


def email_settings(port: int) -> dict[str, Any]:
    return {"type": "email", "host": "127.0.0.1", "port": port, "sender": "政务公开 <zwgk@town.example>",
            "timeout": 5, "local_hostname": "zwgk.test"}


def test_email_while_the_server_is_down_is_retried_then_delivered_once(
        town: Make, smtp_on: Callable[[int], Collector]) -> None:
    port = free_port()  # nothing listens here until the server is started below
    config = parse({"channels": {"email": email_settings(port)},
                    "reminders": {"channels": ["email"], "backoff_seconds": 60}})
    wf, clock = town(config, people=seed_mailed)
    publish_policy(wf)
    with captured_logs() as logs:
        planned = planner(wf).plan(clock.set(local(date(2026, 10, 14))))  # overdue3: clerk, lead, head
    assert sorted((p.recipient, p.channel, p.address) for p in planned) == [
        ("clerk", "email", "clerk@town.example"), ("head", "email", "head@town.example")]
    unreachable = [e for e in logs if e["event"] == "recipient_unreachable"]
    assert [(e["person"], e["log_level"]) for e in unreachable] == [("lead", "warning")]
    rows = {r["recipient"]: r for r in outbox(wf)}
    assert set(rows) == {"clerk", "head"}

    s = sender(wf)
    for attempt in (1, 2):  # the server is down: connection refused, a transient failure
        for _ in rows:  # one message a pass: the channel rests for the pass after a failure
            tally = s.deliver()
            assert (tally.sent, tally.failed, tally.dead) == (0, 1, 0)
            clock.set(max(when(r) for r in outbox(wf)))
        for r in outbox(wf):
            assert (r["status"], r["attempts"]) == ("pending", attempt)
            assert "ConnectionRefusedError" in r["last_error"], r["last_error"]

    collector = smtp_on(port)
    tally = s.deliver()
    assert (tally.sent, tally.failed) == (2, 0)
    assert {(r["status"], r["attempts"], r["last_error"]) for r in outbox(wf)} == {("sent", 3, None)}
    clock.advance(3600)
    assert s.deliver().sent == 0
    assert sender(wf, "another").deliver().sent == 0

    assert len(collector.envelopes) == 2  # delivered exactly once each
    by_key = {r["key"]: r for r in outbox(wf)}
    for env, mail in zip(collector.envelopes, collector.messages(), strict=True):
        row = by_key[mail["X-Zwgk-Idempotency-Key"]]
        assert row["key"] == key(row["deadline_id"], DUE, "overdue3", row["recipient"], "email")
        assert env.rcpt_tos == [row["address"]] == [MAILED[row["recipient"]][1]]
        assert mail["Subject"] == row["subject"]
        assert mail.get_content().rstrip("\n") == row["text"]
        assert BODY not in mail.as_string()
    assert {m["X-Zwgk-Idempotency-Key"] for m in collector.messages()} == set(by_key)


def test_a_person_without_email_gets_the_other_channels(town: Make, recorder: Recorder) -> None:
    closed = free_port()
    wf, clock = town(rec_config(email=email_settings(closed)), people=seed_mailed)
    publish_policy(wf)
    with captured_logs() as logs:
        planned = planner(wf).plan(clock.set(local(date(2026, 10, 14))))
    assert sorted((p.recipient, p.channel) for p in planned) == [
        ("clerk", "email"), ("clerk", "rec"), ("head", "email"), ("head", "rec"), ("lead", "rec")]
    assert [e for e in logs if e["event"] == "recipient_unreachable"] == []


def test_nobody_reachable_is_logged_for_each_person(town: Make) -> None:
    wf, clock = town(parse({"channels": {"email": email_settings(free_port())}, "reminders": {"channels": ["email"]}}))
    publish_policy(wf)  # seed(): nobody has an e-mail address
    with captured_logs() as logs:
        planned = planner(wf).plan(clock.set(local(date(2026, 10, 12))))
    assert planned == [] and outbox(wf) == []
    assert sorted(e["person"] for e in logs if e["event"] == "recipient_unreachable") == ["clerk", "lead", "multi"]
    d = deadline(wf, "interpretation:pol")
    assert (d.step, d.status) == (1, "overdue")  # the step is done with: no reminder piles up for later


# -- what a message says ------------------------------------------------------------------------------------------


def test_messages_say_what_who_and_when_but_never_the_body(town: Make) -> None:
    wf, clock = town()
    clock.set(local(date(2026, 7, 1), 9, 0))
    assert wf.roll_schedules() == ["periodic:finance:2026Q2", "periodic:indicators:2026Q2",
                                   "periodic:self-assessment:2026H1"]
    clock.set(PUBLISHED_AT)
    publish_policy(wf)  # interpretation, asked for by the publishing signature of clerk
    new_info(wf, id="d1", title="2026年第三季度财务收支", body=BODY, drafter="drafter2")  # proactive, 20 days
    new_info(wf, id="s1", title="关于秋季防火的通告", body=BODY)
    wf.advance("s1", "submit", actor="clerk")  # waits at proofreading / confidentiality review: a stage deadline
    planned = planner(wf).plan(clock.set(local(date(2026, 11, 4), 9, 0)))
    by_kind = {d.kind: d for d in wf.deadlines(status="overdue")}
    assert {d.key for d in wf.deadlines(status="overdue")} == {
        "periodic:finance:2026Q2", "periodic:indicators:2026Q2", "periodic:self-assessment:2026H1",
        "interpretation:pol", "proactive:d1", "proactive:s1", "stage:s1:1:confidentiality_review"}
    assert {p.deadline_id for p in planned} == {d.id for d in wf.deadlines(status="overdue")}

    rows = outbox(wf)
    assert rows
    for r in rows:
        for column, value in r.items():
            assert BODY not in str(value), (column, r["key"])
    deadlines = {d.id: d for d in wf.deadlines()}
    for r in rows:
        d = deadlines[r["deadline_id"]]
        fields = json.loads(r["fields"])
        assert d.title in r["subject"] and d.title in r["text"]
        assert f"期限 due: {d.due_on.isoformat()}" in r["text"]
        assert "要求 to do: " in r["text"] and "提醒来自 asked by: " in r["text"]
        assert (fields["deadline"], fields["kind"], fields["due"], fields["title"], fields["step"]) == (
            str(d.id), d.kind, d.due_on.isoformat(), d.title, r["step"])
        if d.item_id:
            assert d.item_id in r["subject"] and fields["item"] == d.item_id
        else:
            assert d.period and d.period in r["subject"] and fields["period"] == d.period
        assert fields["to_do"] in r["text"]

    def text_of(deadline_key: str, recipient: str) -> str:
        d = deadline(wf, deadline_key)
        return str(next(r["text"] for r in rows if r["deadline_id"] == d.id and r["recipient"] == recipient))

    interp = text_of("interpretation:pol", "clerk")
    assert "发布该政策的解读" in interp
    assert f"clerk 的签署（第 {by_kind['interpretation'].id} 号期限）" in interp
    assert f"事项 item: pol {TITLE}" in interp
    assert "2026-10-10" in interp
    assert "提醒来自 asked by: drafter2 的签署" in text_of("proactive:d1", "drafter2")
    assert "完成审核并发布" in text_of("proactive:d1", "drafter2")
    stage = text_of("stage:s1:1:confidentiality_review", "proof")
    assert "在本环节签署" in stage and "保密审查人" in stage and "校对人" in stage
    assert "提醒来自 asked by: clerk 的签署" in stage
    finance = text_of("periodic:finance:2026Q2", "drafter2")
    assert "提醒来自 asked by: 定期公开计划 finance" in finance and "发布本期定期公开信息" in finance
    duty = deadline(wf, "periodic:self-assessment:2026H1")
    assert f"zwgk deadline done {duty.id} --as" in text_of("periodic:self-assessment:2026H1", "head")


# -- the year boundary ----------------------------------------------------------------------------------------------


OVERRIDES_2027 = """
[2027]
holidays = ["2027-01-01", "2027-02-05..2027-02-13"]
workdays = ["2027-01-02", "2027-02-14"]
"""


def test_a_due_date_in_an_unknown_year_is_provisional_until_the_calendar_knows_it(town: Make) -> None:
    wf, clock = town(clock=Clock(local(date(2026, 2, 10), 10, 0)))  # the office set up in February
    new_info(wf, id="lt", kind="info", category="1.1", timing="long_term", title="村务公开栏管理制度")
    publish(wf, "lt")  # long-term: is it still current? asked again in 12 months, 2027-02-10
    clock.set(local(date(2026, 12, 30), 10, 0))
    publish_policy(wf)  # interpretation: 31 December, then 2027
    interp, reconf = deadline(wf, "interpretation:pol"), deadline(wf, "reconfirm:lt:1")
    assert (interp.due_on, interp.provisional) == (date(2027, 1, 5), True)  # 31 Dec, 4 and 5 Jan 2027
    assert (reconf.due_on, reconf.provisional) == (date(2027, 2, 10), True)
    assert {d.key for d in wf.deadlines(status="open") if d.provisional} == {"interpretation:pol", "reconfirm:lt:1"}
    assert wf.recompute_deadlines() == []  # the calendar has not changed: nothing to do

    # A provisional reminder says so.
    planned = planner(wf).plan(clock.set(local(date(2027, 1, 4), 9, 0)))
    assert [p.step for p in planned] == ["before1"]
    assert "（暂定：该年度放假安排未公布）" in planned[0].text and planned[0].fields["provisional"] == "yes"

    # The office publishes next year's schedule (a working Saturday 2 January, Spring Festival 5-13 February).
    clock.set(local(date(2027, 1, 4), 10, 0))
    wf.use_calendar(WorkCalendar(load_overrides(OVERRIDES_2027, source="cal.toml")))
    changed = wf.recompute_deadlines()
    assert sorted(changed) == sorted([(interp.id, date(2027, 1, 5), date(2027, 1, 4)),
                                      (reconf.id, date(2027, 2, 10), date(2027, 2, 14))])
    interp, reconf = deadline(wf, "interpretation:pol"), deadline(wf, "reconfirm:lt:1")
    assert (interp.due_on, interp.provisional, interp.step, interp.status) == (date(2027, 1, 4), False, None, "open")
    assert (reconf.due_on, reconf.provisional) == (date(2027, 2, 14), False)  # the working Sunday after the holiday
    assert reconf.next_at == local(date(2027, 2, 4))  # the working day before it, across the holiday
    assert interp.next_at == local(date(2027, 1, 2))
    assert [d.key for d in wf.deadlines(status="open") if d.provisional] == []
    assert wf.recompute_deadlines() == []

    # Reminders follow the new dates: today (4 January) is now the due day.
    planned = planner(wf).plan(clock.now)
    assert [(p.step, p.fields["provisional"]) for p in planned] == [("due", "no")]
    assert "（暂定" not in planned[0].text


def test_a_calendar_that_confirms_the_provisional_date_clears_the_flag_only(town: Make) -> None:
    wf, clock = town()
    clock.set(local(date(2026, 12, 30), 10, 0))
    publish_policy(wf)
    before = deadline(wf, "interpretation:pol")
    assert (before.due_on, before.provisional) == (date(2027, 1, 5), True)
    wf.use_calendar(WorkCalendar(load_overrides('[2027]\nholidays = ["2027-01-01..2027-01-03"]\n', source="c")))
    assert wf.recompute_deadlines() == []  # the date stands
    after = deadline(wf, "interpretation:pol")
    assert (after.due_on, after.provisional, after.next_at) == (date(2027, 1, 5), False, before.next_at)
