"""Planning reminders: due deadlines become rows in the notification outbox.

A pass reads only deadlines whose `next_at` has come (an index range scan), writes at most one step per
deadline — the latest one reached, so a daemon back from a week's downtime sends one reminder, not five —
and moves `next_at` to the following step. The outbox's unique key (deadline, due day, step, recipient,
channel) makes planning twice, or two daemons planning at once, add nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from notifiers import Contact, Notifier, NotifierConfigError, build, send_timeout
from states import builtin
from states.kinds import KINDS as CASE_KINDS
from workflow import schema as t
from workflow.clock import stamp
from workflow.config import Config, ConfigError, key_error
from workflow.deadlines import KINDS, Timeline
from workflow.logs import get_logger
from workflow.outbox import LEASE_PER_TIMEOUT
from workflow.screen import masked
from workflow.sql import Statements, statements

log = get_logger("zwgk.reminders")

_TODO = {
    "interpretation": "发布该政策的解读（谁起草、谁解读） publish the interpretation of this policy",
    "proactive": "完成审核并发布 get it signed and published",
    "periodic": "发布本期定期公开信息 publish this period's disclosure",
    "reconfirm": "复核已公开内容是否仍然有效 confirm the published content is still current",
    "stage": "在本环节签署 sign at this stage",
    "withheld_review": "复核不予公开的信息：确认不予公开（confirm，附依据和理由）或重新审查（reopen） review the "
                       "withheld item: confirm it, with its ground, or reopen it",
    "request": "答复政府信息公开申请 reply to the request (zwgk request show)",
    "correction": "补正期限届满：未补正的，按逾期不补正处理 the applicant's day to correct ends: close it as lapsed if "
                  "nothing came",
    "fee": "缴费期限届满：未缴费的，按逾期未缴费处理 the day to pay ends: close it as lapsed if unpaid",
    "consultation": "征求意见期限届满：恢复计算答复期限 the consulted party's 15 working days end: the clock runs "
                    "again",
}


@dataclass(frozen=True)
class Planned:
    deadline_id: int
    due_on: date
    step: str
    recipient: str
    channel: str
    key: str
    subject: str
    text: str
    fields: Mapping[str, str]
    address: str
    not_before: datetime


def build_channels(config: Config) -> dict[str, Notifier]:
    """The notifiers of `reminders.channels`, in order (a person gets every one that can reach them), then those
    only the witnesses use."""
    out = {}
    for name in dict.fromkeys([*config.reminders.channels, *(w.channel for w in config.witnesses)]):
        settings = config.channel_settings(name)
        kind = settings.pop("type")
        try:
            out[name] = build(kind, settings)
        except NotifierConfigError as e:
            raise ConfigError("{source}: {key}: {problem}", source=config.source, key=f"channels.{name}",
                              problem=e) from None
    _check_lease(config, out)
    return out


def _check_lease(config: Config, channels: Mapping[str, Notifier]) -> None:
    """A claim must outlast a send with room to spare (see workflow.outbox): refused, one line, when it cannot."""
    if not channels:
        return
    name = max(channels, key=lambda n: send_timeout(channels[n]))
    needed = LEASE_PER_TIMEOUT * send_timeout(channels[name])
    if config.reminders.lease_seconds < needed:
        raise key_error(config.source, "reminders.lease_seconds", "{lease:g} is not well above channel {channel}'s "
                        "timeout of {timeout:g} s: make it at least {needed:g}", lease=config.reminders.lease_seconds,
                        channel=name, timeout=send_timeout(channels[name]), needed=needed)


def step_name(step: int) -> str:
    return "due" if step == 0 else f"before{-step}" if step < 0 else f"overdue{step}"


class People:
    """The active people, by id and by the roles they hold in each unit, read once per pass."""

    def __init__(self, conn: Connection, sql: Statements) -> None:
        self.by_id = {r.id: Contact(r.id, r.name, r.email, r.phone)
                      for r in conn.execute(sql.clause("rm_people"), {"yes": True})}
        self.by_role: dict[str, list[tuple[str, str]]] = {}  # role -> (unit, person)
        for r in conn.execute(sql.clause("rm_roles"), {"yes": True}):
            self.by_role.setdefault(r.role, []).append((r.chain, r.person_id))

    def holding(self, roles: Sequence[str], unit: str | None = None) -> list[str]:
        """Who holds one of `roles` in `unit` (in any unit, if none is given)."""
        return sorted({p for r in roles for u, p in self.by_role.get(r, []) if unit is None or u == unit})


class Planner:
    def __init__(self, engine: Engine, config: Config, channels: Mapping[str, Notifier]) -> None:
        self.engine = engine
        self.config = config
        # Roles named in a stage's reminder, in Chinese as the built-in pipelines name them.
        self.role_names = {r.id: r.zh for kind in CASE_KINDS for r in builtin(kind).roles}
        self.timeline = Timeline(config)
        self.channels = {name: channels[name] for name in config.reminders.channels}
        pg = engine.dialect.name == "postgresql"
        self.sql = statements(engine.dialect.name)
        insert = pg_insert if pg else sqlite_insert
        self.outbox = insert(t.notification).on_conflict_do_nothing().returning(t.notification.c.key)

    def plan(self, now: datetime, *, dry_run: bool = False) -> list[Planned]:
        """One pass at `now`. With `dry_run` nothing is written: the answer is what would be queued."""
        out: list[Planned] = []
        with self.engine.connect() as conn:
            with conn.begin():
                people = People(conn, self.sql)
            while True:
                with conn.begin() as tx:
                    limit = 1_000_000_000 if dry_run else self.config.reminders.batch
                    rows = conn.execute(self.sql.clause("rm_due"), {"now": stamp(now), "n": limit}).all()
                    if not rows:
                        break
                    planned, moves = self._batch(rows, now, people)
                    if dry_run:
                        out.extend(planned)
                        tx.rollback()
                        break
                    if planned:  # only what was new: another planner may have queued some already
                        conn.execute(self.sql.clause("rm_supersede"), [{"id": i, "step": step} for i, step in
                                                        {(p.deadline_id, p.step) for p in planned}])
                        added = self._queue(conn, [_row(p, now) for p in planned])
                        out.extend(p for p in planned if p.key in added)
                    conn.execute(self.sql.clause("rm_move"), moves)
        if out and not dry_run:
            log.info("planned", notifications=len(out))
        return out

    def _queue(self, conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
        """Insert what is new; the keys of what was inserted."""
        if conn.dialect.driver != "psycopg":  # SQLite, psycopg2
            return set(conn.execute(self.outbox, rows).scalars())
        # psycopg pipelines an executemany; SQLAlchemy's one-statement-for-many-rows form spends ~1 ms a row
        # in psycopg's query parsing (measured with bench/deadlines.py).
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        columns = list(rows[0])
        cur.executemany(f"INSERT INTO zwgk_notification ({', '.join(columns)}) "  # noqa: S608 - fixed names
                        f"VALUES ({', '.join(f'%({c})s' for c in columns)}) ON CONFLICT DO NOTHING RETURNING key",
                        rows, returning=True)
        added: set[str] = set()
        while True:
            added.update(r[0] for r in cur.fetchall())
            if not cur.nextset():
                return added

    def _batch(self, rows: Sequence[Any], now: datetime,
               people: People) -> tuple[list[Planned], list[dict[str, Any]]]:
        planned: list[Planned] = []
        moves = []
        for row in rows:
            due_on = date.fromisoformat(row.due_on)
            step = self.timeline.reached(due_on, now)
            if step is None or (row.step is not None and step <= row.step):
                upcoming = self.timeline.first if step is None else row.step + 1
                moves.append({"id": row.id, "step": row.step, "status": row.status,
                              "next_at": stamp(self.timeline.at(due_on, upcoming))})
                continue
            planned.extend(self._messages(row, due_on, step, now, people))
            moves.append({"id": row.id, "step": step, "status": "overdue" if step > 0 else "open",
                          "next_at": stamp(self.timeline.at(due_on, step + 1))})
        return planned, moves

    def _recipients(self, row: Any, step: int, people: People) -> list[tuple[str, str | None]]:
        """(person, whom they are reminded about: None for their own duty, else the responsible)."""
        own = ([row.responsible] if row.responsible in people.by_id else []) + people.holding(
            (row.roles or "").split(",") if row.roles else [], row.unit_id)
        out: list[tuple[str, str | None]] = [(p, None) for p in own]
        r = self.config.reminders
        bosses = ([r.leader_role] if step >= r.escalate_leader_after else []) + (
            [r.head_role] if step >= r.escalate_head_after else [])
        about = ", ".join(people.by_id[p].name for p in own) or "（无人）"
        out += [(p, about) for p in people.holding(bosses, row.unit_id) if p not in own]
        if not own:
            log.warning("deadline_without_responsible", deadline=row.id)
        return out

    def _messages(self, row: Any, due_on: date, step: int, now: datetime, people: People) -> list[Planned]:
        when = self.timeline.at(due_on, step)
        subject, body, fields = self._content(row, due_on, step)
        out = []
        for person_id, about in self._recipients(row, step, people):
            contact = people.by_id[person_id]
            text_ = body + (f"\n督办 escalation: 责任人 {about} 已逾期 {step} 个工作日，请督促办理。" if about else "")
            reached = False
            for channel, notifier in self.channels.items():
                address = notifier.address(contact)
                if address is None:
                    continue
                reached = True
                name = step_name(step)
                # ':' is in no id nor channel name, so the key is unambiguous.
                key = f"zwgk:{row.id}:{due_on.isoformat()}:{name}:{person_id}:{channel}"
                out.append(Planned(row.id, due_on, name, person_id, channel, key,
                                   ("【督办】" if about else "") + subject, text_,
                                   {**fields, "escalation": about or ""}, address, max(when, now)))
            if not reached:
                log.warning("recipient_unreachable", person=person_id, channels=list(self.channels))
        return out

    def _content(self, row: Any, due_on: date, step: int) -> tuple[str, str, dict[str, str]]:
        """Subject, text and fields: item id, title, deadline, what to do, who asked. Never an item's body, nor the
        personal data the pre-screen finds in a title (masked)."""
        title = masked(row.title)
        what = f"{row.item_id} {title}" if row.item_id else f"{title} {row.period or ''}".strip()
        when = (f"还有 {-step} 个工作日到期" if step < 0 else "今天到期" if step == 0
                else f"已逾期 {step} 个工作日")
        provisional = "（暂定：该年度放假安排未公布）" if row.provisional else ""
        todo = _TODO[row.kind]
        if row.kind == "periodic" and self._by_hand(row.schedule):
            todo = f"完成本期工作并登记 do it, then record it: zwgk deadline done {row.id} --as YOU"
        if row.kind == "stage" and row.item_id:
            todo = f"{todo}（{', '.join(self.role_names.get(r, r) for r in (row.roles or '').split(',') if r)}）"
        asked = (f"{row.actor} 的签署（第 {row.id} 号期限）" if row.actor
                 else f"定期公开计划 {row.schedule or ''}".strip())
        subject = f"【政务公开提醒】{KINDS[row.kind]} {what} {when}"
        body = "\n".join([
            f"事项 item: {what}",
            f"期限 due: {due_on.isoformat()} 下班前 {provisional}".rstrip(),
            f"要求 to do: {todo}",
            f"提醒来自 asked by: {asked}",
        ])
        fields = {"deadline": str(row.id), "kind": row.kind, "item": row.item_id or "", "title": title,
                  "period": row.period or "", "due": due_on.isoformat(), "step": step_name(step), "to_do": todo,
                  "asked_by": row.actor or "schedule", "provisional": "yes" if row.provisional else "no"}
        return subject, body, fields


    def _by_hand(self, schedule: str | None) -> bool:
        """An office duty (no category: nothing to publish) is closed by hand, not by publishing."""
        return not any(s.id == schedule and s.category for s in self.config.schedules)


def _row(p: Planned, now: datetime) -> dict[str, Any]:
    return {"key": p.key, "deadline_id": p.deadline_id, "due_on": p.due_on.isoformat(), "step": p.step,
            "recipient": p.recipient, "channel": p.channel, "address": p.address, "subject": p.subject,
            "text": p.text, "fields": json.dumps(dict(p.fields), ensure_ascii=False, sort_keys=True),
            "status": "pending", "attempts": 0, "next_attempt_at": stamp(p.not_before), "created_at": stamp(now)}
