"""Deadlines: the Timeline's working-day arithmetic, and the deadlines that signatures, schedules and hand
completion open and close, on SQLite and PostgreSQL.

Dates used throughout (chinese_calendar's 2026): Mid-Autumn 2026-09-25..27 and National Day 2026-10-01..07
are holidays; Sun 2026-09-20 and Sat 2026-10-10 are working days. 2026-09-30 is a Wednesday. 2027 is not
known to the package: its answers are provisional (Mon–Fri minus 1 Jan, 1–2 May and 1–3 Oct).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from states import parse_pipeline
from tests.clocking import sh
from tests.conftest import ADMIN, new_info, publish, to_head_approval
from workflow import Workflow, reminders, sql, uow
from workflow import schema as t
from workflow.config import Config, parse
from workflow.deadlines import STATUSES, Timeline
from workflow.duties import Deadline
from workflow.errors import InvalidInput, NotFound
from workflow.workdays import Due, WorkCalendar

TIMELINE = Timeline(Config())

# The office publishes 2027's schedule (a made-up one: New Year 1–4 Jan, Spring Festival 6–13 Feb, ...).
OVERRIDE_2027 = """
[2027]
holidays = ["2027-01-01..2027-01-04", "2027-02-06..2027-02-13", "2027-10-01..2027-10-07"]
workdays = ["2027-02-14", "2027-10-09"]
"""


def opening_utc(y: int, m: int, d: int) -> datetime:
    """08:30 in Shanghai on that day, as the UTC instant the database stores."""
    return datetime(y, m, d, 0, 30, tzinfo=UTC)


# --- Timeline: pure working-day arithmetic ------------------------------------------------------------------

@pytest.mark.parametrize(("starts_on", "days", "due"), [
    # Wed 30 Sep + 20 (Regulation Art. 26): Oct 8, 9, Sat 10 (3), 12–16 (8), 19–23 (13), 26–30 (18), Nov 2, 3.
    (date(2026, 9, 30), 20, Due(date(2026, 11, 3), False)),
    # + 3 (interpretation): Thu Oct 8, Fri Oct 9, the working Saturday Oct 10.
    (date(2026, 9, 30), 3, Due(date(2026, 10, 10), False)),
    (date(2026, 9, 30), 2, Due(date(2026, 10, 9), False)),
    # Thu 24 Sep + 1: Mid-Autumn Fri 25 – Sun 27 rests, Mon 28.
    (date(2026, 9, 24), 1, Due(date(2026, 9, 28), False)),
    (date(2026, 12, 15), 5, Due(date(2026, 12, 22), False)),
    # Into 2027, which nobody has published yet: 1 Jan rests, Jan 4, 5, 6.
    (date(2026, 12, 31), 3, Due(date(2027, 1, 6), True)),
    # No count: due that day, or the next working day if it is not one.
    (date(2026, 10, 3), None, Due(date(2026, 10, 8), False)),
    (date(2026, 10, 10), None, Due(date(2026, 10, 10), False)),
    (date(2026, 10, 11), None, Due(date(2026, 10, 12), False)),
    (date(2027, 1, 31), None, Due(date(2027, 2, 1), True)),  # the annual report: Sun 31 Jan
])
def test_due_known_answers(starts_on: date, days: int | None, due: Due) -> None:
    assert TIMELINE.due(starts_on, days) == due


def test_steps_count_working_days_around_the_due_day() -> None:
    due = date(2026, 10, 9)  # Fri
    assert [TIMELINE.day(due, k) for k in range(-5, 3)] == [
        date(2026, 9, 24),  # -5: Mid-Autumn Sep 25–27 skipped
        date(2026, 9, 28), date(2026, 9, 29), date(2026, 9, 30),  # -4, -3, -2: National Day skipped
        date(2026, 10, 8),  # -1
        date(2026, 10, 9),  # the due day
        date(2026, 10, 10),  # +1: the working Saturday
        date(2026, 10, 12),  # +2: Sunday skipped
    ]
    assert TIMELINE.at(due, -2) == opening_utc(2026, 9, 30)
    assert TIMELINE.at(due, 1) == opening_utc(2026, 10, 10)


@pytest.mark.parametrize(("now", "step"), [
    (sh(2026, 10, 8, 8, 29, 59, 999999), None),  # before the first step (one working day before) opens
    (sh(2026, 10, 8, 8, 30), -1),
    (sh(2026, 10, 9, 8, 29, 59), -1),
    (sh(2026, 10, 9, 8, 30), 0),
    (datetime(2026, 10, 9, 0, 29, 59, tzinfo=UTC), -1),  # the same instants given in UTC
    (datetime(2026, 10, 9, 0, 30, tzinfo=UTC), 0),
    (sh(2026, 10, 9, 23, 0), 0),
    (sh(2026, 10, 10, 8, 30), 1),  # the working Saturday
    (sh(2026, 10, 11, 12, 0), 1),  # Sunday: still one working day overdue
    (sh(2026, 10, 12, 8, 29), 1),
    (sh(2026, 10, 12, 8, 30), 2),
])
def test_reached_steps_of_a_deadline_due_friday_9_october(now: datetime, step: int | None) -> None:
    assert TIMELINE.reached(date(2026, 10, 9), now) == step


def test_a_holiday_keeps_the_step_reached_before_it() -> None:
    # Due Thu 8 Oct: the step before is Wed 30 Sep, and all through National Day that is where it stands.
    due = date(2026, 10, 8)
    assert TIMELINE.at(due, -1) == opening_utc(2026, 9, 30)
    assert TIMELINE.reached(due, sh(2026, 9, 30, 8, 29)) is None
    assert TIMELINE.reached(due, sh(2026, 10, 4, 12)) == -1
    assert TIMELINE.reached(due, sh(2026, 10, 8, 8, 30)) == 0


def test_before_days_sets_the_first_step() -> None:
    three = Timeline(parse({"reminders": {"before_days": 3}}))
    due = date(2026, 10, 9)
    assert three.at(due, -3) == opening_utc(2026, 9, 29)
    assert three.reached(due, sh(2026, 9, 28, 17)) is None
    assert three.reached(due, sh(2026, 9, 29, 9)) == -3
    assert three.reached(due, sh(2026, 9, 30, 9)) == -2
    none_before = Timeline(parse({"reminders": {"before_days": 0}}))
    assert none_before.reached(due, sh(2026, 10, 8, 9)) is None
    assert none_before.reached(due, sh(2026, 10, 9, 8, 30)) == 0


@pytest.mark.parametrize(("now", "open_"), [
    (sh(2026, 10, 8, 8, 29, 59), False),
    (sh(2026, 10, 8, 8, 30), True),
    (sh(2026, 10, 9, 17, 29, 59), True),
    (sh(2026, 10, 9, 17, 30), False),  # closing time is outside
    (sh(2026, 10, 10, 9), True),  # the working Saturday
    (sh(2026, 10, 11, 9), False),  # Sunday
    (sh(2026, 10, 5, 9), False),  # National Day
    (datetime(2026, 10, 9, 1, 0, tzinfo=UTC), True),  # 09:00 in Shanghai
])
def test_office_hours(now: datetime, open_: bool) -> None:
    assert TIMELINE.in_office_hours(now) is open_


@pytest.mark.parametrize(("now", "opening"), [
    (sh(2026, 10, 9, 18), sh(2026, 10, 10, 8, 30)),  # Friday evening: the working Saturday
    (sh(2026, 9, 30, 18), sh(2026, 10, 8, 8, 30)),  # the eve of National Day: after the holiday
    (sh(2026, 10, 3, 7), sh(2026, 10, 8, 8, 30)),  # a holiday morning
    (sh(2026, 10, 8, 7), sh(2026, 10, 8, 8, 30)),  # a working morning: today
    (sh(2026, 10, 11, 7), sh(2026, 10, 12, 8, 30)),  # Sunday
    (sh(2026, 10, 8, 10), sh(2026, 10, 8, 10)),  # open: now
])
def test_next_opening(now: datetime, opening: datetime) -> None:
    assert TIMELINE.next_opening(now) == opening


def test_the_office_hours_and_time_zone_come_from_the_configuration() -> None:
    urumqi = Timeline(parse({"office": {"timezone": "Asia/Urumqi", "opens": "10:00", "closes": "19:30"}}))
    due = date(2026, 10, 9)
    assert urumqi.at(due, 0) == datetime(2026, 10, 9, 4, 0, tzinfo=UTC)  # 10:00 at UTC+6
    assert urumqi.reached(due, datetime(2026, 10, 9, 3, 59, tzinfo=UTC)) == -1
    assert urumqi.reached(due, datetime(2026, 10, 9, 4, 0, tzinfo=UTC)) == 0
    assert urumqi.in_office_hours(datetime(2026, 10, 9, 13, 29, tzinfo=UTC))  # 19:29 there
    assert not urumqi.in_office_hours(datetime(2026, 10, 9, 13, 30, tzinfo=UTC))


_BEFORE = {n: Timeline(parse({"reminders": {"before_days": n}})) for n in range(4)}


@settings(max_examples=300, deadline=None)  # deadline off: the first touch of a year builds its table
@given(day=st.dates(date(2025, 1, 1), date(2026, 12, 31)), k=st.integers(-8, 30), before=st.sampled_from(range(4)))
def test_reached_is_the_inverse_of_at(day: date, k: int, before: int) -> None:
    timeline = _BEFORE[before]
    due = timeline.calendar.next_working_day(day)  # a due day is always a working day
    first = -before
    moment = timeline.at(due, k)
    assert timeline.in_office_hours(moment)
    assert timeline.at(due, k + 1) > moment
    assert timeline.reached(due, moment) == (k if k >= first else None)
    just_before = moment - timedelta(microseconds=1)
    assert timeline.reached(due, just_before) == (k - 1 if k - 1 >= first else None)


# --- deadlines in the database ------------------------------------------------------------------------------

@pytest.fixture
def wf(make: Callable[..., Workflow]) -> Workflow:
    return make()


def keyed(wf: Workflow, **kw: object) -> dict[str, Deadline]:
    return {d.key: d for d in wf.deadlines(**kw)}  # type: ignore[arg-type]


def live(wf: Workflow, item: str) -> dict[str, Deadline]:
    return {k: d for k, d in keyed(wf, item=item).items() if d.status in ("open", "overdue")}


def seq_of(wf: Workflow, item: str, action: str) -> str:
    """The event that closed a deadline, as deadlines name it: CHAIN:SEQ."""
    found = [s for s in wf.history(item) if s.action == action][-1]
    return f"{found.chain}:{found.seq}"


def opened(wf: Workflow, key: str) -> tuple[str | None, str | None]:
    """The event that opened a deadline (CHAIN:SEQ) and who signed it."""
    with wf.engine.connect() as c:
        row = c.execute(select(t.deadline.c.opened_by, t.deadline.c.asked_by).where(t.deadline.c.key == key)).one()
    return row.opened_by, row.asked_by


def test_a_new_item_must_be_published_within_twenty_working_days(wf: Workflow) -> None:
    i = new_info(wf)
    (d,) = wf.deadlines(item=i)
    assert (d.key, d.kind, d.item_id, d.responsible, d.roles) == (f"proactive:{i}", "proactive", i, "clerk", ())
    assert (d.starts_on, d.days, d.due_on, d.provisional) == (date(2026, 9, 30), 20, date(2026, 11, 3), False)
    assert (d.status, d.step, d.closed_by) == ("open", None, None)
    assert d.next_at == opening_utc(2026, 11, 2)  # the first reminder: one working day before
    assert wf.deadline(d.id) == d
    assert opened(wf, d.key) == (seq_of(wf, i, "create"), "clerk")  # its creation asked for it


def test_the_clock_starts_when_the_information_was_formed(wf: Workflow) -> None:
    i = new_info(wf, formed_on=date(2026, 9, 24))
    (d,) = wf.deadlines(item=i)
    # Thu 24 Sep: Sep 28–30 (3), Oct 8–10 (6), 12–16 (11), 19–23 (16), 26–29 (20).
    assert (d.starts_on, d.due_on) == (date(2026, 9, 24), date(2026, 10, 29))


def test_today_is_the_office_day_not_the_utc_day(make: Callable[..., Workflow], now: list[datetime]) -> None:
    now[0] = datetime(2026, 9, 29, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    wf = make()  # the office is set up first: its chain's time only goes forwards
    assert wf.today() == date(2026, 9, 29)
    now[0] = datetime(2026, 9, 29, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    assert wf.today() == date(2026, 9, 30)
    i = new_info(wf)
    assert wf.deadlines(item=i)[0].starts_on == date(2026, 9, 30)


def test_interpretations_and_periodic_items_have_no_twenty_day_clock(wf: Workflow) -> None:
    policy = new_info(wf, kind="policy", title="关于调整低保标准的通知", category="2.2")
    reading = new_info(wf, kind="interpretation", interprets=policy, title="解读", category="2.2")
    periodic = new_info(wf, schedule="finance", period="2026Q3")
    assert [d.key for d in wf.deadlines(item=policy)] == [f"proactive:{policy}"]
    assert wf.deadlines(item=reading) == []
    assert wf.deadlines(item=periodic) == []


def test_each_review_stage_has_its_own_deadline(wf: Workflow, now: list[datetime]) -> None:
    i = new_info(wf)
    wf.advance(i, "submit", actor="clerk")
    stage = f"stage:{i}:1:confidentiality_review"
    d = live(wf, i)[stage]
    assert (d.kind, d.responsible, d.roles) == ("stage", None, ("confidentiality_reviewer", "proofreader"))
    assert (d.due_on, d.next_at) == (date(2026, 10, 9), opening_utc(2026, 10, 8))  # 2 working days after
    assert opened(wf, stage) == (seq_of(wf, i, "submit"), "clerk")

    now[0] = sh(2026, 10, 8, 9)
    wf.advance(i, "proofread", actor="proof")  # same state: the stage's deadline stands
    assert set(live(wf, i)) == {stage, f"proactive:{i}"}
    # ... for whoever still has to sign in it: the proofreader has.
    narrowed = live(wf, i)[stage]
    assert (narrowed.roles, narrowed.due_on, narrowed.next_at) == (
        ("confidentiality_reviewer",), date(2026, 10, 9), opening_utc(2026, 10, 8))

    wf.advance(i, "clear", actor="sec", decision="full")
    all_ = keyed(wf, item=i)
    assert (all_[stage].status, all_[stage].closed_by) == ("met", seq_of(wf, i, "clear"))
    check = f"stage:{i}:1:leader_check"
    assert set(live(wf, i)) == {check, f"proactive:{i}"}
    assert (all_[check].roles, all_[check].due_on) == (("leader",), date(2026, 10, 10))  # Thu + 2: Sat 10

    wf.advance(i, "check", actor="lead")
    head = f"stage:{i}:1:head_approval"
    assert set(live(wf, i)) == {head, f"proactive:{i}"}
    assert keyed(wf, item=i)[head].roles == ("head", "publisher")

    wf.advance(i, "approve", actor="head")  # the head has signed; the publisher still has to
    assert set(live(wf, i)) == {head, f"proactive:{i}"}
    assert keyed(wf, item=i)[head].roles == ("publisher",)
    wf.advance(i, "publish", actor="clerk")
    all_ = keyed(wf, item=i)
    assert live(wf, i) == {}
    assert {k: d.status for k, d in all_.items()} == {
        stage: "met", check: "met", head: "met", f"proactive:{i}": "met"}
    assert all_[f"proactive:{i}"].closed_by == seq_of(wf, i, "publish")
    assert all_[f"proactive:{i}"].next_at is None


def test_a_return_ends_the_stage_and_a_later_resubmission_starts_one(wf: Workflow, now: list[datetime]) -> None:
    i = new_info(wf)
    wf.advance(i, "submit", actor="clerk")
    wf.advance(i, "return", actor="sec", reason="请补充附件")
    assert set(live(wf, i)) == {f"proactive:{i}"}  # the twenty days run on
    assert keyed(wf, item=i)[f"stage:{i}:1:confidentiality_review"].status == "met"
    now[0] = sh(2026, 10, 8, 9)
    wf.advance(i, "submit", actor="clerk")
    again = live(wf, i)[f"stage:{i}:2:confidentiality_review"]
    assert again.due_on == date(2026, 10, 10)


def test_resubmitting_on_the_day_of_the_return_starts_a_stage_deadline(wf: Workflow) -> None:
    i = new_info(wf)
    wf.advance(i, "submit", actor="clerk")
    wf.advance(i, "proofread", actor="proof")
    wf.advance(i, "return", actor="sec", reason="请补充附件")
    wf.advance(i, "submit", actor="clerk")  # fixed within the hour: a new round, a new stage deadline
    stages = [d for d in live(wf, i).values() if d.kind == "stage"]
    # Everybody signs again in the new round, the proofreader too.
    assert [(d.key, d.roles, d.due_on, d.status) for d in stages] == [
        (f"stage:{i}:2:confidentiality_review", ("confidentiality_reviewer", "proofreader"), date(2026, 10, 9),
         "open")]
    first = keyed(wf, item=i)[f"stage:{i}:1:confidentiality_review"]
    assert (first.status, first.closed_by, first.roles) == ("met", seq_of(wf, i, "return"),
                                                           ("confidentiality_reviewer",))


def test_withholding_cancels_the_duty_to_publish(wf: Workflow) -> None:
    i = new_info(wf)
    wf.advance(i, "submit", actor="clerk")
    wf.advance(i, "withhold", actor="sec", reason="涉及个人隐私", ground="art15")
    all_ = keyed(wf, item=i)
    assert set(live(wf, i)) == {f"withheld_review:{i}:1"}  # only its review (tests/test_withheld_review.py)
    assert all_[f"proactive:{i}"].status == "cancelled"
    assert all_[f"proactive:{i}"].closed_by == seq_of(wf, i, "withhold")
    assert all_[f"stage:{i}:1:confidentiality_review"].status == "met"


def test_a_published_policy_must_be_interpreted_within_three_working_days(wf: Workflow,
                                                                          now: list[datetime]) -> None:
    policy = new_info(wf, kind="policy", title="关于调整低保标准的通知", category="2.2", drafter="drafter2")
    publish(wf, policy)  # Wed 30 Sep
    d = live(wf, policy)[f"interpretation:{policy}"]
    assert (d.responsible, d.starts_on, d.days) == ("drafter2", date(2026, 9, 30), 3)  # 谁起草、谁解读
    assert (d.due_on, d.next_at) == (date(2026, 10, 10), opening_utc(2026, 10, 9))

    now[0] = sh(2026, 10, 9, 15)
    reading = new_info(wf, kind="interpretation", interprets=policy, title="图解：低保标准调整", category="2.2")
    publish(wf, reading)
    met = wf.deadline(d.id)
    assert (met.status, met.closed_by, met.next_at) == ("met", seq_of(wf, reading, "publish"), None)
    assert met.closed_at == now[0]
    assert live(wf, reading) == {}  # an interpretation is not itself interpreted


def test_an_interpretation_ready_first_meets_the_duty_when_it_follows_its_policy(wf: Workflow) -> None:
    """It cannot go public first (同步审签): approved, it waits; the policy's duty opens, and it meets it."""
    policy = new_info(wf, kind="policy", title="关于调整低保标准的通知", category="2.2")
    reading = new_info(wf, kind="interpretation", interprets=policy, title="解读", category="2.2")
    to_head_approval(wf, reading)
    wf.advance(reading, "approve", actor="head")
    publish(wf, policy)
    assert keyed(wf, item=policy)[f"interpretation:{policy}"].status == "open"
    wf.advance(reading, "publish", actor="clerk")
    d = keyed(wf, item=policy)[f"interpretation:{policy}"]
    assert (d.status, d.closed_by) == ("met", seq_of(wf, reading, "publish"))


