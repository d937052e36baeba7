"""workflow.workdays: known deadlines, unknown years, the override file, and properties checked by hypothesis."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.errors import InvalidInput
from workflow.testing import captured_logs
from workflow.workdays import (
    Due,
    SpecialDay,
    WorkCalendar,
    YearDays,
    load_overrides,
    reset_unknown_year_warnings,
)

CAL = WorkCalendar()
FIRST_KNOWN = min(d.year for d in chinese_calendar.holidays)  # 2004 with chinesecalendar 1.11.0
LAST_KNOWN = max(d.year for d in chinese_calendar.holidays)  # 2026 with chinesecalendar 1.11.0

OVERRIDE_2027 = """
[2027]
holidays = ["2027-01-01..2027-01-04", "2027-02-06..2027-02-13", "2027-10-01..2027-10-07"]
workdays = ["2027-02-14", "2027-10-09"]
"""


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    reset_unknown_year_warnings()
    yield
    reset_unknown_year_warnings()


def package_year(year: int) -> YearDays:
    """The package's own data for one year, as an override would give it."""
    return YearDays(frozenset(d for d in chinese_calendar.holidays if d.year == year),
                    frozenset(d for d in chinese_calendar.workdays if d.year == year))


# --- known answers ------------------------------------------------------------------------------------------

def test_national_day_2026_ends_on_a_working_saturday() -> None:
    # Oct 1–7 rest; Thu Oct 8 (1), Fri Oct 9 (2), Sat Oct 10 is a 调休 working day (3).
    assert CAL.add_working_days(date(2026, 9, 30), 3) == Due(date(2026, 10, 10), False)


def test_spring_festival_2026() -> None:
    # Fri Feb 13 (1), Sat Feb 14 works (2), Feb 15–23 rest, Tue Feb 24 (3).
    assert CAL.add_working_days(date(2026, 2, 12), 3) == Due(date(2026, 2, 24), False)


def test_twenty_working_days_from_2026_01_05() -> None:
    # Start Mon Jan 5 (not counted). No holidays or working weekends in between:
    #   Jan 6–9   Tue–Fri  -> 1..4
    #   Jan 12–16 Mon–Fri  -> 5..9
    #   Jan 19–23 Mon–Fri  -> 10..14
    #   Jan 26–30 Mon–Fri  -> 15..19
    #   Feb 2     Mon      -> 20
    assert CAL.add_working_days(date(2026, 1, 5), 20) == Due(date(2026, 2, 2), False)


def test_subtract_known_answers() -> None:
    # Before Sat Oct 10 (itself not counted): Fri Oct 9 (1), Thu Oct 8 (2), Oct 1–7 rest, Wed Sep 30 (3).
    assert CAL.subtract_working_days(date(2026, 10, 10), 3) == Due(date(2026, 9, 30), False)
    # Before Tue Feb 24: Feb 15–23 rest, Sat Feb 14 works (1), Fri Feb 13 (2), Thu Feb 12 (3).
    assert CAL.subtract_working_days(date(2026, 2, 24), 3) == Due(date(2026, 2, 12), False)
    assert CAL.subtract_working_days(date(2026, 2, 24), 0) == Due(date(2026, 2, 24), False)


def test_zero_days_is_the_start_itself() -> None:
    assert CAL.add_working_days(date(2026, 10, 3), 0) == Due(date(2026, 10, 3), False)  # a holiday, unchanged
    assert CAL.add_working_days(date(2027, 3, 3), 0) == Due(date(2027, 3, 3), True)  # unknown year


def test_working_days_between() -> None:
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert CAL.working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3
    assert CAL.working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert CAL.working_days_between(date(2026, 5, 5), date(2026, 5, 5)) == 0
    # Across a year end: Dec 31 2025 (Wed) is in (start, end]; Jan 1–3 2026 rest; Sun Jan 4 2026 works.
    assert CAL.working_days_between(date(2025, 12, 30), date(2026, 1, 4)) == 2


def test_next_working_day() -> None:
    assert CAL.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)
    assert CAL.next_working_day(date(2026, 10, 9)) == date(2026, 10, 9)
    assert CAL.next_working_day(date(2026, 10, 9), inclusive=False) == date(2026, 10, 10)
    assert CAL.next_working_day(date(2026, 12, 31), inclusive=False) == date(2027, 1, 4)  # Jan 1 2027 a Friday


