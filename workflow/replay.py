"""`verify` replays every signature against the pipeline's rules, with the check `advance` makes.

A forger who writes a well-hashed `publish` behind the engine's back (no approval first, the drafter
approving their own item, a step from the wrong state) is caught here, not only by a broken hash.
Each signature is judged by the rules of the pipeline version it records: the current one, or one stored in
`zwgk_pipeline` whose definition hashes to that version. Signatures of a version with no such definition are
not judged: `unchecked` counts them.
"""

from __future__ import annotations

from collections import Counter

from states import Attempt, PipelineMachine, Refused


class RuleReplay:
    def __init__(self, machines: dict[str, PipelineMachine], people: set[str]) -> None:
        self.machines = machines  # by the version string signatures record
        self.people = people
        self.rounds: dict[str, tuple[int, dict[str, str]]] = {}  # item -> (round, {action: signer}) as advance sees
        self.unchecked = 0
        self.versions: Counter[str] = Counter()  # signatures by the pipeline version they record

    def __call__(self, seq: int, item: str, rnd: int, action_id: str, from_state: str | None, to_state: str,
                 actor: str, role: str | None, reason: str | None, ground: str | None, decision: str | None,
                 version: str) -> str | None:
        self.versions[version] += 1
        problem = self._judge(item, rnd, action_id, from_state, to_state, actor, role, reason, ground, decision,
                              version)
        current, signed = self.rounds.get(item, (rnd, {}))
        if rnd != current:  # a return opens the next round; its own event is the first of it
            signed = {}
        signed[action_id] = actor
        self.rounds[item] = (rnd, signed)
        return f"event {seq}: {problem} (a signature the pipeline would have refused)" if problem else None

    def _judge(self, item: str, rnd: int, action_id: str, from_state: str | None, to_state: str, actor: str,
               role: str | None, reason: str | None, ground: str | None, decision: str | None,
               version: str) -> str | None:
        if actor not in self.people:
            return f"{actor} who signed it is nobody registered"
        for name, value in (("reason", reason), ("ground", ground), ("decision", decision)):
            if value is not None and not isinstance(value, str):  # only tampering stores a number there
                return f"its {name} is {value!r}, which no signature writes"
        machine = self.machines.get(version)
        if machine is None:
            self.unchecked += 1
            return None
        p = machine.pipeline
        if action_id in ("create", "edit"):
            if role != p.drafter_role or to_state != p.initial or (action_id == "edit") != (from_state == p.initial):
                return f"{action_id} of item {item} is not a drafter's step in state {p.initial}"
            return None
        action = p.action(from_state or "", action_id)
        if action is None:
            return f"{action_id} is not possible from state {from_state}"
        if to_state != (action.to or action.source) or role != action.role:
            return f"{action_id} leads to {action.to or action.source} and is signed as {action.role}"
        _, signed = self.rounds.get(item, (rnd, {}))
        try:
            machine.check(action, Attempt(item=item, actor=actor, roles=frozenset({action.role}), round=rnd,
                                          round_signers=signed, reason=reason, ground=ground, decision=decision))
        except Refused as refused:
            return str(refused)
        return None