def test_retracting_the_last_public_interpretation_reopens_the_policys_duty(wf: Workflow,
                                                                           now: list[datetime]) -> None:
    """Retracting a policy's only interpretation left its duty "met" with nobody reminded (red team, issue 11):
    it opens again, due 3 working days after the retraction, for the policy's drafter (谁起草、谁解读)."""
    policy = new_info(wf, kind="policy", title="关于调整低保标准的通知", category="2.2", drafter="drafter2")
    publish(wf, policy)
    first = new_info(wf, kind="interpretation", interprets=policy, title="解读", category="2.2")
    second = new_info(wf, kind="interpretation", interprets=policy, title="图解", category="2.2")
    publish(wf, first)
    publish(wf, second)
    assert keyed(wf, item=policy)[f"interpretation:{policy}"].status == "met"
    wf.advance(first, "retract", actor="head", reason="表述有误")  # the other one still explains the policy
    assert [d.kind for d in live(wf, policy).values()] == []
    now[0] = sh(2026, 10, 12)  # Monday
    taken = wf.advance(second, "retract", actor="head", reason="表述有误")
    key = f"interpretation:{policy}:{taken.chain}:{taken.seq}"
    d = live(wf, policy)[key]
    assert (d.kind, d.title, d.responsible, d.unit) == ("interpretation", "关于调整低保标准的通知", "drafter2", "gov")
    assert (d.starts_on, d.days, d.due_on, d.status) == (date(2026, 10, 12), 3, date(2026, 10, 15), "open")
    assert opened(wf, key) == (f"{taken.chain}:{taken.seq}", "head")
    third = new_info(wf, kind="interpretation", interprets=policy, title="新解读", category="2.2")
    publish(wf, third)
    assert (keyed(wf, item=policy)[key].status, keyed(wf, item=policy)[key].closed_by) == (
        "met", seq_of(wf, third, "publish"))
    wf.advance(policy, "retract", actor="head", reason="已废止")
    wf.advance(third, "retract", actor="head", reason="随政策废止")  # a retracted policy owes nothing
    assert live(wf, policy) == {}


