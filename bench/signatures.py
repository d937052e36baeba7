"""Signature throughput and verification speed, on the engine's own durability settings.

    python bench/signatures.py                       # a file SQLite database in a temp folder
    python bench/signatures.py --db postgresql+psycopg://postgres@127.0.0.1/test

Prints (a) raw single-row INSERT+COMMIT/s, (a2) the same for the three rows every signature must write at
least (event, item, chain head) without the engine, (a3) whole signatures hand-written on the DBAPI cursor
(the engine's reads, hash and writes, deadline rows included, and nothing else), (b) signatures/s through
`advance`, one per transaction, (c) CPU µs per signature without the commit (best of three), (d) `verify`
events/s (best of three); (a) to (b) are medians of three alternating runs, and (b)/(a) is the figure to
compare.
Targets: (b) >= 60% of (a); (c) < 150 µs; (d) >= 200,000 events/s.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import event, text

from workflow import Workflow, chain
from workflow.clock import stamp
from workflow.deadlines import Facts, statements
from workflow.logs import configure
from workflow.store import Store
from workflow.testing import scratch_schema

PEOPLE = {"clerk": ["drafter", "publisher"], "proof": ["proofreader"], "sec": ["confidentiality_reviewer"],
          "lead": ["leader"], "head": ["head"]}
STEPS = [("submit", "clerk", {}), ("proofread", "proof", {}), ("clear", "sec", {"decision": "full"}),
         ("check", "lead", {}), ("approve", "head", {}), ("publish", "clerk", {})]
BODY = "（示例）本季度全乡财政收入……支出……" * 8


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    if not url.startswith("postgresql"):
        yield url
        return
    with scratch_schema(url, prefix="zwgk_bench") as scratch:
        yield scratch


def raw_inserts(wf: Workflow, n: int) -> float:
    """(a) one row per transaction through the DBAPI connection, with the engine's pragmas."""
    with wf.engine.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)"))
        c.execute(text("DELETE FROM bench_raw"))
    raw = wf.engine.raw_connection()
    try:
        cur = raw.cursor()
        pg = wf.engine.dialect.name == "postgresql"
        sql = "INSERT INTO bench_raw (id, payload) VALUES (%s, %s)" if pg else "INSERT INTO bench_raw VALUES (?, ?)"
        start = time.perf_counter()
        for i in range(n):
            if not pg:
                cur.execute("BEGIN IMMEDIATE")
            cur.execute(sql, (i, BODY))
            raw.commit()
        elapsed = time.perf_counter() - start
    finally:
        raw.close()
    return n / elapsed


def bare_signatures(wf: Workflow, n: int, items: int = 200) -> float:
    """(a2) the least any signature writes, one per transaction, without the engine: an event row (with its
    item index), the item's new state (with its state index), the chain head. The floor under (b)."""
    pg = wf.engine.dialect.name == "postgresql"
    with wf.engine.begin() as c:
        for sql in ("DROP TABLE IF EXISTS bench_event", "DROP TABLE IF EXISTS bench_item",
                    "DROP TABLE IF EXISTS bench_head",
                    "CREATE TABLE bench_event (seq INTEGER PRIMARY KEY, item_id TEXT NOT NULL, payload TEXT NOT NULL)",
                    "CREATE INDEX ix_bench_event_item ON bench_event (item_id, seq)",
                    "CREATE TABLE bench_item (id TEXT PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL, "
                    "body TEXT NOT NULL)",
                    "CREATE INDEX ix_bench_item_state ON bench_item (state)",
                    "CREATE TABLE bench_head (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL)",
                    "INSERT INTO bench_head VALUES (1, 0, '')"):
            c.execute(text(sql))
        c.execute(text("INSERT INTO bench_item VALUES (:id, 'draft', 1, :body)"),
                  [{"id": f"2026-{i:05d}", "body": BODY} for i in range(items)])
    mark = "%s" if pg else "?"
    raw = wf.engine.raw_connection()
    try:
        cur = raw.cursor()
        start = time.perf_counter()
        for seq in range(1, n + 1):
            item = f"2026-{seq % items:05d}"
            if not pg:
                cur.execute("BEGIN IMMEDIATE")
            cur.execute(f"INSERT INTO bench_event VALUES ({mark}, {mark}, {mark})", (seq, item, BODY))
            cur.execute(f"UPDATE bench_item SET state = {mark}, version = version + 1 WHERE id = {mark}",
                        (STEPS[seq % len(STEPS)][0], item))
            cur.execute(f"UPDATE bench_head SET seq = {mark}, hash = {mark} WHERE id = 1", (seq, "f" * 64))
            raw.commit()
        elapsed = time.perf_counter() - start
    finally:
        raw.close()
    return n / elapsed


