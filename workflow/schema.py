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
)

PREFIX = "zwgk_"
VERSION_TABLE = "zwgk_alembic_version"
GENESIS_HASH = "0" * 64

metadata = MetaData()

# The columns an `Item` is read from, in the order `workflow.api._item` expects (Core and raw SQL alike).
ITEM_FIELDS = ("id", "title", "body", "unit_id", "category", "timing", "kind", "interprets", "tags", "formed_on",
               "drafter", "state", "round", "version", "created_at", "updated_at")

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
    Index("ix_zwgk_item_state", "state"),
    Index("ix_zwgk_item_interprets", "interprets"),
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

# One row: the head of the hash chain. Appending locks it, which orders all signatures.
chain = Table(
    "zwgk_chain", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)