def test_long_term_items_are_reconfirmed_and_retraction_cancels(wf: Workflow, now: list[datetime]) -> None:
    policy = new_info(wf, kind="policy", timing="long_term", title="办事指南", category="4.1")
    publish(wf, policy)
    d = live(wf, policy)[f"reconfirm:{policy}:1"]
    # Twelve months on: Thu 30 Sep 2027, in a year whose schedule is not published yet.
    assert (d.responsible, d.starts_on, d.days) == ("clerk", date(2027, 9, 30), None)
    assert (d.due_on, d.provisional) == (date(2027, 9, 30), True)
    assert set(live(wf, policy)) == {f"reconfirm:{policy}:1", f"interpretation:{policy}"}

    now[0] = sh(2026, 10, 8, 9)
    wf.advance(policy, "retract", actor="head", reason="已废止")
    retracted = keyed(wf, item=policy)
    assert live(wf, policy) == {}
    for key in (f"reconfirm:{policy}:1", f"interpretation:{policy}"):
        assert (retracted[key].status, retracted[key].closed_by) == ("cancelled", seq_of(wf, policy, "retract"))


def test_information_changed_is_information_formed_anew(wf: Workflow, now: list[datetime]) -> None:
    i = new_info(wf)
    key = f"proactive:{i}"
    wf.edit_item(i, actor="clerk", title="2026年第三季度财务收支（更正）")
    assert wf.deadlines(item=i)[0].due_on == date(2026, 11, 3)  # a new title is not a new date
    assert wf.deadlines(item=i)[0].title == "2026年第三季度财务收支（更正）"  # but reminders use it
    # Information is not formed after today (the office's day): on Wed 30 Sep, 20 Oct is refused.
    before = keyed(wf, item=i)[key]
    with pytest.raises(InvalidInput, match="formed_on 2026-10-20 is not a day between 1900-01-01 and today"):
        wf.edit_item(i, actor="clerk", formed_on=date(2026, 10, 20))
    assert keyed(wf, item=i)[key] == before
    now[0] = sh(2026, 10, 20)  # the day it was formed anew
    wf.edit_item(i, actor="clerk", formed_on=date(2026, 10, 20))
    d = keyed(wf, item=i)[key]
    # Tue 20 Oct: Oct 21–23 (3), 26–30 (8), Nov 2–6 (13), 9–13 (18), 16, 17.
    assert (d.starts_on, d.due_on, d.status, d.step) == (date(2026, 10, 20), date(2026, 11, 17), "open", None)
    assert d.next_at == opening_utc(2026, 11, 16)
    wf.edit_item(i, actor="clerk", formed_on=date(2026, 10, 20), body="同一天形成")
    assert keyed(wf, item=i)[key] == d


