"""`verify`: stream each chain, recompute every hash and link, and fold every event through the same rulebooks
that decided it (`states.rules` for cases, `states.authority` for acts), with the roles and the pipeline as the
chain had adopted them at that event. A signature the rules cannot judge is a failure, never a pass.

The register is checked first: it says which units exist, who was an active person and an admin at each of
its events, and (in its seals) where every unit's chain stood. Each unit's chain is then checked on its own,
judged by the register as it stood at the register event each of its events names. Last, the engine's tables
(people, roles, units, pipelines in force, cases, items' content) must be what the chains fold to, and every
event in the table must have been reached.

`since`: only what follows a digest is rechecked; the acts and the cases the new events touch are folded from
the events before, each of which must still hash as it did, but whose links and rules are not rechecked.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from states import Refused
from states.authority import (
    ADMIN,
    AUTHORITY_KINDS,
    CLOSE,
    OPEN,
    REGISTER,
    SCREEN,
    SEAL,
    Act,
    Register,
    Screening,
    UnitBook,
    check_open,
    decide_register,
    decide_unit,
)
from states.kinds import ITEM, OVERRIDE, REQUEST, open_cases
from states.numbers import Numbering
from states.requests import REPLY, Clock
from states.rules import CREATE, EDIT, LINK, REASSIGN, REDACT, Case, Command, Signer, Step, apply, decide
from workflow import documents, notices, requests
from workflow.ledger import tables
from workflow.ledger.events import Digest, Event, event_hash, is_stamp
from workflow.ledger.screens import ItemScreens, Refuted
from workflow.pipelines import InForce, Pipelines
from workflow.schema import GENESIS_HASH
from workflow.uow import Work

_DRAFTING = (CREATE, EDIT, REDACT)  # the steps that sign new content
# What a step's data may hold: the other copy of a linked event; a creation's number in its year; the drafter a
# draft was reassigned to; the pre-screen of its text; a redaction's spans and the original body's hash; the
# findings an override accepts.
_DATA = {CREATE: {"link", "year", "number", "requests", "screen"}, EDIT: {"screen"}, LINK: {"link"},
         REASSIGN: {"to"}, REDACT: {"original", "redactions", "screen"}, OVERRIDE: {"findings"}}
_NEEDS = {LINK: {"link"}, REASSIGN: {"to"}, REDACT: {"original", "redactions", "screen"}, OVERRIDE: {"findings"}}
_STEP = {"link", "screen"}  # any other step: a link note's, or a screen (as a draft goes to review, clear, publish)


@dataclass
class Report:
    events: int = 0  # checked (with `since`: the new ones)
    chains: int = 0
    cases: int = 0
    problems: list[str] = field(default_factory=list)
    digest: Digest | None = None  # the register's head: the root digest
    sealed: bool = False  # the register's last event is a seal of every chain as it is now
    since: Digest | None = None  # events up to it (and the chain positions of its seal) were not rechecked
    simulation: bool = False  # made by `init --simulation`: its clock may be set by hand, so its times prove nothing

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> str | None:
        return self.problems[0] if self.problems else None


class Broken(Exception):
    """The first problem of a chain: what follows it in that chain cannot be judged."""


@dataclass(frozen=True)
class Start:
    """Where a chain's check starts: before its first event, or (since) at a digest's position."""

    seq: int = 0
    hash: str = GENESIS_HASH
    at: str = ""


@dataclass(frozen=True)
class Copy:
    """One copy of an event written to two chains, and the other copy it names."""

    chain: str
    seq: int
    hash: str
    action: str
    actor: str | None
    names: tuple[str, int, str | None]  # the other copy: chain, seq, and (the later copy) its hash


class Verifier:
    def __init__(self, work: Work, pipelines: Pipelines, *, max_skew: float, now: datetime) -> None:
        self.work = work
        self.pipelines = pipelines
        self.skew = timedelta(seconds=max_skew)
        self.now = now
        self.report = Report()
        self.register = Register()
        self.register_times: list[datetime] = []  # of each register event, by seq - 1
        self.books: dict[str, UnitBook] = {}
        self.sealed: dict[tuple[str, int], str] = {}  # every position any seal names -> the hash it names
        self.last_seal: dict[str, tuple[int, str]] = {}
        self.seal_times: dict[str, list[tuple[int, datetime, int]]] = {}  # chain -> (position, seal's time, seq)
        self.copies: dict[tuple[str, int], Copy] = {}
        self.hashes: dict[tuple[str, int], str] = {}  # of the events seals name, as found
        self.ends: dict[str, int] = {}
        self.broken: set[str] = set()  # chains with a problem of their own: their tables are not compared

    def run(self, against: Digest | None = None, since: Digest | None = None) -> Report:
        with self.work.lenient_text():
            try:
                return self._run(against, since)
            except Broken as broken:
                self.report.problems.append(str(broken))
                return self.report

    def _run(self, against: Digest | None, since: Digest | None) -> Report:
        heads = {h["chain"]: h for h in self.work.rows("heads")}
        if REGISTER not in heads:
            self.report.problems.append("the register has no chain head (zwgk_chain was altered, or the register "
                                        "was never started: zwgk init --admin ID --name NAME)")
            return self.report
        self.report.digest = Digest(heads[REGISTER]["seq"], heads[REGISTER]["hash"])
        self.report.since = since
        starts = self._since(since) if since is not None else {}
        self._chain(RegisterFold(self, against), heads, starts.get(REGISTER, Start()))
        self.report.simulation = self.register.simulation
        if REGISTER in self.broken:  # every unit's event is judged by the register: none can be here
            return self.report
        units = self.register.units()
        for chain in sorted(set(units) | set(heads) - {REGISTER}):
            if chain not in units:
                self._problem(f"chain {chain} belongs to no unit of the register (made behind the engine's back)")
            elif chain not in heads:
                self._problem(f"unit {chain} of the register has no chain (its events and head were deleted)")
            else:
                start = starts.get(chain, Start())
                self._chain(UnitFold(self, chain, start.seq, full=since is None), heads, start)
        self._check_sealed()
        self._check_copies()
        self.report.problems.extend(tables.authority(self.work, self.register, self.books, self.broken))
        self.report.problems.extend(tables.screening(self.work, self.books, self.broken))
        if since is None:
            walked = None if self.broken or self.report.problems else self.report.events
            self.report.problems.extend(tables.strays(self.work, set(self.ends), walked))
        current = {c: (h["seq"], h["hash"]) for c, h in heads.items() if c != REGISTER}
        self.report.sealed = self.last_seal == current and heads[REGISTER]["seq"] == self.register.last_seal_seq
        return self.report

    def _problem(self, text: str) -> None:
        self.report.problems.append(text)

    def _chain(self, fold: RegisterFold | UnitFold, heads: dict[str, Any], start: Start) -> None:
        chain = fold.chain
        self.report.chains += 1
        try:
            with self.work.events("chain_events", {"chain": chain, "after": start.seq}) as events:
                seq, last, at = self.walk(fold, events, start)
        except Broken as broken:
            self._problem(str(broken))
            self.broken.add(chain)
            return
        head = heads[chain]
        if (head["seq"], head["hash"]) != (seq, last):
            self._problem(f"chain {chain}: its head says event {head['seq']} but the chain ends at event {seq} "
                          "(events deleted from the end, or the head was altered)")
        elif head["at"] != at:  # the time the next signature is held to
            self._problem(f"chain {chain}: its head's time {head['at']} is not its last event's ({at}): the head was "
                          "altered")
        self.report.problems.extend(fold.finish())

    def walk(self, fold: RegisterFold | UnitFold, events: Iterable[Event], start: Start) -> tuple[int, str, str]:
        """Check and fold a chain's events after `start`: their place, link, hash and time, then the rules. The
        chain's last (seq, hash, time); `Broken` at its first problem."""
        seq, prev, at = start.seq, start.hash, start.at
        chain = fold.chain
        sealed = {s for (c, s) in self.sealed if c == chain}
        latest = self.now + self.skew
        try:
            for e in events:
                self.report.events += 1
                when = _check_link(e, seq, prev, at)
                known = self.register.seq > 0  # whether this is a simulation, whose clock may run ahead
                if known:
                    self._not_later(e, when, latest)
                fold.feed(e, when)
                if not known:  # the register's first event, which says
                    self._not_later(e, when, latest)
                seq, prev, at = e.seq, e.hash, e.at
                if seq in sealed:
                    self.hashes[(chain, seq)] = e.hash
        finally:
            self.ends[chain] = seq
        return seq, prev, at

    def _not_later(self, e: Event, when: datetime, latest: datetime) -> None:
        if when > latest and not self.register.simulation:
            raise Broken(f"chain {e.chain} event {e.seq}: its time {e.at} is later than now: no clock of this office "
                         "could have written it")

    # -- since ------------------------------------------------------------------------------------------------

    def _since(self, since: Digest) -> dict[str, Start]:
        """Where each chain's recheck starts: after the digest's register event, and after the positions the last
        seal up to it names. The acts before are folded (read, not rechecked)."""
        event = self._event(REGISTER, since.seq)
        if event is None:
            raise Broken(f"digest {since}: the register has no event {since.seq} (events deleted from its end, or a "
                         "digest of another database)")
        if event.hash != since.hash or event_hash(event[:-1]) != since.hash:
            raise Broken(f"digest {since}: the register's event {since.seq} is not the one the digest names (the "
                         "log was rewritten)")
        starts = {REGISTER: Start(event.seq, event.hash, event.at)}
        sealed: dict[str, tuple[int, str]] = {}
        with self.work.events("acts_before", {"chain": REGISTER, "upto": since.seq}) as acts:
            for e in map(_check_hash, acts):
                act = _act(e)
                with _judging(e):
                    self.register.apply(e.seq, act)
                    self.register_times.append(datetime.fromisoformat(e.at))
                    if act.action == SEAL:
                        sealed = _positions(act)
                        self.seal_found(sealed, datetime.fromisoformat(e.at), e.seq)
        for chain, (seq, digest) in sealed.items():
            found = self._event(chain, seq) if seq else None
            if seq and (found is None or found.hash != digest or event_hash(found[:-1]) != digest):
                raise Broken(f"chain {chain}: event {seq} is not the one the seal up to digest {since} names (the "
                             "log was rewritten)")
            starts[chain] = Start(seq, digest, found.at if found else "")
        return starts

    def seal_found(self, positions: dict[str, tuple[int, str]], when: datetime, seq: int) -> None:
        for chain, (position, _) in positions.items():
            self.seal_times.setdefault(chain, []).append((position, when, seq))

    def _event(self, chain: str, seq: int) -> Event | None:
        row = self.work.one("event", {"chain": chain, "seq": seq})
        return Event(**row) if row else None

    # -- what names other events ------------------------------------------------------------------------------

    def _check_sealed(self) -> None:
        """Every position a seal names is in its chain, and holds the event it named."""
        for (chain, seq), digest in sorted(self.sealed.items()):
            if chain in self.broken or chain not in self.ends:  # its own problem is named already
                continue
            if self.ends[chain] < seq and (self.report.since is None or seq > 0):
                self._problem(f"chain {chain} ends at event {self.ends[chain]}, before event {seq} that a seal of "
                              "the register names (events deleted from the end)")
            elif self.hashes.get((chain, seq), digest) != digest:
                self._problem(f"chain {chain}: event {seq} differs from what a seal of the register names "
                              "(rewritten)")

    def _check_copies(self) -> None:
        """Each copy of a linked event names the other, the later copy the earlier one's hash; a link note goes
        with the step that made it, signed by the same person."""
        for key, copy in sorted(self.copies.items()):
            other_chain, other_seq, digest = copy.names
            if {copy.chain, other_chain} & self.broken:  # a chain's own problem is named already
                continue
            other = self.copies.get((other_chain, other_seq)) or self._copy(other_chain, other_seq)
            where = f"chain {copy.chain} event {copy.seq}"
            if other is None or other.names[:2] != key:
                self._problem(f"{where}: names event {other_seq} of chain {other_chain} as its other copy, which "
                              "does not name it back")
            elif digest is not None and other.hash != digest:
                self._problem(f"{where}: its other copy ({other_chain} event {other_seq}) differs")
            elif (copy.action == LINK) and (other.action == LINK or other.actor != copy.actor):
                self._problem(f"{where}: a link note that no step of another unit's case made")

    def _copy(self, chain: str, seq: int) -> Copy | None:
        """A copy outside what was rechecked (since), or one that names nothing."""
        event = self._event(chain, seq) if chain in self.ends else None
        if event is None or not event.data:
            return None
        try:
            link = event.payload().get("link")
            return _copy(event, link) if link is not None else None
        except Exception:  # data no engine wrote: it names nothing
            return None


