"""The letters a request's steps send (告知书): composed from the office's templates (`workflow.letters`), stored as
DOCX and print-ready HTML by hash (`workflow.documents`), and named in the step's signed event.

The stored letter names the applicant only as 申请人 with the request's number: it is kept for ever, and the
applicant's identity must be erasable. `addressed` merges the name and address in when it is printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from states.requests import Clock
from workflow import documents, fees
from workflow.config import Config
from workflow.errors import InvalidInput, NotFound
from workflow.uow import Row, Work

if TYPE_CHECKING:
    from workflow.requests import Applicant

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Context:
    """What a letter is made from: the request as stored, the issuing office, the clock before and after the step."""

    request: Row
    office: str
    config: Config
    before: Clock
    after: Clock
    data: dict[str, Any]


Maker = Callable[[Context], tuple[str, dict[str, Any]]]  # the letter's kind and facts
Bound = Callable[[Work, Clock, Clock, str], dict[str, str]]  # stores the letter; its documents' hashes by format


def correction(items: str, correct_by: date) -> Maker:
    return lambda c: ("correction", {"items": items, "correct_by": correct_by})


def extension(days: int) -> Maker:
    def facts(c: Context) -> tuple[str, dict[str, Any]]:
        before, after = c.before.due(c.config.calendar), c.after.due(c.config.calendar)
        return "extension", {"days": days, "original_due": before.day if before else None,
                             "new_due": after.day if after else None,
                             "approved_by_title": "政府信息公开工作机构负责人"}
    return facts


def consultation(party: str, consulted: str) -> Maker:
    return lambda c: ("consultation", {"party": party, "consulted": consulted,
                                       "reply_by": date.fromisoformat(c.data["limit"])})


def fee_letter(amount: int, basis: str, figures: dict[str, int]) -> Maker:
    return lambda c: ("fee", {"amount": amount, "basis": basis, **figures,
                              "pay_by": date.fromisoformat(c.data["limit"])})


def reply_letter(reply: dict[str, Any]) -> Maker:
    return lambda c: ("reply", {"reply_type": reply["type"], "text": reply.get("text") or "",
                                "reason": reply.get("reason") or "", "other_office": reply.get("other_office") or ""})


def fee(work: Work, config: Config, request_id: str, basis: str, pages: int | None) -> tuple[int, dict[str, int]]:
    """The fee due for a request (国办函〔2020〕109号): by the applicant's requests to the unit in the month of its
    receipt, this one included, or by its pages; with the figure it was counted from."""
    rates = config.requests.fees
    if basis == "by_quantity":
        if pages is None:
            raise InvalidInput("a fee by quantity needs the number of pages")
        return fees.by_quantity(rates, pages), {"pages": pages}
    if basis != "by_count":
        raise InvalidInput("unknown fee basis '{basis}' (one of: by_count, by_quantity)", basis=basis)
    if pages is not None:
        raise InvalidInput("a fee by count takes no pages: one request is charged one way (by_count or by_quantity)")
    r = work.one("request", {"id": request_id})
    who = work.one("applicant", {"id": request_id})
    if r is None or who is None or who["key"] is None:
        raise NotFound("no request '{request}' with its applicant", request=request_id)
    received = date.fromisoformat(r["received_on"])
    n = work.one("applicant_month_count", {"key": who["key"], "unit": r["unit_id"], "id": request_id,
                                           "month_start": received.replace(day=1).isoformat(),
                                           "received_on": received.isoformat()})
    count = int(n["n"]) if n else 1
    return fees.by_count(rates, count), {"count": count}


def bind(maker: Maker, config: Config, request_id: str, action: str, data: dict[str, Any]) -> Bound:
    """The letter of a step, made once the step is judged (the clock after it is known) and stored by hash."""
    from workflow.letters import Letter, compose, to_docx, to_html

    def store(work: Work, before: Clock, after: Clock, at: str) -> dict[str, str]:
        row = work.one("request", {"id": request_id})
        unit = work.one("unit_name", {"id": row["unit_id"]}) if row else None
        if row is None or unit is None:
            raise NotFound("no request '{request}'", request=request_id)
        kind, facts = maker(Context(row, unit["name"], config, before, after, data))
        letter = Letter(kind=kind, office=unit["name"], number=request_id,
                        received_on=date.fromisoformat(row["received_on"]),
                        issued_on=date.fromisoformat(data["on"]) if "on" in data else config.office.date_of(
                            datetime.fromisoformat(at)), facts=facts)
        composed = compose(letter, config.requests.letters)
        name = f"{request_id}-{action}"
        return {"docx": documents.put(work, to_docx(composed), media_type=DOCX, name=f"{name}.docx", at=at),
                "html": documents.put(work, to_html(composed).encode(), media_type=HTML, name=f"{name}.html", at=at)}

    return store


def addressed(doc: documents.Document, applicant: Applicant | None) -> documents.Document:
    """A stored letter as printed for its applicant: their name and address merged in (none once erased)."""
    from workflow.letters import addressee_docx, addressee_html

    if applicant is None:
        return doc
    to = f"{applicant.name}" + (f"（{applicant.address}）" if applicant.address else "")
    if doc.media_type == DOCX:
        return replace(doc, content=addressee_docx(doc.content, to))
    return replace(doc, content=addressee_html(doc.content.decode(), to).encode())
