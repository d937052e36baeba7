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
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import ClauseElement, Connection, Dialect, Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

from states.errors import Phrase
from workflow.db import is_durable
from workflow.errors import InvalidInput, ItemChanged
from workflow.ledger.events import COLUMNS, Event
from workflow.logs import get_logger
from workflow.model import Signature
from workflow.sql import Statements, statements

if TYPE_CHECKING:  # a host that hands us a Session has imported the ORM; importing it costs everyone else ~0.1 s
    from sqlalchemy.orm import Session

log = get_logger("zwgk")

HostConnection: TypeAlias = "Connection | Session"
Subscriber = Callable[[Signature], None]
Row = dict[str, Any]


@dataclass(frozen=True)
class Sent:
    """What one statement of a batch did."""

    rowcount: int
    rows: list[Row]


class Work:
    """One transaction's statements, by name (`workflow/sql/*.sql`)."""

    def __init__(self, cursor: Any, sql: Statements, dialect: Dialect, conn: Connection | None = None) -> None:
        self.cur = cursor
        self.sql = sql
        self.dialect = dialect
        self.pg = dialect.name == "postgresql"
        self._conn = conn
        self._streams = 0
        self.signed: list[Signature] = []  # to announce once committed

    @property
    def conn(self) -> Connection:
        """The SQLAlchemy Connection of a unit of work opened with `core=True`, for Alembic."""
        if self._conn is None:
            raise RuntimeError("this unit of work runs on the driver's connection alone; open it with core=True")
        return self._conn

    def core(self, stmt: ClauseElement) -> list[Row]:
        """A statement built with SQLAlchemy's Core (the listings, whose filters vary), run on this cursor."""
        compiled = stmt.compile(dialect=self.dialect, compile_kwargs={"render_postcompile": True})
        assert isinstance(compiled, SQLCompiler)
        params = compiled.construct_params()
        args = tuple(params[k] for k in compiled.positiontup or ()) if compiled.positional else params
        self.cur.execute(str(compiled), args)
        return _rows(self.cur)

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

    def moved(self, sent: Sent, what: Phrase | str) -> None:
        """A conditional update (a chain head, a case's version) must have found its row as it was read."""
        if sent.rowcount != 1:
            raise ItemChanged("{what} changed while this signature was being made; reload it and try again", what=what)

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

    @contextmanager
    def events(self, name: str, params: dict[str, Any], size: int = 2000) -> Iterator[Iterator[Event]]:
        """A long query's events, streamed (a server-side cursor on PostgreSQL) so memory stays flat. A context
        manager, so that the cursor is closed when the block ends, whether or not every event was read: left to
        the garbage collector, psycopg's close could come while another of its calls holds the connection."""
        conn = self.cur.connection
        self._streams += 1  # a server-side cursor's name is unique while it is open; one may open in another
        cur = conn.cursor(name=f"zwgk_events_{self._streams}") if self.pg else conn.cursor()
        try:
            cur.execute(self.sql[name], params)
            yield _events(cur, name, size)
        finally:
            cur.close()


def _events(cur: Any, name: str, size: int) -> Iterator[Event]:
    checked = False
    while batch := cur.fetchmany(size):
        if not checked:
            names = tuple(d[0] for d in cur.description)
            if names != COLUMNS:
                raise RuntimeError(f"statement {name} returns {names}, not the columns of an event")
            checked = True
        for row in batch:
            yield Event._make(row)


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
        (`Work.conn`), which Alembic's migrations need.
        """
        if host is not None:
            conn = host if isinstance(host, Connection) else host.connection()
            # A savepoint, so that a refusal takes back what the call wrote and leaves the host's transaction as
            # it was. Not on a SQLite engine that `durable()` did not set up: there the driver begins transactions
            # on its own, and releasing a savepoint it did not see begin could commit the host's transaction.
            nested = host.begin_nested() if self.pg or is_durable(conn.engine) else None
            work = Work(_host_cursor(conn), self.sql, conn.dialect, conn)
            try:
                yield work
            except BaseException:
                if nested is not None:
                    nested.rollback()
                raise
            if nested is not None:
                nested.commit()
            self._pending_on(host, work.signed)
            return
        if core:  # Alembic's migrations, in a transaction of our own
            with self.engine.connect() as conn, conn.begin():
                if self.plain_sqlite:  # a host's engine without our BEGIN IMMEDIATE: take the lock now
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield Work(_host_cursor(conn), self.sql, conn.dialect, conn)
            return
        raw = self.engine.raw_connection()
        try:
            # An in-memory SQLite database has one connection, which the host may be in a transaction on: read in
            # it (neither beginning nor ending it), and never write into it unasked.
            borrowed = not self.pg and raw.driver_connection.in_transaction  # type: ignore[union-attr]
            if borrowed and write:
                raise InvalidInput("the database connection is inside a transaction of the host's: pass that "
                                   "transaction as conn=, so that these writes join it")
            cur = raw.cursor()
            if not self.pg and not borrowed:
                cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            elif self.pg and not write:  # one snapshot: verify must not see a unit's event without the register's
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            work = Work(cur, self.sql, self.engine.dialect)
            try:
                yield work
            except BaseException:
                if getattr(raw.driver_connection, "broken", False):  # psycopg: the server went away
                    raw.invalidate()  # not back into the pool
                elif not borrowed:
                    raw.rollback()
                raise
            if write:
                raw.commit()
            elif not borrowed:
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
            if isinstance(host, Connection):
                event.listen(host, "commit", self._connection_committing)
            else:
                event.listen(host, "after_commit", self._session_committed)
        pending.extend(sigs)

    def _take(self, host: Any) -> list[Signature]:
        sigs = self._pending.get(host) or []
        self._pending[host] = []
        return sigs

    def _session_committed(self, session: Session) -> None:
        if session.get_nested_transaction() is not None:  # a savepoint's commit (ours, or the host's)
            return
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
        self._deliver(_committed(Work(_host_cursor(conn), self.sql, conn.dialect), sigs))

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
