"""The half-yearly self-assessment (plan 五(三)), counted from the log, against a count the test keeps as it builds
the first half of 2026: items published on time and late, one returned, one withheld after its due day, one never
published; interpretations by the head (one handed to the head, one by a drafter while they held the head's role)
and by others; requests replied on time and late; reminders sent by the real planner and sender; a second unit.
Then the DOCX read back, the HTML in headless Chromium, and the CLI.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import docx
import numpy
import pytest

import notifiers
from scripts import assessment_cli
from scripts.zwgk import Cli, UsageError
from states.authority import REGISTER
from tests.conftest import ADMIN, PEOPLE, seed
from tests.recording import Recorder
from tests.requesting import WHO
from workflow import Signature, Workflow
from workflow.config import parse
from workflow.errors import InvalidInput, NotFound
from workflow.outbox import Sender
from workflow.reminders import Planner, build_channels
from workflow.report import charts
from workflow.report.assessment import Assessment, percentile
from workflow.report.assessment_render import to_docx, to_html

if TYPE_CHECKING:
    pass

TZ = ZoneInfo("Asia/Shanghai")
FIRST, LAST, TODAY = date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 10)
REVIEW = ("confidentiality_review", "leader_check", "head_approval")
# Where each step takes a case; `return` goes back to the start (written out here, not read from the pipelines).
MOVES = {"submit": "confidentiality_review", "clear": "leader_check", "check": "head_approval", "publish": "published",
         "withhold": "withheld", "send": "replied"}
START = {"item": "draft", "request": "handling"}
UNIT_NAME = "平田乡人民政府"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 8, tzinfo=TZ).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Half:
    """Half a year of cases, and the count the test keeps of them as it signs."""

    wf: Workflow
    clock: Clock
    recorder: Recorder
    signed: list[Signature] = field(default_factory=list)
    deadlines: dict[str, tuple[str, str, bool | None]] = field(default_factory=dict)  # key -> unit, kind, on time
    late: dict[str, str] = field(default_factory=dict)  # key -> status
    reminded: dict[int, list[tuple[str, str, str, datetime]]] = field(default_factory=lambda: defaultdict(list))
    published: list[tuple[str, str, str, tuple[str, ...]]] = field(default_factory=list)  # unit, id, category, tags
    interpretations: list[str] = field(default_factory=list)
    by_head: list[str] = field(default_factory=list)
    replies: Counter[str] = field(default_factory=Counter)
    # (unit, kind, state) -> the days of each stay that ended in the half-year
    stays: dict[tuple[str, str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    at_state: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    rounds: Counter[str] = field(default_factory=Counter)
    units: dict[str, str] = field(default_factory=dict)  # case -> unit
    named: dict[str, str] = field(default_factory=dict)  # what later tests look for
    n: int = 0

    def at(self, day: date, hour: float) -> None:
        self.clock.now = (datetime(day.year, day.month, day.day, tzinfo=TZ) + timedelta(hours=hour)).astimezone(UTC)

    def expect(self, key: str, kind: str, on_time: bool | None, unit: str = "gov", late: str = "met") -> None:
        """A deadline the scenario makes: met on time (True), late (False, with its status), or not counted (None)."""
        self.deadlines[key] = (unit, kind, on_time)
        if on_time is False:
            self.late[key] = late

    # -- items ----------------------------------------------------------------------------------------------------

    def item(self, day: date, drafter: str, *, unit: str = "gov", kind: str = "info", category: str = "2.4",
             tags: tuple[str, ...] = (), interprets: str | None = None, formed_on: date | None = None) -> str:
        self.at(day, 8.75)  # before the day's steps
        self.n += 1
        item_id = self.wf.new_item(title=f"事项{self.n}", unit=unit, category=category, timing="immediate", kind=kind,
                                   drafter=drafter, body="……", interprets=interprets, tags=list(tags),
                                   formed_on=formed_on).id
        self.at_state["item", item_id] = ("draft", self.clock.now)
        self.rounds[item_id] = 1
        self.units[item_id] = unit
        return item_id

    def step(self, kind: str, case: str, action: str, actor: str, day: date, hour: float, **kw: Any) -> None:
        self.at(day, hour)
        if kind == "item":
            self.wf.advance(case, action, actor=actor, **kw)
        else:
            self.wf.requests.advance(case, action, actor=actor, **kw)
        to = START[kind] if action == "return" else MOVES.get(action)
        if to is None:  # proofread, approve: the case stays where it is
            return
        state, since = self.at_state[kind, case]
        if state in REVIEW:
            if FIRST <= day <= LAST:
                stay = (self.clock.now - since) / timedelta(days=1)
                self.stays[self.units.get(case, "gov"), kind, state].append(stay)
            if kind == "item":  # its stage deadline: met the day it came, or weeks late
                came = since.astimezone(TZ).date()
                assert day == came or (day - came).days > 30
                key = f"stage:{case}:{self.rounds[case]}:{state}"
                self.expect(key, "stage", day == came if came <= LAST else None, self.units[case])  # July's: H2
        self.at_state[kind, case] = (to, self.clock.now)
        if action == "return":
            self.rounds[case] += 1

    def submit(self, item_id: str, day: date, drafter: str, start: float = 9.0) -> None:
        self.step("item", item_id, "submit", drafter, day, start)
        self.step("item", item_id, "proofread", "proof", day, start + 0.25)

    def finish(self, item_id: str, day: date, *, start: float = 9.5, hours: tuple[float, float] = (1.0, 2.0),
               approver: str = "head") -> None:
        """Cleared at `start`, checked `hours[0]` later, approved and published `hours[1]` after that."""
        self.step("item", item_id, "clear", "sec", day, start, decision="full")
        self.step("item", item_id, "check", "lead", day, start + hours[0])
        self.step("item", item_id, "approve", approver, day, start + hours[0] + 0.25)
        self.step("item", item_id, "publish", "clerk", day, start + sum(hours))
        facts = self.wf.item(item_id)
        if FIRST <= day <= LAST:
            self.published.append((facts.unit, item_id, facts.category, facts.tags))
            if facts.kind == "interpretation":
                self.interpretations.append(item_id)

    def publish(self, item_id: str, day: date, drafter: str, *, hours: tuple[float, float, float] = (1.0, 1.0, 2.0),
                approver: str = "head", start: float = 9.0) -> None:
        """Submitted at `start`, then `hours` in each review state."""
        self.submit(item_id, day, drafter, start)
        self.finish(item_id, day, start=start + hours[0], hours=(hours[1], hours[2]), approver=approver)

    # -- requests -------------------------------------------------------------------------------------------------

    def request(self, day: date, hour: float) -> str:
        self.at(day, hour)
        rid = self.wf.requests.new(unit="gov", handler="clerk", via="in_person", applicant=WHO,
                                   description=f"申请{day}").id
        self.at_state["request", rid] = ("handling", self.clock.now)
        return rid

    def reply(self, rid: str, code: str, day: date, **facts: str) -> None:
        self.at(day, 9)
        self.wf.requests.reply(rid, actor="clerk", type=code, **facts)
        for hour, (action, actor) in zip((9.5, 10, 11.5, 14, 14.5, 16), (
                ("submit", "clerk"), ("proofread", "proof"), ("clear", "sec"), ("check", "lead"), ("approve", "head"),
                ("send", "clerk")), strict=True):
            self.step("request", rid, action, actor, day, hour)
        self.replies[code.split(".")[0]] += 1

    # -- the daemon's reminders -----------------------------------------------------------------------------------

    def remind(self, day: date) -> None:
        """The planner's and the sender's pass at 09:00; what was delivered, kept by the deadline its key names."""
        self.at(day, 9)
        before = len(self.recorder.delivered)
        channels = build_channels(self.wf.config)
        Planner(self.wf.engine, self.wf.config, channels).plan(self.clock.now)
        Sender(self.wf.engine, self.wf.config.reminders, channels, "test", self.wf.clock).deliver()
        for m in self.recorder.delivered[before:]:
            _, deadline, _, step, recipient, channel = m.key.split(":")
            self.reminded[int(deadline)].append((recipient, channel, step, self.clock.now))

    # -- what the test expects --------------------------------------------------------------------------------------

    def on_time(self, unit: str | None) -> dict[str, tuple[int, int]]:
        due: Counter[str] = Counter()
        met: Counter[str] = Counter()
        for u, kind, on_time in self.deadlines.values():
            if on_time is not None and unit in (None, u):
                due[kind] += 1
                met[kind] += on_time
        return {k: (due[k], met[k]) for k in due}

    def months(self, unit: str | None, first: date = FIRST, last: date = LAST) -> dict[str, int]:
        found: Counter[str] = Counter()
        for s in self.signed:
            day = s.at.astimezone(TZ).date()
            if s.chain != REGISTER and unit in (None, s.chain) and first <= day <= last:
                found[f"{day:%Y-%m}"] += 1
        return dict(found)


def build(url: str) -> Half:
    """January to early July 2026 in units gov and zhan (a station). Every day chosen is a working day."""
    recorder = Recorder()
    unregister = notifiers.register("recording", recorder.factory)
    clock = Clock()
    config = parse({"channels": {"rec": {"type": "recording"}}, "reminders": {"channels": ["rec"]}}, source="t.toml")
    wf = Workflow(url, clock=clock, config=config)
    h = Half(wf, clock, recorder)
    wf.subscribe(h.signed.append)
    try:
        _scenario(h)
    finally:
        unregister()
    h.at(TODAY, 10)
    return h


def _scenario(h: Half) -> None:
    wf = h.wf
    seed(wf)
    wf.grant("clerk", "handler", unit="gov", by=ADMIN)
    wf.add_person("ohead", name="党政办主任", unit="gov", roles=["disclosure_office_head"], by=ADMIN)
    wf.grant("head", "drafter", unit="gov", by=ADMIN)  # the head drafts an interpretation of their own
    wf.add_unit("zhan", name="平田乡财政所", kind="station", by=ADMIN)
    for person in ("clerk", "proof", "sec", "lead", "head"):
        for role in PEOPLE[person]:
            wf.grant(person, role, unit="zhan", by=ADMIN)

    # January: a policy and the head's interpretation of it the next day; an item submitted and left waiting.
    p1 = h.item(date(2026, 1, 5), "clerk", kind="policy", category="1.1", tags=("decision",))
    h.publish(p1, date(2026, 1, 5), "clerk", hours=(0.5, 1.5, 3.0))
    h.expect(f"proactive:{p1}", "proactive", True)
    i1 = h.item(date(2026, 1, 6), "head", kind="interpretation", category="1.1", interprets=p1)
    h.publish(i1, date(2026, 1, 6), "head", approver="multi", hours=(2.0, 0.5, 1.0))
    h.expect(f"interpretation:{p1}", "interpretation", True)
    h.by_head.append(i1)
    late = h.item(date(2026, 1, 7), "clerk", category="3.4", tags=("execution", "result"))
    h.submit(late, date(2026, 1, 7), "clerk")
    h.expect(f"proactive:{late}", "proactive", False)
    h.remind(date(2026, 1, 12))  # its confidentiality review is overdue

    # February: a draft returned by the confidentiality review, corrected and published the same day.
    back = h.item(date(2026, 2, 2), "drafter2", category="2.4", tags=("service",))
    h.submit(back, date(2026, 2, 2), "drafter2")
    h.step("item", back, "return", "sec", date(2026, 2, 2), 10, reason="请补充发放名单的统计口径")
    h.publish(back, date(2026, 2, 2), "drafter2", hours=(2.0, 1.0, 1.5), start=11.0)
    h.expect(f"proactive:{back}", "proactive", True)
    h.remind(date(2026, 2, 10))  # the waiting item's 20 working days are over

    # March: the waiting item published, weeks late; a policy and its interpretation by a drafter (not the head);
    # a request replied in time; an item of the station.
    p2 = h.item(date(2026, 3, 2), "drafter2", kind="policy", category="1.1", tags=("decision",))
    h.finish(late, date(2026, 3, 2), hours=(4.0, 1.0))
    h.publish(p2, date(2026, 3, 2), "drafter2", start=15.0, hours=(0.25, 0.25, 0.5))
    r1 = h.request(date(2026, 3, 2), 16.5)
    i2 = h.item(date(2026, 3, 3), "drafter2", kind="interpretation", category="1.1", interprets=p2)
    h.publish(i2, date(2026, 3, 3), "drafter2", hours=(1.0, 3.0, 1.0))
    h.expect(f"proactive:{p2}", "proactive", True)
    h.expect(f"interpretation:{p2}", "interpretation", True)
    h.reply(r1, "disclosed.provided", date(2026, 3, 10), how="提供纸质复印件")
    h.expect(f"request:{r1}:reply:0", "request", True)
    z = h.item(date(2026, 3, 16), "clerk", unit="zhan", category="3.3", tags=("management", "result"))
    h.publish(z, date(2026, 3, 16), "clerk")
    h.expect(f"proactive:{z}", "proactive", True, unit="zhan")

    # April: a policy never interpreted; a request replied two months late; information formed in March, withheld
    # in April after its 20 working days.
    p3 = h.item(date(2026, 4, 1), "clerk", kind="policy", category="1.2")
    h.publish(p3, date(2026, 4, 1), "clerk", hours=(0.5, 0.5, 0.5))
    h.expect(f"proactive:{p3}", "proactive", True)
    h.expect(f"interpretation:{p3}", "interpretation", False, late="overdue")
    r2 = h.request(date(2026, 4, 1), 11)
    h.expect(f"request:{r2}:reply:0", "request", False)
    h.remind(date(2026, 4, 14))
    withheld = h.item(date(2026, 4, 20), "clerk", category="4.2", formed_on=date(2026, 3, 2))
    h.submit(withheld, date(2026, 4, 20), "clerk")
    h.step("item", withheld, "withhold", "sec", date(2026, 4, 20), 11, reason="属于内部事务信息", ground="art16")
    h.expect(f"proactive:{withheld}", "proactive", False, late="cancelled")
    # ... and one withheld in time: its duty lapsed, counted nowhere.
    lapsed = h.item(date(2026, 4, 21), "clerk", category="4.2")
    h.submit(lapsed, date(2026, 4, 21), "clerk")
    h.step("item", lapsed, "withhold", "sec", date(2026, 4, 21), 11, reason="属于过程性信息", ground="art16")
    h.expect(f"proactive:{lapsed}", "proactive", None)

    # May: information formed on 1 April registered on 6 May and never published; a drafter made head for two
    # days interprets a policy, then (no longer head) another interpretation of it; a third, drafted by them and
    # handed to the head, who signs it as its drafter.
    never = h.item(date(2026, 5, 6), "clerk", category="5", formed_on=date(2026, 4, 1))
    h.expect(f"proactive:{never}", "proactive", False, late="overdue")
    h.remind(date(2026, 5, 7))  # after the May Day holiday: the late reply, the information never published
    p4 = h.item(date(2026, 5, 11), "clerk", kind="policy", category="1.1", tags=("decision", "execution"))
    h.publish(p4, date(2026, 5, 11), "clerk")
    h.expect(f"proactive:{p4}", "proactive", True)
    h.expect(f"interpretation:{p4}", "interpretation", True)
    wf.grant("drafter2", "head", unit="gov", by=ADMIN)
    i4 = h.item(date(2026, 5, 12), "drafter2", kind="interpretation", category="1.1", interprets=p4)
    h.publish(i4, date(2026, 5, 12), "drafter2")
    h.by_head.append(i4)
    h.at(date(2026, 5, 13), 9)
    wf.revoke("drafter2", "head", unit="gov", by=ADMIN)
    i5 = h.item(date(2026, 5, 14), "drafter2", kind="interpretation", category="1.1", interprets=p4)
    h.publish(i5, date(2026, 5, 14), "drafter2", hours=(1.0, 2.0, 3.0))
    i6 = h.item(date(2026, 5, 20), "drafter2", kind="interpretation", category="1.1", interprets=p4)
    wf.reassign(i6, to="head", actor="drafter2")
    h.publish(i6, date(2026, 5, 20), "head", approver="multi")
    h.by_head.append(i6)

    # June: the late reply; information formed on 22 June, due in July and published then (the second half).
    h.reply(r2, "withheld.process_info", date(2026, 6, 1), reason="属于过程性信息")
    july = h.item(date(2026, 6, 22), "clerk", category="2.5", tags=("result",))
    h.expect(f"proactive:{july}", "proactive", None)  # due in July
    h.publish(july, date(2026, 7, 2), "clerk")
    h.named["july"] = july


def check(h: Half, a: Assessment, unit: str | None) -> None:
    """Every number of the first half-year against the test's own count."""
    assert (a.period, a.unit, a.first, a.last, a.today) == ("2026H1", unit, FIRST, LAST, TODAY)
    assert {o.kind: (o.due, o.on_time) for o in a.on_time if o.due} == h.on_time(unit)
    assert {x.key: x.status for x in a.late} == {k: s for k, s in h.late.items()
                                                 if unit in (None, h.deadlines[k][0])}
    for x in a.late:
        expected = sorted(h.reminded.get(x.deadline, []), key=lambda r: (r[3], r[0], r[1]))
        assert [(r.recipient, r.channel, r.step, r.sent_at) for r in x.reminders] == expected, x.key
    published = [p for p in h.published if unit in (None, p[0])]
    assert sorted(a.published) == sorted(p[1] for p in published)
    categories = Counter(p[2] for p in published)
    assert {c: n for c, n in a.by_category.items() if n} == dict(categories)
    tags = Counter(tag for p in published for tag in p[3])
    assert {t: n for t, n in a.by_tag.items() if n} == dict(tags)
    assert a.untagged == sum(1 for p in published if not p[3])
    assert sorted(a.interpretations) == sorted(i for i in h.interpretations if unit in (None, h.units[i]))
    assert sorted(a.by_head) == sorted(a.by_head_this_year) == sorted(h.by_head)
    assert (a.quota, a.quota_met) == (1, True)
    assert {k: n for k, n in a.replies.items() if n} == dict(h.replies)
    for s in a.stages:
        days = [d for (u, kind, state), ds in h.stays.items()
                if (kind, state) == (s.kind, s.state) and unit in (None, u) for d in ds]
        assert s.stays == len(days), (s.kind, s.state)
        if days:
            assert s.median == pytest.approx(float(numpy.percentile(days, 50)), abs=1e-9)
            assert s.p90 == pytest.approx(float(numpy.percentile(days, 90)), abs=1e-9)
        else:
            assert (s.median, s.p90) == (None, None)
    assert {m: n for m, n in a.signatures if n} == h.months(unit)
    assert [m for m, _ in a.signatures] == [f"2026-{m:02d}" for m in range(1, 7)]


