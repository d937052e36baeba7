"""The unit of work: one transaction, ours or the host's, on the driver's own cursor, and what to announce after.

Every command of the engine runs in one: `Workflow` opens it, a handler does its reads and writes through it,
and the signatures it made are announced once they are committed (ours: after our commit; the host's: after
the host commits, and never for what was rolled back).

Statements go through the driver's cursor, not SQLAlchemy: a signature is a handful of small statements, and
SQLAlchemy's Core costs ~50-75 µs of Python for each (bench/signatures.py). Rows come back by column name.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workflow.db import READ_ONLY, is_durable
from workflow.errors import ItemChanged
from workflow.ledger.events import COLUMNS, Event
from workflow.model import Signature
from workflow.sql import Statements, statements

log = structlog.get_logger("zwgk")

HostConnection = Connection | Session
Subscriber = Callable[[Signature], None]
Row = dict[str, Any]
_SNAPSHOT = {"isolation_level": "REPEATABLE READ"}


@dataclass(frozen=True)
class Sent:
    """What one statement of a batch did."""

    rowcount: int
    rows: list[Row]


class Work:
    """One transaction's statements, by name (`workflow/sql/*.sql`)."""

    def __init__(self, cursor: Any, sql: Statements, *, pg: bool, conn: Connection | None = None) -> None:
        self.cur = cursor
        self.sql = sql
        self.pg = pg
        self._conn = conn
        self._streams = 0
        self.signed: list[Signature] = []  # to announce once committed

    @property
    def conn(self) -> Connection:
        """The SQLAlchemy Connection of a unit of work opened with `core=True` (or in a host's transaction)."""
        if self._conn is None:
            raise RuntimeError("this unit of work runs on the driver's connection alone; open it with core=True")
        return self._conn

    def rows(self, name: str, params: dict[str, Any] | None = None) -> list[Row]:
        self.cur.execute(self.sql[name], params or {})
        return _rows(self.cur)

    def one(self, name: str, params: dict[str, Any] | None = None) -> Row | None:
        found = self.rows(name, params)
        return found[0] if found else None

    def run(self, name: str, params: dict[str, Any] | None = None) -> int:
        self.cur.execute(self.sql[name], params or {})
        return int(self.cur.rowcount)

    def many(self, name: str, params: Sequence[dict[str, Any]]) -> None:
        if params:
            self.cur.executemany(self.sql[name], params)

    def send(self, batch: Sequence[tuple[str, dict[str, Any]]]) -> list[Sent]:
        """Statements sent together: one round trip on PostgreSQL (psycopg's pipeline mode), run in order, each
        with its own snapshot as if sent alone."""
        conn = self.cur.connection
        if not self.pg or not hasattr(conn, "pipeline"):  # SQLite, or psycopg2: one at a time
            out = []
            for name, params in batch:
                self.cur.execute(self.sql[name], params)
                out.append(Sent(self.cur.rowcount, _rows(self.cur)))
            return out
        cursors: list[Any] = []
        try:
            with conn.pipeline():
                for name, params in batch:
                    cursors.append(c := conn.cursor())
                    c.execute(self.sql[name], params)
            return [Sent(c.rowcount, _rows(c)) for c in cursors]
        finally:
            for c in cursors:
                c.close()

    def moved(self, sent: Sent, what: str) -> None:
        """A conditional update (a chain head, a case's version) must have found its row as it was read."""
        if sent.rowcount != 1:
            raise ItemChanged(f"{what} changed while this signature was being made; reload it and try again")

    @contextmanager
    def lenient_text(self) -> Iterator[None]:
        """While verifying SQLite: text written behind the engine's back that is not UTF-8 must come back as a
        value that hashes to nothing the engine wrote, not stop the check ("Could not decode to UTF-8")."""
        if self.pg:
            yield
            return
        conn = self.cur.connection
        before = conn.text_factory
        conn.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
        try:
            yield
        finally:
            conn.text_factory = before

    def events(self, name: str, params: dict[str, Any], size: int = 2000) -> Iterator[Event]:
        """A long query's events, streamed (a server-side cursor on PostgreSQL) so memory stays flat."""
        conn = self.cur.connection
        self._streams += 1  # a server-side cursor's name is unique while it is open; one may open in another
        cur = conn.cursor(name=f"zwgk_events_{self._streams}") if self.pg else conn.cursor()
        try:
            cur.execute(self.sql[name], params)
            checked = False
            while batch := cur.fetchmany(size):
                if not checked:
                    names = tuple(d[0] for d in cur.description)
                    if names != COLUMNS:
                        raise RuntimeError(f"statement {name} returns {names}, not the columns of an event")
                    checked = True
                for row in batch:
                    yield Event._make(row)
        finally:
            cur.close()


def _rows(cur: Any) -> list[Row]:
    if cur.description is None:
        return []
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


