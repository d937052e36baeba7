"""The annual report's tables (国办公开办函〔2021〕30号), counted from the log of one unit up to a seal.

What it counts is what the signed events say: a request's receipt day (its creation), the day and type of its
reply (its `send`), its reviews and their outcomes; the applicant's type is in the content its creation signs.
Counted up to the positions the register's last seal recorded, so that anyone holding the root digest can verify
the same events and count them again.

- 本年新收: received (Art. 31) in the year; 上年结转: received before it and not replied by its first day;
- 本年度办理结果: replied in the year, by the office's day of the `send`, in the row of its reply type (a group's row
  is the sum of its items); 结转下年度继续办理: received by 31 December and not replied by then.
- Table 四: the reviews filed in the year, by kind, with the outcome recorded by 31 December (else 尚未审结).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from states.kinds import ITEM
from states.replies import REPLIES, REPORT_ROWS, TYPES
from states.requests import OUTCOMES, REPLY, REVIEWS
from states.rules import CREATE
from workflow.catalog import CATEGORIES, DOC_TYPES, TIMINGS
from workflow.config import Office
from workflow.ledger.events import Event

# Table 三's columns: 自然人, then 法人或其他组织 by kind, then 总计.
APPLICANT_COLUMNS = ("natural", "business", "research", "public_interest", "legal_service", "other", "total")
ORGANISATIONS = APPLICANT_COLUMNS[1:-1]
RECEIVED, CARRIED_IN, TOTAL, CARRIED_OUT = "received", "carried_in", "total", "carried_out"
REQUEST_ROWS = (RECEIVED, CARRIED_IN, *REPORT_ROWS, TOTAL, CARRIED_OUT)
REVIEW_COLUMNS = (*OUTCOMES, "pending", "total")  # 结果维持, 结果纠正, 其他结果, 尚未审结, 总计
CATEGORY_ROWS = tuple(c for c in CATEGORIES if "." not in c)  # the plan's six categories
DOCUMENT_COLUMNS = ("made", "abolished", "in_force")  # 本年制发, 本年废止, 现行有效


@dataclass(frozen=True)
class ItemFacts:
    """What an item's signed content says that the report counts."""

    category: str
    timing: str
    kind: str
    doc_type: str | None = None


@dataclass(frozen=True)
class Table:
    """A table of counts: each cell the cases counted in it (an auditor recounts them one by one)."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cases: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def value(self, row: str, column: str) -> int:
        return len(self.cases.get((row, column), ()))


@dataclass(frozen=True)
class AnnualReport:
    unit: str
    year: int
    digest: str  # the root digest (SEQ:HASH) whose seal bounds the events counted
    sealed_at: int  # the unit chain's last event counted
    requests: Table  # table 三
    reviews: Table  # table 四
    # Figures for 一、总体情况: items published in the year by the plan's category (its first level) and timing, and
    # the interpretations among them.
    published: Table = field(default_factory=lambda: Table((), ()))
    interpretations: tuple[str, ...] = ()
    # Table 二: the documents (规章, 行政规范性文件) made, abolished and in force at the year's end, and the figures the
    # office entered, signed, on the year's annual-report item (`statistics_item`).
    documents: Table = field(default_factory=lambda: Table((), ()))
    statistics: Mapping[str, Any] = field(default_factory=dict)
    statistics_item: str | None = None

    @property
    def identity(self) -> tuple[int, int, int, int]:
        """本年新收, 上年结转, 办理结果总计, 结转下年度 (总计 column)."""
        t = self.requests
        return (t.value(RECEIVED, "total"), t.value(CARRIED_IN, "total"), t.value(TOTAL, "total"),
                t.value(CARRIED_OUT, "total"))

    @property
    def balanced(self) -> bool:
        """The format's own check: 本年新收 + 上年结转 = 办理结果总计 + 结转下年度."""
        received, carried_in, total, carried_out = self.identity
        return received + carried_in == total + carried_out


@dataclass
class _Request:
    received: date
    replied: tuple[date, str] | None = None  # the office's day of the reply, and its type
    reviews: list[list[Any]] = field(default_factory=list)  # [kind, filed on, outcome, decided on]


