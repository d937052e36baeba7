"""Signing a step of a case: load, decide, append, in the caller's unit of work.

The rules are `states.rules`; what a kind of case adds (its content, its deadlines) comes from its `CaseKind`.
A signature locks its unit's chain head and nothing of any other unit: the register is read, never locked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from states.authority import REGISTER, check_open
from states.errors import Phrase
from states.rules import LINK, REASSIGN, Case, Command, Signer, Step, apply, decide
from workflow.config import Config
from workflow.deadlines import Handover, Op, Timeline, statements
from workflow.errors import ItemChanged, NotFound
from workflow.ledger.chains import Appender, Head, appending
from workflow.ledger.events import Event, canonical
from workflow.model import Signature
from workflow.pipelines import InForce, Pipelines
from workflow.uow import Row, Sent, Work

Statement = tuple[str, dict[str, Any]]


class CaseKind(Protocol):
    """What a kind of case adds to the rules: the facts its deadlines need, and those deadlines."""

    def facts(self, case_id: str) -> Statement:
        """The statement that reads the facts of a case, sent with the signature's other reads."""
        ...

    def on_step(self, in_force: InForce, case: Case, unit: str, facts: Row, step: Step, today: date,
                actor: str) -> list[Op]:
        """The deadlines a step opens and closes."""
        ...

    def check(self, work: Work, in_force: InForce, case: Case, facts: Row, step: Step,
              at: str) -> dict[str, Any] | None:
        """What the kind adds to the rules before a step is signed, reading other cases (a `Refused` if not); and
        what the step's event carries for the kind, if anything."""
        ...


@dataclass(frozen=True)
class Loaded:
    """A case as a step of it is decided on."""

    head: Head
    case: Case
    unit: str
    signer: Signer
    recording: Signer | None  # the clerk entering a paper sign-off
    register: Head  # read, not locked
    in_force: InForce
    facts: Row


@dataclass
class Signed:
    """A signature appended, and the case as it now is."""

    signature: Signature
    case: Case
    unit: str


def signer(rows: Sequence[Row], person_id: str) -> tuple[Signer, Head]:
    """A person from the rows of the `signer` statements (one per role held), with the register's head read in
    the same snapshot: the event the signature is decided under, and whose time it may not be set before."""
    if not rows:
        raise NotFound("no person '{person}'", person=person_id)
    roles = frozenset(r["role"] for r in rows if r["role"])
    r = rows[0]
    return (Signer(person_id, bool(r["active"]), roles),
            Head(REGISTER, int(r["register_seq"]), r["register_hash"], r["register_at"]))


def case_of(kind: str, case_id: str, row: Row) -> Case:
    return Case(kind, case_id, row["state"], row["round"], row["version"], json.loads(row["signers"]),
                row["content_hash"], row["drafter"], frozenset(row["roles"].split(",")) - {""})


def case_row(case: Case, unit: str, at: str) -> dict[str, Any]:
    """The `zwgk_case` row of a case (its insert and its update take the same parameters)."""
    return {"kind": case.kind, "id": case.id, "unit_id": unit, "state": case.state, "round": case.round,
            "version": case.version, "signers": canonical(case.signers), "roles": ",".join(sorted(case.roles)),
            "content_hash": case.content_hash, "drafter": case.drafter, "at": at}


