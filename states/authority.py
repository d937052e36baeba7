"""The rulebook of authority: who may add people and units, grant and revoke roles, and adopt pipelines and
screening rules.

Every such act is an event of a chain, like a signature on a case. The register's chain holds units, people
and admins (and seals); each unit's chain holds the roles held in that unit, the pipelines and the screening
rules it adopted.
`decide_*` judges an act against the register (and the unit's book) as it stood; `apply` gives the new state
of the act's subject. The engine decides on the state it reads from its tables, `verify` on the state it
folds from the chains.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from states.errors import InputMissing, NotAuthorised, RoleMissing, SignerInactive
from states.kinds import OpenCase, check_adoptable
from states.pipeline import Pipeline

T = TypeVar("T")
REGISTER = "_register"  # the register's chain; unit ids begin with a letter or a digit, so none is this
ADMIN = "admin"
ADMIN_ZH = "登记管理员"

# Acts, as (case kind, action): the register's and a unit chain's.
OPEN, ADD, CLOSE, SEAL = "open", "add", "close", "seal"
DEACTIVATE, REACTIVATE = "deactivate", "reactivate"
GRANT, REVOKE, ADOPT = "grant", "revoke", "adopt"
SCREEN = "screen"  # a unit's screening rules (workflow/screening.py): its case id is the unit's
AUTHORITY_KINDS = ("register", "person", "unit", "pipeline", SCREEN)


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    unit: str | None  # where they work; roles are held per unit, wherever that is
    active: bool = True
    admin: bool = False


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    kind: str
    open: bool = True


@dataclass(frozen=True, slots=True)
class Act:
    """An act of authority, as the event that records it carries it."""

    chain: str
    case_kind: str
    case_id: str
    action: str
    actor: str | None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def what(self) -> str:
        return f"{self.action} {self.case_kind} {self.case_id}"


@dataclass(frozen=True, slots=True)
class Screening:
    """The screening rules an adoption names, as stored: their fingerprint, and the built-in classification-mark
    rules (severity forbid) they lack, which no unit may remove (涉密不上网)."""

    fingerprint: str
    lacks: tuple[str, ...] = ()


class RegisterView(Protocol):
    """The register as it stood when an act was decided."""

    def person(self, person_id: str) -> Person | None: ...

    def unit(self, unit_id: str) -> Unit | None: ...

    def units(self) -> list[str]: ...

    def active_admins(self) -> set[str]: ...


@dataclass
class UnitBook:
    """One unit's authority: the roles held in it, the pipeline in force for each kind of case, and the screening
    rules it adopted (None: the built-in ones of the engine that screens)."""

    unit: str
    open: bool = False
    roles: dict[str, frozenset[str]] = field(default_factory=dict)  # person -> roles held in this unit
    pipelines: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)  # kind -> (fingerprint, roles)
    law: int = 1  # the highest law an adoption here was made under: no engine goes back to an older one
    screen: str | None = None  # the fingerprint of the screening rules adopted last

    @property
    def known_roles(self) -> frozenset[str]:
        """The roles of the pipelines in force: the only ones that may be granted here."""
        return frozenset().union(*(roles for _, roles in self.pipelines.values()))

    def apply(self, act: Act, pipeline: Pipeline | None = None) -> None:
        """Fold an act of this unit's chain, already decided (an adoption with the pipeline it adopts)."""
        if act.case_kind == "unit":
            self.open = act.action == OPEN
        elif act.case_kind == "person":
            self.roles[act.case_id] = apply_roles(self.roles.get(act.case_id, frozenset()), act)
        elif act.case_kind == "pipeline" and pipeline is not None:
            self.pipelines[act.case_id] = (pipeline.fingerprint, frozenset(r.id for r in pipeline.roles))
            self.law = max(self.law, act.data.get("law", 1))
        elif act.case_kind == SCREEN:
            self.screen = str(act.data["rules"])


def check_open(unit: str, is_open: bool, action: str) -> None:
    """No event follows a unit chain's closing."""
    if not is_open:
        raise NotAuthorised("unit {unit} is closed: its chain takes no more events ({action} refused)", unit=unit,
                            action=action)


