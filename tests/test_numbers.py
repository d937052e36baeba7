"""Item numbers per unit and year without gaps: signed in each creation, so `verify` finds a gap, a repeat or a
number of another year; ids made before numbering are kept, and the numbers go on after them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.conftest import downgrade, new_info, seed
from tests.tampering import Raw
from tests.test_authority import raw
from workflow import Workflow, items


@pytest.fixture
def wf(db_url: str) -> Iterator[Workflow]:
    w = seed(Workflow(db_url))
    yield w
    w.close()


def tamper(wf: Workflow, sql: str, **params: object) -> None:
    r: Raw = raw(wf)
    try:
        r.drop_guards()
        r.run(sql, **params)
    finally:
        r.close()


def test_a_number_taken_twice_is_a_verify_failure(wf: Workflow) -> None:
    """The table of last numbers set back behind the engine's back: the next item repeats a number, which verify
    names at the creation that repeats it."""
    new_info(wf)
    new_info(wf)
    tamper(wf, "UPDATE zwgk_item_number SET last = 1")
    again = new_info(wf)
    assert again == "gov-2026-000002.2"  # the id is free; the number is not
    problem = wf.verify().first_problem or ""
    assert problem.endswith(f"item {again} is number 2 of unit gov in 2026, where the next is 3 (numbers run "
                            "without a gap or a repeat) (a signature the rules would have refused)"), problem


def test_a_number_skipped_is_a_verify_failure(wf: Workflow) -> None:
    new_info(wf)
    tamper(wf, "UPDATE zwgk_item_number SET last = 7")
    assert wf.verify().problems == ["unit gov: the last item number of 2026 is 7 in the table, 1 by its chain's "
                                    "creations"]
    skipped = new_info(wf)
    assert skipped == "gov-2026-000008"
    assert "is number 8 of unit gov in 2026, where the next is 2" in (wf.verify().first_problem or "")


def forge_creation(wf: Workflow, item_id: str, data: str | None) -> str:
    r: Raw = raw(wf)
    try:
        r.drop_guards()
        seq = r.append_forged(case_id=item_id, data=data)["seq"]
    finally:
        r.close()
    problem = wf.verify().first_problem or ""
    assert problem.startswith(f"chain gov event {seq}: "), problem
    return problem


def test_a_forged_creation_must_carry_the_next_number_of_its_year_and_its_id_must_say_it(wf: Workflow) -> None:
    new_info(wf)  # its creation is the chain's last event, which the forger copies
    assert "where the next is 2" in forge_creation(wf, "gov-2026-000005", '{"number":5,"year":2026}')


@pytest.mark.parametrize("item_id, data, problem", [
    ("gov-2031-000001", '{"number":1,"year":2031}', "numbered in 2031, which is not the year anywhere"),
    ("gov-2026-000009", '{"number":2,"year":2026}', "which its id does not say"),
    ("gov-2026-000002", '{"number":2}', "data no signature writes"),
    ("gov-2026-000002", '{"number":"2","year":2026}', "data no signature writes"),
])
def test_a_creations_number_is_checked(swf: Workflow, item_id: str, data: str, problem: str) -> None:
    new_info(swf)
    assert problem in forge_creation(swf, item_id, data)


def test_a_chosen_id_in_the_numbers_form_after_numbering_began_is_a_verify_failure(swf: Workflow) -> None:
    new_info(swf)
    assert "has the form of the numbers the engine gives" in forge_creation(swf, "gov-2026-000002", None)


def test_verify_since_a_digest_checks_the_numbers_after_it(wf: Workflow) -> None:
    new_info(wf)
    digest = wf.digest()
    new_info(wf)
    new_info(wf)
    assert wf.verify(since=digest).ok
    tamper(wf, "UPDATE zwgk_item_number SET last = 1")
    new_info(wf)
    assert "where the next is 4" in (wf.verify(since=digest).first_problem or "")


def test_ids_made_before_numbering_are_kept_and_numbers_go_on_after_them(sqlite_url: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A database of the release before: ids numbered by the chain's seq (gaps and all). The upgrade keeps them,
    and each unit's numbers of a year go on after the highest; verify accepts the old ids as they were."""
    now = [datetime(2025, 12, 1, 2, 0, tzinfo=UTC)]
    with seed(Workflow(sqlite_url, clock=lambda: now[0])) as wf:
        monkeypatch.setattr(items, "chosen_id", lambda unit, item_id: None)  # the old engine made such ids
        old = [new_info(wf, id=i) for i in ("gov-2025-000016", "gov-2025-000017")]
        now[0] = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
        old += [new_info(wf, id=i) for i in ("gov-2026-000018", "gov-2026-000020", "chosen")]
        monkeypatch.undo()
        downgrade(wf, "0102")  # the schema before numbering, with what it held
        wf.init()
        assert [new_info(wf), new_info(wf)] == ["gov-2026-000021", "gov-2026-000022"]
        now[0] = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
        assert {i.id for i in wf.items()} == {*old, "gov-2026-000021", "gov-2026-000022"}
        report = wf.verify()
        assert report.ok, report.problems
        with wf.engine.connect() as c:
            assert sorted(c.exec_driver_sql("SELECT unit_id, year, last FROM zwgk_item_number")) == [
                ("gov", 2025, 17), ("gov", 2026, 22)]
