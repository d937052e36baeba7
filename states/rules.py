"""The rulebook of a case: `decide` whether a person may sign an action on it now, `apply` what the signature
does to it. `advance` decides on the state it loads and appends what was decided; `verify` folds every event
of the log through the same two functions. Nothing else judges a signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from states.errors import (
    ActionNotAvailable,
    InputMissing,
    NotDrafter,
    NotEditable,
    Phrase,
    RoleMissing,
    SignerInactive,
)
from states.kinds import OVERRIDE, kind, review_states
from states.kinds import kind as kind_of
from states.machine import Attempt, PipelineMachine
from states.pipeline import IMPLICIT_ACTIONS, Action, Pipeline
from states.requests import DRAFTER

CREATE, EDIT, LINK, REASSIGN, REDACT = IMPLICIT_ACTIONS


@dataclass(frozen=True, slots=True)
class Case:
    """What the rules know of one case: the fold of its events."""

    kind: str
    id: str
    state: str
    round: int
    version: int  # how many events the case has
    signers: Mapping[str, str]  # action -> who signed it in this round
    content_hash: str  # of the content in force, which every signature on it signs
    drafter: str  # whose draft it is: who signed its creation, or the last one it was reassigned to
    roles: frozenset[str] = frozenset()  # the roles signed as in this round

    @property
    def label(self) -> str:
        return f"{self.kind} {self.id}"


@dataclass(frozen=True, slots=True)
class Signer:
    """A person as the chain stood when they sign: known and active, with the roles they hold in the case's unit."""

    id: str
    active: bool
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class Command:
    kind: str
    case_id: str
    action: str
    signer: Signer
    content_hash: str | None = None  # create and edit: the hash of the new content
    reason: str | None = None
    ground: str | None = None
    decision: str | None = None
    recorded_by: Signer | None = None  # the clerk entering a signer's paper sign-off
    to: Signer | None = None  # reassign: the drafter the draft goes to

    @property
    def label(self) -> str:
        return f"{self.kind} {self.case_id}"


@dataclass(frozen=True, slots=True)
class Step:
    """What a signature does, as the rules decided it; the event records exactly this."""

    action: str
    from_state: str | None
    to_state: str
    role: str | None
    round: int
    content_hash: str
    drafter: str | None = None  # reassign: whose draft it is from now on


def decide(machine: PipelineMachine, case: Case | None, cmd: Command) -> Step:
    """The step `cmd` makes of `case` (None: not created yet), or a `Refused` naming the rule it breaks."""
    for who in (cmd.signer, cmd.recorded_by, cmd.to):
        if who is not None and not who.active:
            doing = (Phrase("record {action}", action=cmd.action) if who is cmd.recorded_by
                     else Phrase("take over {action}", action=cmd.action) if who is cmd.to
                     else Phrase("sign {action}", action=cmd.action))
            raise SignerInactive("{case}: {person} is not an active person of the register, so cannot {doing}",
                                 case=cmd.label, person=who.id, doing=doing)
    p = machine.pipeline
    if case is None:
        if cmd.action != CREATE:
            raise ActionNotAvailable("{case} has not been created, so {signer} cannot {action} it", case=cmd.label,
                                     signer=cmd.signer.id, action=cmd.action)
        return _drafting(machine, cmd, None, p.initial, 1, cmd.content_hash)
    if cmd.action == CREATE:
        raise ActionNotAvailable("{case} exists already; {signer} cannot create it again", case=case.label,
                                 signer=cmd.signer.id)
    if cmd.action == EDIT:
        if case.state != p.initial:
            raise NotEditable("{case} is in state {state}; only a {initial} can be edited (return it first)",
                              case=case.label, state=p.label(case.state), initial=p.initial)
        step = _drafting(machine, cmd, case.state, case.state, case.round, cmd.content_hash)
        _own_draft(case, cmd)
        return step
    if cmd.action == LINK:  # the other unit's copy was judged in its own chain
        return Step(LINK, case.state, case.state, None, case.round, case.content_hash)
    if cmd.action == REASSIGN:
        return _reassign(p, case, cmd)
    if cmd.action == REDACT:
        return _redacting(p, case, cmd)
    if cmd.action in kind(case.kind).steps:
        return _law_step(p, case, cmd)
    action, to_state = machine.fire(case.state, cmd.action, Attempt(
        case=case.label, actor=cmd.signer.id, roles=cmd.signer.roles, round=case.round,
        round_signers=case.signers, reason=cmd.reason, ground=cmd.ground, decision=cmd.decision))
    if _drafts(p, case, action):
        _own_draft(case, cmd)
    if action.id == OVERRIDE:
        _accepting(p, case, action)
    return Step(action.id, case.state, to_state, action.role, case.round + 1 if action.new_round else case.round,
                case.content_hash)