def test_the_rules_come_from_the_configuration(make: Callable[..., Workflow]) -> None:
    wf = make(parse({"deadlines": {"proactive_days": 5, "stage_days": 1, "interpretation_days": 1,
                                   "reconfirm_months": 6},
                     "reminders": {"before_days": 3}}))
    policy = new_info(wf, kind="policy", timing="long_term", title="办事指南", category="4.1")
    d = live(wf, policy)[f"proactive:{policy}"]
    # Sep 30 + 5: Oct 8, 9, 10, 12, 13; three working days before: Oct 12, 10, 9.
    assert (d.due_on, d.next_at) == (date(2026, 10, 13), opening_utc(2026, 10, 9))
    wf.advance(policy, "submit", actor="clerk")
    stage = live(wf, policy)[f"stage:{policy}:1:confidentiality_review"]
    # Sep 30 + 1: Oct 8; three working days before it: Sep 30, 29, 28.
    assert (stage.due_on, stage.next_at) == (date(2026, 10, 8), opening_utc(2026, 9, 28))
    wf.advance(policy, "proofread", actor="proof")
    wf.advance(policy, "clear", actor="sec", decision="full")
    wf.advance(policy, "check", actor="lead")
    wf.advance(policy, "approve", actor="head")
    wf.advance(policy, "publish", actor="clerk")
    after = live(wf, policy)
    assert after[f"interpretation:{policy}"].due_on == date(2026, 10, 8)
    assert after[f"reconfirm:{policy}:1"].starts_on == date(2027, 3, 30)


