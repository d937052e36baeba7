"""The Python API (`from workflow import Workflow`), end to end, on SQLite and PostgreSQL.

Every action of the default pipeline and the signature it leaves; every refusal as its typed exception,
each leaving the database exactly as it was; rounds; edits; paper sign-offs; interpretation links;
who may sign what; embedding in a host's transaction; subscribers; the schema; the chains and the digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, String, create_engine, func, insert, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from states import builtin
from tests.conftest import ADMIN, PEOPLE, new_info, publish, seed, to_head_approval
from workflow import (
    ActionNotAvailable,
    AlreadyExists,
    AlreadySigned,
    Digest,
    InputMissing,
    InvalidInput,
    Item,
    ItemChanged,
    NotAuthorised,
    NotEditable,
    NotFound,
    NotNext,
    NotPublic,
    PrerequisiteMissing,
    Refused,
    RoleMissing,
    SeparationOfDuties,
    Signature,
    SignerInactive,
    Workflow,
    screening,
)
from workflow.ledger.events import FIELDS, canonical, content_hash, event_hash
from workflow.schema import GENESIS_HASH

GENESIS = "0" * 64
REGISTER = "_register"
BEIJING = timezone(timedelta(hours=8))
ZWGK_TABLES = {"zwgk_alembic_version", "zwgk_chain", "zwgk_event", "zwgk_case", "zwgk_item", "zwgk_person",
               "zwgk_role", "zwgk_unit", "zwgk_adopted", "zwgk_pipeline", "zwgk_deadline", "zwgk_notification",
               "zwgk_screen_rules", "zwgk_screen_adopted", "zwgk_daemon", "zwgk_lease", "zwgk_item_number",
               "zwgk_request", "zwgk_applicant", "zwgk_request_number", "zwgk_document"}
SCHEMA_REVISION = "0107"

# The default signer of each forward step, and what it must say.
DEFAULT: dict[str, tuple[str, dict[str, Any]]] = {
    "submit": ("clerk", {}),
    "proofread": ("proof", {}),
    "clear": ("sec", {"decision": "full"}),
    "check": ("lead", {}),
    "approve": ("head", {}),
    "publish": ("clerk", {}),
}
ORDER = list(DEFAULT)
SEPARATED = ["submit", "proofread", "clear", "check", "approve"]
Step = tuple[str, str, dict[str, Any]]


def upto(last: str, **who: str) -> list[Step]:
    """The default steps from draft through `last`, with some signers replaced (`clear="multi"`)."""
    steps = []
    for action in ORDER[:ORDER.index(last) + 1]:
        actor, kw = DEFAULT[action]
        steps.append((action, who.get(action, actor), kw))
    return steps


def walk(wf: Workflow, item_id: str, steps: list[Step]) -> list[Signature]:
    return [wf.advance(item_id, action, actor=actor, **kw) for action, actor, kw in steps]


def heads(wf: Workflow) -> dict[str, tuple[int, str]]:
    """Every chain's head (the register's and each unit's), as its (seq, hash), read without writing."""
    with wf.engine.connect() as c:
        return {r.chain: (r.seq, r.hash) for r in c.execute(text("SELECT chain, seq, hash FROM zwgk_chain"))}


def world(wf: Workflow) -> tuple[object, ...]:
    """Everything the API can show, and every chain's head: a refusal must leave all of it as it was.

    Read only: `digest()` would seal (a write), and the seal would be announced to subscribers."""
    items = wf.items()
    return heads(wf), wf.units(), wf.people(), items, {i.id: wf.history(i.id) for i in items}


def refused(wf: Workflow, exc: type[Exception], fn: Callable[..., object], *args: Any, **kw: Any) -> str:
    """Call `fn`, expect exactly `exc` with a one-line message, and nothing written. Returns the message."""
    before = world(wf)
    with pytest.raises(exc) as info:
        fn(*args, **kw)
    assert type(info.value) is exc, f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    assert message.strip(), "empty message"
    assert "\n" not in message, message
    assert world(wf) == before, "a refused call changed the database"
    return message


def chain_events(wf: Workflow, chain: str) -> list[Signature]:
    """Every event of one chain, in order, through the API (`event(chain, seq)` until there is none)."""
    out: list[Signature] = []
    while True:
        try:
            out.append(wf.event(chain, len(out) + 1))
        except NotFound:
            return out


def all_chains(wf: Workflow) -> dict[str, list[Signature]]:
    return {chain: chain_events(wf, chain) for chain in [REGISTER, *(u.id for u in wf.units())]}


def all_signatures(wf: Workflow) -> list[Signature]:
    """Every item's signatures, in the order of their chains."""
    return sorted((s for i in wf.items() for s in wf.history(i.id)), key=lambda s: (s.chain, s.seq))


def unscreened(data: Any) -> dict[str, Any]:
    """A step's data without its pre-screen (tests/test_redaction.py checks that)."""
    return {k: v for k, v in data.items() if k != "screen"}


def operator_of(wf: Workflow) -> str:
    """What each event records as its operator: this Workflow's, plus PostgreSQL's session user (who we log in as)."""
    return wf.operator + (f" pg:{wf.engine.url.username}" if wf.engine.dialect.name == "postgresql" else "")


def assert_chain_ok(wf: Workflow, last: Signature | None = None) -> None:
    """verify() is clean; every chain (the register's, each unit's) is gapless and linked from the genesis hash,
    its head row names its last event, and every item signature is an event of its unit's chain; `last` is the
    last event of its chain; digest() seals every unit chain's head into the register and is the register's head."""
    report = wf.verify()
    assert report.ok, report.problems
    chains = all_chains(wf)
    found = heads(wf)
    assert report.chains == len(chains) == len(found)
    assert report.events == sum(len(events) for events in chains.values())
    assert report.cases == len(wf.items())
    assert report.digest is not None and (report.digest.seq, report.digest.hash) == found[REGISTER]
    for chain, events in chains.items():
        assert [s.seq for s in events] == list(range(1, len(events) + 1)), chain
        prev = GENESIS
        for s in events:
            assert s.chain == chain
            assert s.prev_hash == prev
            assert s.hash == recomputed_hash(s)
            assert_utc(s.at)
            prev = s.hash
        assert found[chain] == (events[-1].seq, events[-1].hash)
    for s in all_signatures(wf):
        assert chains[s.chain][s.seq - 1] == s
    if last is not None:
        assert chains[last.chain][-1] == last
    digest = wf.digest()
    seal = wf.event(REGISTER, digest.seq)
    assert (seal.action, seal.case_kind, seal.seq, seal.hash) == ("seal", "register", digest.seq, digest.hash)
    assert seal.data == {"chains": [[c, *found[c]] for c in sorted(chains) if c != REGISTER]}
    assert digest.seq == len(chains[REGISTER]) + (0 if chains[REGISTER][-1] == seal else 1)
    assert heads(wf) == found | {REGISTER: (digest.seq, digest.hash)}
    assert str(digest) == f"{seal.seq}:{seal.hash}"
    assert wf.digest() == digest  # the register's last event is a seal of these heads already: nothing written
    assert heads(wf)[REGISTER] == (digest.seq, digest.hash)


def recomputed_hash(sig: Signature) -> str:
    values = {name: getattr(sig, name) for name in FIELDS}
    values["at"] = sig.at.isoformat(timespec="microseconds")
    values["data"] = canonical(sig.data) if sig.data else None
    return event_hash(tuple(values[name] for name in FIELDS))


def assert_utc(moment: datetime) -> None:
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)


class Ticking:
    """A clock in Beijing time that moves on a minute (and a few microseconds) at every reading."""

    def __init__(self) -> None:
        self.now = datetime(2026, 9, 30, 9, 0, 0, 123456, tzinfo=BEIJING)
        self.readings = 0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1, microseconds=7)
        self.readings += 1
        return self.now


# -- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture
def ticking(db_url: str) -> Iterator[tuple[Workflow, Ticking]]:
    clock = Ticking()
    w = seed(Workflow(db_url, clock=clock))
    yield w, clock
    w.close()


class HostBase(DeclarativeBase):
    pass


class Note(HostBase):
    """A host system's own table, beside ours."""

    __tablename__ = "host_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


@dataclass
class Host:
    wf: Workflow
    engine: Engine

    def notes(self) -> list[str]:
        with self.engine.connect() as c:
            return list(c.execute(select(Note.text).order_by(Note.id)).scalars())


@pytest.fixture
def host(db_url: str) -> Iterator[Host]:
    """A host application's own engine (plain `create_engine`), with our tables and one of its own."""
    engine = create_engine(db_url)
    wf = seed(Workflow(engine=engine))
    HostBase.metadata.create_all(engine)
    yield Host(wf, engine)
    engine.dispose()


class Boom(Exception):
    pass


# -- units, people, items ----------------------------------------------------------------------------------


