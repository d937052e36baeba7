"""Reading a database that cannot be written: a copy on a CD, a folder the account may only read.

The tests run as root, whom file permissions do not stop, so the database is put on truly read-only media: its
folder bound read-only (`mount -o remount,bind,ro`) in a mount namespace of the `zwgk` process's own. Where no
mount namespace can be made (not root), the folder and file are made read-only by their permissions instead,
which then do stop the user. Before the fix, `item list` there failed ("unable to open database file": WAL mode
makes a -shm file beside the database even to read it; or "attempt to write a readonly database").
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli_helpers import isolate, one_error_line, run
from tests.conftest import new_info, publish, seed
from workflow import Workflow

REPO = Path(__file__).resolve().parents[1]
Zwgk = Callable[..., subprocess.CompletedProcess[str]]
READS = (["item", "list"], ["person", "list"], ["unit", "list"], ["deadlines"], ["reminders"], ["verify"],
         ["daemon", "--status"], ["remind", "--dry-run"])
# Binds the folder ($1) read-only onto the mount point ($2) in this process's own mount namespace, then runs $3...
_BIND_RO = 'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && shift 2 && exec "$@"'


def on_read_only_media(folder: Path, tmp_path: Path) -> tuple[Path, Zwgk]:
    """Where `folder` is seen read-only, and a function running `zwgk ARGS` that sees it there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZWGK_") or k == "ZWGK_LANG"}
    if os.geteuid() != 0:  # permissions stop anyone but root
        for p in [*folder.iterdir(), folder]:
            p.chmod(0o555 if p.is_dir() else 0o444)
        return folder, lambda *args: subprocess.run([sys.executable, "-m", "scripts.zwgk", *args], cwd=REPO, env=env,
                                                    capture_output=True, text=True, check=False)
    mount = tmp_path / "cdrom"
    mount.mkdir()
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c", _BIND_RO, "ro", str(folder), str(mount)]
    probe = subprocess.run([*wrap, "sh", "-c", f"! touch {mount}/probe 2>/dev/null"], capture_output=True, text=True,
                           check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot bind a folder read-only here: {probe.stderr.strip() or 'it stayed writable'}")
    return mount, lambda *args: subprocess.run([*wrap, sys.executable, "-m", "scripts.zwgk", *args], cwd=REPO,
                                               env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def media(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder holding a closed database (WAL mode, no -wal or -shm file left) with a published item."""
    isolate(monkeypatch, tmp_path)
    folder = tmp_path / "media"
    folder.mkdir()
    with seed(Workflow(f"sqlite:///{folder}/zwgk.db")) as wf:
        publish(wf, new_info(wf))
        new_info(wf, title="草稿")
    assert sorted(p.name for p in folder.iterdir()) == ["zwgk.db"]
    yield folder
    for p in [folder, *folder.iterdir()]:
        p.chmod(0o755 if p.is_dir() else 0o644)


def test_every_read_works_on_read_only_media_and_shows_what_it_shows_on_the_original(
        media: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seen, zwgk = on_read_only_media(media, tmp_path)
    copy = f"sqlite:///{seen}/zwgk.db"
    item = zwgk("item", "list", "--db", copy, "--json").stdout.split('"id": "')[1].split('"')[0]
    reads = [*READS, ["item", "show", item], ["history", item], ["pipeline", "show", "--unit", "gov"]]
    shown = {}
    for args in reads:
        done = zwgk(*args, "--db", copy)
        assert (done.returncode, done.stderr) == (0, ""), args
        shown[tuple(args)] = done.stdout
    for args in reads:
        assert shown[tuple(args)] == run(capsys, *args, "--db", f"sqlite:///{media}/zwgk.db")[1], args


def test_a_read_takes_the_wal_files_left_beside_a_copy(media: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A copy of a live database's folder holds its -wal and -shm files, and the -wal part of the database."""
    with Workflow(f"sqlite:///{media}/zwgk.db") as wf:
        held = wf.engine.raw_connection()  # held open, so that the -wal file stays
        new_info(wf, title="只在WAL里")
        folder = tmp_path / "copy"
        folder.mkdir()
        for p in media.iterdir():
            (folder / p.name).write_bytes(p.read_bytes())
        held.close()
    assert sorted(p.name for p in folder.iterdir()) == ["zwgk.db", "zwgk.db-shm", "zwgk.db-wal"]
    seen, zwgk = on_read_only_media(folder, tmp_path)
    done = zwgk("item", "list", "--db", f"sqlite:///{seen}/zwgk.db")
    assert (done.returncode, done.stderr) == (0, "")
    assert "只在WAL里" in done.stdout


def test_a_write_on_read_only_media_is_refused_in_one_line(media: Path, tmp_path: Path) -> None:
    seen, zwgk = on_read_only_media(media, tmp_path)
    for args in (["digest"], ["item", "new", "--title", "t", "--unit", "gov", "--category", "1", "--timing",
                              "immediate", "--kind", "info", "--as", "clerk"]):
        done = zwgk(*args, "--db", f"sqlite:///{seen}/zwgk.db")
        assert done.returncode == 2, done.stderr
        assert "is read-only here" in one_error_line(done.stderr)


def test_a_backup_reads_from_read_only_media(media: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cd = tmp_path / "burned"
    cd.mkdir()
    assert run(capsys, "backup", str(cd / "zwgk.db"), "--db", f"sqlite:///{media}/zwgk.db")[0] == 0
    seen, zwgk = on_read_only_media(cd, tmp_path)
    done = zwgk("verify", "--db", f"sqlite:///{seen}/zwgk.db")
    assert (done.returncode, done.stderr) == (0, "")
    assert sorted(p.name for p in cd.iterdir()) == ["zwgk.db"]
