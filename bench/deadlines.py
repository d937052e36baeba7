"""Planning and sending reminders at township-county scale.

    python -m bench.deadlines                                  # SQLite in a temp folder
    python -m bench.deadlines --db postgresql+psycopg://postgres@127.0.0.1/test
    python -m bench.deadlines --items 100000 --open 20000      # smaller, quicker

Loads ITEMS items and OPEN open deadlines (bulk, behind the engine's back: this measures the sweeps, not
signing), of which DUE have their next reminder due now, then prints:
  (a) one planning pass over the DUE deadlines, seconds (target < 1 s for 1,000 due of 200,000 open);
  (b) sending what it planned to the console notifier (into /dev/null), notifications/s (target >= 2,000);
  (c) peak resident memory of `zwgk daemon --once` run as its own process on that database, MB (target < 200).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bench.signatures import database
from notifiers import Notifier, build
from workflow import Workflow
from workflow.clock import stamp
from workflow.config import Config, Reminders
from workflow.deadlines import Timeline
from workflow.logs import configure
from workflow.outbox import Sender
from workflow.reminders import Planner

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wed 10:00 in Asia/Shanghai, a working day
PEOPLE = [(f"p{i:03d}", role) for i, role in enumerate(
    ["drafter"] * 40 + ["proofreader"] * 3 + ["confidentiality_reviewer"] * 3 + ["leader"] * 2 + ["head"] * 2)]


def load(wf: Workflow, items: int, open_: int, due: int) -> None:
    wf.init(admin="admin", name="登记管理员", simulation=True)
    wf.add_unit("gov", name="乡人民政府", by="admin")
    for pid, role in PEOPLE:
        wf.add_person(pid, name=pid, unit="gov", roles=[role] + (["publisher"] if role == "drafter" else []),
                      by="admin")
    created = stamp(NOW - timedelta(days=40))
    timeline = Timeline(wf.config)
    soon = stamp(NOW + timedelta(days=30))
    due_on, started = NOW.date() - timedelta(days=1), NOW.date() - timedelta(days=30)
    item_rows = ({"id": f"2026-{i:07d}", "title": f"事项 {i}", "body": "（正文）", "category": "2.5",
                  "timing": "immediate", "kind": "info", "interprets": None, "tags": "[]", "formed_on": None,
                  "schedule": None, "period": None} for i in range(items))
    case_rows = ({"kind": "item", "id": f"2026-{i:07d}", "unit_id": "gov", "state": "leader_check", "round": 1,
                  "version": 4, "signers": "{}", "roles": "", "content_hash": "0" * 64, "drafter": f"p{i % 40:03d}",
                  "created_at": created, "updated_at": created} for i in range(items))
    deadline_rows = ({"key": f"proactive:2026-{i:07d}", "kind": "proactive", "item_id": f"2026-{i:07d}",
                      "schedule": None, "period": None, "title": f"事项 {i}", "responsible": f"p{i % 40:03d}",
                      "roles": None, "unit_id": "gov", "starts_on": started.isoformat(), "days": 20,
                      "due_on": due_on.isoformat() if i < due else (NOW.date() + timedelta(days=10)).isoformat(),
                      "provisional": False, "status": "open", "step": None,
                      "next_at": stamp(timeline.at(due_on, 1)) if i < due else soon, "opened_by": None,
                      "asked_by": None, "closed_by": None, "closed_at": None, "closed_note": None,
                      "created_at": created} for i in range(open_))
    bulk(wf.engine, "zwgk_item", item_rows)
    bulk(wf.engine, "zwgk_case", case_rows)
    bulk(wf.engine, "zwgk_deadline", deadline_rows)


def bulk(engine: Engine, table: str, rows: Iterator[dict[str, Any]], chunk: int = 20000) -> None:
    """Insert `rows` (each naming its columns, the first one's names for all) in one transaction."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        pg = engine.dialect.name == "postgresql"
        if not pg:
            cur.execute("BEGIN IMMEDIATE")
        sql = ""
        batch: list[dict[str, Any]] = []
        for row in rows:
            if not sql:
                marks = ", ".join(f"%({c})s" if pg else f":{c}" for c in row)
                sql = f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})"
            batch.append(row)
            if len(batch) == chunk:
                cur.executemany(sql, batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)
        raw.commit()
    finally:
        raw.close()


