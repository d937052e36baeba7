"""Item numbers per unit and year, without gaps: the last number each unit gave in each year.

Ids made before (UNIT-YEAR-NNNNNN, numbered by the chain's seq) are kept; each unit's numbers of a year go on
after the highest such id of that year.

Revision ID: 0103
Revises: 0101
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0103"
down_revision = "0102"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "zwgk_item_number",
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("zwgk_unit.id"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last", sa.Integer, nullable=False),
    )
    last: dict[tuple[str, int], int] = {}
    rows = op.get_bind().execute(sa.text("SELECT id, unit_id FROM zwgk_case WHERE kind = 'item'"))
    for item_id, unit in rows:
        # As states.numbers.id_number reads an id (copied: a migration does not change with the code).
        found = re.fullmatch(rf"{re.escape(unit[:48])}-(\d{{4}})-(\d{{6}})(?:\.\d+)?", item_id)
        if found:
            key = (unit, int(found.group(1)))
            last[key] = max(last.get(key, 0), int(found.group(2)))
    if last:
        op.bulk_insert(table, [{"unit_id": u, "year": y, "last": n} for (u, y), n in sorted(last.items())])


def downgrade() -> None:
    op.drop_table("zwgk_item_number")