def test_units_and_people_are_registered_and_read_back(wf: Workflow) -> None:
    unit = wf.add_unit("czs", name="平田乡财政所", kind="station", by=ADMIN)
    assert (unit.id, unit.name, unit.kind, unit.open) == ("czs", "平田乡财政所", "station", True)
    assert [u.id for u in wf.units()] == ["czs", "gov"]
    assert wf.units()[0] == unit
    assert wf.pipeline_in_force("czs").fingerprint == builtin("item").fingerprint  # a new unit adopts the built-in
    person = wf.add_person("li", name="李会计", unit="czs", roles=["proofreader", "drafter", "proofreader"],
                           email="li@example.cn", phone="13908780123", by=ADMIN)
    assert person.roles == {"czs": ("drafter", "proofreader")}
    assert set(person.roles_in("czs")) == {"drafter", "proofreader"} and person.roles_in("gov") == ()
    read = wf.person("li")
    assert (read.id, read.name, read.unit, read.email, read.phone, read.active, read.admin) == (
        "li", "李会计", "czs", "li@example.cn", "13908780123", True, False)
    assert read.roles == {"czs": ("drafter", "proofreader")}
    assert [p.id for p in wf.people()] == sorted([ADMIN, *PEOPLE, "li"])
    assert wf.person("multi").roles == {"gov": tuple(sorted(PEOPLE["multi"]))}
    assert wf.person(ADMIN).admin and wf.person(ADMIN).roles == {}
    nobody = wf.add_person("zhao", name="赵", unit="czs", roles=[], by=ADMIN)
    assert nobody.roles == {} and wf.person("zhao").roles == {}
    assert (nobody.unit, wf.person("zhao").unit) == ("czs", "czs")
    # A person of one unit may hold a role in another: roles are held per unit.
    wf.grant("li", "leader", unit="gov", by=ADMIN)
    assert wf.person("li").roles == {"czs": ("drafter", "proofreader"), "gov": ("leader",)}
    assert_chain_ok(wf)


def test_new_item_is_a_draft_with_a_create_signature(ticking: tuple[Workflow, Ticking]) -> None:
    wf, clock = ticking
    before = heads(wf)
    item = wf.new_item(title="2026年第三季度财务收支", unit="gov", category="3.4", timing="periodic", kind="info",
                       drafter="clerk", body="收入……", tags=["management", "result"], formed_on=date(2026, 9, 29),
                       comment="按季度公开")
    moment = clock.now
    seq = before["gov"][0] + 1  # the next event of the unit's own chain
    assert item.id == "gov-2026-000001"  # the unit's first item of the year
    assert (item.title, item.body, item.unit, item.category, item.timing, item.kind, item.interprets) == (
        "2026年第三季度财务收支", "收入……", "gov", "3.4", "periodic", "info", None)
    assert item.tags == ("management", "result")
    assert item.formed_on == date(2026, 9, 29)
    assert (item.drafter, item.state, item.round, item.version) == ("clerk", "draft", 1, 1)
    assert item.created_at == item.updated_at == moment
    assert item.interpreted_by == ()
    assert wf.item(item.id) == item
    assert wf.items() == [item]
    assert wf.items(state="draft") == [item]
    assert wf.items(state="published") == []
    assert heads(wf)[REGISTER] == before[REGISTER]  # an item's events are its unit's, never the register's

    (sig,) = wf.history(item.id)
    assert (sig.chain, sig.seq, sig.register_seq, sig.case_kind, sig.case_id) == (
        "gov", seq, before[REGISTER][0], "item", item.id)
    assert (sig.item_id, sig.round, sig.action, sig.from_state, sig.to_state) == (item.id, 1, "create", None, "draft")
    assert (sig.actor, sig.role, sig.recorded_by, sig.paper_sha256) == ("clerk", "drafter", None, None)
    assert (sig.comment, sig.reason, sig.ground, sig.decision) == ("按季度公开", None, None, None)
    assert sig.operator == operator_of(wf)
    assert unscreened(sig.data) == {"year": 2026, "number": 1}
    assert sig.data["screen"] == {"rules": screening.builtin().fingerprint, "found": []}
    in_force = wf.pipeline_in_force("gov")
    assert sig.pipeline == in_force.fingerprint == builtin("item").fingerprint
    assert in_force.name == "zwgk-default"
    assert in_force.full_version.startswith("2019.1+") and len(in_force.full_version) == len("2019.1+") + 12
    assert in_force.full_version == f"2019.1+{sig.pipeline[:12]}"
    assert sig.content_hash == content_hash(item.content())
    assert GENESIS == GENESIS_HASH
    assert sig.prev_hash == before["gov"][1] == wf.event("gov", seq - 1).hash
    assert sig.hash == recomputed_hash(sig)
    assert sig.at == moment
    assert_utc(sig.at)
    assert_chain_ok(wf, sig)
    assert wf.event("gov", seq) == sig


def test_items_page_by_id_and_stream_a_page_at_a_time(wf: Workflow) -> None:
    """`limit` / `after` page the listing by id (a keyset); `iter_items` reads a page per short transaction, so an
    item created while a listing is under way is listed if its id comes after those listed (issue 11)."""
    for name in ("c", "a", "e", "b"):
        new_info(wf, id=name)
    assert [i.id for i in wf.items()] == ["a", "b", "c", "e"]
    assert [i.id for i in wf.items(limit=2)] == ["a", "b"]
    assert [i.id for i in wf.items(limit=2, after="b")] == ["c", "e"]
    assert wf.items(after="e") == []
    assert wf.items(state="draft", limit=3, after="a") == [wf.item("b"), wf.item("c"), wf.item("e")]
    walk = wf.iter_items(page=2)
    assert [next(walk).id, next(walk).id] == ["a", "b"]
    new_info(wf, id="d")
    new_info(wf, id="a0")  # before the walk's place: not listed
    assert [i.id for i in walk] == ["c", "d", "e"]
    assert [i.id for i in wf.iter_items(page=1, limit=3, after="a0")] == ["b", "c", "d"]
    for bad in ({"limit": 0}, {"page": 0}, {"state": "lost"}, {"after": "a\x00"}):
        with pytest.raises(InvalidInput):
            wf.iter_items(**bad)  # type: ignore[arg-type]


def test_new_item_with_explicit_id(wf: Workflow) -> None:
    item = wf.new_item(id="pt.2026_q3-fin", title="财务", unit="gov", category="3.4", timing="periodic",
                       kind="info", drafter="drafter2")
    assert item.id == "pt.2026_q3-fin"
    assert (item.body, item.tags, item.formed_on, item.drafter) == ("", (), None, "drafter2")
    assert wf.history("pt.2026_q3-fin")[0].actor == "drafter2"


def test_items_are_numbered_per_unit_and_year_without_gaps(wf: Workflow) -> None:
    """Every signature used to take a number (2026-000001, -000009, -000015): now each unit's items of a year run
    1, 2, 3… whatever else is signed between them, and a unit's numbers are its own."""
    first = new_info(wf)
    publish(wf, first)
    second = new_info(wf, id="chosen")  # a chosen id takes no number
    third = new_info(wf)
    wf.add_unit("fin", name="财政所", by=ADMIN)
    wf.grant("clerk", "drafter", unit="fin", by=ADMIN)
    in_fin = new_info(wf, unit="fin")
    assert (first, second, third, in_fin) == ("gov-2026-000001", "chosen", "gov-2026-000002", "fin-2026-000001")
    assert [unscreened(wf.history(i)[0].data) for i in (first, second, third)] == [
        {"year": 2026, "number": 1}, {}, {"year": 2026, "number": 2}]
    assert_chain_ok(wf)


def test_the_year_is_the_offices_and_a_new_year_starts_again_at_one(sqlite_url: str) -> None:
    """31 Dec 2026 17:00 UTC is already 1 Jan 2027 in the office (Asia/Shanghai, the default)."""
    now = [datetime(2026, 12, 31, 15, 0, tzinfo=UTC)]
    with seed(Workflow(sqlite_url, clock=lambda: now[0])) as wf:
        assert new_info(wf) == "gov-2026-000001"
        now[0] = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
        assert (new_info(wf), new_info(wf)) == ("gov-2027-000001", "gov-2027-000002")
        assert wf.verify().ok


def test_a_chosen_id_in_the_form_of_the_units_numbers_is_refused(wf: Workflow) -> None:
    """Else the next number's id would be taken, and the item given `gov-2026-000001.2`."""
    for chosen in ("gov-2026-000001", "gov-2031-000400.2"):
        assert "numbers" in refused(wf, NotNext, new_info, wf, id=chosen)
    assert new_info(wf, id="gov-2026-1") == "gov-2026-1"  # not of the form: anyone's to choose
    assert new_info(wf) == "gov-2026-000001"


