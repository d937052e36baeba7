"""Signatures made under an earlier version of the pipeline are judged by that version's rules.

Every pipeline that signs stores its definition (`zwgk_pipeline`); `verify` rebuilds each one whose
definition hashes to the version its signatures record, and counts as `unchecked` only the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any
from unittest import mock

import pytest
from sqlalchemy import Connection, inspect
from sqlalchemy.orm import Session

from states import Pipeline, default_pipeline, parse_pipeline
from tests.conftest import downgrade, new_info, publish, seed, to_head_approval
from tests.tampering import Raw
from workflow import Workflow, chain, sweep

DEFAULT_TEXT = resources.files("states").joinpath("item.toml").read_text(encoding="utf-8")
# A township's later edit: publishing no longer waits for the head's approval.
LAX = parse_pipeline(DEFAULT_TEXT.replace('role = "publisher"\nrequires = ["approve"]', 'role = "publisher"'))
# Another edit, only a label: a third version.
RELABELLED = parse_pipeline(DEFAULT_TEXT.replace('zh = "草稿"', 'zh = "初稿"'))
NEEDS_APPROVAL = ("clerk cannot sign publish (发布) yet: it needs approve (同意) signed first in this round "
                  "(a signature the pipeline would have refused)")


def stored(url: str) -> dict[str, str]:
    """zwgk_pipeline as {version: definition}."""
    raw = Raw(url)
    try:
        return {version: definition for version, definition in raw.rows("SELECT version, definition "
                                                                         "FROM zwgk_pipeline")}
    finally:
        raw.close()


def both_ways(wf: Workflow) -> chain.Report:
    """verify's report, checked to be the same whether the sweep or the walk gives it."""
    report = wf.verify()
    with mock.patch.object(sweep.Sweep, "run", return_value=None):
        assert wf.verify() == report
    return report


def forge_publish(url: str, item_id: str) -> int:
    """A well-hashed `publish` by the clerk appended to `item_id` (at head approval, not approved), signed
    with the pipeline version of the item's last event; the item row and chain head brought along."""
    raw = Raw(url)
    try:
        cols = ", ".join(chain.FIELDS)
        last = dict(zip(chain.FIELDS, raw.rows(f"SELECT {cols} FROM zwgk_event WHERE item_id = :i "
                                                "ORDER BY seq DESC", i=item_id)[0], strict=True))
        seq, prev = raw.tail()
        row = last | {"seq": seq + 1, "prev_hash": prev, "action": "publish", "from_state": "head_approval",
                      "to_state": "published", "actor": "clerk", "role": "publisher", "comment": None,
                      "reason": None, "ground": None, "decision": None, "recorded_by": None, "paper_sha256": None}
        row["hash"] = chain.event_hash([row[f] for f in chain.FIELDS])
        raw.insert_event(**row)
        raw.set_head(seq + 1, row["hash"])
        version = raw.rows("SELECT version FROM zwgk_item WHERE id = :i", i=item_id)[0][0]
        raw.set_item(item_id, state="published", version=version + 1)
        return seq + 1
    finally:
        raw.close()


@pytest.fixture
def old(db_url: str) -> Iterator[Workflow]:
    """The default pipeline, initialised, with one item published and one waiting for the head's approval."""
    wf = seed(Workflow(db_url))
    new_info(wf, id="P")
    publish(wf, "P")
    new_info(wf, id="W")
    to_head_approval(wf, "W")
    yield wf
    wf.close()


@pytest.fixture
def lax(db_url: str) -> Iterator[Workflow]:
    """The same database opened later with the edited pipeline, without `init`."""
    wf = Workflow(db_url, pipeline=LAX)
    yield wf
    wf.close()


def test_a_definition_is_rebuilt_only_under_the_version_it_hashes_to() -> None:
    p = default_pipeline()
    assert Pipeline.from_definition(p.definition, p.full_version) == p
    assert Pipeline.from_definition(LAX.definition, LAX.full_version) == LAX
    assert Pipeline.from_definition(LAX.definition, p.full_version) is None  # a permissive one slipped in
    assert Pipeline.from_definition(p.definition.replace("主要领导", "领导"), p.full_version) is None
    for garbage in ("", "not json", "[]", "{}", '{"name": 1}', "[" * 100_000):
        assert Pipeline.from_definition(garbage, p.full_version) is None


def test_signatures_of_an_earlier_pipeline_are_judged_by_its_rules(db_url: str, old: Workflow,
                                                                   lax: Workflow) -> None:
    assert stored(db_url) == {old.pipeline.full_version: old.pipeline.definition}  # by init
    lax.advance("W", "publish", actor="clerk")  # what the edit allows
    new_info(lax, id="N")
    assert stored(db_url) == {p.full_version: p.definition for p in (old.pipeline, LAX)}
    for wf in (lax, old):
        report = both_ways(wf)
        assert (report.ok, report.events, report.items, report.unchecked) == (True, 14, 3, 0), report
        assert report.versions == {old.pipeline.full_version: 12, LAX.full_version: 2}  # publish, N's creation
    with Workflow(db_url, pipeline=RELABELLED) as third:
        assert (third.verify().ok, third.verify().unchecked) == (True, 0)


def test_a_forgery_the_earlier_rules_refuse_is_named_under_the_edited_pipeline(db_url: str, old: Workflow,
                                                                              lax: Workflow) -> None:
    seq = forge_publish(db_url, "W")  # signed as the default pipeline, which requires the approval
    new_info(lax, id="N")  # the edited pipeline, under which that publish would be allowed, is current
    report = both_ways(lax)
    assert not report.ok
    assert report.first_problem == f"event {seq}: item W (head_approval (主要领导同意), round 1): {NEEDS_APPROVAL}"