def test_is_working_day_agrees_with_the_package_for_every_day_it_knows() -> None:
    day, last = date(2004, 1, 1), date(LAST_KNOWN, 12, 31)
    while day <= last:
        assert CAL.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


# --- unknown years ------------------------------------------------------------------------------------------

def test_unknown_year_is_provisional_and_skips_new_year() -> None:
    assert LAST_KNOWN == 2026  # the tests below assume 2027 is unknown to the package
    assert not CAL.knows(2027) and CAL.knows(2026) and CAL.knows(2004) and not CAL.knows(2003)
    # Mon Dec 28: Dec 29 (1), 30 (2), 31 (3), Fri Jan 1 2027 rest (fixed-date holiday), Jan 2–3 weekend,
    # Mon Jan 4 (4), Tue Jan 5 (5).
    assert CAL.add_working_days(date(2026, 12, 28), 5) == Due(date(2027, 1, 5), True)
    # Touching only the known year is not provisional.
    assert CAL.add_working_days(date(2026, 12, 28), 3) == Due(date(2026, 12, 31), False)
    assert CAL.is_working_day(date(2027, 5, 3))  # Mon May 3 works: only May 1–2 are fixed-date holidays
    assert not CAL.is_working_day(date(2027, 10, 1))
    assert CAL.is_working_day(date(2027, 10, 4))
    assert CAL.subtract_working_days(date(2027, 1, 4), 1) == Due(date(2026, 12, 31), True)


def test_override_for_2027_is_followed_and_not_provisional() -> None:
    cal = WorkCalendar.from_toml(OVERRIDE_2027, source="zwgk-calendar.toml")
    assert cal.knows(2027)
    # The override also rests Mon Jan 4: Dec 29, 30, 31, Jan 5, Jan 6.
    assert cal.add_working_days(date(2026, 12, 28), 5) == Due(date(2027, 1, 6), False)
    # Sat Feb 14 2027 works per the override; Feb 6–13 rest.
    assert cal.add_working_days(date(2027, 2, 5), 1) == Due(date(2027, 2, 14), False)
    assert cal.is_working_day(date(2027, 10, 9)) and not cal.is_working_day(date(2027, 10, 10))
    # Years beyond the override are unknown again.
    assert cal.add_working_days(date(2027, 12, 30), 2).provisional


def test_override_wins_over_the_package() -> None:
    # A year the package knows can be amended by the office (as the State Council did in 2020).
    cal = WorkCalendar({2026: YearDays(frozenset({date(2026, 1, 1)}))})
    assert cal.is_working_day(date(2026, 10, 1)) and not cal.is_working_day(date(2026, 10, 10))
    assert cal.year(2026).source == "overrides"


def test_unknown_year_warning_logged_once_per_year() -> None:
    with captured_logs() as logs:
        CAL.add_working_days(date(2026, 12, 28), 5)
        WorkCalendar().add_working_days(date(2026, 12, 28), 5)  # another calendar: still once per process
        WorkCalendar().is_working_day(date(2027, 6, 1))
        WorkCalendar().working_days_between(date(2026, 1, 1), date(2028, 3, 1))
        WorkCalendar.from_toml(OVERRIDE_2027).is_working_day(date(2027, 6, 1))  # known there: no warning
    events = [(e["event"], e["log_level"], e["year"]) for e in logs]
    assert events == [("calendar_year_unknown", "warning", 2027), ("calendar_year_unknown", "warning", 2028)]


def test_known_years_do_not_warn() -> None:
    with captured_logs() as logs:
        WorkCalendar().add_working_days(date(2026, 1, 5), 200)
        WorkCalendar().knows(2030)
    assert logs == []


def test_without_the_package_every_year_is_provisional() -> None:
    cal = WorkCalendar(package=False)
    assert not cal.knows(2026)
    # Only Oct 1–3 rest (Thu–Sat), no 调休: Mon Oct 5 (1), Tue Oct 6 (2), Wed Oct 7 (3).
    assert cal.add_working_days(date(2026, 9, 30), 3) == Due(date(2026, 10, 7), True)


# --- year report and fingerprint ----------------------------------------------------------------------------