def _drafting(machine: PipelineMachine, cmd: Command, from_state: str | None, to_state: str, rnd: int,
              content_hash: str | None) -> Step:
    """Creating and editing: the drafter's, in the initial state, with new content and no decision."""
    role = machine.pipeline.drafter_role
    if role not in cmd.signer.roles:
        raise RoleMissing("{case}: {signer} does not hold the role {role} needed to {action} it", case=cmd.label,
                          signer=cmd.signer.id, role=role, action=cmd.action)
    if cmd.ground is not None or cmd.decision is not None or cmd.reason is not None:
        raise InputMissing("{case}: {action} takes no reason, legal ground or decision", case=cmd.label,
                           action=cmd.action)
    if content_hash is None:
        raise InputMissing("{case}: {action} needs the content it signs", case=cmd.label, action=cmd.action)
    return Step(cmd.action, from_state, to_state, role, rnd, content_hash)


def _drafts(p: Pipeline, case: Case, action: Action) -> bool:
    """Whether `action` is a drafter's step on the draft (submit): the signature under which it leaves them."""
    return case.state == p.initial and action.role == p.drafter_role


def _own_draft(case: Case, cmd: Command) -> None:
    """A draft is its drafter's (谁提供、谁负责): another drafter takes it over only by a reassignment."""
    if cmd.signer.id != case.drafter:
        raise NotDrafter("{case} is the draft of {drafter}; {signer} cannot {action} it (it changes hands by "
                         "reassign)", case=case.label, drafter=case.drafter, signer=cmd.signer.id, action=cmd.action)


def _reassign(p: Pipeline, case: Case, cmd: Command) -> Step:
    """A draft handed to another drafter of the unit, by its drafter or by the kind's reassigner (the leader in
    charge, for a drafter who left or cannot)."""
    by = kind(case.kind).reassigner
    drafter = p.drafter_role
    if case.state != p.initial:
        raise NotEditable("{case} is in state {state}; only a {initial} changes hands (return it first)",
                          case=case.label, state=p.label(case.state), initial=p.initial)
    if cmd.signer.id == case.drafter and drafter in cmd.signer.roles:
        role = drafter
    elif by in cmd.signer.roles:
        role = by
    else:
        raise NotDrafter("{case} is the draft of {drafter}; only they or a holder of the role {role} may reassign "
                         "it, not {signer}", case=case.label, drafter=case.drafter, role=by, signer=cmd.signer.id)
    if cmd.ground is not None or cmd.decision is not None or cmd.content_hash is not None:
        raise InputMissing("{case}: reassign takes no legal ground, decision or content", case=case.label)
    if cmd.to is None:
        raise InputMissing("{case}: reassign needs the drafter it goes to", case=case.label)
    if drafter not in cmd.to.roles:
        raise RoleMissing("{case}: {person} does not hold the role {role} in the unit, so cannot take over the "
                          "draft", case=case.label, person=cmd.to.id, role=drafter)
    if cmd.to.id == case.drafter:
        raise InputMissing("{case} is the draft of {drafter} already", case=case.label, drafter=case.drafter)
    return Step(REASSIGN, case.state, case.state, role, case.round, case.content_hash, cmd.to.id)


def _accepting(p: Pipeline, case: Case, action: Action) -> None:
    """The pre-screen's findings are accepted (override) by the kind's reviewer during their review, whatever step
    a pipeline names so."""
    k = kind(case.kind)
    if k.reviewer is not None and (action.role != k.reviewer or case.state not in review_states(p, k)):
        raise ActionNotAvailable("{case}: the pre-screen's findings are accepted (override) only by the {role}, "
                                 "during their review", case=case.label, role=k.reviewer)


