"""Requests for government information (依申请公开), the second kind of case: intake, the reply drafted and reviewed,
and the steps of the legal clock (states/requests.py), each a signature of the unit's chain.

The applicant's identity is kept in `zwgk_applicant`, off the chain: the request signs a salted commitment to it,
so that it can be erased when its retention ends and every signature still verifies.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from states.authority import REGISTER, check_open
from states.errors import Phrase
from states.kinds import REQUEST
from states.numbers import chosen_id, numbered_id
from states.replies import REPLIES
from states.requests import REPLY, Clock, judge, received
from states.rules import CREATE, EDIT, Case, Command, Step, apply, decide
from workflow import fees, notices
from workflow.config import Config, Office
from workflow.deadlines import Close, Op, Open
from workflow.errors import AlreadyExists, InvalidInput, NotFound
from workflow.ledger.events import canonical, content_hash
from workflow.notices import Bound
from workflow.pipelines import InForce
from workflow.signing import Signed, Signing, Statement, case_row, signer, step_fields
from workflow.uow import Row, Work
from workflow.workdays import WorkCalendar

KIND = REQUEST.name
VIA = {"in_person": "当面提交", "registered_post": "挂号信件", "post": "平常信件", "online": "网络申请", "fax": "传真"}
APPLICANT_TYPES = {"natural": "自然人", "business": "商业企业", "research": "科研机构",
                   "public_interest": "社会公益组织", "legal_service": "法律服务机构", "other": "其他"}
FORMS = {"paper": "纸质", "email": "电子邮件", "disc": "光盘", "inspect": "当面查阅"}
MARK = "R"  # in a request's number: gov-R2026-000001


@dataclass(frozen=True)
class Applicant:
    """Who asks (never logged, never in a message or a listing): a natural person or an organisation."""

    name: str
    type: str  # one of APPLICANT_TYPES
    id_document: str | None = None  # 身份证件号码 / 统一社会信用代码
    phone: str | None = None
    email: str | None = None
    address: str | None = None

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "id_document": self.id_document, "phone": self.phone,
                "email": self.email, "address": self.address}

    def key(self) -> str:
        """Groups one applicant's requests (the fee by count) without naming them: their type, name and
        document, normalised."""
        norm = "|".join(unicodedata.normalize("NFKC", v or "").strip().lower()
                        for v in (self.type, self.name, self.id_document))
        return hashlib.sha256(f"zwgk-applicant|{norm}".encode()).hexdigest()


def commitment(salt: str, identity: dict[str, Any]) -> str:
    return hashlib.sha256(f"{salt}|{canonical(identity)}".encode()).hexdigest()


def signed_content(r: Row, unit: str) -> dict[str, Any]:
    """A request's signed fields: what it asks, how and when it came, the commitment to who asked, the reply."""
    return {"unit": unit, "received_via": r["received_via"], "received_on": r["received_on"],
            "applicant_type": r["applicant_type"], "applicant": r["applicant"], "description": r["description"],
            "form": r["form"], "oral": bool(r["oral"]), "reply": json.loads(r["reply"]) if r["reply"] else None}


def clock_of(work: Work, request_id: str, office: Office) -> Clock:
    """The request's clock, folded from its signed steps (the limits they recorded, as `verify` folds them)."""
    clock: Clock | None = None
    with work.events("case_events", {"kind": KIND, "id": request_id}) as events:
        for e in events:
            clock = fold(clock, e.action, e.payload() if e.data else {}, e.reason, e.case_id,
                         office.date_of(datetime.fromisoformat(e.at)))
    if clock is None:
        raise NotFound("no request '{request}'", request=request_id)
    return clock