@pytest.fixture
def half(db_url: str) -> Iterator[Half]:
    h = build(db_url)
    yield h
    h.wf.close()


def test_every_number_of_the_half_year_is_the_count_kept_while_building_it(half: Half) -> None:
    h = half
    everything, gov = h.wf.self_assessment("2026H1"), h.wf.self_assessment("2026H1", unit="gov")
    check(h, everything, None)
    check(h, gov, "gov")
    zhan = h.wf.self_assessment("2026H1", unit="zhan")
    assert len(zhan.published) == 1 and {o.kind: (o.due, o.on_time) for o in zhan.on_time if o.due} == h.on_time("zhan")
    assert (zhan.late, zhan.interpretations, zhan.by_head, sum(zhan.replies.values())) == ((), (), (), 0)
    assert {m: n for m, n in zhan.signatures if n} == h.months("zhan")
    # The scenario is what it says: late deadlines that were reminded, each kind of late, stays of both kinds.
    reminded = {x.key.split(":")[0] for x in gov.late if x.reminders}
    assert {"stage", "proactive", "interpretation", "request"} <= reminded
    assert {x.status for x in gov.late} == {"met", "overdue", "cancelled"}
    assert sum(o.due - o.on_time for o in gov.on_time) == len(gov.late) == 6
    assert all(s.stays for s in gov.stages) and any(s.median != s.p90 for s in gov.stages)
    assert len(everything.counted) == 2 and gov.counted == {"gov": everything.counted["gov"]}


