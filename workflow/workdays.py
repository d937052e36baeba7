"""China's working-day calendar: the State Council's schedule, with its working weekends (调休).

Where a year's days come from, first match wins:
1. overrides given by the office (TOML, see `load_overrides`): such a year is taken whole from there;
2. the `chinese_calendar` package, for the years it knows;
3. otherwise the year is unknown: Monday–Friday minus the fixed-date statutory holidays, and every answer
   that touched it is flagged provisional (the lunar holidays and their 调休 are not known in advance).

Each year is turned once into a table of working-day flags and running counts, so a deadline `n` working
days away is a binary search, not a walk: these calls run inside database transactions.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import tomllib
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, date, datetime
from functools import cache
from itertools import accumulate
from types import MappingProxyType
from typing import Literal, NamedTuple

import chinese_calendar

from states.errors import Phrase
from workflow.errors import InvalidInput
from workflow.logs import get_logger

__all__ = [
    "Due", "SpecialDay", "WorkCalendar", "YearDays", "YearReport", "load_overrides", "reset_unknown_year_warnings",
]

log = get_logger("zwgk.calendar")

Source = Literal["overrides", "chinese_calendar", "provisional"]
DayKind = Literal["holiday", "workday"]

# 全国年节及纪念日放假办法 as revised in 2024 (in force from 2025): the holidays on fixed Gregorian dates.
# The others (Spring Festival, Qingming, Dragon Boat, Mid-Autumn) move, so an unknown year cannot have them.
FIXED_HOLIDAYS: tuple[tuple[int, int, str], ...] = (
    (1, 1, "New Year's Day"),
    (5, 1, "Labour Day"), (5, 2, "Labour Day"),
    (10, 1, "National Day"), (10, 2, "National Day"), (10, 3, "National Day"),
)
_PROVISIONAL_RULE = "fixed-dates-2024"  # part of the fingerprint: change it when FIXED_HOLIDAYS changes

_WEEKDAY_NAMES = (Phrase("Monday"), Phrase("Tuesday"), Phrase("Wednesday"), Phrase("Thursday"), Phrase("Friday"))
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")  # date.fromisoformat alone also takes 20270101, 2027-W01-1, ...
_YEAR_RE = re.compile(r"\d{4}")
_KEYS = ("holidays", "workdays")


@dataclass(frozen=True, slots=True)
class Due:
    day: date
    provisional: bool  # the answer touched a year whose holidays are not known yet


@dataclass(frozen=True, slots=True)
class YearDays:
    """One year's schedule: its holidays (any weekday) and its working Saturdays/Sundays."""

    holidays: frozenset[date]
    workdays: frozenset[date] = frozenset()
    names: Mapping[date, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # Frozen means frozen: copy whatever collections were passed so the caller cannot change them later.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        object.__setattr__(self, "names", MappingProxyType(dict(self.names)))


class SpecialDay(NamedTuple):
    day: date
    kind: DayKind
    name: str | None


@dataclass(frozen=True, slots=True)
class YearReport:
    year: int
    source: Source
    days: tuple[SpecialDay, ...]  # holidays on Mon–Fri and working weekends, by date
    working_days: int


# --- the "unknown year" warning: once per year per process -------------------------------------------------

_warned_years: set[int] = set()
_warned_lock = threading.Lock()


def reset_unknown_year_warnings() -> None:
    """Forget which unknown years were already warned about (for tests)."""
    with _warned_lock:
        _warned_years.clear()


def _warn_unknown(year: int) -> None:
    with _warned_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    log.warning("calendar_year_unknown", year=year)


# --- the package's data, read once --------------------------------------------------------------------------

@cache
def _package_years() -> dict[int, YearDays]:
    # Read the package's dicts once: its functions raise for unknown years and are slow in loops.
    holidays: dict[int, dict[date, str]] = {}
    workdays: dict[int, dict[date, str]] = {}
    for source, into in ((chinese_calendar.holidays, holidays), (chinese_calendar.workdays, workdays)):
        for day, name in source.items():
            into.setdefault(day.year, {})[day] = str(name)
    return {
        year: YearDays(frozenset(holidays[year]), frozenset(workdays.get(year, {})),
                       {**holidays[year], **workdays.get(year, {})})
        for year in holidays  # a year is known when the package lists its holidays
    }


def _package_version() -> str:
    return str(getattr(chinese_calendar, "__version__", "unknown"))


# --- validation and the TOML format -------------------------------------------------------------------------

def _check_year_days(year: int, days: YearDays, where: str) -> None:
    """The checks that hold whatever way a year's days were given."""
    for key, dates in (("holidays", days.holidays), ("workdays", days.workdays)):
        for day in sorted(dates, key=lambda d: d.isoformat() if isinstance(d, date) else repr(d)):
            if not isinstance(day, date) or isinstance(day, datetime):
                raise InvalidInput("{source}: [{year}] {key}: {day!r} is not a date", source=where, year=year, key=key,
                                   day=day)
            if day.year != year:
                raise InvalidInput("{source}: [{year}] {key}: {day} is not in {year}", source=where, year=year, key=key,
                                   day=day.isoformat())
    both = days.holidays & days.workdays
    if both:
        raise InvalidInput("{source}: [{year}] {day} is both a holiday and a workday", source=where, year=year,
                           day=min(both).isoformat())
    for day in sorted(days.workdays):
        if day.weekday() < 5:  # a "workday" on Mon–Fri is a typo: those work anyway
            raise InvalidInput("{source}: [{year}] workdays: {day} is a {weekday}, not a Saturday or Sunday",
                               source=where, year=year, day=day.isoformat(), weekday=_WEEKDAY_NAMES[day.weekday()])
    # A holiday on a weekend is allowed: the State Council lists whole periods, weekends included.
    for day in days.names:
        if day not in days.holidays and day not in days.workdays:
            raise InvalidInput("{source}: [{year}] names: {day!r} is neither a holiday nor a workday", source=where,
                               year=year, day=day)


def _parse_day(text: str, year: int, key: str, raw: object, source: str) -> date:
    bad = InvalidInput("{source}: [{year}] {key}: {value!r} is not a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD",
                       source=source, year=year, key=key, value=raw)
    if not _DATE_RE.fullmatch(text):
        raise bad
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise bad from None


def _parse_entries(value: object, year: int, key: str, source: str) -> set[date]:
    if not isinstance(value, list):
        raise InvalidInput("{source}: [{year}] {key} must be a list of dates or ranges, not {value!r}", source=source,
                           year=year, key=key, value=value)
    days: set[date] = set()
    for item in value:
        if isinstance(item, date) and not isinstance(item, datetime):
            first = last = item  # a TOML date literal: 2027-01-01 without quotes
        elif isinstance(item, str):
            parts = item.split("..")
            if len(parts) > 2:
                raise InvalidInput("{source}: [{year}] {key}: {value!r} is not a date or a range", source=source,
                                   year=year, key=key, value=item)
            first = _parse_day(parts[0], year, key, item, source)
            last = _parse_day(parts[-1], year, key, item, source)
            if last < first:
                raise InvalidInput("{source}: [{year}] {key}: {value!r} ends before it starts", source=source,
                                   year=year, key=key, value=item)
        else:
            raise InvalidInput("{source}: [{year}] {key}: {value!r} is not a date or a range", source=source, year=year,
                               key=key, value=item)
        if first.year != year or last.year != year:
            raise InvalidInput("{source}: [{year}] {key}: {value!r} is not in {year}", source=source, year=year,
                               key=key, value=item)
        days.update(date.fromordinal(o) for o in range(first.toordinal(), last.toordinal() + 1))
    return days


def load_overrides(text: str, *, source: str) -> dict[int, YearDays]:
    """Parse the office's year overrides; every problem is one `InvalidInput` line naming `source`, year and value.

        [2027]
        holidays = ["2027-01-01", "2027-02-06..2027-02-13"]   # dates or inclusive ranges, weekends allowed
        workdays = ["2027-02-14"]                             # working Saturdays/Sundays only
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput("{source}: not valid TOML: {error}", source=source, error=" ".join(str(e).split())) from None
    years: dict[int, YearDays] = {}
    for key, table in data.items():
        if not _YEAR_RE.fullmatch(key) or not MINYEAR <= int(key) <= MAXYEAR:
            raise InvalidInput("{source}: {key!r} is not a year (tables are named like [2027])", source=source, key=key)
        year = int(key)
        if not isinstance(table, dict):
            raise InvalidInput("{source}: {year} must be a table [{year}] with holidays and workdays", source=source,
                               year=year)
        unknown = sorted(set(table) - set(_KEYS))
        if unknown:
            raise InvalidInput("{source}: [{year}] unknown key {key!r} (expected holidays, workdays)", source=source,
                               year=year, key=unknown[0])
        if "holidays" not in table:
            # A year given here replaces everything else for that year: without holidays it would have none.
            raise InvalidInput("{source}: [{year}] has no holidays list (a year given here is taken whole)",
                               source=source, year=year)
        holidays = _parse_entries(table["holidays"], year, "holidays", source)
        if not holidays:
            raise InvalidInput("{source}: [{year}] holidays is empty (a year given here is taken whole)", source=source,
                               year=year)
        workdays = _parse_entries(table.get("workdays", []), year, "workdays", source)
        days = YearDays(frozenset(holidays), frozenset(workdays))
        _check_year_days(year, days, source)
        years[year] = days
    return years


# --- the calendar -------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Table:
    """One year, precomputed: `cum[i]` is the number of working days among the year's first `i` days."""

    year: int
    first: int  # ordinal of 1 January
    flags: bytes  # 1 = working day, by day of year
    cum: list[int]
    total: int
    source: Source
    days: YearDays
    provisional: bool


def _check_day(day: object) -> None:
    # A datetime is a date too, but its day depends on a time zone: callers convert in the office's zone first.
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InvalidInput("{day!r} is not a date (convert times to the office's day first)", day=day)


def _check_n(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidInput("number of working days must be a whole number >= 0, not {number!r}", number=n)


class WorkCalendar:
    """Working days per the State Council's schedule; safe to share between threads (tables are immutable)."""

    def __init__(self, overrides: Mapping[int, YearDays] | None = None, *, package: bool = True) -> None:
        self._overrides: dict[int, YearDays] = {}
        for year, days in (overrides or {}).items():
            if isinstance(year, bool) or not isinstance(year, int) or not MINYEAR <= year <= MAXYEAR:
                raise InvalidInput("overrides: {year!r} is not a year", year=year)
            if not isinstance(days, YearDays):
                raise InvalidInput("overrides: [{year}] must be YearDays, not {type}", year=year,
                                   type=type(days).__name__)
            _check_year_days(year, days, "overrides")
            self._overrides[year] = days
        self._package = package
        self._tables: dict[int, _Table] = {}
        self._fingerprint = self._compute_fingerprint()

    @classmethod
    def from_toml(cls, text: str, *, source: str = "calendar") -> WorkCalendar:
        return cls(load_overrides(text, source=source))

    # -- what is known

    def knows(self, year: int) -> bool:
        return year in self._overrides or (self._package and year in _package_years())

    def fingerprint(self) -> str:
        return self._fingerprint

    def _compute_fingerprint(self) -> str:
        # What decides working days: override dates, package version, the rule for unknown years. Names do not.
        canon = {
            "overrides": {str(y): {"holidays": sorted(d.isoformat() for d in days.holidays),
                                   "workdays": sorted(d.isoformat() for d in days.workdays)}
                          for y, days in sorted(self._overrides.items())},
            "package": _package_version() if self._package else None,
            "unknown_years": _PROVISIONAL_RULE,
        }
        return hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()[:16]

    # -- per-year tables

    def _table(self, year: int) -> _Table:
        table = self._tables.get(year)
        return table if table is not None else self._build(year)

    def _build(self, year: int) -> _Table:
        if not MINYEAR <= year <= MAXYEAR:
            raise InvalidInput("year {year} is outside the calendar ({first}..{last})", year=year, first=MINYEAR,
                               last=MAXYEAR)
        source: Source
        if year in self._overrides:
            source, days = "overrides", self._overrides[year]
        elif self._package and year in _package_years():
            source, days = "chinese_calendar", _package_years()[year]
        else:
            source = "provisional"
            fixed = {date(year, m, d): name for m, d, name in FIXED_HOLIDAYS}
            days = YearDays(frozenset(fixed), frozenset(), fixed)
            _warn_unknown(year)
        first = date(year, 1, 1).toordinal()
        length = date(year, 12, 31).toordinal() - first + 1
        holidays = {d.toordinal() - first for d in days.holidays}
        workdays = {d.toordinal() - first for d in days.workdays}
        # Ordinal 1 (0001-01-01) is a Monday, so (ordinal - 1) % 7 is the weekday with Monday = 0.
        flags = bytes(
            1 if i in workdays or (i not in holidays and (first + i - 1) % 7 < 5) else 0 for i in range(length)
        )
        cum = list(accumulate(flags, initial=0))
        table = _Table(year, first, flags, cum, cum[-1], source, days, source == "provisional")
        self._tables[year] = table  # racing threads build equal tables: last write wins, harmlessly
        return table

    def _forward(self, table: _Table, target: int, provisional: bool) -> Due:
        """The day where the running count of `table`'s year first reaches `target` (may run into later years)."""
        while target > table.total:
            target -= table.total
            table = self._table(table.year + 1)
            provisional = provisional or table.provisional
        return Due(date.fromordinal(table.first + bisect_left(table.cum, target) - 1), provisional)

    # -- questions

    def is_working_day(self, day: date) -> bool:
        _check_day(day)
        table = self._tables.get(day.year) or self._build(day.year)
        return table.flags[day.toordinal() - table.first] == 1

    def add_working_days(self, start: date, n: int) -> Due:
        """The n-th working day after `start` (which is not counted); n == 0 gives `start` itself."""
        _check_day(start)
        _check_n(n)
        table = self._tables.get(start.year) or self._build(start.year)
        if n == 0:
            return Due(start, table.provisional)
        return self._forward(table, table.cum[start.toordinal() - table.first + 1] + n, table.provisional)

    def subtract_working_days(self, end: date, n: int) -> Due:
        """The n-th working day before `end` (which is not counted); n == 0 gives `end` itself."""
        _check_day(end)
        _check_n(n)
        table = self._tables.get(end.year) or self._build(end.year)
        provisional = table.provisional
        if n == 0:
            return Due(end, provisional)
        target = table.cum[end.toordinal() - table.first] - n + 1  # running count of the day we want
        while target < 1:
            table = self._table(table.year - 1)
            target += table.total
            provisional = provisional or table.provisional
        return Due(date.fromordinal(table.first + bisect_left(table.cum, target) - 1), provisional)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end < start, so between(a, b) == -between(b, a)."""
        _check_day(start)
        _check_day(end)
        if end < start:
            return -self.working_days_between(end, start)
        first, last = self._table(start.year), self._table(end.year)
        whole_years = sum(self._table(y).total for y in range(start.year, end.year))
        return whole_years + last.cum[end.toordinal() - last.first + 1] - first.cum[start.toordinal() - first.first + 1]

    def next_working_day(self, day: date, *, inclusive: bool = True) -> date:
        """The first working day on or after `day` (strictly after when not inclusive)."""
        _check_day(day)
        table = self._table(day.year)
        index = day.toordinal() - table.first
        return self._forward(table, table.cum[index if inclusive else index + 1] + 1, table.provisional).day

    def year(self, year: int) -> YearReport:
        """One year as `zwgk calendar show YEAR` prints it."""
        if isinstance(year, bool) or not isinstance(year, int):
            raise InvalidInput("{year!r} is not a year", year=year)
        table = self._table(year)
        days = table.days
        special = [SpecialDay(d, "holiday", days.names.get(d)) for d in days.holidays if d.weekday() < 5]
        special += [SpecialDay(d, "workday", days.names.get(d)) for d in days.workdays]
        return YearReport(year, table.source, tuple(sorted(special)), table.total)
