"""Backups of an SQLite database: a consistent copy taken while others write, and a restore that never rolls the
signature log back.

A copy is taken with SQLite's online backup API in one step, that is in one read transaction of the database: in
WAL mode its writers go on meanwhile, and the copy is the database as it stood at one moment. The copy is written
beside where it goes, set to the rollback journal (one file: read-only media need no -wal or -shm file beside
it), checked by `verify`, and only then renamed into place. What is restored is such a copy, checked again.

PostgreSQL has its own tools (pg_dump, pg_restore): see the README.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from states.authority import REGISTER
from workflow import db
from workflow.api import Workflow
from workflow.config import Config
from workflow.errors import InvalidInput, ZwgkError
from workflow.ledger.verify import Report
from workflow.uow import Work


class NotVerified(ZwgkError):
    """The copy fails `verify`: it was not kept."""

    code = "not-verified"


class RestoreRefused(ZwgkError):
    """Restoring the copy would lose or falsify part of the log, or could not be done safely."""

    code = "restore-refused"


def backup(source: Path, dest: Path, config: Config) -> Report:
    """Copy the database at `source` to `dest` (replaced only once the copy is verified); the copy's report."""
    if dest.is_dir():
        raise InvalidInput("{folder} is a folder: give the backup's file name, e.g. {example}", folder=str(dest),
                           example=str(dest / "zwgk-2026-12-07.db"))
    if dest.resolve() in (source.resolve(), *(p.resolve() for p in _beside(source))):
        raise InvalidInput("{dest} is the database itself (or its journal): give the backup another file",
                           dest=str(dest))
    if dest.is_file() and db.in_wal_mode(dest):  # what `backup` writes is never in WAL mode; a live database is
        raise InvalidInput("{dest} is a live database, not a backup: give the backup another file", dest=str(dest))

    def failed(problem: str) -> ZwgkError:
        return NotVerified("the copy fails verify, so it was not kept: {problem}", problem=problem)

    with _verified_copy(source, dest.parent, config, failed) as (staged, report):
        os.replace(staged, dest)
        _sync_folder(dest.parent)
    return report


def restore(copy: Path, live: Path, config: Config, *, drop_unsealed: bool = False) -> Report:
    """Put a copy made by `backup` in the place of the database at `live`; the copy's report.

    Refused unless the copy passes `verify` and holds the live database's last seal; and, unless `drop_unsealed`,
    every event the live database has (the events after its last seal are what a tampered or damaged database may
    have wrong, and dropping them is then the point). The live database, if there is one, is replaced in one
    SQLite transaction, so a connection open on it sees the old database or the restored one, never a mix.
    """
    if not copy.is_file():
        raise InvalidInput("no backup file {path}", path=str(copy))
    leftovers = [p for p in _beside(live) if p.exists()]
    if not live.exists() and leftovers:  # SQLite would apply an old -wal file to the restored database
        raise RestoreRefused("{path} is left from a database that is gone: move it away first",
                             path=str(leftovers[0]))

    def failed(problem: str) -> ZwgkError:
        return RestoreRefused("the copy fails verify: {problem}", problem=problem)

    with _verified_copy(copy, live.parent, config, failed) as (staged, report):
        if live.exists():
            _install(staged, live, config, drop_unsealed)
        else:
            os.replace(staged, live)
            _sync_folder(live.parent)
    return report


@contextmanager
def _verified_copy(source: Path, folder: Path, config: Config,
                   failed: Callable[[str], ZwgkError]) -> Iterator[tuple[Path, Report]]:
    """A copy of `source` in a new file in `folder` that passed verify (else the error `failed` makes of the first
    problem); the file is gone after the block unless the block moved it."""
    staged = _stage(source, folder)
    try:
        report = _verify(staged, config)
        if report.first_problem is not None:
            raise failed(report.first_problem)
        yield staged, report
    finally:
        staged.unlink(missing_ok=True)


