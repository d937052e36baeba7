"""The fast way through `verify`: the whole log checked in bulk, chunk by chunk, on two connections at once.

The database builds each chunk's canonical forms (on PostgreSQL, their hashes) into a few long strings, and
Python compares whole lists at a time; the rules are replayed once per distinct history, not once per
item. A sweep only ever says "all is well": at the first doubt it returns None and `verify` walks the log
event by event (`chain.Verifier`), which names the first bad event. So every check here is at least as
strict as the walk's (tests hold it to that), and a tampered log costs only the time of the walk.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.pool import StaticPool

from states import PipelineMachine
from workflow import chain
from workflow.db import READ_ONLY
from workflow.model import signed_content
from workflow.replay import RuleReplay
from workflow.schema import ITEM_FIELDS

CHUNK = 5000
_AHEAD = 8  # chunks fetched ahead of the one being checked (each a few MB): they keep both cores busy
# What str.strip() takes away (every c with c.isspace()), so that a reason the database calls blank is one
# `advance` calls blank.
BLANK = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
         "\u200a\u2028\u2029\u202f\u205f\u3000")
# What the rules depend on in one event. A reason counts only as absent, blank or given.
_STEP = ("action", "from_state", "to_state", "actor", "role", "round", "decision", "ground",
         "CASE WHEN reason IS NULL THEN NULL WHEN {trim}(reason, :blank) = '' THEN 0 ELSE 1 END",
         "pipeline_version")
_LISTS = ("seq", "hash", "prev_hash", "content_hash")  # joined with ',' (none of them can hold one)
# Joined columns that must be there, and text (SQLite lets any column hold anything): a NULL vanishes from a
# join, and next to a value holding a separator the counts would come out right.
_JOINED = (*_LISTS, "item_id")


def _chunk_sql(dialect: str) -> str:
    """One row per chunk: its count, how many of its events have a NULL (or on SQLite a value of the wrong
    type) where none can be, then its columns in seq order, each joined into one string."""
    if dialect == "postgresql":
        step = f"json_build_array({', '.join(_STEP).format(trim='btrim')})::text"
        texts = {"canon": chain.canonical_sql(dialect), "item_id": "item_id", "step": step}
        parts = [f"count(*) FILTER (WHERE {' OR '.join(f'{c} IS NULL' for c in _JOINED)})"]
        parts += [f"string_agg({c}::text, ',' ORDER BY seq)" for c in _LISTS]
        parts += [f"string_agg({e}, E'\\n' ORDER BY seq)" for e in texts.values()]
        return (f"SELECT count(*), {', '.join(parts)} FROM zwgk_event "  # noqa: S608 - fixed expressions
                "WHERE seq BETWEEN %(lo)s AND %(hi)s").replace(":blank", "%(blank)s")
    step = f"json_array({', '.join(_STEP).format(trim='trim')})"
    inner = (f"seq, round, hash, prev_hash, content_hash, {chain.canonical_sql(dialect)} AS canon, item_id, "
             f"{step} AS step")
    typed = [f"typeof({c}) <> '{'integer' if c in ('seq', 'round') else 'text'}'" for c in (*_JOINED, "round")]
    parts = [f"sum({' OR '.join(typed)})"]
    parts += [f"group_concat({c}, ',')" for c in _LISTS]
    parts += [f"group_concat({c}, char(10))" for c in ("canon", "item_id", "step")]
    return (f"SELECT count(*), {', '.join(parts)} FROM "  # noqa: S608 - fixed expressions
            f"(SELECT {inner} FROM zwgk_event WHERE seq BETWEEN :lo AND :hi ORDER BY seq)")


ITEMS = f"SELECT {', '.join(ITEM_FIELDS)} FROM zwgk_item"  # noqa: S608 - fixed column names


@dataclass
class Items:
    rows: list[tuple[Any, ...]]  # (id, state, round, version, drafter)
    content_hashes: dict[str, str]  # item id -> hash of its current content
    problems: list[str]  # items whose signed fields hold what no signature made


def item_hashes(rows: Sequence[Sequence[Any]]) -> Items:
    """The items of `ITEMS` rows, each with the hash of its content now."""
    items = Items([], {}, [])
    for (id, title, body, unit, category, timing, kind, interprets, tags, formed_on, drafter, state, rnd, version,
         _created, _updated, schedule, period) in rows:
        items.rows.append((id, state, rnd, version, drafter))
        try:
            items.content_hashes[id] = chain.content_hash(signed_content(
                title, body, unit, category, timing, kind, interprets, list(json.loads(tags)),
                date.fromisoformat(formed_on) if formed_on else None, schedule, period))
        except (TypeError, ValueError):
            items.problems.append(f"item {id}: a signed field holds a value no signature made")
    return items


@dataclass
class Log:
    """What a sweep needs to know, read in `verify`'s own snapshot."""

    head: tuple[int, str]  # the chain head row
    items: Callable[[], Items]  # asked for once the first chunks are on their way