def test_units_alike_in_their_first_48_characters_do_not_collide(wf: Workflow) -> None:
    """An id holds 48 characters of its unit's: two such units number apart, and the second id is set apart."""
    units = ["u" * 48 + "a", "u" * 48 + "b"]
    for unit in units:
        wf.add_unit(unit, name=unit, by=ADMIN)
        wf.grant("clerk", "drafter", unit=unit, by=ADMIN)
    ids = [new_info(wf, unit=unit) for unit in units]
    assert ids == ["u" * 48 + "-2026-000001", "u" * 48 + "-2026-000001.2"]
    assert [unscreened(wf.history(i)[0].data) for i in ids] == [{"year": 2026, "number": 1}] * 2
    assert_chain_ok(wf)


# -- the default pipeline, step by step --------------------------------------------------------------------


def test_every_forward_step_signs_and_moves_the_item(ticking: tuple[Workflow, Ticking]) -> None:
    wf, clock = ticking
    item_id = new_info(wf, tags=["result"])
    created = wf.history(item_id)[0]
    content = content_hash(wf.item(item_id).content())
    fingerprint = wf.pipeline_in_force("gov").fingerprint
    expected = [
        # action, actor, kwargs, role, from, to
        ("submit", "clerk", {"comment": "请审"}, "drafter", "draft", "confidentiality_review"),
        ("proofread", "proof", {}, "proofreader", "confidentiality_review", "confidentiality_review"),
        ("clear", "sec", {"decision": "full"}, "confidentiality_reviewer", "confidentiality_review", "leader_check"),
        ("check", "lead", {}, "leader", "leader_check", "head_approval"),
        ("approve", "head", {"comment": "同意公开"}, "head", "head_approval", "head_approval"),
        ("publish", "clerk", {}, "publisher", "head_approval", "published"),
    ]
    prev = created
    for n, (action, actor, kw, role, source, target) in enumerate(expected, start=2):
        sig = wf.advance(item_id, action, actor=actor, **kw)
        item = wf.item(item_id)
        assert (item.state, item.round, item.version) == (target, 1, n)
        assert item.updated_at == clock.now
        assert (sig.chain, sig.seq, sig.case_kind, sig.item_id, sig.round, sig.action, sig.from_state,
                sig.to_state) == ("gov", created.seq + n - 1, "item", item_id, 1, action, source, target)
        assert sig.register_seq == created.register_seq  # the register did not move meanwhile
        assert (sig.actor, sig.role, sig.recorded_by, sig.paper_sha256) == (actor, role, None, None)
        assert (sig.comment, sig.reason, sig.ground) == (kw.get("comment"), None, None)
        assert sig.decision == kw.get("decision")
        assert (sig.pipeline, sig.operator, unscreened(sig.data)) == (fingerprint, operator_of(wf), {})
        assert ("screen" in sig.data) == (action in ("submit", "clear", "publish"))  # to review, on, public
        assert sig.content_hash == content  # forward steps sign the content unchanged
        assert sig.prev_hash == prev.hash
        assert sig.hash == recomputed_hash(sig) and sig.hash != prev.hash
        assert sig.at == clock.now
        assert_utc(sig.at)
        assert sig.at > prev.at
        assert wf.history(item_id)[-1] == sig
        prev = sig
    assert [s.action for s in wf.history(item_id)] == ["create", *(e[0] for e in expected)]
    assert wf.items(state="published") == [wf.item(item_id)]
    assert_chain_ok(wf, prev)


def test_signature_time_is_utc_from_the_system_clock(wf: Workflow) -> None:
    before = datetime.now(UTC)
    item_id = new_info(wf)
    sig = wf.advance(item_id, "submit", actor="clerk")
    after = datetime.now(UTC)
    assert_utc(sig.at)
    assert before <= sig.at <= after
    assert_utc(wf.history(item_id)[0].at)
    assert_utc(wf.item(item_id).created_at)


def test_a_fixed_injected_clock_is_honoured(db_url: str) -> None:
    moment = datetime(2026, 10, 9, 9, 30, 15, 250000, tzinfo=BEIJING)
    with Workflow(db_url, clock=lambda: moment) as wf:
        seed(wf)
        item_id = new_info(wf)
        sigs = [*wf.history(item_id), *walk(wf, item_id, upto("publish"))]
        assert len(sigs) == 7
        for sig in sigs:
            assert sig.at == moment
            assert_utc(sig.at)
            assert sig.at.isoformat() == "2026-10-09T01:30:15.250000+00:00"
        item = wf.item(item_id)
        assert item.created_at == item.updated_at == moment
        assert_chain_ok(wf, sigs[-1])


def test_a_clock_without_time_zone_is_refused_and_writes_nothing(db_url: str) -> None:
    aware = datetime(2026, 10, 9, 9, 0, tzinfo=BEIJING)
    now = [aware]
    with Workflow(db_url, clock=lambda: now[0]) as wf:
        seed(wf)
        item_id = new_info(wf)
        now[0] = datetime(2026, 10, 9, 9, 5)  # naive
        refused(wf, InvalidInput, wf.advance, item_id, "submit", actor="clerk")
        refused(wf, InvalidInput, new_info, wf)
        refused(wf, InvalidInput, wf.digest)  # a seal is written too, and refused with the same clock
        refused(wf, InvalidInput, wf.add_person, "wang", name="王", unit="gov", roles=["drafter"], by=ADMIN)
        now[0] = aware + timedelta(minutes=10)
        assert_chain_ok(wf)


@pytest.mark.parametrize("decision, reason", [("full", None), ("partial", "第3页含个人隐私，依第十五条不予公开")])
def test_clear_records_the_decision(wf: Workflow, decision: str, reason: str | None) -> None:
    item_id = new_info(wf)
    walk(wf, item_id, upto("proofread"))
    sig = wf.advance(item_id, "clear", actor="sec", decision=decision, reason=reason)
    assert (sig.action, sig.decision, sig.reason, sig.ground) == ("clear", decision, reason, None)
    assert (sig.from_state, sig.to_state, sig.role) == ("confidentiality_review", "leader_check",
                                                         "confidentiality_reviewer")
    assert wf.item(item_id).state == "leader_check"
    assert wf.history(item_id)[-1] == sig
    assert_chain_ok(wf, sig)


@pytest.mark.parametrize("ground", ["art14", "art15", "art16"])
def test_withhold_with_a_ground_ends_the_item(wf: Workflow, ground: str) -> None:
    item_id = new_info(wf)
    walk(wf, item_id, upto("submit"))
    sig = wf.advance(item_id, "withhold", actor="sec", ground=ground, reason="过程性信息")
    assert (sig.action, sig.ground, sig.reason, sig.decision) == ("withhold", ground, "过程性信息", None)
    assert (sig.from_state, sig.to_state, sig.role, sig.round) == (
        "confidentiality_review", "withheld", "confidentiality_reviewer", 1)
    item = wf.item(item_id)
    assert (item.state, item.round, item.version) == ("withheld", 1, 3)
    # nothing but its review (Art. 18): confirmed or reopened by a confidentiality reviewer
    assert [(a.id, people) for a, people in wf.next_steps(item_id)] == [("confirm", ["multi", "sec"]),
                                                                         ("reopen", ["multi", "sec"])]
    assert {p: [a.id for a in wf.actions_for(item_id, p)] for p in PEOPLE if wf.actions_for(item_id, p)} == {
        "multi": ["confirm", "reopen"], "sec": ["confirm", "reopen"]}
    assert "withheld" in refused(wf, ActionNotAvailable, wf.advance, item_id, "clear", actor="sec", decision="full")
    assert_chain_ok(wf, sig)


RETURNS = [
    pytest.param("proofread", "confidentiality_review", "sec", "confidentiality_reviewer", id="from-review"),
    pytest.param("clear", "leader_check", "lead", "leader", id="from-leader-check"),
    pytest.param("approve", "head_approval", "head", "head", id="from-head-approval"),
]


@pytest.mark.parametrize("reached, state, returner, role", RETURNS)
def test_return_starts_a_new_round_that_needs_fresh_signatures(wf: Workflow, reached: str, state: str,
                                                               returner: str, role: str) -> None:
    item_id = new_info(wf)
    walk(wf, item_id, upto(reached))
    before = wf.item(item_id)
    assert (before.state, before.round) == (state, 1)

    sig = wf.advance(item_id, "return", actor=returner, reason="数据有误，请核实")
    assert (sig.action, sig.from_state, sig.to_state, sig.actor, sig.role) == (
        "return", state, "draft", returner, role)
    assert (sig.reason, sig.round, sig.decision, sig.ground) == ("数据有误，请核实", 2, None, None)
    item = wf.item(item_id)
    assert (item.state, item.round, item.version) == ("draft", 2, before.version + 1)

    # Round 2: nothing signed in round 1 counts.
    again = wf.advance(item_id, "submit", actor="clerk")
    assert (again.round, again.to_state) == (2, "confidentiality_review")
    assert [a.id for a in wf.actions_for(item_id, "proof")] == ["proofread"]
    refused(wf, PrerequisiteMissing, wf.advance, item_id, "clear", actor="sec", decision="full")
    round2 = walk(wf, item_id, upto("check")[1:])
    refused(wf, PrerequisiteMissing, wf.advance, item_id, "publish", actor="clerk")
    round2 += walk(wf, item_id, upto("publish")[4:])
    assert [s.action for s in round2] == ["proofread", "clear", "check", "approve", "publish"]
    assert all(s.round == 2 for s in round2)
    final = wf.item(item_id)
    assert (final.state, final.round) == ("published", 2)
    history = wf.history(item_id)
    assert [s.round for s in history] == [1] * (ORDER.index(reached) + 2) + [2] * 7
    assert_chain_ok(wf, round2[-1])


