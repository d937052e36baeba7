"""Found by the red team: `zwgk backup DEST` and `zwgk restore COPY` (workflow/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import isolate, run, snapshot
from tests.conftest import new_info, publish, seed
from tests.test_backup import live  # noqa: F401 (the fixture: a sealed database with a published item)
from workflow import Workflow
from workflow import backup as copies


def titles(path: Path) -> set[str]:
    with Workflow(f"sqlite:///{path}") as wf:
        return {i.title for i in wf.items()}


@pytest.mark.parametrize("dest", ["zwgk.db", "zwgk.db-wal", "./sub/../zwgk.db"])
def test_backup_refuses_a_dest_that_is_the_live_database_or_its_wal(
        live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        dest: str) -> None:
    """`zwgk backup zwgk.db` (DEST = the database itself, by any spelling) renames a snapshot over the live file.
    A signature committed after the snapshot (here: while the copy is being verified, by another process that then
    exits, so SQLite checkpoints it into the old file) is silently lost: the log rolls back without restore's
    checks. DEST = the live -wal file corrupts readers ("database disk image is malformed")."""
    (tmp_path / "sub").mkdir()
    verify = copies._verify

    def sign_meanwhile(staged: Path, config: Any) -> Any:
        with Workflow(f"sqlite:///{live}") as other:
            new_info(other, title="在快照之后签署")
        return verify(staged, config)

    monkeypatch.setattr(copies, "_verify", sign_meanwhile)
    before = titles(live)
    rc, _, err = run(capsys, "backup", str(tmp_path / dest))
    assert rc == 2, f"DEST is the live database ({dest}) and was accepted"
    assert "is the database itself (or its journal): give the backup another file" in err
    assert titles(live) == before


def test_restore_with_drop_unsealed_refuses_a_copy_of_another_database_when_the_live_one_has_no_seal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """With no seal yet (no daemon has run, nobody ran `zwgk digest`), `restore --drop-unsealed` accepts a copy of
    a completely different database and drops every event of the live one. README: the copy 'of another
    database' is refused; with no seal there is nothing that tells, so --drop-unsealed should not drop everything."""
    isolate(monkeypatch, tmp_path)
    ours, other = tmp_path / "zwgk.db", tmp_path / "other.db"
    with seed(Workflow(f"sqlite:///{ours}")) as wf:
        publish(wf, new_info(wf, title="本库的事项"))
    with seed(Workflow(f"sqlite:///{other}")) as wf:
        new_info(wf, title="别的数据库")
    assert run(capsys, "--db", f"sqlite:///{other}", "backup", str(tmp_path / "copy.db"))[0] == 0
    before = snapshot(ours)
    rc, _, _ = run(capsys, "--db", f"sqlite:///{ours}", "restore", str(tmp_path / "copy.db"), "--drop-unsealed")
    assert (rc, "本库的事项" in titles(ours)) == (2, True), "a copy of another database replaced the whole log"
    assert snapshot(ours) == before
