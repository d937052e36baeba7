"""Acts of authority: the register's people, admins and units; a unit's roles, pipelines and screening rules;
seals.

Each handler loads what the rules need from the engine's tables, lets `states.authority` decide, appends the
signed event (to both chains where an act concerns two), and writes what the rules' `apply` gives to the
tables. All in the caller's unit of work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from states import KINDS, Pipeline, builtin
from states.authority import (
    ADD,
    ADMIN,
    ADOPT,
    CLOSE,
    DEACTIVATE,
    GRANT,
    OPEN,
    REACTIVATE,
    REGISTER,
    REVOKE,
    SCREEN,
    SEAL,
    Act,
    Directory,
    Person,
    Unit,
    UnitBook,
    apply_person,
    apply_unit,
    decide_register,
    decide_unit,
    first_admin,
)
from states.errors import Phrase
from states.kinds import LAW, open_cases
from workflow.errors import AlreadyExists, NotFound
from workflow.ledger.chains import Appender, Head, appending
from workflow.ledger.events import Event, canonical
from workflow.model import Signature
from workflow.pipelines import Pipelines
from workflow.schema import GENESIS_HASH
from workflow.signing import case_of
from workflow.uow import Work

if TYPE_CHECKING:
    from workflow.screening import Rules


class Registrar:
    """The acts of one unit of work."""

    def __init__(self, work: Work, append: Appender, pipelines: Pipelines) -> None:
        self.work = work
        self.append = append
        self.pipelines = pipelines

    # -- reading the tables ----------------------------------------------------------------------------------

    def directory(self) -> Directory:
        admins = {r["person_id"] for r in self.work.rows("unit_roles", {"chain": REGISTER}) if r["role"] == ADMIN}
        people = {r["id"]: Person(r["name"], r["unit_id"], bool(r["active"]), r["id"] in admins)
                  for r in self.work.rows("people")}
        units = {r["id"]: Unit(r["name"], r["kind"], bool(r["open"])) for r in self.work.rows("units")}
        return Directory(people, units)

    def book(self, unit: str, directory: Directory) -> UnitBook:
        known = directory.unit(unit)
        if known is None:
            raise NotFound("no unit '{unit}'", unit=unit)
        book = UnitBook(unit, open=known.open)
        for r in self.work.rows("unit_roles", {"chain": unit}):
            book.roles[r["person_id"]] = book.roles.get(r["person_id"], frozenset()) | {r["role"]}
        for r in self.work.rows("unit_adoptions", {"unit": unit}):
            pipeline = self.pipelines.load(self.work, r["pipeline"]).pipeline
            book.pipelines[r["kind"]] = (pipeline.fingerprint, frozenset(role.id for role in pipeline.roles))
        screening = self.work.one("screen_adoption", {"unit": unit})
        book.screen = screening["rules"] if screening is not None else None
        return book

    # -- writing events --------------------------------------------------------------------------------------

    def _event(self, head: Head, at: str, act: Act, **fields: Any) -> Event:
        data = canonical(act.data) if act.data else None
        return self.append.event(head, at, case_kind=act.case_kind, case_id=act.case_id, action=act.action,
                                 actor=act.actor, data=data, **fields)

    def _write(self, *events: Event) -> None:
        for event in events:
            for sent in self.work.send(appending(event))[1:]:
                self.work.moved(sent, Phrase("chain {chain}", chain=event.chain))
            self.work.signed.append(Signature.of(event))

    def _register_act(self, act: Act) -> tuple[Directory, Event]:
        """Decide an act of the register's chain on the tables, and append it."""
        head = self.append.lock(REGISTER)[REGISTER]
        directory = self.directory()
        decide_register(directory, act)
        event = self._event(head, self.append.time(head), act, role=ADMIN if act.actor else None)
        self._write(event)
        return directory, event

    def _locked(self, unit: str) -> tuple[dict[str, Head], Directory, UnitBook]:
        """The heads of the register and a unit, locked: a unit's act is judged against the register exactly as
        it stands, not as it stood a moment ago."""
        heads = self.append.lock(REGISTER, unit)
        directory = self.directory()
        return heads, directory, self.book(unit, directory)

    def _unit_event(self, heads: dict[str, Head], act: Act, **fields: Any) -> Event:
        """Append a decided act to its unit's chain, under the register event it was decided on."""
        event = self._event(heads[act.chain], self.append.time(*heads.values()), act,
                            register_seq=heads[REGISTER].seq, role=ADMIN, **fields)
        self._write(event)
        return event

    # -- the register ----------------------------------------------------------------------------------------

    def open(self, admin: str, name: str, *, simulation: bool) -> None:
        """The register's first event: whether this database is a simulation, and its first admin."""
        if self.work.one("head", {"chain": REGISTER}) is not None:
            raise AlreadyExists("the register is started already; its first admin is in its first event")
        at = self.append.time(Head(REGISTER, 0, GENESIS_HASH, ""))
        self.work.run("open_chain", {"chain": REGISTER, "hash": GENESIS_HASH, "at": at})
        act = Act(REGISTER, "register", "register", OPEN, admin,
                  {"admin": {"id": admin, "name": name}, "simulation": simulation})
        decide_register(Directory({}, {}), act, first=True)
        head = self.append.lock(REGISTER)[REGISTER]
        self._write(self._event(head, at, act))
        pid, person = first_admin(act.data)
        self._person_row(pid, person, at)
        self.work.run("insert_role", {"chain": REGISTER, "person_id": pid, "role": ADMIN})

    def add_person(self, person_id: str, name: str, unit: str | None, email: str | None, phone: str | None,
                   by: str) -> None:
        directory = self.directory()
        if directory.person(person_id) is not None:
            raise AlreadyExists("person {person} already exists", person=person_id)
        if unit is not None and directory.unit(unit) is None:
            raise NotFound("no unit '{unit}'", unit=unit)
        act = Act(REGISTER, "person", person_id, ADD, by, {"name": name, "unit": unit})
        _, event = self._register_act(act)
        self._person_row(person_id, apply_person(None, act), event.at, email=email, phone=phone)

    def _person_row(self, pid: str, p: Person, at: str, *, email: str | None = None,
                    phone: str | None = None) -> None:
        self.work.run("insert_person", {"id": pid, "name": p.name, "unit_id": p.unit, "email": email,
                                        "phone": phone, "active": p.active, "at": at})

    def set_active(self, person_id: str, active: bool, by: str) -> None:
        act = Act(REGISTER, "person", person_id, REACTIVATE if active else DEACTIVATE, by)
        directory, _ = self._register_act(act)
        after = apply_person(directory.person(person_id), act)
        self.work.run("set_active", {"id": person_id, "active": after.active})

    def grant(self, person_id: str, role: str, unit: str | None, by: str, *, revoke: bool = False) -> None:
        """A role in a unit (its chain), or `admin` in the register."""
        act = Act(unit or REGISTER, "person", person_id, REVOKE if revoke else GRANT, by, {"role": role})
        if unit is None:
            self._register_act(act)
        else:
            heads, directory, book = self._locked(unit)
            decide_unit(directory, book, act)
            self._unit_event(heads, act)
        row = {"chain": act.chain, "person_id": person_id, "role": role}
        self.work.run("delete_role" if revoke else "insert_role", row)

    def add_unit(self, unit: str, name: str, kind: str, by: str) -> None:
        """The unit in the register, its chain opened (each copy naming the other), and the built-in pipeline of
        every kind of case adopted in it."""
        head = self.append.lock(REGISTER)[REGISTER]
        if self.work.one("head", {"chain": unit}) is not None or self.directory().unit(unit) is not None:
            raise AlreadyExists("unit {unit} already exists", unit=unit)
        act = Act(REGISTER, "unit", unit, ADD, by, {"name": name, "kind": kind, "link": {"chain": unit, "seq": 1}})
        decide_register(self.directory(), act)  # before anything is written
        self.work.run("open_chain", {"chain": unit, "hash": GENESIS_HASH, "at": ""})
        heads = {REGISTER: head, **self.append.lock(unit)}
        at = self.append.time(*heads.values())
        added = self._event(heads[REGISTER], at, act, role=ADMIN)
        self._write(added)
        self.work.run("insert_unit", {"id": unit, "name": name, "kind": kind, "open": True, "at": at})
        opening = Act(unit, "unit", unit, OPEN, by, {"name": name, "kind": kind, "link": _link(added)})
        decide_unit(self.directory(), UnitBook(unit), opening)
        self._write(self._event(heads[unit], at, opening, register_seq=added.seq, role=ADMIN))
        for k in KINDS.values():
            if k.units is None or kind in k.units:
                self.adopt(unit, builtin(k.name), by)

    def close_unit(self, unit: str, by: str) -> None:
        heads, directory, book = self._locked(unit)
        act = Act(REGISTER, "unit", unit, CLOSE, by, {"link": {"chain": unit, "seq": heads[unit].seq + 1}})
        decide_register(directory, act)
        at = self.append.time(*heads.values())
        closed = self._event(heads[REGISTER], at, act, role=ADMIN)
        closing = Act(unit, "unit", unit, CLOSE, by, {"link": _link(closed)})
        decide_unit(directory, book, closing)
        last = self._event(heads[unit], at, closing, register_seq=closed.seq, role=ADMIN)
        self._write(closed, last)
        self.work.run("close_unit", {"id": unit, "open": apply_unit(directory.unit(unit), act).open})
        self.work.run("dl_close_unit", {"unit": unit, "by": f"{last.chain}:{last.seq}", "at": at})

    def adopt(self, unit: str, pipeline: Pipeline, by: str) -> None:
        """Adopt `pipeline` for its kind of case in `unit`: it applies to every case of that kind from its next
        step. Refused if an open case sits in a state it lacks, or if it lets a case become public unreviewed."""
        heads, directory, book = self._locked(unit)
        current = book.pipelines.get(pipeline.kind)
        cases = [case_of(pipeline.kind, r["id"], r) for r in self.work.rows("unit_cases", {"unit": unit})
                 if r["kind"] == pipeline.kind]
        in_force = self.pipelines.load(self.work, current[0]).pipeline if current else None
        act = Act(unit, "pipeline", pipeline.kind, ADOPT, by, {"name": pipeline.name, "version": pipeline.version,
                                                             "law": LAW})
        decide_unit(directory, book, act, pipeline=pipeline, open_cases=open_cases(in_force, cases))
        self.pipelines.of(pipeline)  # the township's deadline rules must fit it too (a ConfigError if not)
        event = self._unit_event(heads, act, pipeline=pipeline.fingerprint)
        self.work.run("store_pipeline", {"fingerprint": pipeline.fingerprint, "kind": pipeline.kind,
                                         "name": pipeline.name, "version": pipeline.version,
                                         "definition": pipeline.definition, "at": event.at})
        self.work.run("delete_adopted", {"unit_id": unit, "kind": pipeline.kind})
        self.work.run("insert_adopted", {"unit_id": unit, "kind": pipeline.kind, "pipeline": pipeline.fingerprint,
                                         "seq": event.seq})

    def adopt_screen(self, unit: str, rules: Rules, by: str) -> None:
        """Adopt `rules` (an office's file merged over the built-in rules, or the built-in rules themselves) as
        the screening rules of `unit`: its items are screened with them from its next step."""
        from workflow import screening  # the pre-screen's `regex`, for the commands that adopt or screen alone

        heads, directory, book = self._locked(unit)
        act = Act(unit, SCREEN, unit, ADOPT, by, {"rules": rules.fingerprint})
        decide_unit(directory, book, act, screening=rules.as_adopted())
        screening.adopt(self.work, unit, rules, self._unit_event(heads, act))

    # -- seals -----------------------------------------------------------------------------------------------

    def seal(self) -> Event | None:
        """Record every unit chain's head in the register; None if the register's last event already is a seal
        of exactly these heads."""
        head = self.append.lock(REGISTER)[REGISTER]
        chains = [[h["chain"], h["seq"], h["hash"]] for h in self.work.rows("heads") if h["chain"] != REGISTER]
        act = Act(REGISTER, "register", "register", SEAL, None, {"chains": chains})
        last = self.work.one("event", {"chain": REGISTER, "seq": head.seq})
        if last is not None and last["action"] == SEAL and last["data"] == canonical(act.data):
            return None
        decide_register(self.directory(), act)
        event = self._event(head, self.append.time(head), act)
        self._write(event)
        return event


def _link(event: Event) -> dict[str, Any]:
    """How a copy of an act in one chain names the copy appended before it in another."""
    return {"chain": event.chain, "seq": event.seq, "hash": event.hash}

