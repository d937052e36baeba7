"""Turning API values into human lines or stable JSON objects (keys documented in the README)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the values come from commands that imported them; `zwgk --help` imports this module alone
    from states import Action, Pipeline
    from workflow import Item, Person, Signature, Unit
    from workflow.duties import Deadline
    from workflow.outbox import Notification
    from workflow.screen import Finding
    from workflow.workdays import YearReport


# The values are frozen dataclasses of plain fields: a shallow copy of their fields (`vars`) is enough, where
# `dataclasses.asdict` deep-copied every value (seconds for a listing of 143,000 items).
def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=_plain)


def json_lines(values: Iterable[Any]) -> Iterator[str]:
    """A JSON array printed as its values come, one compact value a line: a listing of any length in flat memory
    (and compact, because the indented form takes the json module's slow path: twice the time an item)."""
    previous = None
    for value in values:
        yield "[" if previous is None else previous + ","
        previous = json.dumps(value, ensure_ascii=False, default=_plain)
    yield "[]" if previous is None else previous + "\n]"


def unit_obj(u: Unit) -> dict[str, Any]:
    return dict(vars(u))


def person_obj(p: Person) -> dict[str, Any]:
    return {k: _plain(v) for k, v in vars(p).items()} | {"roles": {u: list(r) for u, r in p.roles.items()}}


def person_line(p: Person) -> str:
    held = "; ".join(f"{unit}: {', '.join(roles)}" for unit, roles in sorted(p.roles.items()))
    flags = ("  admin" if p.admin else "") + ("" if p.active else "  (inactive)")
    return f"{pad(p.id, 16)} {pad(safe(p.name), 12)} {pad(p.unit or '-', 12)} {held or '-'}{flags}"


def signature_obj(s: Signature, pipeline: Pipeline) -> dict[str, Any]:
    out = {k: _plain(v) for k, v in vars(s).items()}
    out["item_id"] = s.case_id if s.case_kind == "item" else None
    out["to_state_zh"] = _zh(pipeline, s.to_state) if s.to_state else None
    return out


def item_obj(i: Item, pipeline: Pipeline, *, body: bool = False, redacted: bool = False) -> dict[str, Any]:
    """An item for --json: `body` with its body (`redacted`: as published, spans withheld replaced by marks)."""
    # Dates as text here: json's callback for them would double its time an item.
    out = {k: v.isoformat() if isinstance(v, date) else v for k, v in vars(i).items()
           if k not in ("body", "redacted_body", "redactions")}
    if body:
        out["body"] = i.public_body if redacted else i.body
    out["redactions"] = [s.row() for s in i.redactions.spans] if i.redactions else []
    out["state_zh"] = _zh(pipeline, i.state)
    return out


def item_line(i: Item, pipeline: Pipeline) -> str:
    return f"{pad(i.id, 22)} {pad(pipeline.label(i.state), 34)} r{i.round}  {safe(i.title)}"


def next_obj(steps: list[tuple[Action, list[str]]]) -> list[dict[str, Any]]:
    return [{"action": a.id, "zh": a.zh, "role": a.role, "to": a.to or a.source, "people": people}
            for a, people in steps]


def _zh(pipeline: Pipeline, state: str) -> str:
    try:
        return pipeline.state(state).zh
    except KeyError:
        return ""


_CONTROL = ({c: f"\\x{c:02x}" for c in (*range(32), *range(0x7f, 0xa0))} | {10: "\\n", 13: "\\r", 9: "\\t"}
            | {0x2028: "\\u2028", 0x2029: "\\u2029"})


def safe(text: str) -> str:
    """One line per record, and nothing the terminal obeys: a newline in a comment must not look like another
    signature, nor an escape sequence in a name (written behind the engine's back: it refuses them) repaint a row."""
    return text.translate(_CONTROL)


def signature_line(s: Signature, pipeline: Pipeline, tz: tzinfo) -> str:
    """A signature for people to read, its time in the office's time zone (`tz`; JSON keeps UTC)."""
    who = (s.actor or "-") + (f" (recorded by {s.recorded_by})" if s.recorded_by else "")
    extra = "".join(f" {k}={safe(v)}" for k, v in (("decision", s.decision), ("ground", s.ground), ("reason", s.reason),
                                              ("comment", s.comment)) if v)
    at = s.at.astimezone(tz).isoformat(timespec="seconds")
    where = f"{s.chain}#{s.seq:<4}"
    if s.round is None:  # an act of authority, or a seal
        data = safe(json.dumps(dict(s.data), ensure_ascii=False, sort_keys=True)) if s.data else ""
        return f"{where} {at}  {s.case_kind} {s.case_id}  {s.action}  by {who}  {data}  hash {s.hash[:12]}".rstrip()
    return (f"{where} {at}  {s.case_id}  r{s.round}  {s.action:<9} {pipeline.label(s.from_state)} -> "
            f"{pipeline.label(s.to_state)}  by {who} as {s.role}{extra}  hash {s.hash[:12]}")


def item_lines(i: Item, pipeline: Pipeline, steps: list[tuple[Action, list[str]]], lang: str) -> list[str]:
    from workflow.i18n import say

    lines = [f"{i.id}  {safe(i.title)}",
             say(lang, "  state     {state}  (round {round}, version {version})", state=pipeline.label(i.state),
                 round=i.round, version=i.version),
             say(lang, "  unit      {unit}    category {category}    timing {timing}    kind {kind}", unit=i.unit,
                 category=i.category, timing=i.timing, kind=i.kind),
             say(lang, "  drafter   {drafter}    formed on {formed}    tags {tags}", drafter=i.drafter,
                 formed=i.formed_on or "-", tags=", ".join(i.tags) or "-")]
    if i.interprets:
        lines.append(say(lang, "  interprets {item}", item=i.interprets))
    if i.interpreted_by:
        lines.append(say(lang, "  interpreted by {items}", items=", ".join(i.interpreted_by)))
    if i.redactions:
        lines.append(say(lang, "  withheld  {spans}", spans=", ".join(f"{s.start}-{s.end} {s.ground}"
                                                                       for s in i.redactions.spans)))
    if not steps:
        lines.append(say(lang, "  next      nothing: this is a final state"))
    for a, people in steps:
        lines.append(say(lang, "  next      {action} ({zh}) -> {to} by {role}: {people}", action=a.id, zh=a.zh,
                         to=pipeline.label(a.to or a.source), role=a.role,
                         people=", ".join(people) or say(lang, "nobody may sign it now")))
    return lines


def screen_lines(item: str, found: list[tuple[str, Finding]], lang: str) -> list[str]:
    """What the pre-screen finds in the text as it would be published, by severity: shown to every reviewer
    (never the text found: `zwgk screen ITEM --show` prints it for those who may see it)."""
    from workflow.i18n import say

    if not found:
        return []
    counts = Counter(f.severity for _, f in found)
    return [say(lang, "  screen    {counts}: zwgk screen {item}", item=item,
                counts=", ".join(f"{severity} {n}" for severity, n in sorted(counts.items())))]


def pad(text: str, width: int) -> str:
    """Left-justify to `width` terminal columns, as a terminal draws them (a Chinese character takes two, a
    combining mark none), so that tables line up beside Chinese text. `text` has been through `safe`."""
    from wcwidth import wcswidth

    drawn: int = wcswidth(text)
    return text + " " * max(0, width - drawn)


def pipeline_lines(p: Pipeline, lang: str) -> list[str]:
    from wcwidth import wcswidth

    from workflow.i18n import say

    wide = max([17, *(wcswidth(f"{a.id} {a.zh}") for a in p.actions)])  # the action column fits its longest
    lines = [say(lang, "pipeline {name} version {version}", name=p.name, version=p.full_version), ""]
    lines.append(pad(say(lang, "from"), 35) + " " + pad(say(lang, "action"), wide) + " " + pad(say(lang, "role"), 33)
                 + " " + pad(say(lang, "to"), 35) + " " + say(lang, "needs"))
    for a in p.actions:
        needs = [say(lang, "after {action}", action=r) for r in a.requires]
        if a.decisions:
            needs.append(say(lang, "decision {choices}", choices="/".join(a.decisions)))
        if a.reason:
            needs.append(say(lang, "reason"))
        elif a.reason_for:
            needs.append(say(lang, "reason if {choices}", choices="/".join(a.reason_for)))
        if a.grounds:
            needs.append(say(lang, "ground {choices}", choices="/".join(a.grounds)))
        if a.new_round:
            needs.append(say(lang, "new round"))
        role = f"{a.role} {p.role(a.role).zh}"
        lines.append(pad(p.label(a.source), 35) + " " + pad(f"{a.id} {a.zh}", wide) + " " + pad(role, 33) + " "
                     + pad(p.label(a.to or a.source), 35) + " " + ", ".join(needs))
    for group in p.separation:
        lines.append("")
        lines.append(say(lang, "separation of duties: {actions} are signed by different people in each round",
                         actions=", ".join(group)))
    return lines


def deadline_obj(d: Deadline, today: date) -> dict[str, Any]:
    from workflow.deadlines import KINDS

    out = {k: _plain(v) for k, v in vars(d).items()}
    out["status"], out["stored_status"], out["kind_zh"] = d.status_on(today), d.status, KINDS[d.kind]
    return out


def deadline_line(d: Deadline, today: date, lang: str) -> str:
    from states.errors import Phrase
    from workflow.deadlines import KINDS
    from workflow.i18n import say

    words = {"open": Phrase("open"), "overdue": Phrase("overdue"), "met": Phrase("met"),
             "cancelled": Phrase("cancelled")}
    status = d.status_on(today)
    subject = d.item_id or d.request_id or f"{d.schedule} {d.period}"
    who = d.responsible or "/".join(d.roles) or "-"
    flag = say(lang, " (provisional)") if d.provisional else ""
    said = say(lang, "{status}", status=words.get(status, status))
    return (f"#{d.id:<5} {d.due_on.isoformat()}{pad(flag, 14)} {pad(said, 9)} {pad(KINDS[d.kind], 12)} "
            f"{pad(subject, 18)} {pad(who, 14)} {safe(d.title)}")


def notification_obj(n: Notification) -> dict[str, Any]:
    return {k: _plain(v) for k, v in vars(n).items()}


def notification_line(n: Notification, tz: tzinfo) -> str:
    when = (n.sent_at or n.next_attempt_at).astimezone(tz).isoformat(timespec="seconds")
    error = f"  last error: {safe(n.last_error)}" if n.last_error else ""
    if n.acked_at is not None:
        acked = n.acked_at.astimezone(tz).isoformat(timespec="seconds")
        error += f"  acknowledged by {safe(n.acked_by or '-')} {acked}"
    return (f"#{n.id:<6} {n.status:<8} {n.channel:<9} {pad(n.recipient, 14)} x{n.attempts} {when}  "
            f"{safe(n.subject)}{error}")


def calendar_lines(r: YearReport, lang: str) -> list[str]:
    from workflow.i18n import say

    lines = [say(lang, "{year}: {days} working days (source: {source})", year=r.year, days=r.working_days,
                 source=r.source)]
    for day in r.days:
        kind = say(lang, "holiday ") if day.kind == "holiday" else say(lang, "workday ")
        lines.append(f"  {day.day.isoformat()} {day.day.strftime('%a')} {kind} {day.name or ''}".rstrip())
    return lines
