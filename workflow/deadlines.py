"""Deadlines: which duties a signature opens or closes, and when their reminders fall due.

`Rules` is pure: from what it knows of an item and the step being signed, it returns `Open` and `Close`
operations. `statements` turns them into SQL that runs in the signature's own transaction, so a deadline
never exists without the signature that caused it (and is never found by scanning all items).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from states import Pipeline
from states.errors import Phrase
from workflow.clock import stamp
from workflow.config import Config, DeadlineRules, key_error
from workflow.periods import add_months
from workflow.workdays import Due, WorkCalendar

KINDS = {"interpretation": "政策解读", "proactive": "主动公开", "periodic": "定期公开",
         "reconfirm": "长期公开复核", "stage": "环节时限", "request": "依申请公开答复", "correction": "申请补正期限",
         "fee": "信息处理费缴费期限", "consultation": "征求意见期限", "withheld_review": "不予公开复核"}
STATUSES = ("open", "overdue", "met", "cancelled")
WITHHELD = "withheld"  # where the law (states/kinds.py) has a refused item rest, reviewed from time to time


@dataclass(frozen=True)
class Facts:
    """What the rules need to know of an item."""

    id: str
    title: str
    kind: str
    timing: str
    interprets: str | None
    drafter: str
    unit: str
    schedule: str | None
    period: str | None
    formed_on: date | None


@dataclass(frozen=True)
class Open:
    key: str
    kind: str
    title: str
    starts_on: date
    days: int | None  # None: due on starts_on, or the next working day if that is not one
    item_id: str | None = None
    schedule: str | None = None
    period: str | None = None
    responsible: str | None = None
    roles: tuple[str, ...] = ()
    unit: str | None = None
    met_if: str | None = None  # "disclosed": already met when it opens
    request_id: str | None = None


@dataclass(frozen=True)
class Narrow:
    """A role has signed in the state: the stage's reminders go on only to those who still have to."""

    item_id: str
    role: str
    signer: str


@dataclass(frozen=True)
class Retitle:
    item_id: str
    title: str


@dataclass(frozen=True)
class Handover:
    """A draft changed hands: what its old drafter answered for, the new one answers for."""

    before: str
    after: str
    item_id: str | None = None  # the item's, or
    request_id: str | None = None  # the request's


@dataclass(frozen=True)
class Close:
    status: str  # met | cancelled
    key: str | None = None  # one deadline, or
    item_id: str | None = None  # the item's live deadlines (of `kind`, or all), or
    kind: str | None = None
    request_id: str | None = None  # the request's live deadlines


@dataclass(frozen=True)
class Reopen:
    """An interpretation was taken back: its policy's duty to be interpreted opens again, from `starts_on`, if the
    policy is still public and no other interpretation of it is (its drafter answers for it, as at first)."""

    policy: str
    starts_on: date
    days: int


Op = Open | Close | Narrow | Retitle | Reopen | Handover


