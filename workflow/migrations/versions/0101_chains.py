"""The schema of zwgk 0.2: a chain per unit under one register, cases of several kinds, and their projections.

Databases made by zwgk 0.1 (revisions 0001-0004) are not upgraded: recreate them (CHANGELOG.md).

Revision ID: 0101
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0101"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("zwgk_event", "zwgk_pipeline")
_SQLITE_GUARDS = [
    f"""CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"""
    for table in APPEND_ONLY for verb in ("UPDATE", "DELETE")
]
_PG_GUARDS = [
    """CREATE FUNCTION zwgk_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$""",
    *(f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
          FOR EACH ROW EXECUTE FUNCTION zwgk_append_only()""" for table in APPEND_ONLY),
    *(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
          FOR EACH STATEMENT EXECUTE FUNCTION zwgk_append_only()""" for table in APPEND_ONLY),
]
TABLES = ("zwgk_chain", "zwgk_event", "zwgk_pipeline", "zwgk_unit", "zwgk_person", "zwgk_role", "zwgk_adopted",
          "zwgk_case", "zwgk_item", "zwgk_deadline", "zwgk_notification", "zwgk_daemon", "zwgk_lease")


def _create_tables() -> None:
    # A frozen copy of workflow/schema.py at this revision; later changes go in new revisions.
    op.create_table(
        "zwgk_chain",
        sa.Column("chain", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
    )
    op.create_table(
        "zwgk_event",
        sa.Column("chain", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("register_seq", sa.Integer),
        sa.Column("case_kind", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("round", sa.Integer),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(64)),
        sa.Column("to_state", sa.String(64)),
        sa.Column("actor", sa.String(64)),
        sa.Column("role", sa.String(64)),
        sa.Column("recorded_by", sa.String(64)),
        sa.Column("paper_sha256", sa.String(64)),
        sa.Column("operator", sa.Text, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("ground", sa.String(64)),
        sa.Column("decision", sa.Text),
        sa.Column("pipeline", sa.String(64)),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("data", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_zwgk_event_case", "zwgk_event", ["case_kind", "case_id", "chain", "seq"])
    acts = "case_kind IN ('register', 'person', 'unit', 'pipeline')"
    op.create_index("ix_zwgk_event_acts", "zwgk_event", ["chain", "seq"], sqlite_where=sa.text(acts),
                    postgresql_where=sa.text(acts))
    op.create_table(
        "zwgk_pipeline",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "zwgk_unit",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "zwgk_person",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("email", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "zwgk_role",
        sa.Column("chain", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.String(64), sa.ForeignKey("zwgk_person.id"), primary_key=True),
        sa.Column("role", sa.String(64), primary_key=True),
    )
    op.create_index("ix_zwgk_role_person", "zwgk_role", ["person_id"])
    op.create_table(
        "zwgk_adopted",
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("zwgk_unit.id"), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("pipeline", sa.String(64), sa.ForeignKey("zwgk_pipeline.fingerprint"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
    )
    op.create_table(
        "zwgk_case",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("zwgk_unit.id"), nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("signers", sa.Text, nullable=False),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("drafter", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_zwgk_case_state", "zwgk_case", ["kind", "state"])
    op.create_index("ix_zwgk_case_unit", "zwgk_case", ["unit_id", "kind"])
    op.create_table(
        "zwgk_item",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("timing", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("interprets", sa.String(64), sa.ForeignKey("zwgk_item.id")),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("formed_on", sa.String(10)),
        sa.Column("schedule", sa.String(64)),
        sa.Column("period", sa.String(16)),
    )
    op.create_index("ix_zwgk_item_interprets", "zwgk_item", ["interprets"])
    op.create_index("ix_zwgk_item_schedule", "zwgk_item", ["schedule", "period"])
    op.create_table(
        "zwgk_deadline",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(64), sa.ForeignKey("zwgk_item.id")),
        sa.Column("schedule", sa.String(64)),
        sa.Column("period", sa.String(16)),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("responsible", sa.String(64)),
        sa.Column("roles", sa.String(200)),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("starts_on", sa.String(10), nullable=False),
        sa.Column("days", sa.Integer),
        sa.Column("due_on", sa.String(10), nullable=False),
        sa.Column("provisional", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("step", sa.Integer),
        sa.Column("next_at", sa.String(40)),
        sa.Column("opened_by", sa.String(80)),
        sa.Column("asked_by", sa.String(64)),
        sa.Column("closed_by", sa.String(80)),
        sa.Column("closed_at", sa.String(40)),
        sa.Column("closed_note", sa.Text),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_zwgk_deadline_item", "zwgk_deadline", ["item_id", "status"])
    live, planned = "status IN ('open', 'overdue')", "next_at IS NOT NULL"
    op.create_index("ix_zwgk_deadline_live", "zwgk_deadline", ["due_on"], sqlite_where=sa.text(live),
                    postgresql_where=sa.text(live))
    op.create_index("ix_zwgk_deadline_next", "zwgk_deadline", ["next_at"], sqlite_where=sa.text(planned),
                    postgresql_where=sa.text(planned))
    op.create_table(
        "zwgk_notification",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("deadline_id", sa.Integer, sa.ForeignKey("zwgk_deadline.id")),
        sa.Column("due_on", sa.String(10), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.String(40), nullable=False),
        sa.Column("claimed_by", sa.String(128)),
        sa.Column("claimed_until", sa.String(40)),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", sa.String(40)),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.UniqueConstraint('deadline_id', 'due_on', 'step', 'recipient', 'channel', name="uq_zwgk_notification_step"),
        sa.UniqueConstraint('key', name="uq_zwgk_notification_key"),
    )
    op.create_index("ix_zwgk_notification_due", "zwgk_notification", ["status", "next_attempt_at"])
    op.create_table(
        "zwgk_daemon",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("beat_at", sa.String(40), nullable=False),
        sa.Column("stopped_at", sa.String(40)),
        sa.Column("planned", sa.Integer, nullable=False),
        sa.Column("sent", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
    )
    op.create_table(
        "zwgk_lease",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("until", sa.String(40), nullable=False),
    )


def upgrade() -> None:
    _create_tables()
    guards = _PG_GUARDS if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARDS
    for sql in guards:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION zwgk_append_only() CASCADE")
    for name in reversed(TABLES):
        op.drop_table(name)
