"""One `transitions` machine per pipeline, shared by every item; guards are its conditions.

Items are not registered as models (a Machine per item costs ~250 µs and `add_model` keeps a reference
forever); each trigger runs on a throw-away subject that only carries the item's current state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from transitions import EventData, Machine

from states.errors import (
    ActionNotAvailable,
    AlreadySigned,
    InputMissing,
    Phrase,
    PrerequisiteMissing,
    RoleMissing,
    SeparationOfDuties,
)
from states.pipeline import Action, Pipeline


@dataclass(frozen=True)
class Attempt:
    """Who wants to sign, with which inputs, against the signatures already in this round."""

    case: str  # as people name it: "item 2026-000017"
    actor: str
    roles: frozenset[str]
    round: int
    round_signers: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None
    ground: str | None = None
    decision: str | None = None


class _Subject:
    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


class PipelineMachine:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._distinct = {a: sorted(pipeline.distinct_from(a)) for a in pipeline.action_ids()}
        self._actions: dict[tuple[str, str], Action] = {}  # as `pipeline.action` finds them, without the scan
        for action in pipeline.actions:
            self._actions.setdefault((action.source, action.id), action)
        self._machine = Machine(model=None, states=[s.id for s in pipeline.states], initial=pipeline.initial,
                                auto_transitions=False, send_event=True)
        for action in pipeline.actions:
            self._machine.add_transition(action.id, action.source, action.to,
                                         conditions=[partial(self._condition, action)])

    def _condition(self, action: Action, event: EventData) -> bool:
        self.check(action, event.kwargs["attempt"])
        return True

    def fire(self, state: str, action_id: str, attempt: Attempt) -> tuple[Action, str]:
        """Run one action through the machine; returns the action and the new state, or raises `Refused`."""
        # Not text (a list, say): no such action, as the pipeline's own scan would find.
        action = self._actions.get((state, action_id)) if isinstance(action_id, str) else None
        if action is None:
            allowed = ", ".join(a.id for a in self.pipeline.actions_from(state)) or "none"
            raise ActionNotAvailable("{case} is in state {state}; {actor} cannot '{action}' there (possible: "
                                     "{allowed})", case=attempt.case, state=self.pipeline.label(state),
                                     actor=attempt.actor, action=action_id, allowed=allowed)
        subject = _Subject(state)
        self._machine.events[action_id].trigger(subject, attempt=attempt)
        return action, subject.state

    def allowed(self, state: str, attempt: Attempt) -> list[Action]:
        """The actions this actor may sign now, ignoring the reason/ground/decision they would still have to give."""
        out = []
        for action in self.pipeline.actions_from(state):
            try:
                self.check(action, attempt, inputs=False)
            except (RoleMissing, AlreadySigned, PrerequisiteMissing, SeparationOfDuties):
                continue
            out.append(action)
        return out

    def check(self, action: Action, attempt: Attempt, *, inputs: bool = True) -> None:
        p = self.pipeline

        def where() -> Phrase:  # built only for a refusal: `verify` checks every signature ever made
            return Phrase("{case} ({state}, round {round})", case=attempt.case, state=p.label(action.source),
                          round=attempt.round)

        if action.role not in attempt.roles:
            role = p.role(action.role)
            raise RoleMissing("{where}: {actor} does not hold the role {role} ({role_zh}) needed to {action} "
                              "({action_zh})", where=where(), actor=attempt.actor, role=role.id, role_zh=role.zh,
                              action=action.id, action_zh=action.zh)
        if action.to is None and action.id in attempt.round_signers:
            raise AlreadySigned("{where}: {actor} cannot sign {action} ({action_zh}) again: it was already "
                                "signed in this round by {signer}", where=where(), actor=attempt.actor,
                                action=action.id, action_zh=action.zh, signer=attempt.round_signers[action.id])
        for need in action.requires:
            if need not in attempt.round_signers:
                raise PrerequisiteMissing("{where}: {actor} cannot sign {action} ({action_zh}) yet: it needs "
                                          "{needed} ({needed_zh}) signed first in this round", where=where(),
                                          actor=attempt.actor, action=action.id, action_zh=action.zh,
                                          needed=need, needed_zh=_zh(p, need))
        for other in self._distinct[action.id]:
            if attempt.round_signers.get(other) == attempt.actor:
                raise SeparationOfDuties("{where}: {actor} signed {other} ({other_zh}) in this round and may not "
                                         "also sign {action} ({action_zh})", where=where(), actor=attempt.actor,
                                         other=other, other_zh=_zh(p, other), action=action.id,
                                         action_zh=action.zh)
        if inputs:
            _check_inputs(action, attempt, where)


def _zh(p: Pipeline, action_id: str) -> str:
    return next(a.zh for a in p.actions if a.id == action_id)


def _check_inputs(action: Action, attempt: Attempt, where: Callable[[], Phrase]) -> None:
    def refuse(template: str, /, **params: object) -> InputMissing:
        return InputMissing("{where}: {action} ({action_zh}) by {actor} {problem}", where=where(), action=action.id,
                            action_zh=action.zh, actor=attempt.actor, problem=Phrase(template, **params))

    if action.decisions:
        if attempt.decision not in action.decisions:
            raise refuse("needs a decision, one of: {decisions}", decisions=", ".join(action.decisions))
    elif attempt.decision is not None:
        raise refuse("takes no decision")
    if action.grounds:
        if attempt.ground not in action.grounds:
            raise refuse("needs a legal ground, one of: {grounds}", grounds=", ".join(action.grounds))
    elif attempt.ground is not None:
        raise refuse("takes no legal ground")
    if (action.reason or attempt.decision in action.reason_for) and not (attempt.reason or "").strip():
        raise refuse("needs a reason")


def as_rows(pipeline: Pipeline) -> list[dict[str, Any]]:
    """The pipeline as table rows, for `zwgk pipeline show`."""
    return [{"from": a.source, "action": a.id, "zh": a.zh, "role": a.role, "to": a.to or a.source,
             "requires": list(a.requires), "reason": a.reason or bool(a.reason_for), "grounds": list(a.grounds),
             "decisions": list(a.decisions), "new_round": a.new_round} for a in pipeline.actions]
