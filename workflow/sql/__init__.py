"""Every SQL statement of the engine, by name, read from the `.sql` files beside this module.

A statement is written once, with `:name` parameters, `{_fragment}` for the text of a statement whose name
starts with `_` (a part that several statements share), `{for_update}` / `{skip_locked}` where PostgreSQL
locks rows and SQLite (one writer at a time) need not, and `{event_columns}` for an event's columns in the
order they are hashed (`workflow.ledger.events.COLUMNS`). `Statements(dialect)` gives the text for one database:
for SQLAlchemy's `text()`, and for the driver's own cursor (psycopg takes `%(name)s`).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from sqlalchemy import TextClause, text

from workflow.ledger.events import COLUMNS

_NAME = re.compile(r"^-- name: (\w+)[ \t]*$", re.M)
_PARAM = re.compile(r"(?<![:\w]):(\w+)")  # `:name`, not the `::` of a PostgreSQL cast nor a time's `12:30`


@cache
def _sources() -> dict[str, str]:
    out: dict[str, str] = {}
    for f in sorted(resources.files(__package__).iterdir(), key=lambda f: f.name):
        if not f.name.endswith(".sql"):
            continue
        parts = _NAME.split(f.read_text(encoding="utf-8"))
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            if name in out:
                raise ValueError(f"workflow/sql: statement {name} is defined twice")
            lines = [line for line in body.splitlines() if not line.lstrip().startswith("--")]
            out[name] = "\n".join(lines).strip().rstrip(";")
    return out


class Statements:
    """The statements for one database."""

    def __init__(self, dialect: str, paramstyle: str = "named") -> None:
        pg = dialect == "postgresql"
        fill = {"for_update": " FOR UPDATE" if pg else "", "skip_locked": " FOR UPDATE SKIP LOCKED" if pg else "",
                "of_d_skip_locked": " FOR UPDATE OF d SKIP LOCKED" if pg else "",
                "event_columns": ", ".join(COLUMNS), "event_values": ", ".join(f":{c}" for c in COLUMNS)}
        fill |= {name: sql for name, sql in _sources().items() if name.startswith("_")}
        self.texts = {name: sql.format_map(fill) for name, sql in _sources().items()}
        pyformat = paramstyle == "pyformat"
        self.driver = {name: _PARAM.sub(r"%(\1)s", sql.replace("%", "%%")) if pyformat else sql
                       for name, sql in self.texts.items()}
        self._clauses: dict[str, TextClause] = {}

    def __getitem__(self, name: str) -> str:
        """For the driver's cursor."""
        return self.driver[name]

    def clause(self, name: str) -> TextClause:
        """For SQLAlchemy."""
        found = self._clauses.get(name)
        if found is None:
            found = self._clauses[name] = text(self.texts[name])
        return found


@cache
def statements(dialect: str, paramstyle: str = "named") -> Statements:
    return Statements(dialect, paramstyle)