def test_the_second_half_counts_only_what_fell_in_it(half: Half) -> None:
    h = half
    waiting = h.item(date(2026, 7, 6), "clerk")  # due in August: not due yet on 10 July
    h.at(TODAY, 10)
    a = h.wf.self_assessment("2026H2", unit="gov")
    assert a.published == (h.named["july"],) and waiting not in a.published
    assert {o.kind: (o.due, o.on_time) for o in a.on_time if o.due} == {"proactive": (1, 1), "stage": (3, 3)}
    assert a.late == () and a.interpretations == a.by_head == ()
    assert sorted(a.by_head_this_year) == sorted(h.by_head)  # the year's, from January
    assert {m: n for m, n in a.signatures if n} == h.months("gov", date(2026, 7, 1), date(2026, 12, 31))
    assert [m for m, _ in a.signatures] == [f"2026-{m:02d}" for m in range(7, 13)]


def test_a_period_is_a_half_year_and_the_unit_must_exist(half: Half) -> None:
    for bad in ("2026Q1", "2026H3", "2026", "H1"):
        with pytest.raises(InvalidInput, match="half-yearly"):
            half.wf.self_assessment(bad)
    with pytest.raises(NotFound, match="no unit 'nowhere'"):
        half.wf.self_assessment("2026H1", unit="nowhere")


