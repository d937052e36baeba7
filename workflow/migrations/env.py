"""Alembic environment: always run with a connection handed in by `workflow.db.upgrade`."""

from __future__ import annotations

from alembic import context

from workflow.schema import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