def fold(clock: Clock | None, action: str, data: dict[str, Any], reason: str | None, case_id: str, at: date,
         calendar: WorkCalendar | None = None) -> Clock | None:
    """One signed step of a request on its clock. Without the calendar (reading) the limits are those recorded;
    with it (verify), every rule is held where the calendar's answer is not provisional."""
    if action == CREATE:
        return received(date.fromisoformat(data["received_on"]))
    if clock is None or not (action == REPLY or "on" in data):
        return clock
    return judge(clock, action, data, at, calendar, label=Phrase("request {request}", request=case_id),
                 reason=reason, settled_only=True)


class RequestKind:
    """What requests add to the rules when a step of their pipeline is signed (`workflow.signing.CaseKind`)."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def facts(self, case_id: str) -> Statement:
        return "request_facts", {"id": case_id}

    def check(self, work: Work, in_force: InForce, case: Case, facts: Row, step: Step,
              at: str) -> dict[str, Any] | None:
        """A reply is submitted and sent only as drafted, of a type the clock allows; the sent reply's type and its
        letter are in its event, for the annual report to count and `verify` to check."""
        if step.action not in ("submit", REPLY) or step.from_state in REQUEST.final:
            return None
        reply = json.loads(facts["reply"]) if facts.get("reply") else None
        if reply is None:
            raise InvalidInput("request {request}: draft its reply first (request reply)", request=case.id)
        data: dict[str, Any] = {"reply": reply["type"]}
        before = clock_of(work, case.id, self.config.office)
        after = judge(before, REPLY, data, self.config.office.date_of(datetime.fromisoformat(at)),
                      self.config.calendar, label=Phrase("request {request}", request=case.id))
        if step.action != REPLY:
            return None
        store = notices.bind(notices.reply_letter(reply), self.config, case.id, REPLY, {})
        return data | {"letters": store(work, before, after, at)}

    def on_step(self, in_force: InForce, case: Case, unit: str, facts: Row, step: Step, today: date,
                actor: str) -> list[Op]:
        return [Close("met", request_id=case.id)] if step.to_state in REQUEST.final else []


def deadlines(request_id: str, unit: str, handler: str, clock: Clock, calendar: WorkCalendar) -> list[Op]:
    """The request's live deadlines as its clock now stands: the reply's (moved by every stop and extension; a new
    one after each wait on the applicant), and each stop's limit."""
    title = f"依申请公开 {request_id}"
    waits = sum(1 for s in clock.stops if s.kind in ("correction", "fee") and s.until is not None)
    reply_key = f"request:{request_id}:reply:{waits}"
    ops: list[Op] = []
    if clock.replied_on is not None:
        return [Close("met", request_id=request_id)]
    if clock.waiting is not None:
        ops.append(Close("cancelled", key=reply_key))
    elif clock.fixed_due is not None:
        ops.append(Open(reply_key, "request", title, clock.fixed_due, None, request_id=request_id,
                        responsible=handler, unit=unit))
    else:
        ops.append(Open(reply_key, "request", title, clock.start, clock.allowance + clock.paused(calendar),
                        request_id=request_id, responsible=handler, unit=unit))
    for s in clock.stops:
        key = f"request:{request_id}:{s.kind}:{s.party or ''}:{s.since.isoformat()}"
        ops.append(Open(key, s.kind, title, s.limit, None, request_id=request_id, responsible=handler, unit=unit)
                   if s.until is None else Close("met", key=key))
    return ops