class Signing:
    """The signatures of one unit of work."""

    def __init__(self, work: Work, append: Appender, pipelines: Pipelines, config: Config, timeline: Timeline,
                 kinds: dict[str, CaseKind]) -> None:
        self.work = work
        self.append = append
        self.pipelines = pipelines
        self.config = config
        self.timeline = timeline
        self.kinds = kinds

    def load(self, kind: str, case_id: str, action: str, actor: str, *, recorded_by: str | None = None,
             expected_version: int | None = None) -> Loaded:
        """What a step of a case is decided on, read in one round trip after its unit's head is locked: the case
        with the pipeline in force, the signer (and the clerk recording for them) with their roles in the unit,
        the register's last event, and the facts the kind's deadlines need."""
        key = {"kind": kind, "id": case_id}
        who = {"register": REGISTER, **key}
        reads: list[Statement] = [("case_head_locked", key), ("case_for_step", key),
                                  ("signer_of_case", who | {"person": actor}), self.kinds[kind].facts(case_id)]
        if recorded_by is not None:
            reads.append(("signer_of_case", who | {"person": recorded_by}))
        locked, found, signing, facts, *clerk = self.work.send(reads)
        if not found.rows or not locked.rows:
            raise NotFound("no {kind} '{id}'", kind=kind, id=case_id)
        row = found.rows[0]
        check_open(row["unit_id"], bool(row["unit_open"]), action)
        case = case_of(kind, case_id, row)
        check_version(case, expected_version)
        who_signs, register = signer(signing.rows, actor)
        recording = signer(clerk[0].rows, recorded_by)[0] if recorded_by is not None and recorded_by != actor \
            else None
        return Loaded(Head(**locked.rows[0]), case, row["unit_id"], who_signs, recording, register,
                      self.pipelines.in_force(self.work, row["unit_id"], row["pipeline"], row["adopted_seq"]),
                      facts.rows[0] if facts.rows else {})

    def advance(self, kind: str, case_id: str, action: str, actor: str, *, expected_version: int | None = None,
                recorded_by: str | None = None, reason: str | None = None, ground: str | None = None,
                decision: str | None = None, **recorded: Any) -> Signed:
        """Sign one step of a pipeline. `recorded` are what the event carries that no rule reads: the comment and
        the scanned sheet's hash."""
        got = self.load(kind, case_id, action, actor, recorded_by=recorded_by, expected_version=expected_version)
        step = decide(got.in_force.machine, got.case, Command(kind, case_id, action, got.signer, reason=reason,
                                                              ground=ground, decision=decision,
                                                              recorded_by=got.recording))
        at = self.append.time(got.head, got.register)
        data = self.kinds[kind].check(self.work, got.in_force, got.case, got.facts, step, at)
        event = self.append.event(
            got.head, at, register_seq=got.register.seq, pipeline=got.in_force.pipeline.fingerprint,
            recorded_by=got.recording.id if got.recording else None, reason=reason, ground=ground, decision=decision,
            data=canonical(data) if data else None, **step_fields(kind, case_id, step, actor), **recorded)
        after = apply(got.case, kind, case_id, step, actor)
        ops = self.kinds[kind].on_step(got.in_force, after, got.unit, got.facts, step, self.today(at), actor)
        self.commit(event, [("update_case", case_row(after, got.unit, at))], ops, actor)
        return Signed(self.signed(event), after, got.unit)

    def reassign(self, kind: str, case_id: str, actor: str, to: str, *, reason: str | None, comment: str | None,
                 expected_version: int | None) -> Signed:
        """Hand a draft to another drafter of its unit, signed by its drafter or by its kind's reassigner: the
        reminders its drafter had go to the new one."""
        got = self.load(kind, case_id, REASSIGN, actor, expected_version=expected_version)
        taker = signer(self.work.rows("signer_of_case", {"register": REGISTER, "kind": kind, "id": case_id,
                                                          "person": to}), to)[0]
        step = decide(got.in_force.machine, got.case, Command(kind, case_id, REASSIGN, got.signer, reason=reason,
                                                              to=taker))
        at = self.append.time(got.head, got.register)
        event = self.append.event(got.head, at, register_seq=got.register.seq,
                                  pipeline=got.in_force.pipeline.fingerprint, comment=comment, reason=reason,
                                  data=canonical({"to": to}), **step_fields(kind, case_id, step, actor))
        after = apply(got.case, kind, case_id, step, actor)
        handover = Handover(got.case.drafter, after.drafter, item_id=case_id if kind == "item" else None,
                            request_id=case_id if kind == "request" else None)
        self.commit(event, [("update_case", case_row(after, got.unit, at))], [handover], actor)
        return Signed(self.signed(event), after, got.unit)

    def note(self, head: Head, at: str, kind: str, case_id: str, actor: str, register_seq: int,
             link: dict[str, Any]) -> list[Statement]:
        """A link note on a case of this chain's unit, naming the event of another chain that links to it
        (appended in the same transaction). The statements that store it; its case must exist here."""
        row = self.work.one("case_for_step", {"kind": kind, "id": case_id})
        if row is None:
            raise NotFound("no {kind} '{id}'", kind=kind, id=case_id)
        check_open(row["unit_id"], bool(row["unit_open"]), LINK)
        case = case_of(kind, case_id, row)
        in_force = self.pipelines.in_force(self.work, row["unit_id"], row["pipeline"], row["adopted_seq"])
        who, _ = signer(self.work.rows("signer", {"register": REGISTER, "chain": head.chain, "person": actor}),
                        actor)
        step = decide(in_force.machine, case, Command(kind, case_id, LINK, who))
        event = self.append.event(head, at, register_seq=register_seq, pipeline=in_force.pipeline.fingerprint,
                                  data=canonical({"link": link}), **step_fields(kind, case_id, step, actor))
        after = apply(case, kind, case_id, step, actor)
        self.signed(event)
        return [*appending(event), ("update_case", case_row(after, row["unit_id"], at))]

    def commit(self, event: Event, writes: list[Statement], ops: list[Op], actor: str) -> list[Sent]:
        """Send the event, the head's move, the case's writes and the deadlines' statements in one batch; the head
        and the case must have moved from where they were read."""
        deadlines = statements(ops, self.timeline, self.config.deadlines.published_state,
                               f"{event.chain}:{event.seq}", actor, event.at)
        sent = self.work.send([*appending(event), *writes, *deadlines])
        self.work.moved(sent[1], Phrase("chain {chain}", chain=event.chain))
        self.work.moved(sent[2], f"{event.case_kind} {event.case_id}")
        return sent

    def signed(self, event: Event) -> Signature:
        sig = Signature.of(event)
        self.work.signed.append(sig)
        return sig

    def today(self, at: str) -> date:
        return self.config.office.date_of(datetime.fromisoformat(at))


def check_version(case: Case, expected: int | None) -> None:
    if expected is not None and case.version != expected:
        raise ItemChanged("{case} changed since you read it (version {expected}, now {version}, state {state}); "
                          "reload it and try again", case=case.label, expected=expected, version=case.version,
                          state=case.state)


def step_fields(kind: str, case_id: str, step: Step, actor: str) -> dict[str, Any]:
    """The event's fields that the rules decided."""
    return {"case_kind": kind, "case_id": case_id, "round": step.round, "action": step.action,
            "from_state": step.from_state, "to_state": step.to_state, "actor": actor, "role": step.role,
            "content_hash": step.content_hash}
