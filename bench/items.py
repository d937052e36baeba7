"""`zwgk item list` on a small and a large database: a page costs the same on both, and a whole listing streams.

    python -m bench.items                         # 1,000 and 1,000,000 items (a first run builds the large one:
                                                  # about a minute; it is kept under /tmp/zwgk-bench-items)
    python -m bench.items --big 100000 --runs 5   # smaller, quicker

The databases (SQLite files) hold a register, a unit and its people made through the engine, and SMALL, BIG
and WHOLE draft items whose rows are written straight into the item and case tables (as `item new` writes them,
without their events: a listing reads the tables alone). Each is kept in the cache folder, named by its size and
the schema's revision, and used again by later runs. Prints, medians of RUNS processes started in alternation:
  (i1) `python -c "import sqlalchemy"`
  (i2) `zwgk item list --limit 50` on SMALL items        target: within (i1) + 100 ms
  (i3) the same on BIG items                              target: within 1.2x (i2)
  (i4) `--limit 50 --after ID` from the middle of BIG    (a keyset: the same again)
  (i0) `python -c "import workflow"`: the library's import, which every command on a database pays first
and, once: (i5) `zwgk item list --json` of all WHOLE items (143,000 by default: the listing of issue 11, which
took 9-12 s and 419 MB), its time and peak resident memory, printed into /dev/null.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.cli import environment, medians, show, zwgk_command
from bench.deadlines import bulk, peak_rss
from bench.signatures import township
from workflow import db
from workflow.clock import stamp
from workflow.logs import configure

CREATED = stamp(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


def item_id(n: int) -> str:
    return f"gov-2026-{n:07d}"


def database(cache: Path, items: int) -> str:
    """The URL of a database of `items` items in `cache`, built first if it is not there yet."""
    path = cache / f"items-{items}-r{db.head_revision()}.db"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        building = path.with_suffix(".building")
        building.unlink(missing_ok=True)
        start = time.perf_counter()
        wf = township(f"sqlite:///{building}")
        bulk(wf.engine, "zwgk_item", ({"id": item_id(n), "title": f"2026年第{n}号 政务公开事项", "body": "（正文）",
                                       "category": "2.5", "timing": "immediate", "kind": "info", "interprets": None,
                                       "tags": '["result"]', "formed_on": None, "schedule": None, "period": None}
                                      for n in range(items)))
        bulk(wf.engine, "zwgk_case", ({"kind": "item", "id": item_id(n), "unit_id": "gov", "state": "draft",
                                       "round": 1, "version": 1, "signers": "{}", "roles": "", "content_hash": "0" * 64,
                                       "drafter": "clerk", "created_at": CREATED, "updated_at": CREATED}
                                      for n in range(items)))
        wf.close()  # the last connection closed folds the write-ahead log into the file
        building.rename(path)
        print(f"built {path} ({items:,} items) in {time.perf_counter() - start:.0f} s")
    return f"sqlite:///{path}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=1_000, help="items in the small database (default 1,000)")
    ap.add_argument("--big", type=int, default=1_000_000, help="items in the large database (default 1,000,000)")
    ap.add_argument("--whole", type=int, default=143_000, help="items listed whole by (i5) (default 143,000)")
    ap.add_argument("--runs", type=int, default=9, help="processes of each kind (default 9)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/zwgk-bench-items"),
                    help="folder the databases are kept in (default /tmp/zwgk-bench-items)")
    a = ap.parse_args()
    configure()
    small, big, whole = (database(a.cache, n) for n in (a.small, a.big, a.whole))
    zwgk = zwgk_command()
    wall, cpu = medians({"i1": ([sys.executable, "-c", "import sqlalchemy"], environment(small)),
                         "i2": ([*zwgk, "item", "list", "--limit", "50"], environment(small)),
                         "i3": ([*zwgk, "item", "list", "--limit", "50"], environment(big)),
                         "i4": ([*zwgk, "item", "list", "--limit", "50", "--after", item_id(a.big // 2)],
                                environment(big)),
                         "i0": ([sys.executable, "-c", "import workflow"], environment(small))}, a.runs)
    start = time.perf_counter()
    peak = peak_rss("scripts.zwgk", ["item", "list", "--json"], environment(whole))
    listed = time.perf_counter() - start
    show({"i1": "python -c 'import sqlalchemy'", "i2": f"item list --limit 50, {a.small:,} items",
          "i3": f"item list --limit 50, {a.big:,} items", "i4": f"  the same, --after {item_id(a.big // 2)}",
          "i0": "python -c 'import workflow'"}, wall, cpu, a.runs)
    for label, t in (("wall", wall), ("processor", cpu)):
        print(f"{label:>9}: (i2) = (i1) + {t['i2'] - t['i1']:.0f} ms (target <= + 100 ms) = (i0) + "
              f"{t['i2'] - t['i0']:.0f} ms;  (i3) = {t['i3'] / t['i2']:.2f}x (i2), "
              f"(i4) = {t['i4'] / t['i2']:.2f}x (i2) (target <= 1.2x)")
    print(f"(i5) item list --json, all {a.whole:,} items: {listed:.1f} s ({a.whole / listed:,.0f} items/s), "
          f"peak {peak:.0f} MB resident")


if __name__ == "__main__":
    main()
