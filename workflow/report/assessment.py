"""The half-yearly self-assessment (plan 五(三): 每半年组织一次全面自评), counted from the unit chains' events, the
deadlines and the reminder outbox.

`count` is pure; `read` reads what it counts in one read transaction. A period is a half-year (`2026H1`); days
are the office's (its time zone). The numbers:

- On time, per kind of deadline the office keeps: of the deadlines due in the period whose outcome is known (met;
  cancelled after their due day; still open after it), those met by their due day. Not counted: those cancelled
  by their due day (the duty lapsed: an item withheld), those still open whose due day has not passed, and the
  limits the applicant or a consulted party keeps (`THEIRS`).
- Late: the rest of those counted, each with the reminders the outbox sent for it (who, how, which step, when).
- Published: items that first entered a public state in the period, per category and per 五公开 tag.
- Interpretations by the head: interpretations published in the period whose drafter at that moment (who created
  it, or to whom it was last handed) held the head's role in the item's unit then (its chain's grants and
  revocations up to that event); the quota is yearly, so those published from 1 January to the period's end are
  held against it.
- Replies: requests' replies sent in the period, by the reply's type (states.replies.TYPES).
- Stages: each stay in a review state that ended in the period, from the event that moved the case in to the one
  that moved it out, in days, and each still open when the period ended (or today, for a period not over), counted
  up to then: a case waiting is what the chart is for; median and 90th percentile (linear between the closest
  ranks), per kind of case.
- Signatures: the events of the unit chains in each month of the period.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from states.kinds import ITEM
from states.replies import REPLIES, TYPES
from states.requests import REPLY
from states.rules import CREATE, REASSIGN
from workflow import catalog, duties, periods
from workflow import schema as t
from workflow.config import Config, Office
from workflow.deadlines import KINDS
from workflow.errors import NotFound
from workflow.ledger.events import Event
from workflow.uow import Work

CYCLE = "half-yearly"
REVIEW_STATES = ("confidentiality_review", "leader_check", "head_approval")
CASE_KINDS = ("item", "request")
HEAD_QUOTA = 1  # plan 四(四): the head interprets at least one important policy a year
THEIRS = ("correction", "fee", "consultation")  # waits on the applicant or a consulted party, not on the office
OFFICE_KINDS = tuple(k for k in KINDS if k not in THEIRS)
GRANT, REVOKE = "grant", "revoke"


@dataclass(frozen=True)
class OnTime:
    kind: str  # a deadline kind (workflow.deadlines.KINDS)
    due: int  # fell due in the period
    on_time: int  # of those, met by their due day

    @property
    def rate(self) -> float | None:
        return self.on_time / self.due if self.due else None


@dataclass(frozen=True)
class Reminder:
    recipient: str
    channel: str
    step: str
    sent_at: datetime


@dataclass(frozen=True)
class Late:
    """A deadline due in the period and not met by its due day."""

    deadline: int
    key: str
    kind: str
    title: str
    unit: str | None
    responsible: str | None
    due_on: date
    status: str  # met (late), overdue (still open), cancelled (after its due day)
    closed_on: date | None
    reminders: tuple[Reminder, ...]


@dataclass(frozen=True)
class Stage:
    kind: str  # item or request
    state: str
    stays: int
    median: float | None  # days
    p90: float | None


@dataclass(frozen=True)
class Assessment:
    period: str
    unit: str | None  # None: every unit
    first: date
    last: date
    today: date  # as of which a deadline still open is overdue
    timezone: str  # the office's, in which its days are counted
    on_time: tuple[OnTime, ...]  # every kind the office keeps, in KINDS order
    late: tuple[Late, ...]  # by due day
    published: tuple[str, ...]  # the items published in the period
    by_category: Mapping[str, int]  # every category of the catalogue, in its order
    by_tag: Mapping[str, int]  # every 五公开 tag
    untagged: int
    interpretations: tuple[str, ...]  # published in the period, by anyone
    by_head: tuple[str, ...]  # of those, by the head
    by_head_this_year: tuple[str, ...]  # published by the head from 1 January to the period's end
    quota: int  # a year
    replies: Mapping[str, int]  # every reply type (its group), in TYPES order
    stages: tuple[Stage, ...]  # per kind of case and review state
    signatures: tuple[tuple[str, int], ...]  # (YYYY-MM, events) for each month of the period
    counted: Mapping[str, int]  # each chain's last event counted: a recount reads the same events

    @property
    def quota_met(self) -> bool:
        return len(self.by_head_this_year) >= self.quota


@dataclass(frozen=True)
class ItemFacts:
    category: str
    kind: str
    tags: tuple[str, ...]
    interpreter: str | None = None  # an interpretation's, where it is not its drafter


class _Cases:
    """What one pass over the chains learns: publications, replies, stays, signatures."""

    def __init__(self, items: Mapping[str, ItemFacts], office: Office, first: date, last: date,
                 head_role: str) -> None:
        self.items, self.office, self.first, self.last, self.head_role = items, office, first, last, head_role
        self.heads: dict[str, set[str]] = defaultdict(set)  # chain -> who holds the head's role now
        self.drafters: dict[str, str] = {}  # interpretation -> its drafter now
        self.entered: dict[tuple[str, str], datetime] = {}  # case -> when it entered the state it is in
        self.published: list[str] = []
        self.interpretations: list[str] = []
        self.by_head: list[str] = []
        self.by_head_this_year: list[str] = []
        self.replies: Counter[str] = Counter()
        self.stays: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.months: Counter[str] = Counter()
        self.counted: dict[str, int] = {}
        self.at_end: dict[tuple[str, str], tuple[str, datetime]] = {}  # case -> its state when the period ended

    def add(self, e: Event) -> None:
        at = datetime.fromisoformat(e.at)
        day = self.office.date_of(at)
        within = self.first <= day <= self.last
        self.counted[e.chain] = e.seq
        if within:
            self.months[f"{day.year}-{day.month:02d}"] += 1
        if e.case_kind == "person" and e.action in (GRANT, REVOKE) and e.payload().get("role") == self.head_role:
            if e.action == GRANT:
                self.heads[e.chain].add(e.case_id)
            else:
                self.heads[e.chain].discard(e.case_id)
            return
        if e.case_kind not in CASE_KINDS:
            return
        facts = self.items.get(e.case_id) if e.case_kind == "item" else None
        if facts is not None and facts.kind == "interpretation" and e.action in (CREATE, REASSIGN):
            self.drafters[e.case_id] = str(e.actor if e.action == CREATE else e.payload()["to"])
        if e.from_state == e.to_state:
            return
        case = (e.case_kind, e.case_id)
        if day <= self.last:
            self.at_end[case] = (str(e.to_state), at)
        since = self.entered.get(case)
        if within and since is not None and e.from_state in REVIEW_STATES:
            self.stays[e.case_kind, e.from_state].append((at - since) / timedelta(days=1))
        self.entered[case] = at
        if e.case_kind == "request" and e.action == REPLY and within:
            self.replies[REPLIES[e.payload()["reply"]].type.code] += 1
        if facts is not None and e.to_state in ITEM.public and e.from_state not in ITEM.public:
            self._published(e, facts, day, within)

    def close(self, end: datetime) -> None:
        """The stays still open at `end` (the period's end, or now), counted up to it."""
        for (kind, _), (state, since) in self.at_end.items():
            if state in REVIEW_STATES and since < end:
                self.stays[kind, state].append((end - since) / timedelta(days=1))

    def _published(self, e: Event, facts: ItemFacts, day: date, within: bool) -> None:
        if within:
            self.published.append(e.case_id)
        if facts.kind != "interpretation":
            return
        if within:
            self.interpretations.append(e.case_id)
        interpreter = facts.interpreter or self.drafters.get(e.case_id)
        if interpreter in self.heads[e.chain] and date(self.last.year, 1, 1) <= day <= self.last:
            self.by_head_this_year.append(e.case_id)
            if within:
                self.by_head.append(e.case_id)


def count(events: Iterable[Event], items: Mapping[str, ItemFacts], deadlines: Iterable[duties.Deadline],
          reminders: Iterable[tuple[int, Reminder]], *, period: str, unit: str | None, office: Office, today: date,
          head_role: str = "head") -> Assessment:
    """The self-assessment of `period` from the unit chains' events (each chain in its order, from its first),
    the items' facts, the deadlines due in the period and the reminders sent for them (by deadline id)."""
    first, last = periods.bounds(CYCLE, period)
    cases = _Cases(items, office, first, last, head_role)
    for e in events:
        cases.add(e)
    ended = min(last + timedelta(days=1), today + timedelta(days=1))
    cases.close(datetime.combine(ended, datetime.min.time(), office.tz))
    sent: dict[int, list[Reminder]] = defaultdict(list)
    for deadline_id, reminder in reminders:
        sent[deadline_id].append(reminder)
    due: Counter[str] = Counter()
    on_time: Counter[str] = Counter()
    late = []
    for d in deadlines:
        closed = office.date_of(d.closed_at) if d.closed_at is not None else None
        status = d.status_on(today)
        if not first <= d.due_on <= last or d.kind in THEIRS or (unit is not None and d.unit != unit):
            continue
        if status == "open" or (status == "cancelled" and (closed is None or closed <= d.due_on)):
            continue  # not due yet, or the duty lapsed before it was
        due[d.kind] += 1
        if status == "met" and closed is not None and closed <= d.due_on:
            on_time[d.kind] += 1
        else:
            late.append(Late(d.id, d.key, d.kind, d.title, d.unit, d.responsible, d.due_on, status, closed,
                             tuple(sorted(sent.get(d.id, ()), key=lambda r: (r.sent_at, r.recipient, r.channel)))))
    tags = Counter(tag for i in cases.published for tag in items[i].tags)
    return Assessment(
        period, unit, first, last, today, office.timezone,
        tuple(OnTime(k, due[k], on_time[k]) for k in OFFICE_KINDS),
        tuple(sorted(late, key=lambda x: (x.due_on, x.deadline))),
        tuple(cases.published),
        {c: sum(1 for i in cases.published if items[i].category == c) for c in catalog.CATEGORIES},
        {tag: tags[tag] for tag in catalog.TAGS},
        sum(1 for i in cases.published if not items[i].tags),
        tuple(cases.interpretations), tuple(cases.by_head), tuple(cases.by_head_this_year), HEAD_QUOTA,
        {code: cases.replies[code] for code in TYPES},
        tuple(_stage(kind, state, cases.stays.get((kind, state), [])) for kind in CASE_KINDS
              for state in REVIEW_STATES),
        tuple((month, cases.months[month]) for month in _months(first, last)),
        dict(cases.counted))


def _stage(kind: str, state: str, days: list[float]) -> Stage:
    if not days:
        return Stage(kind, state, 0, None, None)
    return Stage(kind, state, len(days), percentile(days, 0.5), percentile(days, 0.9))


def percentile(values: Sequence[float], q: float) -> float:
    """The `q` quantile, linear between the closest ranks (numpy's default; q=0.5 is the median)."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    low = int(pos)
    high = min(low + 1, len(xs) - 1)
    return xs[low] + (xs[high] - xs[low]) * (pos - low)


def _months(first: date, last: date) -> list[str]:
    return [f"{first.year}-{m:02d}" for m in range(first.month, last.month + 1)]


# -- reading ------------------------------------------------------------------------------------------------------


def read(work: Work, period: str, *, unit: str | None, config: Config, today: date) -> Assessment:
    """The self-assessment of `period` for `unit` (None: every unit), read in the unit of work `work` (one read
    transaction: the events, deadlines and reminders of one moment)."""
    first, last = periods.bounds(CYCLE, period)
    units = [r["id"] for r in work.rows("units")]
    if unit is not None and unit not in units:
        raise NotFound("no unit '{unit}'", unit=unit)
    deadlines = [d for d in duties.listing(work, today=today, due_before=last + timedelta(days=1))
                 if d.due_on >= first]
    return count(_events(work, [unit] if unit is not None else units), _items(work, unit), deadlines,
                 _reminders(work, first, last), period=period, unit=unit, office=config.office, today=today,
                 head_role=config.reminders.head_role)


def _events(work: Work, chains: list[str]) -> Iterator[Event]:
    for chain in chains:
        with work.events("chain_events", {"chain": chain, "after": 0}) as events:
            yield from events


def _items(work: Work, unit: str | None) -> dict[str, ItemFacts]:
    i, c = t.item.c, t.case.c
    q = select(i.id, i.category, i.kind, i.tags, i.interpreter).join(t.case, (c.kind == "item") & (c.id == i.id))
    if unit is not None:
        q = q.where(c.unit_id == unit)
    return {r["id"]: ItemFacts(r["category"], r["kind"], tuple(json.loads(r["tags"])), r["interpreter"])
            for r in work.core(q)}


def _reminders(work: Work, first: date, last: date) -> list[tuple[int, Reminder]]:
    """The reminders sent for the deadlines due in the period."""
    n, d = t.notification.c, t.deadline.c
    q = (select(n.deadline_id, n.recipient, n.channel, n.step, n.sent_at)
         .join(t.deadline, d.id == n.deadline_id)
         .where(n.status == "sent", d.due_on >= first.isoformat(), d.due_on <= last.isoformat()))
    return [(r["deadline_id"], Reminder(r["recipient"], r["channel"], r["step"], datetime.fromisoformat(r["sent_at"])))
            for r in work.core(q)]


def as_data(a: Assessment) -> dict[str, Any]:
    """The numbers as plain JSON-able data (`zwgk report self-assessment --json`)."""
    out = {k: v for k, v in vars(a).items() if k not in ("on_time", "late", "stages")}
    out["on_time"] = [vars(o) | {"rate": o.rate} for o in a.on_time]
    out["late"] = [vars(x) | {"reminders": [vars(r) for r in x.reminders]} for x in a.late]
    out["stages"] = [vars(s) for s in a.stages]
    out["quota_met"] = a.quota_met
    return out
