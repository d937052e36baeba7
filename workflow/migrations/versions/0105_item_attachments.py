"""Items may carry documents, by hash (the annual report's DOCX on its item): what their signatures sign.

Revision ID: 0105
Revises: 0104
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0105"
down_revision = "0104"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("zwgk_item", sa.Column("attachments", sa.Text))


def downgrade() -> None:
    # An item's attachments are part of what its signatures sign: dropping them would break every such signature.
    if op.get_bind().execute(sa.text("SELECT count(*) FROM zwgk_item WHERE attachments IS NOT NULL")).scalar_one():
        raise RuntimeError("items carry documents that their signatures sign: a database with them cannot go back "
                           "below 0105 (restore a backup made before instead)")
    op.drop_column("zwgk_item", "attachments")  # in place (SQLite 3.35+)
