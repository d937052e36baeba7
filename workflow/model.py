"""What the API hands out: plain, immutable values (no database session attached)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    kind: str


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    unit: str
    roles: tuple[str, ...]
    email: str | None = None
    phone: str | None = None
    active: bool = True


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

    def content(self) -> dict[str, object]:
        """The fields every signature signs (through their hash)."""
        return signed_content(self.title, self.body, self.unit, self.category, self.timing, self.kind,
                              self.interprets, list(self.tags), self.formed_on, self.schedule, self.period)


def signed_content(title: str, body: str, unit: str, category: str, timing: str, kind: str, interprets: str | None,
                   tags: list[str], formed_on: date | None, schedule: str | None,
                   period: str | None) -> dict[str, object]:
    """An item's signed fields; `verify` builds them straight from table rows, for every item."""
    content: dict[str, object] = {
        "title": title, "body": body, "unit": unit, "category": category, "timing": timing, "kind": kind,
        "interprets": interprets, "tags": tags, "formed_on": formed_on.isoformat() if formed_on else None}
    if schedule is not None:  # only when set: the hashes signed before schedules existed stay valid
        content["schedule"], content["period"] = schedule, period
    return content


# signed_content's keys in the order `chain.content_hash` writes them (sorted), with the column each comes from.
_SIGNED_COLUMNS = (("body", "body"), ("category", "category"), ("formed_on", "formed_on"),
                   ("interprets", "interprets"), ("kind", "kind"), ("period", "period"), ("schedule", "schedule"),
                   ("tags", "tags"), ("timing", "timing"), ("title", "title"), ("unit", "unit_id"))


def signed_content_sql(dialect: str) -> str:
    """A SQL expression for a zwgk_item row: the canonical JSON `chain.content_hash` hashes for its
    `signed_content`, built by the database (verify's sweep), or NULL where it could not be Python's. It is
    Python's for what the engine writes; the sweep checks the tags and formed_on as written, and declines
    where anything differs, and then `verify` hashes every item in Python, which is the definition."""
    pg = dialect == "postgresql"

    def value(column: str) -> str:
        if column != "tags":
            return f"coalesce(to_json({column})::text, 'null')" if pg else f"json_quote({column})"
        if not pg:
            return "json(tags)"  # minified, each tag as written (NULL stays NULL, and so does the whole)
        # Each element as written; a NULL column must not pass for an empty list.
        return ("CASE WHEN tags IS NOT NULL THEN (SELECT '[' || coalesce(string_agg(e::text, ',' ORDER BY n), '') "
                "|| ']' FROM json_array_elements(tags::json) WITH ORDINALITY AS x(e, n)) END")

    join = " || ',' || ".join
    pieces = {key: f"'\"{key}\":' || {value(column)}" for key, column in _SIGNED_COLUMNS}
    # Like signed_content: period and schedule only when a schedule is set.
    when_scheduled = join([pieces.pop("period"), pieces.pop("schedule")])
    scheduled = f"CASE WHEN schedule IS NULL THEN '' ELSE ',' || {when_scheduled} END"
    keys = list(pieces.values())
    content = f"'{{' || {join(keys[:5])} || {scheduled} || ',' || {join(keys[5:])} || '}}'"
    if pg:  # the column types are checked once (sweep.py)
        return content
    # SQLite lets a column hold any type: a number is written otherwise than Python writes it (1.0e+20).
    texts = " AND ".join(f"typeof({column}) IN ('text', 'null')" for _, column in _SIGNED_COLUMNS)
    return f"CASE WHEN {texts} THEN {content} END"


@dataclass(frozen=True)
class Signature:
    """One immutable, hash-chained event: who signed what, when, on which content."""

    seq: int
    item_id: str
    round: int
    action: str
    from_state: str | None
    to_state: str
    actor: str
    role: str | None
    recorded_by: str | None
    paper_sha256: str | None
    at: datetime
    comment: str | None
    reason: str | None
    ground: str | None
    decision: str | None
    pipeline: str
    pipeline_version: str
    content_hash: str
    prev_hash: str
    hash: str