def create(sign: Signing, *, unit: str, handler: str, request_id: str | None, via: str, received_on: date,
           applicant: Applicant, description: str, form: str, oral: bool, comment: str | None) -> Signed:
    """A request registered (登记), signed by the handler who took it in: the first event of its case."""
    work = sign.work
    heads = sign.append.lock(unit)
    units = {r["id"]: r for r in work.rows("units")}
    if unit not in units:
        raise NotFound("no unit '{unit}'", unit=unit)
    check_open(unit, bool(units[unit]["open"]), CREATE)
    if REQUEST.units is not None and units[unit]["kind"] not in REQUEST.units:
        raise InvalidInput("unit {unit} is no administrative organ (行政机关), so it does not receive requests for "
                           "government information; register it with the township government", unit=unit)
    adopted = {r["kind"]: r for r in work.rows("unit_adoptions", {"unit": unit})}.get(KIND)
    if adopted is None:
        raise NotFound("unit {unit} has no request pipeline (it was added before requests existed): adopt the "
                       "built-in one with `zwgk pipeline adopt --builtin request --unit {unit} --as ADMIN`", unit=unit)
    in_force = sign.pipelines.in_force(work, unit, adopted["pipeline"], adopted["seq"])
    who, register = signer(work.rows("signer", {"register": REGISTER, "chain": unit, "person": handler}), handler)
    head = heads[unit]
    at = sign.append.time(head, register)
    today = sign.today(at)
    if received_on > today:
        raise InvalidInput("a request's receipt date cannot be in the future ({day})", day=received_on.isoformat())
    number = None
    if request_id is None:
        # numbered in the year it is registered (as items are), which is the receipt's but for one that came by
        # post over the New Year
        last = work.one("request_number", {"unit": unit, "year": today.year})
        number = (today.year, int(last["last"]) + 1 if last else 1)
        request_id = numbered_id(unit, *number, mark=MARK)
    else:
        chosen_id(unit, request_id)
    if work.one("case_exists", {"kind": KIND, "id": request_id}) is not None:
        raise AlreadyExists("request {request} already exists", request=request_id)
    salt = secrets.token_hex(16)
    row = {"id": request_id, "received_via": via, "received_on": received_on.isoformat(),
           "applicant_type": applicant.type, "applicant": commitment(salt, applicant.identity()),
           "description": description, "form": form, "oral": oral, "reply": None}
    step = decide(in_force.machine, None, Command(KIND, request_id, CREATE, who,
                                                  content_hash=content_hash(signed_content(row, unit))))
    data = {"received_on": row["received_on"]} | ({"year": number[0], "number": number[1]} if number else {})
    event = sign.append.event(head, at, register_seq=register.seq, pipeline=in_force.pipeline.fingerprint,
                              comment=comment, data=canonical(data), **step_fields(KIND, request_id, step, handler))
    case = apply(None, KIND, request_id, step, handler)
    numbering = [("set_request_number", {"unit": unit, "year": number[0], "last": number[1]})] if number else []
    identity = {"id": request_id, "salt": salt, "identity": canonical(applicant.identity()), "key": applicant.key()}
    ops = deadlines(request_id, unit, handler, received(received_on), sign.config.calendar)
    batch = sign.commit(event, [("insert_case", case_row(case, unit, at)), ("insert_request", row),
                                ("insert_applicant", identity), *numbering], ops, handler)
    if number:
        work.moved(batch[5], Phrase("the request numbers of unit {unit}", unit=unit))
    return Signed(sign.signed(event), case, unit)


def edit(sign: Signing, request_id: str, actor: str, changes: dict[str, Any], *, comment: str | None,
         expected_version: int | None) -> Signed:
    """The handler drafts the reply, or enters the corrected request: only while it is being handled."""
    got = sign.load(KIND, request_id, EDIT, actor, expected_version=expected_version)
    row = dict(got.facts)
    row.update(changes)
    step = decide(got.in_force.machine, got.case, Command(
        KIND, request_id, EDIT, got.signer, content_hash=content_hash(signed_content(row, got.unit))))
    at = sign.append.time(got.head, got.register)
    event = sign.append.event(got.head, at, register_seq=got.register.seq,
                              pipeline=got.in_force.pipeline.fingerprint, comment=comment,
                              **step_fields(KIND, request_id, step, actor))
    after = apply(got.case, KIND, request_id, step, actor)
    sign.commit(event, [("update_case", case_row(after, got.unit, at)),
                        ("update_request", {"id": request_id, "description": row["description"], "form": row["form"],
                                            "reply": row["reply"]})], [], actor)
    return Signed(sign.signed(event), after, got.unit)