def test_a_reconfirmation_is_closed_by_hand_and_opens_the_next(wf: Workflow, now: list[datetime]) -> None:
    i = new_info(wf, timing="long_term", title="办事指南", category="4.1")
    publish(wf, i)
    first = live(wf, i)[f"reconfirm:{i}:1"]
    now[0] = sh(2026, 11, 2, 9)
    done = wf.complete_deadline(first.id, by="head", note="内容仍然有效")
    assert (done.status, done.closed_note, done.closed_at, done.next_at) == (
        "met", "head: 内容仍然有效", now[0], None)
    second = live(wf, i)[f"reconfirm:{i}:2"]
    # The next twelve months run from the confirmation, not from the first due date.
    assert (second.starts_on, second.due_on, second.provisional) == (date(2027, 11, 2), date(2027, 11, 2), True)
    assert second.responsible == "clerk"
    with pytest.raises(InvalidInput, match="already met"):
        wf.complete_deadline(first.id, by="head")


def test_duties_met_by_signing_or_publishing_are_not_closed_by_hand(wf: Workflow, now: list[datetime]) -> None:
    policy = new_info(wf, kind="policy", title="关于调整低保标准的通知", category="2.2")
    publish(wf, policy)
    other = new_info(wf)
    wf.advance(other, "submit", actor="clerk")
    now[0] = sh(2026, 10, 9, 9)
    wf.roll_schedules()
    signed = [*live(wf, policy).values(), *live(wf, other).values()]
    assert {d.kind for d in signed} == {"interpretation", "proactive", "stage"}
    for d in signed:
        with pytest.raises(InvalidInput, match="met by signing"):
            wf.complete_deadline(d.id, by="head")
    finance = keyed(wf)["periodic:finance:2026Q3"]
    with pytest.raises(InvalidInput, match="--schedule finance --period 2026Q3"):
        wf.complete_deadline(finance.id, by="clerk")
    assert all(wf.deadline(d.id).status == "open" for d in [*signed, finance])


def test_closing_by_hand_needs_an_active_person_and_a_deadline(wf: Workflow, now: list[datetime]) -> None:
    now[0] = sh(2027, 1, 5)
    wf.roll_schedules()
    duty = keyed(wf)["periodic:self-assessment:2026H2"]
    with pytest.raises(NotFound, match="nobody"):
        wf.complete_deadline(duty.id, by="nobody")
    wf.deactivate("head", by=ADMIN)  # left the office
    with pytest.raises(NotFound, match="head"):
        wf.complete_deadline(duty.id, by="head")
    with pytest.raises(NotFound, match="no deadline 99999"):
        wf.complete_deadline(99999, by="multi")
    assert wf.deadline(duty.id).status == "open"