@contextmanager
def _judging(e: Event) -> Iterator[None]:
    """Whatever an event holds that the rules cannot even read is a problem of that event, not a crash."""
    try:
        yield
    except (Broken, Refused):
        raise
    except Exception as problem:  # data no engine wrote: a list for a mapping, a missing key, a wrong type
        raise Broken(f"chain {e.chain} event {e.seq}: cannot be judged ({type(problem).__name__}: {problem})") \
            from None


def _check_hash(e: Event) -> Event:
    """An event whose contents still hash to its hash: every event verify reads, even one it only folds (since).
    (Its place is put into words only for a problem: this runs for every event.)"""
    try:
        digest = event_hash(e[:-1])
    except (TypeError, ValueError):  # bytes, a BLOB: what only an edit behind the engine's back stores
        raise Broken(f"chain {e.chain} event {e.seq}: holds a value no event is made of (event modified)") from None
    if digest != e.hash:
        raise Broken(f"chain {e.chain} event {e.seq}: contents do not match its hash (event modified)")
    return e


def _check_link(e: Event, seq: int, prev: str, at: str) -> datetime:
    """A chain's own checks of an event: its place, its link, its hash, its time. The event's time."""
    where = f"chain {e.chain} event {e.seq}"
    if type(e.seq) is not int:
        raise Broken(f"chain {e.chain}: the event after {seq} has sequence number {e.seq!r}, not a whole number")
    if e.seq != seq + 1:
        kind = "missing or reordered" if e.seq > seq + 1 else "duplicated"
        raise Broken(f"chain {e.chain}: sequence jumps from {seq} to {e.seq} ({kind} events)")
    if e.prev_hash != prev:
        raise Broken(f"{where}: previous-hash link broken (event deleted, inserted or reordered)")
    _check_hash(e)
    try:
        when = datetime.fromisoformat(e.at) if is_stamp(e.at) else None
    except ValueError:
        when = None
    if when is None:
        raise Broken(f"{where}: its time {e.at!r} is not one the engine writes")
    if e.at < at:
        raise Broken(f"{where}: its time {e.at} is before the event before it ({at}): a chain's time never goes "
                     "backwards")
    return when


