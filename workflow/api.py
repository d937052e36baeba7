"""The Workflow facade: the public API that the CLI, the daemon and host systems call."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from states import Action, Attempt, Pipeline, PipelineMachine, default_pipeline
from workflow import catalog, chain, db, duties, outbox, periods, sweep
from workflow import schema as t
from workflow.calendar import WorkCalendar
from workflow.clock import stamp, system
from workflow.config import Config
from workflow.deadlines import STATUSES, Facts, Op, Rules, Timeline, statements
from workflow.errors import AlreadyExists, InvalidInput, ItemChanged, NotEditable, NotFound, SchemaMissing
from workflow.model import Item, Person, Signature, Unit
from workflow.replay import RuleReplay
from workflow.store import Store
from workflow.subscriptions import HostConnection, Subscriber, Subscriptions

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_EVENT_COLS = [t.event.c[name] for name in chain.FIELDS] + [t.event.c.hash]
_ITEM_COLS = [t.item.c[name] for name in t.ITEM_FIELDS]


def _texts(**values: object) -> None:
    """What a signature records must be text: anything else would be hashed as one thing, stored as another."""
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{name} must be text, not {type(value).__name__}")


def _check_id(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidInput(f"{kind} id '{value}' must be 1-64 letters, digits, '.', '_' or '-'")
    return value


def _text(kind: str, value: str | None) -> str:
    if value is None or not value.strip():
        raise InvalidInput(f"{kind} must not be empty")
    return value


class Workflow:
    """`Workflow("sqlite:///zwgk.db")` or `Workflow(engine=host_engine)`.

    Every method that writes takes `conn=`: a host's Connection or Session, so that the host's writes and
    ours commit or roll back together. Without it, each call is one transaction of its own.
    """

    def __init__(self, url: str | None = None, *, engine: Engine | None = None, pipeline: Pipeline | None = None,
                 clock: Callable[[], datetime] | None = None, config: Config | None = None) -> None:
        if (url is None) == (engine is None):
            raise InvalidInput("give a database URL or an engine, not both")
        self.engine = engine if engine is not None else db.make_engine(str(url))
        self._owns_engine = engine is None
        self.pipeline = pipeline or default_pipeline()
        self.machine = PipelineMachine(self.pipeline)
        self.clock = clock or system
        self.config = config or Config()
        self.rules = Rules(self.config, self.pipeline)
        self.timeline = Timeline(self.config)
        self._subscriptions = Subscriptions(self.engine)
        # Every signature also stores our pipeline's definition, until one of them is known committed.
        self._pipeline_stored = False
        self._subscriptions.add(self._pipeline_committed)
        self._pg = self.engine.dialect.name == "postgresql"
        self._plain_sqlite = self.engine.dialect.name == "sqlite" and not db.is_durable(self.engine)
        self._store = Store(self.engine.dialect.name)
        # Bound once, with the logging set up at this moment: a lazy proxy re-binds on every call.
        self._log = structlog.get_logger("zwgk").bind()
        if self._plain_sqlite and self.engine.url.database not in (None, "", ":memory:"):
            self._log.warning("sqlite_engine_not_durable", hint="call workflow.db.durable(engine) before it opens "
                              "connections: WAL, synchronous=FULL and BEGIN IMMEDIATE for every writer")

    # -- plumbing ---------------------------------------------------------------------------------------

    def init(self) -> None:
        """Create or upgrade the schema (idempotent), and store our pipeline's definition."""
        with self.engine.connect() as conn:
            db.upgrade(conn)
            self._store.send(self._store.cursor(conn), [self._pipeline_row(stamp(self.clock()))])
            conn.commit()
        self._pipeline_committed()

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
        with self._tx(None, write=False) as conn:
            current, head = db.schema_status(conn)
        if current != head:
            what = "has no zwgk tables" if current is None else f"is at revision {current}, not {head}"
            raise SchemaMissing(f"database {what}; run `zwgk init`")

    @contextmanager
    def _tx(self, host: HostConnection | None, *, write: bool = True) -> Iterator[Connection]:
        if host is not None:
            yield host.connection() if isinstance(host, Session) else host
            return
        with self.engine.connect() as conn:
            if write:
                with conn.begin():
                    if self._plain_sqlite:  # a host's engine without our BEGIN IMMEDIATE: take the lock now,
                        conn.exec_driver_sql("BEGIN IMMEDIATE")  # not halfway through, when it may be refused
                    yield conn
                return
            # One snapshot for the whole read: verify must not see a signature's event without its item.
            # It ends in a rollback: with an in-memory SQLite database the pool may hand us the host's own
            # connection, whose open transaction a commit would end.
            conn.execution_options(**{db.READ_ONLY: True}, **({"isolation_level": "REPEATABLE READ"}
                                                              if self._pg else {}))
            read = conn.begin()
            try:
                yield conn
            finally:
                read.rollback()

    def _cursor(self, host: HostConnection | None) -> AbstractContextManager[Any]:
        """A DBAPI cursor in the host's transaction, or in one of ours on a pooled DBAPI connection.

        A SQLAlchemy Connection costs ~100 µs of Python per transaction, as much as a signature itself
        (bench/signatures.py), so the hot path takes the connection from the pool directly.
        """
        if host is not None:  # not a generator: ending one raises StopIteration, a cost in every signature
            return nullcontext(self._store.cursor(host.connection() if isinstance(host, Session) else host))
        return self._own_cursor()

    @contextmanager
    def _own_cursor(self) -> Iterator[Any]:
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            if not self._pg:
                cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                raw.rollback()
                raise
            raw.commit()
        finally:
            raw.close()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(signature)` once each signature is committed. Returns a function that unsubscribes.

        Inside a host transaction, callbacks run when the host commits, and never for a signature that was
        rolled back (with the transaction or a savepoint). A callback that raises is logged and ignored.
        """
        return self._subscriptions.add(callback)

    def _pipeline_committed(self, _sig: Signature | None = None) -> None:
        """Our definition is in the database for good: it went with this committed signature (or with init)."""
        self._pipeline_stored = True
        with suppress(ValueError):  # already removed, by another thread
            self._subscriptions.callbacks.remove(self._pipeline_committed)

    def _pipeline_row(self, at: str) -> tuple[str, dict[str, str]]:
        p = self.pipeline
        return "store_pipeline", {"name": p.name, "version": p.full_version, "definition": p.definition, "at": at}

    def _announce(self, host: HostConnection | None, sig: Signature) -> None:
        self._log.info("signed", item=sig.item_id, action=sig.action, actor=sig.actor, seq=sig.seq, state=sig.to_state)
        self._subscriptions.signed(host, sig)

    # -- units and people --------------------------------------------------------------------------------

    def add_unit(self, id: str, *, name: str, kind: str = "government", conn: HostConnection | None = None) -> Unit:
        unit = Unit(_check_id("unit", id), _text("unit name", name), self._choice("unit kind", kind,
                                                                                   catalog.UNIT_KINDS))
        with self._tx(conn) as c:
            self._insert_once(c, t.unit, f"unit {id} already exists",
                              id=unit.id, name=unit.name, kind=unit.kind, created_at=stamp(self.clock()))
        return unit

    def units(self) -> list[Unit]:
        with self._tx(None, write=False) as c:
            return [Unit(*r) for r in c.execute(select(t.unit.c.id, t.unit.c.name, t.unit.c.kind)
                                                .order_by(t.unit.c.id))]

    def add_person(self, id: str, *, name: str, unit: str, roles: Sequence[str], email: str | None = None,
                   phone: str | None = None, conn: HostConnection | None = None) -> Person:
        known = {r.id for r in self.pipeline.roles}
        for role in roles:
            if role not in known:
                raise InvalidInput(f"unknown role '{role}' (one of: {', '.join(sorted(known))})")
        person = Person(_check_id("person", id), _text("person name", name), unit, tuple(sorted(set(roles))),
                        email, phone)
        with self._tx(conn) as c:
            self._require(c, t.unit, unit, "unit")
            self._insert_once(c, t.person, f"person {id} already exists", id=person.id, name=person.name,
                              unit_id=unit, email=email, phone=phone, active=True, created_at=stamp(self.clock()))
            if person.roles:
                c.execute(insert(t.person_role), [{"person_id": id, "role": r} for r in person.roles])
        return person

    def person(self, id: str) -> Person:
        with self._tx(None, write=False) as c:
            found = self._people(c, t.person.c.id == id)
        if not found:
            raise NotFound(f"no person '{id}'")
        return found[0]

    def people(self) -> list[Person]:
        with self._tx(None, write=False) as c:
            return self._people(c, None)

    def _people(self, c: Connection, where: Any) -> list[Person]:
        q = select(t.person.c.id, t.person.c.name, t.person.c.unit_id, t.person.c.email, t.person.c.phone,
                   t.person.c.active, t.person_role.c.role).outerjoin(t.person_role).order_by(t.person.c.id,
                                                                                             t.person_role.c.role)
        if where is not None:
            q = q.where(where)
        out: dict[str, Person] = {}
        for pid, name, unit, email, phone, active, role in c.execute(q):
            p = out.get(pid) or Person(pid, name, unit, (), email, phone, bool(active))
            out[pid] = Person(pid, name, unit, p.roles + ((role,) if role else ()), email, phone, bool(active))
        return list(out.values())

    # -- items -------------------------------------------------------------------------------------------

    def new_item(self, *, title: str, unit: str, category: str, timing: str, kind: str, drafter: str,
                 body: str = "", interprets: str | None = None, tags: Sequence[str] = (),
                 formed_on: date | None = None, id: str | None = None, comment: str | None = None,
                 schedule: str | None = None, period: str | None = None,
                 conn: HostConnection | None = None) -> Item:
        """Register a draft. Its creation is the item's first signed event.

        An item made for a periodic schedule of the configuration names it and the period, e.g.
        `schedule="finance", period="2026Q3"`; publishing it meets that period's deadline.
        """
        _texts(title=title, body=body, unit=unit, drafter=drafter, interprets=interprets, comment=comment,
               schedule=schedule, period=period)
        if (schedule is None) != (period is None):
            raise InvalidInput("a periodic item names both its schedule and its period")
        if schedule is not None and period is not None:
            periods.bounds(self.config.schedule(schedule).cycle, period)
        self._choice("category", category, catalog.CATEGORIES)
        self._choice("timing", timing, catalog.TIMINGS)
        self._choice("kind", kind, catalog.KINDS)
        for tag in tags:
            self._choice("tag", tag, catalog.TAGS)
        if (kind == "interpretation") != (interprets is not None):
            raise InvalidInput("an interpretation must name the policy it interprets (--interprets), "
                               "and only an interpretation may")
        if id is not None:
            _check_id("item", id)
        now = self.clock()
        with self._tx(conn) as c:
            cur = self._store.cursor(c)
            self._require(c, t.unit, unit, "unit")
            actor = self._actor(cur, drafter)
            role = self.pipeline.drafter_role
            if role not in actor.roles:
                raise InvalidInput(f"{drafter} does not hold the role {role} needed to draft an item")
            if interprets is not None:
                policy = c.execute(select(t.item.c.kind).where(t.item.c.id == interprets)).first()
                if policy is None or policy.kind != "policy":
                    raise InvalidInput(f"item '{interprets}' is not a policy document, so it cannot be interpreted")
            head = self._chain_head(cur)
            today = self.config.office.date_of(now)
            item_id = id or self._free_item_id(c, f"{today.year}-{head[0] + 1:06d}")
            created = stamp(now)
            self._insert_once(c, t.item, f"item {item_id} already exists",
                              id=item_id, title=_text("title", title), body=body, unit_id=unit, category=category,
                              timing=timing, kind=kind, interprets=interprets, tags=json.dumps(list(tags)),
                              formed_on=formed_on.isoformat() if formed_on else None, drafter=drafter,
                              state=self.pipeline.initial, round=1, version=1, created_at=created, updated_at=created,
                              schedule=schedule, period=period)
            item = self._load_item(c, item_id)
            sig = self._append_now(cur, item_id, 1, "create", None, self.pipeline.initial, actor.id, role, now,
                               chain.content_hash(item.content()), comment=comment)
            self._deadlines(cur, self.rules.on_create(_facts(item), today), sig.seq, now)
        self._announce(conn, sig)
        return item

    def edit_item(self, item_id: str, *, actor: str, title: str | None = None, body: str | None = None,
                  tags: Sequence[str] | None = None, formed_on: date | None = None, comment: str | None = None,
                  expected_version: int | None = None, conn: HostConnection | None = None) -> Signature:
        """Change a draft's content; signed like every other step. Refused outside the initial state."""
        _texts(title=title, body=body, actor=actor, comment=comment)
        with self._tx(conn) as c:
            cur = self._store.cursor(c)
            self._chain_head(cur)  # every writer locks the chain head first, then the item
            item = self._locked_item(c, item_id, expected_version)
            if item.state != self.pipeline.initial:
                raise NotEditable(f"item {item_id} is in state {self.pipeline.label(item.state)}; "
                                  f"only a {self.pipeline.initial} can be edited (return it first)")
            who = self._actor(cur, actor)
            role = self.pipeline.drafter_role
            if role not in who.roles:
                raise InvalidInput(f"{actor} does not hold the role {role} needed to edit a draft")
            for tag in tags or ():
                self._choice("tag", tag, catalog.TAGS)
            changes: dict[str, Any] = {}
            if title is not None:
                changes["title"] = _text("title", title)
            if body is not None:
                changes["body"] = body
            if tags is not None:
                changes["tags"] = json.dumps(list(tags))
            if formed_on is not None:
                changes["formed_on"] = formed_on.isoformat()
            if not changes:
                raise InvalidInput("nothing to change")
            now = self.clock()
            self._update_draft(c, item, changes | {"updated_at": stamp(now)})
            edited = self._load_item(c, item_id)
            sig = self._append_now(cur, item_id, item.round, "edit", item.state, item.state, who.id, role, now,
                               chain.content_hash(edited.content()), comment=comment)
            formed_changed = formed_on is not None and formed_on != item.formed_on
            self._deadlines(cur, self.rules.on_edit(_facts(edited), self._today(now), formed_changed), sig.seq, now)
        self._announce(conn, sig)
        return sig

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
        _texts(comment=comment, reason=reason, ground=ground, decision=decision, recorded_by=recorded_by,
               paper_sha256=paper_sha256)
        if paper_sha256 is not None and not _SHA256.fullmatch(paper_sha256):
            raise InvalidInput("paper_sha256 must be 64 lower-case hex digits")
        if paper_sha256 is not None and recorded_by is None:
            raise InvalidInput("a scanned sheet (paper_sha256) goes with the clerk who recorded it (recorded_by)")
        reads: list[tuple[str, Any]] = [("head_locked", {}), ("advance", {"id": item_id}), ("person", {"id": actor})]
        if recorded_by is not None:
            reads.append(("person", {"id": recorded_by}))
        reads.append(("current_round", {"item_id": item_id}))  # the round's events: after the locks are held
        with self._cursor(conn) as cur:
            head, locked, signer, *clerk, round_events = self._store.send(cur, reads)
            if not locked.rows:
                raise NotFound(f"no item '{item_id}'")
            state, rnd, version, *known = locked.rows[0]
            head_seq, head_hash = head.rows[0]
            self._check_version(item_id, expected_version, version, state)
            signed = round_events.rows
            who = _person(signer.rows, actor)
            if clerk:
                _person(clerk[0].rows, str(recorded_by))
            attempt = Attempt(item=item_id, actor=who.id, roles=frozenset(who.roles), round=rnd,
                              round_signers={a: p for a, p, _ in signed}, reason=reason, ground=ground,
                              decision=decision)
            step, to_state = self.machine.fire(state, action, attempt)
            new_round = rnd + 1 if step.new_round else rnd
            now = self.clock()
            sig, row = self._event((head_seq, head_hash), item_id, new_round, step.id, state, to_state, who.id,
                                   step.role, now, signed[-1][2], comment=comment, reason=reason, ground=ground,
                                   decision=decision, paper_sha256=paper_sha256,
                                   recorded_by=recorded_by if recorded_by != who.id else None)
            ops = self.rules.on_step(_facts_of(item_id, known), state, to_state, self._today(now), role=step.role,
                                     signer=who.id, round=new_round)
            at = row[10]  # the event's stored time, for the item and the deadlines too
            moved, _, head_moved, *_ = self._store.send(cur, [  # nothing is sent before the event is complete
                ("move", {"state": to_state, "round": new_round, "at": at, "id": item_id, "version": version}),
                *self._append(sig, row), *statements(ops, self.timeline, self.rules.published, sig.seq, at)])
            if moved.rowcount != 1 or head_moved.rowcount != 1:
                raise ItemChanged(f"item {item_id} changed while this signature was being made; "
                                  "reload it and try again")
        self._announce(conn, sig)
        return sig

    def item(self, id: str) -> Item:
        with self._tx(None, write=False) as c:
            return self._load_item(c, id, links=True)

    def items(self, *, state: str | None = None) -> list[Item]:
        q = select(*_ITEM_COLS).order_by(t.item.c.created_at, t.item.c.id)
        if state is not None:
            if state not in {s.id for s in self.pipeline.states}:
                raise InvalidInput(f"unknown state '{state}' (one of: {', '.join(s.id for s in self.pipeline.states)})")
            q = q.where(t.item.c.state == state)
        with self._tx(None, write=False) as c:
            return [_item(r) for r in c.execute(q)]

    def history(self, id: str) -> list[Signature]:
        with self._tx(None, write=False) as c:
            self._require(c, t.item, id, "item")
            rows = c.execute(select(*_EVENT_COLS).where(t.event.c.item_id == id).order_by(t.event.c.seq))
            return [_signature(r) for r in rows]

    def actions_for(self, item_id: str, person_id: str) -> list[Action]:
        """What this person may sign on this item now (they may still have to give a reason or ground)."""
        with self._tx(None, write=False) as c:
            item = self._load_item(c, item_id)
            cur = self._store.cursor(c)
            who = self._actor(cur, person_id)
            return self.machine.allowed(item.state, Attempt(
                item=item_id, actor=who.id, roles=frozenset(who.roles), round=item.round,
                round_signers=self._round_signers(cur, item_id, item.round)))

    def next_steps(self, item_id: str) -> list[tuple[Action, list[str]]]:
        """Each action possible now, with the active people who may sign it."""
        with self._tx(None, write=False) as c:
            item = self._load_item(c, item_id)
            signers = self._round_signers(self._store.cursor(c), item_id, item.round)
            people = [p for p in self._people(c, t.person.c.active.is_(True))]
        out = []
        for action in self.pipeline.actions_from(item.state):
            may = [p.id for p in people if action in self.machine.allowed(item.state, Attempt(
                item=item_id, actor=p.id, roles=frozenset(p.roles), round=item.round, round_signers=signers))]
            out.append((action, may))
        return out

    # -- deadlines and reminders -------------------------------------------------------------------------

    def today(self) -> date:
        """Today in the office's time zone, by the injected clock."""
        return self._today(self.clock())

    def use_calendar(self, calendar: WorkCalendar) -> None:
        """Compute with this calendar from now on (the office published next year's schedule)."""
        self.config = replace(self.config, calendar=calendar)
        self.timeline = Timeline(self.config)

    def deadlines(self, *, status: str | None = None, overdue: bool = False, due_before: date | None = None,
                  item: str | None = None) -> list[duties.Deadline]:
        """Deadlines by due date. `overdue` (and status "overdue") count by today's date, daemon or not."""
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"unknown deadline status '{status}' (one of: {', '.join(STATUSES)})")
        with self._tx(None, write=False) as c:
            return duties.listing(c, today=self.today(), status=status, overdue=overdue, due_before=due_before,
                                  item=item)

    def deadline(self, deadline_id: int) -> duties.Deadline:
        with self._tx(None, write=False) as c:
            return duties.one(c, deadline_id)

    def complete_deadline(self, deadline_id: int, *, by: str, note: str | None = None,
                          conn: HostConnection | None = None) -> duties.Deadline:
        """Close an office duty by hand: a self-assessment held, a long-term item confirmed still current."""
        _texts(by=by, note=note)
        with self._tx(conn) as c:
            return duties.complete(c, deadline_id, by=by, note=note, now=self.clock(), timeline=self.timeline,
                                   config=self.config)

    def roll_schedules(self, *, conn: HostConnection | None = None) -> list[str]:
        """Open the deadline of every periodic schedule's latest completed period (idempotent)."""
        with self._tx(conn) as c:
            return duties.roll(c, self.config, self.timeline, self.clock())

    def recompute_deadlines(self, *, conn: HostConnection | None = None) -> list[tuple[int, date, date]]:
        """Provisional deadlines computed again on the calendar as it is now (`zwgk calendar reload`)."""
        with self._tx(conn) as c:
            return duties.recompute(c, self.timeline, self.clock())

    def notifications(self, *, status: str | None = None, limit: int = 1000) -> list[outbox.Notification]:
        if status is not None and status not in outbox.STATUSES:
            raise InvalidInput(f"unknown reminder status '{status}' (one of: {', '.join(outbox.STATUSES)})")
        with self._tx(None, write=False) as c:
            return outbox.listing(c, status=status, limit=limit)

    def daemons(self) -> list[dict[str, Any]]:
        """The daemons' heartbeats, newest first: id, host, pid, started_at, beat_at, stopped_at, counters, and
        `state`: running, stopped, or silent (no beat for three intervals: killed outright, it never said so)."""
        with self._tx(None, write=False) as c:
            rows = c.execute(select(t.daemon).order_by(t.daemon.c.beat_at.desc())).mappings().all()
        now, every = self.clock(), self.config.daemon.heartbeat_every
        out = []
        for r in rows:
            quiet = (now - datetime.fromisoformat(r["beat_at"])).total_seconds() > 3 * every
            out.append(dict(r) | {"state": "stopped" if r["stopped_at"] else "silent" if quiet else "running"})
        return out

    # -- the chain ---------------------------------------------------------------------------------------

    def digest(self) -> chain.Digest:
        with self._tx(None, write=False) as c:
            seq, h = self._chain_head(self._store.cursor(c), lock=False)
        return chain.Digest(seq, h)

    def verify(self, against: chain.Digest | None = None) -> chain.Report:
        """Recompute the hash chain and replay every item; the report names the first bad event.

        A bulk sweep (workflow/sweep.py) vouches for a sound log; at any doubt the log is walked event by
        event, which finds and names the first bad event.
        """
        with self._tx(None, write=False) as c:
            try:
                head: tuple[int, str] | None = self._chain_head(self._store.cursor(c), lock=False)
            except SchemaMissing:
                head = None
            people = set(c.execute(select(t.person.c.id)).scalars())
            machines = self._machines(c)
            if head is not None:
                try:
                    report = sweep.Sweep(self.engine, machines, people, t.GENESIS_HASH).run(c, head, against)
                except (SQLAlchemyError, UnicodeError, ValueError, TypeError) as e:  # what only tampering causes
                    self._log.debug("verify: the sweep gave up, walking the log", error=type(e).__name__)
                    report = None
                if report is not None:
                    return report
            return self._walk(c, head, people, machines, chain.item_hashes(c.exec_driver_sql(chain.ITEMS).all()),
                              against)

    def _machines(self, c: Connection) -> dict[str, PipelineMachine]:
        """The rules of each pipeline version by the version string its signatures record: ours, and each
        stored definition that is the one its version names (an altered one is left out: unchecked)."""
        machines = {self.pipeline.full_version: self.machine}
        with _lenient_text(c):  # a definition altered into bytes that are not UTF-8 must not stop verify
            rows = c.execute(select(t.pipeline.c.version, t.pipeline.c.definition)).all()
        for version, definition in rows:
            if version not in machines and (p := Pipeline.from_definition(definition, version)) is not None:
                machines[version] = PipelineMachine(p)
        return machines

    def _walk(self, c: Connection, head: tuple[int, str] | None, people: set[str],
              machines: dict[str, PipelineMachine], items: chain.Items,
              against: chain.Digest | None) -> chain.Report:
        """Every event in order, with `chain.Verifier`: slower than the sweep, and names the first bad event."""
        def fresh() -> tuple[chain.Verifier, RuleReplay]:
            verifier = chain.Verifier(t.GENESIS_HASH, against)
            if head is None:
                verifier.report.problems.append("the chain head row is gone (zwgk_chain was altered)")
            return verifier, RuleReplay(machines, people)

        digest_of = (lambda h: h) if self._pg else _sha256_or_none

        def recheck(seq: int) -> str | None:
            row = self._store.one(self._store.cursor(c), "event", {"seq": seq})
            try:
                return chain.event_hash(row[:-1]) if row else None
            except (TypeError, ValueError):  # a value no signature could hold (bytes, say): tampered
                return None

        verifier, rules = fresh()
        try:
            verifier.feed(self._store.stream(c, "verify"), digest_of, recheck, rules)
        except self.engine.dialect.loaded_dbapi.Error:
            if self._pg:
                raise
            # SQLite's json_array() refuses a BLOB, and Python text that is not UTF-8: only tampering can
            # have put them there. Walk the log again, hashing every event in Python.
            verifier, rules = fresh()
            with _lenient_text(c):
                verifier.feed(self._store.stream(c, "verify_in_python"), recheck, recheck, rules)
        verifier.report.unchecked, verifier.report.versions = rules.unchecked, dict(rules.versions)
        verifier.report.problems.extend(items.problems)
        return verifier.finish(head, items.rows, items.content_hashes, against)

    # -- internals ---------------------------------------------------------------------------------------

    def _choice(self, kind: str, value: str, allowed: dict[str, str]) -> str:
        try:
            return catalog.choice(kind, value, allowed)
        except ValueError as e:
            raise InvalidInput(str(e)) from None

    def _insert_once(self, c: Connection, table: Any, message: str, **values: Any) -> None:
        if c.execute(select(table.c.id).where(table.c.id == values["id"])).first() is not None:
            raise AlreadyExists(message)
        try:
            c.execute(insert(table).values(**values))
        except IntegrityError:  # a concurrent insert of the same id won the race; the transaction is lost
            raise AlreadyExists(message) from None

    def _free_item_id(self, c: Connection, base: str) -> str:
        """`base` (year and sequence), or `base.2`, `base.3`… if someone chose that id by hand."""
        taken = set(c.execute(select(t.item.c.id).where(t.item.c.id.like(f"{base}%"))).scalars())
        return next(candidate for candidate in (base, *(f"{base}.{n}" for n in range(2, len(taken) + 2)))
                    if candidate not in taken)

    def _require(self, c: Connection, table: Any, id: str, kind: str) -> None:
        if c.execute(select(table.c.id).where(table.c.id == id)).first() is None:
            raise NotFound(f"no {kind} '{id}'")

    def _actor(self, cur: Any, person_id: str) -> Person:
        return _person(self._store.all(cur, "person", {"id": person_id}), person_id)

    def _load_item(self, c: Connection, id: str, *, links: bool = False, lock: bool = False) -> Item:
        row = self._store.one(self._store.cursor(c), "item_locked" if lock else "item", {"id": id})
        if row is None:
            raise NotFound(f"no item '{id}'")
        item = _item(row)
        if links and item.kind == "policy" and item.state == "published":
            ids = c.execute(select(t.item.c.id).where(and_(t.item.c.interprets == id, t.item.c.state == "published"))
                            .order_by(t.item.c.id)).scalars().all()
            item = replace(item, interpreted_by=tuple(ids))
        return item

    def _locked_item(self, c: Connection, id: str, expected_version: int | None) -> Item:
        item = self._load_item(c, id, lock=True)
        self._check_version(id, expected_version, item.version, item.state)
        return item

    def _check_version(self, id: str, expected: int | None, version: int, state: str) -> None:
        if expected is not None and version != expected:
            raise ItemChanged(f"item {id} changed since you read it (version {expected}, now {version}, "
                              f"state {self.pipeline.label(state)}); reload it and try again")

    def _update_draft(self, c: Connection, item: Item, values: dict[str, Any]) -> None:
        done = c.execute(update(t.item).where(and_(t.item.c.id == item.id, t.item.c.version == item.version))
                         .values(version=t.item.c.version + 1, **values))
        if done.rowcount != 1:
            raise ItemChanged(f"item {item.id} changed while this signature was being made; reload it and try again")

    def _round_signers(self, cur: Any, item_id: str, rnd: int) -> dict[str, str]:
        return {a: p for a, p, _ in self._store.all(cur, "round", {"item_id": item_id, "round": rnd})}

    def _chain_head(self, cur: Any, *, lock: bool = True) -> tuple[int, str]:
        row = self._store.one(cur, "head_locked" if lock else "head", {})
        if row is None:
            raise SchemaMissing("the chain head is missing; run `zwgk init`")
        return row[0], row[1]

    def _event(self, head: tuple[int, str], item_id: str, round: int, action: str, from_state: str | None,
               to_state: str, actor: str, role: str | None, now: datetime, content_hash: str, *,
               comment: str | None = None, reason: str | None = None, ground: str | None = None,
               decision: str | None = None, recorded_by: str | None = None,
               paper_sha256: str | None = None) -> tuple[Signature, tuple[Any, ...]]:
        """The next event after `head` (read under lock), hashed and complete before anything is written;
        with its row as the `append` statement stores it."""
        prev_seq, prev_hash = head
        stored = stamp(now)  # first: it refuses a clock without a time zone
        values = (prev_seq + 1, item_id, round, action, from_state, to_state, actor, role, recorded_by, paper_sha256,
                  stored, comment, reason, ground, decision, self.pipeline.name, self.pipeline.full_version,
                  content_hash, prev_hash)
        try:
            digest = chain.event_hash(values)
        except UnicodeEncodeError:
            raise InvalidInput("text with characters that cannot be stored (lone surrogates)") from None
        return Signature(*values[:10], now.astimezone(UTC), *values[11:], digest), (*values, digest)

    def _append(self, sig: Signature, row: tuple[Any, ...]) -> list[tuple[str, Any]]:
        """Write the event and move the chain head. The head update's `rowcount` must be 1 once sent:
        otherwise another signature took that place. Our pipeline's definition goes with it until a commit
        has stored it (a host may roll back the first signatures), so `verify` can judge it after an edit."""
        out = [("append", row), ("advance_head", {"seq": sig.seq, "hash": sig.hash, "prev": sig.seq - 1})]
        if not self._pipeline_stored:
            out.append(self._pipeline_row(row[10]))
        return out

    def _today(self, now: datetime) -> date:
        return self.config.office.date_of(now)

    def _deadlines(self, cur: Any, ops: list[Op], seq: int, now: datetime) -> None:
        self._store.send(cur, statements(ops, self.timeline, self.rules.published, seq, stamp(now)))

    def _append_now(self, cur: Any, *args: Any, **kw: Any) -> Signature:
        """An event at the current head, for the writes that are not on the hot path."""
        sig, row = self._event(self._chain_head(cur), *args, **kw)
        _, moved, *_ = self._store.send(cur, self._append(sig, row))
        if moved.rowcount != 1:
            raise ItemChanged("another signature was appended at the same moment; try again")
        return sig


def _person(rows: Sequence[Sequence[Any]], person_id: str) -> Person:
    """An active person from the rows of the `person` statement (one per role)."""
    if not rows:
        raise NotFound(f"no person '{person_id}'")
    pid, name, unit, email, phone, active, _ = rows[0]
    if not active:
        raise InvalidInput(f"person {person_id} is no longer active")
    return Person(pid, name, unit, tuple(r[6] for r in rows if r[6]), email, phone, bool(active))


def _item(r: Sequence[Any]) -> Item:
    return Item(id=r[0], title=r[1], body=r[2], unit=r[3], category=r[4], timing=r[5], kind=r[6], interprets=r[7],
                tags=tuple(json.loads(r[8])), formed_on=date.fromisoformat(r[9]) if r[9] else None, drafter=r[10],
                state=r[11], round=r[12], version=r[13], created_at=datetime.fromisoformat(r[14]),
                updated_at=datetime.fromisoformat(r[15]), schedule=r[16], period=r[17])


def _sha256_or_none(text: str) -> str | None:
    try:
        return chain.sha256_hex(text)
    except UnicodeEncodeError:  # bytes that are not UTF-8, read back by _lenient_text: tampered
        return None


@contextmanager
def _lenient_text(conn: Connection) -> Iterator[None]:
    """While verifying SQLite: bytes written behind the engine's back that are not UTF-8 must be reported
    as a bad event, not stop the check ("Could not decode to UTF-8 column")."""
    driver: Any = conn.connection.driver_connection
    if conn.dialect.name != "sqlite":
        yield
        return
    before = driver.text_factory
    driver.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
    try:
        yield
    finally:
        driver.text_factory = before


def _facts(item: Item) -> Facts:
    return Facts(item.id, item.title, item.kind, item.timing, item.interprets, item.drafter, item.unit,
                 item.schedule, item.period, item.formed_on)


def _facts_of(item_id: str, r: Sequence[Any]) -> Facts:
    """From the columns after state, round and version in the `advance` statement."""
    return Facts(item_id, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                 date.fromisoformat(r[8]) if r[8] else None)


def _signature(r: Sequence[Any]) -> Signature:
    values = dict(zip([*chain.FIELDS, "hash"], r, strict=True))
    values["at"] = datetime.fromisoformat(values["at"])
    return Signature(**values)