@pytest.mark.parametrize("altered", [LAX.definition, "not json"], ids=["a permissive definition", "garbage"])
def test_an_altered_definition_leaves_its_signatures_unchecked(db_url: str, old: Workflow, lax: Workflow,
                                                               altered: str) -> None:
    forge_publish(db_url, "W")
    new_info(lax, id="N")
    raw = Raw(db_url)
    assert raw.run("UPDATE zwgk_pipeline SET definition = :d WHERE version = :v", d=altered,
                   v=old.pipeline.full_version) == 1
    raw.close()
    report = both_ways(lax)
    # Not judged by the altered rules, and not by the current ones either: said, as before definitions were kept.
    assert (report.ok, report.events, report.unchecked) == (True, 14, 13), report


def test_a_definition_altered_into_bytes_that_are_not_utf8_does_not_stop_verify(sqlite_url: str) -> None:
    with seed(Workflow(sqlite_url)) as wf:
        publish(wf, new_info(wf))
        raw = Raw(sqlite_url)
        raw.run("UPDATE zwgk_pipeline SET definition = CAST(x'ff7b7d' AS TEXT)")
        raw.close()
        with Workflow(sqlite_url, pipeline=LAX) as lax:
            report = both_ways(lax)
        assert (report.ok, report.unchecked) == (True, 7)
        assert wf.verify().unchecked == 0  # the current pipeline needs no stored definition


def store_statements(wf: Workflow) -> tuple[Any, Callable[[], int]]:
    """A patch of wf's statement sender, and a count of the definitions it was asked to store."""
    spy = mock.patch.object(wf._store, "send", wraps=wf._store.send)

    def count(sent: Any) -> int:
        return sum(name == "store_pipeline" for call in sent.call_args_list for name, _ in call.args[1])

    return spy, count


@pytest.mark.parametrize("kind", ["connection", "session"])
def test_a_host_rollback_leaves_the_definition_to_the_next_commit(db_url: str, old: Workflow, lax: Workflow,
                                                                  kind: str) -> None:
    def in_host(commit: bool, sign: Callable[[Connection | Session], object]) -> None:
        with lax.engine.connect() as c:
            host: Connection | Session = c if kind == "connection" else Session(bind=c)
            sign(host)
            host.commit() if commit else host.rollback()

    in_host(False, lambda host: lax.advance("W", "publish", actor="clerk", conn=host))
    assert LAX.full_version not in stored(db_url)
    in_host(False, lambda host: new_info(lax, id="gone", conn=host))
    in_host(True, lambda host: new_info(lax, id="N", conn=host))
    assert stored(db_url)[LAX.full_version] == LAX.definition
    spy, count = store_statements(lax)
    with spy as sent:
        in_host(True, lambda host: lax.advance("N", "submit", actor="clerk", conn=host))
        lax.advance("W", "publish", actor="clerk")
    assert count(sent) == 0  # stored once: the hot path sends nothing more
    with Workflow(db_url, pipeline=RELABELLED) as third:
        report = both_ways(third)
    assert (report.ok, report.events, report.unchecked) == (True, 15, 0), report


def test_the_definition_is_stored_with_the_first_signature_only(db_url: str, old: Workflow,
                                                                lax: Workflow) -> None:
    spy, count = store_statements(lax)
    with spy as sent:
        lax.advance("W", "publish", actor="clerk")
        assert count(sent) == 1
        new_info(lax, id="N")
        lax.edit_item("N", actor="clerk", body="改")
        lax.advance("N", "submit", actor="clerk")
    assert count(sent) == 1
    assert stored(db_url)[LAX.full_version] == LAX.definition


def test_init_twice_and_workflows_storing_the_same_definition_at_once(db_url: str, old: Workflow) -> None:
    lax = [Workflow(db_url, pipeline=LAX) for _ in range(4)]
    failures: list[BaseException] = []

    def catching(fn: Callable[[], object]) -> threading.Thread:
        def run() -> None:
            try:
                fn()
            except BaseException as e:  # reported by the test
                failures.append(e)
        thread = threading.Thread(target=run)
        thread.start()
        return thread

    try:
        lax[0].init()
        lax[0].init()
        # Two inserts of the same row at the same moment: a host transaction holds its own, init waits for it.
        with lax[1].engine.connect() as host:
            new_info(lax[1], id="H", conn=host)
            waiting = catching(lax[2].init)
            waiting.join(0.5)
            host.commit()
        waiting.join(60)
        assert not waiting.is_alive() and failures == []
        start = threading.Barrier(2)

        def sign(wf: Workflow, item_id: str) -> None:
            start.wait(10)
            new_info(wf, id=item_id)
            wf.advance(item_id, "submit", actor="clerk")

        threads = [catching(lambda wf=wf, n=n: sign(wf, f"T{n}")) for n, wf in enumerate(lax[2:])]
        for thread in threads:
            thread.join(60)
        assert failures == []
        assert stored(db_url) == {p.full_version: p.definition for p in (old.pipeline, LAX)}
        report = both_ways(lax[3])
        assert (report.ok, report.items, report.unchecked) == (True, 5, 0), report
    finally:
        for wf in lax:
            wf.close()


def test_upgrading_an_older_database_stores_the_definition(db_url: str, old: Workflow) -> None:
    downgrade(old, "0002")  # before the definitions were kept
    assert "zwgk_pipeline" not in inspect(old.engine).get_table_names()
    old.init()  # the upgrade adds the table and stores the definition
    assert stored(db_url) == {old.pipeline.full_version: old.pipeline.definition}
    old.check_schema()