class Sweep:
    def __init__(self, engine: Engine, machines: dict[str, PipelineMachine], people: set[str], genesis: str) -> None:
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.sql = _chunk_sql(engine.dialect.name)
        self.machines, self.people = machines, people
        self.genesis = genesis
        self._steps: dict[str, list[Any]] = {}

    def run(self, conn: Connection, log: Log, against: chain.Digest | None) -> chain.Report | None:
        """The report of a sound log, or None when anything at all looks wrong (walk it to know what)."""
        last_seq, last_hash = log.head
        if against is not None and against.seq > last_seq:
            return None
        # Exactly the rows 1..head: one more (an event at seq 0, say) would never be read by a chunk.
        if tuple(conn.exec_driver_sql("SELECT count(*), max(seq) FROM zwgk_event").one()) != (
                last_seq, last_seq or None):
            return None
        traces: dict[str, list[str]] = {}
        signed: dict[str, str] = {}  # item id -> content hash of its last signature
        prev, at_digest = self.genesis, self.genesis if against is not None and against.seq == 0 else None
        ranges = [(lo, min(lo + CHUNK - 1, last_seq)) for lo in range(1, last_seq + 1, CHUNK)]
        with self._fetcher(conn) as fetch:
            rows = fetch(ranges)
            items = log.items()
            if items.problems:
                return None
            for (lo, hi), row in zip(ranges, rows, strict=True):
                lists = self._lists(row, lo, hi)
                if lists is None:
                    return None
                hashes, prevs, content, owners, steps = lists
                if prevs[0] != prev or prevs[1:] != hashes[:-1]:
                    return None
                prev = hashes[-1]
                if against is not None and lo <= against.seq <= hi:
                    at_digest = hashes[against.seq - lo]
                for item, step, content_hash in zip(owners, steps, content, strict=True):
                    trace = traces.get(item)
                    if trace is None:
                        traces[item] = [step]
                    else:
                        trace.append(step)
                    signed[item] = content_hash
        if prev != last_hash or (against is not None and at_digest != against.hash):
            return None
        report = chain.Report(events=last_seq, items=len(items.rows))
        replayed: dict[tuple[str, ...], tuple[str, int, int, str, int, Counter[str]] | None] = {}
        versions: Counter[str] = Counter()
        for item_id, state, rnd, version, drafter in items.rows:
            if item_id not in traces or signed[item_id] != items.content_hashes.get(item_id):
                return None
            key = tuple(traces.pop(item_id))
            if key not in replayed:
                replayed[key] = self._replay(key)
            outcome = replayed[key]
            if outcome is None or outcome[:4] != (state, rnd, version, drafter):
                return None
            report.unchecked += outcome[4]
            versions.update(outcome[5])
        report.versions = dict(versions)
        return None if traces else report  # events left over: of items that are gone

    def _lists(self, row: Sequence[Any], lo: int, hi: int) -> tuple[list[str], ...] | None:
        """A chunk's columns as aligned lists, or None if it is not exactly events lo..hi, each well hashed."""
        count, odd, seqs, hashes, prevs, content, canon, items, steps = row
        if odd or count != hi - lo + 1 or seqs != ",".join(map(str, range(lo, hi + 1))):
            return None
        lists = [hashes.split(","), prevs.split(","), content.split(","), items.split("\n"), steps.split("\n")]
        if any(len(values) != count for values in lists):  # a NULL, or a separator inside a value
            return None
        computed = canon.split("\n") if self.pg else [chain.sha256_hex(text) for text in canon.split("\n")]
        return tuple(lists) if computed == lists[0] else None

    def _replay(self, trace: tuple[str, ...]) -> tuple[str, int, int, str, int, Counter[str]] | None:
        """One history, as `verify`'s walk replays it: (state, round, events, creator, unchecked, versions) or
        None."""
        rules = RuleReplay(self.machines, self.people)
        state: str | None = None
        rnd, creator = 0, ""
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
            given = None if reason is None else ("given" if reason else "")
            if rules(n, "?", rnd, action, from_state, to_state, actor, role, given, ground, decision, version):
                return None
            state = to_state
        return (state, rnd, len(trace), creator, rules.unchecked, rules.versions) if state is not None else None

    @contextmanager
    def _fetcher(self, conn: Connection) -> Iterator[Callable[[list[tuple[int, int]]], Iterator[Any]]]:
        """Chunks fetched on two connections of their own while Python checks the previous ones (the drivers
        let go of the GIL while the database works). Events are append-only and every chunk lies at or
        below the head read in `verify`'s snapshot, so each connection sees the same rows. An in-memory
        SQLite database, or a pool that hands every thread the same connection, has no second connection:
        there the chunks come one by one on `conn`."""
        memory = not self.pg and self.engine.url.database in (None, "", ":memory:")
        if memory or isinstance(self.engine.pool, StaticPool):
            yield lambda ranges: (self._fetch(conn, lo, hi) for lo, hi in ranges)
            return
        opened: dict[int, Connection] = {}

        def fetch(lo: int, hi: int) -> Any:
            own = opened.get(threading.get_ident())
            if own is None:  # read-only: on SQLite a plain BEGIN, not the writers' BEGIN IMMEDIATE
                own = opened[threading.get_ident()] = self.engine.connect().execution_options(**{READ_ONLY: True})
            return self._fetch(own, lo, hi)

        def chunks(ranges: list[tuple[int, int]]) -> Iterator[Any]:
            """The first chunks are asked for at once (the caller has work of its own meanwhile); after that
            a few ahead of the one being checked, so memory stays a few chunks whatever the log's size."""
            waiting = iter(ranges)
            ahead = deque(pool.submit(fetch, lo, hi) for lo, hi in islice(waiting, _AHEAD))

            def results() -> Iterator[Any]:
                while ahead:
                    row = ahead.popleft().result()
                    if (following := next(waiting, None)) is not None:
                        ahead.append(pool.submit(fetch, *following))
                    yield row

            return results()

        pool = ThreadPoolExecutor(2, thread_name_prefix="zwgk-verify")
        try:
            yield chunks
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for own in opened.values():
                own.close()

    def _fetch(self, conn: Connection, lo: int, hi: int) -> Any:
        return conn.exec_driver_sql(self.sql, {"lo": lo, "hi": hi, "blank": BLANK}).one()