def test_separation_of_duties_applies_within_each_round_only(wf: Workflow) -> None:
    item_id = new_info(wf)
    walk(wf, item_id, upto("proofread", proofread="multi"))
    refused(wf, SeparationOfDuties, wf.advance, item_id, "clear", actor="multi", decision="full")
    wf.advance(item_id, "return", actor="sec", reason="重新校对")

    wf.advance(item_id, "submit", actor="clerk")
    wf.advance(item_id, "proofread", actor="proof")
    cleared = wf.advance(item_id, "clear", actor="multi", decision="full")  # proofread only in round 1
    assert (cleared.actor, cleared.round) == ("multi", 2)
    wf.advance(item_id, "check", actor="lead")
    message = refused(wf, SeparationOfDuties, wf.advance, item_id, "approve", actor="multi")
    assert "multi" in message and "clear" in message
    wf.advance(item_id, "approve", actor="head")
    last = wf.advance(item_id, "publish", actor="multi")  # publish is not in the separated group
    assert wf.item(item_id).state == "published"
    assert_chain_ok(wf, last)


def test_retract_keeps_the_published_record_and_history(wf: Workflow) -> None:
    item_id = new_info(wf)
    publish(wf, item_id)
    published = wf.history(item_id)
    item = wf.item(item_id)
    refused(wf, InputMissing, wf.advance, item_id, "retract", actor="head")
    refused(wf, RoleMissing, wf.advance, item_id, "retract", actor="clerk", reason="x")

    sig = wf.advance(item_id, "retract", actor="head", reason="数据口径有误")
    assert (sig.action, sig.from_state, sig.to_state, sig.actor, sig.role, sig.reason, sig.round) == (
        "retract", "published", "retracted", "head", "head", "数据口径有误", 1)
    after = wf.item(item_id)
    assert (after.state, after.round, after.version) == ("retracted", 1, item.version + 1)
    assert after.content() == item.content()  # the published record is kept as it was
    assert wf.history(item_id) == [*published, sig]
    assert [s.action for s in wf.history(item_id)][-2:] == ["publish", "retract"]
    assert wf.items(state="retracted") == [after]
    assert wf.items(state="published") == []
    assert wf.next_steps(item_id) == []
    refused(wf, ActionNotAvailable, wf.advance, item_id, "retract", actor="head", reason="again")
    refused(wf, NotEditable, wf.edit_item, item_id, actor="clerk", title="改")
    assert_chain_ok(wf, sig)


# -- refusals of advance -----------------------------------------------------------------------------------


def withhold_step() -> Step:
    return ("withhold", "sec", {"ground": "art16", "reason": "过程性信息"})


def retract_step() -> Step:
    return ("retract", "head", {"reason": "撤回"})


PAPER = hashlib.sha256(b"scanned sheet").hexdigest()
R = {"reason": "理由"}

ADVANCE_REFUSALS = [
    # ActionNotAvailable: the action does not leave the item's state
    pytest.param([], ("publish", "clerk", {}), ActionNotAvailable, id="publish-in-draft"),
    pytest.param([], ("proofread", "proof", {}), ActionNotAvailable, id="proofread-in-draft"),
    pytest.param([], ("frobnicate", "clerk", {}), ActionNotAvailable, id="unknown-action"),
    pytest.param([], ("return", "sec", R), ActionNotAvailable, id="return-from-draft"),
    pytest.param(upto("submit"), ("submit", "clerk", {}), ActionNotAvailable, id="submit-twice"),
    pytest.param(upto("proofread"), ("check", "lead", {}), ActionNotAvailable, id="check-in-review"),
    pytest.param(upto("clear"), ("approve", "head", {}), ActionNotAvailable, id="approve-in-leader-check"),
    pytest.param(upto("approve"), ("retract", "head", R), ActionNotAvailable, id="retract-before-publish"),
    pytest.param(upto("publish"), ("publish", "clerk", {}), ActionNotAvailable, id="publish-twice"),
    pytest.param(upto("publish"), ("return", "head", R), ActionNotAvailable, id="return-from-published"),
    pytest.param([*upto("submit"), withhold_step()], ("clear", "sec", {"decision": "full"}), ActionNotAvailable,
                 id="clear-after-withhold"),
    pytest.param([*upto("submit"), withhold_step()], ("return", "sec", R), ActionNotAvailable,
                 id="return-after-withhold"),
    pytest.param([*upto("publish"), retract_step()], ("publish", "clerk", {}), ActionNotAvailable,
                 id="publish-after-retract"),
    # RoleMissing: the signer does not hold the step's role
    pytest.param([], ("submit", "proof", {}), RoleMissing, id="submit-by-proofreader"),
    pytest.param(upto("submit"), ("proofread", "sec", {}), RoleMissing, id="proofread-by-reviewer"),
    pytest.param(upto("proofread"), ("clear", "proof", {"decision": "full"}), RoleMissing, id="clear-by-proofreader"),
    pytest.param(upto("submit"), ("withhold", "lead", {"ground": "art14", **R}), RoleMissing, id="withhold-by-leader"),
    pytest.param(upto("clear"), ("check", "head", {}), RoleMissing, id="check-by-head"),
    pytest.param(upto("check"), ("approve", "lead", {}), RoleMissing, id="approve-by-leader"),
    pytest.param(upto("approve"), ("publish", "head", {}), RoleMissing, id="publish-by-head"),
    pytest.param(upto("submit"), ("return", "lead", R), RoleMissing, id="return-review-by-leader"),
    pytest.param(upto("clear"), ("return", "sec", R), RoleMissing, id="return-check-by-reviewer"),
    pytest.param(upto("check"), ("return", "lead", R), RoleMissing, id="return-approval-by-leader"),
    pytest.param(upto("publish"), ("retract", "clerk", R), RoleMissing, id="retract-by-publisher"),
    # PrerequisiteMissing: a required signature of this round is missing
    pytest.param(upto("submit"), ("clear", "sec", {"decision": "full"}), PrerequisiteMissing,
                 id="clear-before-proofread"),
    pytest.param(upto("check"), ("publish", "clerk", {}), PrerequisiteMissing, id="publish-before-approve"),
    # AlreadySigned: a staying step signed twice in one round
    pytest.param(upto("proofread"), ("proofread", "proof", {}), AlreadySigned, id="proofread-twice"),
    pytest.param(upto("proofread"), ("proofread", "multi", {}), AlreadySigned, id="proofread-again-by-another"),
    pytest.param(upto("approve"), ("approve", "head", {}), AlreadySigned, id="approve-twice"),
    # InputMissing: a decision, ground or reason is missing, not allowed, or not taken
    pytest.param(upto("proofread"), ("clear", "sec", {}), InputMissing, id="clear-without-decision"),
    pytest.param(upto("proofread"), ("clear", "sec", {"decision": "most"}), InputMissing, id="clear-bad-decision"),
    pytest.param(upto("proofread"), ("clear", "sec", {"decision": "partial"}), InputMissing,
                 id="partial-without-reason"),
    pytest.param(upto("proofread"), ("clear", "sec", {"decision": "partial", "reason": "  "}), InputMissing,
                 id="partial-blank-reason"),
    pytest.param(upto("proofread"), ("clear", "sec", {"decision": "full", "ground": "art14"}), InputMissing,
                 id="clear-with-ground"),
    pytest.param(upto("submit"), ("withhold", "sec", R), InputMissing, id="withhold-without-ground"),
    pytest.param(upto("submit"), ("withhold", "sec", {"ground": "art99", **R}), InputMissing,
                 id="withhold-bad-ground"),
    pytest.param(upto("submit"), ("withhold", "sec", {"ground": "art15"}), InputMissing, id="withhold-without-reason"),
    pytest.param(upto("submit"), ("withhold", "sec", {"ground": "art15", "reason": ""}), InputMissing,
                 id="withhold-empty-reason"),
    pytest.param(upto("submit"), ("withhold", "sec", {"ground": "art15", "decision": "full", **R}), InputMissing,
                 id="withhold-with-decision"),
    pytest.param(upto("submit"), ("return", "sec", {}), InputMissing, id="return-review-without-reason"),
    pytest.param(upto("clear"), ("return", "lead", {}), InputMissing, id="return-check-without-reason"),
    pytest.param(upto("check"), ("return", "head", {"reason": " "}), InputMissing, id="return-approval-blank-reason"),
    pytest.param(upto("publish"), ("retract", "head", {}), InputMissing, id="retract-without-reason"),
    pytest.param([], ("submit", "clerk", {"decision": "full"}), InputMissing, id="submit-with-decision"),
    pytest.param(upto("clear"), ("check", "lead", {"ground": "art14"}), InputMissing, id="check-with-ground"),
    # NotFound: unknown people
    pytest.param([], ("submit", "nobody", {}), NotFound, id="unknown-actor"),
    pytest.param(upto("check"), ("approve", "head", {"recorded_by": "nobody"}), NotFound, id="unknown-recorder"),
    # InvalidInput: the scanned sheet's hash
    pytest.param(upto("check"), ("approve", "head", {"recorded_by": "clerk", "paper_sha256": PAPER.upper()}),
                 InvalidInput, id="paper-upper-case"),
    pytest.param(upto("check"), ("approve", "head", {"recorded_by": "clerk", "paper_sha256": PAPER[:63]}),
                 InvalidInput, id="paper-short"),
    pytest.param(upto("check"), ("approve", "head", {"recorded_by": "clerk", "paper_sha256": "z" * 64}),
                 InvalidInput, id="paper-not-hex"),
    pytest.param(upto("check"), ("approve", "head", {"paper_sha256": PAPER}), InvalidInput,
                 id="paper-without-recorder"),
]