def test_rolling_opens_each_schedule_from_a_period_still_ahead(wf: Workflow, now: list[datetime]) -> None:
    now[0] = sh(2026, 10, 9)
    # 2026Q3 is the latest quarter ended; its 15 working days run to 27 Oct. The half-year and the year
    # ended long ago and their deadlines have passed: an office starting now is not told they are late.
    assert wf.roll_schedules() == ["periodic:finance:2026Q3", "periodic:indicators:2026Q3"]
    assert wf.roll_schedules() == []
    d = keyed(wf)["periodic:finance:2026Q3"]
    assert (d.kind, d.schedule, d.period, d.item_id, d.responsible, d.roles) == (
        "periodic", "finance", "2026Q3", None, None, ("drafter",))
    # Wed 30 Sep + 15: Oct 8–10 (3), 12–16 (8), 19–23 (13), 26, 27.
    assert (d.starts_on, d.days, d.due_on, d.provisional) == (date(2026, 9, 30), 15, date(2026, 10, 27), False)
    assert d.next_at == opening_utc(2026, 10, 26)
    assert opened(wf, d.key) == (None, None)  # no signature opened it: the schedule did

    now[0] = sh(2027, 1, 5)
    assert wf.roll_schedules() == ["periodic:finance:2026Q4", "periodic:indicators:2026Q4", "periodic:budget:2026",
                                   "periodic:self-assessment:2026H2", "periodic:annual-report:2026"]
    rolled = keyed(wf)
    # 2027 is provisional: 1 Jan rests; Jan 4–8 (5), 11–15 (10), 18–22 (15), 25–29 (20).
    assert {k: (d.due_on, d.provisional) for k, d in rolled.items() if k.endswith(("2026", "2026H2", "2026Q4"))} == {
        "periodic:finance:2026Q4": (date(2027, 1, 22), True),
        "periodic:indicators:2026Q4": (date(2027, 1, 22), True),
        "periodic:budget:2026": (date(2027, 1, 29), True),
        "periodic:self-assessment:2026H2": (date(2027, 1, 15), True),
        # Regulation Art. 49: by 31 January, a Sunday in 2027, so Monday.
        "periodic:annual-report:2026": (date(2027, 2, 1), True),
    }
    report = rolled["periodic:annual-report:2026"]
    assert (report.starts_on, report.days, report.roles) == (date(2027, 1, 31), None, ("head",))

    # The self-assessment publishes nothing: the head records that it was held.
    now[0] = sh(2027, 1, 12, 16)
    held = wf.complete_deadline(rolled["periodic:self-assessment:2026H2"].id, by="head", note="已召开自评会")
    assert (held.status, held.closed_note) == ("met", "head: 已召开自评会")
    assert wf.roll_schedules() == []  # and it is not opened again


def test_a_daemon_down_for_a_whole_period_still_opens_that_periods_deadline(wf: Workflow,
                                                                            now: list[datetime]) -> None:
    now[0] = sh(2026, 4, 8)
    assert wf.roll_schedules() == ["periodic:finance:2026Q1", "periodic:indicators:2026Q1"]
    # Nothing rolled from April to January: 2026Q2 and 2026Q3 were never opened. Their deadlines have passed,
    # but this schedule is followed, so they are opened (and overdue) rather than forgotten.
    now[0] = sh(2027, 1, 5)
    opened = wf.roll_schedules()
    assert [k for k in opened if k.startswith("periodic:finance:")] == [
        "periodic:finance:2026Q2", "periodic:finance:2026Q3", "periodic:finance:2026Q4"]
    late = {d.period for d in wf.deadlines(overdue=True) if d.schedule == "finance"}
    assert late == {"2026Q1", "2026Q2", "2026Q3"}  # Q1 was never published either
    assert wf.roll_schedules() == []


def test_publishing_the_periods_item_meets_the_periodic_deadline(wf: Workflow, now: list[datetime]) -> None:
    now[0] = sh(2026, 10, 9)
    wf.roll_schedules()
    i = new_info(wf, schedule="finance", period="2026Q3")
    publish(wf, i)
    rolled = keyed(wf)
    assert (rolled["periodic:finance:2026Q3"].status, rolled["periodic:finance:2026Q3"].closed_by) == (
        "met", seq_of(wf, i, "publish"))
    assert rolled["periodic:indicators:2026Q3"].status == "open"


def test_a_period_disclosed_before_its_deadline_opens_is_opened_met(wf: Workflow, now: list[datetime]) -> None:
    now[0] = sh(2026, 10, 9, 9)
    i = new_info(wf, schedule="finance", period="2026Q3")
    publish(wf, i)
    now[0] = sh(2026, 10, 9, 10)
    assert wf.roll_schedules() == ["periodic:finance:2026Q3", "periodic:indicators:2026Q3"]
    rolled = keyed(wf)
    assert (rolled["periodic:finance:2026Q3"].status, rolled["periodic:finance:2026Q3"].next_at) == ("met", None)
    assert rolled["periodic:indicators:2026Q3"].status == "open"


def test_a_periodic_item_names_a_known_schedule_and_a_period_of_its_cycle(wf: Workflow) -> None:
    with pytest.raises(InvalidInput, match="no periodic schedule 'rent'"):
        new_info(wf, schedule="rent", period="2026Q3")
    with pytest.raises(InvalidInput, match="'2026-09' is not a quarterly period"):
        new_info(wf, schedule="finance", period="2026-09")
    with pytest.raises(InvalidInput, match="both its schedule and its period"):
        new_info(wf, schedule="finance")
    assert wf.items() == []


def test_a_leap_day_due_date_rolls_in_an_ordinary_year(make: Callable[..., Workflow], now: list[datetime]) -> None:
    raw = {"schedule": [{"id": "leap", "title": "闰日报告", "cycle": "yearly", "due_date": "02-29", "role": "head"}]}
    wf = make(parse(raw))
    now[0] = sh(2027, 1, 5)
    assert wf.roll_schedules() == ["periodic:leap:2026", "periodic:annual-report:2026"]  # the law's, always kept
    # 2027 has no 29 February: the last day of February, Sunday 28 Feb, so it falls due on Monday 1 March.
    d = keyed(wf)["periodic:leap:2026"]
    assert (d.starts_on, d.days, d.due_on) == (date(2027, 2, 28), None, date(2027, 3, 1))
    now[0] = sh(2028, 1, 5)
    assert wf.roll_schedules() == ["periodic:leap:2027", "periodic:annual-report:2027"]
    leap_year = keyed(wf)["periodic:leap:2027"]  # 2028 has one: Tuesday 29 February
    assert (leap_year.starts_on, leap_year.due_on, leap_year.provisional) == (date(2028, 2, 29), date(2028, 2, 29),
                                                                              True)


