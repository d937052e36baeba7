"""Requests for government information (依申请公开): their content, their applicants (erasable), their numbers,
the documents signatures name, and the deadlines of a request.

Revision ID: 0104
Revises: 0103
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0104"
down_revision = "0103"
branch_labels = None
depends_on = None

# A document is written once: what a signature named must stay what it was (as 0101 guards the events).
_SQLITE_GUARDS = [f"""CREATE TRIGGER zwgk_document_no_{verb.lower()} BEFORE {verb} ON zwgk_document
    BEGIN SELECT RAISE(ABORT, 'zwgk_document is append-only: {verb} refused'); END""" for verb in ("UPDATE", "DELETE")]
_PG_GUARDS = ["""CREATE TRIGGER zwgk_document_no_change BEFORE UPDATE OR DELETE ON zwgk_document
                 FOR EACH ROW EXECUTE FUNCTION zwgk_append_only()""",
              """CREATE TRIGGER zwgk_document_no_truncate BEFORE TRUNCATE ON zwgk_document
                 FOR EACH STATEMENT EXECUTE FUNCTION zwgk_append_only()"""]


def upgrade() -> None:
    op.create_table(
        "zwgk_request",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("received_via", sa.String(16), nullable=False),
        sa.Column("received_on", sa.String(10), nullable=False),
        sa.Column("applicant_type", sa.String(16), nullable=False),
        sa.Column("applicant", sa.String(64), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("form", sa.String(16), nullable=False),
        sa.Column("oral", sa.Boolean, nullable=False),
        sa.Column("reply", sa.Text),
        sa.Index("ix_zwgk_request_received", "received_on"),
    )
    op.create_table(
        "zwgk_applicant",
        sa.Column("request_id", sa.String(64), sa.ForeignKey("zwgk_request.id"), primary_key=True),
        sa.Column("salt", sa.String(64)),
        sa.Column("identity", sa.Text),
        sa.Column("key", sa.String(64)),
        sa.Column("erased_at", sa.String(40)),
        sa.Index("ix_zwgk_applicant_key", "key"),
    )
    op.create_table(
        "zwgk_request_number",
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("zwgk_unit.id"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last", sa.Integer, nullable=False),
    )
    op.create_table(
        "zwgk_document",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    for guard in _PG_GUARDS if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARDS:
        op.execute(guard)
    op.add_column("zwgk_deadline", sa.Column("request_id", sa.String(64)))
    op.create_index("ix_zwgk_deadline_request", "zwgk_deadline", ["request_id", "status"])


def downgrade() -> None:
    # The requests' and letters' rows are what their signed events sign: dropping them would leave the chains
    # naming what no longer exists (and an applicant's identity gone with no erasure signed).
    bind = op.get_bind()
    held = bind.execute(sa.text("SELECT (SELECT count(*) FROM zwgk_request) + (SELECT count(*) FROM zwgk_document)"))
    if held.scalar_one():
        raise RuntimeError("revision 0104 holds requests or letters that signed events name: a database with them "
                           "cannot go back below 0104 (restore a backup made before instead)")
    op.drop_index("ix_zwgk_deadline_request", "zwgk_deadline")
    op.drop_column("zwgk_deadline", "request_id")  # in place (SQLite 3.35+): the outbox refers to the table
    for name in ("zwgk_document", "zwgk_request_number", "zwgk_applicant", "zwgk_request"):
        op.drop_table(name)