@pytest.mark.parametrize("steps, attempt, exc", ADVANCE_REFUSALS)
def test_advance_refusal_writes_nothing(wf: Workflow, steps: list[Step], attempt: Step,
                                        exc: type[Exception]) -> None:
    item_id = new_info(wf)
    walk(wf, item_id, steps)
    action, actor, kw = attempt
    message = refused(wf, exc, wf.advance, item_id, action, actor=actor, **kw)
    if issubclass(exc, Refused):
        assert item_id in message
    if exc is RoleMissing:
        assert actor in message
    if exc is NotFound:
        assert "nobody" in message
    assert_chain_ok(wf)


def test_advance_on_an_unknown_item_is_not_found(wf: Workflow) -> None:
    new_info(wf)
    assert "no-such-item" in refused(wf, NotFound, wf.advance, "no-such-item", "submit", actor="clerk")


PAIRS = [(a, b) for i, a in enumerate(SEPARATED) for b in SEPARATED[i + 1:]]


@pytest.mark.parametrize("first, second", PAIRS, ids=[f"{a}-then-{b}" for a, b in PAIRS])
def test_separation_of_duties_for_every_pair(wf: Workflow, first: str, second: str) -> None:
    item_id = new_info(wf, drafter="multi" if first == "submit" else "clerk")  # a draft's drafter submits it
    steps = upto(second, **{first: "multi"})
    walk(wf, item_id, steps[:-1])
    action, _, kw = steps[-1]
    message = refused(wf, SeparationOfDuties, wf.advance, item_id, action, actor="multi", **kw)
    assert "multi" in message and first in message and second in message
    assert "multi" not in [p for a, ps in wf.next_steps(item_id) if a.id == second for p in ps]
    assert second not in [a.id for a in wf.actions_for(item_id, "multi")]
    sig = wf.advance(item_id, action, actor=DEFAULT[second][0], **kw)  # someone else may
    assert sig.action == second
    assert_chain_ok(wf, sig)


def test_the_drafter_cannot_proofread_their_own_item(wf: Workflow) -> None:
    item_id = new_info(wf, drafter="multi")
    wf.advance(item_id, "submit", actor="multi")
    message = refused(wf, SeparationOfDuties, wf.advance, item_id, "proofread", actor="multi")
    assert "multi" in message and "submit" in message
    assert dict((a.id, p) for a, p in wf.next_steps(item_id))["proofread"] == ["proof"]


def test_a_stale_item_or_expected_version_is_refused(wf: Workflow) -> None:
    item_id = new_info(wf)
    read = wf.item(item_id)
    wf.edit_item(item_id, actor="clerk", body="改过的正文")
    message = refused(wf, ItemChanged, wf.advance, read, "submit", actor="clerk")
    assert item_id in message
    refused(wf, ItemChanged, wf.advance, item_id, "submit", actor="clerk", expected_version=1)
    refused(wf, ItemChanged, wf.edit_item, item_id, actor="clerk", title="x", expected_version=1)
    fresh = wf.item(item_id)
    assert fresh.version == 2
    sig = wf.advance(fresh, "submit", actor="clerk")
    assert sig.action == "submit"
    sig = wf.advance(item_id, "proofread", actor="proof", expected_version=3)
    assert wf.item(item_id).version == 4
    assert_chain_ok(wf, sig)


# -- editing -----------------------------------------------------------------------------------------------


def test_edit_in_draft_is_signed_with_the_new_content(wf: Workflow) -> None:
    item_id = new_info(wf, tags=["result"], drafter="drafter2")
    created = wf.history(item_id)[0]
    sig = wf.edit_item(item_id, actor="drafter2", title="2026年第三季度财务收支（更正）", body="收入：12万元",
                       tags=["management", "result"], formed_on=date(2026, 9, 30), comment="更正金额")
    item = wf.item(item_id)
    assert (item.title, item.body, item.tags, item.formed_on) == (
        "2026年第三季度财务收支（更正）", "收入：12万元", ("management", "result"), date(2026, 9, 30))
    assert (item.state, item.round, item.version, item.drafter) == ("draft", 1, 2, "drafter2")
    assert (sig.seq, sig.action, sig.from_state, sig.to_state, sig.round) == (
        created.seq + 1, "edit", "draft", "draft", 1)
    assert (sig.actor, sig.role, sig.comment) == ("drafter2", "drafter", "更正金额")
    assert sig.content_hash == content_hash(item.content())
    assert sig.content_hash != created.content_hash
    assert sig.prev_hash == created.hash
    submitted = wf.advance(item_id, "submit", actor="drafter2")
    assert submitted.content_hash == sig.content_hash
    assert [s.action for s in wf.history(item_id)] == ["create", "edit", "submit"]
    assert_chain_ok(wf, submitted)


def test_edit_after_return_is_in_the_new_round(wf: Workflow) -> None:
    item_id = new_info(wf)
    walk(wf, item_id, upto("clear"))
    wf.advance(item_id, "return", actor="lead", reason="金额有误")
    sig = wf.edit_item(item_id, actor="clerk", body="更正后的正文")
    assert (sig.action, sig.round, sig.from_state) == ("edit", 2, "draft")
    assert wf.item(item_id).body == "更正后的正文"
    assert_chain_ok(wf, sig)


def test_edit_outside_draft_is_not_editable(wf: Workflow) -> None:
    item_id = new_info(wf)
    withheld = new_info(wf)
    walk(wf, withheld, [*upto("submit"), withhold_step()])
    for action, actor, kw in upto("publish"):
        wf.advance(item_id, action, actor=actor, **kw)
        message = refused(wf, NotEditable, wf.edit_item, item_id, actor="clerk", title="改")
        assert item_id in message
    refused(wf, NotEditable, wf.edit_item, withheld, actor="clerk", body="改")
    assert_chain_ok(wf)


def test_edit_refusals(wf: Workflow) -> None:
    item_id = new_info(wf)
    message = refused(wf, RoleMissing, wf.edit_item, item_id, actor="proof", title="x")  # no drafter role
    assert "proof" in message and "drafter" in message and item_id in message
    assert "bogus" in refused(wf, InvalidInput, wf.edit_item, item_id, actor="clerk", tags=["bogus"])
    refused(wf, InvalidInput, wf.edit_item, item_id, actor="clerk")  # nothing to change
    refused(wf, InvalidInput, wf.edit_item, item_id, actor="clerk", title="   ")
    assert "nobody" in refused(wf, NotFound, wf.edit_item, item_id, actor="nobody", title="x")
    assert "nope" in refused(wf, NotFound, wf.edit_item, "nope", actor="clerk", title="x")
    assert_chain_ok(wf)


# -- paper sign-offs ---------------------------------------------------------------------------------------


def test_a_clerk_records_the_heads_paper_sign_off(wf: Workflow) -> None:
    item_id = new_info(wf)
    walk(wf, item_id, upto("clear"))
    checked = wf.advance(item_id, "check", actor="lead", recorded_by="clerk")
    assert (checked.actor, checked.recorded_by, checked.paper_sha256) == ("lead", "clerk", None)
    sig = wf.advance(item_id, "approve", actor="head", recorded_by="clerk", paper_sha256=PAPER)
    assert (sig.actor, sig.role, sig.recorded_by, sig.paper_sha256) == ("head", "head", "clerk", PAPER)
    assert wf.history(item_id)[-2:] == [checked, sig]
    last = wf.advance(item_id, "publish", actor="clerk")
    assert_chain_ok(wf, last)


