"""Deadline indexes of live deadlines only: closing one takes its entries out instead of moving them.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Frozen copies of the schema's conditions at revision 0004.
_WAITING = "next_at IS NOT NULL"
_LIVE = "status IN ('open', 'overdue')"


def upgrade() -> None:
    op.drop_index("ix_zwgk_deadline_next", table_name="zwgk_deadline")
    op.drop_index("ix_zwgk_deadline_due", table_name="zwgk_deadline")
    op.create_index("ix_zwgk_deadline_next", "zwgk_deadline", ["next_at"], sqlite_where=sa.text(_WAITING),
                    postgresql_where=sa.text(_WAITING))
    op.create_index("ix_zwgk_deadline_live", "zwgk_deadline", ["due_on"], sqlite_where=sa.text(_LIVE),
                    postgresql_where=sa.text(_LIVE))


def downgrade() -> None:
    op.drop_index("ix_zwgk_deadline_live", table_name="zwgk_deadline")
    op.drop_index("ix_zwgk_deadline_next", table_name="zwgk_deadline")
    op.create_index("ix_zwgk_deadline_due", "zwgk_deadline", ["status", "due_on"])
    op.create_index("ix_zwgk_deadline_next", "zwgk_deadline", ["next_at"])
