"""Deadlines outside a signature: listing them, rolling periodic schedules forward, closing office duties
by hand, and recomputing provisional due dates once the calendar knows their year."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select, text, update

from workflow import periods
from workflow import schema as t
from workflow.clock import stamp
from workflow.config import Config, Schedule
from workflow.deadlines import Op, Open, Timeline, reconfirm, statements
from workflow.errors import InvalidInput, NotFound
from workflow.logs import get_logger
from workflow.uow import Row, Work

log = get_logger("zwgk.deadlines")


@dataclass(frozen=True)
class Deadline:
    id: int
    key: str
    kind: str
    item_id: str | None
    schedule: str | None
    period: str | None
    title: str
    responsible: str | None
    roles: tuple[str, ...]
    unit: str | None
    starts_on: date
    days: int | None
    due_on: date
    provisional: bool
    status: str
    step: int | None
    next_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    closed_note: str | None
    request_id: str | None = None  # a request's reply, or what stops its clock

    def status_on(self, today: date) -> str:
        """The status as of `today`, even if no daemon has looked at it since it fell due."""
        return "overdue" if self.status in t.LIVE and self.due_on < today else self.status


_COLS = [t.deadline.c[n] for n in ("id", "key", "kind", "item_id", "schedule", "period", "title", "responsible",
                                   "roles", "unit_id", "starts_on", "days", "due_on", "provisional", "status", "step",
                                   "next_at", "closed_by", "closed_at", "closed_note", "request_id")]


def _deadline(r: Row) -> Deadline:
    return Deadline(r["id"], r["key"], r["kind"], r["item_id"], r["schedule"], r["period"], r["title"],
                    r["responsible"], tuple(r["roles"].split(",")) if r["roles"] else (), r["unit_id"],
                    date.fromisoformat(r["starts_on"]), r["days"], date.fromisoformat(r["due_on"]),
                    bool(r["provisional"]), r["status"], r["step"],
                    datetime.fromisoformat(r["next_at"]) if r["next_at"] else None, r["closed_by"],
                    datetime.fromisoformat(r["closed_at"]) if r["closed_at"] else None, r["closed_note"],
                    r["request_id"])


def listing(work: Work, *, today: date, status: str | None = None, overdue: bool = False,
            due_before: date | None = None, item: str | None = None) -> list[Deadline]:
    q = select(*_COLS).order_by(t.deadline.c.due_on, t.deadline.c.id)
    d = t.deadline.c
    live = text(t.LIVE_ONLY)  # word for word, so that the live deadlines' index serves
    if overdue:
        q = q.where(live, d.due_on < today.isoformat())
    elif status == "open":
        q = q.where(live, d.due_on >= today.isoformat())
    elif status is not None:
        q = q.where(and_(live, or_(d.status == status, d.due_on < today.isoformat()))  # overdue is live too
                    if status == "overdue" else d.status == status)
    if due_before is not None:
        q = q.where(d.due_on < due_before.isoformat())
    if item is not None:
        q = q.where(d.item_id == item)
    return [_deadline(r) for r in work.core(q)]


def one(work: Work, deadline_id: int) -> Deadline:
    rows = work.core(select(*_COLS).where(t.deadline.c.id == deadline_id))
    if not rows:
        raise NotFound("no deadline {deadline}", deadline=deadline_id)
    return _deadline(rows[0])


def complete(work: Work, deadline_id: int, *, by: str, note: str | None, now: datetime,
             timeline: Timeline, config: Config) -> Deadline:
    """Close an office duty by hand (the self-assessment was held; a long-term item is still current).

    A long-term item's reconfirmation opens the next one; duties met by publishing are refused.
    """
    found = one(work, deadline_id)
    if found.status not in t.LIVE:
        raise InvalidInput("deadline {deadline} is already {status}", deadline=deadline_id, status=found.status)
    if found.kind in ("proactive", "interpretation", "stage", "withheld_review"):
        raise InvalidInput("deadline {deadline} ({kind}) is met by signing the item, not by hand",
                           deadline=deadline_id, kind=found.kind)
    if found.kind == "periodic" and any(s.id == found.schedule and s.category for s in config.schedules):
        raise InvalidInput("deadline {deadline} is met by publishing an item for {schedule} {period} (zwgk item "
                           "new --schedule {schedule} --period {period})", deadline=deadline_id,
                           schedule=found.schedule, period=found.period)
    if not work.core(select(t.person.c.id).where(t.person.c.id == by, t.person.c.active.is_(True))):
        raise NotFound("no active person '{person}'", person=by)
    work.core(update(t.deadline).where(t.deadline.c.id == deadline_id, t.deadline.c.status.in_(t.LIVE))
                 .values(status="met", next_at=None, closed_at=stamp(now), closed_note=f"{by}: {note or ''}"))
    if found.kind == "reconfirm" and found.item_id is not None:
        n = int(found.key.rsplit(":", 1)[1]) + 1
        opened = reconfirm(config.deadlines, found.item_id, found.title, found.responsible or by, found.unit,
                           config.office.date_of(now), n)
        _run(work, [opened], timeline, now, config.deadlines.published_state)
    return one(work, deadline_id)


def roll(work: Work, config: Config, timeline: Timeline, now: datetime) -> list[str]:
    """Open the deadline of every schedule's completed periods not opened yet (once: the key is unique).

    A schedule is followed from the first period whose deadline had not passed when it was first rolled:
    an office installing in November is not told that last year's annual report is 200 days late. After
    that, a daemon that was down for a whole period still opens that period's deadline.
    """
    today = config.office.date_of(now)
    opened = []
    d = t.deadline.c
    for s in config.schedules:
        latest = periods.last_completed(s.cycle, today)
        found = work.core(select(d.period, d.starts_on).where(d.schedule == s.id, d.kind == "periodic")
                            .order_by(d.starts_on.desc()).limit(1))
        known = found[0] if found else None
        try:
            todo = periods.between(s.cycle, known["period"], latest) if known else [latest]
        except InvalidInput:  # the schedule's cycle was changed in the config: follow it afresh
            log.warning("schedule_cycle_changed", schedule=s.id, last_period=known["period"] if known else None)
            known, todo = None, [latest]
        for period in todo:
            op = _periodic(s, period)
            if known is None and (op.key in _keys(work, s.id) or timeline.due(op.starts_on, op.days).day < today):
                continue
            _run(work, [op], timeline, now, config.deadlines.published_state)
            opened.append(op.key)
    if opened:
        log.info("schedules_rolled", opened=opened)
    return opened


def _keys(work: Work, schedule: str) -> set[str]:
    return {r["key"] for r in work.core(select(t.deadline.c.key).where(t.deadline.c.schedule == schedule))}


def _periodic(s: Schedule, period: str) -> Open:
    _, last = periods.bounds(s.cycle, period)
    if s.due_date is not None:
        month, day = (int(x) for x in s.due_date.split("-"))
        year = last.year + (month <= last.month)
        starts, days = date(year, month, min(day, calendar.monthrange(year, month)[1])), None
    else:
        starts, days = last, s.due_days
    return Open(f"periodic:{s.id}:{period}", "periodic", s.title, starts, days, schedule=s.id, period=period,
                responsible=s.responsible, roles=(s.role,) if s.role else (), unit=s.unit, met_if="disclosed")


def recompute(work: Work, timeline: Timeline, now: datetime) -> list[tuple[int, date, date]]:
    """Provisional due dates computed again with the calendar as it is now: (id, old, new) of each change. A
    request's reply is counted again from its clock: the working days its stops held back change with the
    calendar too."""
    from workflow.requests import clock_of

    d = t.deadline.c
    changed = []
    rows = work.core(select(d.id, d.kind, d.request_id, d.starts_on, d.days, d.due_on, d.step)
                       .where(text(t.LIVE_ONLY), d.provisional.is_(True)))  # the live index
    for r in rows:
        starts, days = date.fromisoformat(r["starts_on"]), r["days"]
        if r["kind"] == "request" and r["request_id"] is not None:
            clock = clock_of(work, r["request_id"], timeline.office)
            if clock.fixed_due is None:
                starts, days = clock.start, clock.allowance + clock.paused(timeline.calendar)
        due = timeline.due(starts, days)
        old = date.fromisoformat(r["due_on"])
        values: dict[str, Any] = {"provisional": due.provisional, "starts_on": starts.isoformat(), "days": days}
        if due.day != old:
            # Reminders start again from the new dates; steps already sent keep their keys.
            values.update(due_on=due.day.isoformat(), step=None, status="open",
                          next_at=stamp(timeline.at(due.day, timeline.first)))
            changed.append((r["id"], old, due.day))
        work.core(update(t.deadline).where(d.id == r["id"]).values(**values))
    if changed:
        log.info("deadlines_recomputed", changed=len(changed))
    return changed


def _run(work: Work, ops: list[Op], timeline: Timeline, now: datetime, published: str) -> None:
    """Deadlines no signature opens (a schedule's, a reconfirmation's next)."""
    work.send(statements(ops, timeline, published, None, None, stamp(now)))
