"""Delivering the outbox: claim due notifications, send each, mark it sent; retry, then dead-letter.

Each channel has a sender of its own (a thread per channel in a pass), so a hung mail relay holds up e-mail only.
A pass sends only what was due when it began, and a channel stops for the pass at its first failure worth
retrying: the rest of its messages wait for the next pass, not for the relay's timeout once per message.

A claim marks rows `sending` for one daemon until `claimed_until`, under a token new at each claim (a fencing
token): renewing, marking sent and marking failed all require the token, so a daemon whose claim was taken over
can no longer touch the row. On PostgreSQL several daemons claim side by side with `FOR UPDATE SKIP LOCKED`; on
SQLite one daemon at a time holds the `sender` lease.

A message is sent only while the claim has time left for the channel's timeout and as much again
(`reminders.lease_seconds` must be at least three times the largest channel timeout; the claim is renewed first
when it has less). Another daemon takes over an expired claim only `reminders.clock_skew_seconds` after it
expired by its own clock. So a live daemon never sends what another has claimed. What remains: a daemon killed
mid-send, or *paused* (SIGSTOP, a VM frozen, swapping) for longer than the skew margin after a send and before
its mark, has its claim taken over, and that one message goes out again, with the same idempotency key for the
channel to recognise.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from notifiers import Contact, Message, Notifier, Result, send_timeout
from workflow import schema as t
from workflow.clock import stamp
from workflow.config import Reminders
from workflow.db import READ_ONLY
from workflow.errors import InvalidInput
from workflow.logs import get_logger
from workflow.metrics import NO_METRICS, Metrics
from workflow.signals import stop_signals_blocked
from workflow.sql import statements
from workflow.uow import Work

log = get_logger("zwgk.outbox")
# Within a batch, claims are checked again every second (or quarter lease, if shorter): fast channels never pay
# for it, and a slow mail relay does not send a reminder that is no longer due.
RECHECK_AFTER = 1.0

# A message is sent only while its claim has this many times the channel's timeout left (the timeout, and as much
# again to spare); a lease is at least one timeout more than that, so a fresh claim always leaves room to send.
LEFT_PER_TIMEOUT = 2
LEASE_PER_TIMEOUT = LEFT_PER_TIMEOUT + 1

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
    acked_by: str | None = None  # a dead letter someone has seen to, and when
    acked_at: datetime | None = None


def listing(work: Work, *, status: str | None, limit: int) -> list[Notification]:
    n = t.notification.c
    q = select(n.id, n.key, n.deadline_id, n.step, n.recipient, n.channel, n.subject, n.status, n.attempts,
               n.next_attempt_at, n.last_error, n.sent_at, n.acked_by, n.acked_at).order_by(n.id.desc()).limit(limit)
    if status is not None:
        q = q.where(n.status == status)
    return [Notification(r["id"], r["key"], r["deadline_id"], r["step"], r["recipient"], r["channel"], r["subject"],
                         r["status"], r["attempts"], datetime.fromisoformat(r["next_attempt_at"]), r["last_error"],
                         _moment(r["sent_at"]), r["acked_by"], _moment(r["acked_at"])) for r in work.core(q)]


def _moment(stamped: str | None) -> datetime | None:
    return datetime.fromisoformat(stamped) if stamped else None


@dataclass
class Tally:
    sent: int = 0
    failed: int = 0
    dead: int = 0

    def add(self, other: Tally) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.dead += other.dead


@dataclass
class Claim:
    """One claimed batch of one channel; `expires` is when its claim runs out, on this process's monotonic clock."""

    token: str
    rows: list[tuple[Any, Contact]]
    expires: float
    checked: float  # when it was last renewed (or claimed)
    kept: set[int] | None = None  # what the last renewal kept (None: all of it)

    def left(self) -> float:
        return self.expires - time.monotonic()


