"""Tampering behind the engine's back: a raw connection, a log of four items to tamper with, and fixtures
that hand each test a fresh copy of it (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import new_info, pg_schema_url, publish, seed, to_head_approval
from workflow import Workflow
from workflow.ledger.events import COLUMNS, FIELDS, event_hash
from workflow.schema import GENESIS_HASH

UNIT = "gov"


class Raw:
    """A connection that bypasses the engine: stdlib sqlite3, or a plain SQLAlchemy connection (autocommit).

    SQL uses `:name` parameters, which both understand. Events are named by chain and seq (`gov` by default).
    """

    def __init__(self, url: str) -> None:
        self.pg = url.startswith("postgresql")
        if self.pg:
            self._engine = create_engine(url, isolation_level="AUTOCOMMIT")
            self._pg = self._engine.connect()
        else:
            self._lite = sqlite3.connect(str(make_url(url).database), isolation_level=None, timeout=30)

    def close(self) -> None:
        if self.pg:
            self._pg.close()
            self._engine.dispose()
        else:
            self._lite.close()

    def run(self, sql: str, **params: Any) -> int:
        if self.pg:
            return self._pg.execute(text(sql), params).rowcount
        return self._lite.execute(sql, params).rowcount

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        if self.pg:
            return [tuple(r) for r in self._pg.execute(text(sql), params)]
        return self._lite.execute(sql, params).fetchall()

    def drop_guards(self) -> None:
        for table in ("zwgk_event", "zwgk_pipeline"):
            if self.pg:
                self.run(f"DROP TRIGGER {table}_no_change ON {table}")
                self.run(f"DROP TRIGGER {table}_no_truncate ON {table}")
            else:
                self.run(f"DROP TRIGGER {table}_no_update")
                self.run(f"DROP TRIGGER {table}_no_delete")

    def event(self, seq: int, chain: str = UNIT) -> dict[str, Any]:
        found = self.rows(f"SELECT {', '.join(COLUMNS)} FROM zwgk_event WHERE chain = :chain AND seq = :seq",
                          chain=chain, seq=seq)
        assert len(found) == 1, f"no event {seq} in {chain}"
        return dict(zip(COLUMNS, found[0], strict=True))

    def set_event(self, seq: int, chain: str = UNIT, **values: Any) -> None:
        sets = ", ".join(f"{k} = :{k}" for k in values)
        assert self.run(f"UPDATE zwgk_event SET {sets} WHERE chain = :where_chain AND seq = :where_seq",
                        where_chain=chain, where_seq=seq, **values) == 1

    def rehash(self, seq: int, chain: str = UNIT) -> str:
        """Recompute an event's own hash from its stored fields, as a forger would."""
        row = self.event(seq, chain)
        h = event_hash(tuple(row[f] for f in FIELDS))
        self.set_event(seq, chain, hash=h)
        return h

    def rewrite_from(self, seq: int, chain: str = UNIT) -> None:
        """Relink and rehash every event of a chain from `seq` to its end, and move its head: a full forgery."""
        last = self.tail(chain)[0]
        prev = self.event(seq - 1, chain)["hash"] if seq > 1 else GENESIS_HASH
        for s in range(seq, last + 1):
            self.set_event(s, chain, prev_hash=prev)
            prev = self.rehash(s, chain)
        self.set_head(last, prev, chain)

    def insert_event(self, **values: Any) -> None:
        cols = ", ".join(values)
        params = ", ".join(f":{k}" for k in values)
        assert self.run(f"INSERT INTO zwgk_event ({cols}) VALUES ({params})", **values) == 1

    def append_forged(self, chain: str = UNIT, **values: Any) -> dict[str, Any]:
        """A copy of the chain's last event with `values`, well hashed and linked, the head moved: what a forger
        with write access to the database appends."""
        seq, h = self.tail(chain)
        row = self.event(seq, chain) | {"seq": seq + 1, "prev_hash": h} | values
        row["hash"] = event_hash(tuple(row[f] for f in FIELDS))
        self.insert_event(**row)
        self.set_head(row["seq"], row["hash"], chain, at=row["at"])
        return row

    def delete_events(self, where: str, **params: Any) -> int:
        return self.run(f"DELETE FROM zwgk_event WHERE {where}", **params)

    def tail(self, chain: str = UNIT) -> tuple[int, str]:
        seq, h = self.rows("SELECT seq, hash FROM zwgk_event WHERE chain = :chain ORDER BY seq DESC LIMIT 1",
                           chain=chain)[0]
        return seq, h

    def head(self, chain: str = UNIT) -> tuple[int, str]:
        seq, h = self.rows("SELECT seq, hash FROM zwgk_chain WHERE chain = :chain", chain=chain)[0]
        return seq, h

    def set_head(self, seq: int, h: str, chain: str = UNIT, *, at: str | None = None) -> None:
        """Move a chain's head, with the time of the event it names (or `at`), as a careful forger would."""
        if at is None:
            found = self.rows("SELECT at FROM zwgk_event WHERE chain = :chain AND seq = :seq", chain=chain, seq=seq)
            at = found[0][0] if found else ""
        assert self.run("UPDATE zwgk_chain SET seq = :seq, hash = :h, at = :at WHERE chain = :chain", seq=seq, h=h,
                        chain=chain, at=at) == 1

    def set_item(self, item_id: str, **values: Any) -> None:
        sets = ", ".join(f"{k} = :{k}" for k in values)
        assert self.run(f"UPDATE zwgk_item SET {sets} WHERE id = :where_id", where_id=item_id, **values) == 1

    def set_case(self, item_id: str, **values: Any) -> None:
        sets = ", ".join(f"{k} = :{k}" for k in values)
        assert self.run(f"UPDATE zwgk_case SET {sets} WHERE kind = 'item' AND id = :where_id", where_id=item_id,
                        **values) == 1