def _act(e: Event) -> Act:
    with _judging(e):
        act = Act(e.chain, e.case_kind, e.case_id, e.action, e.actor, e.payload())
        if not isinstance(act.data, dict):
            raise TypeError("its data is not a mapping")
        return act


def _positions(act: Act) -> dict[str, tuple[int, str]]:
    return {str(c): (int(s), str(h)) for c, s, h in act.data["chains"]}


def _copy(e: Event, link: Any) -> Copy:
    with _judging(e):
        names = (str(link["chain"]), int(link["seq"]), str(link["hash"]) if "hash" in link else None)
    return Copy(e.chain, e.seq, e.hash, e.action, e.actor, names)


class RegisterFold:
    """The register's chain, folded through `states.authority`."""

    chain = REGISTER

    def __init__(self, v: Verifier, against: Digest | None) -> None:
        self.v = v
        self.against = against

    def feed(self, e: Event, when: datetime) -> None:
        where = f"chain {REGISTER} event {e.seq}"
        act = _act(e)
        if e.register_seq is not None or e.round is not None or e.case_kind not in AUTHORITY_KINDS:
            raise Broken(f"{where}: is not an act of the register")
        if e.role != (ADMIN if e.actor is not None and e.seq > 1 else None) or e.pipeline is not None:
            raise Broken(f"{where}: signed as {e.role}, not as the rules sign it")
        reg = self.v.register
        with _judging(e):
            try:
                decide_register(reg.at(e.seq - 1), act, first=e.seq == 1)
            except Refused as refused:
                raise Broken(f"{where}: {refused} (an act the rules would have refused)") from None
            reg.apply(e.seq, act)
            self.v.register_times.append(when)
            if act.action == SEAL:
                self.v.last_seal = _positions(act)
                self.v.sealed.update({(c, s): h for c, (s, h) in self.v.last_seal.items() if s})
                self.v.seal_found(self.v.last_seal, when, e.seq)
            if "link" in act.data:
                self.v.copies[(e.chain, e.seq)] = _copy(e, act.data["link"])
        if self.against is not None and e.seq == self.against.seq and e.hash != self.against.hash:
            self.v.report.problems.append(f"digest {self.against}: the register's event {e.seq} differs from it "
                                          "(the log was rewritten)")

    def finish(self) -> list[str]:
        if self.against is not None and self.against.seq > self.v.register.seq:
            return [f"digest {self.against}: the register ends at event {self.v.register.seq}, before it (events "
                    "deleted from the end)"]
        return []