def test_provisional_dates_are_recomputed_when_the_year_is_published(wf: Workflow, now: list[datetime]) -> None:
    known = new_info(wf)  # due 3 Nov 2026: not provisional, never touched
    now[0] = sh(2026, 12, 15)
    moved = new_info(wf)
    kept = new_info(wf, timing="long_term", title="办事指南", category="4.1")
    publish(wf, kept)
    d = keyed(wf, item=moved)[f"proactive:{moved}"]
    # Tue 15 Dec + 20: Dec 16–18 (3), 21–25 (8), 28–31 (12), [1 Jan], Jan 4–8 (17), 11–13 (20).
    assert (d.due_on, d.provisional) == (date(2027, 1, 13), True)
    reconfirm = keyed(wf, item=kept)[f"reconfirm:{kept}:1"]
    assert (reconfirm.due_on, reconfirm.provisional) == (date(2027, 12, 15), True)

    wf.use_calendar(WorkCalendar.from_toml(OVERRIDE_2027))
    # With 1–4 Jan off: Jan 5–8 (16), 11–14 (20).
    assert wf.recompute_deadlines() == [(d.id, date(2027, 1, 13), date(2027, 1, 14))]
    after = wf.deadline(d.id)
    assert (after.due_on, after.provisional, after.status, after.step) == (date(2027, 1, 14), False, "open", None)
    assert after.next_at == opening_utc(2027, 1, 13)
    same_day = wf.deadline(reconfirm.id)
    assert (same_day.due_on, same_day.provisional) == (date(2027, 12, 15), False)  # known now, same date
    assert wf.deadlines(item=known)[0].due_on == date(2026, 11, 3)
    assert wf.recompute_deadlines() == []


def test_listing_by_status_counts_by_today_daemon_or_not(wf: Workflow, now: list[datetime]) -> None:
    waiting = new_info(wf)
    withheld = new_info(wf)
    wf.advance(withheld, "submit", actor="clerk")
    wf.advance(withheld, "withhold", actor="sec", reason="涉及个人隐私", ground="art15")
    done = new_info(wf)
    publish(wf, done)

    now[0] = sh(2026, 11, 3, 23, 59)  # the due day itself is not late
    assert wf.deadlines(overdue=True) == []
    # the withheld item's review falls a year on (Art. 18)
    assert [(d.item_id, d.kind) for d in wf.deadlines(status="open")] == [(waiting, "proactive"),
                                                                          (withheld, "withheld_review")]

    now[0] = sh(2026, 11, 4, 0, 1)
    (late,) = wf.deadlines(overdue=True)
    assert late.item_id == waiting
    assert late.status == "open"  # as stored: no daemon has looked at it
    assert late.status_on(wf.today()) == "overdue"
    assert wf.deadlines(status="overdue") == [late]
    assert [d.kind for d in wf.deadlines(status="open")] == ["withheld_review"]
    assert [(d.item_id, d.kind) for d in wf.deadlines(status="cancelled")] == [(withheld, "proactive")]
    met = wf.deadlines(status="met")
    assert {(d.item_id, d.kind) for d in met} == {(withheld, "stage"), (done, "stage"), (done, "proactive")}
    assert all(m.status_on(wf.today()) == "met" for m in met)
    assert [d.due_on for d in wf.deadlines()] == sorted(d.due_on for d in wf.deadlines())
    # due_before is strict: the three proactive deadlines fall on 3 Nov, the four stages on 9 Oct.
    assert [d.kind for d in wf.deadlines(due_before=date(2026, 11, 3))] == ["stage"] * 4
    assert len(wf.deadlines(due_before=date(2026, 11, 4))) == len(wf.deadlines()) - 1 == 7
    assert {d.item_id for d in wf.deadlines(item=done)} == {done}
    with pytest.raises(InvalidInput, match="unknown deadline status 'late'"):
        wf.deadlines(status="late")


# -- regressions from the review ---------------------------------------------------------------------------


def test_a_due_day_on_a_rest_day_moves_to_the_next_working_day(make: Callable[..., Workflow],
                                                                now: list[datetime]) -> None:
    """`due_days = 0` after May, which ends on a Sunday: due Monday 1 June, reminded the Friday before."""
    wf = make(parse({"schedule": [{"id": "check", "title": "月度自查", "cycle": "monthly", "due_days": 0,
                                   "role": "head"}]}))
    now[0] = sh(2026, 6, 1, 8)
    assert wf.roll_schedules() == ["periodic:check:2026-05"]
    d = keyed(wf)["periodic:check:2026-05"]
    assert (d.starts_on, d.due_on) == (date(2026, 5, 31), date(2026, 6, 1))
    assert d.next_at == opening_utc(2026, 5, 29)  # before1: Friday


def test_a_role_with_a_step_onwards_still_has_to_sign_after_a_step_in_place(make: Callable[..., Workflow],
                                                                             now: list[datetime]) -> None:
    """A township where the head both approves and publishes: approving leaves the head responsible."""
    text = (resources.files("states") / "item.toml").read_text(encoding="utf-8")
    own = text.replace('id = "publish"\nzh = "发布"\nen = "Publish"\nfrom = "head_approval"\nto = "published"\n'
                       'role = "publisher"', 'id = "publish"\nzh = "发布"\nen = "Publish"\nfrom = "head_approval"\n'
                       'to = "published"\nrole = "head"')
    assert own != text
    wf = make(pipeline=parse_pipeline(own, "head-publishes.toml"))
    i = new_info(wf)
    to_head_approval(wf, i)
    wf.advance(i, "approve", actor="head")
    assert [d.roles for d in live(wf, i).values() if d.kind == "stage"] == [("head",)]


def test_a_schedule_whose_cycle_changed_does_not_stop_the_roll(make: Callable[..., Workflow],
                                                                now: list[datetime]) -> None:
    monthly = {"id": "fin", "title": "财务", "cycle": "monthly", "due_days": 10, "role": "drafter"}
    other = {"id": "other", "title": "其他", "cycle": "monthly", "due_days": 10, "role": "drafter"}
    now[0] = sh(2026, 11, 2)
    assert make(parse({"schedule": [monthly, other]})).roll_schedules() == [
        "periodic:fin:2026-10", "periodic:other:2026-10"]
    now[0] = sh(2026, 12, 1)
    quarterly = make(parse({"schedule": [monthly | {"cycle": "quarterly"}, other]}))
    assert quarterly.roll_schedules() == ["periodic:other:2026-11"]  # fin's 2026Q3 was past due already
    now[0] = sh(2027, 1, 4)
    assert "periodic:fin:2026Q4" in quarterly.roll_schedules()


