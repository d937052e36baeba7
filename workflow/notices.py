"""The letters a request's steps send (告知书): composed from the office's templates (`workflow.letters`), stored by
hash (`workflow.documents`) as DOCX, print-ready HTML and the composed text, and named in the step's signed event.

The stored letter names the applicant only as 申请人 with the request's number: it is kept for ever, and the
applicant's identity must be erasable. `printed` renders the stored text again with their name and address.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from states.requests import LAPSED, Clock
from workflow import documents, fees
from workflow.config import Config
from workflow.errors import InvalidInput, NotFound
from workflow.uow import Row, Work

if TYPE_CHECKING:
    from workflow.letters import Composed
    from workflow.requests import Applicant

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html; charset=utf-8"
TEXT = "application/json"  # the composed letter, from which a printed copy is rendered again
FORMATS = ("docx", "html", "text")
# The letters each step sends, in order.
LETTERS = {"correct_notice": ("correction",), "extend": ("extension",), "consult": ("consultation",
           "consultation_notice"), "fee_notice": ("fee",), "art35": ("period",), "send": ("reply",)}


@dataclass(frozen=True)
class Context:
    """What a letter is made from: the request as stored, the clock before and after the step, the step's data."""

    request: Row
    config: Config
    before: Clock
    after: Clock
    data: dict[str, Any]

    def due(self, clock: Clock) -> date | None:
        found = clock.due(self.config.calendar)
        return found.day if found else None


Maker = Callable[[Context], list[tuple[str, dict[str, Any]]]]  # the letters' kinds and facts
Bound = Callable[[Work, Clock, Clock, str], list[dict[str, str]]]  # stores them: each its documents by format


def correction(items: list[str], correct_by: date) -> Maker:
    return lambda c: [("correction", {"items": items, "correct_by": correct_by})]


def extension(days: int, reason: str) -> Maker:
    return lambda c: [("extension", {"days": days, "original_due": c.due(c.before), "new_due": c.due(c.after),
                                     "approved_by_title": "政府信息公开工作机构负责人", "reason": reason})]


def period(due_on: date, reason: str) -> Maker:
    return lambda c: [("period", {"new_due": due_on, "reason": reason})]


def consultation(party: str, consulted: str, concern: str | None) -> Maker:
    """The letter to the party consulted, and the notice telling the applicant the time is not counted."""
    return lambda c: [("consultation", {"party": party, "consulted": consulted, "concern": concern}),
                      ("consultation_notice", {"party": party, "consulted_on": date.fromisoformat(c.data["on"])})]


def fee_letter() -> Maker:
    """The fee notice of what the step counted (its data: amount, basis, count or pages)."""
    def facts(c: Context) -> list[tuple[str, dict[str, Any]]]:
        figures = {k: c.data[k] for k in ("amount", "basis", "count", "pages") if k in c.data}
        return [("fee", figures | {"payment": c.config.requests.payment, "pay_by": date.fromisoformat(c.data["limit"]),
                                   "standard": fees.standard(c.config.requests.fees, c.data["basis"])})]
    return facts


def reply_letter(reply: dict[str, Any]) -> Maker:
    def facts(c: Context) -> list[tuple[str, dict[str, Any]]]:
        reply_type, subtype = reply["type"].split(".", 1)
        lapsed = {v: k for k, v in LAPSED.items()}.get(reply["type"])
        notice = next((s.since for s in c.before.stops if s.kind == lapsed), None) if lapsed else None
        given = {k: v for k, v in reply.items() if k != "type"}
        return [("reply", given | {"reply_type": reply_type, "subtype": subtype, "notice_on": notice,
                                   "review_body": c.config.requests.review_body, "court": c.config.requests.court})]
    return facts


