"""A draft is its drafter's (谁提供、谁负责): only they edit and submit it, and it changes hands by a signed
`reassign`, by its drafter or by the leader in charge. `verify` holds every event to the same rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from states import parse_pipeline
from tests.cli_helpers import isolate, ok_json, one_error_line, run
from tests.conftest import ADMIN, new_info, seed
from tests.tampering import Raw
from tests.test_authority import ITEM_TOML, assert_refused_and_nothing_written, raw
from workflow import (
    AdoptionRefused,
    InputMissing,
    NotDrafter,
    NotEditable,
    NotFound,
    RoleMissing,
    SignerInactive,
    Workflow,
)


@pytest.fixture
def wf(db_url: str) -> Iterator[Workflow]:
    w = seed(Workflow(db_url))
    yield w
    w.close()


def test_another_drafter_may_neither_edit_nor_submit_a_draft(wf: Workflow) -> None:
    item = new_info(wf)  # clerk's
    for person in ("drafter2", "multi"):  # both hold the drafter role in gov
        assert_refused_and_nothing_written(wf, NotDrafter, "is the draft of clerk; .* cannot edit it",
                                           wf.edit_item, item, actor=person, body="改写")
        assert_refused_and_nothing_written(wf, NotDrafter, "is the draft of clerk; .* cannot submit it",
                                           wf.advance, item, "submit", actor=person)
        assert wf.actions_for(item, person) == []
    assert [a.id for a in wf.actions_for(item, "clerk")] == ["submit"]


def test_a_draft_changes_hands_by_a_signed_reassign(wf: Workflow) -> None:
    item = new_info(wf)
    sig = wf.reassign(item, to="drafter2", actor="clerk", comment="休假")
    assert (sig.action, sig.actor, sig.role, sig.from_state, sig.to_state, sig.round) == (
        "reassign", "clerk", "drafter", "draft", "draft", 1)
    assert (sig.data, sig.comment) == ({"to": "drafter2"}, "休假")
    assert (wf.item(item).drafter, wf.item(item).version) == ("drafter2", 2)
    assert_refused_and_nothing_written(wf, NotDrafter, "draft of drafter2; clerk cannot edit", wf.edit_item, item,
                                       actor="clerk", body="改写")
    wf.edit_item(item, actor="drafter2", body="改写")
    wf.advance(item, "submit", actor="drafter2")
    assert [s.action for s in wf.history(item)] == ["create", "reassign", "edit", "submit"]
    assert wf.verify().ok


def test_the_leader_in_charge_hands_on_the_draft_of_a_drafter_who_left(wf: Workflow) -> None:
    item = new_info(wf)
    wf.deactivate("clerk", by=ADMIN)
    for person in ("drafter2", "proof", "head"):
        assert_refused_and_nothing_written(wf, NotDrafter, "only they or a holder of the role leader may reassign",
                                           wf.reassign, item, to="drafter2", actor=person)
    sig = wf.reassign(item, to="drafter2", actor="lead", reason="经办人调离")
    assert (sig.actor, sig.role, sig.reason) == ("lead", "leader", "经办人调离")
    wf.advance(item, "submit", actor="drafter2")
    assert wf.verify().ok


def test_a_draft_goes_only_to_an_active_drafter_of_its_unit_and_only_as_a_draft(wf: Workflow) -> None:
    item = new_info(wf)
    assert_refused_and_nothing_written(wf, RoleMissing, "proof does not hold the role drafter", wf.reassign, item,
                                       to="proof", actor="clerk")
    assert_refused_and_nothing_written(wf, InputMissing, "is the draft of clerk already", wf.reassign, item,
                                       to="clerk", actor="lead")
    assert_refused_and_nothing_written(wf, NotFound, "no person 'nobody'", wf.reassign, item, to="nobody",
                                       actor="clerk")
    wf.deactivate("drafter2", by=ADMIN)
    assert_refused_and_nothing_written(wf, SignerInactive, "drafter2 is not an active person", wf.reassign, item,
                                       to="drafter2", actor="clerk")
    wf.advance(item, "submit", actor="clerk")
    assert_refused_and_nothing_written(wf, NotEditable, "only a draft changes hands", wf.reassign, item, to="multi",
                                       actor="clerk")


def test_the_drafters_duties_go_with_the_draft(wf: Workflow) -> None:
    item = new_info(wf)
    (proactive,) = wf.deadlines(item=item)
    assert proactive.responsible == "clerk"
    wf.reassign(item, to="drafter2", actor="clerk")
    assert [d.responsible for d in wf.deadlines(item=item)] == ["drafter2"]


def test_reassign_is_the_engines_own_step(wf: Workflow) -> None:
    """Not an action a pipeline file may declare, nor one `advance` signs."""
    text = ITEM_TOML.read_text(encoding="utf-8").replace('id = "submit"', 'id = "reassign"')
    with pytest.raises(ValueError, match="'reassign' is the engine's own"):
        parse_pipeline(text)
    with pytest.raises(InputMissing, match="reassign is not a step of the pipeline"):
        wf.advance(new_info(wf), "reassign", actor="clerk")


def test_a_pipeline_cannot_drop_the_drafters_rule_nor_the_one_who_reassigns(wf: Workflow) -> None:
    """The rule is the engine's, for every pipeline: a unit's own pipeline without separation of duties still keeps
    one drafter's draft from another; and a pipeline with no leader in charge, who hands on a stuck draft, is
    refused."""
    lax = parse_pipeline(ITEM_TOML.read_text(encoding="utf-8").replace(
        'distinct = ["submit", "proofread", "clear", "check", "approve"]', 'distinct = ["proofread", "clear"]'))
    wf.adopt_pipeline("gov", lax, by=ADMIN)
    item = new_info(wf)
    assert_refused_and_nothing_written(wf, NotDrafter, "draft of clerk", wf.advance, item, "submit", actor="multi")
    leaderless = ITEM_TOML.read_text(encoding="utf-8").replace('id = "leader"', 'id = "chief"')
    leaderless = leaderless.replace('role = "leader"', 'role = "chief"')
    assert_refused_and_nothing_written(wf, AdoptionRefused, "lacks the role 'leader', who may hand on a draft",
                                       wf.adopt_pipeline, "gov", parse_pipeline(leaderless), by=ADMIN)


# -- verify holds every event to the rule ---------------------------------------------------------------------


def forge(wf: Workflow, **values: object) -> int:
    """Append a forged event to gov's chain (a copy of its last, with `values`); returns its seq."""
    r: Raw = raw(wf)
    try:
        r.drop_guards()
        return int(r.append_forged(**values)["seq"])
    finally:
        r.close()


