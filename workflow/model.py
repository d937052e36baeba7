"""What the API hands out: plain, immutable values (no database session attached)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from states.redaction import Redactions
from workflow.ledger.events import Event


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    kind: str
    open: bool = True


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    unit: str | None  # where they work
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # unit -> the roles held there
    email: str | None = None
    phone: str | None = None
    active: bool = True
    admin: bool = False  # keeps the register (登记管理员)

    def roles_in(self, unit: str) -> tuple[str, ...]:
        return tuple(self.roles.get(unit, ()))


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    body: str
    unit: str
    category: str
    timing: str
    kind: str
    interprets: str | None
    tags: tuple[str, ...]
    formed_on: date | None
    drafter: str
    state: str
    round: int
    version: int
    created_at: datetime
    updated_at: datetime
    schedule: str | None = None  # the periodic schedule (and its period, e.g. 2026Q3) this item discloses
    period: str | None = None
    interpreted_by: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()  # the documents it carries, by SHA-256 (workflow.documents)
    doc_type: str | None = None  # rule (规章) or normative (行政规范性文件)
    statistics: Mapping[str, Any] | None = None  # an annual report's figures (workflow.report.annual.STATISTICS)
    interpreter: str | None = None  # an interpretation's interpreter, where it is not its drafter
    redactions: Redactions | None = None  # spans of the body withheld (部分公开, Art. 37), each with its ground
    redacted_body: str | None = None  # the body with them replaced by marks

    @property
    def public_body(self) -> str:
        """The body as it is (or would be) published: redacted where the reviewer withheld spans."""
        return self.redacted_body if self.redacted_body is not None else self.body

    def content(self) -> dict[str, object]:
        """The fields every signature signs (through their hash)."""
        return signed_content(self.title, self.body, self.unit, self.category, self.timing, self.kind,
                              self.interprets, list(self.tags), self.formed_on, self.schedule, self.period,
                              self.attachments, self.doc_type, self.statistics, self.interpreter, self.redactions)


def signed_content(title: str, body: str, unit: str, category: str, timing: str, kind: str, interprets: str | None,
                   tags: list[str], formed_on: date | None, schedule: str | None,
                   period: str | None, attachments: tuple[str, ...] | list[str] = (), doc_type: str | None = None,
                   statistics: Mapping[str, Any] | None = None,
                   interpreter: str | None = None, redactions: Redactions | None = None) -> dict[str, object]:
    """An item's signed fields (its attachments, document type, statistics and redactions only when it has them:
    older items hash as they did)."""
    content: dict[str, object] = {
        "title": title, "body": body, "unit": unit, "category": category, "timing": timing, "kind": kind,
        "interprets": interprets, "tags": tags, "formed_on": formed_on.isoformat() if formed_on else None}
    if schedule is not None:
        content["schedule"], content["period"] = schedule, period
    if attachments:
        content["attachments"] = list(attachments)
    if doc_type is not None:
        content["doc_type"] = doc_type
    if statistics is not None:
        content["statistics"] = dict(statistics)
    if interpreter is not None:
        content["interpreter"] = interpreter
    if redactions is not None:
        content["redactions"] = redactions.signed()
    return content


@dataclass(frozen=True)
class Signature:
    """One immutable, hash-chained event: who signed what, when, on which content, under which authority."""

    chain: str
    seq: int
    register_seq: int | None
    case_kind: str
    case_id: str
    round: int | None
    action: str
    from_state: str | None
    to_state: str | None
    actor: str | None
    role: str | None
    recorded_by: str | None
    paper_sha256: str | None
    operator: str
    at: datetime
    comment: str | None
    reason: str | None
    ground: str | None
    decision: str | None
    pipeline: str | None
    content_hash: str | None
    data: Mapping[str, Any]
    prev_hash: str
    hash: str

    @property
    def item_id(self) -> str:
        return self.case_id

    @classmethod
    def of(cls, e: Event) -> Signature:
        return cls(**(e._asdict() | {"at": datetime.fromisoformat(e.at), "data": json.loads(e.data) if e.data
                                      else {}}))