def _redacting(p: Pipeline, case: Case, cmd: Command) -> Step:
    """Spans of the text withheld (部分公开, Art. 37): by the kind's reviewer, during their review, with the content
    that results (the spans and grounds are in it); the case stays where it is."""
    reviewer = kind(case.kind).reviewer
    if reviewer is None or reviewer not in cmd.signer.roles:
        raise RoleMissing("{case}: {signer} does not hold the role {role} needed to {action} it", case=cmd.label,
                          signer=cmd.signer.id, role=reviewer or "-", action=cmd.action)
    k = kind(case.kind)
    if case.state not in review_states(p, k) or case.roles & (set(k.before_public) - {reviewer}):
        # and not once those who answer for what is published signed the text of this round
        raise ActionNotAvailable("{case} is in state {state}; spans are withheld only during the review of {role}",
                                 case=case.label, state=p.label(case.state), role=reviewer)
    if cmd.ground is not None or cmd.decision is not None or cmd.reason is not None or cmd.to is not None:
        raise InputMissing("{case}: redact takes no reason, legal ground or decision (each span has its ground)",
                           case=case.label)
    if cmd.content_hash is None:
        raise InputMissing("{case}: {action} needs the content it signs", case=cmd.label, action=cmd.action)
    return Step(REDACT, case.state, case.state, reviewer, case.round, cmd.content_hash)


def _law_step(p: Pipeline, case: Case, cmd: Command) -> Step:
    """A step the law gives the kind besides its pipeline (a request's clock): signed in the unit by one of its
    roles, before the case is final or (a review of the reply, an erasure) after; it leaves the case where it is."""
    k = kind(case.kind)
    roles = [p.drafter_role if r == DRAFTER else r for r in k.steps[cmd.action]]
    role = next((r for r in roles if r in cmd.signer.roles), None)
    if role is None:
        raise RoleMissing("{case}: {signer} does not hold the role {role} needed to {action} it", case=cmd.label,
                          signer=cmd.signer.id, role=" or ".join(roles), action=cmd.action)
    if role == p.drafter_role and cmd.action not in k.anytime:  # a case's steps are its handler's (谁提供、谁负责)
        _own_draft(case, cmd)
    if cmd.action not in k.anytime and (case.state in k.final) != (cmd.action in k.after_final):
        raise ActionNotAvailable("{case} is in state {state}; {actor} cannot '{action}' there", case=case.label,
                                 state=p.label(case.state), actor=cmd.signer.id, action=cmd.action)
    if cmd.ground is not None or cmd.decision is not None or cmd.content_hash is not None or cmd.to is not None:
        raise InputMissing("{case}: {action} takes no legal ground, decision or content", case=case.label,
                           action=cmd.action)
    return Step(cmd.action, case.state, case.state, role, case.round, case.content_hash)


def apply(case: Case | None, kind: str, case_id: str, step: Step, actor: str) -> Case:
    """The case after a signature of `step` by `actor`."""
    role = frozenset({step.role} if step.role else ())
    if case is None:
        return Case(kind, case_id, step.to_state, step.round, 1, {step.action: actor}, step.content_hash, actor, role)
    if step.action in (LINK, REASSIGN, REDACT) or step.action in kind_of(kind).steps:  # no signature of the
        # pipeline: the round's signers stay as they were (a redaction changes the content the next ones sign)
        return Case(kind, case.id, case.state, case.round, case.version + 1, case.signers, step.content_hash,
                    step.drafter or case.drafter, case.roles)
    same = step.round == case.round  # a return opens the next round
    signers, roles = (dict(case.signers), case.roles | role) if same else ({}, role)
    signers[step.action] = actor
    return Case(kind, case.id, step.to_state, step.round, case.version + 1, signers, step.content_hash,
                case.drafter, roles)


def allowed(machine: PipelineMachine, case: Case, signer: Signer) -> list[Action]:
    """The pipeline's actions `signer` may sign on `case` now (a reason or ground may still be needed)."""
    if not signer.active:
        return []
    actions = machine.allowed(case.state, Attempt(case=case.label, actor=signer.id, roles=signer.roles,
                                                  round=case.round, round_signers=case.signers))
    return [a for a in actions if signer.id == case.drafter or not _drafts(machine.pipeline, case, a)]