def test_recorded_by_the_signer_themself_is_stored_as_none(wf: Workflow) -> None:
    item_id = new_info(wf)
    walk(wf, item_id, upto("check"))
    sig = wf.advance(item_id, "approve", actor="head", recorded_by="head")
    assert sig.recorded_by is None
    assert wf.history(item_id)[-1].recorded_by is None
    assert_chain_ok(wf, sig)


# -- new_item, add_unit and add_person refusals ------------------------------------------------------------


def item_args(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"title": "标题", "unit": "gov", "category": "3.4", "timing": "periodic", "kind": "info",
                            "drafter": "clerk"}
    args.update(kw)
    return args


def test_new_item_refusals(wf: Workflow) -> None:
    existing = new_info(wf, id="dup")
    policy = new_info(wf, kind="policy", category="1.1", timing="long_term")
    interp = new_info(wf, kind="interpretation", interprets=policy)
    cases: list[tuple[type[Exception], dict[str, Any], str]] = [
        (InvalidInput, item_args(category="7"), "'7'"),
        (InvalidInput, item_args(category=""), "category"),
        (InvalidInput, item_args(timing="weekly"), "weekly"),
        (InvalidInput, item_args(kind="notice"), "notice"),
        (InvalidInput, item_args(tags=["result", "gossip"]), "gossip"),
        (InvalidInput, item_args(id="has space"), "has space"),
        (InvalidInput, item_args(id=""), "item id"),
        (InvalidInput, item_args(id="x" * 65), "item id"),
        (InvalidInput, item_args(id="-leading-dash"), "-leading-dash"),
        (InvalidInput, item_args(title="  "), "title"),
        (InvalidInput, item_args(kind="interpretation"), "interpret"),
        (InvalidInput, item_args(kind="info", interprets=policy), "interpret"),
        (InvalidInput, item_args(kind="policy", interprets=policy), "interpret"),
        (InvalidInput, item_args(kind="interpretation", interprets=existing), existing),
        (InvalidInput, item_args(kind="interpretation", interprets=interp), interp),
        (InvalidInput, item_args(kind="interpretation", interprets="ghost"), "ghost"),
        (RoleMissing, item_args(drafter="proof"), "proof"),  # holds no drafter role
        (NotFound, item_args(drafter="nobody"), "nobody"),
        (NotFound, item_args(unit="nowhere"), "nowhere"),
        (AlreadyExists, item_args(id="dup"), "dup"),
    ]
    for exc, args, needle in cases:
        message = refused(wf, exc, wf.new_item, **args)
        assert needle in message, (args, message)
    assert_chain_ok(wf)


def test_unit_and_person_refusals(wf: Workflow) -> None:
    cases: list[tuple[type[Exception], Callable[..., object], dict[str, Any], str]] = [
        (AlreadyExists, wf.add_unit, {"id": "gov", "name": "又一个"}, "gov"),
        (InvalidInput, wf.add_unit, {"id": "bad id", "name": "x"}, "bad id"),
        (InvalidInput, wf.add_unit, {"id": "ok", "name": " "}, "name"),
        (InvalidInput, wf.add_unit, {"id": "ok", "name": "x", "kind": "company"}, "company"),
        (RoleMissing, wf.add_unit, {"id": "ok", "name": "x", "by": "clerk"}, "clerk"),  # not an admin
        (SignerInactive, wf.add_unit, {"id": "ok", "name": "x", "by": "nobody"}, "nobody"),
        (AlreadyExists, wf.add_person, {"id": "clerk", "name": "又一个", "unit": "gov", "roles": ["drafter"]}, "clerk"),
        # a role no pipeline in force in the unit has: the grant is refused, and with it the whole call
        (NotAuthorised, wf.add_person, {"id": "wang", "name": "王", "unit": "gov", "roles": ["mayor"]}, "mayor"),
        (InvalidInput, wf.add_person, {"id": "wang!", "name": "王", "unit": "gov", "roles": []}, "wang!"),
        (InvalidInput, wf.add_person, {"id": "wang", "name": "", "unit": "gov", "roles": []}, "name"),
        (InvalidInput, wf.add_person, {"id": "wang", "name": "王", "roles": ["drafter"]}, "unit"),  # held where?
        (NotFound, wf.add_person, {"id": "wang", "name": "王", "unit": "nowhere", "roles": ["drafter"]}, "nowhere"),
        (RoleMissing, wf.add_person, {"id": "wang", "name": "王", "unit": "gov", "by": "head"}, "head"),
    ]
    for exc, fn, args, needle in cases:
        message = refused(wf, exc, fn, **({"by": ADMIN} | args))
        assert needle in message, (args, message)
    assert [u.id for u in wf.units()] == ["gov"]
    assert [p.id for p in wf.people()] == sorted([ADMIN, *PEOPLE])
    assert_chain_ok(wf)


def test_reading_unknown_things(wf: Workflow) -> None:
    item_id = new_info(wf)
    assert "ghost" in refused(wf, NotFound, wf.item, "ghost")
    assert "ghost" in refused(wf, NotFound, wf.history, "ghost")
    assert "ghost" in refused(wf, NotFound, wf.actions_for, "ghost", "clerk")
    assert "ghost" in refused(wf, NotFound, wf.next_steps, "ghost")
    assert "nobody" in refused(wf, NotFound, wf.actions_for, item_id, "nobody")
    assert "nobody" in refused(wf, NotFound, wf.person, "nobody")


def test_listing_items_in_an_unknown_state_is_refused(wf: Workflow) -> None:
    new_info(wf)
    assert "limbo" in refused(wf, InvalidInput, wf.items, state="limbo")


# -- interpretation links ----------------------------------------------------------------------------------


def test_a_policy_lists_its_interpretations_once_both_are_published(wf: Workflow) -> None:
    policy = new_info(wf, kind="policy", category="1.1", timing="long_term", title="平田乡村庄规划管理办法")
    first = new_info(wf, kind="interpretation", interprets=policy, title="《平田乡村庄规划管理办法》解读")
    second = new_info(wf, kind="interpretation", interprets=policy, title="图解")
    assert wf.item(first).interprets == policy
    assert wf.item(policy).interpreted_by == ()

    to_head_approval(wf, second)
    wf.advance(second, "approve", actor="head")  # ready first: it waits for its policy
    publish(wf, policy)
    assert wf.item(policy).interpreted_by == ()
    wf.advance(second, "publish", actor="clerk")
    assert wf.item(policy).interpreted_by == (second,)
    assert wf.item(first).interpreted_by == ()
    to_head_approval(wf, first)
    assert wf.item(policy).interpreted_by == (second,)
    wf.advance(first, "approve", actor="head")
    wf.advance(first, "publish", actor="clerk")
    assert wf.item(policy).interpreted_by == tuple(sorted([first, second]))
    last = wf.advance(second, "retract", actor="head", reason="已被新解读替代")
    assert wf.item(policy).interpreted_by == (first,)
    assert wf.item(second).interprets == policy
    assert_chain_ok(wf, last)


# -- who may sign what -------------------------------------------------------------------------------------


def test_actions_for_each_person_through_the_pipeline(wf: Workflow) -> None:
    item_id = new_info(wf)
    none: list[str] = []
    expected_by_state: list[tuple[Step | None, dict[str, list[str]]]] = [
        (None, {"clerk": ["submit"]}),  # the draft's drafter: other drafters may not submit it
        (("submit", "clerk", {}), {"proof": ["proofread"], "sec": ["withhold", "override", "return"],
                                   "multi": ["proofread", "withhold", "override", "return"]}),
        (("proofread", "proof", {}), {"sec": ["clear", "withhold", "override", "return"],
                                      "multi": ["clear", "withhold", "override", "return"]}),
        (("clear", "sec", {"decision": "full"}), {"lead": ["check", "return"], "multi": ["check", "return"]}),
        (("check", "lead", {}), {"head": ["approve", "return"], "multi": ["approve", "return"]}),
        (("approve", "head", {}), {"clerk": ["publish"], "head": ["return"], "multi": ["publish", "return"]}),
        (("publish", "clerk", {}), {"head": ["retract", "abolish"], "multi": ["retract", "abolish"]}),
        (retract_step(), {}),
    ]
    for step, expected in expected_by_state:
        if step is not None:
            wf.advance(item_id, step[0], actor=step[1], **step[2])
        state = wf.item(item_id).state
        for person in PEOPLE:
            actions = wf.actions_for(item_id, person)
            assert [a.id for a in actions] == expected.get(person, none), (state, person)
            assert all(a.source == state for a in actions)