def build(wf: Workflow) -> dict[tuple[str, str], int]:
    """Four items of unit gov walked through the pipeline, interleaved: 20 signatures after the unit's own acts.
    Returns {(item, action): seq in gov's chain}.

    A published, B at head approval and approved last, C withheld, D returned to a second round and edited.
    """
    new_info(wf, id="A", title="2026年第三季度财务收支", tags=["result"], formed_on=date(2026, 10, 8))
    new_info(wf, id="B", title="乡村振兴项目资金", category="3.4")
    publish(wf, "A")
    to_head_approval(wf, "B")
    new_info(wf, id="C", title="内部会议纪要")
    wf.advance("C", "submit", actor="clerk", comment="请审")
    wf.advance("C", "withhold", actor="sec", reason="属于内部事务信息", ground="art16")
    new_info(wf, id="D", title="道路维修公告")
    wf.advance("D", "submit", actor="clerk")
    wf.advance("D", "return", actor="sec", reason="缺少附件")
    wf.edit_item("D", actor="clerk", body="补充了附件", comment="补件")
    wf.advance("B", "approve", actor="head", recorded_by="clerk", paper_sha256="ab" * 32)
    seqs = {(s.item_id, s.action): s.seq for i in ("A", "B", "C", "D") for s in wf.history(i)}
    assert len(seqs) == 20
    return seqs


@dataclass
class Setup:
    url: str
    wf: Workflow
    raw: Raw
    seqs: dict[tuple[str, str], int]


TABLES = ["zwgk_pipeline", "zwgk_unit", "zwgk_person", "zwgk_role", "zwgk_adopted", "zwgk_case", "zwgk_item",
          "zwgk_event", "zwgk_chain", "zwgk_deadline", "zwgk_item_number"]


@pytest.fixture(scope="module")
def lite_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, str], int]]:
    """Built once by the engine; each test gets a byte copy (sqlite3 backup API), triggers and all."""
    path = tmp_path_factory.mktemp("template") / "zwgk.db"
    with seed(Workflow(f"sqlite:///{path}")) as wf:
        seqs = build(wf)
    return path, seqs


@pytest.fixture(scope="module")
def pg_template() -> Iterator[tuple[str, dict[tuple[str, str], int]]]:
    """Built once by the engine in a schema of its own; each test migrates a fresh schema and copies the rows."""
    for url in pg_schema_url():
        with seed(Workflow(url)) as wf:
            seqs = build(wf)
        schema = re.search(r"search_path%3D(\w+)", url)
        assert schema is not None
        yield schema.group(1), seqs


def copy_sqlite(src: Path, dst: Path) -> None:
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


def from_template(url: str, template: tuple[Path, dict[tuple[str, str], int]]) -> Setup:
    path, seqs = template
    copy_sqlite(path, Path(str(make_url(url).database)))
    return Setup(url, Workflow(url), Raw(url), dict(seqs))


@pytest.fixture
def lite(sqlite_url: str, lite_template: tuple[Path, dict[tuple[str, str], int]]) -> Iterator[Setup]:
    """SQLite only, the guards dropped: for what only SQLite does."""
    setup = from_template(sqlite_url, lite_template)
    setup.raw.drop_guards()
    yield setup
    setup.raw.close()
    setup.wf.close()


@pytest.fixture
def built(db_url: str, request: pytest.FixtureRequest) -> Iterator[Setup]:
    if db_url.startswith("sqlite"):
        setup = from_template(db_url, request.getfixturevalue("lite_template"))
        wf, raw, seqs = setup.wf, setup.raw, setup.seqs
    else:
        schema, seqs = request.getfixturevalue("pg_template")
        wf = Workflow(db_url)
        wf.init()
        raw = Raw(db_url)
        for table in TABLES:
            raw.run(f"INSERT INTO {table} SELECT * FROM {schema}.{table}")
        raw.run("SELECT setval(pg_get_serial_sequence('zwgk_deadline', 'id'), (SELECT max(id) FROM zwgk_deadline))")
    yield Setup(db_url, wf, raw, dict(seqs))
    raw.close()
    wf.close()


@pytest.fixture
def tampered(built: Setup) -> Setup:
    """The same, with the append-only triggers dropped and the untampered log checked first."""
    report = built.wf.verify()
    assert report.ok and report.cases == 4, report
    built.raw.drop_guards()
    return built
