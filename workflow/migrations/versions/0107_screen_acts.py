"""A unit's adoption of screening rules is an act of authority of its chain (case kind `screen`): the partial
index of the acts, which `verify --since` folds before a digest, takes it in.

Revision ID: 0107
Revises: 0106
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0107"
down_revision = "0106"
branch_labels = None
depends_on = None

_BEFORE = "case_kind IN ('register', 'person', 'unit', 'pipeline')"
_AFTER = "case_kind IN ('register', 'person', 'unit', 'pipeline', 'screen')"  # workflow.schema.ACTS_ONLY


def _acts_index(where: str) -> None:
    op.drop_index("ix_zwgk_event_acts", table_name="zwgk_event")
    op.create_index("ix_zwgk_event_acts", "zwgk_event", ["chain", "seq"], sqlite_where=sa.text(where),
                    postgresql_where=sa.text(where))


def upgrade() -> None:
    _acts_index(_AFTER)


def downgrade() -> None:
    # An engine of 0106 knows no such act: its verify would refuse every chain that holds one.
    if op.get_bind().execute(sa.text("SELECT count(*) FROM zwgk_event WHERE case_kind = 'screen'")).scalar_one():
        raise RuntimeError("units adopted screening rules by signed acts that 0106 cannot judge: a database with them "
                           "cannot go back below 0107 (restore a backup made before instead)")
    _acts_index(_BEFORE)