def _signer(reg: RegisterView, act: Act) -> Person:
    """The actor of an act: an active admin of the register."""
    who = reg.person(act.actor) if act.actor is not None else None
    if who is None or not who.active:
        raise SignerInactive("{act}: {actor} is not an active person of the register", act=act.what, actor=act.actor)
    if not who.admin:
        raise RoleMissing("{act}: {actor} does not hold the role {admin} ({admin_zh}) needed for it", act=act.what,
                          actor=act.actor, admin=ADMIN, admin_zh=ADMIN_ZH)
    return who


def _subject(reg: RegisterView, act: Act, *, active: bool | None = True) -> Person:
    subject = reg.person(act.case_id)
    if subject is None:
        raise NotAuthorised("{act}: there is no person {person} in the register", act=act.what, person=act.case_id)
    if active is not None and subject.active != active:
        if active:
            raise NotAuthorised("{act}: {person} is not active", act=act.what, person=act.case_id)
        raise NotAuthorised("{act}: {person} is active", act=act.what, person=act.case_id)
    return subject


def _not_last_admin(reg: RegisterView, act: Act) -> None:
    if reg.active_admins() <= {act.case_id}:
        raise NotAuthorised("{act}: {person} is the last active admin; grant {admin} to another person first",
                            act=act.what, person=act.case_id, admin=ADMIN)


def _position(entry: Any) -> bool:
    """A seal's `[chain, seq, hash]`: every unit's chain holds at least the event that opened it."""
    return (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
            and type(entry[1]) is int and entry[1] >= 1
            and isinstance(entry[2], str) and re.fullmatch("[0-9a-f]{64}", entry[2]) is not None)


def decide_register(reg: RegisterView, act: Act, *, first: bool = False) -> None:
    """An act of the register's chain; `first` for its first event, which names the first admin."""
    if first != (act.case_kind == "register" and act.action == OPEN):
        raise NotAuthorised("{act}: the register opens with its first event, and only then", act=act.what)
    if first:
        admin = act.data.get("admin")
        if not isinstance(admin, dict) or not admin.get("id") or not admin.get("name"):
            raise InputMissing("{act}: the register opens with its first admin (id and name)", act=act.what)
        return
    if act.case_kind == "register" and act.action == SEAL:
        # A seal records every unit's chain; it grants nothing, so anyone running zwgk may append one.
        chains = act.data.get("chains")
        if not isinstance(chains, list) or not all(map(_position, chains)) \
                or sorted(c[0] for c in chains) != sorted(reg.units()):
            raise NotAuthorised("{act}: a seal names every unit's chain, and only those, each at an event it holds "
                                "([chain, seq from 1, SHA-256 in hex])", act=act.what)
        return
    _signer(reg, act)
    if act.case_kind == "person":
        if act.action == ADD:
            if reg.person(act.case_id) is not None:
                raise NotAuthorised("{act}: person {person} is in the register already", act=act.what,
                                    person=act.case_id)
            home = act.data.get("unit")
            if home is not None and not getattr(reg.unit(str(home)), "open", False):
                raise NotAuthorised("{act}: unit {unit} is not an open unit of the register", act=act.what, unit=home)
            return
        if act.action in (DEACTIVATE, REACTIVATE):
            subject = _subject(reg, act, active=act.action == DEACTIVATE)
            if act.action == DEACTIVATE and subject.admin:
                _not_last_admin(reg, act)
            return
        if act.action in (GRANT, REVOKE) and act.data.get("role") != ADMIN:
            raise NotAuthorised("{act}: only {admin} is held in the register; {role} is held in a unit: name it "
                                "(--unit)", act=act.what, admin=ADMIN, role=act.data.get("role"))
        if act.action in (GRANT, REVOKE):
            subject = _subject(reg, act, active=True if act.action == GRANT else None)
            _grant_check(act, subject.admin)
            if act.action == REVOKE:
                _not_last_admin(reg, act)
            return
    if act.case_kind == "unit":
        _linked(act)
        known = reg.unit(act.case_id)
        if act.action == ADD:
            if known is not None:
                raise NotAuthorised("{act}: unit {unit} is in the register already", act=act.what, unit=act.case_id)
            return
        if act.action == CLOSE:
            if known is None or not known.open:
                raise NotAuthorised("{act}: there is no open unit {unit}", act=act.what, unit=act.case_id)
            return
    raise NotAuthorised("{act}: no such act in the register", act=act.what)


def _linked(act: Act) -> None:
    """A unit's addition and closing are written to the register and to the unit's chain, each naming the other."""
    if not isinstance(act.data.get("link"), dict):
        raise NotAuthorised("{act}: names no copy of it in the other chain", act=act.what)