class Sender:
    def __init__(self, engine: Engine, settings: Reminders, channels: Mapping[str, Notifier], me: str,
                 clock: Callable[[], datetime], metrics: Metrics = NO_METRICS) -> None:
        self.engine = engine
        self.settings = settings
        self.channels = channels
        self.me = me
        self.clock = clock
        self.metrics = metrics
        self.pg = engine.dialect.name == "postgresql"
        self.sql = statements(engine.dialect.name, engine.dialect.paramstyle)
        self.recheck_after = min(RECHECK_AFTER, settings.lease_seconds / 4)

    def deliver(self, *, stop: Callable[[], bool] = lambda: False) -> Tally:
        """Send what is due now, a sender per channel side by side, until each is done or `stop()` says so."""
        self._cancel_stale()
        due = self.clock()
        with self.engine.begin() as conn:
            names = sorted(conn.execute(self.sql.clause("ob_due_channels"),
                                        {"due": stamp(due), "expired": self._expired(due)}).scalars())
        tallies = {name: Tally() for name in names}
        errors: list[BaseException] = []

        def run(name: str) -> None:
            try:
                self._channel(name, due, stop, tallies[name])
            except BaseException as e:  # raised again below, in the caller's thread
                errors.append(e)

        threads = [threading.Thread(target=run, args=(name,), name=f"send-{name}", daemon=True) for name in names]
        with stop_signals_blocked():  # a stop signal is the caller's, who acts on it while joining them
            for thread in threads:
                thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        self._cancel_stale()
        total = Tally()
        for tally in tallies.values():
            total.add(tally)
        return total

    def _channel(self, name: str, due: datetime, stop: Callable[[], bool], tally: Tally) -> None:
        """One channel's share of a pass: batch after batch of what was due at `due`."""
        notifier = self.channels.get(name)
        need = LEFT_PER_TIMEOUT * send_timeout(notifier) if notifier is not None else 0.0
        with self._marker() as mark:
            while not stop():
                claim = self._claim(name, due)
                if claim is None:
                    return
                if not self._send_claimed(claim, need, stop, tally, mark):
                    self._hand_back(claim)
                    return

    def _send_claimed(self, claim: Claim, need: float, stop: Callable[[], bool], tally: Tally,
                      mark: Callable[[str, dict[str, Any]], int]) -> bool:
        """Send a claimed batch; False if it stopped early (asked to, or the channel failed), leaving the rest."""
        for row, contact in claim.rows:
            if stop():
                log.info("stopping", channel=row.channel)
                return False
            if claim.left() < need or time.monotonic() - claim.checked > self.recheck_after:
                self._renew(claim)
            if claim.kept is not None and row.id not in claim.kept:
                log.info("skipped", notification=row.id, why="no longer ours or no longer wanted")
                continue
            if claim.left() < need:  # the renewal itself took that long: the database is struggling
                log.warning("claim_too_short", notification=row.id, left=round(claim.left(), 3), needed=need)
                return False
            if not self._send(row, contact, claim.token, tally, mark):
                return False
        return True

    def _expired(self, now: datetime) -> str:
        """Claims that ran out before this are taken over: other daemons' clocks may run a little ahead of ours."""
        return stamp(now - timedelta(seconds=self.settings.clock_skew_seconds))

    def _renew(self, claim: Claim) -> None:
        started, now = time.monotonic(), self.clock()
        until = now + timedelta(seconds=self.settings.lease_seconds)
        with self.engine.begin() as conn:
            params = {"token": claim.token, "until": stamp(until)}
            claim.kept = set(conn.execute(self.sql.clause("ob_renew"), params).scalars())
            conn.execute(self.sql.clause("ob_unwanted"), {"token": claim.token})
        claim.expires, claim.checked = started + self.settings.lease_seconds, time.monotonic()

    def _cancel_stale(self) -> None:
        with self.engine.begin() as conn:
            stale = conn.execute(self.sql.clause("ob_stale"), {"expired": self._expired(self.clock())}).rowcount
        if stale:
            log.info("cancelled", notifications=stale, why="their deadlines were met, cancelled or moved")

    def _claim(self, channel: str, due: datetime) -> Claim | None:
        started, now = time.monotonic(), self.clock()
        token = uuid.uuid4().hex
        params = {"me": self.me, "token": token, "channel": channel, "due": stamp(due), "expired": self._expired(now),
                  "until": stamp(now + timedelta(seconds=self.settings.lease_seconds)), "n": self.settings.batch}
        with self.engine.begin() as conn:
            rows = conn.execute(self.sql.clause("ob_claim"), params).all()
            if not rows:
                return None
            ids = sorted({r.recipient for r in rows})
            found = conn.execute(select(t.person.c.id, t.person.c.name, t.person.c.email, t.person.c.phone)
                                 .where(t.person.c.id.in_(ids)))
            contacts = {r.id: Contact(r.id, r.name, r.email, r.phone) for r in found}
        # In the claim's order (RETURNING has none): what failed last pass goes after what has not been tried.
        claimed = [(r, contacts.get(r.recipient, Contact(r.recipient, r.recipient)))
                   for r in sorted(rows, key=lambda r: (r.next_attempt_at, r.id))]
        return Claim(token, claimed, started + self.settings.lease_seconds, time.monotonic())

    def _send(self, row: Any, contact: Contact, token: str, tally: Tally,
              mark: Callable[[str, dict[str, Any]], int]) -> bool:
        """Send one message and mark it; False if it failed in a way worth retrying (the channel rests this pass)."""
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
            if mark("ob_sent", {"id": row.id, "token": token, "now": stamp(now)}):
                tally.sent += 1
                self.metrics.sent(row.channel)
            else:  # our claim was taken over meanwhile (we were paused): the other daemon sends it, same key
                self._lost(row)
            return True
        dead = not result.retry or row.attempts >= self.settings.max_attempts
        retry_at = now + timedelta(seconds=self.backoff(row.attempts))
        if not mark("ob_failed", {"id": row.id, "token": token, "status": "dead" if dead else "pending",
                                  "retry_at": stamp(retry_at), "error": result.detail[:2000]}):
            self._lost(row)
            return not result.retry
        tally.failed += 1
        tally.dead += dead
        self.metrics.failed(row.channel, dead=dead)
        log.warning("dead_letter" if dead else "send_failed", notification=row.id, channel=row.channel,
                    attempts=row.attempts, error=result.detail[:200])
        return not result.retry

    def _lost(self, row: Any) -> None:
        self.metrics.claim_lost(row.channel)
        log.warning("claim_lost", notification=row.id, channel=row.channel)

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

    def _hand_back(self, claim: Claim) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.sql.clause("ob_hand_back"), {"token": claim.token})

    def release(self) -> int:
        """Give back whatever this daemon still holds (on a stop, after its senders are done)."""
        with self.engine.begin() as conn:
            return conn.execute(self.sql.clause("ob_release"), {"me": self.me}).rowcount


def unacknowledged(engine: Engine) -> int:
    """How many dead letters nobody has acknowledged yet."""
    with engine.connect() as conn:
        conn.execution_options(**{READ_ONLY: True})  # also on a read-only copy
        with conn.begin():
            return int(conn.execute(statements(engine.dialect.name).clause("ob_unacked")).scalar() or 0)


def acknowledge(engine: Engine, ids: Sequence[int] | None, by: str, now: datetime) -> int:
    """Record that `by` has seen to these dead letters (all of them, if `ids` is None); one transaction, and
    nothing recorded unless every id named is a dead letter not yet acknowledged."""
    sql = statements(engine.dialect.name)
    with engine.begin() as conn:
        if ids is None:
            return int(conn.execute(sql.clause("ob_ack_all"), {"by": by, "now": stamp(now)}).rowcount)
        for i in ids:
            if not conn.execute(sql.clause("ob_ack"), {"id": i, "by": by, "now": stamp(now)}).rowcount:
                raise InvalidInput("reminder #{reminder} is not a dead letter waiting to be acknowledged", reminder=i)
        return len(ids)


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