LISTINGS: tuple[dict[str, Any], ...] = (
    {}, {"overdue": True}, {"status": "open"}, {"status": "overdue"}, {"status": "met"}, {"status": "cancelled"},
    {"due_before": date(2026, 10, 20)})


def listings(wf: Workflow) -> list[list[str]]:
    return [[d.key for d in wf.deadlines(**kw)] for kw in LISTINGS]


def listed_as_documented(wf: Workflow, items: list[str]) -> None:
    """Every combination of a listing's arguments lists what they say, judged in Python over all deadlines:
    "open" and "overdue" by today's date (daemon or not), other statuses as stored."""
    every, today = wf.deadlines(), wf.today()
    for status, overdue, due_before, item in itertools.product((None, *STATUSES), (False, True),
                                                               (None, date(2026, 10, 20)), (None, *items)):
        def wanted(d: Deadline) -> bool:
            if overdue or status in ("open", "overdue"):
                said = d.status_on(today) == ("overdue" if overdue else status)
            else:
                said = status is None or d.status == status
            return said and (due_before is None or d.due_on < due_before) and (item is None or d.item_id == item)

        listed = wf.deadlines(status=status, overdue=overdue, due_before=due_before, item=item)
        assert [d.key for d in listed] == [d.key for d in every if wanted(d)], (status, overdue, due_before, item)


def index_sql(wf: Workflow, name: str) -> str | None:
    sql = ("SELECT sql FROM sqlite_master WHERE name = :n" if wf.engine.dialect.name == "sqlite" else
           "SELECT indexdef FROM pg_indexes WHERE indexname = :n AND schemaname = current_schema()")
    with wf.engine.connect() as c:
        return c.execute(text(sql), {"n": name}).scalar()


def test_the_live_deadline_indexes_hold_live_entries_and_every_listing_reads_as_documented(
        wf: Workflow, now: list[datetime]) -> None:
    """Only live deadlines are in the due-date and planner indexes, and every listing finds the deadlines it
    documents, in due-date order. (0.1 databases, whose revision 0003 had a full due-date index, are recreated
    rather than upgraded: there is no older revision to go back to.)"""
    published, waiting, withheld, _late = new_info(wf), new_info(wf), new_info(wf), new_info(wf)
    publish(wf, published)  # its stage and twenty-day deadlines met
    wf.advance(waiting, "submit", actor="clerk")  # a stage deadline open
    wf.advance(withheld, "submit", actor="clerk")
    wf.advance(withheld, "withhold", actor="sec", reason="涉密", ground="art14")  # cancelled
    now[0] = sh(2026, 11, 27)  # the drafts' twenty working days have passed: overdue by date
    planner = reminders.Planner(wf.engine, wf.config, reminders.build_channels(wf.config))
    assert planner.plan(now[0])  # the daemon's planning marks them overdue
    new_info(wf)  # open, and not yet due
    new_info(wf, formed_on=date(2026, 9, 1))  # open, past due, and no daemon has looked at it yet
    before = listings(wf)
    assert all(before[1:6]), before  # every listing finds something
    listed_as_documented(wf, [published, waiting])
    assert index_sql(wf, "ix_zwgk_deadline_due") is None
    for name, condition in (("ix_zwgk_deadline_live", "'open'"), ("ix_zwgk_deadline_next", "next_at IS NOT NULL")):
        assert condition in (index_sql(wf, name) or ""), index_sql(wf, name)
    wf.init()  # upgrading a database at the newest revision changes nothing
    wf.check_schema()
    assert listings(wf) == before


class RecordingCursor:
    """A driver cursor that keeps the text of every statement run on it, placeholders and all. The engine runs
    its statements on the driver's own cursor (workflow/uow.py), below SQLAlchemy's cursor events."""

    def __init__(self, cursor: Any, seen: list[str]) -> None:
        self._cursor = cursor
        self._seen = seen

    def execute(self, statement: str, *args: Any) -> Any:
        self._seen.append(statement)
        return self._cursor.execute(statement, *args)

    def executemany(self, statement: str, *args: Any) -> Any:
        self._seen.append(statement)
        return self._cursor.executemany(statement, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def test_the_listings_of_live_deadlines_and_the_planner_read_only_live_entries(
        swf: Workflow, monkeypatch: pytest.MonkeyPatch) -> None:
    """A query uses a partial index only if it says the index's condition word for word (SQLite)."""
    readers: list[Callable[[], object]] = [lambda: swf.deadlines(overdue=True), lambda: swf.deadlines(status="open"),
                                           lambda: swf.deadlines(status="overdue"), swf.recompute_deadlines]
    statements: list[str] = []
    unrecorded = uow.Work.__init__

    def recorded(work: uow.Work, cursor: Any, *args: Any, **kw: Any) -> None:
        unrecorded(work, RecordingCursor(cursor, statements), *args, **kw)

    monkeypatch.setattr(uow.Work, "__init__", recorded)
    for read in readers:
        statements.clear()
        read()
        query = next(s for s in statements if s.startswith("SELECT") and "FROM zwgk_deadline" in s)
        with swf.engine.connect() as c:
            plan = " ".join(r[3] for r in c.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}",
                                                            (date(2026, 9, 30).isoformat(),) * query.count("?")))
        assert "ix_zwgk_deadline_live" in plan, (query, plan)
    with swf.engine.connect() as c:
        due = re.sub(r"(?<![:\w]):\w+", "?", sql.statements("sqlite").texts["rm_due"])  # :now, :n
        plan = " ".join(r[3] for r in c.exec_driver_sql(f"EXPLAIN QUERY PLAN {due}", ("x", 10)))
    assert "ix_zwgk_deadline_next" in plan, plan
    assert f"status IN ({', '.join(repr(s) for s in t.LIVE)})" == t.LIVE_ONLY