def test_year_report_from_the_package() -> None:
    report = CAL.year(2026)
    assert report.year == 2026 and report.source == "chinese_calendar"
    # 2026 has 261 Mon–Fri; 19 holidays fall on Mon–Fri and 6 weekends work: 261 - 19 + 6.
    assert report.working_days == 248
    holidays = [d for d in report.days if d.kind == "holiday"]
    workdays = [d for d in report.days if d.kind == "workday"]
    assert (len(holidays), len(workdays)) == (19, 6)
    assert SpecialDay(date(2026, 10, 10), "workday", "National Day") in report.days
    assert all(d.day.weekday() < 5 for d in holidays) and all(d.day.weekday() >= 5 for d in workdays)
    assert list(report.days) == sorted(report.days)


def test_year_report_provisional_and_override() -> None:
    report = CAL.year(2027)
    assert report.source == "provisional"
    # Jan 1 2027 is a Friday: 261 Mon–Fri; of the fixed holidays only Jan 1 and Oct 1 (Fri) fall on Mon–Fri.
    assert [(d.day, d.kind) for d in report.days] == [(date(2027, 1, 1), "holiday"), (date(2027, 10, 1), "holiday")]
    assert report.working_days == 259
    report = WorkCalendar.from_toml(OVERRIDE_2027).year(2027)
    assert report.source == "overrides"
    assert SpecialDay(date(2027, 2, 14), "workday", None) in report.days
    assert date(2027, 2, 6) not in [d.day for d in report.days]  # a Saturday holiday is not shown


def test_fingerprint() -> None:
    assert CAL.fingerprint() == WorkCalendar().fingerprint()
    assert len(CAL.fingerprint()) == 16
    with_override = WorkCalendar.from_toml(OVERRIDE_2027)
    assert with_override.fingerprint() != CAL.fingerprint()
    assert with_override.fingerprint() == WorkCalendar.from_toml(OVERRIDE_2027, source="other").fingerprint()
    assert WorkCalendar(package=False).fingerprint() != CAL.fingerprint()
    changed = OVERRIDE_2027.replace('"2027-10-09"', '"2027-10-10"')
    assert WorkCalendar.from_toml(changed).fingerprint() != with_override.fingerprint()


# --- bad input ----------------------------------------------------------------------------------------------

def test_bad_arguments() -> None:
    with pytest.raises(InvalidInput, match="not a date"):
        CAL.add_working_days(datetime(2026, 1, 5, 9, 0), 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=">= 0"):
        CAL.add_working_days(date(2026, 1, 5), -1)
    with pytest.raises(InvalidInput, match=">= 0"):
        CAL.subtract_working_days(date(2026, 1, 5), True)
    with pytest.raises(InvalidInput, match="outside the calendar"):
        CAL.add_working_days(date(9999, 12, 1), 40)
    with pytest.raises(InvalidInput, match="outside the calendar"):
        CAL.subtract_working_days(date(1, 1, 5), 10)


def test_override_file_parses() -> None:
    years = load_overrides(OVERRIDE_2027 + '\n[2028]\nholidays = [2028-01-01, "2028-10-01..2028-10-03"]\n',
                           source="f.toml")
    assert sorted(years) == [2027, 2028]
    assert len(years[2027].holidays) == 4 + 8 + 7
    assert years[2027].workdays == {date(2027, 2, 14), date(2027, 10, 9)}
    assert years[2028].holidays == {date(2028, 1, 1), date(2028, 10, 1), date(2028, 10, 2), date(2028, 10, 3)}
    assert years[2028].workdays == frozenset()
    assert load_overrides("", source="f.toml") == {}