def _stage(source: Path, folder: Path) -> Path:
    """A copy of `source` in a new file in `folder`, in one snapshot of it, synced to disk."""
    if not source.is_file():
        raise InvalidInput("database {path} does not exist", path=str(source))
    fd, name = tempfile.mkstemp(prefix=".zwgk-", suffix=".db", dir=folder)
    os.close(fd)
    staged = Path(name)
    try:
        with closing(sqlite3.connect(db.reading_uri(source), uri=True)) as src, \
                closing(sqlite3.connect(staged)) as dst:
            src.backup(dst)  # every page in one step: one read transaction of the source
            dst.execute("PRAGMA journal_mode=DELETE")
        with staged.open("rb+") as f:
            os.fsync(f.fileno())
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return staged


def _verify(staged: Path, config: Config) -> Report:
    with Workflow(db.reading_url(staged), config=config) as wf:
        try:
            wf.check_schema()
        except ZwgkError as e:
            raise NotVerified("the copy cannot be checked: {problem}", problem=e) from None
        return wf.verify()


def _install(staged: Path, live: Path, config: Config, drop_unsealed: bool) -> None:
    """The online backup API the other way, from the staged copy into the live database, as one transaction.

    Its first step takes the live database's write lock and keeps it to the end: the checks run then (in the
    progress callback, on connections of their own, which still read the live database as it was), so no
    signature can come in between them and the restore. Raising there aborts the restore, which then changes
    nothing. (A zwgk database has a page per table and index, so the first step, one page, never ends the copy.)
    """
    checked = False

    def check(*_: Any) -> None:
        nonlocal checked
        if not checked:
            checked = True
            _may_replace(live, staged, config, drop_unsealed)

    with closing(sqlite3.connect(db.reading_uri(staged), uri=True)) as src, \
            closing(sqlite3.connect(live, timeout=30)) as dst:
        src.backup(dst, pages=1, progress=check)


def _may_replace(live: Path, staged: Path, config: Config, drop_unsealed: bool) -> None:
    try:
        now = Workflow(db.reading_url(live), config=config)
        with now:
            running = [d["id"] for d in now.daemons() if d["state"] == "running"]
            seal = now.last_seal()
            with now.uow(write=False) as work:
                heads = work.rows("heads")
                first = work.one("event_hash", {"chain": REGISTER, "seq": 1})
    except Exception as e:  # not a zwgk database, or damaged: nothing to compare the copy with
        raise RestoreRefused("cannot read the database {path} ({error}): to restore in its place, move it away "
                             "first", path=str(live), error=" ".join(str(e).split())[:200]) from None
    if running:
        raise RestoreRefused("daemon {daemon} is running on {path}: stop it first", daemon=running[0], path=str(live))
    with Workflow(db.reading_url(staged), config=config) as copy, copy.uow(write=False) as work:
        if first is not None and not _holds(work, REGISTER, 1, first["hash"]):
            raise RestoreRefused("the copy is of another database: its register does not begin as that of {path} "
                                 "does", path=str(live))
        if seal is not None and not _holds(work, REGISTER, seal.seq, seal.hash):
            raise RestoreRefused("the copy lacks the last seal of {path} ({seq}:{hash}): it is older than that seal; "
                                 "restoring it would roll the log back", path=str(live),
                                 seq=seal.seq, hash=seal.hash)
        lost = [h for h in heads if not _holds(work, h["chain"], h["seq"], h["hash"])]
    if lost and not drop_unsealed:
        raise RestoreRefused("the copy lacks events of {path} made after its last seal (chain {chain} up to event "
                             "{seq}): restoring it would roll the log back; --drop-unsealed drops them",
                             path=str(live), chain=lost[0]["chain"], seq=lost[0]["seq"])


def _holds(work: Work, chain: str, seq: int, hash: str) -> bool:
    """The copy (which passed verify, so its chains link) holds this chain up to this event."""
    if seq == 0:  # a chain opened, with no event yet
        return work.one("head", {"chain": chain}) is not None
    row = work.one("event_hash", {"chain": chain, "seq": seq})
    return row is not None and row["hash"] == hash


def _beside(path: Path) -> list[Path]:
    return [path.with_name(path.name + end) for end in ("-wal", "-shm", "-journal")]


def _sync_folder(folder: Path) -> None:
    """A rename is durable once its folder is synced (POSIX; Windows has no such call, nor needs it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
