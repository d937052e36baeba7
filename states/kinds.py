"""Kinds of case: each is a pipeline file in `states/` plus the few rules the engine holds it to.

A kind's pipeline may be replaced by a unit (adopted, signed), but not its public states, nor the roles whose
signatures must come before the public sees anything (先审查、后公开), nor the role that may hand on a draft
whose drafter cannot: those are the law, not local practice. That a draft is its drafter's alone (谁提供、谁负责)
is in `states.rules`, which judges every pipeline.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from states.errors import AdoptionRefused, Phrase
from states.pipeline import Pipeline, bundled_pipeline
from states.requests import AFTER_REPLY, ANYTIME, DRAFTER, OFFICE_HEAD, REPLY, STEPS

if TYPE_CHECKING:
    from states.rules import Case


@dataclass(frozen=True)
class Kind:
    name: str
    zh: str
    pipeline_file: str  # the built-in pipeline, which every new unit adopts
    public: frozenset[str]  # states in which the case is before the public
    before_public: tuple[str, ...]  # roles that must have signed, in the round, before a public state
    lapsed: frozenset[str]  # states after which those signatures no longer stand (refused, taken back)
    final: Mapping[str, frozenset[str]]  # states that end a case, each with where the law still lets it go
    # Besides its drafter, who may hand a draft to another drafter: one who directs the unit's work, so that a
    # draft whose drafter left or fell ill is not stuck.
    reassigner: str
    # Steps besides the pipeline's, which the law gives this kind (a request's clock), with the roles that may sign
    # them (DRAFTER: the pipeline's drafter role), and those of them signed only once the case is final.
    steps: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    after_final: frozenset[str] = frozenset()
    units: frozenset[str] | None = None  # the kinds of unit that take such cases (None: every unit)
    anytime: frozenset[str] = frozenset()  # own steps signed whether the case is final or not
    # The one action by which a case becomes public, if the engine does something as it is signed (a request's
    # reply letter is made and its type recorded as it is sent): every way into a public state must be it.
    publishing: str | None = None
    # Who withholds spans of a case's text (部分公开, Art. 37) and accepts the pre-screen's findings, during their
    # review: the confidentiality reviewer of an item (None: the kind's text is not redacted).
    reviewer: str | None = None

    @property
    def law_roles(self) -> frozenset[str]:
        """Roles its own steps need, which every pipeline of the kind must have."""
        return frozenset(r for roles in self.steps.values() for r in roles if r != DRAFTER)


# The leader in charge (分管领导), who directs the disclosure work of the unit and answers for the substance of what
# it publishes, hands on a draft; an admin (登记管理员) keeps the register and signs no step of any case.
ITEM = Kind("item", "政府信息", "item.toml", frozenset({"published"}), ("confidentiality_reviewer", "head"),
            frozenset({"withheld", "retracted", "abolished"}),
            # a publication can only be taken back (撤回) or, a document in force, abolished (废止); a refusal is
            # reviewed from time to time and may go back to its drafter, to be reviewed anew (Art. 18, 15); a
            # retraction or an abolition is the end of that item
            {"published": frozenset({"retracted", "abolished"}), "withheld": frozenset({"draft"}),
             "retracted": frozenset(), "abolished": frozenset()}, "leader",
            reviewer="confidentiality_reviewer")
# A request's reply is before the public (its applicant) once sent; the head of the disclosure office hands on a
# request whose handler cannot, as they approve its extension (Art. 33). Only an administrative organ (行政机关: the
# township government, not a village committee or a station) receives requests.
REQUEST = Kind("request", "政府信息公开申请", "request.toml", frozenset({"replied"}),
               ("confidentiality_reviewer", "head"), frozenset(), {"replied": frozenset()}, OFFICE_HEAD,
               steps=STEPS, after_final=AFTER_REPLY, units=frozenset({"government"}), anytime=ANYTIME,
               publishing=REPLY)
KINDS: dict[str, Kind] = {k.name: k for k in (ITEM, REQUEST)}


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown kind of case '{name}' (one of: {', '.join(KINDS)})") from None


@cache
def builtin(name: str) -> Pipeline:
    """The pipeline shipped for a kind of case."""
    return bundled_pipeline(kind(name).pipeline_file)


def default_pipeline() -> Pipeline:
    """The built-in pipeline for items of information."""
    return builtin(ITEM.name)


@dataclass(frozen=True)
class OpenCase:
    """A case an adoption must keep: where it sits, and what was signed, as which roles, in its round."""

    state: str
    signed: frozenset[str]  # actions
    roles: frozenset[str]


def open_cases(in_force: Pipeline | None, cases: Iterable[Case]) -> list[OpenCase]:
    """The cases a new pipeline must keep: those a step of the pipeline in force can still move (all, if none)."""
    return [OpenCase(c.state, frozenset(c.signers), c.roles) for c in cases
            if in_force is None or in_force.actions_from(c.state)]


# The rules an adoption is judged by, recorded in it (its data's `law`): 1, those of 0.2 (an adoption without the
# key); 2, from 0.3, also final states and the role that hands on drafts. An adoption is judged by the law it was
# made under, so that a database of 0.2 still verifies. (One forged now could claim law 1: the older checks still
# hold it, 先审查、后公开 first, and a seal or a witness bounds where it can be slipped in.)
LAW = 2


def check_adoptable(pipeline: Pipeline, open_cases: Collection[OpenCase] = (), law: int = LAW) -> None:
    """Refuses a pipeline that a unit may not adopt: one for no known kind, one that lacks a state an open case
    sits in, one by which a case (new, or one of `open_cases` from where it is) can become public without the
    signatures the law puts first, or (law 2) one that leads a case out of a final state where the law does not
    or lacks the role that hands on drafts."""
    if law not in range(1, LAW + 1):
        raise AdoptionRefused("pipeline {pipeline} was adopted under law {law}, which this engine does not know "
                              "(1 to {last})", pipeline=pipeline.name, law=law, last=LAW)
    k = KINDS.get(pipeline.kind)
    if k is None:
        raise AdoptionRefused("pipeline {pipeline} is for '{kind}', which is no kind of case here (one of: "
                              "{kinds})", pipeline=pipeline.name, kind=pipeline.kind, kinds=", ".join(KINDS))
    known = {s.id for s in pipeline.states}
    for state in sorted({c.state for c in open_cases} - known):
        raise AdoptionRefused("pipeline {pipeline} has no state '{state}', in which open cases of this unit sit; "
                              "finish or return them first", pipeline=pipeline.name, state=state)
    for state in sorted(k.public - known):
        raise AdoptionRefused("pipeline {pipeline} lacks the public state '{state}' of {kind}s",
                              pipeline=pipeline.name, state=state, kind=k.name)
    for action in pipeline.actions if law >= 2 else ():
        exits = final_exits(pipeline, k, action.source)
        if exits is not None and action.to not in (None, action.source, *exits):  # staying put is not leaving
            where = (Phrase("may be left only for {states}", states=" or ".join(sorted(exits))) if exits
                     else Phrase("is final"))
            raise AdoptionRefused("pipeline {pipeline}: {state} {where}, yet action '{action}' leads to {to}; "
                                  "declare it terminal = false in the file if your practice reopens it",
                                  pipeline=pipeline.name, state=action.source, where=where, action=action.id,
                                  to=action.to)
    path = unreviewed_path(pipeline, k, open_cases)
    if path is not None:
        raise AdoptionRefused("pipeline {pipeline} lets a case become public without the signatures of {needed} "
                              "in its round (先审查、后公开): {path}", pipeline=pipeline.name,
                              needed=" and ".join(k.before_public), path=path)
    if law >= 2 and k.reassigner not in {r.id for r in pipeline.roles}:
        raise AdoptionRefused("pipeline {pipeline} lacks the role '{role}', who may hand on a draft whose drafter "
                              "cannot (reassign)", pipeline=pipeline.name, role=k.reassigner)
    for action in pipeline.actions if k.publishing else ():
        if action.to in k.public and action.source not in k.public and action.id != k.publishing:
            raise AdoptionRefused("pipeline {pipeline}: action '{action}' makes a {kind} public, which only "
                                  "'{publishing}' may", pipeline=pipeline.name, action=action.id, kind=k.name,
                                  publishing=k.publishing)
    for role in sorted(k.law_roles - {r.id for r in pipeline.roles}):
        raise AdoptionRefused("pipeline {pipeline} lacks the role '{role}', whom the law gives steps of a {kind}",
                              pipeline=pipeline.name, role=role, kind=k.name)


def review_states(pipeline: Pipeline, k: Kind) -> frozenset[str]:
    """Where the kind's reviewer redacts and accepts findings: the states from which a step of theirs sends the case
    on (clear), not back to its drafter nor out of the way (a return, a refusal)."""
    away = k.lapsed | {pipeline.initial} | set(k.final)
    return frozenset(a.source for a in pipeline.actions if a.role == k.reviewer and a.to is not None
                     and a.to not in away and a.source not in away)


def screens(pipeline: Pipeline, k: Kind, from_state: str | None, to_state: str, role: str | None) -> str | None:
    """Whether a step of the kind's pipeline screens the case's text (issue 14): "submit" as its drafter sends it
    to review; "gate" as its reviewer sends it on (clear) or as it becomes public (publish), which the pre-screen's
    unresolved findings stop; None for the other steps (and for kinds whose text is not screened)."""
    if k.reviewer is None or from_state is None or from_state == to_state:
        return None
    if from_state == pipeline.initial:
        return "submit"
    if (to_state in k.public and from_state not in k.public) or (
            role == k.reviewer and from_state in review_states(pipeline, k)
            and to_state not in k.lapsed | {pipeline.initial} | set(k.final)):
        return "gate"
    return None


OVERRIDE = "override"  # the step by which the reviewer accepts the findings that would stop the case (its data)


def final_exits(pipeline: Pipeline, k: Kind, state: str) -> frozenset[str] | None:
    """Where a case may go from `state`: None if anywhere (not final), else the states the law allows (a step that
    keeps it where it is does not leave it). A file
    may declare any state terminal, or a final state not terminal (e.g. re-reviewing withheld information)."""
    declared = pipeline.state(state).terminal
    if declared is False or (declared is None and state not in k.final):
        return None
    return k.final.get(state, frozenset()) if declared is None else frozenset()


Node = tuple[str, frozenset[str], frozenset[str]]  # state, actions signed in the round, roles they were signed as


def unreviewed_path(pipeline: Pipeline, k: Kind, open_cases: Collection[OpenCase] = ()) -> str | None:
    """A way to a public state on which some role of `k.before_public` signs nothing in the round that gets
    there, from a new case or from where an open case sits with what its round has signed; None if there is none.

    Searches (state, actions signed in the round, the roles they were signed as): a step that requires others
    needs them signed first, a step that opens a new round starts both afresh, and a step that keeps the case where
    it is cannot be signed twice. Roles are those of the very step taken (an action id may recur from other
    states with other roles). Any other rule (separation of duties) only forbids more, so it cannot open a way.
    A case in the initial state (where its content may be edited) or in a state of `k.lapsed` (a review that
    refused it, a publication taken back) keeps what its round signed for the steps that require it, but those
    signatures no longer count as the review of what may become public.
    """
    lapsed = k.lapsed | {pipeline.initial}

    def reached(state: str, signed: frozenset[str], roles: frozenset[str]) -> Node:
        return state, signed, frozenset() if state in lapsed else roles

    starts: list[Node] = [reached(pipeline.initial, frozenset(), frozenset())]
    starts += [reached(c.state, c.signed, c.roles) for c in open_cases]
    came_from: dict[Node, tuple[Node, str] | None] = {}
    todo: deque[Node] = deque()
    for start in starts:
        if start not in came_from:
            came_from[start] = None
            todo.append(start)
    for node in list(todo):
        if _unreviewed(node, k):
            return _path(came_from, node)
    while todo:
        node = todo.popleft()
        state, signed, roles = node
        for action in pipeline.actions_from(state):
            if (action.to is None and action.id in signed) or not set(action.requires) <= signed:
                continue
            if action.new_round:
                nxt = reached(action.to or state, frozenset({action.id}), frozenset({action.role}))
            else:
                nxt = reached(action.to or state, signed | {action.id}, roles | {action.role})
            if nxt in came_from:
                continue
            came_from[nxt] = (node, action.id)
            if _unreviewed(nxt, k):
                return _path(came_from, nxt)
            todo.append(nxt)
    return None


def _unreviewed(node: Node, k: Kind) -> bool:
    return node[0] in k.public and not set(k.before_public) <= node[2]


def _path(came_from: dict[Node, tuple[Node, str] | None], node: Node) -> str:
    steps = []
    link = came_from[node]
    while link is not None:
        previous, action = link
        steps.append(f"-{action}-> {node[0]}")
        node, link = previous, came_from[previous]
    return " ".join([node[0], *reversed(steps)])
