"""Property-based tests: random walks through the real Workflow API, checked against a reference model.

The model below is written from the rules of the default pipeline in ARCHITECTURE.md, not from `states/`:
it never reads the pipeline definition (nor the rulebook beside it), so a mistake in the definition, the rules
or the machine shows up here. Everything is reached through the public API (`workflow`).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.conftest import PEOPLE, new_info, seed
from workflow import (
    ActionNotAvailable,
    AlreadySigned,
    Digest,
    InputMissing,
    NotDrafter,
    NotEditable,
    PrerequisiteMissing,
    Refused,
    RoleMissing,
    SeparationOfDuties,
    Workflow,
)

# -- the reference model of the default pipeline ------------------------------------------------------------

# (state, action) -> (role that signs, state it leads to; None = stays)
TABLE: dict[tuple[str, str], tuple[str, str | None]] = {
    ("draft", "submit"): ("drafter", "confidentiality_review"),
    ("confidentiality_review", "proofread"): ("proofreader", None),
    ("confidentiality_review", "clear"): ("confidentiality_reviewer", "leader_check"),
    ("confidentiality_review", "withhold"): ("confidentiality_reviewer", "withheld"),
    ("confidentiality_review", "override"): ("confidentiality_reviewer", None),
    ("confidentiality_review", "return"): ("confidentiality_reviewer", "draft"),
    ("leader_check", "check"): ("leader", "head_approval"),
    ("leader_check", "return"): ("leader", "draft"),
    ("head_approval", "approve"): ("head", None),
    ("head_approval", "publish"): ("publisher", "published"),
    ("head_approval", "return"): ("head", "draft"),
    ("published", "retract"): ("head", "retracted"),
    ("published", "abolish"): ("head", "abolished"),
    ("withheld", "confirm"): ("confidentiality_reviewer", "withheld"),
    ("withheld", "reopen"): ("confidentiality_reviewer", "draft"),
}
SEPARATED = ("submit", "proofread", "clear", "check", "approve")
REQUIRES = {"clear": "proofread", "publish": "approve"}
GROUNDS = ("art14", "art15", "art16")
DECISIONS = ("full", "partial")
REOPENINGS = ("changed", "consent", "public_interest")
NEEDS_REASON = {"withhold", "return", "retract", "abolish", "confirm", "reopen"}
NEW_ROUND = {"return", "confirm", "reopen"}
ACTIONS = ("submit", "proofread", "clear", "withhold", "override", "check", "approve", "publish", "return", "retract",
           "abolish", "confirm", "reopen")
UNIT = "gov"  # where conftest.seed grants the plan's people their roles, and where every item here is made
REGISTER = "_register"
PERSONS = tuple(PEOPLE)
ROLES_OF = {p: frozenset(r) for p, r in PEOPLE.items()}
DRAFTERS = tuple(p for p in PERSONS if "drafter" in ROLES_OF[p])

decisions = st.sampled_from([None, "full", "partial", "most", "consent"])
grounds = st.sampled_from([None, "art14", "art15", "art16", "art99"])
reasons = st.sampled_from([None, "", "  ", "涉及个人隐私，依《条例》不予公开"])


@dataclass
class ItemModel:
    state: str = "draft"
    round: int = 1
    version: int = 1
    signers: dict[str, str] = field(default_factory=dict)  # action -> signer, in the current round
    drafter: str = "clerk"  # whose draft it is: only they sign the drafter's steps on it


def input_problem(action: str, decision: str | None, ground: str | None, reason: str | None) -> bool:
    blank = not (reason or "").strip()
    if action == "clear":
        return decision not in DECISIONS or ground is not None or (decision == "partial" and blank)
    if action in ("withhold", "confirm"):
        return decision is not None or ground not in GROUNDS or blank
    if action == "reopen":
        return decision not in REOPENINGS or ground is not None or blank
    if action in NEEDS_REASON:
        return decision is not None or ground is not None or blank
    return decision is not None or ground is not None


def violations(m: ItemModel, action: str, actor: str, decision: str | None = None, ground: str | None = None,
               reason: str | None = None, *, inputs: bool = True) -> set[type[Refused]]:
    """Every rule this attempt breaks; empty means it must be accepted."""
    if (m.state, action) not in TABLE:
        return {ActionNotAvailable}
    role, to = TABLE[(m.state, action)]
    out: set[type[Refused]] = set()
    if role not in ROLES_OF[actor]:
        out.add(RoleMissing)
    if m.state == "draft" and role == "drafter" and actor != m.drafter:
        out.add(NotDrafter)
    if to is None and action in m.signers:
        out.add(AlreadySigned)
    if action in REQUIRES and REQUIRES[action] not in m.signers:
        out.add(PrerequisiteMissing)
    if action in SEPARATED and any(m.signers.get(o) == actor for o in SEPARATED if o != action):
        out.add(SeparationOfDuties)
    if inputs and input_problem(action, decision, ground, reason):
        out.add(InputMissing)
    if inputs and action == "override":  # the pre-screen finds nothing to accept in these bodies (test_redaction.py)
        out.add(InputMissing)
    return out


def allowed(m: ItemModel, actor: str) -> set[str]:
    return {a for (s, a) in TABLE if s == m.state and not violations(m, a, actor, inputs=False)}


def apply(m: ItemModel, action: str, actor: str) -> None:
    _, to = TABLE[(m.state, action)]
    m.version += 1
    if action in NEW_ROUND:
        m.state, m.round, m.signers = to or m.state, m.round + 1, {}
        return
    m.signers[action] = actor
    if to is not None:
        m.state = to


def good_inputs(action: str, data: st.DataObject) -> dict[str, str | None]:
    """Inputs the model accepts for `action`, drawn at random among the valid ones."""
    if action == "clear":
        decision = data.draw(st.sampled_from(DECISIONS))
        reason = "第3页涉及个人信息" if decision == "partial" else data.draw(st.sampled_from([None, "无"]))
        return {"decision": decision, "reason": reason}
    if action in ("withhold", "confirm"):
        return {"ground": data.draw(st.sampled_from(GROUNDS)), "reason": "属于过程性信息"}
    if action == "reopen":
        return {"decision": data.draw(st.sampled_from(REOPENINGS)), "reason": "情势变化，可以公开"}
    if action in NEEDS_REASON:
        return {"reason": "材料不全，请补充"}
    return {"reason": data.draw(st.sampled_from([None, "同意"]))}


# Inputs one step away from valid, per action: each must be refused with InputMissing (all else being right).
NEAR_MISSES: dict[str, list[dict[str, str | None]]] = {
    "clear": [{"decision": None}, {"decision": "most"}, {"decision": "partial", "reason": None},
              {"decision": "partial", "reason": "  "}, {"decision": "full", "ground": "art14"}],
    "withhold": [{"ground": None, "reason": "x"}, {"ground": "art99", "reason": "x"}, {"ground": "art14"},
                 {"ground": "art15", "reason": ""}, {"ground": "art16", "reason": "x", "decision": "full"}],
    "return": [{}, {"reason": " "}, {"reason": "x", "ground": "art14"}, {"reason": "x", "decision": "partial"}],
    "retract": [{}, {"reason": ""}, {"reason": "x", "ground": "art16"}],
    "abolish": [{}, {"reason": " "}, {"reason": "x", "decision": "full"}],
    "confirm": [{"reason": "x"}, {"ground": "art15"}, {"ground": "art15", "reason": "x", "decision": "consent"}],
    "reopen": [{"reason": "x"}, {"decision": "consent"}, {"decision": "full", "reason": "x"},
               {"decision": "consent", "reason": "x", "ground": "art15"}],
}
OTHER_MISSES: list[dict[str, str | None]] = [{"decision": "full"}, {"ground": "art15"}, {"decision": "partial"}]


def sealed_head(wf: Workflow) -> tuple[Digest, tuple[int, str]]:
    """The root digest (digest() seals), and the unit chain's head as that seal records it."""
    digest = wf.digest()
    seal = wf.event(REGISTER, digest.seq)
    assert seal.action == "seal"
    (head,) = [(seq, h) for chain, seq, h in seal.data["chains"] if chain == UNIT]
    return digest, head


