"""Found by the red team of issue 11: read-only reads (workflow/db.py reading_url / _reading)."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.cli_helpers import isolate, run
from tests.conftest import new_info, seed
from workflow import Workflow


def test_a_read_through_a_symlink_in_a_read_only_folder_sees_the_live_wal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`_reading` looks for -wal/-shm and for a writable folder beside the path as given, while SQLite opens the
    resolved file (`path.resolve().as_uri()`). A symlink in a folder this account cannot write (an auditor's
    read-only share, a folder of links) to a live database in WAL mode makes zwgk choose `immutable=1`: SQLite then
    ignores the -wal, and `item list`, `history`, `verify` and `backup` silently read the database as it was at the
    last checkpoint (seen: verify 'ok: 83 events' while the live database has 84). Fix: resolve the path first
    (in `_reading` and `writable`), and never use immutable=1 while a -wal or -shm exists beside the real file."""
    isolate(monkeypatch, tmp_path)
    live_dir, links = tmp_path / "live", tmp_path / "links"
    live_dir.mkdir()
    links.mkdir()
    live = live_dir / "zwgk.db"
    writer = seed(Workflow(f"sqlite:///{live}"))
    with closing(sqlite3.connect(live)) as c:  # what came before is in the file itself
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    new_info(writer, title="检查点之后签署")  # committed into the -wal; the open connection keeps it there
    assert (live_dir / "zwgk.db-wal").stat().st_size > 0
    (links / "zwgk.db").symlink_to(live)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == links else real_access(p, mode))
    try:
        rc, out, err = run(capsys, "--db", f"sqlite:///{links / 'zwgk.db'}", "item", "list")
    finally:
        writer.close()
    assert rc == 0, err
    assert "检查点之后签署" in out, f"a committed signature is missing from a read: {out!r}"