def hand_signatures(wf: Workflow, n_items: int, deadlines: bool = True) -> float:
    """(a3) the floor under (b): the same signatures hand-written on one DBAPI cursor with the engine's own SQL,
    and nothing else. Each locks the chain head and reads the item, the signer and the round (the reads every
    check needs), hashes its event, works out its deadline rows (the rules on the working-day calendar) and
    writes the item, the event, the head and those rows, which issue 3 requires in the same transaction. No
    rule of the pipeline is checked and no object built. Its rows are the engine's to the byte: (d)'s
    `verify` checks them with the rest. Without `deadlines`, the deadline rows are left out, as no
    implementation of issue 3 may."""
    store, pipeline, rules = Store(wf.engine.dialect.name), wf.pipeline, wf.rules
    steps, state = [], pipeline.initial
    for action, actor, extra in STEPS:  # every item takes the same path: each step's action is found once
        a = pipeline.action(state, action)
        if a is None:
            raise SystemExit(f"the pipeline has no '{action}' from {state}")
        steps.append((a, actor, extra.get("decision")))
        state = a.to or state
    items = new_items(wf, n_items)
    raw = wf.engine.raw_connection()
    try:
        cur = raw.cursor()
        start = time.perf_counter()
        for a, actor, decision in steps:
            for item_id in items:
                if not store.pg:
                    cur.execute("BEGIN IMMEDIATE")
                head, item, _signer, signed = store.send(cur, [
                    ("head_locked", {}), ("advance", {"id": item_id}), ("person", {"id": actor}),
                    ("current_round", {"item_id": item_id})])
                (seq, prev_hash), (state, rnd, version, *known) = head.rows[0], item.rows[0]
                to_state, now = a.to or state, wf.clock()
                at = stamp(now)
                values = (seq + 1, item_id, rnd, a.id, state, to_state, actor, a.role, None, None, at, None, None,
                          None, decision, pipeline.name, pipeline.full_version, signed.rows[-1][2], prev_hash)
                digest = chain.event_hash(values)
                owed = []
                if deadlines:
                    facts = Facts(item_id, *known[:8], date.fromisoformat(known[8]) if known[8] else None)
                    owed = statements(rules.on_step(facts, state, to_state, wf.config.office.date_of(now),
                                                    role=a.role, signer=actor, round=rnd),
                                      wf.timeline, rules.published, seq + 1, at)
                store.send(cur, [
                    ("move", {"state": to_state, "round": rnd, "at": at, "id": item_id, "version": version}),
                    ("append", (*values, digest)), ("advance_head", {"seq": seq + 1, "hash": digest, "prev": seq}),
                    *owed])
                raw.commit()
        elapsed = time.perf_counter() - start
    finally:
        raw.close()
    return len(items) * len(STEPS) / elapsed


