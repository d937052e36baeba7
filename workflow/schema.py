"""Tables, all prefixed `zwgk_` so they can live beside a host system's own."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

PREFIX = "zwgk_"
VERSION_TABLE = "zwgk_alembic_version"
GENESIS_HASH = "0" * 64

metadata = MetaData()

# The columns an `Item` is read from, in the order `workflow.api._item` expects (Core and raw SQL alike).
ITEM_FIELDS = ("id", "title", "body", "unit_id", "category", "timing", "kind", "interprets", "tags", "formed_on",
               "drafter", "state", "round", "version", "created_at", "updated_at", "schedule", "period")

unit = Table(
    "zwgk_unit", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("created_at", String(40), nullable=False),
)

person = Table(
    "zwgk_person", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("unit_id", String(64), ForeignKey("zwgk_unit.id"), nullable=False),
    Column("email", Text),
    Column("phone", Text),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", String(40), nullable=False),
)

person_role = Table(
    "zwgk_person_role", metadata,
    Column("person_id", String(64), ForeignKey("zwgk_person.id"), primary_key=True),
    Column("role", String(64), primary_key=True),
)

item = Table(
    "zwgk_item", metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("unit_id", String(64), ForeignKey("zwgk_unit.id"), nullable=False),
    Column("category", String(16), nullable=False),
    Column("timing", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("interprets", String(64), ForeignKey("zwgk_item.id")),
    Column("tags", Text, nullable=False),
    Column("formed_on", String(10)),
    Column("drafter", String(64), ForeignKey("zwgk_person.id"), nullable=False),
    Column("state", String(64), nullable=False),
    Column("round", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("schedule", String(64)),  # a periodic schedule's id, with the period (2026Q3) it is for
    Column("period", String(16)),
    Index("ix_zwgk_item_state", "state"),
    Index("ix_zwgk_item_interprets", "interprets"),
    Index("ix_zwgk_item_schedule", "schedule", "period"),
)

# Append-only: the migrations add triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).
# `seq` is assigned from `zwgk_chain` under its lock, so it is gapless and equals the chain position.
event = Table(
    "zwgk_event", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("item_id", String(64), ForeignKey("zwgk_item.id"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("action", String(64), nullable=False),
    Column("from_state", String(64)),
    Column("to_state", String(64), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(64)),
    Column("recorded_by", String(64)),
    Column("paper_sha256", String(64)),
    Column("at", String(40), nullable=False),
    Column("comment", Text),
    Column("reason", Text),
    Column("ground", String(64)),
    Column("decision", Text),
    Column("pipeline", String(64), nullable=False),
    Column("pipeline_version", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_zwgk_event_item", "item_id", "seq"),
)

# Every pipeline version that signed, by the version string its signatures record; `definition` is its
# canonical JSON (`Pipeline.definition`), so `verify` can judge old signatures by the rules they were made under.
pipeline = Table(
    "zwgk_pipeline", metadata,
    Column("name", String(64), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

# One row: the head of the hash chain. Appending locks it, which orders all signatures.
chain = Table(
    "zwgk_chain", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

# The deadlines still to be met. The due-date index holds only these, and the planner's only those it must
# look at again: closing a deadline takes its entries out of these two instead of moving them, a page fewer
# for each signature that closes a stage (bench/signatures.py). A query uses the due-date index only if it
# says LIVE_ONLY word for word.
LIVE = ("open", "overdue")
LIVE_ONLY = f"status IN ({', '.join(repr(status) for status in LIVE)})"

# A dated duty: created and closed in the transaction of the signature that causes it (or by the daemon's
# roll job for periodic schedules). `next_at` is when the planner must look at it again; NULL once closed.
deadline = Table(
    "zwgk_deadline", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("item_id", String(64), ForeignKey("zwgk_item.id")),
    Column("schedule", String(64)),
    Column("period", String(16)),
    Column("title", Text, nullable=False),
    Column("responsible", String(64)),
    Column("roles", String(200)),  # comma-separated: everyone active with one of them is responsible
    Column("unit_id", String(64)),
    Column("starts_on", String(10), nullable=False),  # the triggering day (not counted)
    Column("days", Integer),  # working days after starts_on; NULL: due on starts_on (or the next working day)
    Column("due_on", String(10), nullable=False),
    Column("provisional", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("step", Integer),  # the last reminder step planned, in working days relative to due_on
    Column("next_at", String(40)),
    Column("opened_by", Integer),
    Column("closed_by", Integer),
    Column("closed_at", String(40)),
    Column("closed_note", Text),
    Column("created_at", String(40), nullable=False),
    Index("ix_zwgk_deadline_next", "next_at", sqlite_where=text("next_at IS NOT NULL"),
          postgresql_where=text("next_at IS NOT NULL")),
    Index("ix_zwgk_deadline_item", "item_id", "status"),
    Index("ix_zwgk_deadline_live", "due_on", sqlite_where=text(LIVE_ONLY), postgresql_where=text(LIVE_ONLY)),
)

# The reminder outbox. One row per (deadline, due day, step, recipient, channel): planning twice adds nothing.
notification = Table(
    "zwgk_notification", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False),
    Column("deadline_id", Integer, ForeignKey("zwgk_deadline.id"), nullable=False),
    Column("due_on", String(10), nullable=False),  # a deadline moved (information changed) reminds again
    Column("step", String(32), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("address", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("fields", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", String(40), nullable=False),
    Column("claimed_by", String(128)),
    Column("claimed_until", String(40)),
    Column("last_error", Text),
    Column("sent_at", String(40)),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("deadline_id", "due_on", "step", "recipient", "channel", name="uq_zwgk_notification_step"),
    UniqueConstraint("key", name="uq_zwgk_notification_key"),
    Index("ix_zwgk_notification_due", "status", "next_attempt_at"),
)

daemon = Table(
    "zwgk_daemon", metadata,
    Column("id", String(128), primary_key=True),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("beat_at", String(40), nullable=False),
    Column("stopped_at", String(40)),
    Column("planned", Integer, nullable=False),
    Column("sent", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
)

# On SQLite one daemon at a time does the work: it holds this lease and renews it.
lease = Table(
    "zwgk_lease", metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("until", String(40), nullable=False),
)
