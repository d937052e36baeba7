"""Withheld is not forever (Regulation Art. 18, 15; issue 14): a withheld item's review falls due
`withheld_review_months` after it was withheld or last confirmed; the confidentiality reviewer confirms it, on a
ground, or reopens it, with a decision and a reason, back to its drafter and through the whole review again.

On SQLite and PostgreSQL. The office's day starts as Wed 30 Sep 2026; 2027 is not known to the calendar package,
so its dates are provisional (Mon-Fri less 1 Jan, 1-2 May and 1-3 Oct).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from states import default_pipeline, parse_pipeline
from states.errors import ActionNotAvailable, InputMissing, PrerequisiteMissing, RoleMissing
from states.kinds import ITEM, LAW, OpenCase, check_adoptable, unreviewed_path
from tests.cli_helpers import isolate, ok, ok_json, one_error_line, run
from tests.clocking import sh
from tests.conftest import ADMIN, new_info
from workflow import Workflow
from workflow.config import parse
from workflow.deadlines import WITHHELD, Facts, Open, Rules
from workflow.duties import Deadline
from workflow.errors import AlreadyExists, InvalidInput
from workflow.periods import add_months
from workflow.reminders import Planner, build_channels

# The built-in item pipeline as it was before its review steps: units added before adopted it.
BEFORE = Path(__file__).parent / "data" / "item-before-review.toml"
REOPENINGS = [("changed", "情势变化，该信息已可公开（条例第十八条）"),
              ("consent", "第三方书面同意公开（条例第十五条）"),
              ("public_interest", "不公开会对公共利益造成重大影响（条例第十五条）")]


@pytest.fixture
def wf(make: Callable[..., Workflow]) -> Workflow:
    return make()


def withheld(wf: Workflow, **kw: object) -> str:
    i = new_info(wf, **kw)
    wf.advance(i, "submit", actor="clerk")
    wf.advance(i, "withhold", actor="sec", ground="art15", reason="涉及个人隐私")
    return i


def reviews(wf: Workflow, item: str) -> dict[str, Deadline]:
    return {d.key: d for d in wf.deadlines(item=item) if d.kind == "withheld_review"}


def live(wf: Workflow, item: str) -> list[str]:
    return [d.key for d in wf.deadlines(item=item) if d.status in ("open", "overdue")]


def seq_of(wf: Workflow, item: str, action: str) -> str:
    found = [s for s in wf.history(item) if s.action == action][-1]
    return f"{found.chain}:{found.seq}"


# -- the deadline --------------------------------------------------------------------------------------------


def test_withholding_opens_a_review_due_twelve_months_on(wf: Workflow) -> None:
    i = withheld(wf)
    (review,) = reviews(wf, i).values()
    assert review.key == f"withheld_review:{i}:1"
    # Thu 30 Sep 2027: a working day, in a year whose schedule is not published yet
    assert (review.starts_on, review.days, review.due_on, review.provisional) == (date(2027, 9, 30), None,
                                                                                  date(2027, 9, 30), True)
    # whoever may sign the review in the item's unit is reminded: not a person who may have left or changed roles
    assert (review.responsible, review.roles, review.unit, review.status) == (None, ("confidentiality_reviewer",),
                                                                              "gov", "open")
    assert live(wf, i) == [review.key]  # the duty to publish is cancelled (tests/test_deadlines.py)


def test_a_review_due_on_a_rest_day_falls_on_the_next_working_day(wf: Workflow, now: list[datetime]) -> None:
    now[0] = sh(2026, 10, 10)  # the working Saturday: a year on is Sun 10 Oct 2027
    i = withheld(wf)
    (review,) = reviews(wf, i).values()
    assert (review.starts_on, review.due_on) == (date(2027, 10, 10), date(2027, 10, 11))


@settings(max_examples=8, deadline=None)
@given(months=st.integers(1, 60))
def test_the_interval_comes_from_the_configuration(months: int) -> None:
    """Pure: the rules open the review `months` after the day the item was withheld, and only where the
    pipeline has a step to review it with."""
    config = parse({"deadlines": {"withheld_review_months": months}})
    facts = Facts("i1", "标题", "info", "periodic", None, "clerk", "gov", None, None, None)
    ops = Rules(config, default_pipeline()).on_step(facts, "confidentiality_review", WITHHELD, date(2026, 8, 31),
                                                   role="confidentiality_reviewer", round=3)
    opened = [op for op in ops if isinstance(op, Open)]
    assert opened == [Open("withheld_review:i1:3", "withheld_review", "标题", add_months(date(2026, 8, 31), months),
                           None, item_id="i1", roles=("confidentiality_reviewer",), unit="gov")]
    before = parse_pipeline(BEFORE.read_text(encoding="utf-8"))
    assert not any(isinstance(op, Open) for op in Rules(config, before).on_step(
        facts, "confidentiality_review", WITHHELD, date(2026, 8, 31), role="confidentiality_reviewer"))


def test_six_monthly_reviews(make: Callable[..., Workflow]) -> None:
    wf = make(parse({"deadlines": {"withheld_review_months": 6}}))
    i = withheld(wf)
    assert reviews(wf, i)[f"withheld_review:{i}:1"].due_on == date(2027, 3, 30)


# -- confirm -------------------------------------------------------------------------------------------------


def test_confirming_closes_the_review_and_opens_the_next(wf: Workflow, now: list[datetime]) -> None:
    i = withheld(wf)
    now[0] = sh(2027, 9, 20)
    wf.advance(i, "confirm", actor="sec", ground="art15", reason="第三方仍不同意公开")
    assert (wf.item(i).state, wf.item(i).round) == ("withheld", 2)
    first, second = reviews(wf, i)[f"withheld_review:{i}:1"], reviews(wf, i)[f"withheld_review:{i}:2"]
    assert (first.status, first.closed_by) == ("met", seq_of(wf, i, "confirm"))
    assert (second.status, second.starts_on, second.due_on) == ("open", date(2028, 9, 20), date(2028, 9, 20))
    # a year later, another reviewer confirms again, on another ground: each review is a round of its own
    now[0] = sh(2028, 9, 19)
    wf.advance(i, "confirm", actor="multi", ground="art14", reason="仍涉及国家秘密")
    assert wf.item(i).round == 3
    assert [d.key for d in wf.deadlines(item=i) if d.status == "open"] == [f"withheld_review:{i}:3"]
    signed = [(s.action, s.actor, s.ground) for s in wf.history(i) if s.action == "confirm"]
    assert signed == [("confirm", "sec", "art15"), ("confirm", "multi", "art14")]
    assert wf.verify().ok


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"reason": "仍涉及个人隐私"}, "needs a legal ground, one of: art14, art15, art16"),
    ({"ground": "art15"}, "needs a reason"),
    ({"ground": "art15", "reason": "  "}, "needs a reason"),
    ({"ground": "art15", "reason": "x", "decision": "consent"}, "takes no decision"),
])
def test_a_confirmation_states_its_ground_and_reason(wf: Workflow, kwargs: dict[str, str], words: str) -> None:
    i = withheld(wf)
    said = f"(withheld (不予公开), round 1): confirm (确认不予公开) by sec {words}"
    with pytest.raises(InputMissing, match=re.escape(said)):
        wf.advance(i, "confirm", actor="sec", ground=kwargs.get("ground"), reason=kwargs.get("reason"),
                   decision=kwargs.get("decision"))
    assert (wf.item(i).state, wf.item(i).version, live(wf, i)) == ("withheld", 3, [f"withheld_review:{i}:1"])


def test_only_a_confidentiality_reviewer_reviews(wf: Workflow) -> None:
    i = withheld(wf)
    for action, ground, decision in (("confirm", "art15", None), ("reopen", None, "consent")):
        with pytest.raises(RoleMissing, match=f"head does not hold the role confidentiality_reviewer .* {action}"):
            wf.advance(i, action, actor="head", reason="x", ground=ground, decision=decision)
    assert wf.item(i).state == "withheld"


def test_review_by_hand_is_refused(wf: Workflow) -> None:
    """The review is a signature with its ground (确认不予公开), not a deadline ticked off."""
    i = withheld(wf)
    review = reviews(wf, i)[f"withheld_review:{i}:1"]
    with pytest.raises(InvalidInput, match=f"deadline {review.id} \\(withheld_review\\) is met by signing the item"):
        wf.complete_deadline(review.id, by="sec", note="已复核")


# -- reopen --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("decision", "reason"), REOPENINGS)
def test_reopening_returns_the_item_to_its_drafter_for_the_whole_review(wf: Workflow, now: list[datetime],
                                                                       decision: str, reason: str) -> None:
    i = withheld(wf)
    now[0] = sh(2027, 3, 15)
    wf.advance(i, "reopen", actor="sec", decision=decision, reason=reason)
    item = wf.item(i)
    assert (item.state, item.round, item.drafter) == ("draft", 2, "clerk")
    review = reviews(wf, i)[f"withheld_review:{i}:1"]
    assert (review.status, review.closed_by) == ("met", seq_of(wf, i, "reopen"))
    assert live(wf, i) == []
    (signed,) = [s for s in wf.history(i) if s.action == "reopen"]
    assert (signed.actor, signed.decision, signed.reason) == ("sec", decision, reason)

    # 先审查、后公开: nothing of the first round counts; every review is signed again
    with pytest.raises(ActionNotAvailable):
        wf.advance(i, "publish", actor="clerk")
    wf.edit_item(i, actor="clerk", title="2026年第三季度财务收支（经第三方同意公开）")  # a draft again: its drafter's
    wf.advance(i, "submit", actor="clerk")
    with pytest.raises(PrerequisiteMissing, match="needs proofread"):
        wf.advance(i, "clear", actor="sec", decision="full")
    with pytest.raises(ActionNotAvailable):
        wf.advance(i, "check", actor="lead")
    wf.advance(i, "proofread", actor="proof")
    wf.advance(i, "clear", actor="sec", decision="full")
    wf.advance(i, "check", actor="lead")
    with pytest.raises(PrerequisiteMissing, match="needs approve"):
        wf.advance(i, "publish", actor="clerk")
    wf.advance(i, "approve", actor="head")
    wf.advance(i, "publish", actor="clerk")
    assert wf.item(i).state == "published"
    round_two = [s.action for s in wf.history(i) if s.round == 2]
    assert round_two == ["reopen", "edit", "submit", "proofread", "clear", "check", "approve", "publish"]
    assert live(wf, i) == []
    assert wf.verify().ok


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"decision": "consent"}, "reopen \\(重新审查\\) by sec needs a reason"),
    ({"decision": "consent", "reason": " "}, "reopen \\(重新审查\\) by sec needs a reason"),
    ({"reason": "第三方同意"}, "needs a decision, one of: changed, consent, public_interest"),
    ({"decision": "lapsed", "reason": "x"}, "needs a decision, one of: changed, consent, public_interest"),
    ({"decision": "consent", "reason": "x", "ground": "art15"}, "takes no legal ground"),
])
def test_a_reopening_without_its_decision_and_reason_is_refused(wf: Workflow, kwargs: dict[str, str],
                                                                words: str) -> None:
    i = withheld(wf)
    with pytest.raises(InputMissing, match=words):
        wf.advance(i, "reopen", actor="sec", ground=kwargs.get("ground"), reason=kwargs.get("reason"),
                   decision=kwargs.get("decision"))
    assert (wf.item(i).state, live(wf, i)) == ("withheld", [f"withheld_review:{i}:1"])


def test_a_reopened_item_withheld_again_is_reviewed_again(wf: Workflow, now: list[datetime]) -> None:
    i = withheld(wf)
    wf.advance(i, "reopen", actor="sec", decision="changed", reason="情势变化")
    wf.advance(i, "submit", actor="clerk")
    now[0] = sh(2026, 11, 2)
    wf.advance(i, "withhold", actor="multi", ground="art16", reason="仍属过程性信息")
    assert live(wf, i) == [f"withheld_review:{i}:2"]
    assert reviews(wf, i)[f"withheld_review:{i}:2"].due_on == date(2027, 11, 2)


# -- the law: adoption checks --------------------------------------------------------------------------------


def test_the_built_in_pipeline_keeps_the_review_before_the_public() -> None:
    p = default_pipeline()
    check_adoptable(p)
    assert ITEM.final[WITHHELD] == frozenset({"draft"})
    # an item withheld after every review of its round, even its head's approval: that review no longer stands
    everything = OpenCase(WITHHELD, frozenset(a.id for a in p.actions), frozenset(r.id for r in p.roles))
    assert unreviewed_path(p, ITEM, [everything]) is None
    check_adoptable(p, [everything], law=LAW)


def test_adopting_the_review_steps_over_items_withheld_before(make: Callable[..., Workflow],
                                                              now: list[datetime]) -> None:
    """A unit on the pipeline of before: its withheld items get no review (no step could meet it); once it adopts
    the built-in pipeline again, a confirmation starts their cycle. Its chain verifies throughout."""
    wf = make()
    before = parse_pipeline(BEFORE.read_text(encoding="utf-8"))
    wf.adopt_pipeline("gov", before, by=ADMIN)
    i = withheld(wf)
    assert reviews(wf, i) == {}
    with pytest.raises(ActionNotAvailable, match="possible: none"):
        wf.advance(i, "confirm", actor="sec", ground="art15", reason="x")
    assert wf.adopt_pipeline("gov", default_pipeline(), by=ADMIN) == default_pipeline().fingerprint
    now[0] = sh(2026, 12, 1)
    wf.advance(i, "confirm", actor="sec", ground="art15", reason="仍涉及个人隐私")
    assert live(wf, i) == [f"withheld_review:{i}:2"]
    assert reviews(wf, i)[f"withheld_review:{i}:2"].due_on == date(2027, 12, 1)
    assert wf.verify().ok


def test_the_frozen_file_is_the_built_in_pipeline_of_before() -> None:
    before = parse_pipeline(BEFORE.read_text(encoding="utf-8"))
    assert before.fingerprint == "498cef0a37bcfd92a970cd87ba03fbd3e3fe925077f68f028468154f9794c516"
    assert before.actions_from(WITHHELD) == []
    added = [a.id for a in default_pipeline().actions if a not in before.actions]
    assert added == ["override", *(a.id for a in default_pipeline().actions_from(WITHHELD))]  # issue 14's steps


# -- reminders -----------------------------------------------------------------------------------------------


def test_the_daemon_reminds_the_reviewers_before_and_escalates_after(wf: Workflow, now: list[datetime]) -> None:
    i = withheld(wf)
    review = reviews(wf, i)[f"withheld_review:{i}:1"]
    planner = Planner(wf.engine, wf.config, build_channels(wf.config))
    assert planner.plan(sh(2027, 9, 28, 9)) == []  # two working days before: not yet
    before = [p for p in planner.plan(sh(2027, 9, 29, 9)) if p.deadline_id == review.id]
    assert sorted(p.recipient for p in before) == ["multi", "sec"]  # who holds the role in gov
    assert {p.step for p in before} == {"before1"}
    assert "不予公开复核" in before[0].subject and i in before[0].subject
    assert "确认不予公开（confirm，附依据和理由）或重新审查（reopen）" in before[0].text
    assert "收入" not in before[0].text  # never the body
    late = [p for p in planner.plan(sh(2027, 10, 4, 9)) if p.deadline_id == review.id]  # 1 Oct rests: 1 day late
    assert {(p.step, p.recipient) for p in late} == {("overdue1", "sec"), ("overdue1", "multi"),
                                                      ("overdue1", "lead")}  # the leader in charge is told too
    assert [p.subject.startswith("【督办】") for p in late if p.recipient == "lead"] == [True]
    now[0] = sh(2027, 10, 5)
    wf.advance(i, "confirm", actor="sec", ground="art15", reason="仍涉及个人隐私")
    assert [p for p in planner.plan(sh(2027, 10, 6, 9)) if p.deadline_id == review.id] == []


# -- the command line ----------------------------------------------------------------------------------------


def test_the_commands(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                      make: Callable[..., Workflow], db_url: str) -> None:
    wf = make()
    i = withheld(wf)
    j = withheld(wf)
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("ZWGK_DATABASE_URL", db_url)
    monkeypatch.setenv("ZWGK_NOW", "2027-09-01T10:00:00+08:00")
    listed = ok(capsys, "deadlines", "--item", i, "--lang", "zh")
    assert "不予公开复核" in listed and "confidentiality_reviewer" in listed
    assert [(d["kind"], d["kind_zh"]) for d in ok_json(capsys, "deadlines", "--item", i, "--status", "open")] == [
        ("withheld_review", "不予公开复核")]
    shown = ok(capsys, "item", "show", i)
    assert "confirm (确认不予公开) -> withheld (不予公开) by confidentiality_reviewer: multi, sec" in shown
    assert "reopen (重新审查) -> draft (草稿) by confidentiality_reviewer: multi, sec" in shown

    ok(capsys, "advance", i, "confirm", "--ground", "art15", "--reason", "第三方仍不同意", "--as", "sec")
    assert ok_json(capsys, "item", "show", i)["round"] == 2
    assert [d["due_on"] for d in ok_json(capsys, "deadlines", "--item", i, "--status", "open")] == ["2028-09-01"]

    rc, out, err = run(capsys, "advance", j, "reopen", "--reason", "第三方同意", "--as", "sec")
    assert (rc, out) == (2, "")
    assert "needs a decision, one of: changed, consent, public_interest" in one_error_line(err)
    rc, _, err = run(capsys, "advance", j, "reopen", "--decision", "consent", "--reason", "第三方同意", "--as", "sec",
                     "--lang", "zh")
    assert rc == 0, err
    shown_j = ok_json(capsys, "item", "show", j)
    assert (shown_j["state"], shown_j["round"]) == ("draft", 2)
    assert ok_json(capsys, "deadlines", "--item", j, "--status", "open") == []
    ok(capsys, "verify")  # exit 0: every chain and adoption verifies


def test_a_withheld_annual_report_is_not_reopened_beside_the_one_filed_since(wf: Workflow) -> None:
    """Art. 49: one annual report a year. Withheld, another may be filed; the first may then not come back beside it."""
    kw = {"schedule": "annual-report", "period": "2025", "category": "6", "title": "2025年政府信息公开工作年度报告"}
    first = withheld(wf, **kw)
    second = new_info(wf, **kw)
    with pytest.raises(AlreadyExists, match=f"already: item {second}"):
        wf.advance(first, "reopen", actor="sec", decision="changed", reason="重新公开")
    assert wf.item(first).state == "withheld"
    wf.advance(second, "submit", actor="clerk")
    wf.advance(second, "withhold", actor="sec", ground="art16", reason="另行报送")
    wf.advance(first, "reopen", actor="sec", decision="changed", reason="重新公开")
    assert wf.item(first).state == "draft" and wf.verify().ok