class UnitFold:
    """A unit's chain: its acts through `states.authority`, its cases through `states.rules`."""

    def __init__(self, v: Verifier, unit: str, after: int, *, full: bool) -> None:
        self.v = v
        self.chain = unit
        self.full = full
        self.book = UnitBook(unit)
        self.cases: dict[tuple[str, str], Case] = {}
        self.numbers = Numbering(unit, known=not after)
        self.request_numbers = Numbering(unit, mark=requests.MARK, known=not after)
        self.clocks: dict[str, Clock] = {}  # each request's, folded as its events are
        self.screens = ItemScreens(v.work)  # each item's redactions, accepted findings and screens
        self.register_seq = 0
        self.in_force: dict[str, InForce] = {}
        self.after = after
        self.seals = deque(sorted(v.seal_times.get(unit, [])))  # found at these positions: later events came after
        self.sealed_before: tuple[datetime, int] | None = None  # the latest seal of a position before the event
        if after:  # since: the acts before are folded, not rechecked
            with v.work.events("acts_before", {"chain": unit, "upto": after}) as acts:
                for e in map(_check_hash, acts):
                    with _judging(e):
                        self._apply_act(e, _act(e))
                        self.register_seq = e.register_seq or 0

    def feed(self, e: Event, when: datetime) -> None:
        where = f"chain {self.chain} event {e.seq}"
        self._register_seq(e, when, where)
        self._after_seals(e, when, where)
        with _judging(e):
            try:
                if e.case_kind in AUTHORITY_KINDS:
                    self._act(e, where)
                else:
                    self._step(e, where)
            except Refused as refused:
                raise Broken(f"{where}: {refused} (a signature the rules would have refused)") from None

    def _register_seq(self, e: Event, when: datetime, where: str) -> None:
        """The register event a unit's event names is a real one, no older than the chain's last, and no staler
        than the clocks allow: its next register event was not made, as far as the clocks can tell, before this
        one (else a signature could claim the register as it stood before its signer was deactivated)."""
        rseq, reg = e.register_seq, self.v.register
        if type(rseq) is not int or not 0 < rseq <= reg.seq or rseq < self.register_seq:
            raise Broken(f"{where}: decided under register event {rseq!r}, which is not a register event at or after "
                         f"{self.register_seq}")
        if rseq < reg.seq and self.v.register_times[rseq] + self.v.skew < when:
            raise Broken(f"{where}: decided under register event {rseq}, though register event {rseq + 1} was made "
                         f"at {self.v.register_times[rseq].isoformat()}, more than max_clock_skew before it")
        if when + self.v.skew < self.v.register_times[rseq - 1]:
            raise Broken(f"{where}: dated {e.at}, more than max_clock_skew before register event {rseq} "
                         f"({self.v.register_times[rseq - 1].isoformat()}) that it was decided under (backdated)")
        unit = reg.unit_at(self.chain, rseq)
        if unit is None or (not unit.open and e.action != CLOSE):
            raise Broken(f"{where}: unit {self.chain} was not an open unit of the register at register event {rseq}")
        self.register_seq = rseq

    def _after_seals(self, e: Event, when: datetime, where: str) -> None:
        """A seal found the chain at some position: every later event of it was appended after that seal (within
        the clocks' skew), else an event could be slipped in behind a seal, dated before it."""
        while self.seals and self.seals[0][0] < e.seq:
            _, sealed_at, seq = self.seals.popleft()
            if self.sealed_before is None or sealed_at > self.sealed_before[0]:
                self.sealed_before = (sealed_at, seq)
        if self.sealed_before is not None and when + self.v.skew < self.sealed_before[0]:
            sealed_at, seq = self.sealed_before
            raise Broken(f"{where}: dated {e.at}, more than max_clock_skew before the seal of register event {seq} "
                         f"({sealed_at.isoformat()}) that found chain {self.chain} before it (backdated)")

    def _act(self, e: Event, where: str) -> None:
        act = _act(e)
        if e.role != ADMIN:
            raise Broken(f"{where}: signed as {e.role}, not as {ADMIN}")
        if (act.case_kind == "unit" and act.action == OPEN) != (e.seq == 1):
            raise Broken(f"{where}: a unit's chain opens with its first event, and only then")
        pipeline, cases = None, []
        if act.case_kind == "pipeline":
            pipeline = self.v.pipelines.load(self.v.work, str(e.pipeline)).pipeline
            current = self.in_force.get(act.case_id)
            cases = open_cases(current.pipeline if current else None,
                               [c for (kind, _), c in self.cases.items() if kind == act.case_id])
        elif e.pipeline is not None:
            raise Broken(f"{where}: names a pipeline, which only an adoption does")
        screening = self._screening(act) if act.case_kind == SCREEN else None
        decide_unit(self.v.register.at(int(e.register_seq or 0)), self.book, act, pipeline=pipeline, open_cases=cases,
                    screening=screening)
        self._apply_act(e, act)

    def _screening(self, act: Act) -> Screening | None:
        """The stored screening rules an adoption names (None: none hash to its fingerprint)."""
        from workflow import screening

        found = screening.by_fingerprint(self.v.work, str(act.data.get("rules")))
        return found.as_adopted() if found is not None else None

    def screen_rules_in_force(self) -> str:
        """The fingerprint of the screening rules in force in this unit at the event being folded: the ones its
        chain adopted last, else the built-in ones (of this engine: a unit that adopted none follows them)."""
        if self.book.screen is not None:
            return self.book.screen
        from workflow import screening

        return screening.builtin().fingerprint

    def _apply_act(self, e: Event, act: Act) -> None:
        in_force = self.v.pipelines.load(self.v.work, str(e.pipeline)) if act.case_kind == "pipeline" else None
        self.book.apply(act, in_force.pipeline if in_force else None)
        if in_force is not None:
            self.in_force[in_force.pipeline.kind] = in_force
        if "link" in act.data:
            self.v.copies[(e.chain, e.seq)] = _copy(e, act.data["link"])

    def _step(self, e: Event, where: str) -> None:
        check_open(self.chain, self.book.open, e.action)
        kind, case_id = e.case_kind, e.case_id
        in_force = self.in_force.get(kind)
        if in_force is None or e.pipeline != in_force.pipeline.fingerprint:
            raise Broken(f"{where}: signed under pipeline {str(e.pipeline)[:12]}, not the one unit {self.chain} had "
                         f"adopted for {kind}s then")
        key = (kind, case_id)
        case = self.cases.get(key)
        if case is None and self.after:
            case = self._earlier(kind, case_id)
        reg, rseq = self.v.register, int(e.register_seq or 0)
        data = _request_data(e, where) if kind == REQUEST.name else _data(e, where)
        recorded_by = _signer(reg, self.book, e.recorded_by, rseq) if e.recorded_by is not None else None
        to = _signer(reg, self.book, data["to"], rseq) if "to" in data else None
        step = decide(in_force.machine, case, Command(
            kind, case_id, e.action, _signer(reg, self.book, e.actor, rseq),
            content_hash=e.content_hash if e.action in _DRAFTING else None, reason=e.reason, ground=e.ground,
            decision=e.decision, recorded_by=recorded_by, to=to))
        if (step.round, step.from_state, step.to_state, step.role, step.content_hash) != (
                e.round, e.from_state, e.to_state, e.role, e.content_hash):
            raise Broken(f"{where}: records {e.action} of {kind} {case_id} as round {e.round}, {e.from_state} -> "
                         f"{e.to_state} signed as {e.role}, where the rules make it round {step.round}, "
                         f"{step.from_state} -> {step.to_state} signed as {step.role}, on the content in force")
        if kind == ITEM.name and e.action == CREATE:
            number = (data["year"], data["number"]) if "number" in data else None
            self.numbers.created(case_id, number, datetime.fromisoformat(e.at))
            self._proposed(data.get("requests", []), where)
        if "link" in data:
            self.v.copies[(e.chain, e.seq)] = _copy(e, data["link"])
        if kind == REQUEST.name:
            self._request(e, data, where)
        if kind == ITEM.name:
            try:
                self.screens.step(e, data, in_force, case, rules_in_force=self.screen_rules_in_force())
            except Refuted as refuted:
                raise Broken(f"{where}: {refuted}") from None
        self.cases[key] = apply(case, kind, case_id, step, str(e.actor))

    def _fold_clock(self, e: Event, data: dict[str, Any], *, judged: bool) -> None:
        """A request's step on its clock: `judged` against the calendar where its signer had it (a step rechecked),
        or folded as recorded (one before a `since` digest, read and not rechecked)."""
        config = self.v.pipelines.config
        clock = requests.fold(self.clocks.get(e.case_id), e.action, data, e.reason, e.case_id,
                              config.office.date_of(datetime.fromisoformat(e.at)),
                              config.calendar if judged else None)
        if clock is not None:
            self.clocks[e.case_id] = clock

    def _proposed(self, asked: Any, where: str) -> None:
        """An item proposed for proactive disclosure from requests (Art. 44) names requests of its unit."""
        if not isinstance(asked, list) or not all(isinstance(r, str) and ("request", r) in self.cases for r in asked):
            raise Broken(f"{where}: names as its requests what are no requests of unit {self.chain} before it")

    def _request(self, e: Event, data: dict[str, Any], where: str) -> None:
        """A request's step on its clock (without the calendar: the limits it recorded), its number, its letter."""
        if e.action == CREATE:
            number = (data["year"], data["number"]) if "number" in data else None
            self.request_numbers.created(e.case_id, number, datetime.fromisoformat(e.at))
        self._fold_clock(e, data, judged=True)
        if e.action == "propose" and ("item", data["item"]) not in self.cases:
            raise Broken(f"{where}: proposed for item {data['item']}, which is no item of unit {self.chain}")
        if e.action in (CREATE, REPLY):  # the clock's copy of what the request signs (its row is held to its hash)
            row = self.v.work.one("request", {"id": e.case_id})
            signed = (row["received_on"] if e.action == CREATE else json.loads(row["reply"] or "{}").get("type")) \
                if row is not None else None
            if signed != data["received_on" if e.action == CREATE else "reply"]:
                raise Broken(f"{where}: records what the request it signs does not say (its receipt day, or the "
                             "type of the reply reviewed)")
        if e.action == "fee_notice" and data["amount"] != requests.fee_of(data):
            raise Broken(f"{where}: a fee of {data['amount']} yuan, which its basis and rates do not give")
        self._letters(e, data.get("letters", []), where)

    def _letters(self, e: Event, letters: list[dict[str, str]], where: str) -> None:
        """A step's letters: of the kinds the step sends, each present and intact, each naming its request."""
        if [x["kind"] for x in letters] != list(notices.LETTERS.get(e.action, ())):
            raise Broken(f"{where}: names letters that are not the ones {e.action} sends")
        for letter in letters:
            for sha in (letter[f] for f in notices.FORMATS):
                found = documents.find(self.v.work, sha)
                if found is None or not found.intact:
                    raise Broken(f"{where}: names document {sha[:12]}, which is "
                                 f"{'gone' if found is None else 'altered'} (zwgk_document)")
            if not notices.names(documents.get(self.v.work, letter["text"]), e.case_id, letter["kind"]):
                raise Broken(f"{where}: names a letter of another request or kind")

    def _earlier(self, kind: str, case_id: str) -> Case | None:
        """A case folded from its events before the recheck (read, not rechecked)."""
        case = None
        with self.v.work.events("case_events_before", {"kind": kind, "id": case_id, "chain": self.chain,
                                                      "upto": self.after}) as events:
            for e in map(_check_hash, events):
                step = Step(e.action, e.from_state, str(e.to_state), e.role, int(e.round or 0), str(e.content_hash),
                            e.payload().get("to") if e.action == REASSIGN else None)
                if kind == ITEM.name:
                    self.screens.step(e, e.payload() if e.data else {}, self.in_force[kind], case, judged=False)
                case = apply(case, kind, case_id, step, str(e.actor))
                if kind == REQUEST.name:
                    self._fold_clock(e, e.payload() if e.data else {}, judged=False)
        return case

    def finish(self) -> list[str]:
        self.v.books[self.chain] = self.book
        self.v.report.cases += len(self.cases)
        problems = tables.cases(self.v.work, self.chain, self.cases, every=self.full)
        if self.full:
            problems += tables.numbers(self.v.work, self.chain, self.numbers.last)
            problems += tables.numbers(self.v.work, self.chain, self.request_numbers.last, "request")
            problems += tables.attachments(self.v.work, self.chain)
        return problems + tables.applicants(self.v.work, {c: k.erased for c, k in self.clocks.items()})


