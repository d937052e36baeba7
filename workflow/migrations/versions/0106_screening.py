"""The confidentiality pre-screen and partial disclosure (issue 14): the redactions of an item's body (signed with
its content) and the redacted body that is published; the screening rules each screen was made with, stored by
fingerprint as pipelines are; and the rules each unit has adopted.

Revision ID: 0106
Revises: 0105
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0106"
down_revision = "0105"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("zwgk_item", sa.Column("redactions", sa.Text))
    op.add_column("zwgk_item", sa.Column("redacted_body", sa.Text))
    op.create_table(
        "zwgk_screen_rules",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "zwgk_screen_adopted",
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("zwgk_unit.id"), primary_key=True),
        sa.Column("rules", sa.String(64), sa.ForeignKey("zwgk_screen_rules.fingerprint"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    # Redactions are part of what an item's signatures sign; screens name their rules by fingerprint (the built-in
    # rules are known to the engine without their row, an office's are not).
    from workflow import screening

    held = "SELECT count(*) FROM zwgk_item WHERE redactions IS NOT NULL"
    rules = "SELECT count(*) FROM zwgk_screen_rules WHERE fingerprint <> :builtin"
    bind = op.get_bind()
    if bind.execute(sa.text(held)).scalar_one() or bind.execute(
            sa.text(rules), {"builtin": screening.builtin().fingerprint}).scalar_one():
        raise RuntimeError("items hold redactions, or signatures name screening rules, that 0105 has no place for: "
                           "a database with them cannot go back below 0106 (restore a backup made before instead)")
    op.drop_table("zwgk_screen_adopted")
    op.drop_table("zwgk_screen_rules")
    for column in ("redacted_body", "redactions"):
        op.drop_column("zwgk_item", column)
