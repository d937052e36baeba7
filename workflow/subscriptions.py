"""Telling the host about signatures once they are committed, and only those that were.

Inside a host transaction a signature may still be rolled back, by the whole transaction or by a savepoint
around it. So pending signatures are kept per host Connection/Session and, after the commit, checked
against the log itself (same seq and hash); a rolled-back one is never announced.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, event, select, tuple_
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workflow import schema as t
from workflow.db import READ_ONLY
from workflow.model import Signature

log = structlog.get_logger("zwgk")

Subscriber = Callable[[Signature], None]
HostConnection = Connection | Session


class Subscriptions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.callbacks: list[Subscriber] = []
        self._pending: weakref.WeakKeyDictionary[Any, list[Signature]] = weakref.WeakKeyDictionary()

    def add(self, callback: Subscriber) -> Callable[[], None]:
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def signed(self, host: HostConnection | None, sig: Signature) -> None:
        """Called for every signature; `host` is None when we committed it ourselves."""
        if not self.callbacks:
            return
        if host is None:
            self._deliver([sig])
            return
        pending = self._pending.get(host)
        if pending is None:
            pending = self._pending[host] = []
            if isinstance(host, Session):
                event.listen(host, "after_commit", self._session_committed)
            else:
                event.listen(host, "commit", self._connection_committing)
        pending.append(sig)

    def _take(self, host: Any) -> list[Signature]:
        sigs = self._pending.get(host) or []
        self._pending[host] = []
        return sigs

    def _session_committed(self, session: Session) -> None:
        sigs = self._take(session)
        if not sigs:
            return
        try:  # the host's commit is done: whatever happens here must not look like it failed
            with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
                committed = _committed(conn, sigs)
                conn.rollback()
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
        self._deliver(_committed(conn, sigs))

    def _deliver(self, sigs: Sequence[Signature]) -> None:
        for sig in sigs:
            for callback in list(self.callbacks):
                try:
                    callback(sig)
                except Exception:  # a subscriber's failure must not undo a committed signature
                    log.exception("subscriber failed", item=sig.item_id, seq=sig.seq)


def _committed(conn: Connection, sigs: list[Signature]) -> list[Signature]:
    """The signatures that are really in the log: a savepoint rolled back drops some, and their seq may
    since have gone to another signature, so seq and hash must both match."""
    keys = {(s.seq, s.hash) for s in sigs}
    rows = conn.execute(select(t.event.c.seq, t.event.c.hash).where(tuple_(t.event.c.seq, t.event.c.hash)
                                                                    .in_(list(keys))))
    found = {(seq, h) for seq, h in rows}
    return [s for s in sigs if (s.seq, s.hash) in found]