def _grant_check(act: Act, holds: bool) -> None:
    role = act.data.get("role")
    if act.action == GRANT and act.case_id == act.actor:
        raise NotAuthorised("{act}: an admin may not grant a role to themselves ({actor} asked for {role})",
                            act=act.what, actor=act.actor, role=role)
    if act.action == GRANT and holds:
        raise NotAuthorised("{act}: {person} holds the role {role} there already", act=act.what, person=act.case_id,
                            role=role)
    if act.action == REVOKE and not holds:
        raise NotAuthorised("{act}: {person} does not hold the role {role} there", act=act.what, person=act.case_id,
                            role=role)


def decide_unit(reg: RegisterView, book: UnitBook, act: Act, *, pipeline: Pipeline | None = None,
                open_cases: Collection[OpenCase] = (), screening: Screening | None = None) -> None:
    """An act of a unit's chain. An adoption comes with the pipeline whose fingerprint it names (None: no such
    definition is known) and the unit's open cases of that kind (where each sits, what its round has signed);
    an adoption of screening rules with the stored rules its fingerprint names (None: none are)."""
    if act.case_kind == "unit" and act.action in (OPEN, CLOSE):
        _linked(act)
    if act.case_kind == "unit" and act.action == OPEN:
        unit = reg.unit(book.unit)
        if book.open or unit is None or not unit.open:
            raise NotAuthorised("{act}: a unit's chain opens once, after the unit is added to the register",
                                act=act.what)
        return
    check_open(book.unit, book.open, act.what)
    _signer(reg, act)
    if act.case_kind == "unit" and act.action == CLOSE:
        return
    if act.case_kind == "pipeline" and act.action == ADOPT:
        if pipeline is None or pipeline.kind != act.case_id:
            raise NotAuthorised("{act}: no stored definition of a {kind} pipeline has that fingerprint", act=act.what,
                                kind=act.case_id)
        if book.pipelines.get(pipeline.kind, ("",))[0] == pipeline.fingerprint:
            raise NotAuthorised("{act}: unit {unit} has this pipeline in force already", act=act.what, unit=book.unit)
        law = act.data.get("law", 1)  # 0.2 recorded none
        if not isinstance(law, int) or isinstance(law, bool):
            raise NotAuthorised("{act}: its law must be a whole number", act=act.what)
        if law < book.law:
            raise NotAuthorised("{act}: adopted under law {law}, after an adoption here under law {last}: no engine "
                                "goes back to an older law", act=act.what, law=law, last=book.law)
        check_adoptable(pipeline, open_cases, law)
        return
    if act.case_kind == SCREEN and act.action == ADOPT:
        _screening(book, act, screening)
        return
    if act.case_kind == "person" and act.action in (GRANT, REVOKE):
        role = act.data.get("role")
        if not isinstance(role, str) or role == ADMIN:
            raise NotAuthorised("{act}: {admin} is held in the register, not in a unit", act=act.what, admin=ADMIN)
        if act.action == GRANT and role not in book.known_roles:
            raise NotAuthorised("{act}: '{role}' is a role of no pipeline in force in unit {unit} (one of: {roles})",
                                act=act.what, role=role, unit=book.unit, roles=", ".join(sorted(book.known_roles)))
        _subject(reg, act, active=True if act.action == GRANT else None)
        _grant_check(act, role in book.roles.get(act.case_id, frozenset()))
        return
    raise NotAuthorised("{act}: no such act in a unit's chain", act=act.what)


def _screening(book: UnitBook, act: Act, screening: Screening | None) -> None:
    named = act.data.get("rules")
    if act.case_id != book.unit or set(act.data) != {"rules"}:
        raise NotAuthorised("{act}: an adoption of screening rules names its own unit ({unit}) and the rules' "
                            "fingerprint, and nothing else", act=act.what, unit=book.unit)
    if screening is None or named != screening.fingerprint:
        raise NotAuthorised("{act}: no stored screening rules have the fingerprint it names", act=act.what)
    if screening.lacks:
        raise NotAuthorised("{act}: its screening rules lack the built-in classification-mark rule '{rule}', which "
                            "no unit may remove", act=act.what, rule=screening.lacks[0])
    if book.screen == named:
        raise NotAuthorised("{act}: unit {unit} has these screening rules in force already", act=act.what,
                            unit=book.unit)


