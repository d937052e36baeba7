"""The bulk sweep behind `verify` never changes its answer: it vouches for a sound log, and declines
(handing over to the event-by-event walk, which names the problem) whenever the walk would find one."""

from __future__ import annotations

import sqlite3
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from tests.conftest import new_info, publish, seed
from tests.tampering import COLS, Raw, Setup, build, copy_sqlite
from workflow import Digest, Workflow, chain, sweep
from workflow.db import durable
from workflow.schema import GENESIS_HASH


def walked(wf: Workflow, against: Digest | None = None) -> chain.Report:
    """The walk's own answer: the sweep told to decline."""
    with mock.patch.object(sweep.Sweep, "run", return_value=None):
        return wf.verify(against)


@contextmanager
def sweep_only() -> Iterator[None]:
    """verify() must answer from the sweep alone."""
    with mock.patch.object(Workflow, "_walk", side_effect=AssertionError("the sweep declined")):
        yield


def test_the_sweep_vouches_for_a_sound_log(built: Setup) -> None:
    kept = Digest(7, built.raw.event(7)["hash"])
    with sweep_only():
        report = built.wf.verify()
        assert built.wf.verify(kept).ok
        assert built.wf.verify(built.wf.digest()).ok
        assert built.wf.verify(Digest(0, GENESIS_HASH)).ok
    assert not built.wf.verify(Digest(7, "0" * 64)).ok  # a digest that differs: the walk says where
    assert report.ok and (report.events, report.items, report.unchecked) == (20, 4, 0)
    assert report == walked(built.wf)


def test_the_sweep_vouches_across_many_chunks(built: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep, "CHUNK", 3)  # 20 events: seven chunks, the last one short
    with sweep_only():
        assert built.wf.verify().ok
        assert built.wf.verify(Digest(10, built.raw.event(10)["hash"])).ok


