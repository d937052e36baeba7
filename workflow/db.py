"""Engines, durability settings and migrations."""

from __future__ import annotations

import weakref
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event

from workflow.errors import SchemaMissing
from workflow.schema import VERSION_TABLE

READ_ONLY = "zwgk_read_only"
_DURABLE: weakref.WeakSet[Engine] = weakref.WeakSet()


def make_engine(url: str) -> Engine:
    """An engine with the durability settings a signature log needs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        durable(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def is_durable(engine: Engine) -> bool:
    """Whether `durable()` has set this SQLite engine up (a host's own engine may not be)."""
    return engine in _DURABLE


def durable(engine: Engine) -> None:
    """WAL with synchronous=FULL: a signature reported done survives a power cut. A host that hands us its
    own SQLite engine can call this on it (it applies to the connections the engine opens from then on).

    Writers start with BEGIN IMMEDIATE so that two processes never both read, then both try to
    upgrade to a write lock (which fails in WAL mode instead of waiting).
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" listener below issue BEGIN itself
        cur = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    _DURABLE.add(engine)


def _alembic_config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("workflow").joinpath("migrations")))
    cfg.attributes["connection"] = conn
    return cfg


# The revisions of zwgk 0.1, whose single chain 0.2 does not carry over (CHANGELOG.md).
_RELEASE_0_1 = {"0001", "0002", "0003", "0004"}


def upgrade(conn: Connection) -> None:
    """Create or upgrade the schema to the newest revision; running it again does nothing."""
    current = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    if current in _RELEASE_0_1:
        raise SchemaMissing(f"this database was made by zwgk 0.1 (revision {current}), which 0.2 does not "
                            "upgrade: make a new one with `zwgk init` (see CHANGELOG.md)")
    command.upgrade(_alembic_config(conn), "head")


def schema_status(conn: Connection) -> tuple[str | None, str]:
    """(current revision or None, newest revision)."""
    current = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
    return current, head or ""