def test_actions_for_reflects_separation(wf: Workflow) -> None:
    item_id = new_info(wf, drafter="multi")
    wf.advance(item_id, "submit", actor="multi")
    assert [a.id for a in wf.actions_for(item_id, "multi")] == ["withhold", "override", "return"]
    wf.advance(item_id, "proofread", actor="proof")
    assert [a.id for a in wf.actions_for(item_id, "multi")] == ["withhold", "override", "return"]
    wf.advance(item_id, "clear", actor="sec", decision="full")
    assert [a.id for a in wf.actions_for(item_id, "multi")] == ["return"]


def steps_of(wf: Workflow, item_id: str) -> list[tuple[str, list[str]]]:
    return [(a.id, people) for a, people in wf.next_steps(item_id)]


def test_next_steps_through_the_pipeline(wf: Workflow) -> None:
    item_id = new_info(wf)
    assert steps_of(wf, item_id) == [("submit", ["clerk"])]
    wf.advance(item_id, "submit", actor="clerk")
    assert steps_of(wf, item_id) == [("proofread", ["multi", "proof"]), ("clear", []),
                                     ("withhold", ["multi", "sec"]), ("override", ["multi", "sec"]),
                                     ("return", ["multi", "sec"])]
    wf.advance(item_id, "proofread", actor="multi")
    assert steps_of(wf, item_id) == [("proofread", []), ("clear", ["sec"]),
                                     ("withhold", ["multi", "sec"]), ("override", ["multi", "sec"]),
                                     ("return", ["multi", "sec"])]
    wf.advance(item_id, "clear", actor="sec", decision="partial", reason="隐去身份证号")
    assert steps_of(wf, item_id) == [("check", ["lead"]), ("return", ["lead", "multi"])]
    wf.advance(item_id, "check", actor="lead")
    assert steps_of(wf, item_id) == [("approve", ["head"]), ("publish", []), ("return", ["head", "multi"])]
    wf.advance(item_id, "approve", actor="head")
    assert steps_of(wf, item_id) == [("approve", []), ("publish", ["clerk", "multi"]), ("return", ["head", "multi"])]
    wf.advance(item_id, "publish", actor="clerk")
    assert steps_of(wf, item_id) == [("retract", ["head", "multi"]), ("abolish", ["head", "multi"])]
    for action, _ in wf.next_steps(item_id):
        assert action.source == "published" and action.to in ("retracted", "abolished") and action.role == "head"
    wf.advance(item_id, "retract", actor="head", reason="撤回")
    assert steps_of(wf, item_id) == []


def test_next_steps_in_a_new_round(wf: Workflow) -> None:
    item_id = new_info(wf)
    walk(wf, item_id, upto("check", proofread="multi"))
    wf.advance(item_id, "return", actor="head", reason="重写")
    assert steps_of(wf, item_id) == [("submit", ["clerk"])]
    wf.reassign(item_id, to="drafter2", actor="clerk")
    assert steps_of(wf, item_id) == [("submit", ["drafter2"])]
    wf.advance(item_id, "submit", actor="drafter2")
    assert steps_of(wf, item_id)[0] == ("proofread", ["multi", "proof"])


# -- embedding in a host's transaction ---------------------------------------------------------------------


def event_count(conn: Any) -> int:
    return int(conn.execute(text("SELECT count(*) FROM zwgk_event")).scalar_one())


def test_our_tables_are_prefixed_and_init_is_idempotent(host: Host) -> None:
    wf = host.wf
    tables = set(inspect(host.engine).get_table_names())
    assert tables - {"host_note"} == ZWGK_TABLES
    assert "alembic_version" not in tables
    with host.engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM zwgk_alembic_version")).scalars().all() == [SCHEMA_REVISION]
    item_id = new_info(wf)
    sig = wf.advance(item_id, "submit", actor="clerk")
    before = world(wf)
    wf.init()
    wf.init()
    wf.check_schema()
    assert set(inspect(host.engine).get_table_names()) == tables
    assert world(wf) == before
    with host.engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM zwgk_alembic_version")).scalars().all() == [SCHEMA_REVISION]
    assert_chain_ok(wf, sig)


def test_host_connection_rollback_leaves_neither_row(host: Host) -> None:
    wf = host.wf
    item_id = new_info(wf)
    submitted = wf.advance(item_id, "submit", actor="clerk")
    before = world(wf)
    with host.engine.connect() as c:
        events = event_count(c)
    with pytest.raises(Boom), host.engine.begin() as conn:
        conn.execute(insert(Note), {"text": "host row"})
        sig = wf.advance(item_id, "proofread", actor="proof", conn=conn)
        assert (sig.chain, sig.seq) == ("gov", submitted.seq + 1)
        assert event_count(conn) == events + 1  # visible inside the host's transaction
        raise Boom
    assert host.notes() == []
    assert world(wf) == before
    assert_chain_ok(wf)
    again = wf.advance(item_id, "proofread", actor="proof")  # the chain goes on where it was
    assert again.seq == submitted.seq + 1
    assert_chain_ok(wf, again)


def test_host_connection_commit_keeps_both(host: Host) -> None:
    wf = host.wf
    item_id = new_info(wf)
    with host.engine.begin() as conn:
        conn.execute(insert(Note), {"text": "host row"})
        submitted = wf.advance(item_id, "submit", actor="clerk", conn=conn)
        proofread = wf.advance(item_id, "proofread", actor="proof", conn=conn)
    assert host.notes() == ["host row"]
    assert wf.history(item_id)[-2:] == [submitted, proofread]
    item = wf.item(item_id)
    assert (item.state, item.version) == ("confidentiality_review", 3)
    assert_chain_ok(wf, proofread)


def test_host_connection_survives_a_refusal(host: Host) -> None:
    wf = host.wf
    item_id = new_info(wf)
    with host.engine.begin() as conn:
        conn.execute(insert(Note), {"text": "before"})
        with pytest.raises(RoleMissing):
            wf.advance(item_id, "submit", actor="proof", conn=conn)
        sig = wf.advance(item_id, "submit", actor="clerk", conn=conn)
        conn.execute(insert(Note), {"text": "after"})
    assert host.notes() == ["before", "after"]
    assert_chain_ok(wf, sig)


def test_new_item_in_a_host_transaction_rolls_back_with_it(host: Host) -> None:
    wf = host.wf
    before = world(wf)
    with pytest.raises(Boom), host.engine.begin() as conn:
        wf.new_item(**item_args(id="tmp"), conn=conn)
        conn.execute(insert(Note), {"text": "host row"})
        raise Boom
    assert host.notes() == []
    assert world(wf) == before
    report = wf.verify()
    assert report.ok, report.problems
    with host.engine.begin() as conn:
        item = wf.new_item(**item_args(id="kept"), conn=conn)
        conn.execute(insert(Note), {"text": "host row"})
    assert host.notes() == ["host row"]
    assert wf.item("kept") == item
    assert_chain_ok(wf)


def test_host_orm_session_rollback_and_commit(host: Host) -> None:
    wf = host.wf
    item_id = new_info(wf)
    before = world(wf)
    with Session(host.engine) as session:
        session.begin()
        session.add(Note(text="host row"))
        sig = wf.advance(item_id, "submit", actor="clerk", conn=session)
        assert sig.seq == wf.history(item_id)[0].seq + 1
        session.flush()
        assert session.scalar(select(func.count()).select_from(Note)) == 1
        session.rollback()
    assert host.notes() == []
    assert world(wf) == before

    with Session(host.engine) as session, session.begin():
        session.add(Note(text="kept row"))
        submitted = wf.advance(item_id, "submit", actor="clerk", conn=session)
        proofread = wf.advance(item_id, "proofread", actor="proof", conn=session)
    assert host.notes() == ["kept row"]
    assert wf.history(item_id)[-2:] == [submitted, proofread]
    assert wf.item(item_id).state == "confidentiality_review"
    assert_chain_ok(wf, proofread)


# -- subscribers -------------------------------------------------------------------------------------------


def test_subscribers_get_each_committed_signature_until_unsubscribed(wf: Workflow) -> None:
    got: list[Signature] = []
    also: list[Signature] = []
    unsubscribe = wf.subscribe(got.append)
    wf.subscribe(also.append)
    item = wf.new_item(**item_args())
    created = wf.history(item.id)[0]
    submitted = wf.advance(item.id, "submit", actor="clerk")
    assert got == [created, submitted]
    assert also == got
    unsubscribe()
    proofread = wf.advance(item.id, "proofread", actor="proof")
    assert got == [created, submitted]
    assert also == [created, submitted, proofread]
    refused(wf, RoleMissing, wf.advance, item.id, "clear", actor="proof", decision="full")
    assert len(also) == 3  # a refusal announces nothing


def test_a_failing_subscriber_does_not_undo_the_signature(wf: Workflow) -> None:
    got: list[Signature] = []

    def broken(sig: Signature) -> None:
        raise RuntimeError("webhook down")

    wf.subscribe(broken)
    wf.subscribe(got.append)
    item_id = new_info(wf)
    sig = wf.advance(item_id, "submit", actor="clerk")
    assert [s.action for s in got] == ["create", "submit"]
    assert wf.history(item_id)[-1] == sig
    assert wf.item(item_id).state == "confidentiality_review"
    assert_chain_ok(wf, sig)