class Rules:
    """The township's deadline rules applied to one pipeline."""

    def __init__(self, config: Config, pipeline: Pipeline) -> None:
        self.rules = config.deadlines
        self.published = self.rules.published_state
        if pipeline.kind == "item":  # a request's deadlines are its clock's (workflow/requests.py)
            _check_names(config, pipeline)
        sources = {a.source for a in pipeline.actions}
        # States that end what an item owes (retracted, abolished; withheld, even where its review can move it):
        # no stage waits there.
        self.final = {s.id for s in pipeline.states if s.id not in sources or s.id == WITHHELD}
        self.stage_roles = {
            s: tuple(sorted({a.role for a in pipeline.actions_from(s) if not a.new_round}))
            for s in sources - self.final if s not in (pipeline.initial, self.published)}
        # Who reviews a withheld item (Art. 18): those who may sign its review. A pipeline with no such step (one
        # adopted before 0.5) opens no review, which nobody could meet.
        self.reviewers = tuple(sorted({a.role for a in pipeline.actions_from(WITHHELD)}))
        # A role whose only step in the state keeps the item there (proofread, approve) has nothing left to
        # sign there once it has signed; a role that also has a step onwards still has.
        self.done_by_signing = {
            s: {a.role for a in pipeline.actions_from(s) if a.to is None} - {
                a.role for a in pipeline.actions_from(s) if a.to is not None and not a.new_round}
            for s in self.stage_roles}

    def on_create(self, item: Facts, today: date) -> list[Op]:
        # An interpretation's clock is its policy's; a periodic item's is its schedule's.
        if item.kind == "interpretation" or item.schedule is not None:
            return []
        return [Open(f"proactive:{item.id}", "proactive", item.title, item.formed_on or today,
                     self.rules.proactive_days, item_id=item.id, responsible=item.drafter, unit=item.unit)]

    def on_edit(self, item: Facts, today: date, formed_changed: bool) -> list[Op]:
        """Information changed is information formed anew (Art. 26): its 20 days start again. Reminders
        name the item by its title as it is now."""
        return [Retitle(item.id, item.title), *(self.on_create(item, today) if formed_changed else [])]

    def on_step(self, item: Facts, from_state: str | None, to_state: str, today: date, *,
                role: str | None = None, signer: str = "", round: int = 1) -> list[Op]:
        if from_state == to_state == WITHHELD and self.reviewers:  # confirmed: until the next review
            return [Close("met", item_id=item.id, kind="withheld_review"), self._review(item, today, round)]
        if from_state == to_state:  # proofread, approve: signed, but the item waits on in the state
            if role is not None and role in self.done_by_signing.get(to_state, set()):
                return [Narrow(item.id, role, signer)]
            return []
        ops: list[Op] = [Close("met", item_id=item.id, kind="stage")]
        if from_state == WITHHELD:  # reopened: reviewed, back to its drafter
            ops.append(Close("met", item_id=item.id, kind="withheld_review"))
        if to_state in self.stage_roles:
            ops.append(Open(f"stage:{item.id}:{round}:{to_state}", "stage", item.title, today,
                            self.rules.stage_days, item_id=item.id, roles=self.stage_roles[to_state], unit=item.unit))
        if to_state == self.published:
            ops.append(Close("met", item_id=item.id, kind="proactive"))
            if item.kind == "policy":  # 谁起草、谁解读: the policy's drafter interprets it
                ops.append(Open(f"interpretation:{item.id}", "interpretation", item.title, today,
                                self.rules.interpretation_days, item_id=item.id, responsible=item.drafter,
                                unit=item.unit))
            if item.kind == "interpretation" and item.interprets:
                ops.append(Close("met", item_id=item.interprets, kind="interpretation"))
            if item.schedule is not None:
                ops.append(Close("met", key=f"periodic:{item.schedule}:{item.period}"))
            if item.timing == "long_term":
                ops.append(reconfirm(self.rules, item.id, item.title, item.drafter, item.unit, today, 1))
        elif to_state in self.final:
            ops.append(Close("cancelled", item_id=item.id))
            if to_state == WITHHELD and self.reviewers:
                ops.append(self._review(item, today, round))
        if from_state == self.published and item.kind == "interpretation" and item.interprets:
            ops.append(Reopen(item.interprets, today, self.rules.interpretation_days))
        return ops

    def _review(self, item: Facts, since: date, round: int) -> Open:
        """A withheld item's next review (Art. 18), one a round: each confirmation opens a round."""
        return Open(f"withheld_review:{item.id}:{round}", "withheld_review", item.title,
                    add_months(since, self.rules.withheld_review_months), None, item_id=item.id,
                    roles=self.reviewers, unit=item.unit)


def _check_names(config: Config, pipeline: Pipeline) -> None:
    """A misspelt state or role would silently stop a duty from being met or an escalation from going out."""
    states, roles = {s.id for s in pipeline.states}, {r.id for r in pipeline.roles}
    state, role = Phrase("state"), Phrase("role")
    named = [("deadlines.published_state", config.deadlines.published_state, states, state),
             ("reminders.leader_role", config.reminders.leader_role, roles, role),
             ("reminders.head_role", config.reminders.head_role, roles, role)]
    named += [(f"schedule[{i}].role", s.role, roles, role) for i, s in enumerate(config.schedules) if s.role]
    for key, value, known, what in named:
        if value not in known:
            raise key_error(config.source, key, "'{value}' is not a {what} of pipeline {pipeline} (one of: {known})",
                            value=value, what=what, pipeline=pipeline.name, known=", ".join(sorted(known)))


def reconfirm(rules: DeadlineRules, item_id: str, title: str, responsible: str, unit: str | None, since: date,
              n: int) -> Open:
    """Long-term items (长期公开): is the published content still current? Asked every N months."""
    return Open(f"reconfirm:{item_id}:{n}", "reconfirm", title, add_months(since, rules.reconfirm_months), None,
                item_id=item_id, responsible=responsible, unit=unit)


