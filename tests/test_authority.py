"""Authority in the chain: people, roles and pipelines are signed acts, and every signature is judged by the
authority its chain recorded at that event (issue 10's red-team cases, each refused or failing verify)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from states import load_pipeline, parse_pipeline
from states.authority import REGISTER
from tests.conftest import ADMIN, new_info, publish, seed, to_head_approval
from tests.tampering import Raw
from workflow import (
    AdoptionRefused,
    NotAuthorised,
    NotFound,
    RoleMissing,
    Signature,
    SignerInactive,
    Workflow,
)
from workflow.ledger.events import canonical

ITEM_TOML = Path(__file__).parent.parent / "states" / "item.toml"


@pytest.fixture
def two(db_url: str) -> Iterator[Workflow]:
    """Units gov (the plan's people) and fin (a station with its own drafter and leader)."""
    wf = seed(Workflow(db_url))
    wf.add_unit("fin", name="平田乡财政所", kind="station", by=ADMIN)
    wf.add_person("fin_clerk", name="财政所经办员", unit="fin", roles=["drafter", "publisher"], by=ADMIN)
    wf.add_person("fin_lead", name="财政所分管领导", unit="fin", roles=["leader"], by=ADMIN)
    yield wf
    wf.close()


def raw(wf: Workflow) -> Raw:
    return Raw(wf.engine.url.render_as_string(hide_password=False))


def assert_refused_and_nothing_written(wf: Workflow, exc: type[Exception], match: str, fn: object, *args: object,
                                       **kw: object) -> None:
    r = raw(wf)
    try:
        before = r.rows("SELECT chain, seq, hash FROM zwgk_chain ORDER BY chain"), r.rows(
            "SELECT * FROM zwgk_role ORDER BY chain, person_id, role")
        with pytest.raises(exc, match=match) as caught:
            fn(*args, **kw)  # type: ignore[operator]
        assert "\n" not in str(caught.value)
        assert (r.rows("SELECT chain, seq, hash FROM zwgk_chain ORDER BY chain"),
                r.rows("SELECT * FROM zwgk_role ORDER BY chain, person_id, role")) == before
    finally:
        r.close()


# -- acts of authority are signed, by an admin, never for oneself -------------------------------------------------


def test_people_roles_and_pipelines_are_events_of_the_chains(two: Workflow) -> None:
    register = [(e.case_kind, e.case_id, e.action) for e in _events(two, "_register")]
    assert register[:3] == [("register", "register", "open"), ("unit", "gov", "add"), ("person", "clerk", "add")]
    assert ("unit", "fin", "add") in register and ("person", "fin_lead", "add") in register
    fin = [(e.case_kind, e.case_id, e.action, e.data.get("role")) for e in _events(two, "fin")]
    assert fin == [("unit", "fin", "open", None), ("pipeline", "item", "adopt", None),
                   ("person", "fin_clerk", "grant", "drafter"), ("person", "fin_clerk", "grant", "publisher"),
                   ("person", "fin_lead", "grant", "leader")]
    assert all(e.actor == ADMIN and e.role == "admin" for e in _events(two, "fin"))
    assert two.verify().ok


def _events(wf: Workflow, chain: str) -> list[Signature]:
    out = []
    seq = 1
    while True:
        try:
            out.append(wf.event(chain, seq))
        except NotFound:
            return out
        seq += 1


def test_an_admin_may_not_grant_a_role_to_themselves(two: Workflow) -> None:
    assert_refused_and_nothing_written(two, NotAuthorised, "an admin may not grant a role to themselves",
                                       two.grant, ADMIN, "head", unit="gov", by=ADMIN)
    two.add_person("admin2", name="第二管理员", by=ADMIN)
    two.grant("admin2", "admin", by=ADMIN)
    assert_refused_and_nothing_written(two, NotAuthorised, "may not grant a role to themselves",
                                       two.grant, "admin2", "head", unit="fin", by="admin2")
    two.grant(ADMIN, "head", unit="fin", by="admin2")  # another admin may
    assert two.person(ADMIN).roles == {"fin": ("head",)}
    assert two.verify().ok


def test_only_an_admin_acts_on_the_register(two: Workflow) -> None:
    assert_refused_and_nothing_written(two, RoleMissing, "head does not hold the role admin",
                                       two.grant, "clerk", "head", unit="gov", by="head")
    assert_refused_and_nothing_written(two, RoleMissing, "does not hold the role admin",
                                       two.add_person, "x", name="X", by="lead")
    assert_refused_and_nothing_written(two, SignerInactive, "ghost is not an active person",
                                       two.add_unit, "v1", name="村", kind="village", by="ghost")


@pytest.mark.parametrize(("call", "match"), [
    (lambda wf: wf.grant("clerk", "drafter", unit="gov", by=ADMIN), "holds the role drafter there already"),
    (lambda wf: wf.revoke("clerk", "head", unit="gov", by=ADMIN), "does not hold the role head there"),
    (lambda wf: wf.grant("clerk", "mayor", unit="gov", by=ADMIN), "'mayor' is a role of no pipeline in force"),
    (lambda wf: wf.grant("clerk", "admin", unit="gov", by=ADMIN), "admin is held in the register, not in a unit"),
    (lambda wf: wf.grant("nobody", "head", unit="gov", by=ADMIN), "there is no person nobody in the register"),
    (lambda wf: wf.grant("clerk", "head", unit="nowhere", by=ADMIN), "no unit 'nowhere'"),
    (lambda wf: wf.add_person("clerk", name="again", by=ADMIN), "person clerk already exists"),
    (lambda wf: wf.add_unit("gov", name="again", by=ADMIN), "unit gov already exists"),
    (lambda wf: wf.revoke(ADMIN, "admin", by=ADMIN), "admin is the last active admin"),
    (lambda wf: wf.deactivate(ADMIN, by=ADMIN), "admin is the last active admin"),
    (lambda wf: wf.reactivate("clerk", by=ADMIN), "clerk is active"),
])
def test_bad_acts_are_refused_in_one_line_and_write_nothing(two: Workflow, call: object, match: str) -> None:
    assert_refused_and_nothing_written(two, Exception, match, call, two)


# -- roles are held in a unit ------------------------------------------------------------------------------------


def test_a_role_in_one_unit_signs_nothing_in_another(two: Workflow) -> None:
    """Today's bug: any head could approve any unit's items. Now the head of gov is no head of fin."""
    item = new_info(two, unit="fin", drafter="fin_clerk")
    for action, actor, kw in (("submit", "fin_clerk", {}), ("proofread", "proof", {}),
                              ("clear", "sec", {"decision": "full"})):
        if action == "proofread":
            assert_refused_and_nothing_written(two, RoleMissing, "proof does not hold the role proofreader",
                                               two.advance, item, action, actor=actor, **kw)
            for pid, role in (("proof", "proofreader"), ("sec", "confidentiality_reviewer"), ("head", "head")):
                two.grant(pid, role, unit="fin", by=ADMIN)
        two.advance(item, action, actor=actor, **kw)
    assert_refused_and_nothing_written(two, RoleMissing, "lead does not hold the role leader",
                                       two.advance, item, "check", actor="lead")
    two.advance(item, "check", actor="fin_lead")
    two.advance(item, "approve", actor="head")
    two.advance(item, "publish", actor="fin_clerk")
    assert two.item(item).state == "published"
    assert [a.id for a in two.actions_for(new_info(two), "fin_lead")] == []  # fin's leader in gov: nothing
    assert two.verify().ok


def test_a_role_granted_signed_with_and_revoked_stays_in_the_log(two: Workflow) -> None:
    """The red team's 'given the head role, signing, losing it in one transaction': every step is an event now,
    and the signature stays valid for what it was when it was made."""
    item = new_info(two)
    to_head_approval(two, item)
    with two.engine.begin() as conn:
        two.grant("drafter2", "head", unit="gov", by=ADMIN, conn=conn)
        two.advance(item, "approve", actor="drafter2", conn=conn)
        two.revoke("drafter2", "head", unit="gov", by=ADMIN, conn=conn)
    gov = [(e.case_id, e.action, e.actor) for e in _events(two, "gov")][-3:]
    assert gov == [("drafter2", "grant", ADMIN), (item, "approve", "drafter2"), ("drafter2", "revoke", ADMIN)]
    assert two.verify().ok
    assert_refused_and_nothing_written(two, RoleMissing, "drafter2 does not hold the role head",
                                       two.advance, item, "return", actor="drafter2", reason="x")


def test_a_role_written_into_the_table_only_is_caught(two: Workflow) -> None:
    """Written behind the engine's back for one signature and removed again: verify names the signature, since its
    chain never granted the role."""
    item = new_info(two)
    to_head_approval(two, item)
    r = raw(two)
    try:
        r.run("INSERT INTO zwgk_role VALUES ('gov', 'drafter2', 'head')")
        sig = two.advance(item, "approve", actor="drafter2")
        r.run("DELETE FROM zwgk_role WHERE person_id = 'drafter2' AND role = 'head'")
    finally:
        r.close()
    report = two.verify()
    assert report.first_problem == (f"chain gov event {sig.seq}: item {item} (head_approval (主要领导同意), round 1): "
                                    "drafter2 does not hold the role head (主要领导) needed to approve (同意) (a "
                                    "signature the rules would have refused)"), report.problems


def test_a_forged_publish_by_someone_who_never_held_the_role_fails_verify(two: Workflow) -> None:
    """The red team's first case: a well-hashed publish by someone who never held `publisher`. Verify no longer
    assumes the role the event claims."""
    item = new_info(two)
    to_head_approval(two, item)
    two.advance(item, "approve", actor="head")
    r = raw(two)
    try:
        r.drop_guards()
        seq = r.tail()[0]
        r.append_forged(case_id=item, action="publish", from_state="head_approval", to_state="published",
                        actor="lead", role="publisher", comment=None)
        r.set_case(item, state="published", version=8)
    finally:
        r.close()
    report = two.verify()
    assert report.first_problem == (f"chain gov event {seq + 1}: item {item} (head_approval (主要领导同意), round 1): "
                                    "lead does not hold the role publisher (发布人) needed to publish (发布) (a "
                                    "signature the rules would have refused)"), report.problems


# -- people come and go ---------------------------------------------------------------------------------------------


def test_a_deactivated_person_signs_nothing_and_their_past_signatures_stand(two: Workflow) -> None:
    item = new_info(two)
    two.advance(item, "submit", actor="clerk")
    two.deactivate("proof", by=ADMIN)
    assert_refused_and_nothing_written(two, SignerInactive, "proof is not an active person",
                                       two.advance, item, "proofread", actor="proof")
    assert two.person("proof").active is False
    assert two.verify().ok
    two.reactivate("proof", by=ADMIN)
    two.advance(item, "proofread", actor="proof")
    assert two.verify().ok


def test_a_clerk_who_left_cannot_record_for_a_leader(two: Workflow) -> None:
    item = new_info(two)
    to_head_approval(two, item)
    two.deactivate("drafter2", by=ADMIN)
    assert_refused_and_nothing_written(two, SignerInactive, "drafter2 is not an active person of the register, so "
                                       "cannot record approve", two.advance, item, "approve", actor="head",
                                       recorded_by="drafter2")


# -- pipelines are adopted, signed, and held to the law -----------------------------------------------------------


LAX = ITEM_TOML.read_text(encoding="utf-8") + """
[[action]]
id = "rush"
zh = "直接发布"
en = "Publish at once"
from = "draft"
to = "published"
role = "drafter"
"""


def test_a_lax_pipeline_is_refused(two: Workflow, tmp_path: Path) -> None:
    """The red team's `--pipeline lax.toml` with draft -> published: it can no longer be used without being
    adopted, and it cannot be adopted."""
    lax = tmp_path / "lax.toml"
    lax.write_text(LAX, encoding="utf-8")
    assert_refused_and_nothing_written(
        two, AdoptionRefused, r"lets a case become public without the signatures of confidentiality_reviewer and "
        r"head in its round \(先审查、后公开\): draft -rush-> published", two.adopt_pipeline, "gov",
        load_pipeline(lax), by=ADMIN)


@pytest.mark.parametrize(("change", "path"), [
    # publish straight after the leader's check: no head
    (("requires = [\"approve\"]", "requires = []"), "-check-> head_approval -publish-> published"),
    # the reviewer's clearance signed by the proofreader's role
    (("role = \"confidentiality_reviewer\"\nrequires = [\"proofread\"]", "role = \"proofreader\"\nrequires = "
      "[\"proofread\"]"), "-clear-> leader_check"),
])
def test_every_way_to_a_public_state_needs_the_reviewer_and_the_head(two: Workflow, change: tuple[str, str],
                                                                       path: str) -> None:
    text = ITEM_TOML.read_text(encoding="utf-8")
    assert change[0] in text
    with pytest.raises(AdoptionRefused, match=path):
        two.adopt_pipeline("gov", parse_pipeline(text.replace(*change)), by=ADMIN)


def test_a_smaller_township_adopts_fewer_distinct_signers(two: Workflow) -> None:
    text = ITEM_TOML.read_text(encoding="utf-8").replace(
        'distinct = ["submit", "proofread", "clear", "check", "approve"]', 'distinct = ["proofread", "clear"]')
    small = parse_pipeline(text)
    assert two.adopt_pipeline("fin", small, by=ADMIN) == small.fingerprint
    assert two.pipeline_in_force("fin").fingerprint == small.fingerprint
    assert two.pipeline_in_force("gov").fingerprint != small.fingerprint
    for pid, role in (("fin_lead", "proofreader"), ("sec", "confidentiality_reviewer"), ("head", "head")):
        two.grant(pid, role, unit="fin", by=ADMIN)
    item = new_info(two, unit="fin", drafter="fin_clerk")
    for action, actor, kw in (("submit", "fin_clerk", {}), ("proofread", "fin_lead", {}),
                              ("clear", "sec", {"decision": "full"}), ("check", "fin_lead", {}),
                              ("approve", "head", {}), ("publish", "fin_clerk", {})):
        two.advance(item, action, actor=actor, **kw)  # the proofreader checks too: fin allows it
    assert {s.pipeline for s in two.history(item)} == {small.fingerprint}
    assert two.verify().ok


def test_an_adoption_applies_to_open_cases_from_their_next_step(two: Workflow) -> None:
    item = new_info(two)
    two.advance(item, "submit", actor="clerk")
    text = ITEM_TOML.read_text(encoding="utf-8").replace('version = "2019.1"', 'version = "2026.2"')
    newer = parse_pipeline(text)
    two.adopt_pipeline("gov", newer, by=ADMIN)
    sig = two.advance(item, "proofread", actor="proof")
    assert sig.pipeline == newer.fingerprint
    assert [s.pipeline for s in two.history(item)][:2] != [newer.fingerprint] * 2
    assert two.verify().ok


def test_an_adoption_that_strands_an_open_case_is_refused(two: Workflow) -> None:
    item = new_info(two)
    to_head_approval(two, item)
    text = ITEM_TOML.read_text(encoding="utf-8").replace('id = "head_approval"', 'id = "head_ok"').replace(
        '"head_approval"', '"head_ok"')
    assert_refused_and_nothing_written(two, AdoptionRefused, "has no state 'head_approval', in which open cases of "
                                       "this unit sit", two.adopt_pipeline, "gov", parse_pipeline(text), by=ADMIN)
    assert two.adopt_pipeline("fin", parse_pipeline(text), by=ADMIN)  # fin has no such case


def test_adopting_is_an_admins_act(two: Workflow) -> None:
    assert_refused_and_nothing_written(two, RoleMissing, "head does not hold the role admin",
                                       two.adopt_pipeline, "gov", load_pipeline(ITEM_TOML), by="head")


def test_a_forged_adoption_of_a_lax_pipeline_fails_verify(two: Workflow) -> None:
    """Written into the chain and the tables behind the engine's back, well hashed: the adoption is judged by the
    same rules as `adopt`, and the signatures under it are refused with it."""
    lax = parse_pipeline(LAX)
    r = raw(two)
    try:
        r.drop_guards()
        head = r.tail("fin")[0]
        r.run("INSERT INTO zwgk_pipeline VALUES (:f, 'item', :n, :v, :d, '2026-01-01')", f=lax.fingerprint,
              n=lax.name, v=lax.version, d=lax.definition)
        r.append_forged("fin", case_kind="pipeline", case_id="item", action="adopt", pipeline=lax.fingerprint,
                        data='{"law":2,"name":"zwgk-default","version":"2019.1"}')
        r.run("UPDATE zwgk_adopted SET pipeline = :f, seq = :s WHERE unit_id = 'fin'", f=lax.fingerprint, s=head + 1)
    finally:
        r.close()
    report = two.verify()
    assert report.first_problem is not None
    assert report.first_problem.startswith(f"chain fin event {head + 1}: pipeline zwgk-default lets a case become "
                                           "public without the signatures"), report.problems


# -- units close ------------------------------------------------------------------------------------------------


def test_a_closed_unit_takes_no_more_events(two: Workflow) -> None:
    item = new_info(two, unit="fin", drafter="fin_clerk")
    two.close_unit("fin", by=ADMIN)
    assert_refused_and_nothing_written(two, NotAuthorised, "unit fin is closed",
                                       two.advance, item, "submit", actor="fin_clerk")
    assert_refused_and_nothing_written(two, NotAuthorised, "unit fin is closed",
                                       two.grant, "head", "head", unit="fin", by=ADMIN)
    assert [u.open for u in two.units() if u.id == "fin"] == [False]
    assert [d.status for d in two.deadlines(item=item)] == ["cancelled"]  # nothing of it can be met any more
    assert two.verify().ok


def test_a_published_item_passes_and_everything_verifies(two: Workflow) -> None:
    publish(two, new_info(two))
    assert two.verify().ok


# -- the red team's ways around the law, each closed ---------------------------------------------------------


DECOY = """kind = "item"
name = "decoy"
version = "1"
initial = "draft"

[[state]]
id = "draft"
zh = "草稿"
en = "Draft"

[[state]]
id = "s1"
zh = "一"
en = "One"

[[state]]
id = "limbo"
zh = "无"
en = "Limbo"

[[state]]
id = "published"
zh = "已公开"
en = "Published"

[[role]]
id = "drafter"
zh = "经办人"
en = "Drafter"

[[role]]
id = "confidentiality_reviewer"
zh = "保密审查人"
en = "Reviewer"

[[role]]
id = "head"
zh = "主要领导"
en = "Head"

[[action]]
id = "clear"
zh = "审"
en = "Clear"
from = "draft"
to = "s1"
role = "drafter"

[[action]]
id = "approve"
zh = "批"
en = "Approve"
from = "s1"
to = "published"
role = "drafter"

# The same ids again from a state nothing reaches, with the roles the law asks for.
[[action]]
id = "clear"
zh = "审"
en = "Clear"
from = "limbo"
to = "limbo"
role = "confidentiality_reviewer"

[[action]]
id = "approve"
zh = "批"
en = "Approve"
from = "limbo"
to = "limbo"
role = "head"
"""


def test_roles_count_by_the_step_taken_not_by_an_id_declared_elsewhere(two: Workflow) -> None:
    assert_refused_and_nothing_written(two, AdoptionRefused, r"draft -clear-> s1 -approve-> published",
                                       two.adopt_pipeline, "gov", parse_pipeline(DECOY), by=ADMIN)


def test_a_pipeline_whose_initial_state_is_public_is_refused(two: Workflow) -> None:
    public_start = declared(ITEM_TOML.read_text(encoding="utf-8"), "published", "terminal = false").replace(
        'initial = "draft"', 'initial = "published"') + """
[[action]]
id = "unpublish"
zh = "撤"
en = "Unpublish"
from = "published"
to = "draft"
role = "drafter"
"""
    assert_refused_and_nothing_written(two, AdoptionRefused, r"\(先审查、后公开\): published$",
                                       two.adopt_pipeline, "gov", parse_pipeline(public_start), by=ADMIN)


def test_an_open_case_may_not_be_left_a_shortcut_past_the_head(two: Workflow) -> None:
    """Searched from where open cases sit too: a case at the leader's check must not gain a way to publish that
    skips the head, though no new case could ever reach that state."""
    item = new_info(two)
    for action, actor, kw in (("submit", "clerk", {}), ("proofread", "proof", {}),
                              ("clear", "sec", {"decision": "full"})):
        two.advance(item, action, actor=actor, **kw)
    text = ITEM_TOML.read_text(encoding="utf-8").replace('from = "confidentiality_review"\nto = "leader_check"',
                                                         'from = "confidentiality_review"\nto = "head_approval"')
    text += ('\n[[action]]\nid = "rush"\nzh = "急"\nen = "Rush"\nfrom = "leader_check"\nto = "published"\n'
             'role = "leader"\n')
    assert_refused_and_nothing_written(two, AdoptionRefused, r"leader_check -rush-> published",
                                       two.adopt_pipeline, "gov", parse_pipeline(text), by=ADMIN)


def test_a_unit_closed_in_the_register_alone_fails_verify(two: Workflow) -> None:
    """Closing is written to both chains, each naming the other: a register's closing without its unit's copy is
    refused by the rules, and so are the unit's events after it."""
    r = raw(two)
    try:
        r.drop_guards()
        r.append_forged("_register", case_kind="unit", case_id="fin", action="close", data=None)
        r.run("UPDATE zwgk_unit SET open = false WHERE id = 'fin'")
    finally:
        r.close()
    problem = two.verify().first_problem or ""
    assert problem.endswith("close unit fin: names no copy of it in the other chain (an act the rules would have "
                            "refused)"), problem


def test_an_interpretation_of_a_closed_units_policy_is_refused(two: Workflow) -> None:
    policy = new_info(two, kind="policy", title="财政补助办法", unit="fin", drafter="fin_clerk")
    two.close_unit("fin", by=ADMIN)
    assert_refused_and_nothing_written(two, NotAuthorised, "unit fin is closed",
                                       new_info, two, kind="interpretation", interprets=policy, title="解读")
    assert two.verify().ok


def test_a_person_may_not_work_in_a_closed_unit(two: Workflow) -> None:
    two.close_unit("fin", by=ADMIN)
    assert_refused_and_nothing_written(two, NotAuthorised, "unit fin is not an open unit of the register",
                                       two.add_person, "late", name="迟到", unit="fin", by=ADMIN)


def test_a_refused_call_in_a_host_transaction_takes_back_what_it_wrote(two: Workflow) -> None:
    """The host catches the refusal and commits the rest of its work: nothing of the refused call may remain (a
    savepoint per call, on PostgreSQL and on an engine `durable()` set up)."""
    with two.engine.connect() as conn, conn.begin():
        with pytest.raises(NotAuthorised, match="'zzz' is a role of no pipeline"):
            two.add_person("half", name="半", unit="gov", roles=["head", "zzz"], by=ADMIN, conn=conn)
        with pytest.raises(RoleMissing):
            two.add_unit("x1", name="X", kind="village", by="clerk", conn=conn)
    assert [p.id for p in two.people() if p.id == "half"] == []
    assert [u.id for u in two.units()] == ["fin", "gov"]
    assert two.verify().ok


def test_the_register_is_locked_before_any_unit(two: Workflow) -> None:
    """Acts lock the register's head and a unit's: always the register's first, whatever the unit is called (an
    upper-case id sorts before `_register`), so that two acts never wait on each other in a circle."""
    from workflow.ledger.chains import lock_order

    assert lock_order(["B1", "_register", "A0", "gov"]) == ["_register", "A0", "B1", "gov"]
    two.add_unit("A1", name="甲", kind="village", by=ADMIN)
    two.add_person("p1", name="p1", unit="A1", roles=["drafter"], by=ADMIN)
    assert two.verify().ok


@pytest.mark.parametrize("position", [-1, 0, True, "3", 10**6])
def test_a_seal_naming_a_position_no_chain_holds_fails_verify(two: Workflow, position: object) -> None:
    """A forged seal cannot name a chain at a place it never was: before its first event, or not a number. (One
    past its end is a seal of events deleted since: verify names that too.)"""
    two.digest()
    r = raw(two)
    try:
        r.drop_guards()
        last = r.event(r.tail(REGISTER)[0], REGISTER)
        chains = json.loads(last["data"])["chains"]
        chains[0][1] = position
        forged = r.append_forged(REGISTER, data=canonical({"chains": chains}))
    finally:
        r.close()
    problem = two.verify().first_problem or ""
    if position == 10**6:
        assert problem.endswith(f"before event {position} that a seal of the register names (events deleted from "
                                "the end)"), problem
    else:
        assert problem.startswith(f"chain {REGISTER} event {forged['seq']}: "), problem
        assert "a seal names every unit's chain, and only those, each at an event it holds" in problem


def extra_actions(*actions: tuple[str, str, str, str, list[str]], reopened: tuple[str, ...] = ()) -> str:
    """The built-in pipeline with more actions: (id, from, to, role, requires), and the `reopened` states
    declared not terminal."""
    text = ITEM_TOML.read_text(encoding="utf-8")
    for state in reopened:
        text = declared(text, state, "terminal = false")
    return text + "".join(
        f'\n[[action]]\nid = "{a}"\nzh = "{a}"\nen = "{a}"\nfrom = "{f}"\nto = "{t}"\nrole = "{r}"\n'
        f"requires = {json.dumps(req)}\n" for a, f, t, r, req in actions)


@pytest.mark.parametrize(("actions", "path"), [
    # back to the draft in the same round, content edited there, and on without a second review: the review
    # signed was of other content (red team, round 2)
    ((("reopen", "leader_check", "draft", "leader", ["clear"]),
      ("resubmit", "draft", "leader_check", "drafter", ["clear"])),
     "-reopen-> draft -resubmit-> leader_check -check-> head_approval -approve-> head_approval -publish-> published"),
    # the reviewer's refusal counted as a review: withheld, then published over it
    ((("override", "withheld", "published", "head", []),), "-withhold-> withheld -override-> published"),
    # taken back, then published again as it was
    ((("republish", "retracted", "published", "head", []),), "-retract-> retracted -republish-> published"),
    ((("restore", "retracted", "draft", "head", []),), "-restore-> draft -submit-> confidentiality_review -clear->"),
])
def test_a_review_that_no_longer_stands_does_not_count(two: Workflow, actions: tuple[tuple[str, str, str, str,
                                                                                             list[str]], ...],
                                                       path: str) -> None:
    """Even where the file declares withheld and retracted not terminal."""
    lax = extra_actions(*actions, reopened=("withheld", "retracted"))
    assert_refused_and_nothing_written(two, AdoptionRefused, re.escape(path), two.adopt_pipeline, "gov",
                                       parse_pipeline(lax), by=ADMIN)


def test_a_case_withheld_before_a_lax_adoption_stays_withheld(two: Workflow) -> None:
    """The red team's order: an item withheld first, then a pipeline with a way out of withheld proposed."""
    item = new_info(two)
    two.advance(item, "submit", actor="clerk")
    two.advance(item, "proofread", actor="proof")
    two.advance(item, "withhold", actor="sec", ground="art15", reason="涉及国家秘密")
    lax = extra_actions(("override", "withheld", "published", "head", []), reopened=("withheld",))
    with pytest.raises(AdoptionRefused, match=re.escape("withheld -override-> published")):
        two.adopt_pipeline("gov", parse_pipeline(lax), by=ADMIN)
    assert two.item(item).state == "withheld"


def declared(text: str, state: str, line: str) -> str:
    """`text` with `line` added to the [[state]] table of `state`."""
    head = f'[[state]]\nid = "{state}"\n'
    assert head in text
    return text.replace(head, head + line + "\n")


@pytest.mark.parametrize(("action", "message"), [
    # published sent back for a second approval: one item published twice, the first publication unsigned-for
    (("reapprove", "published", "head_approval", "head", []), "published may be left only for abolished or retracted"),
    # withheld is reviewed back to the draft (Art. 18), never straight on towards the public
    (("reconsider", "withheld", "head_approval", "head", []), "withheld may be left only for draft, yet action "
                                                              "'reconsider' leads to head_approval"),
    (("restore", "retracted", "draft", "head", []), "retracted is final, yet action 'restore' leads to draft"),
])
def test_an_action_out_of_a_final_state_is_refused(two: Workflow, action: tuple[str, str, str, str, list[str]],
                                                    message: str) -> None:
    assert_refused_and_nothing_written(two, AdoptionRefused, re.escape(message), two.adopt_pipeline, "gov",
                                       parse_pipeline(extra_actions(action)), by=ADMIN)


def test_a_file_may_declare_a_final_state_not_terminal(two: Workflow) -> None:
    """A township that re-reviews withheld information (Art. 18) sends it back to the draft, in a new round."""
    text = extra_actions(("reconsider", "withheld", "draft", "confidentiality_reviewer", []), reopened=("withheld",))
    two.adopt_pipeline("gov", parse_pipeline(text), by=ADMIN)
    assert two.verify().ok


def test_a_file_may_make_a_state_of_its_own_terminal(two: Workflow) -> None:
    text = declared(extra_actions(("reopen", "leader_check", "draft", "leader", [])), "leader_check", "terminal = true")
    assert_refused_and_nothing_written(two, AdoptionRefused, re.escape("leader_check is final"), two.adopt_pipeline,
                                       "gov", parse_pipeline(text), by=ADMIN)


def test_declaring_no_terminal_keeps_the_fingerprint_of_a_file_written_before_the_key() -> None:
    """Units adopted pipelines before `terminal` existed: their stored definitions must still hash as signed (the
    built-in file as 0.2 and 0.3 shipped it, frozen here: 0.4 added 废止)."""
    builtin = parse_pipeline((Path(__file__).parent / "data" / "item-0.2.toml").read_text(encoding="utf-8"))
    assert "terminal" not in builtin.definition
    assert builtin.fingerprint == "b99ebadda62a384ccf31cff0430e75a9e41dbbe26a7eb80f9e1aee5c33c5f56d"