def test_percentiles_are_linear_between_the_closest_ranks() -> None:
    for values in ([3.0], [1.0, 2.0], [5.0, 1.0, 4.0, 2.0, 3.0], [0.1 * n * n for n in range(17)]):
        for q in (0.5, 0.9):
            assert percentile(values, q) == pytest.approx(float(numpy.percentile(values, 100 * q)))


# -- the report: DOCX, HTML, charts, the CLI --------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    url: str
    assessment: Assessment
    half: Half


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = f"sqlite:///{tmp_path_factory.mktemp('assess')}/zwgk.db"
    h = build(url)
    yield World(url, h.wf.self_assessment("2026H1", unit="gov"), h)
    h.wf.close()


def test_the_docx_has_the_numbers_and_the_three_charts(world: World) -> None:
    a = world.assessment
    doc = docx.Document(io.BytesIO(to_docx(a, UNIT_NAME)))
    assert len(doc.inline_shapes) == 3
    pictures = [p for p in doc.part.package.parts if p.content_type == "image/png"]
    assert len(pictures) == 3 and all(p.blob.startswith(b"\x89PNG") for p in pictures)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"{UNIT_NAME}2026年上半年政务公开工作自评报告" in text
    assert f"主要负责人解读{len(a.by_head)}篇" in text
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    on_time = {row[0]: row[1:3] for row in tables[0][1:]}
    assert on_time["主动公开"] == [str(o.due) for o in a.on_time if o.kind == "proactive"] + [
        str(o.on_time) for o in a.on_time if o.kind == "proactive"]
    assert len(tables[1]) == 1 + len(a.late) and {row[0] for row in tables[1][1:]} == {x.title for x in a.late}
    reminded = next(x for x in a.late if x.reminders)
    row = next(r for r in tables[1][1:] if r[0] == reminded.title and r[2] == reminded.due_on.isoformat())
    assert reminded.reminders[0].recipient in row[6]
    signatures = next(t for t in tables if t[0] == ["月份", "签名数"])
    assert [tuple(r) for r in signatures[1:]] == [(m, str(n)) for m, n in a.signatures]


