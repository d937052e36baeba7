"""The rulebook of a case: `decide` whether a person may sign an action on it now, `apply` what the signature
does to it. `advance` decides on the state it loads and appends what was decided; `verify` folds every event
of the log through the same two functions. Nothing else judges a signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from states.errors import ActionNotAvailable, InputMissing, NotEditable, RoleMissing, SignerInactive
from states.machine import Attempt, PipelineMachine
from states.pipeline import IMPLICIT_ACTIONS, Action

CREATE, EDIT, LINK = IMPLICIT_ACTIONS


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
    drafter: str  # who signed its creation
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


def decide(machine: PipelineMachine, case: Case | None, cmd: Command) -> Step:
    """The step `cmd` makes of `case` (None: not created yet), or a `Refused` naming the rule it breaks."""
    for who in (cmd.signer, cmd.recorded_by):
        if who is not None and not who.active:
            raise SignerInactive(f"{cmd.label}: {who.id} is not an active person of the register, "
                                 f"so cannot {'record' if who is cmd.recorded_by else 'sign'} {cmd.action}")
    p = machine.pipeline
    if case is None:
        if cmd.action != CREATE:
            raise ActionNotAvailable(f"{cmd.label} has not been created, so {cmd.signer.id} cannot {cmd.action} it")
        return _drafting(machine, cmd, None, p.initial, 1, cmd.content_hash)
    if cmd.action == CREATE:
        raise ActionNotAvailable(f"{case.label} exists already; {cmd.signer.id} cannot create it again")
    if cmd.action == EDIT:
        if case.state != p.initial:
            raise NotEditable(f"{case.label} is in state {p.label(case.state)}; only a {p.initial} can be edited "
                              "(return it first)")
        return _drafting(machine, cmd, case.state, case.state, case.round, cmd.content_hash)
    if cmd.action == LINK:  # the other unit's copy was judged in its own chain
        return Step(LINK, case.state, case.state, None, case.round, case.content_hash)
    action, to_state = machine.fire(case.state, cmd.action, Attempt(
        case=case.label, actor=cmd.signer.id, roles=cmd.signer.roles, round=case.round,
        round_signers=case.signers, reason=cmd.reason, ground=cmd.ground, decision=cmd.decision))
    return Step(action.id, case.state, to_state, action.role, case.round + 1 if action.new_round else case.round,
                case.content_hash)


def _drafting(machine: PipelineMachine, cmd: Command, from_state: str | None, to_state: str, rnd: int,
              content_hash: str | None) -> Step:
    """Creating and editing: the drafter's, in the initial state, with new content and no decision."""
    role = machine.pipeline.drafter_role
    if role not in cmd.signer.roles:
        raise RoleMissing(f"{cmd.label}: {cmd.signer.id} does not hold the role {role} needed to {cmd.action} it")
    if cmd.ground is not None or cmd.decision is not None or cmd.reason is not None:
        raise InputMissing(f"{cmd.label}: {cmd.action} takes no reason, legal ground or decision")
    if content_hash is None:
        raise InputMissing(f"{cmd.label}: {cmd.action} needs the content it signs")
    return Step(cmd.action, from_state, to_state, role, rnd, content_hash)


def apply(case: Case | None, kind: str, case_id: str, step: Step, actor: str) -> Case:
    """The case after a signature of `step` by `actor`."""
    role = frozenset({step.role} if step.role else ())
    if case is None:
        return Case(kind, case_id, step.to_state, step.round, 1, {step.action: actor}, step.content_hash, actor, role)
    same = step.round == case.round  # a return opens the next round
    signers, roles = (dict(case.signers), case.roles | role) if same else ({}, role)
    if step.action != LINK:
        signers[step.action] = actor
    return Case(kind, case.id, step.to_state, step.round, case.version + 1, signers, step.content_hash,
                case.drafter, roles)


def allowed(machine: PipelineMachine, case: Case, signer: Signer) -> list[Action]:
    """The pipeline's actions `signer` may sign on `case` now (a reason or ground may still be needed)."""
    if not signer.active:
        return []
    return machine.allowed(case.state, Attempt(case=case.label, actor=signer.id, roles=signer.roles,
                                               round=case.round, round_signers=case.signers))
