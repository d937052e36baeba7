"""Periods of the periodic disclosures (定期公开): `2026-10`, `2026Q3`, `2026H1`, `2026`."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from workflow.errors import InvalidInput

_FORMS = {
    "monthly": (re.compile(r"(\d{4})-(\d{2})"), "2026-10"),
    "quarterly": (re.compile(r"(\d{4})Q([1-4])"), "2026Q3"),
    "half-yearly": (re.compile(r"(\d{4})H([12])"), "2026H1"),
    "yearly": (re.compile(r"(\d{4})()"), "2026"),
}
_MONTHS = {"monthly": 1, "quarterly": 3, "half-yearly": 6, "yearly": 12}


def bounds(cycle: str, period: str) -> tuple[date, date]:
    """First and last day of `period`; InvalidInput if it is not a period of `cycle`."""
    pattern, example = _FORMS[cycle]
    m = pattern.fullmatch(period)
    index = int(m.group(2) or 1) if m else 0
    if m is None or not 1 <= index <= 12 // _MONTHS[cycle] or not 1900 < int(m.group(1)) < 2200:
        raise InvalidInput("'{period}' is not a {cycle} period (like {example})", period=period, cycle=cycle,
                           example=example)
    year, months = int(m.group(1)), _MONTHS[cycle]
    first = date(year, (index - 1) * months + 1, 1)
    return first, add_months(first, months) - timedelta(days=1)


def label(cycle: str, day: date) -> str:
    """The period of `cycle` that contains `day`."""
    if cycle == "monthly":
        return f"{day.year}-{day.month:02d}"
    if cycle == "quarterly":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    if cycle == "half-yearly":
        return f"{day.year}H{(day.month - 1) // 6 + 1}"
    return str(day.year)


def last_completed(cycle: str, today: date) -> str:
    """The latest period of `cycle` that ended before `today`."""
    first, _ = bounds(cycle, label(cycle, today))
    return label(cycle, first - timedelta(days=1))


def between(cycle: str, after: str, last: str) -> list[str]:
    """The periods after `after` up to and including `last`, oldest first."""
    out: list[str] = []
    _, end = bounds(cycle, after)
    while True:
        period = label(cycle, end + timedelta(days=1))
        if bounds(cycle, period)[0] > bounds(cycle, last)[0]:
            return out
        out.append(period)
        _, end = bounds(cycle, period)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day (31 Jan + 1 month is the end of February)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
