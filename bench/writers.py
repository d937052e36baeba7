"""PostgreSQL: signatures of several writers in parallel, each on its own unit, against plain
INSERT+UPDATE+COMMIT by as many writers, in the same run.

    python -m bench.writers --db postgresql+psycopg://postgres@127.0.0.1:5432/test [--writers 1,2,4,8]

For each number of writers k: k processes sign (`advance`, one signature per transaction) on k different units
for `--seconds`; k processes make the same signatures by hand (bench/signatures.py's (a3): the engine's reads,
hash, deadline rows and writes on the driver's cursor, no rule checked), the floor under zwgk; and k processes
insert a row and update a counter per transaction. Their totals per second are printed with the ratios, and how
busy the machine's processors were (from /proc/stat) while each ran: where they are all busy, the figure is what
the machine's cores can do, not how long writers wait for each other. Before issue 10 every signature locked one
chain head, so zwgk stayed at ~160/s whatever the number of writers. Target: with 8 writers, zwgk >= 50% of plain.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path

from sqlalchemy import text

from bench.signatures import BODY, STEPS, database, new_items, sign_by_hand, township, verified
from workflow import Workflow
from workflow.logs import configure


def _sign(url: str, unit: str, n_items: int, barrier: Barrier, seconds: float, out: mp.Queue) -> None:
    configure()
    wf = Workflow(url)
    items = new_items(wf, n_items, unit)  # made ready before the clock starts, each writer in its own unit
    count = 0
    barrier.wait()
    deadline = time.perf_counter() + seconds
    for action, actor, extra in STEPS:
        for item in items:
            if time.perf_counter() >= deadline:
                break
            wf.advance(item, action, actor=actor, **extra)  # type: ignore[arg-type]
            count += 1
    out.put(count)
    wf.close()


def _hand(url: str, unit: str, n_items: int, barrier: Barrier, seconds: float, out: mp.Queue) -> None:
    configure()
    wf = Workflow(url)
    items = new_items(wf, n_items, unit)
    barrier.wait()
    out.put(sign_by_hand(wf, unit, items, until=time.perf_counter() + seconds))
    wf.close()


def _plain(url: str, worker: int, barrier: Barrier, seconds: float, out: mp.Queue) -> None:
    wf = Workflow(url)
    raw = wf.engine.raw_connection()
    cur = raw.cursor()
    count = 0
    barrier.wait()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        cur.execute("INSERT INTO bench_plain (worker, payload) VALUES (%s, %s)", (worker, BODY))
        cur.execute("UPDATE bench_counter SET n = n + 1 WHERE worker = %s", (worker,))
        raw.commit()
        count += 1
    out.put(count)
    raw.close()
    wf.close()


def run(target: object, args_of: list[tuple[object, ...]], seconds: float) -> tuple[float, float]:
    """Transactions per second of these writers together, and the share of the machine's processor time that was
    busy meanwhile (taken from the moment all are ready)."""
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(len(args_of) + 1), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, barrier, seconds, out)) for a in args_of]
    for p in procs:
        p.start()
    barrier.wait()
    before = cpu_times()
    total = sum(out.get(timeout=seconds + 900) for _ in procs)
    busy, idle = (after - then for after, then in zip(cpu_times(), before, strict=True))
    for p in procs:
        p.join()
    return total / seconds, busy / (busy + idle)


def cpu_times() -> tuple[int, int]:
    """The machine's busy and idle clock ticks since boot, all processors together (the first line of /proc/stat:
    user nice system idle iowait irq softirq steal ...)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]
    return sum(ticks) - idle, idle


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--writers", default="1,2,4,8")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--items", type=int, default=1000, help="items made ready per writer and round")
    args = ap.parse_args()
    configure()
    counts = [int(k) for k in args.writers.split(",")]
    units = tuple(f"w{i}" for i in range(max(counts)))
    with database(args.db) as url:
        wf = township(url, units)
        with wf.engine.begin() as c:
            print(f"database: {wf.engine.dialect.name}; synchronous_commit = "
                  f"{c.execute(text('SHOW synchronous_commit')).scalar()}; "
                  f"{c.execute(text('SHOW max_connections')).scalar()} connections allowed")
            c.execute(text("CREATE TABLE bench_plain (id bigserial PRIMARY KEY, worker int NOT NULL, payload text)"))
            c.execute(text("CREATE TABLE bench_counter (worker int PRIMARY KEY, n bigint NOT NULL)"))
            c.execute(text("INSERT INTO bench_counter SELECT g, 0 FROM generate_series(0, :n) g"), {"n": max(counts)})
        print(f"{os.cpu_count()} processors; transactions per second (processors busy)")
        print(f"{'writers':>8} {'zwgk':>13} {'by hand':>13} {'plain':>13} {'zwgk/plain':>11} {'hand/plain':>11} "
              f"{'zwgk/hand':>10}")
        for k in counts:
            signed, signed_cpu = run(_sign, [(url, unit, args.items) for unit in units[:k]], args.seconds)
            hand, hand_cpu = run(_hand, [(url, unit, args.items) for unit in units[:k]], args.seconds)
            plain, plain_cpu = run(_plain, [(url, w) for w in range(k)], args.seconds)
            print(f"{k:>8} {signed:>7,.0f} ({signed_cpu:.0%}) {hand:>7,.0f} ({hand_cpu:.0%}) "
                  f"{plain:>7,.0f} ({plain_cpu:.0%}) {signed / plain:>11.0%} {hand / plain:>11.0%} "
                  f"{signed / hand:>10.0%}", flush=True)
        verified(wf)


if __name__ == "__main__":
    main()
