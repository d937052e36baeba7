"""Pipelines adopted over time: each signature is judged by the pipeline its unit had adopted at that event; a
definition is trusted only if it hashes to the fingerprint its adoption signed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from states import Pipeline, parse_pipeline
from tests.conftest import ADMIN, new_info, publish, seed, to_head_approval
from tests.tampering import Raw
from workflow import NotAuthorised, Workflow

ITEM_TOML = (Path(__file__).parent.parent / "states" / "item.toml").read_text(encoding="utf-8")
# A township that lets the head publish without a separate approval (fewer people): the head still signs first.
QUICK = parse_pipeline(ITEM_TOML.replace('version = "2019.1"', 'version = "2026.1"')
                       .replace('requires = ["approve"]', 'requires = []')
                       .replace('role = "publisher"\nrequires = []', 'role = "head"\nrequires = []'))


def raw(wf: Workflow) -> Raw:
    return Raw(wf.engine.url.render_as_string(hide_password=False))


@pytest.fixture
def adopted(db_url: str) -> Iterator[Workflow]:
    """Item P published under the built-in pipeline; then gov adopts QUICK, and W is published under it."""
    wf = seed(Workflow(db_url))
    publish(wf, new_info(wf, id="P"))
    wf.adopt_pipeline("gov", QUICK, by=ADMIN)
    to_head_approval(wf, new_info(wf, id="W"))
    wf.advance("W", "publish", actor="head")
    yield wf
    wf.close()


def test_a_definition_is_rebuilt_only_under_the_fingerprint_it_hashes_to() -> None:
    assert Pipeline.from_definition(QUICK.definition, QUICK.fingerprint) == QUICK
    assert Pipeline.from_definition(QUICK.definition, "0" * 64) is None
    assert Pipeline.from_definition(QUICK.definition.replace("head", "lead"), QUICK.fingerprint) is None
    assert Pipeline.from_definition("not json", QUICK.fingerprint) is None


def test_the_quick_pipeline_still_needs_the_reviewer_and_the_head() -> None:
    from states.kinds import ITEM, unreviewed_path

    assert unreviewed_path(QUICK, ITEM) is None


def test_each_signature_is_judged_by_the_pipeline_in_force_at_its_event(adopted: Workflow) -> None:
    builtin = adopted.history("P")[-1].pipeline
    assert {s.pipeline for s in adopted.history("P")} == {builtin}
    assert adopted.history("W")[-1].pipeline == QUICK.fingerprint != builtin
    assert adopted.verify().ok


def test_a_step_the_old_pipeline_refused_is_named_even_after_a_newer_allows_it(adopted: Workflow) -> None:
    """A publish without approval, forged under the built-in pipeline (which refuses it) is caught though the
    unit's pipeline now allows it: each event is judged by the pipeline its unit had then."""
    to_head_approval(adopted, new_info(adopted, id="X"))
    r = raw(adopted)
    try:
        r.drop_guards()
        old = adopted.history("P")[-1].pipeline
        last = adopted.history("X")[-1]
        seq = r.append_forged(case_id="X", action="publish", from_state="head_approval", to_state="published",
                              actor="head", role="head", round=last.round, pipeline=old, data=None,
                              content_hash=last.content_hash, comment=None, register_seq=last.register_seq)["seq"]
        r.set_case("X", state="published", version=6)
    finally:
        r.close()
    assert adopted.verify().first_problem == (f"chain gov event {seq}: signed under pipeline {old[:12]}, not the one "
                                              "unit gov had adopted for items then")


def test_an_altered_definition_cannot_judge_and_fails(adopted: Workflow) -> None:
    r = raw(adopted)
    try:
        r.drop_guards()
        r.run("UPDATE zwgk_pipeline SET definition = replace(definition, '\"head\"', '\"lead\"') "
              "WHERE fingerprint = :f", f=QUICK.fingerprint)
    finally:
        r.close()
    problem = Workflow(adopted.engine.url.render_as_string(hide_password=False)).verify().first_problem or ""
    assert problem.startswith("chain gov event "), problem
    assert f"no stored pipeline definition hashes to {QUICK.fingerprint[:12]}" in problem, problem


def test_a_definition_altered_into_bytes_that_are_not_utf8_does_not_stop_verify(sqlite_url: str) -> None:
    wf = seed(Workflow(sqlite_url))
    try:
        wf.adopt_pipeline("gov", QUICK, by=ADMIN)
        r = raw(wf)
        try:
            r.drop_guards()
            r.run("UPDATE zwgk_pipeline SET definition = CAST(X'C3FF' AS TEXT) WHERE fingerprint = :f",
                  f=QUICK.fingerprint)
        finally:
            r.close()
        report = Workflow(sqlite_url).verify()
        assert not report.ok and "no stored pipeline definition hashes to" in (report.first_problem or "")
    finally:
        wf.close()


def test_an_adoption_rolled_back_with_the_host_leaves_nothing(db_url: str) -> None:
    wf = seed(Workflow(db_url))
    try:
        before = wf.pipeline_in_force("gov")
        with wf.engine.connect() as conn:
            tx = conn.begin()
            wf.adopt_pipeline("gov", QUICK, by=ADMIN, conn=conn)
            tx.rollback()
        assert wf.pipeline_in_force("gov") == before
        r = raw(wf)
        try:
            assert r.rows("SELECT count(*) FROM zwgk_pipeline WHERE fingerprint = :f", f=QUICK.fingerprint) == [(0,)]
        finally:
            r.close()
        wf.adopt_pipeline("gov", QUICK, by=ADMIN)
        assert wf.verify().ok
    finally:
        wf.close()


def test_adopting_the_pipeline_in_force_again_is_refused(adopted: Workflow) -> None:
    with pytest.raises(NotAuthorised, match="has this pipeline in force already"):
        adopted.adopt_pipeline("gov", QUICK, by=ADMIN)


def test_two_units_adopting_the_same_definition_at_once_store_it_once(db_url: str) -> None:
    wf = seed(Workflow(db_url))
    try:
        for unit in ("fin", "civil"):
            wf.add_unit(unit, name=unit, kind="station", by=ADMIN)
        others = [Workflow(db_url) for _ in range(2)]
        errors: list[Exception] = []
        go = threading.Barrier(2)

        def adopt(other: Workflow, unit: str) -> None:
            go.wait()
            try:
                other.adopt_pipeline(unit, QUICK, by=ADMIN)
            except Exception as e:  # collected for the assertion below
                errors.append(e)

        threads = [threading.Thread(target=adopt, args=(o, u)) for o, u in zip(others, ("fin", "civil"), strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for o in others:
            o.close()
        assert errors == []
        assert wf.pipeline_in_force("fin") == wf.pipeline_in_force("civil") == QUICK
        assert wf.verify().ok
    finally:
        wf.close()
