"""Engines, durability settings and migrations."""

from __future__ import annotations

import ast
import os
import re
import time
import weakref
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, exc, make_url

from workflow.errors import InvalidInput, SchemaMissing
from workflow.schema import VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config

READ_ONLY = "zwgk_read_only"
_DURABLE: weakref.WeakSet[Engine] = weakref.WeakSet()


# A pooled connection idle longer than this is pinged before use: the server may have restarted meanwhile. One
# in use back to back is not: a ping per checkout would be a round trip more per signature (one in four).
IDLE_PING_SECONDS = 5.0


def make_engine(url: str) -> Engine:
    """An engine with the durability settings a signature log needs."""
    backend = make_url(url).get_backend_name()  # a malformed URL is SQLAlchemy's ArgumentError, as before
    if backend not in ("sqlite", "postgresql"):
        raise InvalidInput("zwgk runs on SQLite (sqlite:///zwgk.db) or PostgreSQL "
                           "(postgresql+psycopg://user@host/db), not on '{backend}'", backend=backend)
    # hide_parameters: a database error's text must not carry what was being written (an unpublished body).
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        if is_read_only(engine.url):
            _set_up(engine, ("foreign_keys=ON", "busy_timeout=30000"), writers=False)
        else:
            durable(engine)
        return engine
    engine = create_engine(url, hide_parameters=True)
    ping_when_idle(engine)
    return engine


def ping_when_idle(engine: Engine, seconds: float = IDLE_PING_SECONDS) -> None:
    """Like SQLAlchemy's `pool_pre_ping`, for connections that have been idle: a dead one is replaced by the pool
    before anyone uses it."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["zwgk_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("zwgk_idle_since")
        if since is None or time.monotonic() - since < seconds:
            return
        try:
            cur = dbapi_conn.cursor()
            cur.execute("SELECT 1")
            cur.close()
            dbapi_conn.rollback()  # the ping's own transaction: whoever checked the connection out begins theirs
        except Exception as e:  # whatever the driver says of a dead connection
            raise exc.DisconnectionError(str(e)) from e


def is_durable(engine: Engine) -> bool:
    """Whether `durable()` has set this SQLite engine up (a host's own engine may not be)."""
    return engine in _DURABLE


def durable(engine: Engine) -> None:
    """WAL with synchronous=FULL: a signature reported done survives a power cut. A host that hands us its
    own SQLite engine can call this on it (it applies to the connections the engine opens from then on).

    Writers start with BEGIN IMMEDIATE so that two processes never both read, then both try to
    upgrade to a write lock (which fails in WAL mode instead of waiting).
    """

    _set_up(engine, ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"), writers=True)


def _set_up(engine: Engine, pragmas: tuple[str, ...], *, writers: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" listener below issue BEGIN itself
        cur = dbapi_conn.cursor()
        for pragma in pragmas:
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        read_only = not writers or conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    _DURABLE.add(engine)


def _alembic_config(conn: Connection) -> Config:
    # Alembic (with Mako) is imported by the commands that migrate alone: it would cost every other ~0.2 s.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("workflow").joinpath("migrations")))
    cfg.attributes["connection"] = conn
    return cfg


# The revisions of zwgk 0.1, whose single chain 0.2 does not carry over (CHANGELOG.md).
_RELEASE_0_1 = {"0001", "0002", "0003", "0004"}


def upgrade(conn: Connection) -> None:
    """Create or upgrade the schema to the newest revision; running it again does nothing."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    current = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    if current in _RELEASE_0_1:
        raise SchemaMissing("this database was made by zwgk 0.1 (revision {current}), which 0.2 does not upgrade: "
                            "make a new one with `zwgk init` (see CHANGELOG.md)", current=current)
    command.upgrade(_alembic_config(conn), "head")


def current_revision(cursor: Any) -> str | None:
    """The revision a database is at, read on a driver's cursor; None if it has no zwgk tables."""
    try:
        cursor.execute(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 - a fixed name
    except Exception:  # no such table: the driver's own error, whichever driver
        return None
    row = cursor.fetchone()
    return str(row[0]) if row else None


_ASSIGNED = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)


def head_revision() -> str:
    """The newest revision, from the `revision` and `down_revision` lines of the migration files (as Alembic's
    template writes them): asking Alembic would import it, and Mako, for every command (a test holds the two
    to agree)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for f in resources.files("workflow").joinpath("migrations", "versions").iterdir():
        if f.name.endswith(".py") and not f.name.startswith("_"):
            found = dict(_ASSIGNED.findall(f.read_text(encoding="utf-8")))
            revisions.add(ast.literal_eval(found["revision"]))
            down = ast.literal_eval(found["down_revision"])
            parents.update(down if isinstance(down, tuple) else [down])
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"workflow/migrations/versions has {len(heads)} heads, not one: {sorted(heads)}")
    return heads.pop()


# -- reading a database that may not be written (a copy on a CD, a folder the account may only read) -------------

def is_read_only(url: URL) -> bool:
    """An SQLite URL that opens its file for reading only (`mode=ro`, or `immutable=1`)."""
    return url.get_backend_name() == "sqlite" and (url.query.get("mode") == "ro" or url.query.get("immutable") == "1")


def writable(path: Path) -> bool:
    """Whether an SQLite database file can be written here: the file, and its folder (where SQLite makes the
    -wal and -shm files of WAL mode). False on read-only media, whoever asks."""
    path = path.resolve()
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def reading_url(path: Path) -> str:
    """The URL that opens an SQLite database file for reading only (`mode=ro`: every write refused).

    A file in WAL mode needs its -shm file to be read, which SQLite makes beside it: where the folder cannot be
    written (read-only media) and no -wal or -shm file is there, no connection has the file open (a writer's
    would have made them), so `immutable=1` reads it without them. A copy made by `zwgk backup` is not in WAL
    mode and needs neither.
    """
    query = _reading(path) | {"uri": "true"}
    return URL.create("sqlite", database=path.resolve().as_uri(), query=query).render_as_string()


def reading_uri(path: Path) -> str:
    """The same, as the URI that Python's `sqlite3.connect(uri, uri=True)` takes."""
    return path.resolve().as_uri() + "?" + "&".join(f"{k}={v}" for k, v in _reading(path).items())


def _reading(path: Path) -> dict[str, str]:
    path = path.resolve()  # beside the file SQLite opens, not beside a link to it
    query = {"mode": "ro"}
    beside = [path.with_name(path.name + end) for end in ("-wal", "-shm")]
    if in_wal_mode(path) and not os.access(path.parent, os.W_OK) and not any(p.exists() for p in beside):
        query["immutable"] = "1"
    return query


def in_wal_mode(path: Path) -> bool:
    """The file's header says WAL (its read and write versions, bytes 18 and 19, are 2)."""
    try:
        with path.open("rb") as f:
            header = f.read(20)
    except OSError:  # SQLite will say what is wrong with it
        return False
    return header[18:20] == b"\x02\x02"
