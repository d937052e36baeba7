"""Injectable time: `ZWGK_NOW` (an ISO time with offset) lets an office ask "what if" and tests travel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from workflow.errors import InvalidInput

# The office's time zone: it decides which year an item id carries (and, later, which day is a working day).
OFFICE_TZ = ZoneInfo("Asia/Shanghai")


def parse_instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"'{text}' is not an ISO time (like 2026-10-09T09:00:00+08:00)") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"time '{text}' needs an offset (like +08:00)")
    return moment


def fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def system() -> datetime:
    return datetime.now(UTC)