def test_subscribers_wait_for_the_host_connection_and_skip_its_rollback(host: Host) -> None:
    wf = host.wf
    item_id = new_info(wf)
    got: list[Signature] = []
    wf.subscribe(got.append)
    with pytest.raises(Boom), host.engine.begin() as conn:
        wf.advance(item_id, "submit", actor="clerk", conn=conn)
        assert got == []
        raise Boom
    assert got == []
    with host.engine.begin() as conn:
        sig = wf.advance(item_id, "submit", actor="clerk", conn=conn)
        assert got == []  # not before the host commits
    assert got == [sig]


def test_subscribers_run_after_the_host_connection_has_committed(host: Host) -> None:
    wf = host.wf
    item_id = new_info(wf)
    seen: list[tuple[int, list[int]]] = []
    wf.subscribe(lambda sig: seen.append((sig.seq, [s.seq for s in wf.history(sig.item_id)])))
    with host.engine.begin() as conn:
        sig = wf.advance(item_id, "submit", actor="clerk", conn=conn)
    assert [s for s, _ in seen] == [sig.seq]
    # A subscriber (a webhook, a mailer) that looks the signature up must find it.
    created = sig.seq - 1
    assert seen == [(created + 1, [created, created + 1])], "subscriber ran before the host's commit had happened"


def test_subscribers_skip_a_rolled_back_savepoint_of_the_host_connection(host: Host) -> None:
    wf = host.wf
    item_id = new_info(wf)
    got: list[Signature] = []
    wf.subscribe(got.append)
    with host.engine.begin() as conn:
        conn.execute(insert(Note), {"text": "host row"})
        submitted = wf.advance(item_id, "submit", actor="clerk", conn=conn)
        with pytest.raises(Boom), conn.begin_nested():
            wf.advance(item_id, "proofread", actor="proof", conn=conn)
            raise Boom
    assert host.notes() == ["host row"]
    assert wf.history(item_id)[-1] == submitted
    assert [s.action for s in got] == ["submit"], "a subscriber was told of a signature that was rolled back"
    assert got == [submitted]


def test_subscribers_with_a_host_session(host: Host) -> None:
    wf = host.wf
    item_id = new_info(wf)
    got: list[Signature] = []
    seen: list[list[int]] = []
    wf.subscribe(got.append)
    wf.subscribe(lambda sig: seen.append([s.seq for s in wf.history(sig.item_id)]))
    with Session(host.engine) as session:
        session.begin()
        session.add(Note(text="dropped"))
        wf.advance(item_id, "submit", actor="clerk", conn=session)
        session.rollback()
    assert got == []
    with Session(host.engine) as session, session.begin():
        session.add(Note(text="kept"))
        submitted = wf.advance(item_id, "submit", actor="clerk", conn=session)
        proofread = wf.advance(item_id, "proofread", actor="proof", conn=session)
        assert got == []
    assert got == [submitted, proofread]
    created = submitted.seq - 1
    assert seen == [[created, created + 1, created + 2]] * 2
    assert host.notes() == ["kept"]


def test_subscribers_skip_a_rolled_back_savepoint_of_the_host_session(host: Host) -> None:
    wf = host.wf
    item_id = new_info(wf)
    got: list[Signature] = []
    wf.subscribe(got.append)
    with Session(host.engine) as session, session.begin():
        session.add(Note(text="kept"))
        submitted = wf.advance(item_id, "submit", actor="clerk", conn=session)
        with pytest.raises(Boom), session.begin_nested():
            wf.advance(item_id, "proofread", actor="proof", conn=session)
            raise Boom
    assert host.notes() == ["kept"]
    assert wf.history(item_id)[-1] == submitted
    assert [s.action for s in got] == ["submit"], "subscribers must hear of exactly the committed signatures"
    assert got == [submitted]


def test_a_failing_subscriber_does_not_undo_a_host_commit(host: Host) -> None:
    wf = host.wf
    item_id = new_info(wf)

    def broken(sig: Signature) -> None:
        raise RuntimeError("mail server down")

    wf.subscribe(broken)
    with host.engine.begin() as conn:
        conn.execute(insert(Note), {"text": "host row"})
        sig = wf.advance(item_id, "submit", actor="clerk", conn=conn)
    assert host.notes() == ["host row"]
    assert wf.history(item_id)[-1] == sig
    assert_chain_ok(wf, sig)


# -- the whole tour ----------------------------------------------------------------------------------------


def test_verify_and_digest_after_everything(wf: Workflow) -> None:
    items: dict[str, Item] = {}
    published = new_info(wf)
    publish(wf, published)
    withheld = new_info(wf, drafter="drafter2", category="2.4", timing="immediate")
    walk(wf, withheld, [("submit", "drafter2", {}), withhold_step()])
    returned = new_info(wf)
    for reached, returner in [("proofread", "sec"), ("clear", "lead"), ("approve", "head")]:
        walk(wf, returned, upto(reached))
        wf.advance(returned, "return", actor=returner, reason="退回")
        wf.edit_item(returned, actor="clerk", body=f"第{wf.item(returned).round}稿")
    walk(wf, returned, upto("check"))
    wf.advance(returned, "approve", actor="head", recorded_by="clerk", paper_sha256=PAPER)
    wf.advance(returned, "publish", actor="clerk")
    wf.advance(published, "retract", actor="head", reason="撤回")
    policy = new_info(wf, kind="policy", category="1.1", timing="long_term")
    interp = new_info(wf, kind="interpretation", interprets=policy, drafter="drafter2")
    publish(wf, policy)
    wf.reassign(interp, to="clerk", actor="lead", reason="调岗")
    to_head_approval(wf, interp)
    wf.advance(interp, "approve", actor="multi")
    last = wf.advance(interp, "publish", actor="multi")
    for item_id in (published, withheld, returned, policy, interp):
        items[item_id] = wf.item(item_id)
    assert {i: (it.state, it.round) for i, it in items.items()} == {
        published: ("retracted", 1), withheld: ("withheld", 1), returned: ("published", 4),
        policy: ("published", 1), interp: ("published", 1)}
    assert items[policy].interpreted_by == (interp,)
    assert wf.item(returned).body == "第4稿"
    report = wf.verify()
    assert report.ok, report.problems
    assert (report.cases, report.chains) == (5, 2)
    register, gov = chain_events(wf, REGISTER), chain_events(wf, "gov")
    assert report.events == len(register) + len(gov)
    assert last == gov[-1]
    assert all_signatures(wf) == [e for e in gov if e.case_kind == "item"]
    assert [e.case_kind for e in gov[:len(gov) - len(all_signatures(wf))]] == ["unit", "pipeline", "pipeline"] + [
        "person"] * (len(gov) - len(all_signatures(wf)) - 3)  # the unit's own acts first (opened, the item and
    # request pipelines adopted, roles)
    assert report.digest == Digest(register[-1].seq, register[-1].hash)
    assert_chain_ok(wf, last)
    root = wf.digest()
    assert wf.verify(against=root).ok
    assert wf.verify(since=root).ok


def test_an_interpretation_goes_public_with_or_after_its_policy_never_before(wf: Workflow) -> None:
    """同步起草、同步审签: red team, issue 11. Drafted together, the interpretation waits at the head's approval
    until the policy is out; a policy withheld or retracted takes no interpretation."""
    policy = new_info(wf, kind="policy", title="关于调整低保标准的通知", category="2.2")
    reading = new_info(wf, kind="interpretation", interprets=policy, title="解读", category="2.2")
    to_head_approval(wf, reading)
    wf.advance(reading, "approve", actor="head")
    with pytest.raises(NotPublic, match=f"item {reading} interprets policy {policy}, which is draft, not published"):
        wf.advance(reading, "publish", actor="clerk")
    assert wf.item(reading).state == "head_approval"
    publish(wf, policy)
    assert wf.advance(reading, "publish", actor="clerk").to_state == "published"
    wf.advance(policy, "retract", actor="head", reason="标准再次调整")
    with pytest.raises(NotPublic, match=f"policy {policy} is retracted: it will not be published"):
        new_info(wf, kind="interpretation", interprets=policy, title="再解读", category="2.2")
    withheld = new_info(wf, kind="policy", title="内部通知", category="2.2")
    wf.advance(withheld, "submit", actor="clerk")
    wf.advance(withheld, "proofread", actor="proof")
    wf.advance(withheld, "withhold", actor="sec", ground="art15", reason="涉密")
    with pytest.raises(NotPublic, match=f"policy {withheld} is withheld"):
        new_info(wf, kind="interpretation", interprets=withheld, title="解读", category="2.2")
    assert wf.verify().ok