def test_signatures_made_while_the_sweep_runs_do_not_disturb_it(wf: Workflow,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The office goes on signing (another connection) while verify runs: each verify sees its own snapshot's
    log, whole, even though the sweep reads its chunks on connections of its own, later."""
    monkeypatch.setattr(sweep, "CHUNK", 4)
    for _ in range(3):
        publish(wf, new_info(wf))
    stop = threading.Event()
    signed = []

    def office() -> None:
        while not stop.is_set():
            item = new_info(wf)
            publish(wf, item)
            signed.append(item)

    worker = threading.Thread(target=office)
    worker.start()
    try:
        reports = []
        with sweep_only():
            while len(reports) < 5 or len(signed) < 3:
                reports.append(wf.verify())
    finally:
        stop.set()
        worker.join()
    assert all(r.ok for r in reports), [r.problems for r in reports]
    assert reports[-1].events > reports[0].events  # the log grew under the sweeps
    assert wf.verify().ok


def test_an_in_memory_database_is_swept_on_its_own_connection() -> None:
    with seed(Workflow("sqlite://")) as wf:
        build(wf)
        with sweep_only():
            report = wf.verify()
    assert report.ok and report.events == 20


def test_a_host_engine_that_shares_one_connection_is_swept_on_it(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url, poolclass=StaticPool)
    durable(engine)
    with seed(Workflow(engine=engine)) as wf:
        build(wf)
        with sweep_only():
            assert wf.verify().ok
    engine.dispose()


def test_an_empty_log_is_vouched_for(sqlite_url: str) -> None:
    with seed(Workflow(sqlite_url)) as wf, sweep_only():
        assert wf.verify().ok


def test_blank_is_what_str_strip_takes_away() -> None:
    assert set(sweep.BLANK) == {c for c in map(chr, range(0x110000)) if c.isspace()}


@pytest.mark.parametrize("reason", ["", " ", "\u3000", "\t\n"])
def test_a_blank_reason_where_one_is_needed_is_left_to_the_walk(tampered: Setup, reason: str) -> None:
    """Blank as `advance` means it (str.strip), full-width spaces included; forged and rehashed."""
    seq = tampered.seqs["C", "withhold"]
    tampered.raw.set_event(seq, reason=reason)
    tampered.raw.rewrite_from(seq)
    report = tampered.wf.verify()
    assert report.first_problem is not None and "needs a reason" in report.first_problem
    assert report == walked(tampered.wf)


def test_a_separator_inside_a_value_is_left_to_the_walk(tampered: Setup) -> None:
    for value in ("a,b", "a\nb"):
        tampered.raw.set_event(5, comment=value)
        tampered.raw.rewrite_from(5)
        assert tampered.wf.verify() == walked(tampered.wf)


def test_a_step_that_does_not_start_where_the_item_was_is_left_to_the_walk(tampered: Setup) -> None:
    """D's return, forged as if from the leader's check: a step the rules allow, from the wrong state."""
    seq = tampered.seqs["D", "return"]
    tampered.raw.set_event(seq, from_state="leader_check", actor="lead", role="leader")
    tampered.raw.rewrite_from(seq)
    report = tampered.wf.verify()
    assert report.first_problem == f"event {seq}: item D moves from leader_check but was in confidentiality_review"
    assert report == walked(tampered.wf)


def test_signatures_of_another_pipeline_version_are_counted_alike(tampered: Setup) -> None:
    tampered.raw.set_event(9, pipeline_version="0.9")
    tampered.raw.rewrite_from(9)
    with sweep_only():
        report = tampered.wf.verify()
    assert report.ok and report.unchecked == 1
    assert report == walked(tampered.wf)


# -- the helper process: a large SQLite log's chain checked on the other core -----------------------

@pytest.fixture
def helped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper for any SQLite log, in chunks of 3 events: 20 events make seven chunks."""
    monkeypatch.setattr(sweep, "HELPER_FROM", 0)
    monkeypatch.setattr(sweep, "CHUNK", 3)


def helpers_started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    started: list[list[str]] = []
    real = subprocess.Popen

    def popen(args: list[str], **kw: Any) -> Any:
        started.append(args)
        return real(args, **kw)

    monkeypatch.setattr(sweep.subprocess, "Popen", popen)
    return started


def chunks_checked_here(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many chunks each check in `verify`'s own process took."""
    counts: list[int] = []
    real = sweep.Sweep._check

    def check(self: sweep.Sweep, ranges: list[tuple[int, int]], *args: Any) -> Any:
        counts.append(len(ranges))
        return real(self, ranges, *args)

    monkeypatch.setattr(sweep.Sweep, "_check", check)
    return counts


@pytest.mark.parametrize("at", [None, 0, 1, 9, 17, 18, 19, 20])
def test_a_helper_process_checks_the_chain(lite: Setup, helped: None, monkeypatch: pytest.MonkeyPatch,
                                                  at: int | None) -> None:
    started = helpers_started(monkeypatch)
    checked_here = chunks_checked_here(monkeypatch)
    against = None if at is None else Digest(at, lite.raw.event(at)["hash"] if at else GENESIS_HASH)
    with sweep_only():
        report = lite.wf.verify(against)
    assert report.ok and report == walked(lite.wf, against)
    assert len(started) == 1 and started[0][1:3] == ["-I", "-S"]
    assert checked_here == []  # the helper's answer was taken
    if at is not None:  # and a digest that differs, wherever it falls
        assert not lite.wf.verify(Digest(at, "f" * 64)).ok


@pytest.mark.parametrize("seq", [1, 4, 17, 18, 19, 20])  # the first, middle and last chunks
def test_a_forgery_is_found_in_any_chunk_the_helper_checks(lite: Setup, helped: None, seq: int) -> None:
    lite.raw.set_event(seq, comment="改过")
    lite.raw.rewrite_from(seq + 1)
    report = lite.wf.verify()
    assert report.first_problem == f"event {seq}: contents do not match its hash (event modified)"
    assert report == walked(lite.wf)


@pytest.mark.parametrize("helper", [None, "exit 1", "exit 0", "echo '{\"span\": [1]}'", "sleep 0.2; kill -9 $$"])
def test_a_helper_that_cannot_start_or_fails_leaves_the_chain_to_verify(
        lite: Setup, helped: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, helper: str | None) -> None:
    """A "python" that is not there, or that fails, says nothing, says nonsense or is killed."""
    python = tmp_path / "python3"
    if helper is not None:
        python.write_text(f"#!/bin/sh\n{helper}\n")
        python.chmod(0o755)
    monkeypatch.setattr(sweep.sys, "executable", str(python))
    started = helpers_started(monkeypatch)
    checked_here = chunks_checked_here(monkeypatch)
    with sweep_only():
        assert lite.wf.verify().ok
    assert len(started) == 1
    assert checked_here == [7]  # all seven chunks, once
    lite.raw.set_event(5, comment="改过")
    lite.raw.rehash(5)
    assert lite.wf.verify().first_problem == "event 6: previous-hash link broken (event deleted, inserted or reordered)"


def test_a_helper_is_not_started_for_a_small_log_or_a_database_it_cannot_open(
        lite: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    started = helpers_started(monkeypatch)
    monkeypatch.setattr(sweep, "CHUNK", 3)
    assert lite.wf.verify().ok  # 20 events: fewer than HELPER_FROM
    monkeypatch.setattr(sweep, "HELPER_FROM", 0)
    for python in ("/usr/bin/uwsgi", ""):  # not a Python: an embedding server's binary would start itself
        monkeypatch.setattr(sweep.sys, "executable", python)
        assert lite.wf.verify().ok
    monkeypatch.setattr(sweep.sys, "frozen", True, raising=False)  # a frozen application's own binary
    monkeypatch.setattr(sweep.sys, "executable", "/opt/app/python")
    assert lite.wf.verify().ok
    with seed(Workflow("sqlite://")) as memory:
        build(memory)
        assert memory.verify().ok
    assert started == []


# Text the database must escape exactly as Python's JSON does, for the sweep to vouch by itself.
AWKWARD = ['他说"公开"', "C:\\路径\\", "第一行\n第二行\r\n\t缩进", "控制\x01\x1f\x7f", "emoji 😀 \u2028\u2029",
           "全角\u3000空格", "' OR 1=1 --"]


@pytest.mark.parametrize("text", AWKWARD)
def test_items_of_awkward_text_are_vouched_for_by_the_sweep(wf: Workflow, text: str) -> None:
    """The database builds each item's signed content itself: it must be the text Python signed."""
    policy = new_info(wf, kind="policy", title=text, body=text, tags=["decision", "result"],
                      formed_on=date(2026, 2, 28))
    publish(wf, policy)
    new_info(wf, kind="interpretation", interprets=policy, title="解读", body=text)
    new_info(wf, schedule="finance", period="2026Q3", body=text, formed_on=date(2026, 10, 8))
    wf.advance(new_info(wf, body=text), "submit", actor="clerk", comment=text)
    with sweep_only():
        report = wf.verify()
    assert report.ok and report.items == 4
    assert report == walked(wf)


# -- the property: whatever is tampered with, the sweep gives the walk's answer ---------------------------

NAMES = ["multi", "nobody", "drafter2", "clerk", "proof", "sec", "lead", "head", "draft", "retracted",
         "confidentiality_review", "leader_check", "head_approval", "published", "withheld", "create", "edit",
         "submit", "proofread", "clear", "check", "publish", "approve", "return", "withhold", "retract", "drafter",
         "leader", "publisher", "proofreader", "confidentiality_reviewer", "full", "partial", "art16", "result"]
VALUES = st.one_of(
    st.sampled_from([None, "", " ", "\u3000", *NAMES, "A", "B", "a,b", "x\ny", "2026-10-08", "20261008", "[]",
                     '["result"]', "1", "2"]),
    st.integers(-1, 25),
    st.text(max_size=4))
# Mostly what the rules and the replay read, forged with the chain rewritten after it: only they can tell.
RULED = ["action", "from_state", "to_state", "actor", "role", "round", "reason", "ground", "decision",
         "pipeline_version", "item_id", "content_hash"]
EVENT_COLUMNS = RULED * 3 + [c for c in COLS if c != "hash"]
ITEM_COLUMNS = ["state", "round", "version", "drafter", "title", "body", "tags", "formed_on", "unit_id",
                "schedule", "period"]


@st.composite
def tamperings(draw: st.DrawFn) -> list[tuple[str, Any]]:
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["event", "event", "event", "item", "delete", "head"]))
        if kind == "event":
            steps.append(("event", (draw(st.integers(1, 20)), draw(st.sampled_from(EVENT_COLUMNS)), draw(VALUES),
                                    draw(st.sampled_from(["as is", "rehash", "rewrite", "rewrite", "rewrite"])))))
        elif kind == "item":
            steps.append(("item", (draw(st.sampled_from("ABCD")), draw(st.sampled_from(ITEM_COLUMNS)), draw(VALUES))))
        elif kind == "delete":
            steps.append(("delete", (draw(st.integers(1, 20)), draw(st.booleans()))))
        else:
            steps.append(("head", (draw(st.integers(0, 21)),)))
    return steps


def apply(raw: Raw, kind: str, args: Any) -> None:
    last = raw.tail()[0]
    if kind == "event":
        seq, column, value, then = args
        if seq > last:
            return
        if column == "seq":  # renumbered: moved elsewhere in the log, or onto another event's place
            raw.run("UPDATE zwgk_event SET seq = :to WHERE seq = :seq", to=value, seq=seq)
            return
        raw.set_event(seq, **{column: value})
        if then == "rehash":
            raw.rehash(seq)
        elif then == "rewrite":
            raw.rewrite_from(seq)
    elif kind == "item":
        raw.set_item(args[0], **{args[1]: args[2]})
    elif kind == "delete":
        seq, rewrite = args
        raw.delete_events("seq = :seq", seq=seq)
        if rewrite and seq < last:
            raw.rewrite_from(seq + 1)
    else:
        seq = min(args[0], last)
        raw.set_head(seq, raw.event(seq)["hash"] if seq else GENESIS_HASH)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=tamperings(), digest_at=st.integers(0, 20), helper=st.booleans())
def test_whatever_is_tampered_with_the_sweep_gives_the_walks_answer(
        lite_template: tuple[Path, dict[tuple[str, str], int]], steps: list[tuple[str, Any]], digest_at: int,
        helper: bool) -> None:
    """With a helper process (in chunks of 4) or without."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "zwgk.db"
        copy_sqlite(lite_template[0], path)
        url = f"sqlite:///{path}"
        raw = Raw(url)
        wf = Workflow(url)
        try:
            kept = Digest(digest_at, raw.event(digest_at)["hash"]) if digest_at else None
            raw.drop_guards()
            for kind, args in steps:
                try:
                    apply(raw, kind, args)
                except (sqlite3.IntegrityError, AssertionError):  # NOT NULL, or an event already deleted
                    assume(False)
            with mock.patch.multiple(sweep, HELPER_FROM=0 if helper else sweep.HELPER_FROM,
                                     CHUNK=4 if helper else sweep.CHUNK):
                for against in (None, kept):
                    assert wf.verify(against) == walked(wf, against), steps
        finally:
            raw.close()
            wf.close()
