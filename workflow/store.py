"""The hot path, in hand-written SQL on the driver's own cursor.

A signature takes seven statements; through SQLAlchemy Core each costs ~50-75 µs of Python, on the
DBAPI cursor ~6 µs (measured beside bench/signatures.py). On PostgreSQL they go in two pipelined round
trips. Everything else goes through SQLAlchemy Core.
SQL is written with `:name` parameters (sqlite3's named style) and rewritten to `%(name)s` for psycopg.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection

from workflow import chain, deadlines
from workflow.schema import ITEM_FIELDS

_ITEM = f"SELECT {', '.join(ITEM_FIELDS)} FROM zwgk_item WHERE id = :id"  # noqa: S608 - fixed column names
_PERSON = ("SELECT p.id, p.name, p.unit_id, p.email, p.phone, p.active, r.role FROM zwgk_person p "
           "LEFT JOIN zwgk_person_role r ON r.person_id = p.id WHERE p.id = :id ORDER BY r.role")
# The current round's events, oldest first; the last one carries the content hash now in force.
_ROUND = "SELECT action, actor, content_hash FROM zwgk_event WHERE item_id = :item_id AND round = :round ORDER BY seq"
_CURRENT_ROUND = ("SELECT action, actor, content_hash FROM zwgk_event WHERE item_id = :item_id "
                  "AND round = (SELECT round FROM zwgk_item WHERE id = :item_id) ORDER BY seq")
# A signature first locks the chain head, then the item: every writer takes them in that order, even
# several signatures in one host transaction. The round's events are read by a later statement: on
# PostgreSQL a statement that waited for a lock still sees other tables as they were when it started.
# What the deadline rules need to know of the item comes with it.
_ADVANCE = ("SELECT state, round, version, title, kind, timing, interprets, drafter, unit_id, schedule, period, "
            "formed_on FROM zwgk_item WHERE id = :id")
_MOVE = ("UPDATE zwgk_item SET state = :state, round = :round, version = version + 1, updated_at = :at "
         "WHERE id = :id AND version = :version")
_HEAD = "SELECT seq, hash FROM zwgk_chain WHERE id = 1"
# Positional parameters: sqlite3 binds twenty named ones at about twice the cost.
_APPEND = (f"INSERT INTO zwgk_event ({', '.join(chain.FIELDS)}, hash) "  # noqa: S608 - fixed column names
           f"VALUES ({', '.join(['{mark}'] * (len(chain.FIELDS) + 1))})")
_ADVANCE_HEAD = "UPDATE zwgk_chain SET seq = :seq, hash = :hash WHERE id = 1 AND seq = :prev"
# Another process may be storing the same definition at the same moment: the second one adds nothing.
_STORE_PIPELINE = ("INSERT INTO zwgk_pipeline (name, version, definition, created_at) "
                   "VALUES (:name, :version, :definition, :at) ON CONFLICT DO NOTHING")

_VERIFY = ("SELECT seq, item_id, round, from_state, to_state, content_hash, prev_hash, hash, actor, action, role, "
           "reason, ground, decision, pipeline_version, {canonical} "
           "FROM zwgk_event ORDER BY seq")
_EVENT = f"SELECT {', '.join(chain.FIELDS)}, hash FROM zwgk_event WHERE seq = :seq"  # noqa: S608 - fixed columns

_CURSOR = "zwgk_cursor"
_NAMED = re.compile(r"(?<!:):(\w+)")  # `:name`, not the `::` of a PostgreSQL cast


class Store:
    """Statements for one dialect, run on the DBAPI cursor inside the caller's SQLAlchemy transaction."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"
        lock = " FOR UPDATE" if self.pg else ""
        self.sql = {name: self.style(text) for name, text in (
            ("item", _ITEM), ("item_locked", _ITEM + lock), ("person", _PERSON), ("round", _ROUND),
            ("current_round", _CURRENT_ROUND),
            ("advance", _ADVANCE + lock),
            ("move", _MOVE), ("head", _HEAD), ("head_locked", _HEAD + lock),
            ("append", _APPEND.format(mark="%s" if self.pg else "?")),
            ("advance_head", _ADVANCE_HEAD), ("store_pipeline", _STORE_PIPELINE), ("event", _EVENT),
            ("verify", _VERIFY.format(canonical=chain.canonical_sql(dialect))),
            ("verify_in_python", _VERIFY.format(canonical="seq")), *deadlines.SQL.items())}

    def style(self, sql: str) -> str:
        return _NAMED.sub(r"%(\1)s", sql) if self.pg else sql

    def cursor(self, conn: Connection) -> Any:
        """The DBAPI cursor of a SQLAlchemy Connection, one per DBAPI connection (kept in its info dict)."""
        if not conn.in_transaction():
            conn.begin()  # as SQLAlchemy's autobegin would: the raw cursor must run inside a transaction
        cur = conn.info.get(_CURSOR)
        if cur is None:
            cur = conn.info[_CURSOR] = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        return cur

    def one(self, cur: Any, name: str, params: dict[str, Any]) -> Sequence[Any] | None:
        cur.execute(self.sql[name], params)
        return cur.fetchone()  # type: ignore[no-any-return]

    def all(self, cur: Any, name: str, params: dict[str, Any]) -> list[Sequence[Any]]:
        cur.execute(self.sql[name], params)
        return cur.fetchall()  # type: ignore[no-any-return]

    def stream(self, conn: Connection, name: str, size: int = 5000) -> Iterator[Sequence[Any]]:
        """Rows of a long query, on a cursor of its own so that other statements can run meanwhile."""
        self.cursor(conn)
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cur.execute(self.sql[name])
            while batch := cur.fetchmany(size):
                yield from batch
        finally:
            cur.close()

    def send(self, cur: Any, statements: Sequence[tuple[str, Any]]) -> list[Sent]:
        """Statements sent together: one round trip on PostgreSQL (psycopg's pipeline mode), run in order.

        Each statement still gets its own snapshot, as if sent alone.
        """
        if not self.pg or not hasattr(cur.connection, "pipeline"):  # SQLite, or psycopg2: one at a time
            out = []
            for name, params in statements:
                cur.execute(self.sql[name], params)
                out.append(Sent(cur.rowcount, cur.fetchall() if cur.description else []))
            return out
        conn = cur.connection
        sent: list[Any] = []
        try:
            with conn.pipeline():
                for name, params in statements:
                    sent.append(c := conn.cursor())
                    c.execute(self.sql[name], params)
            return [Sent(c.rowcount, c.fetchall() if c.description else []) for c in sent]
        finally:
            for c in sent:
                c.close()


class Sent(NamedTuple):
    """What a statement sent in a batch did."""

    rowcount: int
    rows: list[Sequence[Any]]