def test_the_html_shows_the_charts_in_a_browser_and_prints_on_a4(world: World, page: Any) -> None:
    a = world.assessment
    page.set_content(to_html(a, UNIT_NAME))
    shot = page.screenshot(full_page=True)
    assert shot.startswith(b"\x89PNG") and len(shot) > 10_000
    images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
    assert [(done, alt) for done, _, alt in images] == [(True, charts.ON_TIME), (True, charts.STAGES),
                                                        (True, charts.SIGNATURES)]
    assert all(width > 0 for _, width, _ in images)
    assert page.evaluate("document.querySelectorAll('link, script, iframe').length") == 0  # self-contained
    body = page.inner_text("body")
    assert f"本期公开信息{len(a.published)}条" in body and page.title().startswith(UNIT_NAME)
    pdf = page.pdf(prefer_css_page_size=True)
    width, height = (float(n) for n in re.findall(rb"/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", pdf)[0])
    assert abs(width - 595.3) < 1 and abs(height - 841.9) < 1  # A4


def test_markup_in_a_name_is_shown_as_text(world: World, page: Any) -> None:
    name = '<script>document.title="pwned"</script><b>乡</b>&amp;'
    html = to_html(world.assessment, name)
    assert "<script>" not in html and "<b>" not in html
    page.set_content(html)
    assert name in page.inner_text("h1") and page.evaluate("document.querySelectorAll('script, b').length") == 0


