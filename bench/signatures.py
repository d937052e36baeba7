"""One writer's signatures against the hand-written floor, on the engine's own durability settings.

    python bench/signatures.py                       # a file SQLite database in a temp folder
    python bench/signatures.py --db postgresql+psycopg://postgres@127.0.0.1/test

Prints (a) raw single-row INSERT+COMMIT/s, (a3) whole signatures hand-written on the driver's cursor (the
engine's reads, hash, deadline rows and writes, in the engine's own SQL, and nothing else: no rule checked, no
object built), and (b) signatures/s through `advance`, one per transaction. Each is the median of three
alternating runs, so that a noisy moment of a shared machine hits all alike. (a3)'s rows are the engine's to the
byte: `verify` passes over them at the end. Target (issue 10): (b) >= 75% of (a3).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text

from states.authority import REGISTER
from workflow import Workflow
from workflow.clock import stamp
from workflow.deadlines import Facts, statements
from workflow.ledger.events import FIELDS, canonical, event_hash
from workflow.logs import configure
from workflow.testing import scratch_schema
from workflow.uow import Work

ADMIN = "admin"
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


def township(url: str, units: tuple[str, ...] = ("gov",)) -> Workflow:
    """A register with the plan's people holding their roles in each of `units`."""
    wf = Workflow(url)
    wf.init(admin=ADMIN, name="登记管理员")
    for unit in units:
        wf.add_unit(unit, name=f"{unit} 单位", by=ADMIN)
    for pid, roles in PEOPLE.items():
        wf.add_person(pid, name=pid, by=ADMIN)
        for unit in units:
            for role in roles:
                wf.grant(pid, role, unit=unit, by=ADMIN)
    return wf


def raw_inserts(wf: Workflow, n: int) -> float:
    """(a) one row per transaction through the driver's connection, with the engine's pragmas."""
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


