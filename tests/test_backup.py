"""`zwgk backup` and `zwgk restore`: a consistent, verified copy of a live SQLite database, and a restore that never
rolls the signature log back (it needs the live database's last seal and, unless told, every later event)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.cli_helpers import isolate, one_error_line, run, snapshot
from tests.conftest import new_info, publish, seed
from tests.tampering import Raw
from workflow import Workflow
from workflow.backup import RestoreRefused, restore
from workflow.config import Config
from workflow.daemon import Daemon


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A database with a published item, its chains sealed (`zwgk digest`)."""
    isolate(monkeypatch, tmp_path)
    path = tmp_path / "zwgk.db"
    with seed(Workflow(f"sqlite:///{path}")) as wf:
        publish(wf, new_info(wf))
        wf.digest()
    monkeypatch.setenv("ZWGK_DATABASE_URL", f"sqlite:///{path}")
    yield path


def journal_mode(path: Path) -> str:
    """From the file's header alone (opening it could change it): WAL is versions 2, the rollback journal 1."""
    return {b"\x02\x02": "wal", b"\x01\x01": "delete"}[path.read_bytes()[18:20]]


def events(path: Path) -> int:
    with Workflow(f"sqlite:///{path}") as wf:
        return wf.verify().events


def test_a_backup_taken_while_a_writer_signs_is_one_consistent_moment(
        live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signing, stop, signed = threading.Event(), threading.Event(), [0]

    def writer() -> None:
        with Workflow(f"sqlite:///{live}") as wf:
            while not stop.is_set():
                new_info(wf, title=f"第{signed[0]}件")
                signed[0] += 1
                if signed[0] == 5:
                    signing.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert signing.wait(60), "the writer signed nothing"
        rc, _, err = run(capsys, "backup", str(tmp_path / "copy.db"))  # (the writer's log lines may be in out)
    finally:
        stop.set()
        thread.join()
    assert rc == 0, err
    copy = tmp_path / "copy.db"
    assert journal_mode(copy) == "delete"  # one file: read-only media need no -wal or -shm beside it
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy")) == ["copy.db"]
    # The copy is the live log as it stood at one moment: each chain's head in the copy is an event of the live
    # chain, and the copy passed verify (every link, every table as the chains fold to).
    raw_copy, raw_live = Raw(f"sqlite:///{copy}"), Raw(f"sqlite:///{live}")
    heads = raw_copy.rows("SELECT chain, seq, hash FROM zwgk_chain")
    assert sum(seq for _, seq, _ in heads) == events(copy)
    for chain, seq, h in heads:
        assert raw_live.rows("SELECT hash FROM zwgk_event WHERE chain = :chain AND seq = :seq", chain=chain,
                             seq=seq) == [(h,)]
    raw_copy.close()
    raw_live.close()


def test_reading_a_backup_leaves_it_one_file(live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before, every command set WAL mode on the file it opened, even `item list` on a backup."""
    copy = tmp_path / "copy.db"
    assert run(capsys, "backup", str(copy))[0] == 0
    assert run(capsys, "item", "list", "--db", f"sqlite:///{copy}")[0] == 0
    assert journal_mode(copy) == "delete"


def test_round_trip(live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy.db"
    assert run(capsys, "backup", str(copy))[0] == 0
    before = snapshot(live)
    rc, out, err = run(capsys, "restore", str(copy))
    assert (rc, err) == (0, ""), err
    assert out.startswith(f"restored {copy} into {live}: verified")
    assert snapshot(live) == before
    elsewhere = tmp_path / "new" / "zwgk.db"  # no database there yet: the copy becomes it
    elsewhere.parent.mkdir()
    assert run(capsys, "restore", str(copy), "--db", f"sqlite:///{elsewhere}")[0] == 0
    assert snapshot(elsewhere) == before
    assert run(capsys, "verify", "--db", f"sqlite:///{elsewhere}")[0] == 0


def test_restore_refuses_a_copy_older_than_the_last_seal(live: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy.db"
    assert run(capsys, "backup", str(copy))[0] == 0
    with Workflow(f"sqlite:///{live}") as wf:
        new_info(wf)
        seal = wf.digest()
    before = snapshot(live)
    rc, _, err = run(capsys, "restore", str(copy), "--drop-unsealed")
    assert rc == 2
    assert f"the copy lacks the last seal of {live} ({seal})" in one_error_line(err)
    assert snapshot(live) == before


def test_restore_drops_events_after_the_last_seal_only_when_told(live: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy.db"
    assert run(capsys, "backup", str(copy))[0] == 0
    with Workflow(f"sqlite:///{live}") as wf:
        new_info(wf)  # not sealed: a forger's, say, or what the damage is
    before = snapshot(live)
    rc, _, err = run(capsys, "restore", str(copy))
    assert rc == 2
    assert "lacks events of" in one_error_line(err) and "--drop-unsealed" in err
    assert snapshot(live) == before
    assert run(capsys, "restore", str(copy), "--drop-unsealed")[0] == 0
    assert snapshot(live) == snapshot(copy)


def test_restore_refuses_a_tampered_copy(live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy.db"
    assert run(capsys, "backup", str(copy))[0] == 0
    raw = Raw(f"sqlite:///{copy}")
    raw.drop_guards()
    raw.set_event(raw.tail()[0], comment="改过")
    raw.close()
    before = snapshot(live)
    rc, _, err = run(capsys, "restore", str(copy))
    assert rc == 2
    assert one_error_line(err).startswith("the copy fails verify: ")
    assert snapshot(live) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == ["copy.db", "zwgk.db"]


def test_a_backup_that_fails_verify_is_not_kept(live: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    raw = Raw(f"sqlite:///{live}")
    raw.drop_guards()
    raw.set_event(raw.tail()[0], comment="改过")
    raw.close()
    rc, _, err = run(capsys, "backup", str(tmp_path / "copy.db"))
    assert rc == 1
    assert one_error_line(err).startswith("the copy fails verify, so it was not kept: ")
    assert not (tmp_path / "copy.db").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".zwgk-")]


def test_restore_waits_for_the_daemon_to_stop(live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy.db"
    assert run(capsys, "backup", str(copy))[0] == 0
    patient = replace(Config(), daemon=replace(Config().daemon, heartbeat_every=86400.0))  # never silent here
    with Workflow(f"sqlite:///{live}", config=patient) as wf:
        alive = Daemon(wf)
        alive.beat()
        with pytest.raises(RestoreRefused, match=f"daemon {alive.id} is running on"):
            restore(copy, live, patient)


def test_restore_refuses_a_wal_file_left_without_its_database(live: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy.db"
    assert run(capsys, "backup", str(copy))[0] == 0
    gone = tmp_path / "gone.db"
    Path(f"{gone}-wal").write_bytes(b"old frames")
    rc, _, err = run(capsys, "restore", str(copy), "--db", f"sqlite:///{gone}")
    assert rc == 2
    assert one_error_line(err) == f"{gone}-wal is left from a database that is gone: move it away first"
    assert not gone.exists()


def test_postgresql_is_pointed_to_its_own_tools(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch, tmp_path)
    for command, tool in (("backup", "pg_dump"), ("restore", "pg_restore")):
        rc, out, err = run(capsys, "--db", "postgresql+psycopg://postgres@127.0.0.1:5432/test", command, "x.db")
        assert (rc, out) == (2, "")
        assert f"for PostgreSQL use {tool}" in one_error_line(err)


def test_a_restored_database_takes_signatures(live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The restore went into the live database's own file, in WAL mode still, and an engine open on it goes on."""
    copy = tmp_path / "copy.db"
    assert run(capsys, "backup", str(copy))[0] == 0
    with Workflow(f"sqlite:///{live}") as wf:
        new_info(wf)
        assert run(capsys, "restore", str(copy), "--drop-unsealed")[0] == 0
        new_info(wf)
        assert wf.verify().ok
    assert journal_mode(live) == "wal"
    conn = sqlite3.connect(live)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