class Timeline:
    """When each reminder step of a deadline falls: step k is the k-th working day after the due day
    (negative: before it), at the office's opening time."""

    def __init__(self, config: Config) -> None:
        self.calendar: WorkCalendar = config.calendar
        self.office = config.office
        self.first = -config.reminders.before_days

    def due(self, starts_on: date, days: int | None) -> Due:
        if not days:  # on that day: on a rest day that is the next working day
            day = self.calendar.next_working_day(starts_on)
            return Due(day, not (self.calendar.knows(starts_on.year) and self.calendar.knows(day.year)))
        return self.calendar.add_working_days(starts_on, days)

    def day(self, due_on: date, step: int) -> date:
        if step < 0:
            return self.calendar.subtract_working_days(due_on, -step).day
        return self.calendar.add_working_days(due_on, step).day if step else due_on

    def at(self, due_on: date, step: int) -> datetime:
        return self.opening(self.day(due_on, step))

    def opening(self, day: date) -> datetime:
        return datetime.combine(day, self.office.opens, self.office.tz).astimezone(UTC)

    def reached(self, due_on: date, now: datetime) -> int | None:
        """The latest step whose time has come, or None if even the first has not."""
        local = now.astimezone(self.office.tz)
        seen = local.date() if local.time() >= self.office.opens else local.date() - timedelta(days=1)
        if seen >= due_on:
            step = self.calendar.working_days_between(due_on, seen)
        else:
            step = -self.calendar.working_days_between(seen, due_on)
        return step if step >= self.first else None

    def in_office_hours(self, now: datetime) -> bool:
        local = now.astimezone(self.office.tz)
        return self.calendar.is_working_day(local.date()) and self.office.opens <= local.time() < self.office.closes

    def next_opening(self, now: datetime) -> datetime:
        """Now if the office is open, else when it next opens."""
        if self.in_office_hours(now):
            return now
        local = now.astimezone(self.office.tz)
        inclusive = local.time() < self.office.opens
        return self.opening(self.calendar.next_working_day(local.date(), inclusive=inclusive))


def statements(ops: list[Op], timeline: Timeline, published: str, by: str | None, asked_by: str | None,
               at: str) -> list[tuple[str, dict[str, Any]]]:
    """The statements (workflow/sql/deadlines.sql) that carry out `ops` for the event `by` (CHAIN:SEQ, signed by
    `asked_by`), stored as at `at` (a `stamp`, which a signature has already made for its event)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for op in ops:
        if isinstance(op, Retitle):
            out.append(("dl_retitle", {"item_id": op.item_id, "title": op.title}))
            continue
        if isinstance(op, Handover):
            case = {"item_id": op.item_id, "request_id": op.request_id}
            out.append(("dl_handover", case | {"before": op.before, "after": op.after}))
            out.append(("dl_handover_unremind", case | {"before": op.before}))
            continue
        if isinstance(op, Narrow):
            out.append(("dl_narrow", {"item_id": op.item_id, "role": op.role}))
            out.append(("dl_unremind", {"item_id": op.item_id, "signer": op.signer}))
            continue
        if isinstance(op, Reopen):
            due = timeline.due(op.starts_on, op.days)
            out.append(("dl_reopen_interpretation", {
                "policy": op.policy, "starts_on": op.starts_on.isoformat(), "days": op.days,
                "due_on": due.day.isoformat(), "provisional": due.provisional, "published": published,
                "next_at": stamp(timeline.at(due.day, timeline.first)), "by": by, "asked_by": asked_by, "at": at}))
            continue
        if isinstance(op, Close):
            closing = {"status": op.status, "by": by, "at": at}
            if op.key is not None:
                out.append(("dl_close_key", {"key": op.key, **closing}))
            elif op.request_id is not None:
                out.append(("dl_close_request", {"request_id": op.request_id, **closing}))
            elif op.kind is not None:
                out.append(("dl_close_kind", {"item_id": op.item_id, "kind": op.kind, **closing}))
            else:
                out.append(("dl_close_item", {"item_id": op.item_id, **closing}))
            continue
        due = timeline.due(op.starts_on, op.days)
        out.append(("dl_open", {
            "key": op.key, "kind": op.kind, "item_id": op.item_id, "request_id": op.request_id,
            "schedule": op.schedule, "period": op.period,
            "title": op.title, "responsible": op.responsible, "roles": ",".join(op.roles) or None,
            "unit_id": op.unit, "starts_on": op.starts_on.isoformat(), "days": op.days,
            "due_on": due.day.isoformat(), "provisional": due.provisional,
            "next_at": stamp(timeline.at(due.day, timeline.first)), "by": by, "asked_by": asked_by, "at": at}))
        if op.met_if is not None:
            out.append((f"dl_met_{op.met_if}", {"key": op.key, "item_id": op.item_id, "schedule": op.schedule,
                                               "period": op.period, "published": published, "status": "met",
                                               "by": by, "at": at}))
    return out

