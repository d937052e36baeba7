"""Deadlines, the reminder outbox, daemon heartbeats and leases; items made for a periodic schedule.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Frozen copy of the schema at revision 0002.
    op.add_column("zwgk_item", sa.Column("schedule", sa.String(64)))
    op.add_column("zwgk_item", sa.Column("period", sa.String(16)))
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
        sa.Column("opened_by", sa.Integer),
        sa.Column("closed_by", sa.Integer),
        sa.Column("closed_at", sa.String(40)),
        sa.Column("closed_note", sa.Text),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_zwgk_deadline_next", "zwgk_deadline", ["next_at"])
    op.create_index("ix_zwgk_deadline_item", "zwgk_deadline", ["item_id", "status"])
    op.create_index("ix_zwgk_deadline_due", "zwgk_deadline", ["status", "due_on"])
    op.create_table(
        "zwgk_notification",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("deadline_id", sa.Integer, sa.ForeignKey("zwgk_deadline.id"), nullable=False),
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
        sa.UniqueConstraint("deadline_id", "due_on", "step", "recipient", "channel",
                            name="uq_zwgk_notification_step"),
        sa.UniqueConstraint("key", name="uq_zwgk_notification_key"),
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


def downgrade() -> None:
    for name in ("zwgk_lease", "zwgk_daemon", "zwgk_notification", "zwgk_deadline"):
        op.drop_table(name)
    op.drop_index("ix_zwgk_item_schedule", "zwgk_item")
    with op.batch_alter_table("zwgk_item") as batch:
        batch.drop_column("period")
        batch.drop_column("schedule")