# -- the stateful test --------------------------------------------------------------------------------------


class WorkflowMachine(RuleBasedStateMachine):
    items = Bundle("items")

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="zwgk-sm-")
        self.wf = seed(Workflow(f"sqlite:///{self.dir}/x.db"))
        self.model: dict[str, ItemModel] = {}
        self.last: str | None = None

    def teardown(self) -> None:
        self.wf.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- rules ----------------------------------------------------------------------------------------------

    @initialize(target=items)
    def first_item(self) -> str:
        return self._create("clerk")

    @precondition(lambda self: len(self.model) < 4)
    @rule(target=items, drafter=st.sampled_from(DRAFTERS))
    def create(self, drafter: str) -> str:
        return self._create(drafter)

    @rule(person=st.sampled_from([p for p in PERSONS if p not in DRAFTERS]))
    def create_refused(self, person: str) -> None:
        before = self.wf.digest()
        try:
            new_info(self.wf, drafter=person)
        except RoleMissing as e:
            assert "drafter" in str(e) and person in str(e)
        else:
            raise AssertionError(f"{person} holds no drafter role but created an item")
        assert self.wf.digest() == before

    @rule(item=items, action=st.sampled_from((*ACTIONS, "bogus")), actor=st.sampled_from(PERSONS),
          decision=decisions, ground=grounds, reason=reasons)
    def attempt_anything(self, item: str, action: str, actor: str, decision: str | None, ground: str | None,
                         reason: str | None) -> None:
        self._attempt(item, action, actor, decision, ground, reason)

    @rule(item=items, data=st.data(), actor=st.sampled_from(PERSONS), decision=decisions, ground=grounds,
          reason=reasons)
    def attempt_from_state(self, item: str, data: st.DataObject, actor: str, decision: str | None,
                           ground: str | None, reason: str | None) -> None:
        possible = sorted(a for (s, a) in TABLE if s == self.model[item].state)
        if not possible:
            return
        self._attempt(item, data.draw(st.sampled_from(possible)), actor, decision, ground, reason)

    @rule(item=items, data=st.data(), near_miss=st.booleans())
    def attempt_valid(self, item: str, data: st.DataObject, near_miss: bool) -> None:
        """A signer the rules allow with valid inputs, after (maybe) the same signer with inputs one step off."""
        m = self.model[item]
        options = sorted((a, p) for p in PERSONS for a in allowed(m, p))
        if not options:
            return
        self._valid_step(item, data.draw(st.sampled_from(options)), data, near_miss)

    @rule(item=items, data=st.data(), which=st.sampled_from(["decision", "ground", "reason"]))
    def attempt_allowed_with_one_arbitrary_input(self, item: str, data: st.DataObject, which: str) -> None:
        """A signer the rules allow, with valid inputs except one, replaced by an arbitrary value."""
        m = self.model[item]
        options = sorted((a, p) for p in PERSONS for a in allowed(m, p))
        if not options:
            return
        action, actor = data.draw(st.sampled_from(options))
        kw = good_inputs(action, data)
        kw[which] = data.draw({"decision": decisions, "ground": grounds, "reason": reasons}[which])
        self._attempt(item, action, actor, kw.get("decision"), kw.get("ground"), kw.get("reason"))

    @rule(item=items, data=st.data(), steps=st.integers(min_value=1, max_value=8))
    def walk_forward(self, item: str, data: st.DataObject, steps: int) -> None:
        """Several valid steps that mostly move forward, so that deep states (published, retracted) are reached."""
        for _ in range(steps):
            m = self.model[item]
            options = sorted((a, p) for p in PERSONS for a in allowed(m, p))
            forward = [o for o in options if o[0] not in ("return", "withhold", "retract", "abolish")]
            if forward and data.draw(st.integers(0, 9)) > 0:
                options = forward
            if not options:
                return
            self._valid_step(item, data.draw(st.sampled_from(options)), data, data.draw(st.integers(0, 2)) == 0)

    @rule(item=items, actor=st.sampled_from(PERSONS))
    def edit(self, item: str, actor: str) -> None:
        m = self.model[item]
        before, digest = self.wf.item(item), self.wf.digest()
        ok = m.state == "draft" and "drafter" in ROLES_OF[actor] and actor == m.drafter
        try:
            sig = self.wf.edit_item(item, actor=actor, body=f"修改 {m.version}")
        except (NotEditable, RoleMissing, NotDrafter) as e:
            assert not ok, f"edit by {actor} in {m.state} refused: {e}"
            # outside the draft state nobody may edit; in it, only a drafter, and only the draft's own
            expected = NotEditable if m.state != "draft" else RoleMissing if "drafter" not in ROLES_OF[actor] \
                else NotDrafter
            assert type(e) is expected, (type(e).__name__, m.state, e)
            assert self.wf.item(item).version == before.version
            assert self.wf.digest() == digest
        else:
            assert ok, f"edit by {actor} in {m.state} accepted"
            assert (sig.action, sig.from_state, sig.to_state, sig.actor) == ("edit", "draft", "draft", actor)
            m.version += 1
        self.last = item

    @rule(item=items, actor=st.sampled_from(PERSONS), to=st.sampled_from(PERSONS))
    def reassign(self, item: str, actor: str, to: str) -> None:
        m = self.model[item]
        before, digest = self.wf.item(item), self.wf.digest()
        may = (actor == m.drafter and "drafter" in ROLES_OF[actor]) or "leader" in ROLES_OF[actor]
        ok = m.state == "draft" and may and "drafter" in ROLES_OF[to] and to != m.drafter
        self.last = item
        try:
            sig = self.wf.reassign(item, to=to, actor=actor)
        except Refused as e:
            assert not ok, f"reassign by {actor} to {to} in {m.state} refused: {e}"
            expected = NotEditable if m.state != "draft" else NotDrafter if not may else \
                RoleMissing if "drafter" not in ROLES_OF[to] else InputMissing
            assert type(e) is expected, (type(e).__name__, m.state, e)
            assert self.wf.item(item).version == before.version
            assert self.wf.digest() == digest
        else:
            assert ok, f"reassign by {actor} to {to} in {m.state} accepted"
            assert (sig.action, sig.actor, sig.data) == ("reassign", actor, {"to": to})
            m.version, m.drafter = m.version + 1, to
            assert self.wf.item(item).drafter == to

    # -- invariants -----------------------------------------------------------------------------------------

    @invariant()
    def chain_verifies(self) -> None:
        report = self.wf.verify()
        assert report.ok, report.problems
        assert (report.cases, report.chains) == (len(self.model), 2)

    @invariant()
    def items_match_the_model(self) -> None:
        found = self.wf.items()
        assert {i.id for i in found} == set(self.model)
        for item in found:
            m = self.model[item.id]
            assert (item.state, item.round, item.version, item.drafter) == (m.state, m.round, m.version, m.drafter), \
                (item.id, m)

    @invariant()
    def actions_for_match_the_model(self) -> None:
        if self.last is None:
            return
        m = self.model[self.last]
        for person in PERSONS:
            got = {a.id for a in self.wf.actions_for(self.last, person)}
            assert got == allowed(m, person), (self.last, person, m)

    # -- helpers --------------------------------------------------------------------------------------------

    def _create(self, drafter: str) -> str:
        item_id = new_info(self.wf, drafter=drafter)
        assert item_id not in self.model
        self.model[item_id] = ItemModel(drafter=drafter)
        self.last = item_id
        return item_id

    def _valid_step(self, item: str, step: tuple[str, str], data: st.DataObject, near_miss: bool) -> None:
        action, actor = step
        if near_miss:
            miss = data.draw(st.sampled_from(NEAR_MISSES.get(action, OTHER_MISSES)))
            self._attempt(item, action, actor, miss.get("decision"), miss.get("ground"), miss.get("reason"))
        kw = good_inputs(action, data)
        self._attempt(item, action, actor, kw.get("decision"), kw.get("ground"), kw.get("reason"))

    def _attempt(self, item: str, action: str, actor: str, decision: str | None, ground: str | None,
                 reason: str | None) -> None:
        m = self.model[item]
        broken = violations(m, action, actor, decision, ground, reason)
        before, (digest, head) = self.wf.item(item), sealed_head(self.wf)
        self.last = item
        try:
            sig = self.wf.advance(item, action, actor=actor, decision=decision, ground=ground, reason=reason)
        except Refused as e:
            assert broken, f"{actor} {action} in {m.state} refused but the model allows it: {e}"
            assert type(e) in broken, f"refused as {type(e).__name__}, model expected one of {broken}: {e}"
            after = self.wf.item(item)
            assert (after.version, after.state, after.round) == (before.version, before.state, before.round)
            assert self.wf.digest() == digest  # nothing written: no new seal was needed
            return
        assert not broken, f"{actor} {action} in {m.state} accepted, model expected {broken}"
        from_state = m.state
        role, _ = TABLE[(m.state, action)]
        apply(m, action, actor)
        assert (sig.item_id, sig.action, sig.actor, sig.role) == (item, action, actor, role)
        assert (sig.from_state, sig.to_state, sig.round) == (from_state, m.state, m.round)
        assert (sig.decision, sig.ground, sig.reason) == (decision, ground, reason)
        assert (sig.chain, sig.seq) == (UNIT, head[0] + 1)  # the next event of the unit's chain
        assert sig.prev_hash == head[1]
        assert sealed_head(self.wf)[1] == (sig.seq, sig.hash)


WorkflowMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TestWorkflowMachine = WorkflowMachine.TestCase


# -- replay ------------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), steps=st.integers(min_value=0, max_value=25))
def test_state_is_the_replay_of_history(data: st.DataObject, steps: int) -> None:
    tmp = tempfile.mkdtemp(prefix="zwgk-replay-")
    wf = seed(Workflow(f"sqlite:///{tmp}/x.db"))
    try:
        item = new_info(wf, drafter=data.draw(st.sampled_from(DRAFTERS)))
        accepted = 0
        for _ in range(steps):
            if data.draw(st.booleans()):
                # an arbitrary attempt, usually refused; refused ones must leave no trace in the history
                try:
                    wf.advance(item, data.draw(st.sampled_from(ACTIONS)), actor=data.draw(st.sampled_from(PERSONS)),
                               decision=data.draw(decisions), ground=data.draw(grounds), reason=data.draw(reasons))
                except Refused:
                    continue
                accepted += 1
                continue
            # an override needs findings to accept, which these bodies lack (tests/test_redaction.py)
            options = [(a, p) for a, people in wf.next_steps(item) for p in people if a.id != "override"]
            if not options:
                break
            action, person = data.draw(st.sampled_from(options))
            wf.advance(item, action.id, actor=person, **good_inputs(action.id, data))
            accepted += 1

        history = wf.history(item)
        assert len(history) == 1 + accepted
        assert history[0].action == "create"
        state, rnd = None, 1
        for sig in history:
            assert sig.from_state == state, sig
            if sig.action in NEW_ROUND:
                assert sig.round == rnd + 1
            else:
                assert sig.round == rnd
            state, rnd = sig.to_state, sig.round
        now = wf.item(item)
        assert now.state == history[-1].to_state == state
        assert now.round == history[-1].round == rnd
        assert now.version == len(history)
        assert wf.verify().ok
    finally:
        wf.close()
        shutil.rmtree(tmp, ignore_errors=True)
