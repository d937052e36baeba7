"""What the annual report counts of items, signed with their content: the documents an item carries by hash (the
report's DOCX on its item), its document type (规章, 行政规范性文件), the statistics an office enters on its
annual report's item (行政许可, 行政处罚, 行政强制 decisions, 行政事业性收费), and who interprets a policy (an
interpretation's interpreter, not always its drafter).

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
    op.add_column("zwgk_item", sa.Column("doc_type", sa.String(16)))
    op.add_column("zwgk_item", sa.Column("statistics", sa.Text))
    op.add_column("zwgk_item", sa.Column("interpreter", sa.String(64)))


def downgrade() -> None:
    # An item's attachments are part of what its signatures sign: dropping them would break every such signature.
    held = ("SELECT count(*) FROM zwgk_item WHERE attachments IS NOT NULL OR doc_type IS NOT NULL "
            "OR statistics IS NOT NULL OR interpreter IS NOT NULL")
    if op.get_bind().execute(sa.text(held)).scalar_one():
        raise RuntimeError("items hold what their signatures sign and 0104 has no place for: a database with them "
                           "cannot go back below 0105 (restore a backup made before instead)")
    for column in ("interpreter", "statistics", "doc_type", "attachments"):
        op.drop_column("zwgk_item", column)  # in place (SQLite 3.35+)