def daemon_rss(url: str) -> float:
    """Peak RSS (MB) of `zwgk daemon --once` a day after NOW (when the next step of every due deadline has
    come: it plans and sends them all), as a process of its own."""
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "bench.toml"
        config.write_text("[reminders]\noffice_hours_only = false\n", encoding="utf-8")
        env = os.environ | {"ZWGK_DATABASE_URL": url, "ZWGK_CONFIG": str(config),
                            "ZWGK_NOW": (NOW + timedelta(days=1)).isoformat()}
        return peak_rss("scripts.zwgk", ["daemon", "--once"], env)


# Run as the child: the module, then its own peak resident memory (VmHWM: of its own address space) into a file.
# The parent's ru_maxrss of a child will not do: Linux counts in it the memory the child had before its exec, a
# copy of this process, which has just verified a million events itself.
_PEAK = """
import atexit, os, runpy, sys

def _peak():
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(os.environ["ZWGK_BENCH_PEAK"], "w") as out:
        out.write(str(kib))

atexit.register(_peak)
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def peak_rss(module: str, args: list[str], env: dict[str, str]) -> float:
    """Peak resident memory of `python -m module args` as a process of its own, in MB."""
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryFile() as log:
        peak = Path(folder) / "peak"
        # a pipe would fill up with the daemon's log and stall it: its log goes to a file
        done = subprocess.run([sys.executable, "-c", _PEAK, module, *args], env=env | {"ZWGK_BENCH_PEAK": str(peak)},
                              stdout=subprocess.DEVNULL, stderr=log, check=False)
        if done.returncode != 0:
            log.seek(0)
            raise SystemExit(f"{module} {' '.join(args)} failed: {log.read().decode()[-500:]}")
        return int(peak.read_text()) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="database URL (default: SQLite in a temp folder)")
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--open", type=int, default=200_000, help="open deadlines")
    ap.add_argument("--due", type=int, default=1_000, help="of which due for a reminder now")
    a = ap.parse_args()
    configure()
    with database(a.db) as url:
        wf = Workflow(url, clock=lambda: NOW, config=Config(reminders=Reminders(office_hours_only=False,
                                                                               batch=1000)))
        start = time.perf_counter()
        load(wf, a.items, min(a.open, a.items), min(a.due, a.open))
        print(f"loaded {a.items:,} items and {a.open:,} open deadlines ({a.due:,} due) "
              f"on {wf.engine.dialect.name} in {time.perf_counter() - start:.0f} s")
        channels: dict[str, Notifier] = {"console": build("console", {"stream": io.StringIO()})}
        planner = Planner(wf.engine, wf.config, channels)
        start = time.perf_counter()
        planned = planner.plan(NOW)
        plan_s = time.perf_counter() - start
        print(f"(a) planning pass: {plan_s:.3f} s for {a.due:,} due deadlines -> {len(planned):,} notifications "
              f"(target < 1 s)")
        sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - kept open for the whole run
        channels["console"] = build("console", {"stream": sink})
        sender = Sender(wf.engine, wf.config.reminders, channels, "bench", lambda: NOW)
        start = time.perf_counter()
        tally = sender.deliver()
        send_s = time.perf_counter() - start
        print(f"(b) console sending: {tally.sent / send_s:,.0f} notifications/s ({tally.sent:,} in {send_s:.2f} s; "
              f"target >= 2,000/s)")
        sink.close()
        wf.close()
        rss = daemon_rss(url)
        print(f"(c) `zwgk daemon --once` peak RSS: {rss:.0f} MB (target < 200 MB)")
        print(json.dumps({"db": url.split(":")[0], "items": a.items, "open": a.open, "due": a.due,
                          "plan_s": round(plan_s, 3), "send_per_s": round(tally.sent / send_s),
                          "daemon_rss_mb": round(rss)}))


if __name__ == "__main__":
    main()