class UnitOfWork:
    """Opens units of work on one engine, and tells subscribers of signatures once they are committed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.plain_sqlite = engine.dialect.name == "sqlite" and not is_durable(engine)
        self.sql = statements(engine.dialect.name, engine.dialect.paramstyle)
        self.subscribers: list[Subscriber] = []
        self._pending: weakref.WeakKeyDictionary[Any, list[Signature]] = weakref.WeakKeyDictionary()

    @contextmanager
    def __call__(self, host: HostConnection | None = None, *, write: bool = True, core: bool = False) -> Iterator[Work]:
        """A unit of work in the host's transaction (`host`), or in one of our own that commits at the end (a
        read ends in a rollback: one snapshot for the whole read, and nothing of a host's disturbed).

        Our own runs on a pooled driver connection, unless `core` asks for a SQLAlchemy Connection too
        (`Work.conn`), for the listings and duties that build their queries with SQLAlchemy's Core.
        """
        if host is not None:
            conn = host.connection() if isinstance(host, Session) else host
            work = Work(_host_cursor(conn), self.sql, pg=self.pg, conn=conn)
            yield work
            self._pending_on(host, work.signed)
            return
        if core:
            with self.engine.connect() as conn:
                if not write:
                    conn.execution_options(**{READ_ONLY: True}, **_SNAPSHOT if self.pg else {})
                tx = conn.begin()
                if write and self.plain_sqlite:  # a host's engine without our BEGIN IMMEDIATE: lock now
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                work = Work(_host_cursor(conn), self.sql, pg=self.pg, conn=conn)
                try:
                    yield work
                except BaseException:
                    tx.rollback()
                    raise
                tx.commit() if write else tx.rollback()
            self._deliver(work.signed)
            return
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            if not self.pg:
                cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            elif not write:  # one snapshot: verify must not see a unit's event without the register's it names
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            work = Work(cur, self.sql, pg=self.pg)
            try:
                yield work
            except BaseException:
                raw.rollback()
                raise
            if write:
                raw.commit()
            else:
                raw.rollback()
        finally:
            raw.close()
        self._deliver(work.signed)

    # -- subscribers ------------------------------------------------------------------------------------------

    def _pending_on(self, host: HostConnection, sigs: list[Signature]) -> None:
        if not sigs or not self.subscribers:
            return
        pending = self._pending.get(host)
        if pending is None:
            pending = self._pending[host] = []
            if isinstance(host, Session):
                event.listen(host, "after_commit", self._session_committed)
            else:
                event.listen(host, "commit", self._connection_committing)
        pending.extend(sigs)

    def _take(self, host: Any) -> list[Signature]:
        sigs = self._pending.get(host) or []
        self._pending[host] = []
        return sigs

    def _session_committed(self, session: Session) -> None:
        sigs = self._take(session)
        if not sigs:
            return
        try:  # the host's commit is done: whatever happens here must not look like it failed
            with self(write=False) as work:
                committed = _committed(work, sigs)
        except Exception:
            log.exception("cannot tell subscribers of committed signatures", seqs=[s.seq for s in sigs])
            return
        self._deliver(committed)

    def _connection_committing(self, conn: Connection) -> None:
        # SQLAlchemy fires "commit" before the DBAPI commit and has no event after it. Commit the DBAPI
        # connection here, so subscribers only ever hear of durable signatures; SQLAlchemy's own commit that
        # follows then finds nothing left to do.
        sigs = self._take(conn)
        if not sigs:
            return
        try:
            conn.connection.dbapi_connection.commit()  # type: ignore[union-attr]
        except conn.dialect.loaded_dbapi.Error as e:  # as SQLAlchemy's own commit would have raised it
            raise DBAPIError.instance(None, None, e, conn.dialect.loaded_dbapi.Error) from e
        self._deliver(_committed(Work(_host_cursor(conn), self.sql, pg=self.pg), sigs))

    def _deliver(self, sigs: Sequence[Signature]) -> None:
        for sig in sigs:
            for callback in list(self.subscribers):
                try:
                    callback(sig)
                except Exception:  # a subscriber's failure must not undo a committed signature
                    log.exception("subscriber failed", case=sig.case_id, chain=sig.chain, seq=sig.seq)


def _host_cursor(conn: Connection) -> Any:
    """The driver's cursor of a Connection, inside its (SQLAlchemy) transaction."""
    if not conn.in_transaction():
        conn.begin()  # as SQLAlchemy's autobegin would: the raw cursor must run inside a transaction
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


def _committed(work: Work, sigs: list[Signature]) -> list[Signature]:
    """The signatures that are really in the log: a savepoint rolled back drops some, and their place may since
    have gone to another signature, so chain, seq and hash must all match."""
    out = []
    for s in sigs:
        row = work.one("event_hash", {"chain": s.chain, "seq": s.seq})
        if row is not None and row["hash"] == s.hash:
            out.append(s)
    return out