def test_verify_fails_an_edit_by_another_drafter_forged_into_the_chain(wf: Workflow) -> None:
    item = new_info(wf)
    seq = forge(wf, action="edit", from_state="draft", to_state="draft", actor="drafter2", data=None, comment=None)
    problem = wf.verify().first_problem or ""
    assert problem == (f"chain gov event {seq}: item {item} is the draft of clerk; drafter2 cannot edit it (it "
                       "changes hands by reassign) (a signature the rules would have refused)"), problem


def test_verify_fails_a_reassign_forged_by_someone_who_may_not(wf: Workflow) -> None:
    item = new_info(wf)
    seq = forge(wf, action="reassign", from_state="draft", to_state="draft", actor="drafter2", role="drafter",
                data='{"to":"drafter2"}', comment=None)
    problem = wf.verify().first_problem or ""
    assert problem.startswith(f"chain gov event {seq}: item {item} is the draft of clerk; only they or a holder "
                              "of the role leader may reassign it, not drafter2"), problem


def test_verify_fails_a_reassign_that_names_nobody(wf: Workflow) -> None:
    new_info(wf)
    seq = forge(wf, action="reassign", from_state="draft", to_state="draft", actor="clerk", role="drafter",
                data=None, comment=None)
    assert (wf.verify().first_problem or "").startswith(f"chain gov event {seq}: a link note naming no other copy, "
                                                        "or data no signature writes")


def test_verify_follows_a_reassign_made_before_a_since_digest(wf: Workflow) -> None:
    item = new_info(wf)
    wf.reassign(item, to="drafter2", actor="clerk")
    digest = wf.digest()
    wf.edit_item(item, actor="drafter2", body="改写")
    report = wf.verify(since=digest)
    assert report.ok, report.problems


# -- the CLI ---------------------------------------------------------------------------------------------------


def test_cli_reassign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    isolate(monkeypatch, tmp_path)
    path = tmp_path / "zwgk.db"
    with seed(Workflow(f"sqlite:///{path}")) as w:
        item = new_info(w)
    monkeypatch.setenv("ZWGK_DATABASE_URL", f"sqlite:///{path}")
    sig = ok_json(capsys, "advance", item, "reassign", "--to", "drafter2", "--as", "clerk", "--comment", "休假")
    assert (sig["action"], sig["actor"], sig["data"]) == ("reassign", "clerk", {"to": "drafter2"})
    rc, _, err = run(capsys, "advance", item, "reassign", "--as", "drafter2")
    assert rc != 0 and "a reassign needs it" in one_error_line(err)
    rc, _, err = run(capsys, "advance", item, "submit", "--to", "clerk", "--as", "drafter2")
    assert rc != 0 and "--to names the drafter of a reassign" in one_error_line(err)
    rc, _, err = run(capsys, "advance", item, "submit", "--as", "clerk")
    assert rc != 0 and "is the draft of drafter2; clerk cannot submit it" in one_error_line(err)
