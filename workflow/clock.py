"""Injectable time: `ZWGK_NOW` (an ISO time with offset) lets an office ask "what if" and tests travel."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from workflow.errors import InvalidInput


def parse_instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("'{text}' is not an ISO time (like 2026-10-09T09:00:00+08:00)", text=text) from None
    if moment.tzinfo is None:
        raise InvalidInput("time '{text}' needs an offset (like +08:00)", text=text)
    return moment


def stamp(moment: datetime) -> str:
    """How every time is stored: UTC, microseconds, so that stored times compare as text."""
    if moment.tzinfo is None:
        raise InvalidInput("the clock returned a time without a time zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def running_from(moment: datetime, since: float | None = None) -> Callable[[], datetime]:
    """A clock that starts at `moment` and runs at the real pace (a daemon asked "what if it were then").

    `since`: the wall time (Unix seconds) at which it read `moment`, so that processes started one after the
    other share one clock (`ZWGK_NOW_SINCE`), instead of each starting at `moment` when it starts."""
    started = time.monotonic()
    if since is not None:
        moment += timedelta(seconds=time.time() - since)
    return lambda: moment + timedelta(seconds=time.monotonic() - started)


def system() -> datetime:
    return datetime.now(UTC)
