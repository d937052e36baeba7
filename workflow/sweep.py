"""The fast way through `verify`: the whole log checked in bulk.

The database does the per-event work: it builds each chunk's canonical forms (on PostgreSQL, their hashes)
into a few long strings, each item's history of steps, and each item's signed content. Python compares
whole strings at a time, hashes, and replays the rules once per distinct history, not once per item. A
sweep only ever says "all is well": at the first doubt it returns None and `verify` walks the log event by
event (`chain.Verifier`), which names the first bad event. So every check here is at least as strict as
the walk's (tests hold it to that), and a tampered log costs only the time of the walk.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from functools import partial
from itertools import islice
from typing import Any

import structlog
from sqlalchemy import Boolean, Connection, Engine, Integer, String, Text
from sqlalchemy.pool import StaticPool

from states import PipelineMachine
from workflow import chain, chunks, schema
from workflow.model import signed_content_sql
from workflow.replay import RuleReplay

log = structlog.get_logger("zwgk.verify")

CHUNK = 5000
_AHEAD = 8  # chunks asked for ahead of the one being checked (each a few MB): PostgreSQL works on them meanwhile
# What str.strip() takes away (every c with c.isspace()), so that a reason the database calls blank is one
# `advance` calls blank.
BLANK = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
         "\u200a\u2028\u2029\u202f\u205f\u3000")
# What the rules depend on in one event.
# A reason counts only as absent (NULL), blank (0), given (1), or on SQLite not text at all (2: the rules would
# not read it as `advance` does).
_STEP = ("action", "from_state", "to_state", "actor", "role", "round", "decision", "ground",
         "CASE WHEN reason IS NULL THEN NULL {odd}WHEN {trim}(reason, :blank) = '' THEN 0 ELSE 1 END",
         "pipeline_version")
# From this many events on, a SQLite log's chain is checked by a helper process while this one does the rest:
# starting it costs ~20 ms.
HELPER_FROM = 20_000
Spans = list[chunks.Span] | None  # the chunks' spans in order, or None if one is not sound


def _chunk_sql(dialect: str) -> str:
    """One row per chunk of events lo..hi: its count; how many of them have a hash or previous hash that is
    NULL (or on SQLite not text), which a join would hide; their seq, hash and prev_hash, each joined with
    ','; their canonical forms joined with newlines (SQLite), or the hashes of those joined with ','."""
    canon = chain.canonical_sql(dialect)
    if dialect == "postgresql":
        lists = ", ".join(f"string_agg({c}::text, ',' ORDER BY seq)" for c in ("seq", "hash", "prev_hash", canon))
        return (f"SELECT count(*), count(*) FILTER (WHERE hash IS NULL OR prev_hash IS NULL), {lists} "  # noqa: S608
                "FROM zwgk_event WHERE seq BETWEEN %(lo)s AND %(hi)s")
    return ("SELECT count(*), sum(typeof(hash) <> 'text' OR typeof(prev_hash) <> 'text'), "  # noqa: S608
            "group_concat(seq, ','), group_concat(hash, ','), group_concat(prev_hash, ','), "
            f"group_concat(canon, char(10)) FROM (SELECT seq, hash, prev_hash, {canon} AS canon FROM zwgk_event "
            "WHERE seq BETWEEN :lo AND :hi ORDER BY seq)")


def _histories_sql(dialect: str) -> str:
    """One row per item id among events 1..head: the item, its event count, its last seq, the content hash its
    last event signed, its steps joined with newlines (JSON has none of its own) and their seqs joined with ','.
    Item ids are grouped as Python tells them apart: byte by byte on SQLite, whatever collation the column was
    given (on PostgreSQL, `run` has checked it is the default one).

    SQLite (before 3.44) cannot order inside group_concat: it joins in the order of its scan, which the
    (item_id, seq) index gives, unless someone altered the index. The seqs, joined in the same order as the
    steps, show what order that was."""
    if dialect == "postgresql":
        step = f"json_build_array({', '.join(_STEP).format(trim='btrim', odd='')})::text"
        return ("SELECT item_id, count(*), max(seq), (array_agg(content_hash ORDER BY seq DESC))[1], "  # noqa: S608
                f"string_agg({step}, E'\\n' ORDER BY seq), string_agg(seq::text, ',' ORDER BY seq) "
                "FROM zwgk_event WHERE seq BETWEEN 1 AND %(head)s GROUP BY item_id").replace(":blank", "%(blank)s")
    odd = "WHEN typeof(reason) <> 'text' THEN 2 "
    step = f"json_array({', '.join(_STEP).format(trim='trim', odd=odd)})"
    # content_hash is a bare column: SQLite takes it from the row of max(seq).
    return (f"SELECT item_id, count(*), max(seq), content_hash, group_concat({step}, char(10)), "  # noqa: S608
            "group_concat(seq, ',') FROM zwgk_event INDEXED BY ix_zwgk_event_item WHERE seq BETWEEN 1 AND :head "
            "GROUP BY item_id COLLATE BINARY")


def _items_sql(dialect: str) -> str:
    content = chain.hashed_sql(signed_content_sql(dialect), dialect)
    return f"SELECT id, state, round, version, drafter, tags, formed_on, {content} FROM zwgk_item"  # noqa: S608


# What the engine writes (`json.dumps` of tag ids; `date.isoformat`). Where the two are written otherwise, the
# database's JSON and Python's may differ (an escape kept, a date normalised), and the sweep declines.
_TAGS = re.compile(r'\[(?:"[A-Za-z0-9_.-]+"(?:, "[A-Za-z0-9_.-]+")*)?\]')
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _as_written(tags: Any, formed_on: Any) -> bool:
    if type(tags) is not str or not _TAGS.fullmatch(tags):
        return False
    if formed_on is None:
        return True
    if type(formed_on) is not str or not _DATE.fullmatch(formed_on):
        return False
    try:
        return date.fromisoformat(formed_on).isoformat() == formed_on
    except ValueError:  # 2026-02-30
        return False


# PostgreSQL: the columns of the tables the sweep reads must have the types the migrations gave them (and the
# default collation). Cast to text, a char(n) loses its padding and a json or date column its own form; the walk
# reads them as psycopg hands them over.
_PG_COLUMNS = ("SELECT c.relname, a.attname, format_type(a.atttypid, NULL), a.attcollation IN (0, 100) "
               "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE a.attnum > 0 AND NOT a.attisdropped "
               "AND a.attrelid IN ('zwgk_event'::regclass, 'zwgk_item'::regclass)")
_PG_TYPES = {Integer: "integer", String: "character varying", Text: "text", Boolean: "boolean"}
_AS_MADE = {(table.name, c.name): _PG_TYPES[type(c.type)] for table in (schema.event, schema.item)
            for c in table.columns}


class Sweep:
    def __init__(self, engine: Engine, machines: dict[str, PipelineMachine], people: set[str], genesis: str) -> None:
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.chunk_sql, self.histories_sql, self.items_sql = (
            f(engine.dialect.name) for f in (_chunk_sql, _histories_sql, _items_sql))
        self.machines, self.people = machines, people
        self.genesis = genesis
        self._steps: dict[str, list[Any]] = {}

    def run(self, conn: Connection, head: tuple[int, str], against: chain.Digest | None) -> chain.Report | None:
        """The report of a sound log, or None when anything at all looks wrong (walk it to know what).

        `conn` is in `verify`'s snapshot, where `head` was read."""
        last_seq, last_hash = head
        if against is not None and against.seq > last_seq:
            return None
        if self.pg:
            columns = conn.exec_driver_sql(_PG_COLUMNS).all()
            if {(table, column): kind for table, column, kind, _ in columns} != _AS_MADE or not all(
                    default for *_, default in columns):
                return None
        # Exactly the rows 1..head: one more (an event at seq 0, say) would never be read by a chunk.
        if tuple(conn.exec_driver_sql("SELECT count(*), max(seq) FROM zwgk_event").one()) != (
                last_seq, last_seq or None):
            return None
        ranges = chunks.ranges(last_seq, CHUNK)
        at = against.seq if against is not None else None
        with self._reader(conn) as submit:
            histories = submit(self.histories_sql, {"head": last_seq, "blank": BLANK})

            def here() -> Spans:
                return self._check(ranges, self._chunks(submit, ranges), at)

            with self._helper(conn, ranges, at, here) as helped:
                # Items change with every signature: they are read in verify's own snapshot, with the head. In
                # a savepoint: on PostgreSQL a garbled row fails the statement, and the walk needs the snapshot.
                with conn.begin_nested():
                    items = conn.exec_driver_sql(self.items_sql).all()
                if helped is not None:  # this process judges the items while the helper checks the chain
                    report = self._items(items, histories(), last_seq)
                    spans = helped() if report is not None else None
                else:
                    spans = here()
                    report = self._items(items, histories(), last_seq) if spans is not None else None
        start = (self.genesis, self.genesis, self.genesis if at == 0 else None)
        whole = chunks.link([start, *spans]) if spans is not None else None
        if whole is None or whole[1] != last_hash or (against is not None and whole[2] != against.hash):
            return None
        return report

    def _check(self, ranges: list[tuple[int, int]], rows: Iterator[Sequence[Any]],
               at: int | None) -> list[chunks.Span] | None:
        """Each chunk's span, checked here; None at the first that is not sound."""
        return chunks.check_all(zip(ranges, rows, strict=True), self.pg, at)

    def _items(self, items: Sequence[Sequence[Any]], histories: list[Sequence[Any]],
               events: int) -> chain.Report | None:
        """Each item against the replay of its own history and the content its last signature signed."""
        by_item, counted = {}, 0
        for item_id, n, _, signed, steps, seqs in histories:
            order = list(map(int, seqs.split(",")))  # each history in the order of its events
            if order != sorted(order):
                return None
            by_item[item_id] = (steps, signed)
            counted += n
        if counted != events:
            return None
        replayed: dict[str, tuple[str, int, int, str, int, Counter[str]]] = {}
        shared: Counter[str] = Counter()  # items by history
        for item_id, state, rnd, version, drafter, tags, formed_on, content in items:
            steps, signed = by_item.pop(item_id, (None, None))
            if steps is None or content is None or not _as_written(tags, formed_on):
                return None
            if signed != (content if self.pg else chain.sha256_hex(content)):
                return None
            outcome = replayed.get(steps) or self._replay(steps)
            if outcome is None or outcome[:4] != (state, rnd, version, drafter):
                return None
            replayed[steps] = outcome
            shared[steps] += 1
        if by_item:  # events left over: of items that are gone
            return None
        report = chain.Report(events=events, items=len(items))
        versions: Counter[str] = Counter()
        for steps, n in shared.items():
            _, _, _, _, unchecked, signed_under = replayed[steps]
            report.unchecked += unchecked * n
            versions.update({version: count * n for version, count in signed_under.items()})
        report.versions = dict(versions)
        return report

    def _replay(self, history: str) -> tuple[str, int, int, str, int, Counter[str]] | None:
        """One history, as `verify`'s walk replays it: (state, round, events, creator, unchecked, versions) or
        None."""
        rules = RuleReplay(self.machines, self.people)
        state: str | None = None
        rnd, creator = 0, ""
        trace = history.split("\n")
        for n, text in enumerate(trace, start=1):
            step = self._steps.get(text)
            if step is None:
                step = self._steps[text] = json.loads(text)
            action, from_state, to_state, actor, role, rnd, decision, ground, reason, version = step
            if type(rnd) is not int:  # SQLite's JSON writes a REAL with 15 digits: 1.0000000000000002 as 1.0
                return None
            if from_state != state or (n == 1 and from_state is not None):
                return None
            if n == 1:
                creator = actor
            if reason not in (None, 0, 1):
                return None
            given = None if reason is None else ("given" if reason else "")
            if rules(n, "?", rnd, action, from_state, to_state, actor, role, given, ground, decision, version):
                return None
            state = to_state
        return (state, rnd, len(trace), creator, rules.unchecked, rules.versions) if state is not None else None

    @contextmanager
    def _helper(self, conn: Connection, ranges: list[tuple[int, int]], at: int | None,
                here: Callable[[], Spans]) -> Iterator[Callable[[], Spans] | None]:
        """On a large SQLite log, a helper process (`chunks.py`) that checks the whole chain on the other core
        while this one judges the items: what waits for its answer (None: no helper, the chain is checked here).
        The whole chain, because the items and their histories keep this process busy longer than the chain
        keeps the helper (100,000 events: 366 ms so, 414 ms with the last sixth of the chain checked here instead,
        medians of 15 alternating runs).

        Its answer is believed either way: the span of a sound chain, or None at the first chunk that is not.
        A helper that cannot start, or fails, leaves the chain to `here`."""
        path = "" if self.pg or not ranges or ranges[-1][1] < HELPER_FROM or not _python() else self._file(conn)
        if not path:
            yield None
            return
        job = json.dumps({"db": path, "sql": self.chunk_sql, "last": ranges[-1][1], "chunk": CHUNK, "at": at})
        try:  # -I: not the package's folder on sys.path (its calendar.py is not the standard library's)
            proc = subprocess.Popen([sys.executable, "-I", "-S", chunks.__file__, job], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            log.debug("verify: no helper process, the chain is checked here", error=str(e))
            yield None
            return

        def answer() -> Spans:
            out, err = proc.communicate()
            if proc.returncode == 0:
                try:
                    span = json.loads(out)["span"]
                    return None if span is None else [(span[0], span[1], span[2])]
                except (ValueError, KeyError, TypeError, IndexError):
                    pass
            log.debug("verify: the helper process failed, the chain is checked here",
                      code=proc.returncode, error=err.decode(errors="replace").strip().splitlines()[-1:])
            return here()

        try:
            yield answer
        finally:
            if proc.poll() is None:  # left early
                proc.kill()
            proc.communicate()

    @staticmethod
    def _file(conn: Connection) -> str:
        """The SQLite file `conn` has open (whatever the URL said, and wherever the process has moved since), or
        "" for a database in memory."""
        return str(next(row[2] for row in conn.exec_driver_sql("PRAGMA database_list") if row[1] == "main") or "")

    def _chunks(self, submit: Callable[[str, dict[str, Any]], Callable[[], list[Any]]],
                ranges: list[tuple[int, int]]) -> Iterator[Sequence[Any]]:
        """Each chunk's row, in order. The first ones are asked for at once (the caller has work of its own
        meanwhile); after that a few ahead of the one being checked, so memory stays a few chunks whatever
        the log's size."""
        waiting = iter(ranges)
        ahead = deque(submit(self.chunk_sql, {"lo": lo, "hi": hi}) for lo, hi in islice(waiting, _AHEAD))
        while ahead:
            rows = ahead.popleft()()
            if (following := next(waiting, None)) is not None:
                ahead.append(submit(self.chunk_sql, {"lo": following[0], "hi": following[1]}))
            yield rows[0]

    @contextmanager
    def _reader(self, conn: Connection) -> Iterator[Callable[[str, dict[str, Any]], Callable[[], list[Any]]]]:
        """`submit(sql, params)` starts a query and gives what waits for its rows.

        On PostgreSQL the queries run on two connections of their own, so the server works on two at once
        while Python checks what came before. Events are append-only and every query reads at or below the
        head read in `verify`'s snapshot, so each connection sees the same events. SQLite works inside our
        process, and two threads there cost more than they give (measured over 100,000 events: 611 ms of CPU
        on `conn` alone, 1,034 ms on two threads, in about the same wall time), so each query runs on `conn`
        when its rows are wanted. So does every query of a pool that hands all threads one connection."""
        if not self.pg or isinstance(self.engine.pool, StaticPool):
            yield lambda sql, params: partial(_rows, conn, sql, params)
            return
        opened: dict[int, Connection] = {}

        def run(sql: str, params: dict[str, Any]) -> list[Any]:
            own = opened.get(threading.get_ident())
            if own is None:
                own = opened[threading.get_ident()] = self.engine.connect()
            return _rows(own, sql, params)

        pool = ThreadPoolExecutor(2, thread_name_prefix="zwgk-verify")
        try:
            yield lambda sql, params: pool.submit(run, sql, params).result
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for own in opened.values():
                own.close()


def _python() -> bool:
    """Whether sys.executable is a Python to start the helper with: not a frozen application's own binary, nor
    the server an interpreter is embedded in (uWSGI, say), which would start with the helper's arguments."""
    name = os.path.basename(sys.executable or "").lower()
    return not getattr(sys, "frozen", False) and name.startswith(("python", "pypy"))


def _rows(conn: Connection, sql: str, params: dict[str, Any]) -> list[Any]:
    return list(conn.exec_driver_sql(sql, params).all())
