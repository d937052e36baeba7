"""The requests desk: the public API for requests for government information (`Workflow.requests`).

Each method opens the workflow's unit of work (or joins the host's, `conn=`) and calls a handler of
`workflow.requests`; as for items, a signature is the only way a request changes. What is returned names the
applicant only in `request(id, applicant=True)`, the request's own `show`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from states.requests import CONSULT_DAYS, PARTIES, PAY_DAYS, REVIEWS, STEPS, Clock
from workflow import catalog, documents, items, notices, requests, text
from workflow.errors import InvalidInput, NotFound
from workflow.model import Item, Signature
from workflow.requests import APPLICANT_TYPES, FORMS, VIA, Applicant
from workflow.uow import HostConnection, Row, Work

if TYPE_CHECKING:
    from workflow.api import Workflow

# The subcommand of `zwgk request` that signs each step of the clock.
_COMMANDS = {"correct_notice": "correction", "corrected": "corrected", "extend": "extend", "consult": "consult",
             "consulted": "consulted", "fee_notice": "fee", "fee_paid": "paid", "art35": "period", "review": "review",
             "review_outcome": "outcome", "erase": "erase", "propose": "propose"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


@dataclass(frozen=True)
class Request:
    """A request as the office sees it: what was asked, where it stands, and its clock."""

    id: str
    unit: str
    handler: str  # who handles it (its drafter)
    state: str
    round: int
    version: int
    received_via: str
    received_on: date
    applicant_type: str
    description: str
    form: str
    oral: bool
    reply: dict[str, Any] | None
    status: str  # running, consulting, awaiting_correction, awaiting_fee, replied
    due_on: date | None  # None while the applicant is waited on, or once replied
    provisional: bool  # the due day touched a year whose holidays are not published yet
    extended: int  # working days
    reviews: tuple[dict[str, Any], ...]
    erased: bool
    replied_on: date | None
    late: bool  # replied after its due day, or its due day passed without a reply
    proposed: tuple[str, ...]  # items of proactive disclosure proposed from it (Art. 44)
    created_at: datetime
    updated_at: datetime
    applicant: Applicant | None = None  # only when asked for, and until it is erased


class Requests:
    def __init__(self, wf: Workflow) -> None:
        self.wf = wf

    # -- intake and the reply ---------------------------------------------------------------------------------

    def new(self, *, unit: str, handler: str, via: str, applicant: Applicant, description: str, form: str = "paper",
            received_on: date | None = None, oral: bool = False, id: str | None = None, comment: str | None = None,
            conn: HostConnection | None = None) -> Request:
        """Register a request (登记), signed by the handler who takes it in. `received_on` is its receipt date as
        Art. 31 sets it: handed in, the day itself (today by default); by registered post, the day signed for; by
        ordinary post, online or by fax, the day the office confirms it. `oral`: the handler wrote down what the
        applicant said (代为填写, Art. 29)."""
        free = self.wf._texts(unit=unit, handler=handler, description=description, comment=comment)
        catalog.choice("way of receipt", via, VIA)
        catalog.choice("form", form, FORMS)
        if not isinstance(oral, bool):
            raise InvalidInput("oral is true or false")
        applicant = _checked_applicant(self.wf, applicant)
        text.printable(description=description)
        if not description.strip():
            raise InvalidInput("a request describes the information it asks for")
        if id is not None:
            text.identifier("request", id)
        day = received_on or self.wf.today()
        if not isinstance(day, date) or day.year < 1900:
            raise InvalidInput("received_on must be a day")
        self.wf._typed_by(handler)
        with self.wf._write(conn) as work:
            done = requests.create(self.wf._signing(work), unit=unit, handler=handler, request_id=id, via=via,
                                   received_on=day, applicant=applicant, description=free["description"],
                                   form=form, oral=oral, comment=free["comment"])
            return self._load(work, done.case.id)

    def reply(self, request_id: str, *, actor: str, type: str, how: str | None = None, reason: str | None = None,
              ground: str | None = None, other_office: str | None = None, law: str | None = None,
              comment: str | None = None, expected_version: int | None = None,
              conn: HostConnection | None = None) -> Signature:
        """Draft (or redraft) the reply: its type from the 2021 catalogue (`states.replies.REPLIES`) and the facts
        that type must give: `how` the information is provided, the `reason`, the `ground` (a `withheld.*` type) of
        what a partial disclosure withholds, the `other_office` that holds it, the `law` an "other" reply rests on."""
        free = self.wf._texts(request=request_id, actor=actor, type=type, how=how, reason=reason, ground=ground,
                              other_office=other_office, law=law, comment=comment)
        text.printable(how=how, reason=reason, other_office=other_office, law=law)
        reply = requests.check_reply({k: free[k] for k in ("type", "how", "reason", "ground", "other_office", "law")})
        return self._edit(request_id, actor, {"reply": json.dumps(reply, ensure_ascii=False, sort_keys=True)},
                          free["comment"], expected_version, conn)

    def revise(self, request_id: str, *, actor: str, description: str | None = None, form: str | None = None,
               comment: str | None = None, expected_version: int | None = None,
               conn: HostConnection | None = None) -> Signature:
        """Enter what the applicant corrected (补正), or the form they now want."""
        free = self.wf._texts(request=request_id, actor=actor, description=description, comment=comment)
        changes: dict[str, Any] = {}
        text.printable(description=description)
        if description is not None:
            if not description.strip():
                raise InvalidInput("a request describes the information it asks for")
            changes["description"] = free["description"]
        if form is not None:
            changes["form"] = catalog.choice("form", form, FORMS)
        if not changes:
            raise InvalidInput("nothing to change")
        return self._edit(request_id, actor, changes, free["comment"], expected_version, conn)

    def _edit(self, request_id: str, actor: str, changes: dict[str, Any], comment: str | None,
              expected_version: int | None, conn: HostConnection | None) -> Signature:
        self.wf._typed_by(actor)
        with self.wf._write(conn) as work:
            return requests.edit(self.wf._signing(work), request_id, actor, changes, comment=comment,
                                 expected_version=expected_version).signature

    def advance(self, request_id: str, action: str, *, actor: str, reason: str | None = None,
                comment: str | None = None, recorded_by: str | None = None, expected_version: int | None = None,
                conn: HostConnection | None = None) -> Signature:
        """Sign a step of the reply's review (submit, proofread, clear, check, approve, return) or send it: the
        reply letter is made and stored as it is sent, and its type goes into the signed event."""
        if action in STEPS:
            raise InvalidInput("{action} is a step of the clock, not of the reply's review: sign it with `zwgk "
                               "request {command}` (or its own call here)", action=action, command=_COMMANDS[action])
        free = self.wf._texts(request=request_id, action=action, actor=actor, reason=reason, comment=comment,
                              recorded_by=recorded_by)
        self.wf._typed_by(actor, recorded_by, step=True)
        with self.wf._write(conn) as work:
            sign = self.wf._signing(work)
            return sign.advance("request", request_id, action, actor, expected_version=expected_version,
                                recorded_by=recorded_by, reason=free["reason"], comment=free["comment"]).signature

    def reassign(self, request_id: str, *, to: str, actor: str, reason: str | None = None,
                 comment: str | None = None, expected_version: int | None = None,
                 conn: HostConnection | None = None) -> Signature:
        """Hand a request to another handler of its unit (its handler left, or is away while its clock runs):
        signed by its handler or the head of the disclosure office; its reminders go to the new handler."""
        free = self.wf._texts(request=request_id, to=to, actor=actor, reason=reason, comment=comment)
        self.wf._typed_by(actor)
        with self.wf._write(conn) as work:
            return self.wf._signing(work).reassign("request", request_id, actor, to, reason=free["reason"],
                                                   comment=free["comment"],
                                                   expected_version=expected_version).signature

    # -- the clock --------------------------------------------------------------------------------------------

    def ask_correction(self, request_id: str, *, actor: str, on: date, items: list[str], correct_by: date | None = None,
                       comment: str | None = None, conn: HostConnection | None = None) -> Signature:
        """The one 补正 notice (Art. 30), within 7 working days of receipt: what to correct (each item in one
        go: 一次性告知), and by when (by default `[requests] correction_days` working days after `on`)."""
        if isinstance(items, str) or not isinstance(items, list | tuple):  # a text would be one item a character
            raise InvalidInput("the items to correct are a list of texts, one for each")
        free = self.wf._texts(comment=comment, **{f"item {n}": v for n, v in enumerate(items, 1)})
        if not items or not all(v.strip() for v in items):
            raise InvalidInput("a 补正 notice says what to correct")
        text.printable(**{f"item {n}": v for n, v in enumerate(items, 1)})
        settings, calendar = self.wf.config.requests, self.wf.config.calendar
        _day(on)
        by = date.fromisoformat(_day(correct_by)) if correct_by is not None else calendar.add_working_days(
            on, settings.correction_days).day
        most = calendar.add_working_days(on, settings.correction_most_days).day
        if by > most:  # a typo (2036) would keep the request waiting for years
            raise InvalidInput("a 补正 notice gives at most {days} working days ([requests] correction_most_days), "
                               "to {most}, not {by}", days=settings.correction_most_days, most=most.isoformat(),
                               by=_day(by))
        return self._step(request_id, "correct_notice", actor, on, {"correct_by": _day(by)}, conn,
                          comment=free["comment"], letter=notices.correction(list(items), by))

    def corrected(self, request_id: str, *, actor: str, on: date, comment: str | None = None,
                  conn: HostConnection | None = None) -> Signature:
        """The corrected request arrived on `on`: its 20 working days start again from that day."""
        return self._step(request_id, "corrected", actor, on, {}, conn, comment=comment)

    def extend(self, request_id: str, *, actor: str, on: date, days: int, reason: str, comment: str | None = None,
               conn: HostConnection | None = None) -> Signature:
        """An extension of at most 20 working days, approved by the head of the disclosure office before the due
        day, with its notice to the applicant."""
        return self._step(request_id, "extend", actor, on, {"days": days}, conn, reason=reason, comment=comment,
                          letter=notices.extension(days, reason))

    def consult(self, request_id: str, *, actor: str, on: date, party: str, consulted: str,
                concern: str | None = None, comment: str | None = None,
                conn: HostConnection | None = None) -> Signature:
        """A letter asking a third party (Art. 32: `concern`, the rights disclosure may harm) or another office
        (Art. 34), and its notice to the applicant: the clock stops from `on` until the reply arrives, at most until
        the 15th working day. `consulted` is how the stored letter names them: for a natural person, a role
        ("第三方"), not their name."""
        catalog.choice("party", party, {p: p for p in PARTIES})
        free = self.wf._texts(consulted=consulted, concern=concern, comment=comment)
        text.printable(consulted=consulted, concern=concern)
        if (party == "third_party") != (concern is not None):
            raise InvalidInput("a consultation of a third party states its concern (商业秘密, 个人隐私); one of "
                               "another office states none")
        return self._step(request_id, "consult", actor, on, {"party": party}, conn, comment=free["comment"],
                          limit=CONSULT_DAYS,
                          letter=notices.consultation(party, free["consulted"], free["concern"]))

    def consulted(self, request_id: str, *, actor: str, on: date, party: str, comment: str | None = None,
                  conn: HostConnection | None = None) -> Signature:
        """The consulted party's reply arrived on `on`: the clock counts again from the next day."""
        return self._step(request_id, "consulted", actor, on, {"party": party}, conn, comment=comment)

    def charge(self, request_id: str, *, actor: str, on: date, basis: str, pages: int | None = None,
               comment: str | None = None, conn: HostConnection | None = None) -> Signature:
        """A fee notice (Art. 42): by the applicant's requests this month (by_count) or by the pages of this one
        (by_quantity), at the rates of the configuration; the clock stops until it is paid (20 working days)."""
        def counted(work: Work) -> dict[str, Any]:  # in the step's own transaction: a host's writes count
            amount, figures = notices.fee(work, self.wf.config, request_id, basis, pages)
            if amount < 1:
                raise InvalidInput("request {request}: nothing is due by {basis}, so no fee notice goes out",
                                   request=request_id, basis=basis)
            rates = dataclasses.asdict(self.wf.config.requests.fees)  # recorded: verify recounts the amount
            return {"amount": amount, "basis": basis, "rates": rates} | figures

        return self._step(request_id, "fee_notice", actor, on, {}, conn, comment=comment, limit=PAY_DAYS,
                          letter=notices.fee_letter(), counted=counted)

    def paid(self, request_id: str, *, actor: str, on: date, comment: str | None = None,
             conn: HostConnection | None = None) -> Signature:
        return self._step(request_id, "fee_paid", actor, on, {}, conn, comment=comment)

    def set_period(self, request_id: str, *, actor: str, on: date, due_on: date, reason: str,
                   comment: str | None = None, conn: HostConnection | None = None) -> Signature:
        """Art. 35: a very large or repeated request whose reasons the office accepts, with a reasonable longer
        period; approved by the head of the disclosure office."""
        return self._step(request_id, "art35", actor, on, {"due_on": _day(due_on)}, conn, reason=reason,
                          comment=comment, letter=notices.period(due_on, reason))

    def review(self, request_id: str, *, actor: str, on: date, kind: str, comment: str | None = None,
               conn: HostConnection | None = None) -> Signature:
        """A 行政复议 or 行政诉讼 brought against the reply (filed on `on`)."""
        catalog.choice("review", kind, {k: k for k in REVIEWS})
        return self._step(request_id, "review", actor, on, {"review": kind}, conn, comment=comment)

    def review_outcome(self, request_id: str, *, actor: str, on: date, n: int, outcome: str,
                       comment: str | None = None, conn: HostConnection | None = None) -> Signature:
        """The outcome of the request's `n`th review: upheld (维持), corrected (纠正) or other."""
        return self._step(request_id, "review_outcome", actor, on, {"n": n, "outcome": outcome}, conn,
                          comment=comment)

    def erase(self, request_id: str, *, actor: str, comment: str | None = None,
              conn: HostConnection | None = None) -> Signature:
        """Erase the applicant's identity and contact details once the reply is out (its retention ended): the
        request keeps its commitment, and every signature still verifies."""
        return self._step(request_id, "erase", actor, self.wf.today(), {}, conn, comment=comment)

    def _step(self, request_id: str, action: str, actor: str, on: date, data: dict[str, Any],
              conn: HostConnection | None, *, reason: str | None = None, comment: str | None = None,
              limit: int | None = None, letter: notices.Maker | None = None,
              counted: Callable[[Work], dict[str, Any]] | None = None) -> Signature:
        free = self.wf._texts(request=request_id, actor=actor, reason=reason, comment=comment)
        text.printable(reason=reason)  # an extension's or a longer period's reason is stated in its letter
        data = {"on": _day(on)} | data
        if limit is not None:
            data["limit"] = self.wf.config.calendar.add_working_days(on, limit).day.isoformat()
        self.wf._typed_by(actor)
        with self.wf._write(conn) as work:
            sign = self.wf._signing(work)
            data = data | (counted(work) if counted else {})
            made = notices.bind(letter, self.wf.config, request_id, action, data) if letter else None
            return requests.law_step(sign, request_id, action, actor, data, reason=free["reason"],
                                     comment=free["comment"], expected_version=None, letter=made)[0].signature

    # -- reading ----------------------------------------------------------------------------------------------

    def request(self, request_id: str, *, applicant: bool = False) -> Request:
        """A request with its clock; `applicant=True` adds who asked (for its own show, never a listing)."""
        with self.wf.uow(write=False) as work:
            found = self._load(work, request_id)
            if applicant:
                row = work.one("applicant", {"id": request_id})
                if row is not None and row["identity"]:
                    found = replace(found, applicant=Applicant(**json.loads(row["identity"])))
            return found

    def requests(self, *, state: str | None = None, unit: str | None = None, limit: int | None = None,
                 after: str | None = None) -> list[Request]:
        return list(self.iter_requests(state=state, unit=unit, limit=limit, after=after))

    def iter_requests(self, *, state: str | None = None, unit: str | None = None, limit: int | None = None,
                      after: str | None = None, page: int = 500) -> Iterator[Request]:
        """Requests in id order, a page at a time, each page in a short read of its own."""
        self.wf._texts(state=state, unit=unit, after=after)
        if limit is not None and (type(limit) is not int or limit < 1):
            raise InvalidInput("limit must be at least 1, not {limit}", limit=limit)
        left, last = limit, after or ""
        while left is None or left > 0:
            size = page if left is None else min(page, left)
            with self.wf.uow(write=False) as work:
                rows = work.rows("requests", {"state": state, "unit": unit, "after": last, "limit": size})
                found = [self._of(work, r) for r in rows]
            yield from found
            if len(rows) < size:
                return
            last = rows[-1]["id"]
            left = None if left is None else left - size

    def history(self, request_id: str) -> list[Signature]:
        with self.wf.uow(write=False) as work:
            self._load(work, request_id)
            with work.events("case_events", {"kind": "request", "id": request_id}) as events:
                return [Signature.of(e) for e in events]

    def letters(self, request_id: str) -> list[tuple[Signature, dict[str, str]]]:
        """The letters the request's steps sent, oldest first: each with the signature that sent it, its kind and
        its documents' hashes by format (docx, html, text: the composed letter)."""
        return [(s, dict(x)) for s in self.history(request_id) for x in s.data.get("letters", [])]

    def document(self, sha256: str) -> documents.Document:
        documents.checked_hash(sha256)
        with self.wf.uow(write=False) as work:
            return documents.get(work, sha256)

    def printed(self, request_id: str, sha256: str) -> documents.Document:
        """A letter of the request as it is printed: with the applicant's name and address, unless erased."""
        documents.checked_hash(sha256)
        letter = next((x for _, x in self.letters(request_id) if sha256 in x.values()), None)
        if letter is None:
            raise NotFound("request {request} sent no document {sha256}", request=request_id, sha256=sha256[:12])
        with self.wf.uow(write=False) as work:
            row = work.one("applicant", {"id": request_id})
            who = Applicant(**json.loads(row["identity"])) if row is not None and row["identity"] else None
            return notices.printed(work, letter, sha256, who)

    def propose_item(self, request_ids: list[str], *, drafter: str, title: str, category: str,
                     timing: str = "immediate", body: str = "", comment: str | None = None,
                     conn: HostConnection | None = None) -> Item:
        """Art. 44: information several applicants asked for, proposed for proactive disclosure: a draft item whose
        creation names the requests, and on each request a signed `propose` naming the item, in one transaction."""
        if len(set(request_ids)) < 2:
            raise InvalidInput("Art. 44 is for information several applicants asked for: name at least two requests")
        free = self.wf._texts(drafter=drafter, title=title, body=body, comment=comment)
        catalog.choice("category", category, catalog.CATEGORIES)
        catalog.choice("timing", timing, catalog.TIMINGS)
        self.wf._typed_by(drafter)
        with self.wf._write(conn) as work:
            sign = self.wf._signing(work)
            unit = self._load(work, request_ids[0]).unit
            done = items.create(sign, unit=unit, drafter=drafter, item_id=None, title=free["title"],
                                body=free["body"], category=category, timing=timing, kind="info", interprets=None,
                                tags=[], formed_on=None, schedule=None, period=None, comment=free["comment"],
                                requests=sorted(set(request_ids)))
            for rid in sorted(set(request_ids)):
                requests.law_step(sign, rid, "propose", drafter, {"on": self.wf.today().isoformat(),
                                                                  "item": done.case.id},
                                  reason=None, comment=None, expected_version=None)
            return items.load(work, done.case.id)

    def same_information(self, request_id: str) -> list[tuple[str, float]]:
        """Art. 44: the unit's other requests that ask for the same information, best first."""
        from workflow.similar import same_information

        with self.wf.uow(write=False) as work:
            found = self._load(work, request_id)
            rows = work.rows("unit_request_descriptions", {"unit": found.unit, "id": request_id})
        return same_information(found.description, [(r["id"], r["description"]) for r in rows])

    def _load(self, work: Work, request_id: str) -> Request:
        row = work.one("request", {"id": request_id})
        if row is None:
            raise NotFound("no request '{request}'", request=request_id)
        return self._of(work, row)

    def _of(self, work: Work, r: Row) -> Request:
        clock: Clock = requests.clock_of(work, r["id"], self.wf.config.office)
        due = clock.due(self.wf.config.calendar)
        return Request(
            id=r["id"], unit=r["unit_id"], handler=r["drafter"], state=r["state"], round=r["round"],
            version=r["version"], received_via=r["received_via"], received_on=date.fromisoformat(r["received_on"]),
            applicant_type=r["applicant_type"], description=r["description"], form=r["form"], oral=bool(r["oral"]),
            reply=json.loads(r["reply"]) if r["reply"] else None, status=clock.status,
            due_on=due.day if due else None, provisional=bool(due and due.provisional), extended=clock.extended,
            reviews=tuple({"kind": v.kind, "filed_on": v.filed_on, "outcome": v.outcome} for v in clock.reviews),
            erased=clock.erased, replied_on=clock.replied_on,
            late=clock.late(self.wf.config.calendar, self.wf.today()), proposed=clock.proposed,
            created_at=datetime.fromisoformat(r["created_at"]), updated_at=datetime.fromisoformat(r["updated_at"]))


def _day(value: date) -> str:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput("a day is a date (YYYY-MM-DD)")
    return value.isoformat()


def _checked_applicant(wf: Workflow, a: Applicant) -> Applicant:
    """The applicant's details as typed, refused in words that never repeat them."""
    if not isinstance(a, Applicant):
        raise InvalidInput("the applicant must be an Applicant")
    catalog.choice("applicant type", a.type, APPLICANT_TYPES)
    fields = {"applicant_name": a.name, "applicant_document": a.id_document, "applicant_phone": a.phone,
              "applicant_email": a.email, "applicant_address": a.address}
    wf._texts(**fields)
    text.printable(**fields)
    if not a.name.strip():
        raise InvalidInput("the applicant's name must not be empty")
    if a.email is not None and not _EMAIL.fullmatch(a.email):
        raise InvalidInput("the applicant's e-mail address is not valid (name@example.com)")
    if a.phone is not None and not re.fullmatch(r"[0-9+\- ]{5,20}", a.phone):
        raise InvalidInput("the applicant's phone number is not valid (digits, +, - and spaces)")
    if not (a.phone or a.email or a.address):
        raise InvalidInput("a request gives a way to reach the applicant: a phone, an e-mail or an address "
                           "(Art. 29)")
    return a