def pages_per_commit(url: str, n: int = 120) -> tuple[float, float, float]:
    """SQLite only: WAL frames (pages) each commit of (a), (a2) and (b) writes. Every page costs its write and
    its share of the fsync, which is why (b) trails (a) before any CPU is counted. Counted on an engine of its
    own, whose connections leave checkpoints to us; the other figures keep the engine's own settings."""
    probe = Workflow(url)
    event.listens_for(probe.engine, "connect")(
        lambda dbapi_conn, _record: dbapi_conn.execute("PRAGMA wal_autocheckpoint = 0"))

    def frames() -> int:
        raw = probe.engine.raw_connection()
        try:
            logged = raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        return int(logged)

    try:
        items = new_items(probe, n // len(STEPS))
        frames()
        raw_inserts(probe, n)
        a = frames() / n
        bare_signatures(probe, n)
        a2 = frames() / n
        b = walk(probe, items)
        return a, a2, frames() / b
    finally:
        probe.close()


def new_items(wf: Workflow, n: int, conn: object = None) -> list[str]:
    return [wf.new_item(title=f"第{i}号 财务收支", unit="gov", category="3.4", timing="periodic", kind="info",
                        drafter="clerk", body=BODY, conn=conn).id for i in range(n)]  # type: ignore[arg-type]


def walk(wf: Workflow, items: list[str], conn: object = None) -> int:
    count = 0
    for action, actor, extra in STEPS:
        for item_id in items:
            wf.advance(item_id, action, actor=actor, conn=conn, **extra)  # type: ignore[arg-type]
            count += 1
    return count


def signatures_per_second(wf: Workflow, n_items: int) -> float:
    """(b) each advance its own transaction, committed durably."""
    items = new_items(wf, n_items)
    start = time.perf_counter()
    count = walk(wf, items)
    return count / (time.perf_counter() - start)


def cpu_per_signature(wf: Workflow, n_items: int, batch: int = 50) -> float:
    """(c) process CPU time per advance inside host transactions of `batch` items, the commits not timed."""
    cpu, count = 0.0, 0
    for _ in range(max(1, n_items // batch)):
        with wf.engine.connect() as conn, conn.begin():
            items = new_items(wf, batch, conn)
            start = time.process_time()
            count += walk(wf, items, conn)
            cpu += time.process_time() - start
    return cpu / count * 1e6


def verify_rate(wf: Workflow, target_events: int) -> tuple[int, float]:
    """(d) grow the log to `target_events`, then time a full `verify()` (best of three)."""
    per_item = 1 + len(STEPS)
    while wf.digest().seq < target_events:
        left = target_events - wf.digest().seq
        with wf.engine.connect() as conn, conn.begin():
            walk(wf, new_items(wf, max(1, min(2000, left // per_item + 1)), conn), conn)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        report = wf.verify()
        best = min(best, time.perf_counter() - start)
        if not report.ok:
            raise SystemExit(f"verify failed: {report.first_problem}")
    return report.events, report.events / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="database URL (default: a file SQLite database in a temp folder)")
    ap.add_argument("--raw", type=int, default=1200, help="rows for (a)")
    ap.add_argument("--items", type=int, default=200, help="items for (b); each gets 6 signatures")
    ap.add_argument("--cpu-items", type=int, default=300, help="items for (c)")
    ap.add_argument("--events", type=int, default=100_000, help="log size for (d)")
    args = ap.parse_args()
    configure()  # warnings only: the figures are the output
    with database(args.db) as url:
        wf = Workflow(url)
        wf.init()
        wf.add_unit("gov", name="平田乡人民政府")
        for pid, roles in PEOPLE.items():
            wf.add_person(pid, name=pid, unit="gov", roles=roles)
        print(f"database: {wf.engine.dialect.name} ({wf.engine.url.render_as_string(hide_password=True)})")
        # (a) and (b) alternate three times and each reports its median, so that a noisy moment on a shared
        # machine hits both alike; the ratio is the figure to compare.
        runs = [(raw_inserts(wf, args.raw), bare_signatures(wf, args.raw), hand_signatures(wf, args.items),
                 signatures_per_second(wf, args.items), hand_signatures(wf, args.items, deadlines=False))
                for _ in range(3)]
        a, a2, a3, b, bare3 = (statistics.median(r[i] for r in runs) for i in range(5))
        print(f"(a) raw single-row INSERT+COMMIT:       {a:10.0f} /s")
        print(f"(a2) a signature's bare writes, raw:    {a2:10.0f} /s   = {a2 / a:.0%} of (a)")
        print(f"(a3) signatures hand-written, raw:      {a3:10.0f} /s   = {a3 / a:.0%} of (a)   (the floor under (b)); "
              f"{bare3 / a:.0%} without the deadline rows")
        print(f"(b) signatures through advance:         {b:10.0f} /s   = {b / a:.0%} of (a)   (target >= 60%), "
              f"{b / a3:.0%} of (a3)")
        if wf.engine.dialect.name == "sqlite":
            pages = pages_per_commit(url)
            print("    pages written per commit: (a) {:.1f}, (a2) {:.1f}, (b) {:.1f}".format(*pages))
        c = min(cpu_per_signature(wf, args.cpu_items) for _ in range(3))
        print(f"(c) CPU per signature, without commit:  {c:10.1f} µs   (target < 150 µs)")
        events, d = verify_rate(wf, args.events)
        print(f"(d) verify over {events} events:       {d:10.0f} events/s   (target >= 200,000)")
        wf.close()


if __name__ == "__main__":
    main()
