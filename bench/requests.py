"""What requests (依申请公开) cost, through the engine on SQLite: intake, a step with its letter, the listing (each
request's clock folded from its events), and verify.

    python -m bench.requests              # 300 requests
    python -m bench.requests --n 1000

Prints, for N requests registered, half of them sent a 补正 notice (a letter: DOCX, HTML and its text stored):
  (q1) intake, per request                    (q2) a 补正 notice with its letter, per request
  (q3) `requests()`: all N with their clocks   (q4) `verify()` of the whole database, per event
A township receives tens to a few hundred requests a year (the 2021 national reports): these say whether any of
that is felt.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from workflow import Workflow
from workflow.requests import Applicant


def build(url: str, now: list[datetime]) -> Workflow:
    wf = Workflow(url, clock=lambda: now[0])
    wf.init(admin="registrar", name="登记管理员", simulation=True)
    wf.add_unit("gov", name="平田乡人民政府", by="registrar")
    wf.add_person("clerk", name="承办人", unit="gov", roles=["handler"], by="registrar")
    return wf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="requests")
    args = parser.parse_args()
    now = [datetime(2026, 9, 28, 2, 0, tzinfo=UTC)]
    with tempfile.TemporaryDirectory() as folder:
        wf = build(f"sqlite:///{Path(folder) / 'zwgk.db'}", now)
        start = time.perf_counter()
        ids = [wf.requests.new(unit="gov", handler="clerk", via="online", description=f"第{n}项信息",
                               applicant=Applicant(f"申请人{n}", "natural", phone="13800000000")).id
               for n in range(args.n)]
        intake = (time.perf_counter() - start) / args.n
        now[0] += timedelta(days=1)
        start = time.perf_counter()
        for rid in ids[::2]:
            wf.requests.ask_correction(rid, actor="clerk", on=date(2026, 9, 29), items=["请写明年度"])
        notice = (time.perf_counter() - start) / len(ids[::2])
        start = time.perf_counter()
        listed = wf.requests.requests()
        listing = time.perf_counter() - start
        start = time.perf_counter()
        report = wf.verify()
        verify = time.perf_counter() - start
        wf.close()
    if len(listed) != args.n or not report.ok:
        raise SystemExit(f"the bench's requests do not verify: {report.problems[:3]}")
    print(f"(q1) intake:               {intake * 1000:7.1f} ms a request ({args.n} requests)")
    print(f"(q2) 补正 notice + letter: {notice * 1000:7.1f} ms a request ({len(ids[::2])} notices)")
    print(f"(q3) requests():           {listing * 1000:7.1f} ms for {args.n} ({listing / args.n * 1000:.2f} ms each)")
    print(f"(q4) verify():             {verify * 1000:7.1f} ms for {report.events} events "
          f"({verify / report.events * 1e6:.0f} µs each)")


if __name__ == "__main__":
    main()
