"""The outbox's claims carry a fencing token; dead letters can be acknowledged; each channel claims its own.

Revision ID: 0102
Revises: 0101
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0102"
down_revision = "0101"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("zwgk_notification") as table:
        table.add_column(sa.Column("claim_token", sa.String(32)))
        table.add_column(sa.Column("acked_by", sa.String(64)))
        table.add_column(sa.Column("acked_at", sa.String(40)))


def downgrade() -> None:
    with op.batch_alter_table("zwgk_notification") as table:
        table.drop_column("acked_at")
        table.drop_column("acked_by")
        table.drop_column("claim_token")
