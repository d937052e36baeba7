"""Delivering the outbox: claim due notifications, send each, mark it sent; retry, then dead-letter.

Claims are rows marked `sending` by one daemon until `claimed_until`: on PostgreSQL several daemons claim
side by side with `FOR UPDATE SKIP LOCKED`; on SQLite one daemon at a time holds the `sender` lease.
A daemon killed mid-send leaves its claims to expire and be claimed again: that one message may go out
twice, with the same idempotency key for the channel to recognise.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from notifiers import Contact, Message, Notifier, Result
from workflow import schema as t
from workflow.clock import stamp
from workflow.config import Reminders
from workflow.logs import get_logger
from workflow.sql import statements
from workflow.uow import Work

log = get_logger("zwgk.outbox")
# Within a batch, claims are renewed and checked again every second (or quarter lease, if shorter): fast
# channels never pay for it, a slow mail relay cannot outlive its claim or send a reminder no longer due.
RECHECK_AFTER = 1.0

STATUSES = ("pending", "sending", "sent", "dead", "cancelled")


@dataclass(frozen=True)
class Notification:
    id: int
    key: str
    deadline_id: int | None  # None: a seal's digest for a witness
    step: str
    recipient: str
    channel: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None


def listing(work: Work, *, status: str | None, limit: int) -> list[Notification]:
    n = t.notification.c
    q = select(n.id, n.key, n.deadline_id, n.step, n.recipient, n.channel, n.subject, n.status, n.attempts,
               n.next_attempt_at, n.last_error, n.sent_at).order_by(n.id.desc()).limit(limit)
    if status is not None:
        q = q.where(n.status == status)
    return [Notification(r["id"], r["key"], r["deadline_id"], r["step"], r["recipient"], r["channel"], r["subject"],
                         r["status"], r["attempts"], datetime.fromisoformat(r["next_attempt_at"]), r["last_error"],
                         datetime.fromisoformat(r["sent_at"]) if r["sent_at"] else None) for r in work.core(q)]


@dataclass
class Tally:
    sent: int = 0
    failed: int = 0
    dead: int = 0


class Sender:
    def __init__(self, engine: Engine, settings: Reminders, channels: Mapping[str, Notifier], me: str,
                 clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.settings = settings
        self.channels = channels
        self.me = me
        self.clock = clock
        self.pg = engine.dialect.name == "postgresql"
        self.sql = statements(engine.dialect.name, engine.dialect.paramstyle)
        self.recheck_after = min(RECHECK_AFTER, settings.lease_seconds / 4)

    def deliver(self, *, stop: Callable[[], bool] = lambda: False) -> Tally:
        """Send everything due now, batch after batch, until nothing is due or `stop()` says so."""
        tally = Tally()
        self._cancel_stale()
        with self._marker() as mark:
            while not stop():
                claimed = self._claim()
                if not claimed:
                    break
                checked, kept = time.monotonic(), None
                for i, (row, contact) in enumerate(claimed):
                    if stop():  # hand back what was claimed but not sent
                        self.release()
                        log.info("stopping", unsent=len(claimed) - i)
                        return tally
                    if time.monotonic() - checked > self.recheck_after:  # a slow channel: the batch takes a while
                        kept, checked = self._renew(), time.monotonic()
                    if kept is not None and row.id not in kept:
                        log.info("skipped", notification=row.id, why="no longer ours or no longer wanted")
                        continue
                    self._send(row, contact, tally, mark)
        self._cancel_stale()
        return tally

    def _renew(self) -> set[int]:
        until = self.clock() + timedelta(seconds=self.settings.lease_seconds)
        with self.engine.begin() as conn:
            kept = set(conn.execute(self.sql.clause("ob_renew"), {"me": self.me, "until": stamp(until)}).scalars())
            conn.execute(self.sql.clause("ob_unwanted"), {"me": self.me})
        return kept

    def _cancel_stale(self) -> None:
        with self.engine.begin() as conn:
            stale = conn.execute(self.sql.clause("ob_stale"), {"now": stamp(self.clock())}).rowcount
        if stale:
            log.info("cancelled", notifications=stale, why="their deadlines were met, cancelled or moved")

    def _claim(self) -> list[tuple[Any, Contact]]:
        now = self.clock()
        until = now + timedelta(seconds=self.settings.lease_seconds)
        with self.engine.begin() as conn:
            rows = conn.execute(self.sql.clause("ob_claim"), {"me": self.me, "now": stamp(now), "until": stamp(until),
                                                 "n": self.settings.batch}).all()
            if not rows:
                return []
            ids = sorted({r.recipient for r in rows})
            found = conn.execute(select(t.person.c.id, t.person.c.name, t.person.c.email, t.person.c.phone)
                                 .where(t.person.c.id.in_(ids)))
            contacts = {r.id: Contact(r.id, r.name, r.email, r.phone) for r in found}
        return [(r, contacts.get(r.recipient, Contact(r.recipient, r.recipient))) for r in sorted(rows, key=_id)]

    def _send(self, row: Any, contact: Contact, tally: Tally, mark: Callable[[str, dict[str, Any]], int]) -> None:
        notifier = self.channels.get(row.channel)
        if notifier is None:
            result = Result(False, f"channel '{row.channel}' is not configured", retry=True)
        else:
            message = Message(row.key, contact, row.address, row.subject, row.text, json.loads(row.fields))
            try:
                result = notifier.send(message)
            except Exception as e:  # a third-party notifier's bug must not stop the daemon
                result = Result(False, f"{type(e).__name__}: {e}", retry=True)
        now = self.clock()
        if result.ok:
            if mark("ob_sent", {"id": row.id, "me": self.me, "now": stamp(now)}):
                tally.sent += 1
            else:  # our lease ran out and another daemon claimed it: it sends again, with the same key
                log.warning("claim_lost", notification=row.id)
            return
        dead = not result.retry or row.attempts >= self.settings.max_attempts
        retry_at = now + timedelta(seconds=self.backoff(row.attempts))
        if not mark("ob_failed", {"id": row.id, "me": self.me, "status": "dead" if dead else "pending",
                              "retry_at": stamp(retry_at), "error": result.detail[:2000]}):
            log.warning("claim_lost", notification=row.id)
            return
        tally.failed += 1
        tally.dead += dead
        log.warning("dead_letter" if dead else "send_failed", notification=row.id, channel=row.channel,
                    attempts=row.attempts, error=result.detail[:200])

    @contextmanager
    def _marker(self) -> Iterator[Callable[[str, dict[str, Any]], int]]:
        """`mark(sql, params)`: one statement in a transaction of its own that returns before its commit
        reaches the disk, on a DBAPI connection held for the whole delivery (a commit per message is the
        cost that matters here).

        A mark lost to a power cut only means the message goes out again, with the same key; a daemon
        killed after the commit loses nothing, since the database has it. Signatures keep full durability:
        the setting is put back before the connection returns to the pool.
        """
        raw = self.engine.raw_connection()
        driver: Any = raw.driver_connection
        cur = driver.cursor()
        if self.pg:
            # One statement is one transaction: a single round trip instead of BEGIN, UPDATE and COMMIT.
            driver.autocommit = True
            relaxed, restore = "SET synchronous_commit = off", "RESET synchronous_commit"
        else:
            level = cur.execute("PRAGMA synchronous").fetchone()[0]  # a host's engine gets back what it had
            relaxed, restore = "PRAGMA synchronous = NORMAL", f"PRAGMA synchronous = {int(level)}"
        cur.execute(relaxed)

        def mark(sql: str, params: dict[str, Any]) -> int:
            cur.execute(self.sql[sql], params)
            if getattr(driver, "in_transaction", False):  # a host's SQLite engine may let the driver begin
                driver.commit()
            return int(cur.rowcount)

        try:
            yield mark
        finally:
            try:
                cur.execute(restore)
                if self.pg:
                    driver.autocommit = False
            finally:
                raw.close()

    def backoff(self, attempts: int) -> float:
        """Exponential, capped, with jitter so that daemons that failed together do not retry together."""
        ceiling = min(self.settings.backoff_max_seconds, self.settings.backoff_seconds * 2 ** (attempts - 1))
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 - jitter, not secrecy

    def release(self) -> int:
        """Give back what this daemon claimed and has not sent (on a clean stop)."""
        with self.engine.begin() as conn:
            return conn.execute(self.sql.clause("ob_release"), {"me": self.me}).rowcount


def _id(row: Any) -> int:
    return int(row.id)


def hold_lease(engine: Engine, name: str, me: str, now: datetime, seconds: float) -> bool:
    """Take or renew the lease `name`; True if this holder has it until `now + seconds`."""
    sql = statements(engine.dialect.name)
    with engine.begin() as conn:
        conn.execute(sql.clause("lease_take"), {"name": name, "me": me, "now": stamp(now),
                                                "until": stamp(now + timedelta(seconds=seconds))})
        return conn.execute(sql.clause("lease_holder"), {"name": name}).scalar() == me


def drop_lease(engine: Engine, name: str, me: str) -> None:
    with engine.begin() as conn:
        conn.execute(statements(engine.dialect.name).clause("lease_drop"), {"name": name, "me": me})
