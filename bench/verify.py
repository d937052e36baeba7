"""`verify` at scale: its rate against the rulebooks' own, its memory, and `--since`.

    python bench/verify.py                           # 1,000,000 events on a file SQLite database
    python bench/verify.py --events 100000 --keep /tmp/v.db   # keep (and reuse) the database
    python bench/verify.py --db postgresql+psycopg://postgres@127.0.0.1/test --events 200000

The log is built by the engine itself (`new_item` and `advance`, in host transactions of 1,000 signatures) over
`--units` units, every item walked to published. Then, medians of three alternating runs:
  (v1) hash and decide alone: events/s of verify's own per-event work (place, link, hash, time, then the
       rulebooks' decide and apply) over one unit's events held in memory: no database;
  (v2) verify: events/s of `Workflow.verify()` end to end (every chain read from the database, every table
       compared), and its ratio to (v1)                                 target >= 60%
  (v3) peak resident memory of `zwgk verify`, a process of its own      target < 200 MB at 1,000,000 events
  (v4) `verify --since` a root digest taken before the last 1,000 signatures   target < 1 s
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from bench.deadlines import peak_rss
from bench.signatures import STEPS, database, new_items, township
from states.authority import REGISTER
from workflow import Workflow
from workflow.clock import system
from workflow.ledger.events import Event
from workflow.ledger.verify import RegisterFold, Start, UnitFold, Verifier
from workflow.logs import configure

PER_ITEM = 1 + len(STEPS)


def build(wf: Workflow, units: list[str], events: int, batch: int = 1000) -> None:
    """Items walked to published in every unit in turn until the log holds `events` events."""
    have = _events(wf)
    started, i = time.perf_counter(), 0
    while have < events:
        unit = units[i % len(units)]
        i += 1
        with wf.engine.connect() as conn, conn.begin():
            items = new_items(wf, max(1, min(batch, events - have) // PER_ITEM), unit, conn)
            for action, actor, extra in STEPS:
                for item in items:
                    wf.advance(item, action, actor=actor, conn=conn, **extra)  # type: ignore[arg-type]
        have += len(items) * PER_ITEM
        if i % 50 == 0:
            print(f"  built {have:,} events ({time.perf_counter() - started:.0f} s)", flush=True)


def _events(wf: Workflow) -> int:
    with wf.uow(write=False) as work:
        return int(work.one("count_events")["n"])  # type: ignore[index]


def fold_alone(wf: Workflow, unit: str) -> tuple[int, float]:
    """(v1) one unit's events read into memory first, then only verify's per-event work timed."""
    with wf.uow(write=False) as work:
        v = Verifier(work, wf.pipelines, max_skew=wf.config.ledger.max_clock_skew, now=system())
        with work.events("chain_events", {"chain": REGISTER, "after": 0}) as register:
            v.walk(RegisterFold(v, None), register, Start())
        with work.events("chain_events", {"chain": unit, "after": 0}) as stream:
            events: list[Event] = list(stream)
        fold = UnitFold(v, unit, 0, full=True)
        start = time.perf_counter()
        v.walk(fold, events, Start())
        elapsed = time.perf_counter() - start
        if v.report.problems:
            raise SystemExit(f"the fold found a problem: {v.report.problems[0]}")
    return len(events), len(events) / elapsed


def verify_rate(wf: Workflow) -> tuple[int, float]:
    """(v2) verify() end to end."""
    start = time.perf_counter()
    report = wf.verify()
    elapsed = time.perf_counter() - start
    if not report.ok:
        raise SystemExit(f"verify failed: {report.first_problem}")
    return report.events, report.events / elapsed


def peak_memory(url: str) -> tuple[float, float]:
    """(v3) `zwgk verify` in a process of its own: its peak resident memory (MB) and its wall time."""
    start = time.perf_counter()
    mb = peak_rss("scripts.zwgk", ["--db", url, "verify"], dict(os.environ))
    return mb, time.perf_counter() - start


def since(wf: Workflow, unit: str, signatures: int = 1000) -> tuple[int, float]:
    """(v4) a root digest, then `signatures` more, then verify since the digest."""
    kept = wf.digest()
    with wf.engine.connect() as conn, conn.begin():
        items = new_items(wf, signatures // PER_ITEM, unit, conn)
        for action, actor, extra in STEPS:
            for item in items:
                wf.advance(item, action, actor=actor, conn=conn, **extra)  # type: ignore[arg-type]
    start = time.perf_counter()
    report = wf.verify(since=kept)
    elapsed = time.perf_counter() - start
    if not report.ok:
        raise SystemExit(f"verify --since failed: {report.first_problem}")
    return report.events, elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="database URL (default: a file SQLite database in a temp folder)")
    ap.add_argument("--keep", type=Path, help="SQLite file to build once and reuse (instead of --db)")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--units", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    configure()
    units = [f"u{i:02d}" for i in range(args.units)]
    target = f"sqlite:///{args.keep}" if args.keep else args.db
    with database(None if args.keep else target) as url:
        url = target if args.keep else url
        fresh = not (args.keep and args.keep.exists())
        wf = township(url, tuple(units)) if fresh else Workflow(url)
        print(f"database: {wf.engine.dialect.name} ({wf.engine.url.render_as_string(hide_password=True)})")
        started = time.perf_counter()
        build(wf, units, args.events)
        print(f"log: {_events(wf):,} events in {len(units)} units (built in {time.perf_counter() - started:.0f} s)")
        runs = [(fold_alone(wf, units[0]), verify_rate(wf)) for _ in range(args.runs)]
        alone = statistics.median(r[0][1] for r in runs)
        whole = statistics.median(r[1][1] for r in runs)
        print(f"(v1) hash and decide alone, {runs[0][0][0]:,} events of {units[0]}: {alone:10,.0f} events/s")
        print(f"(v2) verify, all {runs[0][1][0]:,} events:          {whole:10,.0f} events/s = {whole / alone:.0%} of "
              "(v1)   (target >= 60%)")
        print("     (v2)/(v1) of each run: " + ", ".join(f"{r[1][1] / r[0][1]:.0%}" for r in runs))
        mb, wall = peak_memory(url)
        print(f"(v3) zwgk verify as a process: peak {mb:,.0f} MB resident, {wall:.1f} s   (target < 200 MB)")
        for _ in range(args.runs):
            n, seconds = since(wf, units[1 % len(units)])
            print(f"(v4) verify --since over {n:,} new events: {seconds:.3f} s   (target < 1 s)")
        wf.close()


if __name__ == "__main__":
    main()
