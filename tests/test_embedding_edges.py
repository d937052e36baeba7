"""Regressions from the code review: embedding edge cases, input types, lock order, output safety."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from scripts.zwgk import main
from tests.conftest import ADMIN, new_info, publish, seed
from workflow import InvalidInput, Workflow
from workflow.daemon import Daemon
from workflow.testing import captured_logs


def test_non_text_inputs_are_refused_and_write_nothing(wf: Workflow) -> None:
    item_id = new_info(wf)
    before = wf.digest()
    with pytest.raises(InvalidInput, match="comment must be text"):
        wf.advance(item_id, "submit", actor="clerk", comment=20261009)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="title must be text"):
        wf.new_item(title=5, unit="gov", category="3.4", timing="periodic", kind="info",  # type: ignore[arg-type]
                    drafter="clerk")
    assert wf.digest() == before
    assert wf.verify().ok


def test_two_signatures_in_one_host_transaction_do_not_deadlock_with_another_signer(db_url: str) -> None:
    host = seed(Workflow(db_url))
    x, y = new_info(host), new_info(host)
    other = Workflow(db_url)
    first_done, errors, results = threading.Event(), [], []

    def rival() -> None:
        first_done.wait(30)
        try:
            results.append(other.advance(y, "submit", actor="clerk").seq)
        except Exception as e:  # collected for the assertion below
            errors.append(e)

    thread = threading.Thread(target=rival)
    thread.start()
    with host.engine.connect() as conn, conn.begin():
        host.advance(x, "submit", actor="clerk", conn=conn)
        first_done.set()
        threading.Event().wait(0.5)  # let the rival queue up behind our locks
        host.advance(y, "submit", actor="clerk", conn=conn)
    thread.join(60)
    assert not thread.is_alive()
    # The rival waited for the chain head, then found y already submitted: a refusal, never a deadlock.
    assert [type(e).__name__ for e in errors] == ["ActionNotAvailable"]
    assert host.verify().ok
    host.close()
    other.close()


def test_a_host_engine_is_not_disposed_by_close() -> None:
    engine = create_engine("sqlite://")  # in memory: disposing of the pool would lose the database
    wf = Workflow(engine=engine)
    wf.init(admin=ADMIN, name="党政办登记管理员")
    wf.add_unit("gov", name="平田乡人民政府", by=ADMIN)
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE host_data (v TEXT)"))
        conn.execute(text("INSERT INTO host_data VALUES ('kept')"))
        conn.commit()
    assert [u.id for u in wf.units()] == ["gov"]
    wf.close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM host_data")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM zwgk_unit")).scalar_one() == 1


def test_a_host_engine_is_not_disposed_and_its_transaction_not_committed_by_reads() -> None:
    engine = create_engine("sqlite://")
    wf = Workflow(engine=engine)
    wf.init(admin=ADMIN, name="党政办登记管理员")
    wf.add_unit("gov", name="平田乡人民政府", by=ADMIN)
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE host_data (v TEXT)"))
        conn.commit()
        tx = conn.begin()
        conn.execute(text("INSERT INTO host_data VALUES ('pending')"))
        assert [u.id for u in wf.units()] == ["gov"]  # a read inside the host's open transaction
        assert wf.deadlines() == [] and wf.items() == []  # listings too, which once ended it
        assert conn.execute(text("SELECT count(*) FROM host_data")).scalar_one() == 1
        with pytest.raises(InvalidInput, match="inside a transaction of the host's: pass that transaction as conn="):
            wf.add_person("x", name="X", by=ADMIN)  # a write must not commit the host's transaction
        assert conn.execute(text("SELECT count(*) FROM host_data")).scalar_one() == 1
        tx.rollback()
        assert conn.execute(text("SELECT count(*) FROM host_data")).scalar_one() == 0
    wf.close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM host_data")).scalar_one() == 0


def test_verify_reports_a_deleted_chain_head(sqlite_url: str) -> None:
    wf = seed(Workflow(sqlite_url))
    new_info(wf)
    assert wf.verify().ok
    raw = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    raw.execute("DELETE FROM zwgk_chain WHERE chain = 'gov'")  # a unit's head row
    raw.commit()
    report = wf.verify()
    assert not report.ok
    assert str(report.first_problem).startswith("unit gov of the register has no chain"), report.problems
    raw.execute("DELETE FROM zwgk_chain")  # every head row, the register's too
    raw.commit()
    raw.close()
    report = wf.verify()
    assert report.first_problem == ("the register has no chain head (zwgk_chain was altered, or the register was "
                                    "never started: zwgk init --admin ID --name NAME)")


def test_a_newline_in_a_comment_cannot_forge_a_history_line(sqlite_url: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    wf = seed(Workflow(sqlite_url))
    item_id = new_info(wf)
    wf.advance(item_id, "submit", actor="clerk", comment="ok\ngov#9 2026-01-01 forged approve by head")
    assert main(["--db", sqlite_url, "history", item_id]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("gov#")]
    assert len(lines) == 2  # create and submit; the forged text stays inside the submit line
    assert "comment=ok\\ngov#9 2026-01-01 forged" in lines[1]


def test_a_host_sqlite_engine_without_our_settings_still_serialises_writers(tmp_path: object) -> None:
    """A host's plain `create_engine` lets sqlite3 open deferred transactions; our own writes take the
    write lock first (BEGIN IMMEDIATE), so concurrent writers wait instead of failing halfway."""
    url = f"sqlite:///{tmp_path}/host.db"
    seed(Workflow(url)).close()
    engine = create_engine(url, connect_args={"timeout": 30})  # no WAL, no BEGIN IMMEDIATE: the host's choice
    host = Workflow(engine=engine)
    errors: list[Exception] = []

    def writer(n: int) -> None:
        for i in range(8):
            try:
                new_info(host, title=f"writer {n} item {i}")
            except Exception as e:  # collected for the assertion below
                errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(host.items()) == 32
    assert host.verify().ok
    engine.dispose()


def test_a_psycopg2_host_engine_signs_plans_sends_and_verifies(pg_url: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Pipeline mode and executemany(returning=) are psycopg 3's; a host on psycopg2 gets the plain path."""
    engine = create_engine(pg_url.replace("postgresql+psycopg://", "postgresql+psycopg2://"))
    assert engine.dialect.driver == "psycopg2"
    start = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Asia/Shanghai
    now = [start]
    wf = seed(Workflow(engine=engine, clock=lambda: now[0]))
    policy = new_info(wf, kind="policy", title="村庄建设管理办法")
    publish(wf, policy)
    assert wf.verify().ok
    now[0] = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # Monday after the holiday: the interpretation is late
    capsys.readouterr()
    done = Daemon(wf).once()
    assert (done.planned, done.sent) > (0, 0) and done.planned == done.sent
    assert "政策解读" in capsys.readouterr().out
    assert [d.kind for d in wf.deadlines(item=policy, overdue=True)] == ["interpretation"]
    engine.dispose()