def test_the_charts_are_pngs_drawn_with_a_chinese_font(world: World) -> None:
    drawn = charts.charts(world.assessment)
    assert [title for title, _ in drawn] == [charts.SIGNATURES, charts.ON_TIME, charts.STAGES]
    assert all(png.startswith(b"\x89PNG") for _, png in drawn)
    if charts.font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk)")
    assert charts.font() in charts.CJK_FONTS


def _cli(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, list[str]]:
    """`zwgk report self-assessment ...` as scripts/zwgk.py will wire it: `report`'s subparsers, then `run`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db")
    common.add_argument("--json", action="store_true")
    parser = argparse.ArgumentParser()
    report = parser.add_subparsers(dest="command").add_parser("report").add_subparsers(dest="sub")
    assessment_cli.add_parser(report, common)
    args = parser.parse_args(["report", *argv, "--db", world.url])
    args.pipeline = args.config = None
    args.verbose = False
    monkeypatch.setenv("ZWGK_NOW", "2026-07-10T10:00:00+08:00")
    monkeypatch.delenv("ZWGK_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    said: list[str] = []
    return assessment_cli.run(Cli(args, said.append, "en")), said


def test_the_cli_writes_the_report_and_prints_the_numbers(world: World, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    code, said = _cli(world, tmp_path, monkeypatch, "self-assessment", "2026H1", "--unit", "gov", "--format", "docx")
    assert (code, said) == (0, ["self-assessment-2026H1-gov.docx"])
    assert len(docx.Document(str(tmp_path / said[0])).inline_shapes) == 3
    out = tmp_path / "自评.html"
    code, said = _cli(world, tmp_path, monkeypatch, "self-assessment", "2026H1", "--format", "html", "--out",
                      str(out), "--json")
    data = json.loads(said[0])
    assert code == 0 and data["file"] == str(out) and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    everything = world.half.wf.self_assessment("2026H1")
    assert data["published"] == list(everything.published) and data["quota_met"] is True
    assert [o["due"] for o in data["on_time"]] == [o.due for o in everything.on_time]


def test_a_file_that_cannot_be_written_is_one_usage_error(world: World, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="cannot write --out"):
        _cli(world, tmp_path, monkeypatch, "self-assessment", "2026H1", "--format", "html", "--out",
             str(tmp_path / "no-such-folder" / "r.html"))


def test_every_option_of_the_command_says_what_it_is_for() -> None:
    parser = argparse.ArgumentParser()
    report = parser.add_subparsers().add_parser("report").add_subparsers()
    assessment_cli.add_parser(report, argparse.ArgumentParser(add_help=False))
    command = report.choices["self-assessment"]
    assert all(a.help for a in command._actions)
    assert any(a.help for a in report._choices_actions if a.dest == "self-assessment")


def test_an_interpretation_by_the_head_is_counted_by_who_interprets_not_who_drafted(wf: Workflow) -> None:
    """谁起草、谁解读 is the rule, but the head may interpret what a clerk drafted: the item says who interprets."""
    from .conftest import new_info, publish

    policy = new_info(wf, kind="policy", category="1.1", timing="long_term")
    publish(wf, policy)
    reading = new_info(wf, kind="interpretation", interprets=policy, interpreter="head", category="1.1")
    assert wf.item(reading).interpreter == "head" and wf.item(reading).drafter == "clerk"
    publish(wf, reading)
    half = "2026H2" if wf.today().month > 6 else "2026H1"
    assert wf.self_assessment(half, unit="gov").by_head == (reading,)
    with pytest.raises(InvalidInput, match="only an interpretation"):
        new_info(wf, interpreter="head")
    assert wf.verify().ok