def count(events: Iterable[Event], applicant_types: Mapping[str, str], *, unit: str, year: int, office: Office,
          digest: str, sealed_at: int, items: Mapping[str, ItemFacts] | None = None,
          statistics: tuple[str, Mapping[str, Any]] | None = None) -> AnnualReport:
    """Tables 三 and 四 for `year` from a unit's chain events, and each request's applicant type as its signed
    content says; with `items` (each item's signed facts), the items published in it and table 二's documents; with
    `statistics`, the annual-report item that states the year's figures, and them."""
    asked: dict[str, _Request] = {}
    published: dict[tuple[str, str], list[str]] = defaultdict(list)
    documents: dict[tuple[str, str], list[str]] = defaultdict(list)
    at_year_end: dict[str, tuple[str, str]] = {}  # each document's type and state when the year ended
    interpretations = []
    first, last = date(year, 1, 1), date(year, 12, 31)
    for e in events:
        if e.case_kind == "item" and items is not None:
            day = office.date_of(datetime.fromisoformat(e.at))
            facts = items[e.case_id]
            if e.to_state == "published" and e.from_state != e.to_state and day.year == year:
                for row, column in ((facts.category.split(".")[0], facts.timing), (facts.category.split(".")[0],
                                    "total"), ("total", facts.timing), ("total", "total")):
                    published[row, column].append(e.case_id)
                if facts.kind == "interpretation":
                    interpretations.append(e.case_id)
            if facts.doc_type is not None and e.to_state is not None and day <= last:
                if e.to_state != e.from_state and e.to_state in ("published", "abolished") and day >= first:
                    documents[facts.doc_type, "made" if e.to_state == "published" else "abolished"].append(e.case_id)
                at_year_end[e.case_id] = (facts.doc_type, e.to_state)
            continue
        if e.case_kind != "request":
            continue
        data = e.payload() if e.data else {}
        if e.action == CREATE:
            asked[e.case_id] = _Request(date.fromisoformat(data["received_on"]))
        elif e.action == REPLY:
            asked[e.case_id].replied = (office.date_of(datetime.fromisoformat(e.at)), data["reply"])
        elif e.action == "review":
            asked[e.case_id].reviews.append([data["review"], date.fromisoformat(data["on"]), None, None])
        elif e.action == "review_outcome":
            asked[e.case_id].reviews[data["n"] - 1][2:] = [data["outcome"], date.fromisoformat(data["on"])]
    for case_id, (doc_type, state) in sorted(at_year_end.items()):
        if state == "published":
            documents[doc_type, "in_force"].append(case_id)
    requests: dict[tuple[str, str], list[str]] = defaultdict(list)
    reviews: dict[tuple[str, str], list[str]] = defaultdict(list)
    for case_id, r in sorted(asked.items()):
        columns = (applicant_types[case_id], TOTAL)
        rows = []
        if first <= r.received <= last:
            rows.append(RECEIVED)
        if r.received < first and (r.replied is None or r.replied[0] >= first):
            rows.append(CARRIED_IN)
        if r.replied is not None and first <= r.replied[0] <= last:
            reply = REPLIES[r.replied[1]]
            rows += sorted({reply.type.code, reply.report, TOTAL})  # its group's row, its own, the total
        if r.received <= last and (r.replied is None or r.replied[0] > last):
            rows.append(CARRIED_OUT)
        for row in rows:
            for column in columns:
                requests[row, column].append(case_id)
        for n, (kind, filed, outcome, decided) in enumerate(r.reviews, 1):
            if first <= filed <= last:
                said = outcome if outcome is not None and decided <= last else "pending"
                for column in (said, "total"):
                    reviews[kind, column].append(f"{case_id}#{n}")
    return AnnualReport(unit, year, digest, sealed_at, _table(REQUEST_ROWS, APPLICANT_COLUMNS, requests),
                        _table(REVIEWS, REVIEW_COLUMNS, reviews),
                        _table((*CATEGORY_ROWS, "total"), (*TIMINGS, "total"), published), tuple(interpretations),
                        _table(tuple(DOC_TYPES), DOCUMENT_COLUMNS, documents),
                        dict(statistics[1]) if statistics else {}, statistics[0] if statistics else None)


def _table(rows: tuple[str, ...], columns: tuple[str, ...], cells: Mapping[tuple[str, str], list[str]]) -> Table:
    return Table(rows, columns, {k: tuple(v) for k, v in cells.items()})


def stated(rows: Iterable[Mapping[str, Any]], year: int, schedule: str = "annual-report") -> tuple[str, Any] | None:
    """The year's figures as the unit's annual-report item for it states them (signed with its content): the
    published report's, reviewed; else the one report in the making (a retracted or withheld one states none)."""
    import json

    found = [r for r in rows if r["schedule"] == schedule and r["period"] == str(year) and r["statistics"]
             and r["state"] not in ITEM.lapsed]
    found.sort(key=lambda r: (r["state"] == "published", r["id"]))
    return (found[-1]["id"], json.loads(found[-1]["statistics"])) if found else None


def row_label(row: str) -> str:
    """A row of table 三 in the format's words."""
    if row in REPORT_ROWS:
        return REPORT_ROWS[row]
    return {RECEIVED: "一、本年新收政府信息公开申请数量", CARRIED_IN: "二、上年结转政府信息公开申请数量",
            TOTAL: "（七）总计", CARRIED_OUT: "四、结转下年度继续办理"}[row]


GROUPS = tuple(TYPES)  # the rows that sum their items
