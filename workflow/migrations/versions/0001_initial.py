"""Initial schema: units, people, items, the append-only event log and the chain head.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_GUARDS = [
    f"""CREATE TRIGGER zwgk_event_no_{verb.lower()} BEFORE {verb} ON zwgk_event
        BEGIN SELECT RAISE(ABORT, 'zwgk_event is append-only: {verb} refused'); END"""
    for verb in ("UPDATE", "DELETE")
]

_PG_GUARDS = [
    """CREATE FUNCTION zwgk_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'zwgk_event is append-only: % refused', TG_OP; END $$""",
    """CREATE TRIGGER zwgk_event_no_change BEFORE UPDATE OR DELETE ON zwgk_event
       FOR EACH ROW EXECUTE FUNCTION zwgk_event_append_only()""",
    """CREATE TRIGGER zwgk_event_no_truncate BEFORE TRUNCATE ON zwgk_event
       FOR EACH STATEMENT EXECUTE FUNCTION zwgk_event_append_only()""",
]


def _create_tables() -> None:
    # Frozen copy of the schema at revision 0001; later changes go in new revisions.
    op.create_table(
        "zwgk_unit",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "zwgk_person",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("zwgk_unit.id"), nullable=False),
        sa.Column("email", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "zwgk_person_role",
        sa.Column("person_id", sa.String(64), sa.ForeignKey("zwgk_person.id"), primary_key=True),
        sa.Column("role", sa.String(64), primary_key=True),
    )
    op.create_table(
        "zwgk_item",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("zwgk_unit.id"), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("timing", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("interprets", sa.String(64), sa.ForeignKey("zwgk_item.id")),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("formed_on", sa.String(10)),
        sa.Column("drafter", sa.String(64), sa.ForeignKey("zwgk_person.id"), nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_zwgk_item_state", "zwgk_item", ["state"])
    op.create_index("ix_zwgk_item_interprets", "zwgk_item", ["interprets"])
    op.create_table(
        "zwgk_event",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("item_id", sa.String(64), sa.ForeignKey("zwgk_item.id"), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(64)),
        sa.Column("to_state", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(64)),
        sa.Column("recorded_by", sa.String(64)),
        sa.Column("paper_sha256", sa.String(64)),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("ground", sa.String(64)),
        sa.Column("decision", sa.Text),
        sa.Column("pipeline", sa.String(64), nullable=False),
        sa.Column("pipeline_version", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_zwgk_event_item", "zwgk_event", ["item_id", "seq"])
    chain = op.create_table(
        "zwgk_chain",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(chain, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def upgrade() -> None:
    _create_tables()
    guards = _PG_GUARDS if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARDS
    for sql in guards:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION zwgk_event_append_only() CASCADE")
    for name in ("zwgk_chain", "zwgk_event", "zwgk_item", "zwgk_person_role", "zwgk_person", "zwgk_unit"):
        op.drop_table(name)
