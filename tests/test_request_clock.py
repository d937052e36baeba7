"""The legal clock of a request (states/requests.py, 《政府信息公开条例》Arts. 30-35, 42): known due days on China's
2026 calendar, counted by hand; each rule's refusal; and a property test against a day-by-day recount of the law.

The 2026 schedule around the examples (chinese_calendar, as WorkCalendar() reads it): Fri 25 Sep is a holiday
(Mid-Autumn), Sun 20 Sep is a working day; National Day runs Thu 1 - Wed 7 Oct (off on 1, 2, 5, 6, 7 Oct and the
weekend 3-4 Oct), and Sat 10 Oct is a working day. November 2026 has no holiday and no working weekend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from states.errors import InputMissing
from states.requests import (
    CONSULT_DAYS,
    CORRECTION_WITHIN,
    LAPSED,
    PAY_DAYS,
    REPLY,
    REPLY_DAYS,
    Clock,
    judge,
    received,
)
from workflow.workdays import WorkCalendar

CAL = WorkCalendar()
D = date.fromisoformat
RECEIVED = D("2026-09-28")  # a Monday, two days before National Day
LABEL = "request gov-R2026-000001"


def step(clock: Clock, action: str, on: str, *, today: str | None = None, reason: str | None = None,
         **data: Any) -> Clock:
    """One step judged with the calendar, signed on the day it states unless `today` says otherwise."""
    return judge(clock, action, {"on": on, **data}, D(today or on), CAL, label=LABEL, reason=reason)


def limit(on: str, days: int) -> str:
    return CAL.add_working_days(D(on), days).day.isoformat()


def consult(clock: Clock, on: str, party: str = "third_party") -> Clock:
    return step(clock, "consult", on, party=party, limit=limit(on, CONSULT_DAYS))


def fee_notice(clock: Clock, on: str) -> Clock:
    return step(clock, "fee_notice", on, amount=100, limit=limit(on, PAY_DAYS))


def reply(clock: Clock, today: str, code: str = "disclosed.provided") -> Clock:
    return judge(clock, REPLY, {"reply": code}, D(today), CAL, label=LABEL)


def due(clock: Clock) -> date | None:
    got = clock.due(CAL)
    return None if got is None else got.day


def refused(match: str, judged: Any, *args: Any, **kwargs: Any) -> None:
    """The step is refused with InputMissing: one line, naming the request and the rule."""
    with pytest.raises(InputMissing, match=match) as caught:
        judged(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(LABEL + ": ")


START = received(RECEIVED)


# --- known answers --------------------------------------------------------------------------------------------

def test_twenty_working_days_across_national_day() -> None:
    # Counted: 29, 30 Sep (2); Thu 8, Fri 9, Sat 10 Oct (5); 12-16 (10); 19-23 (15); 26-30 Oct (20).
    assert due(START) == D("2026-10-30")
    assert not START.due(CAL).provisional


def test_correction_notice_within_seven_working_days_and_the_clock_restarts_on_the_corrected_request() -> None:
    # The 7th working day after 28 Sep: 29, 30 Sep, 8, 9, Sat 10, 12, 13 Oct.
    assert CORRECTION_WITHIN == 7
    waiting = step(START, "correct_notice", "2026-10-13", correct_by="2026-10-23")
    assert due(waiting) is None
    assert waiting.status == "awaiting_correction"
    corrected = step(waiting, "corrected", "2026-10-20")
    # 20 working days after Tue 20 Oct: 21-23 (3), 26-30 (8), 2-6 Nov (13), 9-13 (18), 16, 17 Nov (20).
    assert corrected.start == D("2026-10-20")
    assert due(corrected) == D("2026-11-17")
    assert corrected.status == "running"


def test_correction_on_the_day_to_correct_by_is_in_time() -> None:
    waiting = step(START, "correct_notice", "2026-09-29", correct_by="2026-10-09")
    # 20 working days after Fri 9 Oct: Sat 10, 12-16 (6), 19-23 (11), 26-30 (16), 2-5 Nov (20).
    assert due(step(waiting, "corrected", "2026-10-09")) == D("2026-11-05")


@pytest.mark.parametrize(("days", "expected"), [(20, "2026-11-27"), (5, "2026-11-06"), (1, "2026-11-02")])
def test_an_extension_on_the_due_day_adds_its_working_days(days: int, expected: str) -> None:
    # After Fri 30 Oct: 2-6 Nov (5), 9-13 (10), 16-20 (15), 23-27 Nov (20).
    extended = step(START, "extend", "2026-10-30", days=days)
    assert due(extended) == D(expected)
    assert extended.extended == days


def test_a_consultation_without_reply_adds_fifteen_working_days() -> None:
    # Sent Fri 9 Oct (counted: 29, 30 Sep, 8, 9 Oct). Stopped: Sat 10, 12-16, 19-23, 26-29 Oct = 15, the limit.
    clock = consult(START, "2026-10-09")
    assert clock.stops[0].limit == D("2026-10-29")
    assert clock.status == "consulting"
    # Counting again from 30 Oct: 30 Oct, 2-6, 9-13, 16-20 Nov = 16 more, 20 in all.
    assert due(clock) == D("2026-11-20")
    assert clock.paused(CAL) == 15
    # A reply after the 15th working day changes nothing: the clock ran again from the 16th.
    late = step(clock, "consulted", "2026-11-02", party="third_party")
    assert due(late) == D("2026-11-20")
    assert late.status == "running"


def test_a_consultation_replied_early_stops_the_clock_through_the_reply_day() -> None:
    # Sent Fri 9 Oct, reply Wed 14 Oct: Sat 10, 12, 13, 14 Oct not counted (4). Counted again from 15 Oct:
    # 15, 16 (6), 19-23 (11), 26-30 (16), 2-5 Nov (20).
    clock = step(consult(START, "2026-10-09"), "consulted", "2026-10-14", party="third_party")
    assert clock.paused(CAL) == 4
    assert due(clock) == D("2026-11-05")


def test_overlapping_consultations_stop_each_day_once() -> None:
    # Third party 9 Oct -> 16 Oct, other office 12 Oct -> 20 Oct: stopped Sat 10, 12-16, 19, 20 Oct = 8 days
    # (each alone: 6 and 6). 30 Oct + 8 working days: 2-6, 9-11 Nov.
    clock = consult(START, "2026-10-09", "third_party")
    clock = consult(clock, "2026-10-12", "other_office")
    clock = step(clock, "consulted", "2026-10-16", party="third_party")
    assert clock.status == "consulting"
    clock = step(clock, "consulted", "2026-10-20", party="other_office")
    assert clock.paused(CAL) == 8
    assert due(clock) == D("2026-11-11")


def test_disjoint_consultations_add_up() -> None:
    # 9 -> 13 Oct stops Sat 10, 12, 13 (3); 19 -> 21 Oct stops 20, 21 (2): 30 Oct + 5 = 6 Nov.
    clock = step(consult(START, "2026-10-09"), "consulted", "2026-10-13", party="third_party")
    clock = step(consult(clock, "2026-10-19"), "consulted", "2026-10-21", party="third_party")
    assert due(clock) == D("2026-11-06")


def test_a_fee_paid_after_n_working_days_adds_n() -> None:
    # Notice Fri 9 Oct: pay by its 20th working day, Sat 10, 12-16, 19-23, 26-30 Oct, 2-5 Nov -> Thu 5 Nov.
    waiting = fee_notice(START, "2026-10-09")
    assert waiting.stops[0].limit == D("2026-11-05")
    assert due(waiting) is None
    assert waiting.status == "awaiting_fee"
    # Paid Wed 21 Oct: Sat 10, 12-16, 19-21 Oct = 9 days not counted. 30 Oct + 9: 2-6, 9-12 Nov.
    paid = step(waiting, "fee_paid", "2026-10-21")
    assert paid.paused(CAL) == 9
    assert due(paid) == D("2026-11-12")
    assert paid.status == "running"


def test_art35_fixes_the_due_day() -> None:
    clock = step(START, "art35", "2026-10-20", reason="三年来全部土地征收档案，数量巨大", due_on="2026-12-31")
    assert due(clock) == D("2026-12-31")


def test_a_consultation_after_art35_leaves_the_fixed_day() -> None:
    clock = step(START, "art35", "2026-10-20", reason="数量巨大", due_on="2026-12-31")
    assert due(consult(clock, "2026-10-21")) == D("2026-12-31")


# --- refusals ---------------------------------------------------------------------------------------------------

def test_one_correction_notice_only() -> None:
    corrected = step(step(START, "correct_notice", "2026-10-13", correct_by="2026-10-23"), "corrected", "2026-10-20")
    refused("once only", step, corrected, "correct_notice", "2026-10-21", correct_by="2026-10-30")


def test_a_correction_notice_on_the_eighth_working_day_is_late() -> None:
    refused("within 7 working days of receipt", step, START, "correct_notice", "2026-10-14", correct_by="2026-10-23")


def test_a_correction_notice_needs_a_day_after_it() -> None:
    refused("a day to correct by", step, START, "correct_notice", "2026-10-13", correct_by="2026-10-13")


def test_a_correction_notice_comes_before_any_other_step() -> None:
    # The clock starts again from the corrected request: an extension or Art. 35 day of the first count would
    # otherwise be carried into the second.
    refused("before any other", step, consult(START, "2026-09-29"), "correct_notice", "2026-09-30",
            correct_by="2026-10-12")
    refused("before any other", step, step(START, "extend", "2026-09-29", days=10), "correct_notice", "2026-09-30",
            correct_by="2026-10-12")
    refused("before any other", step, step(START, "art35", "2026-09-29", reason="数量巨大", due_on="2026-12-31"),
            "correct_notice", "2026-09-30", correct_by="2026-10-12")


def test_corrected_after_the_day_to_correct_by_lapses() -> None:
    waiting = step(START, "correct_notice", "2026-10-09", correct_by="2026-10-19")
    refused("lapsed", step, waiting, "corrected", "2026-10-20")
    refused("no 补正 notice", step, START, "corrected", "2026-10-20")


@pytest.mark.parametrize("days", [0, 21, -1])
def test_an_extension_adds_1_to_20_working_days(days: int) -> None:
    refused("1 to 20 working days", step, START, "extend", "2026-10-20", days=days)


def test_an_extension_once_only() -> None:
    refused("once only", step, step(START, "extend", "2026-10-20", days=5), "extend", "2026-10-21", days=5)


def test_no_extension_after_the_due_day() -> None:
    refused("after the due day 2026-10-30", step, START, "extend", "2026-10-31", days=5)
    refused("after the due day 2026-10-30", step, START, "extend", "2026-11-02", days=5)


def test_no_stop_on_or_after_the_due_day() -> None:
    # On the due day its last working day is counted in full: a letter sent then has nothing left to stop.
    refused("on the due day 2026-10-30", consult, START, "2026-10-30")
    refused("on the due day 2026-10-30", fee_notice, START, "2026-10-30")
    refused("after the due day 2026-10-30", consult, START, "2026-11-02")
    # The day before it: 29 Oct is the 19th day counted, 30 Oct - 19 Nov are stopped (15), 20 Nov is the 20th.
    assert due(consult(START, "2026-10-29")) == D("2026-11-20")


def test_art35_needs_a_reason_and_a_later_day() -> None:
    refused("reason", step, START, "art35", "2026-10-20", reason=" ", due_on="2026-12-31")
    refused("after the due day 2026-10-30", step, START, "art35", "2026-10-20", reason="数量巨大", due_on="2026-10-30")


def test_a_step_is_dated_no_later_than_it_is_signed_and_not_before_earlier_steps() -> None:
    refused(r"after the day it is signed \(2026-10-09\)", step, START, "extend", "2026-10-10", today="2026-10-09",
            days=5)
    clock = consult(START, "2026-10-12")
    refused("before 2026-10-12", step, clock, "extend", "2026-10-09", today="2026-10-13", days=5)
    refused("before 2026-09-28", step, START, "extend", "2026-09-27", days=5)


def test_fee_paid_after_the_day_to_pay_by_lapses() -> None:
    waiting = fee_notice(START, "2026-10-09")
    refused(r"2026-11-05, the day to pay by", step, waiting, "fee_paid", "2026-11-06")
    refused("no fee", step, START, "fee_paid", "2026-10-20")


@pytest.mark.parametrize("wait", ["correction", "fee"])
def test_nothing_stops_or_moves_the_clock_while_the_applicant_is_waited_on(wait: str) -> None:
    waiting = (step(START, "correct_notice", "2026-10-09", correct_by="2026-10-19") if wait == "correction"
               else fee_notice(START, "2026-10-09"))
    refused("waits for the applicant", consult, waiting, "2026-10-12")
    refused("waits for the applicant", fee_notice, waiting, "2026-10-12")
    refused("waits for the applicant", step, waiting, "extend", "2026-10-12", days=5)


def test_the_lapse_codes_are_those_of_the_catalogue() -> None:
    assert LAPSED == {"correction": "other.not_corrected", "fee": "other.fee_unpaid"}


def test_a_lapsed_correction_closes_as_lapsed_only_once_its_day_has_passed() -> None:
    waiting = step(START, "correct_notice", "2026-10-09", correct_by="2026-10-19")
    refused("has until 2026-10-19", reply, waiting, "2026-10-19", "other.not_corrected")
    refused("has until 2026-10-19", reply, waiting, "2026-10-20", "disclosed.provided")
    refused("has until 2026-10-19", reply, waiting, "2026-10-20", "other.fee_unpaid")
    closed = reply(waiting, "2026-10-20", "other.not_corrected")
    assert closed.status == "replied"
    assert closed.reply == "other.not_corrected"
    assert due(closed) is None


def test_an_unpaid_fee_closes_as_lapsed_only_once_its_day_has_passed() -> None:
    waiting = fee_notice(START, "2026-10-09")
    refused("has until 2026-11-05", reply, waiting, "2026-11-05", "other.fee_unpaid")
    refused("has until 2026-11-05", reply, waiting, "2026-11-06", "withheld.state_secret")
    assert reply(waiting, "2026-11-06", "other.fee_unpaid").reply == "other.fee_unpaid"


@pytest.mark.parametrize("code", sorted(LAPSED.values()))
def test_no_lapse_reply_when_nothing_is_waited_for(code: str) -> None:
    refused("no .* is waited for", reply, START, "2026-10-20", code)
    paid = step(fee_notice(START, "2026-10-09"), "fee_paid", "2026-10-12")
    refused("no .* is waited for", reply, paid, "2026-11-20", code)


def test_a_reply_of_the_catalogue_and_still_unclear_only_after_a_correction() -> None:
    refused("2021 catalogue", reply, START, "2026-10-20", "maybe")
    refused("never corrected", reply, START, "2026-10-20", "unavailable.still_unclear")
    corrected = step(step(START, "correct_notice", "2026-10-09", correct_by="2026-10-19"), "corrected", "2026-10-12")
    assert reply(corrected, "2026-10-20", "unavailable.still_unclear").reply == "unavailable.still_unclear"


def test_consultation_steps_name_their_party_and_limit() -> None:
    refused("party consulted", step, START, "consult", "2026-10-09", party="neighbour", limit="2026-10-29")
    refused("not the 15th working day", step, START, "consult", "2026-10-09", party="third_party",
            limit="2026-10-30")
    clock = consult(START, "2026-10-09")
    refused("already", consult, clock, "2026-10-12")
    refused("no open consultation", step, clock, "consulted", "2026-10-12", party="other_office")


# --- status -----------------------------------------------------------------------------------------------------

def test_status_follows_the_steps() -> None:
    assert START.status == "running"
    consulting = consult(START, "2026-10-09")
    assert consulting.status == "consulting"
    assert step(consulting, "consulted", "2026-10-12", party="third_party").status == "running"
    correcting = step(START, "correct_notice", "2026-10-09", correct_by="2026-10-19")
    assert correcting.status == "awaiting_correction"
    assert step(correcting, "corrected", "2026-10-12").status == "running"
    paying = fee_notice(consulting, "2026-10-12")
    assert paying.status == "awaiting_fee"  # the applicant is waited on, whatever else is open
    assert step(paying, "fee_paid", "2026-10-13").status == "consulting"
    assert reply(consulting, "2026-10-20").status == "replied"


# --- the property: the clock against a day-by-day recount ------------------------------------------------------

def recount(start: date, allowance: int, spans: list[tuple[date, date]]) -> date:
    """Walk from the (re)start day, skipping the days of every stop (the day it was sent not skipped, the reply or
    payment day skipped), until `allowance` working days are counted."""
    day, counted = start, 0
    while counted < allowance:
        day += timedelta(days=1)
        if CAL.is_working_day(day) and not any(since < day <= end for since, end in spans):
            counted += 1
    return day


@dataclass
class Law:
    """What the law says of the steps so far, kept apart from the code under test."""

    start: date
    allowance: int = REPLY_DAYS
    closed: list[tuple[date, date]] = field(default_factory=list)  # ended stops: (sent, last day not counted)
    consults: dict[str, tuple[date, date]] = field(default_factory=dict)  # open: party -> (sent, 15th day)
    fee: tuple[date, date] | None = None  # open: (sent, pay by)

    def spans(self) -> list[tuple[date, date]]:
        return [*self.closed, *self.consults.values()]  # an open consultation stops at most to its 15th day

    def due(self) -> date:
        return recount(self.start, self.allowance, self.spans())


Steps = list[tuple[str, dict[str, Any], date]]


@st.composite
def requests(draw: st.DrawFn) -> tuple[date, Steps, Law]:
    """A receipt day in 2025-2026 and a valid sequence of steps, each dated on or after the one before."""
    got = draw(st.dates(D("2025-01-01"), D("2026-12-31")))
    law = Law(got)
    steps: Steps = []
    day = got

    def add(action: str, on: date, **data: Any) -> None:
        nonlocal day
        steps.append((action, {"on": on.isoformat(), **data}, on))
        day = on

    def later(most: date) -> date | None:
        """A day from `day` to `most`: a few days on, or `most` itself (the edge cases are at the limits)."""
        if most < day:
            return None
        return draw(st.one_of(st.just(most), st.integers(0, min(12, (most - day).days)).map(
            lambda n: day + timedelta(days=n))))

    if draw(st.booleans()):
        notice = CAL.add_working_days(got, draw(st.integers(0, CORRECTION_WITHIN))).day
        by = notice + timedelta(days=draw(st.integers(1, 30)))
        add("correct_notice", notice, correct_by=by.isoformat())
        add("corrected", notice + timedelta(days=draw(st.integers(0, (by - notice).days))))
        law.start = day
    extended = charged = False  # once each: an extension, a fee (国办函〔2020〕109号: a request is charged once)
    for _ in range(draw(st.integers(0, 8))):
        if law.fee is not None:
            sent, by = law.fee
            on = later(by)
            assert on is not None
            add("fee_paid", on)
            law.closed.append((sent, on))
            law.fee = None
            continue
        free = [p for p in ("third_party", "other_office") if p not in law.consults]
        options = [*(["consult"] if free else []), *([] if charged else ["fee_notice"]), *law.consults,
                   *([] if extended else ["extend"])]
        action = draw(st.sampled_from(options))
        due = law.due()
        most = due - timedelta(days=1) if action in ("consult", "fee_notice") else due  # a stop comes before it
        if action in law.consults:  # the party's reply: by its 15th working day, or later
            most = draw(st.sampled_from([min(law.consults[action][1], due), due]))
        on = later(most)
        if on is None:
            break
        if action == "fee_notice":
            by = CAL.add_working_days(on, PAY_DAYS).day
            add(action, on, amount=draw(st.integers(1, 500)), limit=by.isoformat())
            law.fee = (on, by)
            charged = True
        elif action == "consult":
            party = draw(st.sampled_from(free))
            cap = CAL.add_working_days(on, CONSULT_DAYS).day
            add(action, on, party=party, limit=cap.isoformat())
            law.consults[party] = (on, cap)
        elif action == "extend":
            days = draw(st.integers(1, 20))
            add(action, on, days=days)
            law.allowance += days
            extended = True
        else:
            sent, cap = law.consults.pop(action)
            add("consulted", on, party=action)
            law.closed.append((sent, min(on, cap)))
    return got, steps, law


def fold(got: date, steps: Steps, calendar: WorkCalendar | None) -> Clock:
    clock = received(got)
    for action, data, on in steps:
        clock = judge(clock, action, data, on, calendar, label=LABEL)
    return clock


@settings(derandomize=True, max_examples=200, deadline=None)
@given(requests())
def test_the_due_day_is_the_day_by_day_recount(request: tuple[date, Steps, Law]) -> None:
    got, steps, law = request
    clock = fold(got, steps, CAL)
    if law.fee is not None:
        assert clock.due(CAL) is None
        assert clock.status == "awaiting_fee"
    else:
        assert clock.due(CAL).day == law.due()
        assert clock.status == ("consulting" if law.consults else "running")
    assert clock.start == law.start
    assert fold(got, steps, None) == clock  # as verify folds the signed steps, without the calendar