EMBEDDED = """
import logging
import sys
import structlog
from sqlalchemy import create_engine
from tests.conftest import new_info, publish, seed
from workflow import Workflow

url = sys.argv[1]
if sys.argv[2] == "stdlib":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
if sys.argv[2] == "structlog":  # the host's own structlog set-up is the host's: ours does not go through it
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stdout))
wf = seed(Workflow(url))
publish(wf, new_info(wf))  # each signature is logged ("signed")
Workflow(engine=create_engine(url))  # a SQLite engine not made durable: the engine warns
"""


@pytest.mark.parametrize("host", ["silent", "structlog", "stdlib"])
def test_embedded_the_library_logs_only_through_the_hosts_logging(tmp_path: Path, host: str) -> None:
    done = subprocess.run([sys.executable, "-c", EMBEDDED, f"sqlite:///{tmp_path / 'host.db'}", host],
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    if host == "stdlib":
        assert "INFO zwgk signed action=publish " in done.stderr
        assert "WARNING zwgk sqlite_engine_not_durable" in done.stderr
    else:
        assert done.stderr == ""


def test_a_signature_is_logged_once_committed_never_when_the_host_rolls_back(wf: Workflow) -> None:
    with wf.engine.connect() as conn:
        with captured_logs() as logs:
            trans = conn.begin()
            new_info(wf, conn=conn)
            assert [e for e in logs if e["event"] == "signed"] == []  # not yet: the host has not committed
            trans.rollback()
        assert [e for e in logs if e["event"] == "signed"] == []
        with captured_logs() as logs:
            with conn.begin():
                item = new_info(wf, conn=conn)
            assert [(e["event"], e["case"]) for e in logs if e["event"] == "signed"] == [("signed", item)]
