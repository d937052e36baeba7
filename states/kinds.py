"""Kinds of case: each is a pipeline file in `states/` plus the few rules the engine holds it to.

A kind's pipeline may be replaced by a unit (adopted, signed), but not its public states nor the roles whose
signatures must come before the public sees anything (先审查、后公开): those are the law, not local practice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache

from states.errors import AdoptionRefused
from states.pipeline import Pipeline, bundled_pipeline


@dataclass(frozen=True)
class Kind:
    name: str
    zh: str
    pipeline_file: str  # the built-in pipeline, which every new unit adopts
    public: frozenset[str]  # states in which the case is before the public
    before_public: tuple[str, ...]  # roles that must have signed, in the round, before a public state


ITEM = Kind("item", "政府信息", "item.toml", frozenset({"published"}), ("confidentiality_reviewer", "head"))
KINDS: dict[str, Kind] = {k.name: k for k in (ITEM,)}


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


def open_states(in_force: Pipeline | None, states: Collection[str]) -> set[str]:
    """The states among `states` that a case can still leave under the pipeline in force (all, if none is)."""
    if in_force is None:
        return set(states)
    sources = {a.source for a in in_force.actions}
    return {s for s in states if s in sources}


def check_adoptable(pipeline: Pipeline, open_states: Collection[str]) -> None:
    """Refuses a pipeline that a unit may not adopt: one for no known kind, one that lacks a state an open case
    sits in, or one in which a public state can be reached without the signatures the law puts first."""
    k = KINDS.get(pipeline.kind)
    if k is None:
        raise AdoptionRefused(f"pipeline {pipeline.name} is for '{pipeline.kind}', which is no kind of case here "
                              f"(one of: {', '.join(KINDS)})")
    known = {s.id for s in pipeline.states}
    for state in sorted(set(open_states) - known):
        raise AdoptionRefused(f"pipeline {pipeline.name} has no state '{state}', in which open cases of this unit "
                              "sit; finish or return them first")
    for state in sorted(k.public - known):
        raise AdoptionRefused(f"pipeline {pipeline.name} lacks the public state '{state}' of {k.name}s")
    path = unreviewed_path(pipeline, k)
    if path is not None:
        needed = " and ".join(k.before_public)
        raise AdoptionRefused(f"pipeline {pipeline.name} lets a case become public without the signatures of "
                              f"{needed} in its round (先审查、后公开): {path}")


def unreviewed_path(pipeline: Pipeline, k: Kind) -> str | None:
    """A way from the initial state to a public state on which some role of `k.before_public` signs nothing in
    the round that gets there; None if there is none.

    Searches (state, actions signed in this round): a step that requires others needs them signed first, a
    step that opens a new round starts the count again, and a step that keeps the case where it is cannot be
    signed twice. Any other rule (separation of duties) only forbids more, so it cannot open a way.
    """
    roles = {a.id: a.role for a in pipeline.actions}
    start: tuple[str, frozenset[str]] = (pipeline.initial, frozenset())
    came_from: dict[tuple[str, frozenset[str]], tuple[tuple[str, frozenset[str]], str] | None] = {start: None}
    todo = deque([start])
    while todo:
        node = todo.popleft()
        state, signed = node
        for action in pipeline.actions_from(state):
            if (action.to is None and action.id in signed) or not set(action.requires) <= signed:
                continue
            after = frozenset({action.id}) if action.new_round else signed | {action.id}
            nxt = (action.to or state, after)
            if nxt in came_from:
                continue
            came_from[nxt] = (node, action.id)
            if nxt[0] in k.public and not set(k.before_public) <= {roles[a] for a in after}:
                return _path(came_from, nxt)
            todo.append(nxt)
    return None


def _path(came_from: dict[tuple[str, frozenset[str]], tuple[tuple[str, frozenset[str]], str] | None],
          node: tuple[str, frozenset[str]]) -> str:
    steps = []
    link = came_from[node]
    while link is not None:
        previous, action = link
        steps.append(f"-{action}-> {node[0]}")
        node, link = previous, came_from[previous]
    return " ".join([node[0], *reversed(steps)])
