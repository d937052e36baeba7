"""Appending to chains: lock the heads (in ascending order), read the time, build the hashed event, write it.

The time is read after the heads are locked, so within a chain it never goes backwards: an event records the
clock, or the latest head's time if the clock is behind it, and a clock more than `max_clock_skew` behind is
refused rather than recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from states.authority import REGISTER
from workflow.clock import stamp
from workflow.errors import ClockBehind, InvalidInput, NotFound, SchemaMissing
from workflow.ledger.events import FIELDS, Event, event_hash
from workflow.uow import Work


@dataclass(frozen=True)
class Head:
    """A chain's last event, read under its lock."""

    chain: str
    seq: int
    hash: str
    at: str


class Appender:
    """Appends the events of one unit of work."""

    def __init__(self, work: Work, clock: Callable[[], datetime], operator: str, max_skew: float) -> None:
        self.work = work
        self.clock = clock
        self.operator = operator
        self.max_skew = max_skew

    def lock(self, *chains: str) -> dict[str, Head]:
        """Lock the heads of these chains in one order, the register's first and then the units' ascending, so
        that two writers never wait on each other in a circle; return them."""
        heads = {}
        for chain in lock_order(chains):
            row = self.work.one("head_locked", {"chain": chain})
            if row is None:
                raise (SchemaMissing("the register is not started; run `zwgk init --admin ID --name NAME`")
                       if chain == REGISTER else NotFound("no unit '{unit}'", unit=chain))
            heads[chain] = Head(**row)
        return heads

    def time(self, *heads: Head) -> str:
        """The time of the events about to be appended after `heads` (those locked, and the register's head they
        are decided under, read: an event may not be dated before either, beyond the skew)."""
        now = self.clock()
        at = stamp(now)  # first: it refuses a clock without a time zone
        latest = max(h.at for h in heads)
        if at >= latest:
            return at
        behind = (datetime.fromisoformat(latest) - now).total_seconds()
        if behind > self.max_skew:
            raise ClockBehind("this computer's clock ({at}) is {behind:,.0f} s behind the last event of chain {chain} "
                              "({latest}), more than max_clock_skew ({max_skew:g} s) allows; set the clock right and "
                              "try again", at=at, behind=behind, chain=max(heads, key=lambda h: h.at).chain,
                              latest=latest, max_skew=self.max_skew)
        return latest

    def event(self, head: Head, at: str, **fields: Any) -> Event:
        """The event after `head`, hashed. `fields` are the rest of `FIELDS` (absent ones are NULL)."""
        values = {name: None for name in FIELDS} | fields | {
            "chain": head.chain, "seq": head.seq + 1, "prev_hash": head.hash, "at": at, "operator": self.operator}
        ordered = tuple(values[name] for name in FIELDS)
        try:
            digest = event_hash(ordered)
        except UnicodeEncodeError:
            raise InvalidInput("text with characters that cannot be stored (lone surrogates)") from None
        return Event._make((*ordered, digest))


def lock_order(chains: Iterable[str]) -> list[str]:
    """The register's head first, then the units' in ascending order: every writer takes them so."""
    return sorted(set(chains), key=lambda c: (c != REGISTER, c))


def appending(event: Event) -> list[tuple[str, dict[str, Any]]]:
    """The statements that store `event` and move its chain's head to it: the head's move finds no row (rowcount
    0) if another writer moved it first."""
    return [("append", event._asdict()),
            ("move_head", {"chain": event.chain, "seq": event.seq, "hash": event.hash, "at": event.at,
                           "prev": event.seq - 1})]
