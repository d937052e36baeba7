"""Counting a year for the annual report against verifying the same events (issue 13: at most as long, same run).

    python -m bench.report                 # ~100,000 events (a first run builds them through the engine, a few
                                           # minutes; kept under /tmp/zwgk-bench-report)
    python -m bench.report --requests 500  # small and quick

The database (SQLite) holds a register, the unit gov and its people, REQUESTS requests each registered, drafted
and taken through its review to head approval (7 events), one in eight of them sent (its reply letter made and
stored), and ITEMS items taken through the pipeline: every event signed by the engine. Prints, medians of RUNS:
  (r1) `annual_report(2026)`: tables 三 and 四 counted from the chain up to a seal
  (r2) `verify()` of the whole database
  (r3) r1 / r2                                                          target: at most 1.0
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from workflow import Workflow, db
from workflow.requests import Applicant

REVIEW = (("submit", "clerk"), ("proofread", "proof"), ("clear", "sec"), ("check", "lead"), ("approve", "head"))
PEOPLE = {"clerk": ["handler", "drafter", "publisher"], "proof": ["proofreader"], "sec": ["confidentiality_reviewer"],
          "lead": ["leader"], "head": ["head"]}


def build(path: Path, requests: int, items: int) -> None:
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    wf = Workflow(f"sqlite:///{building}", clock=lambda: now)
    wf.init(admin="registrar", name="登记管理员", simulation=True)
    wf.add_unit("gov", name="平田乡人民政府", by="registrar")
    for pid, roles in PEOPLE.items():
        wf.add_person(pid, name=pid, unit="gov", roles=roles, by="registrar")
    for n in range(requests):
        kind = ("natural", "business", "research", "public_interest", "legal_service", "other")[n % 6]
        rid = wf.requests.new(unit="gov", handler="clerk", via="online", description=f"第{n}项信息",
                              applicant=Applicant(f"申请人{n}", kind, phone="13800000000")).id
        wf.requests.reply(rid, actor="clerk", type="disclosed.provided", how="电子邮件发送")
        for action, who in REVIEW + ((("send", "clerk"),) if n % 8 == 0 else ()):
            wf.requests.advance(rid, action, actor=who)
    for n in range(items):
        item = wf.new_item(title=f"第{n}号", unit="gov", category="2.5", timing="immediate", kind="info",
                           drafter="clerk").id
        for action, who in REVIEW:
            wf.advance(item, action, actor=who, decision="full" if action == "clear" else None)
        wf.advance(item, "publish", actor="clerk")
    wf.close()
    building.rename(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=12_000)
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/zwgk-bench-report"))
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    path = args.cache / f"report-{args.requests}-{args.items}-r{db.head_revision()}.db"
    if not path.exists():
        start = time.perf_counter()
        build(path, args.requests, args.items)
        print(f"built {path} in {time.perf_counter() - start:.0f} s")
    counted, verified = [], []
    with Workflow(f"sqlite:///{path}", clock=lambda: datetime(2026, 3, 2, 2, 0, tzinfo=UTC)) as wf:
        for _ in range(args.runs):  # alternated, so that the machine's moods fall on both alike
            start = time.perf_counter()
            report = wf.annual_report(2026, unit="gov")
            counted.append(time.perf_counter() - start)
            start = time.perf_counter()
            checked = wf.verify()
            verified.append(time.perf_counter() - start)
    if not checked.ok or not report.balanced:
        raise SystemExit(f"the bench's log does not verify or balance: {checked.problems[:3]}")
    r1, r2 = statistics.median(counted), statistics.median(verified)
    print(f"(r1) annual_report(2026):  {r1:8.3f} s  ({report.identity[0]} requests received, "
          f"{report.identity[2]} replied)")
    print(f"(r2) verify():             {r2:8.3f} s  ({checked.events} events)")
    print(f"(r3) r1 / r2:              {r1 / r2:8.2f}    target: at most 1.0")


if __name__ == "__main__":
    main()
