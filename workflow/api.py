"""The Workflow facade: the public API that the CLI, the daemon and host systems call.

Each method opens a unit of work (ours, or the host's transaction given as `conn=`), calls a handler, and
leaves the announcing of what was signed to the unit of work, after the commit.
"""

from __future__ import annotations

import json
import os
import re
import socket
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from states import KINDS, Action, InputMissing, Pipeline, builtin
from states.authority import REGISTER
from states.errors import Phrase
from states.pipeline import IMPLICIT_ACTIONS
from states.redaction import Span
from states.rules import Case, Signer, allowed
from workflow import catalog, db, documents, duties, items, notices, outbox, periods, requests, screening, text
from workflow.clock import stamp, system
from workflow.config import Config
from workflow.deadlines import STATUSES, Timeline
from workflow.desk import Requests
from workflow.errors import InvalidInput, NotFound, SchemaMissing, SimulatedClock
from workflow.ledger.chains import Appender
from workflow.ledger.events import Digest, Event
from workflow.ledger.verify import Report, Verifier
from workflow.logs import get_logger
from workflow.model import Item, Person, Signature, Unit
from workflow.operator import local_account
from workflow.pipelines import InForce, Pipelines
from workflow.register import Registrar
from workflow.screen import Finding
from workflow.signing import Signing, case_of, signer
from workflow.text import identifier as _check_id
from workflow.uow import HostConnection, Subscriber, UnitOfWork, Work
from workflow.workdays import WorkCalendar

if TYPE_CHECKING:
    from workflow.report.annual import AnnualReport
    from workflow.report.assessment import Assessment
    from workflow.screening import Rules

_SHA256 = re.compile(r"[0-9a-f]{64}")


def _alive_here(host: str, pid: int) -> bool:
    """Whether the daemon's process still runs, as far as this computer can tell (a hung daemon is not gone)."""
    if host != socket.gethostname():
        return False  # another computer's: its newer daemon says this one was replaced
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, another account's
        return True
    return True


def _text(kind: str, value: str | None) -> str:
    if value is None or not value.strip():
        raise InvalidInput("{kind} must not be empty", kind=kind)
    return value



@dataclass(frozen=True)
class Filed:
    """An annual report filed as an item: the item, the report it was counted as, and the DOCX it carries."""

    item: Item
    report: AnnualReport
    document: bytes