def fee(work: Work, config: Config, request_id: str, basis: str, pages: int | None) -> tuple[int, dict[str, int]]:
    """The fee due for a request (国办函〔2020〕109号): by the applicant's requests to the unit in the month of its
    receipt, this one included, or by its pages; with the figure it was counted from."""
    rates = config.requests.fees
    if basis == "by_quantity":
        if type(pages) is not int:
            raise InvalidInput("a fee by quantity needs the number of pages, a whole number")
        return fees.by_quantity(rates, pages), {"pages": pages}
    if basis != "by_count":
        raise InvalidInput("unknown fee basis '{basis}' (one of: by_count, by_quantity)", basis=basis)
    if pages is not None:
        raise InvalidInput("a fee by count takes no pages: one request is charged one way (by_count or by_quantity)")
    r = work.one("request", {"id": request_id})
    who = work.one("applicant", {"id": request_id})
    if r is None or who is None or who["key"] is None:
        raise NotFound("no request '{request}' with its applicant", request=request_id)
    if not json.loads(who["identity"]).get("id_document"):
        # By name alone, everyone of the same name would be one applicant, charged for strangers' requests.
        raise InvalidInput("request {request}: a fee by count needs the applicant's identity document, by which their "
                           "requests of the month are counted", request=request_id)
    received = date.fromisoformat(r["received_on"])
    n = work.one("applicant_month_count", {"key": who["key"], "unit": r["unit_id"], "id": request_id,
                                           "month_start": received.replace(day=1).isoformat(),
                                           "received_on": received.isoformat()})
    count = int(n["n"]) if n else 1
    return fees.by_count(rates, count), {"count": count}


def bind(maker: Maker, config: Config, request_id: str, action: str, data: dict[str, Any]) -> Bound:
    """The letters of a step, made once the step is judged (the clock after it is known) and stored by hash."""
    from workflow.letters import Letter, compose, to_docx, to_html

    def store(work: Work, before: Clock, after: Clock, at: str) -> list[dict[str, str]]:
        row = work.one("request", {"id": request_id})
        unit = work.one("unit_name", {"id": row["unit_id"]}) if row else None
        if row is None or unit is None:
            raise NotFound("no request '{request}'", request=request_id)
        issued = date.fromisoformat(data["on"]) if "on" in data else config.office.date_of(datetime.fromisoformat(at))
        out = []
        for kind, facts in maker(Context(row, config, before, after, data)):
            composed = compose(Letter(kind, unit["name"], request_id, date.fromisoformat(row["received_on"]), issued,
                                      {"description": row["description"]} | facts), config.requests.letters)
            name = f"{request_id}-{kind}"
            text = json.dumps(asdict(composed), ensure_ascii=False, sort_keys=True).encode()
            out.append({"kind": kind,
                        "docx": documents.put(work, to_docx(composed), media_type=DOCX, name=f"{name}.docx", at=at),
                        "html": documents.put(work, to_html(composed).encode(), media_type=HTML, name=f"{name}.html",
                                              at=at),
                        "text": documents.put(work, text, media_type=TEXT, name=f"{name}.json", at=at)})
        return out

    return store


def printed(work: Work, letter: dict[str, str], sha256: str, applicant: Applicant | None) -> documents.Document:
    """One of a letter's documents as it is printed for its applicant: rendered again from the stored text with
    their name and address (as stored, once they are erased; the composed text itself as it is)."""
    from workflow.letters import to_docx, to_html

    doc = documents.get(work, sha256)
    if applicant is None or sha256 == letter["text"]:
        return doc
    composed = _composed(documents.get(work, letter["text"]))
    to = applicant.name + (f"（{applicant.address}）" if applicant.address else "")
    if composed.to != "申请人":  # a letter to the party consulted: the applicant is not its addressee
        return doc
    content = to_docx(composed, to) if sha256 == letter["docx"] else to_html(composed, to).encode()
    return documents.Document(hashlib.sha256(content).hexdigest(), doc.media_type, doc.name, content, doc.created_at)


def names(text: documents.Document, request_id: str, kind: str) -> bool:
    """Whether a letter's composed text is a letter of that kind for that request."""
    try:
        found = json.loads(text.content)
        return bool(found["kind"] == kind and found["reference"].endswith(f"：{request_id}"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


def _composed(doc: documents.Document) -> Composed:
    from workflow.letters import Composed

    found: dict[str, Any] = json.loads(doc.content)
    plain: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in found.items()}
    return Composed(**plain)