def law_step(sign: Signing, request_id: str, action: str, actor: str, data: dict[str, Any], *, reason: str | None,
             comment: str | None, expected_version: int | None,
             letter: Bound | None = None) -> tuple[Signed, Clock]:
    """A step of the clock (a notice, a stop, an extension, a review of the reply): decided by the rules, judged on
    the clock with the calendar, with its letter stored beside it and named in it."""
    work = sign.work
    got = sign.load(KIND, request_id, action, actor, expected_version=expected_version)
    step = decide(got.in_force.machine, got.case, Command(KIND, request_id, action, got.signer, reason=reason))
    at = sign.append.time(got.head, got.register)
    before = clock_of(work, request_id, sign.config.office)
    if _provisional(before, data, sign.config.calendar):
        data = data | {"provisional": True}  # verify holds it to a calendar it may not have had (states/requests)
    clock = judge(before, action, data, sign.today(at), sign.config.calendar,
                  label=Phrase("request {request}", request=request_id), reason=reason)
    if letter is not None:
        data = data | {"letters": letter(work, before, clock, at)}
    event = sign.append.event(got.head, at, register_seq=got.register.seq,
                              pipeline=got.in_force.pipeline.fingerprint, comment=comment, reason=reason,
                              data=canonical(data), **step_fields(KIND, request_id, step, actor))
    after = apply(got.case, KIND, request_id, step, actor)
    writes: list[Statement] = [("update_case", case_row(after, got.unit, at))]
    if action == "erase":
        writes.append(("erase_applicant", {"id": request_id, "at": at}))
    sign.commit(event, writes, deadlines(request_id, got.unit, got.case.drafter, clock, sign.config.calendar),
                actor)
    return Signed(sign.signed(event), after, got.unit), clock


def fee_of(data: dict[str, Any]) -> int | None:
    """The fee a fee notice's data gives: by its basis, at the rates it recorded (None: data no notice writes)."""
    try:
        rates = fees.FeeRates(**(data["rates"] | {"page_bands": tuple(map(tuple, data["rates"]["page_bands"]))}))
        if data["basis"] == "by_count" and "pages" not in data:
            return fees.by_count(rates, data["count"])
        if data["basis"] == "by_quantity" and "count" not in data:
            return fees.by_quantity(rates, data["pages"])
    except (KeyError, TypeError, ValueError, InvalidInput):
        return None
    return None


def _provisional(clock: Clock, data: dict[str, Any], calendar: WorkCalendar) -> bool:
    """Whether the calendar a step is judged by guesses: at its due day, its own day or the limit it records."""
    due = clock.due(calendar)
    days = [date.fromisoformat(data[key]) for key in ("on", "limit") if key in data]
    return bool(due is not None and due.provisional) or not all(calendar.knows(d.year) for d in days)


def check_reply(reply: dict[str, Any]) -> dict[str, Any]:
    """A reply as drafted: its type from the 2021 catalogue, with the facts that type must give and no others (the
    day of the notice a lapsed request did not answer is the clock's, filled in when it is sent)."""
    kind = REPLIES.get(reply.get("type") or "")
    if kind is None:
        raise InvalidInput("unknown reply type '{type}' (one of: {known})", type=reply.get("type"),
                           known=", ".join(REPLIES))
    given = {k for k, v in reply.items() if k != "type" and v is not None and str(v).strip()}
    for fact in sorted(kind.needs - {"notice_on"} - given):
        raise InvalidInput("a reply of type {type} states its {fact}", type=kind.code, fact=fact)
    for fact in sorted(given - kind.needs - kind.optional):
        raise InvalidInput("a reply of type {type} takes no {fact}", type=kind.code, fact=fact)
    ground = reply.get("ground")
    if ground is not None and not (ground in REPLIES and ground.startswith("withheld.")):
        raise InvalidInput("the ground of what is withheld is a withheld.* reply type, not '{ground}'", ground=ground)
    return {k: reply[k] for k in ("type", *sorted(given))}