class Workflow:
    """`Workflow("sqlite:///zwgk.db")` or `Workflow(engine=host_engine)`.

    Every method that writes takes `conn=`: a host's Connection or Session, so that the host's writes and
    ours commit or roll back together. Without it, each call is one transaction of its own.

    `operator` is who runs the program (recorded with every event beside its signer): by default this
    process's account (`account@host`); a host system passes its own user. `clock` replaces the system clock;
    only a database made for simulation (`init(simulation=True)`) accepts writes made with it.
    """

    def __init__(self, url: str | None = None, *, engine: Engine | None = None,
                 clock: Callable[[], datetime] | None = None, config: Config | None = None,
                 operator: str | None = None) -> None:
        if (url is None) == (engine is None):
            raise InvalidInput("give a database URL or an engine, not both")
        self.engine = engine if engine is not None else db.make_engine(str(url))
        self._owns_engine = engine is None
        self.clock = clock or system
        self._clock_set = clock is not None
        self.config = config or Config()
        self.timeline = Timeline(self.config)
        self.pipelines = Pipelines(self.config)
        for kind in KINDS:  # the township's settings must fit the built-in pipelines (a ConfigError if not)
            self.pipelines.of(builtin(kind))
        self.uow = UnitOfWork(self.engine)
        self.operator = operator if operator is not None else local_account()
        self._texts(operator=self.operator)
        self._simulation: bool | None = None  # read from the register's first event, once
        self._session_users: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._log = get_logger("zwgk")
        self.uow.subscribers.append(self._logged)
        self.requests = Requests(self)  # requests for government information (依申请公开)
        if self.uow.plain_sqlite and self.engine.url.database not in (None, "", ":memory:"):
            self._log.warning("sqlite_engine_not_durable", hint="call workflow.db.durable(engine) before it opens "
                              "connections: WAL, synchronous=FULL and BEGIN IMMEDIATE for every writer")

    # -- plumbing ---------------------------------------------------------------------------------------------

    def init(self, *, admin: str | None = None, name: str | None = None, simulation: bool = False,
             conn: HostConnection | None = None) -> None:
        """Create or upgrade the schema (idempotent). With `admin` and `name`, also start the register: its first
        event names the first admin and whether this database is a simulation (which alone accepts a clock
        set by hand). Both in one transaction."""
        if admin is not None:
            _check_id("person", admin)
            _text("admin name", name)
            self._texts(name=name)
            if self._clock_set and not simulation:
                raise SimulatedClock("a clock set by hand (ZWGK_NOW, Workflow(clock=)) may start only a "
                                     "simulation's register (zwgk init --simulation)")
        with self.uow(conn, core=True) as work:
            db.upgrade(work.conn)
            if admin is not None:
                Registrar(work, self._appender(work), self.pipelines).open(admin, str(name), simulation=simulation)
        if admin is not None and conn is None:  # once started; a host's start is read back on its first write
            self._simulation = simulation

    def close(self) -> None:
        """Close our connection pool; a host's engine is left alone."""
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Workflow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_schema(self) -> None:
        """Raises SchemaMissing unless the database is at the newest revision."""
        with self.uow(write=False) as work:
            current = db.current_revision(work.cur)
        head = db.head_revision()
        if current != head:
            if current is None:
                raise SchemaMissing("database has no zwgk tables; run `zwgk init`")
            raise SchemaMissing("database is at revision {current}, not {head}; run `zwgk init`", current=current,
                                head=head)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(signature)` once each signature is committed. Returns a function that unsubscribes.

        Inside a host transaction, callbacks run when the host commits, and never for a signature that was
        rolled back (with the transaction or a savepoint). A callback that raises is logged and ignored.
        """
        self.uow.subscribers.append(callback)
        return lambda: self.uow.subscribers.remove(callback)

    @contextmanager
    def _write(self, conn: HostConnection | None) -> Iterator[Work]:
        with self.uow(conn) as work:
            self._may_write(work)
            yield work

    def _logged(self, sig: Signature) -> None:
        """Each signature is logged as subscribers hear of it: once committed (in a host's transaction, when the
        host commits), never one that was rolled back."""
        self._log.info("signed", chain=sig.chain, seq=sig.seq, case=sig.case_id, action=sig.action, actor=sig.actor)

    def _may_write(self, work: Work) -> None:
        """A clock set by hand writes only to a simulation."""
        if not self._clock_set:
            return
        if self._simulation is None:
            row = work.one("genesis_data", {"chain": REGISTER})
            if row is None:
                raise SchemaMissing("the register is not started; run `zwgk init --admin ID --name NAME`")
            self._simulation = bool(json.loads(row["data"]).get("simulation"))
        if not self._simulation:
            raise SimulatedClock("this database is not a simulation (zwgk init --simulation), so a clock set by "
                                 "hand (ZWGK_NOW, Workflow(clock=)) may only read it")

    def writable_clock(self) -> None:
        """Raises SimulatedClock if this Workflow's clock may not write to its database (the daemon checks first)."""
        with self.uow(write=False) as work:
            self._may_write(work)

    def _operator(self, work: Work) -> str:
        """The operator, with PostgreSQL's `session_user` (asked once per connection)."""
        if not work.pg:
            return self.operator
        conn = work.cur.connection
        user = self._session_users.get(conn)
        if user is None:
            user = self._session_users[conn] = str(work.one("session_user")["name"])  # type: ignore[index]
        return f"{self.operator} pg:{user}"

    def _appender(self, work: Work) -> Appender:
        return Appender(work, self.clock, self._operator(work), self.config.ledger.max_clock_skew)

    def _signing(self, work: Work) -> Signing:
        return Signing(work, self._appender(work), self.pipelines, self.config, self.timeline,
                       {"item": items.ItemKind(self.config), "request": requests.RequestKind(self.config)})

    def _registrar(self, work: Work) -> Registrar:
        return Registrar(work, self._appender(work), self.pipelines)

    def _formed(self, formed_on: date | None) -> date | None:
        """Information is formed on a day that has come, in this century or the last."""
        if formed_on is not None and not date(1900, 1, 1) <= formed_on <= self.today():
            raise InvalidInput("formed_on {day} is not a day between 1900-01-01 and today", day=formed_on.isoformat())
        return formed_on

    def _texts(self, **values: object) -> dict[str, Any]:
        """What a signature records, as it is hashed and stored (`workflow.text`): refused with one line if it is
        not plain text within the limits."""
        return text.checked(self.config.limits, **values)

    def _typed_by(self, signer: str, recorded_by: str | None = None, *, step: bool = False) -> None:
        """Where the configuration says which person the operator is, they sign as themselves, or (a `step` of a
        case, signed on paper) record for the one who signs."""
        person = self.config.operator_person(self.operator)
        if person is not None and signer != person and recorded_by != person:
            how = (Phrase("needs --recorded-by {person}", person=person) if step
                   else Phrase("is not for them: only {person} signs here", person=person))
            raise InvalidInput("operator {operator} is {person} ({source}); signing as {signer} {how}",
                               operator=self.operator, person=person, source=self.config.source, signer=signer,
                               how=how)

    # -- the register -----------------------------------------------------------------------------------------

    def add_unit(self, id: str, *, name: str, kind: str = "government", by: str,
                 conn: HostConnection | None = None) -> Unit:
        """A unit (a township government, a station, an office, a village committee) with its own chain, in which
        the built-in pipeline of each kind of case is adopted. Signed by an admin."""
        self._texts(name=name, by=by)
        unit = Unit(_check_id("unit", id), _text("unit name", name),
                    catalog.choice("unit kind", kind, catalog.UNIT_KINDS))
        self._typed_by(by)
        with self._write(conn) as work:
            self._registrar(work).add_unit(unit.id, unit.name, unit.kind, by)
        return unit

    def close_unit(self, id: str, *, by: str, conn: HostConnection | None = None) -> None:
        """Close a unit: its chain takes no more events."""
        self._texts(id=id, by=by)
        self._typed_by(by)
        with self._write(conn) as work:
            self._registrar(work).close_unit(id, by)

    def units(self) -> list[Unit]:
        with self.uow(write=False) as work:
            return [Unit(r["id"], r["name"], r["kind"], bool(r["open"])) for r in work.rows("units")]

    def add_person(self, id: str, *, name: str, by: str, unit: str | None = None, roles: Sequence[str] = (),
                   email: str | None = None, phone: str | None = None, conn: HostConnection | None = None) -> Person:
        """A person in the register, who works in `unit`, with `roles` granted there (each a signed act)."""
        self._texts(name=name, by=by, unit=unit, email=email, phone=phone)
        _check_id("person", id)
        _text("person name", name)
        if roles and unit is None:
            raise InvalidInput("roles are held in a unit: name it")
        self._typed_by(by)
        with self._write(conn) as work:
            registrar = self._registrar(work)
            registrar.add_person(id, name, unit, email, phone, by)
            for role in sorted(set(roles)):
                self._texts(role=role)
                registrar.grant(id, role, unit, by)
        held = {unit: tuple(sorted(set(roles)))} if unit is not None and roles else {}
        return Person(id, name, unit, held, email, phone)

    def grant(self, person: str, role: str, *, unit: str | None = None, by: str,
              conn: HostConnection | None = None) -> None:
        """Grant `role` in `unit` (a role of a pipeline in force there), or `admin` in the register (no unit)."""
        self._roles(person, role, unit, by, conn, revoke=False)

    def revoke(self, person: str, role: str, *, unit: str | None = None, by: str,
               conn: HostConnection | None = None) -> None:
        self._roles(person, role, unit, by, conn, revoke=True)

    def _roles(self, person: str, role: str, unit: str | None, by: str, conn: HostConnection | None, *,
               revoke: bool) -> None:
        self._texts(person=person, role=role, unit=unit, by=by)
        self._typed_by(by)
        with self._write(conn) as work:
            self._registrar(work).grant(person, role, unit, by, revoke=revoke)

    def deactivate(self, person: str, *, by: str, conn: HostConnection | None = None) -> None:
        """A person who may no longer sign (left the office); their signatures stay what they were."""
        self._active(person, False, by, conn)

    def reactivate(self, person: str, *, by: str, conn: HostConnection | None = None) -> None:
        self._active(person, True, by, conn)

    def _active(self, person: str, active: bool, by: str, conn: HostConnection | None) -> None:
        self._texts(person=person, by=by)
        self._typed_by(by)
        with self._write(conn) as work:
            self._registrar(work).set_active(person, active, by)

    def adopt_pipeline(self, unit: str, pipeline: Pipeline, *, by: str, conn: HostConnection | None = None) -> str:
        """Adopt `pipeline` for its kind of case in `unit` (signed by an admin); returns its fingerprint."""
        self._texts(unit=unit, by=by)
        self._typed_by(by)
        with self._write(conn) as work:
            self._registrar(work).adopt(unit, pipeline, by)
        return pipeline.fingerprint

    def pipeline_in_force(self, unit: str, kind: str = "item") -> Pipeline:
        with self.uow(write=False) as work:
            found = {r["kind"]: r["pipeline"] for r in work.rows("unit_adoptions", {"unit": unit})}
            if kind not in found:
                raise NotFound("unit '{unit}' has no {kind} pipeline (no such unit?)", unit=unit, kind=kind)
            return self.pipelines.load(work, found[kind]).pipeline

    def adopt_screen_rules(self, unit: str, text: str | None, *, source: str, by: str,
                           conn: HostConnection | None = None) -> str:
        """Adopt an office's screening rules in `unit` (signed by an admin): `text`, a TOML file (named `source` in
        any refusal) merged over the built-in rules, which may not remove a classification-mark rule; None for the
        built-in rules of this engine, back. Its items are screened with them from their next step. Returns
        their fingerprint; refused with one line naming the file and the rule, nothing written."""
        from workflow import screen, screening

        self._texts(unit=unit, by=by)
        self._typed_by(by)
        rules = screening.builtin() if text is None else screening.of(screen.load_rules(text, source))
        with self._write(conn) as work:
            self._registrar(work).adopt_screen(unit, rules, by)
        return rules.fingerprint

    def screen_rules(self, unit: str) -> Rules:
        """The screening rules in force in `unit`: the ones its chain adopted last, else the built-in ones."""
        from workflow import screening

        with self.uow(write=False) as work:
            if unit not in {r["id"] for r in work.rows("units")}:
                raise NotFound("no unit '{unit}'", unit=unit)
            return screening.in_force(work, unit)

    def person(self, id: str) -> Person:
        found = [p for p in self.people() if p.id == id]
        if not found:
            raise NotFound("no person '{person}'", person=id)
        return found[0]

    def people(self) -> list[Person]:
        with self.uow(write=False) as work:
            roles: dict[str, dict[str, list[str]]] = {}
            for r in work.rows("roles"):
                roles.setdefault(r["person_id"], {}).setdefault(r["chain"], []).append(r["role"])
            people = work.rows("people")
        out = []
        for r in people:
            held = roles.get(r["id"], {})
            admin = REGISTER in held
            out.append(Person(r["id"], r["name"], r["unit_id"], {u: tuple(v) for u, v in held.items() if u != REGISTER},
                              r["email"], r["phone"], bool(r["active"]), admin))
        return out

    # -- items ------------------------------------------------------------------------------------------------

    def new_item(self, *, title: str, unit: str, category: str, timing: str, kind: str, drafter: str,
                 body: str = "", interprets: str | None = None, tags: Sequence[str] = (),
                 formed_on: date | None = None, id: str | None = None, comment: str | None = None,
                 schedule: str | None = None, period: str | None = None, attachments: Sequence[str] = (),
                 doc_type: str | None = None, statistics: Mapping[str, Any] | None = None,
                 interpreter: str | None = None, conn: HostConnection | None = None) -> Item:
        """Register a draft. Its creation is the item's first signed event.

        An item made for a periodic schedule of the configuration names it and the period, e.g.
        `schedule="finance", period="2026Q3"`; publishing it meets that period's deadline. `attachments`: documents
        it carries, by the hash `store_document` gave (signed with the rest of its content).
        """
        for sha in attachments:
            documents.checked_hash(sha)
        if doc_type is not None:
            catalog.choice("document type", doc_type, catalog.DOC_TYPES)
        if interpreter is not None and kind != "interpretation":
            raise InvalidInput("only an interpretation names who interprets (--interpreter)")
        if interpreter is not None:
            _check_id("person", interpreter)
        free = self._texts(title=title, body=body, unit=unit, drafter=drafter, interprets=interprets,
                           comment=comment, schedule=schedule, period=period)
        body, comment = free["body"], free["comment"]
        if (schedule is None) != (period is None):
            raise InvalidInput("a periodic item names both its schedule and its period")
        if schedule is not None and period is not None:
            periods.bounds(self.config.schedule(schedule).cycle, period)
        catalog.choice("category", category, catalog.CATEGORIES)
        catalog.choice("timing", timing, catalog.TIMINGS)
        catalog.choice("kind", kind, catalog.KINDS)
        for tag in tags:
            catalog.choice("tag", tag, catalog.TAGS)
        if (kind == "interpretation") != (interprets is not None):
            raise InvalidInput("an interpretation must name the policy it interprets (--interprets), "
                               "and only an interpretation may")
        self._formed(formed_on)
        if id is not None:
            _check_id("item", id)
        self._typed_by(drafter)
        with self._write(conn) as work:
            done = items.create(self._signing(work), unit=unit, drafter=drafter, item_id=id,
                                title=_text("title", title), body=body, category=category, timing=timing, kind=kind,
                                interprets=interprets, tags=list(tags), formed_on=formed_on, schedule=schedule,
                                period=period, comment=comment, attachments=list(attachments), doc_type=doc_type,
                                statistics=catalog.statistics(statistics) if statistics is not None else None,
                                interpreter=interpreter)
            return items.load(work, done.case.id)

    def edit_item(self, item_id: str, *, actor: str, title: str | None = None, body: str | None = None,
                  tags: Sequence[str] | None = None, formed_on: date | None = None, comment: str | None = None,
                  attachments: Sequence[str] | None = None, statistics: Mapping[str, Any] | None = None,
                  expected_version: int | None = None,
                  conn: HostConnection | None = None) -> Signature:
        """Change a draft's content; signed like every other step. Refused outside the initial state."""
        free = self._texts(title=title, body=body, actor=actor, comment=comment)
        body, comment = free["body"], free["comment"]
        for tag in tags or ():
            catalog.choice("tag", tag, catalog.TAGS)
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = _text("title", title)
        if body is not None:
            changes["body"] = body
        if tags is not None:
            changes["tags"] = list(tags)
        if formed_on is not None:
            changes["formed_on"] = self._formed(formed_on)
        if attachments is not None:
            changes["attachments"] = [documents.checked_hash(sha) for sha in attachments]
        if statistics is not None:
            changes["statistics"] = catalog.statistics(statistics)
        if not changes:
            raise InvalidInput("nothing to change")
        self._typed_by(actor)
        with self._write(conn) as work:
            return items.edit(self._signing(work), item_id, actor, changes, comment=comment,
                              expected_version=expected_version).signature

    def advance(self, item: str | Item, action: str, *, actor: str, comment: str | None = None,
                reason: str | None = None, ground: str | None = None, decision: str | None = None,
                recorded_by: str | None = None, paper_sha256: str | None = None,
                expected_version: int | None = None, conn: HostConnection | None = None) -> Signature:
        """Sign one step. The only way an item changes state.

        Passing an `Item` (as read earlier) refuses with ItemChanged if it changed since.
        `recorded_by` is the clerk entering a leader's paper sign-off, `paper_sha256` the scanned sheet's hash.
        """
        if isinstance(item, Item):
            item_id, expected_version = item.id, item.version if expected_version is None else expected_version
        else:
            item_id = item
        free = self._texts(item=item_id, action=action, actor=actor, comment=comment, reason=reason, ground=ground,
                           decision=decision, recorded_by=recorded_by, paper_sha256=paper_sha256)
        comment, reason = free["comment"], free["reason"]
        if paper_sha256 is not None and not _SHA256.fullmatch(paper_sha256):
            raise InvalidInput("paper_sha256 must be 64 lower-case hex digits")
        if paper_sha256 is not None and recorded_by is None:
            raise InvalidInput("a scanned sheet (paper_sha256) goes with the clerk who recorded it (recorded_by)")
        if action in IMPLICIT_ACTIONS:
            raise InputMissing("item {item}: {action} is not a step of the pipeline (new_item, edit_item, reassign "
                               "and interpretations make those)", item=item_id, action=action)
        self._typed_by(actor, recorded_by, step=True)
        with self._write(conn) as work:
            return self._signing(work).advance("item", item_id, action, actor, expected_version=expected_version,
                                               recorded_by=recorded_by, reason=reason, ground=ground,
                                               decision=decision, comment=comment,
                                               paper_sha256=paper_sha256).signature

    def reassign(self, item: str | Item, *, to: str, actor: str, reason: str | None = None,
                 comment: str | None = None, expected_version: int | None = None,
                 conn: HostConnection | None = None) -> Signature:
        """Hand a draft to `to`, another drafter of its unit: only an item's drafter edits and submits it, so this
        signed step is how a draft changes hands. Signed by its drafter, or by a leader in charge of the unit (for
        a drafter who left or cannot); only in the pipeline's initial state."""
        if isinstance(item, Item):
            item_id, expected_version = item.id, item.version if expected_version is None else expected_version
        else:
            item_id = item
        free = self._texts(item=item_id, to=to, actor=actor, reason=reason, comment=comment)
        self._typed_by(actor)
        with self._write(conn) as work:
            return self._signing(work).reassign("item", item_id, actor, to, reason=free["reason"],
                                  comment=free["comment"], expected_version=expected_version).signature

    def store_document(self, content: bytes, *, media_type: str, name: str,
                       conn: HostConnection | None = None) -> str:
        """Keep a document (a report, a scanned attachment) by its SHA-256, which an item then carries; the same
        bytes twice are one document. Returns the hash."""
        if not isinstance(content, bytes):
            raise InvalidInput("a document is bytes")
        free = self._texts(media_type=media_type, name=name)
        with self._write(conn) as work:
            return documents.put(work, content, media_type=free["media_type"], name=free["name"],
                                 at=stamp(self.clock()))

    def item(self, id: str) -> Item:
        with self.uow(write=False) as work:
            found = items.load(work, id)
            if found.kind == "policy" and found.state in KINDS["item"].public:
                ids = tuple(r["id"] for r in work.rows("interpretations", {"id": id,
                                                                            "published": found.state}))
                found = replace(found, interpreted_by=ids)
            return found

    def items(self, *, state: str | None = None, limit: int | None = None, after: str | None = None) -> list[Item]:
        """Items in id order, in `state` or all; `limit` and `after` (the last id of the previous page) page them.
        `iter_items` gives the same one at a time."""
        return list(self.iter_items(state=state, limit=limit, after=after))

    def iter_items(self, *, state: str | None = None, limit: int | None = None, after: str | None = None,
                   page: int = 500) -> Iterator[Item]:
        """`items()` read `page` at a time, each page in a short read of its own: a listing of any length in flat
        memory, and no transaction held open while its reader is slow. An item created meanwhile is listed if its
        id comes after those already listed. Bad arguments are refused here, before the first item is read."""
        self._texts(state=state, after=after)
        if limit is not None and limit < 1:
            raise InvalidInput("limit must be at least 1, not {limit}", limit=limit)
        if page < 1:
            raise InvalidInput("page must be at least 1, not {page}", page=page)
        if state is not None:
            with self.uow(write=False) as work:
                known = [s.id for s in builtin("item").states]
                for r in work.rows("adoptions"):
                    known += [s.id for s in self.pipelines.load(work, r["pipeline"]).pipeline.states]
            if state not in known:
                raise InvalidInput("unknown state '{state}' (one of: {known})", state=state,
                                   known=", ".join(dict.fromkeys(known)))
        return self._item_pages(state, limit, after or "", page)

    def _item_pages(self, state: str | None, limit: int | None, after: str, page: int) -> Iterator[Item]:
        left = limit
        while left is None or left > 0:
            size = page if left is None else min(page, left)
            with self.uow(write=False) as work:
                rows = work.rows("items", {"state": state, "after": after, "limit": size})
            yield from (items.item_of(r) for r in rows)
            if len(rows) < size:
                return
            after = rows[-1]["id"]
            left = None if left is None else left - size

    def screen_item(self, id: str, *, redacted: bool = False) -> list[tuple[str, Finding]]:
        """The pre-screen's findings on an item's title and body, by the rules its unit screens with
        (workflow/screen.py): each `(field, finding)`, a rule, its severity and where (code-point offsets), never
        the matched text. `redacted`: on the body as it would be published."""
        with self.uow(write=False) as work:
            found = items.load(work, id)
            rules = screening.in_force(work, found.unit)
        return screening.found(rules, found.title, found.public_body if redacted else found.body,
                               time_limit=self.config.screen.time_limit)

    def redact(self, item: str | Item, spans: Sequence[Span | tuple[int, int, str]], *, actor: str,
               comment: str | None = None, expected_version: int | None = None,
               conn: HostConnection | None = None) -> Signature:
        """Withhold spans of an item's body for partial disclosure (部分公开, Art. 37): each `(start, end, ground)`
        in code points of the stored body, `ground` one of its pipeline's grounds (art14, art15, art16). Signed by
        the confidentiality reviewer during the review; replaces what was withheld before (no spans: nothing). The
        body published is then `Item.public_body`, each span replaced by a mark of fixed length naming its ground.
        A finding of `screen_item` gives its span: `(f.start, f.end, "art15")`."""
        if isinstance(item, Item):
            item_id, expected_version = item.id, item.version if expected_version is None else expected_version
        else:
            item_id = item
        free = self._texts(item=item_id, actor=actor, comment=comment)
        wanted = [s if isinstance(s, Span) else Span(*s) for s in spans]
        for s in wanted:
            self._texts(ground=s.ground)
        self._typed_by(actor)
        with self._write(conn) as work:
            return items.redact(self._signing(work), item_id, actor, wanted, comment=free["comment"],
                                expected_version=expected_version).signature

    def history(self, id: str) -> list[Signature]:
        """Every event of an item: its own chain's, and the link notes other units' chains hold of it."""
        with self.uow(write=False) as work:
            items.load(work, id)
            with work.events("case_events", {"kind": "item", "id": id}) as events:
                return [Signature.of(e) for e in events]

    def actions_for(self, item_id: str, person_id: str) -> list[Action]:
        """What this person may sign on this item now (they may still have to give a reason or ground)."""
        with self.uow(write=False) as work:
            case, in_force, row = self._case(work, item_id)
            who, _ = signer(work.rows("signer_of_case", {"register": REGISTER, "kind": "item", "id": item_id,
                                                          "person": person_id}), person_id)
            return allowed(in_force.machine, case, who) if row["unit_open"] else []

    def next_steps(self, item_id: str) -> list[tuple[Action, list[str]]]:
        """Each action possible now, with the active people who may sign it."""
        with self.uow(write=False) as work:
            case, in_force, row = self._case(work, item_id)
            people = [p for p in self.people() if p.active]
        out = []
        for action in in_force.pipeline.actions_from(case.state):
            may = [p.id for p in people if row["unit_open"] and action in allowed(
                in_force.machine, case, _signer_of(p, row["unit_id"]))]
            out.append((action, may))
        return out

    def _case(self, work: Work, item_id: str) -> tuple[Case, InForce, dict[str, Any]]:
        row = work.one("case_for_step", {"kind": "item", "id": item_id})
        if row is None:
            raise NotFound("no item '{item}'", item=item_id)
        return (case_of("item", item_id, row),
                self.pipelines.in_force(work, row["unit_id"], row["pipeline"], row["adopted_seq"]), row)

    # -- deadlines and reminders ------------------------------------------------------------------------------

    def today(self) -> date:
        """Today in the office's time zone, by the injected clock."""
        return self.config.office.date_of(self.clock())

    def use_calendar(self, calendar: WorkCalendar) -> None:
        """Compute with this calendar from now on (the office published next year's schedule)."""
        self.config = replace(self.config, calendar=calendar)
        self.timeline = Timeline(self.config)
        self.pipelines.config = self.config  # verify judges a request's steps by it

    def deadlines(self, *, status: str | None = None, overdue: bool = False, due_before: date | None = None,
                  item: str | None = None) -> list[duties.Deadline]:
        """Deadlines by due date. `overdue` (and status "overdue") count by today's date, daemon or not."""
        if status is not None and status not in STATUSES:
            raise InvalidInput("unknown deadline status '{status}' (one of: {known})", status=status,
                               known=", ".join(STATUSES))
        with self.uow(write=False) as work:
            return duties.listing(work, today=self.today(), status=status, overdue=overdue, due_before=due_before,
                                  item=item)

    def deadline(self, deadline_id: int) -> duties.Deadline:
        with self.uow(write=False) as work:
            return duties.one(work, deadline_id)

    def complete_deadline(self, deadline_id: int, *, by: str, note: str | None = None,
                          conn: HostConnection | None = None) -> duties.Deadline:
        """Close an office duty by hand: a self-assessment held, a long-term item confirmed still current."""
        note = self._texts(by=by, note=note)["note"]
        self._typed_by(by)
        with self._write(conn) as work:
            return duties.complete(work, deadline_id, by=by, note=note, now=self.clock(), timeline=self.timeline,
                                   config=self.config)

    def roll_schedules(self, *, conn: HostConnection | None = None) -> list[str]:
        """Open the deadline of every periodic schedule's latest completed period (idempotent)."""
        with self._write(conn) as work:
            return duties.roll(work, self.config, self.timeline, self.clock())

    def recompute_deadlines(self, *, conn: HostConnection | None = None) -> list[tuple[int, date, date]]:
        """Provisional deadlines computed again on the calendar as it is now (`zwgk calendar reload`)."""
        with self._write(conn) as work:
            return duties.recompute(work, self.timeline, self.clock())

    def notifications(self, *, status: str | None = None, limit: int = 1000) -> list[outbox.Notification]:
        if status is not None and status not in outbox.STATUSES:
            raise InvalidInput("unknown reminder status '{status}' (one of: {known})", status=status,
                               known=", ".join(outbox.STATUSES))
        with self.uow(write=False) as work:
            return outbox.listing(work, status=status, limit=limit)

    def daemons(self) -> list[dict[str, Any]]:
        """The daemons' heartbeats, newest first: id, host, pid, started_at, beat_at, stopped_at, counters, and
        `state`: running, stopped, silent (no beat for three intervals: killed outright, it never said so), or gone
        (silent, and a daemon started on its host since its last beat: killed, and replaced)."""
        with self.uow(write=False) as work:
            rows = work.rows("daemons")
        now, every = self.clock(), self.config.daemon.heartbeat_every
        out = []
        for r in rows:
            quiet = (now - datetime.fromisoformat(r["beat_at"])).total_seconds() > 3 * every
            replaced = any(o["host"] == r["host"] and o["started_at"] > r["beat_at"] for o in rows if o is not r)
            replaced = replaced and not _alive_here(r["host"], r["pid"])
            state = "stopped" if r["stopped_at"] else "running" if not quiet else "gone" if replaced else "silent"
            out.append(r | {"state": state})
        return out

    # -- the chains -------------------------------------------------------------------------------------------

    def seal(self, *, conn: HostConnection | None = None) -> Signature | None:
        """Append a seal of every unit chain's head to the register; None if its last event is such a seal."""
        with self._write(conn) as work:
            event = self._registrar(work).seal()
        return Signature.of(event) if event is not None else None

    def last_seal(self) -> Signature | None:
        """The register's latest seal (made by `seal()`, `digest()` or the daemon)."""
        with self.uow(write=False) as work, work.events("last_seal", {"chain": REGISTER}) as events:
            found = list(events)
        return Signature.of(found[0]) if found else None

    def digest(self) -> Digest:
        """The root digest `SEQ:HASH`: the register's head once a seal records every chain's head in it. Keep it
        elsewhere; `verify(against=...)` then proves every chain still holds what it held."""
        self.seal()
        with self.uow(write=False) as work:
            head = work.one("head", {"chain": REGISTER})
        if head is None:
            raise SchemaMissing("the register is not started; run `zwgk init --admin ID --name NAME`")
        return Digest(head["seq"], head["hash"])

    def verify(self, against: Digest | None = None, since: Digest | None = None) -> Report:
        """Recompute every chain and fold every event through the rules; the report names the first problem.

        `against`: a root digest kept earlier (by a witness): the register still holds it, and every chain what
        the seal up to it names. `since`: recheck only what came after that digest.
        """
        with self.uow(write=False) as work:
            # Real time, whatever the clock: an event later than it was written by no clock of this office.
            return Verifier(work, self.pipelines, max_skew=self.config.ledger.max_clock_skew,
                            now=system()).run(against, since)

    # -- reports ----------------------------------------------------------------------------------------------

    def annual_report(self, year: int, *, unit: str) -> AnnualReport:
        """Tables 三 and 四 of the annual report (国办公开办函〔2021〕30号) for `unit` and `year`, counted from its
        chain up to a seal made first: the report's digest lets anyone verify and recount the same events."""
        from workflow.report import annual

        if type(year) is not int or not 2000 <= year <= 9999:
            raise InvalidInput("a report's year is a whole number like 2026, not {year}", year=year)
        with self._write(None) as work:  # the seal and all that is read, in one transaction, the unit's head held
            if not any(r["id"] == unit for r in work.rows("units")):
                raise NotFound("no unit '{unit}'", unit=unit)
            self._appender(work).lock(REGISTER, unit)
            self._registrar(work).seal()
            with work.events("last_seal", {"chain": REGISTER}) as found:
                seal = next(iter(found))
            upto = {str(c): int(s) for c, s, _ in seal.payload()["chains"]}.get(unit, 0)
            types = {r["id"]: r["applicant_type"] for r in work.rows("unit_requests", {"unit": unit})}
            rows = work.rows("unit_items", {"unit": unit})
            facts = {r["id"]: annual.ItemFacts(r["category"], r["timing"], r["kind"], r["doc_type"]) for r in rows}
            with work.events("chain_events", {"chain": unit, "after": 0}) as events:
                return annual.count((e for e in events if e.seq <= upto), types, unit=unit, year=year,
                                    office=self.config.office, digest=f"{seal.seq}:{seal.hash}", sealed_at=upto,
                                    items=facts, statistics=annual.stated(rows, year))

    def self_assessment(self, period: str, *, unit: str | None = None) -> Assessment:
        """The half-yearly self-assessment (plan 五(三)) of `period` (like 2026H1) for `unit` (None: every unit),
        counted in one read from the chains, the deadlines and the reminders sent (workflow/report/assessment.py)."""
        from workflow.report import assessment

        self._texts(period=period, unit=unit)
        with self.uow(write=False) as work:
            return assessment.read(work, period, unit=unit, config=self.config, today=self.today())

    def file_annual_report(self, year: int, *, unit: str, drafter: str, texts: Mapping[str, str] | None = None,
                           statistics: Mapping[str, Any] | None = None, schedule: str = "annual-report") -> Filed:
        """The annual report as an item of disclosure: the draft item of the `annual-report` schedule for `year`
        (made if there is none) states the figures of other systems, signed (`statistics`, table 二: 行政许可, 行政处罚,
        行政强制 decisions and 行政事业性收费 in 万元); the report is then counted (`annual_report`), written as DOCX
        in the national layout, stored by hash, and carried by that item, which goes through the pipeline like any
        other. Each is a signature of its drafter. Returns the item, the report it carries and its document."""
        from workflow.report import render

        name = {u.id: u.name for u in self.units()}.get(unit)
        if name is None:
            raise NotFound("no unit '{unit}'", unit=unit)
        if texts:
            render.check_texts(name, texts)
        item = self._report_item(year, unit, name, drafter, schedule)
        if statistics is not None:
            self.edit_item(item, actor=drafter, statistics=statistics, comment="填报年度统计数字")
        report = self.annual_report(year, unit=unit)
        content = render.to_docx(report, name, texts or {})
        sha = self.store_document(content, media_type=notices.DOCX, name=f"{unit}-{year}-annual-report.docx")
        body = (f"{name}{year}年政府信息公开工作年度报告，依据根摘要 {report.digest} 统计（附件：{sha}）。"
                f"本年新收申请 {report.identity[0]} 件，办理结果 {report.identity[2]} 件。")
        self.edit_item(item, actor=drafter, body=body, attachments=[sha],
                       comment=f"年度报告依据根摘要 {report.digest} 统计")
        return Filed(self.item(item), report, content)

    def _report_item(self, year: int, unit: str, name: str, drafter: str, schedule: str) -> str:
        """The draft item that carries a unit's annual report of `year`: the one there is, or a new one if there is
        none but retracted or withheld ones."""
        with self.uow(write=False) as work:
            found = [r for r in work.rows("schedule_items", {"unit": unit, "schedule": schedule, "period": str(year)})
                     if r["state"] not in KINDS["item"].lapsed]
        drafts = [r["id"] for r in found if r["state"] == self.pipeline_in_force(unit).initial]
        if drafts:
            return str(drafts[-1])
        if found:
            raise InvalidInput("the annual report {year} of unit {unit} is item {item}, in state {state}: return it "
                               "to draft to file it again", year=year, unit=unit, item=found[-1]["id"],
                               state=found[-1]["state"])
        return self.new_item(title=f"{name}{year}年政府信息公开工作年度报告", unit=unit,
                             category=self.config.schedule(schedule).category or "6", timing="periodic", kind="info",
                             drafter=drafter, body="（统计中）", schedule=schedule, period=str(year)).id

    def event(self, chain: str, seq: int) -> Signature:
        with self.uow(write=False) as work:
            row = work.one("event", {"chain": chain, "seq": seq})
        if row is None:
            raise NotFound("no event {seq} in chain {chain}", seq=seq, chain=chain)
        return Signature.of(Event(**row))


def _signer_of(p: Person, unit: str) -> Signer:
    return Signer(p.id, p.active, frozenset(p.roles_in(unit)))

