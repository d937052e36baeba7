"""Running `zwgk` in-process in tests: the exit code, stdout and stderr, and what a refusal must leave."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from scripts.zwgk import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


# The line `zwgk verify` adds on a database made for simulation, as the tests' are.
SIMULATION = "a simulation (zwgk init --simulation): its clock may be set by hand, so its times prove nothing"


def ok(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """A successful command, which prints nothing to stderr but the calendar's one warning (per process) about a
    year it has no official data for: whether a deadline falls in such a year depends on today's date."""
    rc, out, err = run(capsys, *argv)
    assert rc == 0, err
    unexpected = [line for line in err.splitlines() if "calendar_year_unknown" not in line]
    assert unexpected == [], f"a successful command printed to stderr: {err!r}"
    return out


def ok_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    return json.loads(ok(capsys, *argv, "--json"))


def one_error_line(err: str) -> str:
    assert err.startswith("zwgk: "), err
    assert err.endswith("\n") and err.count("\n") == 1, f"not exactly one line on stderr: {err!r}"
    return err[len("zwgk: "):-1]


def snapshot(where: Path | str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and the schema itself), to prove that a refused command wrote nothing.

    `where`: an SQLite file, or a PostgreSQL URL (its current schema: the scratch schema of the `pg_url` fixture).
    """
    if isinstance(where, str) and where.startswith("postgresql"):
        return _pg_snapshot(where)
    path = Path(where)
    assert path.exists()
    con = sqlite3.connect(path)
    try:
        out = {"sqlite_master": sorted(con.execute("SELECT type, name, sql FROM sqlite_master"), key=repr)}
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            out[name] = sorted(con.execute(f'SELECT * FROM "{name}"'), key=repr)
        return out
    finally:
        con.close()


_PG_SCHEMA = {
    "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns"
               " WHERE table_schema = current_schema()",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
    "triggers": "SELECT event_object_table, trigger_name, event_manipulation, action_statement"
                " FROM information_schema.triggers WHERE trigger_schema = current_schema()",
    "sequences": "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()",
}


def _pg_snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            out = {f"schema:{k}": sorted((tuple(r) for r in c.execute(text(q))), key=repr)
                   for k, q in _PG_SCHEMA.items()}
            tables = [r[0] for r in c.execute(text("SELECT table_name FROM information_schema.tables "
                                                   "WHERE table_schema = current_schema()"))]
            for name in tables:
                out[name] = sorted((tuple(r) for r in c.execute(text(f'SELECT * FROM "{name}"'))), key=repr)
            return out
    finally:
        engine.dispose()


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ZWGK_* from the caller's shell, and a scratch working directory (the default DB is ./zwgk.db)."""
    for key in list(os.environ):
        if key.startswith("ZWGK_") and key not in ("ZWGK_TEST_POSTGRES_URL", "ZWGK_REQUIRE_POSTGRES", "ZWGK_LANG"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def world_copy(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of a module's template database, which the CLI then finds through ZWGK_DATABASE_URL."""
    path = tmp_path / "world.db"
    shutil.copy(template, path)
    monkeypatch.setenv("ZWGK_DATABASE_URL", url_of(path))
    return path