def new_items(wf: Workflow, n: int, unit: str = "gov", conn: object = None) -> list[str]:
    return [wf.new_item(title=f"第{i}号 财务收支", unit=unit, category="3.4", timing="periodic", kind="info",
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


def hand_signatures(wf: Workflow, n_items: int) -> float:
    """(a3) the floor under (b), one per transaction, committed durably."""
    items = new_items(wf, n_items)
    start = time.perf_counter()
    count = sign_by_hand(wf, "gov", items)
    return count / (time.perf_counter() - start)


def sign_by_hand(wf: Workflow, unit: str, items: list[str], until: float = math.inf) -> int:
    """The signatures of (a3), walking `items` of `unit` to published (or until `until` on the perf_counter):
    hand-written on the driver's cursor with the engine's own statements, in the same round trips. Each locks its
    unit's head and reads the case (with the pipeline in force), the signer's roles in the unit with the
    register's last event, and the item's facts; hashes its event; works out its deadline rows (the rules on the
    working-day calendar); writes the event, the head, the case and those rows; commits. Each step's action is
    looked up once, before the first signature: no rule is checked. Returns how many it made."""
    pipeline = wf.pipeline_in_force(unit)
    in_force = wf.pipelines.of(pipeline)
    steps, state = [], pipeline.initial
    for action, actor, extra in STEPS:
        a = pipeline.action(state, action)
        if a is None:
            raise SystemExit(f"the pipeline has no '{action}' from {state}")
        steps.append((a, actor, extra.get("decision")))
        state = a.to or state
    raw = wf.engine.raw_connection()
    count = 0
    try:
        work = Work(raw.cursor(), wf.uow.sql, wf.engine.dialect)
        operator = wf._operator(work)
        for a, actor, decision in steps:
            for item_id in items:
                if time.perf_counter() >= until:
                    return count
                if not work.pg:
                    work.cur.execute("BEGIN IMMEDIATE")
                key = {"kind": "item", "id": item_id}
                head, case, signer, facts = work.send([
                    ("case_head_locked", key), ("case_for_step", key),
                    ("signer_of_case", {"register": REGISTER, **key, "person": actor}),
                    ("item_facts", {"id": item_id})])
                h, c, f = head.rows[0], case.rows[0], facts.rows[0]
                at = max(stamp(datetime.now(UTC)), h["at"], signer.rows[0]["register_at"])
                to_state = a.to or c["state"]
                values = {"chain": h["chain"], "seq": h["seq"] + 1, "register_seq": signer.rows[0]["register_seq"],
                          "case_kind": "item", "case_id": item_id, "round": c["round"], "action": a.id,
                          "from_state": c["state"], "to_state": to_state, "actor": actor, "role": a.role,
                          "recorded_by": None, "paper_sha256": None, "operator": operator, "at": at,
                          "comment": None, "reason": None, "ground": None, "decision": decision,
                          "pipeline": pipeline.fingerprint, "content_hash": c["content_hash"], "data": None,
                          "prev_hash": h["hash"]}
                values["hash"] = event_hash(tuple(values[name] for name in FIELDS))
                today = wf.config.office.date_of(datetime.fromisoformat(at))
                facts_of = Facts(item_id, f["title"], f["kind"], f["timing"], f["interprets"], c["drafter"],
                                 c["unit_id"], f["schedule"], f["period"],
                                 date.fromisoformat(f["formed_on"]) if f["formed_on"] else None)
                owed = statements(in_force.rules.on_step(facts_of, c["state"], to_state, today, role=a.role,
                                                         signer=actor, round=c["round"]),
                                  wf.timeline, "published", f"{h['chain']}:{values['seq']}", actor, at)
                roles = ",".join(sorted(set(c["roles"].split(",")) - {""} | {a.role}))
                work.send([("append", values),
                           ("move_head", {"chain": h["chain"], "seq": values["seq"], "hash": values["hash"], "at": at,
                                          "prev": h["seq"]}),
                           ("update_case", {**key, "state": to_state, "round": c["round"], "version": c["version"] + 1,
                                            "signers": canonical(json.loads(c["signers"]) | {a.id: actor}),
                                            "roles": roles, "content_hash": c["content_hash"], "drafter": c["drafter"],
                                            "at": at}),
                           *owed])
                raw.commit()
                count += 1
    finally:
        raw.close()
    return count


def verified(wf: Workflow) -> None:
    """Close the bench with `verify` over what it made: its rows are the engine's, or it fails."""
    report = wf.verify()
    print(f"verify over the bench's {report.events:,} events: {'ok' if report.ok else report.first_problem}")
    wf.close()
    if not report.ok:
        raise SystemExit(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="database URL (default: a file SQLite database in a temp folder)")
    ap.add_argument("--raw", type=int, default=1200, help="rows for (a)")
    ap.add_argument("--items", type=int, default=200, help="items for (a3) and (b); each gets 6 signatures")
    ap.add_argument("--runs", type=int, default=3, help="alternating runs; each figure is their median")
    args = ap.parse_args()
    configure()  # warnings only: the figures are the output
    with database(args.db) as url:
        wf = township(url)
        print(f"database: {wf.engine.dialect.name} ({wf.engine.url.render_as_string(hide_password=True)})")
        if wf.engine.dialect.name == "postgresql":
            with wf.engine.connect() as c:
                print(f"synchronous_commit = {c.execute(text('SHOW synchronous_commit')).scalar()}")
        runs = [(raw_inserts(wf, args.raw), hand_signatures(wf, args.items), signatures_per_second(wf, args.items))
                for _ in range(args.runs)]
        a, a3, b = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"(a)  raw single-row INSERT+COMMIT:  {a:8.0f} /s")
        print(f"(a3) signatures hand-written:       {a3:8.0f} /s   = {a3 / a:.0%} of (a)   (the floor under (b))")
        print(f"(b)  signatures through advance:    {b:8.0f} /s   = {b / a:.0%} of (a), {b / a3:.0%} of (a3)   "
              "(target >= 75% of (a3))")
        print("     (b)/(a3) of each run: " + ", ".join(f"{r[2] / r[1]:.0%}" for r in runs))
        verified(wf)


if __name__ == "__main__":
    main()