@pytest.mark.parametrize(("text", "message"), [
    ("[2027\n", "f.toml: not valid TOML"),
    ('[27]\nholidays = ["2027-01-01"]', "f.toml: '27' is not a year"),
    ('[abcd]\nholidays = ["2027-01-01"]', "'abcd' is not a year"),
    ("2027 = 5", "f.toml: 2027 must be a table"),
    ('[2027]\nholidays = ["2027-01-01"]\nholiday = ["2027-01-02"]', "[2027] unknown key 'holiday'"),
    ('[2027]\nworkdays = ["2027-02-14"]', "[2027] has no holidays list"),
    ("[2027]\nholidays = []", "[2027] holidays is empty"),
    ('[2027]\nholidays = "2027-01-01"', "[2027] holidays must be a list"),
    ('[2027]\nholidays = ["2027-02-30"]', "[2027] holidays: '2027-02-30' is not a date"),
    ('[2027]\nholidays = ["20270101"]', "[2027] holidays: '20270101' is not a date"),
    ('[2027]\nholidays = ["2027-1-1"]', "[2027] holidays: '2027-1-1' is not a date"),
    ('[2027]\nholidays = ["2027-01-01..2027-01-0x"]', "[2027] holidays: '2027-01-01..2027-01-0x' is not a date"),
    ('[2027]\nholidays = ["2027-10-07..2027-10-01"]', "[2027] holidays: '2027-10-07..2027-10-01' ends before"),
    ('[2027]\nholidays = ["2027-10-01..2027-10-02..2027-10-03"]', "'2027-10-01..2027-10-02..2027-10-03' is not a"),
    ('[2027]\nholidays = ["2027-10-01.."]', "'2027-10-01..' is not a date"),
    ("[2027]\nholidays = [20270101]", "[2027] holidays: 20270101 is not a date or a range"),
    ("[2027]\nholidays = [2027-01-01T00:00:00]", "[2027] holidays: datetime.datetime(2027, 1, 1, 0, 0) is not"),
    ('[2027]\nholidays = ["2028-01-01"]', "[2027] holidays: '2028-01-01' is not in 2027"),
    ('[2027]\nholidays = ["2027-12-31..2028-01-02"]', "[2027] holidays: '2027-12-31..2028-01-02' is not in 2027"),
    ('[2027]\nholidays = ["2027-01-01"]\nworkdays = ["2026-12-27"]', "[2027] workdays: '2026-12-27' is not in 2027"),
    ('[2027]\nholidays = ["2027-02-06..2027-02-14"]\nworkdays = ["2027-02-14"]',
     "[2027] 2027-02-14 is both a holiday and a workday"),
    ('[2027]\nholidays = ["2027-01-01"]\nworkdays = ["2027-02-15"]',
     "[2027] workdays: 2027-02-15 is a Monday, not a Saturday or Sunday"),
])
def test_bad_override_files(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_overrides(text, source="f.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("f.toml: ")
    assert "\n" not in str(caught.value)


def test_holiday_on_a_weekend_is_allowed() -> None:
    years = load_overrides('[2027]\nholidays = ["2027-01-02"]', source="f.toml")  # a Saturday
    assert years[2027].holidays == {date(2027, 1, 2)}


@pytest.mark.parametrize(("overrides", "message"), [
    ({2027: YearDays(frozenset({date(2028, 1, 1)}))}, "[2027] holidays: 2028-01-01 is not in 2027"),
    ({2027: YearDays(frozenset({date(2027, 1, 1)}), frozenset({date(2027, 1, 4)}))}, "2027-01-04 is a Monday"),
    ({2027: YearDays(frozenset({date(2027, 1, 2)}), frozenset({date(2027, 1, 2)}))}, "both a holiday and a workday"),
    ({2027: YearDays(frozenset({datetime(2027, 1, 1)}))}, "is not a date"),
    ({2027: YearDays(frozenset({date(2027, 1, 1)}), names={date(2027, 1, 2): "x"})}, "neither a holiday nor"),
    ({"2027": YearDays(frozenset({date(2027, 1, 1)}))}, "'2027' is not a year"),
])
def test_bad_overrides_given_directly(overrides: dict[int, YearDays], message: str) -> None:
    with pytest.raises(InvalidInput, match=r"^overrides: ") as caught:
        WorkCalendar(overrides)
    assert message in str(caught.value)


def test_year_days_cannot_be_changed_through_the_caller() -> None:
    names = {date(2027, 1, 1): "元旦"}
    days = YearDays(frozenset({date(2027, 1, 1)}), names=names)
    names[date(2027, 1, 1)] = "changed"
    assert days.names[date(2027, 1, 1)] == "元旦"
    assert hash(days) == hash(YearDays(frozenset({date(2027, 1, 1)})))


# --- properties ---------------------------------------------------------------------------------------------

DATES = st.dates(min_value=date(2005, 1, 1), max_value=date(2030, 12, 31))
COUNTS = st.integers(min_value=0, max_value=300)
PROPS = settings(max_examples=300, deadline=None)  # deadline off: the first touch of a year builds its table


def naive_add(cal: WorkCalendar, start: date, n: int) -> date:
    day = start
    while n > 0:
        day += timedelta(days=1)
        n -= cal.is_working_day(day)
    return day


@PROPS
@given(DATES, COUNTS)
def test_add_matches_a_day_by_day_walk(d: date, n: int) -> None:
    assert CAL.add_working_days(d, n).day == naive_add(CAL, d, n)


@PROPS
@given(DATES, COUNTS)
def test_between_inverts_add(d: date, n: int) -> None:
    assert CAL.working_days_between(d, CAL.add_working_days(d, n).day) == n


@PROPS
@given(DATES, st.integers(min_value=1, max_value=300))
def test_add_lands_on_a_working_day_after_the_start(d: date, n: int) -> None:
    due = CAL.add_working_days(d, n).day
    assert due > d and CAL.is_working_day(due)


@PROPS
@given(DATES, COUNTS)
def test_add_is_strictly_monotonic_in_n(d: date, n: int) -> None:
    assert CAL.add_working_days(d, n).day < CAL.add_working_days(d, n + 1).day


@PROPS
@given(DATES, st.integers(min_value=1, max_value=300))
def test_subtract_after_add_gives_the_last_working_day_not_after_the_start(d: date, n: int) -> None:
    back = CAL.subtract_working_days(CAL.add_working_days(d, n).day, n).day
    assert back <= d and CAL.is_working_day(back)
    assert CAL.working_days_between(back, d) == 0  # nothing works in (back, d]
    assert (back == d) == CAL.is_working_day(d)


@PROPS
@given(DATES, COUNTS)
def test_subtract_zero_is_identity_and_add_after_subtract_is_next_working_day(e: date, n: int) -> None:
    back = CAL.subtract_working_days(e, n).day
    assert CAL.working_days_between(back, e) == n - (0 if n == 0 or CAL.is_working_day(e) else 1)
    if n == 0:
        assert back == e
    else:
        assert back < e and CAL.is_working_day(back)
        assert CAL.add_working_days(back, n).day == CAL.next_working_day(e)


@PROPS
@given(DATES, DATES, DATES)
def test_between_is_additive_and_antisymmetric(a: date, b: date, c: date) -> None:
    ab, bc = CAL.working_days_between(a, b), CAL.working_days_between(b, c)
    assert ab + bc == CAL.working_days_between(a, c)
    assert CAL.working_days_between(b, a) == -ab


@PROPS
@given(DATES, COUNTS)
def test_provisional_exactly_when_an_unknown_year_is_touched(d: date, n: int) -> None:
    due = CAL.add_working_days(d, n)
    assert due.provisional == (due.day.year > LAST_KNOWN)  # d <= due.day, and known years come first
    back = CAL.subtract_working_days(d, n)
    assert back.provisional == (d.year > LAST_KNOWN or back.day.year < FIRST_KNOWN)  # 300 days back from 2005


@PROPS
@given(DATES, st.booleans())
def test_next_working_day_is_add_one(d: date, inclusive: bool) -> None:
    nxt = CAL.next_working_day(d, inclusive=inclusive)
    assert CAL.is_working_day(nxt)
    assert nxt == (CAL.add_working_days(d - timedelta(days=1), 1).day if inclusive
                   else CAL.add_working_days(d, 1).day)


_MIRRORS: dict[int, WorkCalendar] = {}


def mirror(year: int) -> WorkCalendar:
    """A calendar whose override for `year` is the package's own data for that year."""
    if year not in _MIRRORS:
        _MIRRORS[year] = WorkCalendar({year: package_year(year)})
    return _MIRRORS[year]


@PROPS
@given(st.integers(min_value=2005, max_value=LAST_KNOWN), DATES, COUNTS)
def test_overrides_equal_to_the_package_give_the_same_answers(year: int, d: date, n: int) -> None:
    cal = mirror(year)
    start = d.replace(year=year) if (d.month, d.day) != (2, 29) else date(year, 2, 28)
    assert cal.add_working_days(start, n) == CAL.add_working_days(start, n)
    assert cal.subtract_working_days(start, n) == CAL.subtract_working_days(start, n)
    assert cal.working_days_between(start, d) == CAL.working_days_between(start, d)
    assert cal.is_working_day(start) == CAL.is_working_day(start)
    assert cal.year(year).working_days == CAL.year(year).working_days