def _data(e: Event, where: str) -> dict[str, Any]:
    """A step's data, holding only what the engine writes for its action (and all that its action needs)."""
    data = e.payload() if e.data is not None else {}
    keys = set(data) if isinstance(data, dict) else set()
    if (e.data is not None and not keys) or not _NEEDS.get(e.action, set()) <= keys <= _DATA.get(e.action, _STEP) \
            or ("year" in keys) != ("number" in keys):
        raise Broken(f"{where}: a link note naming no other copy, or data no signature writes")
    if any(type(data[k]) is not int for k in keys & {"year", "number"}) or type(data.get("to", "")) is not str:
        raise Broken(f"{where}: data no signature writes")
    return data


# What each step of a request's records besides its fields (states/requests.py judges the values).
_REQUEST_DATA: dict[str, tuple[set[str], set[str]]] = {  # action: (needed, allowed besides)
    CREATE: ({"received_on"}, {"year", "number"}),
    "correct_notice": ({"on", "correct_by", "letters"}, set()), "corrected": ({"on"}, set()),
    "extend": ({"on", "days", "letters"}, set()), "consult": ({"on", "party", "limit", "letters"}, set()),
    "consulted": ({"on", "party"}, set()), "fee_notice": ({"on", "amount", "basis", "limit", "letters", "rates"},
                                                          {"count", "pages"}),
    "fee_paid": ({"on"}, set()), "art35": ({"on", "due_on", "letters"}, set()), "review": ({"on", "review"}, set()),
    "review_outcome": ({"on", "n", "outcome"}, set()), "erase": ({"on"}, set()), "propose": ({"on", "item"}, set()),
    REPLY: ({"reply", "letters"}, set()), REASSIGN: ({"to"}, set()),
}


def _request_data(e: Event, where: str) -> dict[str, Any]:
    """A request's step, holding only what the engine writes for its action, each letter as its documents' hashes."""
    data = e.payload() if e.data is not None else {}
    needed, more = _REQUEST_DATA.get(e.action, (set(), set()))
    if "on" in needed:  # a step of the clock may say that the calendar it was judged by guessed
        more = more | {"provisional"}
    if not isinstance(data, dict) or not needed <= set(data) <= needed | more or data.get("provisional", True) \
            is not True:
        raise Broken(f"{where}: data no signature writes")
    letters = data.get("letters", [])
    if not isinstance(letters, list) or ("letters" in data and not letters) or not all(
            isinstance(x, dict) and set(x) == {"kind", *notices.FORMATS} and all(
                isinstance(x[f], str) and len(x[f]) == 64 for f in notices.FORMATS) for x in letters) or (
            any(type(data[k]) is not int for k in set(data) & {"year", "number"})):
        raise Broken(f"{where}: data no signature writes")
    return data


def _signer(reg: Register, book: UnitBook, person: str | None, register_seq: int) -> Signer:
    p = reg.person_at(str(person), register_seq)
    return Signer(str(person), p is not None and p.active, book.roles.get(str(person), frozenset()))