def apply_person(before: Person | None, act: Act) -> Person:
    """The register's record of a person after an act on them."""
    if act.action == ADD:
        return Person(str(act.data["name"]), act.data.get("unit"))
    assert before is not None
    if act.action in (DEACTIVATE, REACTIVATE):
        return replace(before, active=act.action == REACTIVATE)
    return replace(before, admin=act.action == GRANT)


def apply_unit(before: Unit | None, act: Act) -> Unit:
    if act.action == ADD:
        return Unit(str(act.data["name"]), str(act.data["kind"]))
    assert before is not None
    return replace(before, open=False)


def apply_roles(before: frozenset[str], act: Act) -> frozenset[str]:
    """A person's roles in a unit after a grant or a revocation there."""
    role = str(act.data["role"])
    return before | {role} if act.action == GRANT else before - {role}


def first_admin(data: Mapping[str, Any]) -> tuple[str, Person]:
    """The register's first event names its first admin."""
    admin = data["admin"]
    return str(admin["id"]), Person(str(admin["name"]), None, admin=True)


class Register:
    """The register folded from its chain, remembering when each record changed: a unit's event is judged
    by the register as it stood at the register event it was decided under."""

    def __init__(self) -> None:
        self.seq = 0
        self.simulation = False
        self.last_seal_seq = 0
        self._people: dict[str, tuple[list[int], list[Person]]] = {}
        self._units: dict[str, tuple[list[int], list[Unit]]] = {}

    def at(self, seq: int) -> RegisterAt:
        return RegisterAt(self, seq)

    def person_at(self, person_id: str, seq: int) -> Person | None:
        return _at(self._people.get(person_id), seq)

    def unit_at(self, unit_id: str, seq: int) -> Unit | None:
        return _at(self._units.get(unit_id), seq)

    def people(self) -> dict[str, Person]:
        return {pid: states[-1] for pid, (_, states) in self._people.items()}

    def units(self) -> dict[str, Unit]:
        return {uid: states[-1] for uid, (_, states) in self._units.items()}

    def apply(self, seq: int, act: Act) -> None:
        """Fold the register's event `seq`, already decided."""
        self.seq = seq
        if act.case_kind == "register" and act.action == SEAL:
            self.last_seal_seq = seq
        elif act.case_kind == "register" and act.action == OPEN:
            self.simulation = bool(act.data.get("simulation"))
            admin, person = first_admin(act.data)
            _record(self._people, admin, seq, person)
        elif act.case_kind == "person":
            _record(self._people, act.case_id, seq, apply_person(self.person_at(act.case_id, seq), act))
        elif act.case_kind == "unit":
            _record(self._units, act.case_id, seq, apply_unit(self.unit_at(act.case_id, seq), act))


def _record(table: dict[str, tuple[list[int], list[Any]]], key: str, seq: int, value: Any) -> None:
    seqs, values = table.setdefault(key, ([], []))
    seqs.append(seq)
    values.append(value)


def _at(history: tuple[list[int], list[T]] | None, seq: int) -> T | None:
    if history is None:
        return None
    i = bisect_right(history[0], seq)
    return history[1][i - 1] if i else None


@dataclass(frozen=True)
class RegisterAt:
    """The folded register as it stood after its event `seq`."""

    register: Register
    seq: int

    def person(self, person_id: str) -> Person | None:
        return self.register.person_at(person_id, self.seq)

    def unit(self, unit_id: str) -> Unit | None:
        return self.register.unit_at(unit_id, self.seq)

    def units(self) -> list[str]:
        return [uid for uid in self.register.units() if self.unit(uid) is not None]

    def active_admins(self) -> set[str]:
        out = set()
        for pid in self.register.people():
            p = self.person(pid)
            if p is not None and p.active and p.admin:
                out.add(pid)
        return out


@dataclass(frozen=True)
class Directory:
    """The register as the engine's tables hold it now (what `advance` decides on)."""

    people: Mapping[str, Person]
    known_units: Mapping[str, Unit]

    def person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    def unit(self, unit_id: str) -> Unit | None:
        return self.known_units.get(unit_id)

    def units(self) -> list[str]:
        return list(self.known_units)

    def active_admins(self) -> set[str]:
        return {pid for pid, p in self.people.items() if p.active and p.admin}
