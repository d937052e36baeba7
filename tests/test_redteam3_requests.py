"""Red team, round 3: requests for government information (依申请公开, issue 12), attacked as an auditor, a forger
with write access to the database and a careless clerk would.

Each test's docstring says what is wrong (or, for a test that pins behaviour, what must stay right) and why it
matters. Tests that fail are findings; SQLite is enough for all of them (nothing here is PostgreSQL-specific).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest
from sqlalchemy import text

from states import Refused
from tests.cli_helpers import ok, ok_json, one_error_line, run, snapshot
from tests.requesting import (
    DESCRIPTION,
    DUE,
    ID_DOC,
    NAME,
    PHONE,
    RECEIVED,
    Clock,
    cli_world,
    new_request,
    review_and_send,
    seeded,
)
from tests.tampering import Raw
from workflow import Workflow, fees
from workflow.config import parse
from workflow.errors import InvalidInput
from workflow.ledger.events import canonical
from workflow.letters import Letter, compose, to_docx, to_html
from workflow.notices import DOCX, HTML, TEXT
from workflow.requests import Applicant
from workflow.testing import captured_logs
from workflow.workdays import WorkCalendar

from .conftest import ADMIN

CAL = WorkCalendar()
OFFICE = "平田乡人民政府"


@pytest.fixture
def rwf(sqlite_url: str, clock: Clock) -> Iterator[Workflow]:
    """SQLite only: nothing here is PostgreSQL-specific."""
    w = seeded(sqlite_url, clock)
    yield w
    w.close()


@pytest.fixture
def raw(rwf: Workflow, sqlite_url: str) -> Iterator[Raw]:
    """A forger's connection, the append-only guards of the events dropped."""
    r = Raw(sqlite_url)
    r.drop_guards()
    yield r
    r.close()



def stamp(day: date) -> str:
    """10:00 of `day` at the office, as an event's time."""
    return f"{Clock(day)():%Y-%m-%dT%H:%M:%S}.000000+00:00"


def forge_letter(raw: Raw, kind: str, rid: str, issued: date, facts: dict[str, Any]) -> dict[str, str]:
    """A real letter of `kind`, made as the engine makes it and inserted by the forger (documents only refuse
    UPDATE and DELETE): what a forged step names so that verify finds its documents present and intact."""
    composed = compose(Letter(kind, OFFICE, rid, RECEIVED, issued, {"description": DESCRIPTION} | facts))
    out = {"kind": kind}
    for fmt, content, media in (("docx", to_docx(composed), DOCX), ("html", to_html(composed).encode(), HTML),
                                ("text", json.dumps(asdict(composed), ensure_ascii=False, sort_keys=True).encode(),
                                 TEXT)):
        sha = hashlib.sha256(content).hexdigest()
        raw.run("INSERT INTO zwgk_document (sha256, media_type, name, size, content, created_at) VALUES "
                "(:sha, :media, :name, :size, :content, :at) ON CONFLICT (sha256) DO NOTHING", sha=sha, media=media,
                name=f"{rid}-{kind}.{fmt}", size=len(content), content=content, at=stamp(issued))
        out[fmt] = sha
    return out


def forge_step(raw: Raw, wf: Workflow, rid: str, action: str, *, actor: str, role: str, on: date,
               data: dict[str, Any], reason: str | None = None) -> None:
    """A law step appended to the unit's chain as a forger with write access would: well hashed and linked, signed
    at 10:00 of `on`, the head moved and the case row's version counted up (so that only the rules can catch it)."""
    last = wf.requests.history(rid)[-1]
    raw.append_forged(case_kind="request", case_id=rid, action=action, from_state=last.to_state,
                      to_state=last.to_state, round=last.round, actor=actor, role=role, recorded_by=None,
                      paper_sha256=None, comment=None, reason=reason, ground=None, decision=None,
                      pipeline=last.pipeline, content_hash=last.content_hash,
                      data=canonical({"on": on.isoformat()} | data), at=stamp(on))
    raw.run("UPDATE zwgk_case SET version = version + 1 WHERE kind = 'request' AND id = :id", id=rid)


def rewrite_data(raw: Raw, seq: int, **changes: Any) -> None:
    """An event's data changed and the chain rehashed from it to its head (a rewrite a seal would bound, but the
    rules of the fold should catch on their own)."""
    data = json.loads(raw.event(seq)["data"]) | changes
    raw.set_event(seq, data=canonical(data))
    raw.rewrite_from(seq)


def step_of(wf: Workflow, rid: str, action: str) -> Any:
    return next(s for s in wf.requests.history(rid) if s.action == action)


# -- forgery: what verify must catch ------------------------------------------------------------------------------

def _late_extension(raw: Raw, wf: Workflow, rid: str) -> None:
    on = date(2026, 11, 3)  # the due day, 30 Oct, has passed
    letter = forge_letter(raw, "extension", rid, on, {
        "days": 10, "original_due": DUE, "new_due": CAL.add_working_days(RECEIVED, 30).day,
        "approved_by_title": "政府信息公开工作机构负责人", "reason": "需调取档案"})
    forge_step(raw, wf, rid, "extend", actor="ohead", role="disclosure_office_head", on=on,
               data={"days": 10, "letters": [letter]}, reason="需调取档案")


def _late_correction_notice(raw: Raw, wf: Workflow, rid: str) -> None:
    on = date(2026, 10, 20)  # the 7th working day after receipt is 13 Oct
    letter = forge_letter(raw, "correction", rid, on, {"items": ["请写明年度"], "correct_by": date(2026, 11, 10)})
    forge_step(raw, wf, rid, "correct_notice", actor="clerk", role="handler", on=on,
               data={"correct_by": "2026-11-10", "letters": [letter]})


def _year_long_consultation(raw: Raw, wf: Workflow, rid: str) -> None:
    on = date(2026, 10, 9)  # the 15th working day after it is 30 Oct; the forger records a year later
    letters = [forge_letter(raw, "consultation", rid, on, {"party": "other_office", "consulted": "县民政局"}),
               forge_letter(raw, "consultation_notice", rid, on, {"party": "other_office", "consulted_on": on})]
    forge_step(raw, wf, rid, "consult", actor="clerk", role="handler", on=on,
               data={"party": "other_office", "limit": "2027-10-08", "letters": letters})


def _art35_earlier_than_due(raw: Raw, wf: Workflow, rid: str) -> None:
    forge_step(raw, wf, rid, "art35", actor="ohead", role="disclosure_office_head", on=date(2026, 10, 9),
               data={"due_on": "2026-10-12"}, reason="申请数量巨大")


@pytest.mark.parametrize("forge", [_late_extension, _late_correction_notice, _year_long_consultation,
                                   _art35_earlier_than_due])
def test_verify_holds_a_forged_law_step_to_the_calendar_rules(rwf: Workflow, raw: Raw, clock: Clock,
                                                              forge: Any) -> None:
    """FINDING (high). `verify` folds a request's steps without the calendar (states/requests.py: "without one ...
    it takes the limits the step recorded"), so every rule that needs the calendar goes unchecked: an extension
    appended after the due day, a 补正 notice weeks after the 7 working days, a consultation whose recorded limit is a
    year away (the clock stops for a year), an Art. 35 period that *shortens* the due day. Each is a signature the
    engine would have refused, appended with a correct hash chain at the chain's end (no seal bounds an append);
    `verify` passes and the live due day (also folded without the calendar) follows the forgery. A late reply is
    what applicants take to 行政复议; the audit trail must not be able to hide it. Official years do not change once
    published, so verify can judge these with the calendar wherever the day is not provisional."""
    rid = new_request(rwf)
    clock.to(date(2026, 11, 3))
    forge(raw, rwf, rid)
    report = rwf.verify()
    assert not report.ok, f"a forged {forge.__name__[1:]} passed verify; due day now {rwf.requests.request(rid).due_on}"


def test_verify_holds_a_sent_reply_to_the_reply_that_was_reviewed(rwf: Workflow, raw: Raw) -> None:
    """FINDING (high). The `send` event's `reply` (what the annual report counts, table 三) is not compared with the
    reply drafted, signed and reviewed (the request's signed content) nor with its letter: a send rewritten from
    不予公开 (国家秘密) to 予以公开 verifies, so the annual report and the letter the applicant holds disagree and
    nothing says so."""
    rid = new_request(rwf)
    rwf.requests.reply(rid, actor="clerk", type="withheld.state_secret", reason="经保密审查属于国家秘密")
    review_and_send(rwf, rid)
    rewrite_data(raw, step_of(rwf, rid, "send").seq, reply="disclosed.provided")
    assert not rwf.verify().ok


def test_verify_holds_the_receipt_day_of_the_clock_to_the_signed_request(rwf: Workflow, raw: Raw,
                                                                         clock: Clock) -> None:
    """FINDING (medium). A request's creation records its receipt day twice: in the signed content (the row) and in
    the event's data, from which the clock is folded. Nothing compares them: with the event's day moved a week back,
    verify passes, `show` prints the signed receipt day and a due day counted from another. The receipt day is the
    fact the whole legal clock (Art. 31, 33) hangs on."""
    clock.to(date(2026, 10, 20))
    rid = new_request(rwf, received_on=date(2026, 10, 20))
    rewrite_data(raw, step_of(rwf, rid, "create").seq, received_on="2026-10-13")
    shown = rwf.requests.request(rid)
    assert rwf.verify().ok is False or shown.due_on == CAL.add_working_days(shown.received_on, 20).day, (
        f"received {shown.received_on}, due {shown.due_on}: counted from another day, and verify is content")


def test_verify_holds_a_steps_letters_to_their_kind_and_request(rwf: Workflow, raw: Raw, clock: Clock) -> None:
    """FINDING (medium). verify checks only that each document a step names is present and intact, not that it is
    the letter of that step: an extension whose letters are swapped for the request's own 补正 notice verifies, so
    the extension notice the applicant must be sent (Art. 33) can be "proved" by any stored document."""
    rid = new_request(rwf)
    rwf.requests.ask_correction(rid, actor="clerk", on=RECEIVED, correct_by=date(2026, 10, 16), items=["请写明年度"])
    clock.to(date(2026, 10, 12))
    rwf.requests.corrected(rid, actor="clerk", on=date(2026, 10, 12))
    rwf.requests.extend(rid, actor="ohead", on=date(2026, 10, 12), days=5, reason="需调取档案")
    notice = step_of(rwf, rid, "correct_notice").data["letters"]
    rewrite_data(raw, step_of(rwf, rid, "extend").seq, letters=notice)
    assert not rwf.verify().ok


def test_verify_holds_a_fee_to_its_rate(rwf: Workflow, raw: Raw) -> None:
    """FINDING (medium). A fee notice's amount and basis are checked by verify only as "a whole number >= 1": 50 pages
    charged 5000 yuan instead of 200, on a basis that does not exist, verifies. An unlawful fee (国办函〔2020〕109号)
    is exactly what an audit of 依申请公开 looks for; the rates in force are in the configuration."""
    rid = new_request(rwf)
    rwf.requests.charge(rid, actor="clerk", on=RECEIVED, basis="by_quantity", pages=50)
    rewrite_data(raw, step_of(rwf, rid, "fee_notice").seq, amount=5000, basis="by_magic")
    assert not rwf.verify().ok


def test_verify_catches_an_extension_forged_under_a_handlers_name(rwf: Workflow, raw: Raw) -> None:
    """PIN. An extension needs the head of the disclosure office (Art. 33): one appended as signed by the handler,
    in time and with a real letter, is a signature the rules refuse."""
    rid = new_request(rwf)
    on = RECEIVED
    letter = forge_letter(raw, "extension", rid, on, {
        "days": 5, "original_due": DUE, "new_due": CAL.add_working_days(RECEIVED, 25).day,
        "approved_by_title": "政府信息公开工作机构负责人", "reason": "需调取档案"})
    forge_step(raw, rwf, rid, "extend", actor="clerk", role="disclosure_office_head", on=on,
               data={"days": 5, "letters": [letter]}, reason="需调取档案")
    report = rwf.verify()
    assert not report.ok and "disclosure_office_head" in (report.first_problem or "")


def test_verify_catches_a_second_correction_notice(rwf: Workflow, raw: Raw, clock: Clock) -> None:
    """PIN. 一次性告知 (Art. 30): a second 补正 notice appended with a real letter is refused by the fold."""
    rid = new_request(rwf)
    rwf.requests.ask_correction(rid, actor="clerk", on=RECEIVED, correct_by=date(2026, 10, 16), items=["请写明年度"])
    clock.to(date(2026, 9, 29))
    letter = forge_letter(raw, "correction", rid, date(2026, 9, 29), {"items": ["再写明村别"],
                                                                      "correct_by": date(2026, 10, 20)})
    forge_step(raw, rwf, rid, "correct_notice", actor="clerk", role="handler", on=date(2026, 9, 29),
               data={"correct_by": "2026-10-20", "letters": [letter]})
    report = rwf.verify()
    assert not report.ok and "once only" in (report.first_problem or "")


def test_verify_catches_a_deleted_letter(rwf: Workflow, raw: Raw) -> None:
    """PIN. A letter a signature names is evidence the applicant was told: deleting its document (behind the
    append-only trigger) is reported."""
    rid = new_request(rwf)
    rwf.requests.ask_correction(rid, actor="clerk", on=RECEIVED, correct_by=date(2026, 10, 16), items=["请写明年度"])
    [(_, letter)] = rwf.requests.letters(rid)
    raw.run("DROP TRIGGER zwgk_document_no_delete")
    raw.run("DELETE FROM zwgk_document WHERE sha256 = :sha", sha=letter["docx"])
    report = rwf.verify()
    assert not report.ok and "gone" in (report.first_problem or "")


# -- the clock: what the engine must refuse -----------------------------------------------------------------------

@pytest.mark.parametrize("step", ["extend", "consult", "charge"])
def test_a_step_that_moves_the_due_day_is_refused_once_it_has_passed_whatever_day_it_states(
        rwf: Workflow, clock: Clock, step: str) -> None:
    """FINDING (high). "An extension ... is refused once the original due day has passed" (issue 12) holds only for
    the day the step *states*: signed on 3 Nov, after the due day 30 Oct, an extension, a consultation or a fee
    notice that states 29 or 20 Oct is accepted, the overdue request is due again weeks later, and its letter is
    printed with the earlier date (a backdated official letter). `on` is bounded only by the previous step and
    today. The judge should compare the due day with the day the step is signed (or bound how far back `on` may
    go)."""
    rid = new_request(rwf)
    clock.to(date(2026, 11, 3))
    assert rwf.requests.request(rid).due_on == DUE
    calls = {
        "extend": lambda: rwf.requests.extend(rid, actor="ohead", on=date(2026, 10, 29), days=10, reason="需调取档案"),
        "consult": lambda: rwf.requests.consult(rid, actor="clerk", on=date(2026, 10, 20), party="other_office",
                                                consulted="县民政局"),
        "charge": lambda: rwf.requests.charge(rid, actor="clerk", on=date(2026, 10, 20), basis="by_quantity",
                                              pages=50),
    }
    with pytest.raises(Refused, match="due day"):
        calls[step]()


def test_a_correction_period_is_bounded(rwf: Workflow) -> None:
    """FINDING (medium). Art. 30 asks for a 合理的补正期限; a 补正 notice may give any day: a clerk's typo (2036 for
    2026) is accepted, the clock waits on the applicant for ten years, no due day exists and no reminder ever
    fires; the request can neither be answered (it waits) nor closed as 逾期不补正 (its day has not come). A bound
    (a maximum in `[requests]`, e.g. 30 working days) would refuse it."""
    rid = new_request(rwf)
    with pytest.raises((Refused, InvalidInput)):
        rwf.requests.ask_correction(rid, actor="clerk", on=RECEIVED, correct_by=date(2036, 10, 16),
                                    items=["请写明年度"])


def test_a_request_is_charged_one_way_only(rwf: Workflow, clock: Clock) -> None:
    """FINDING (medium). 国办函〔2020〕109号 Art. 3: one request is charged by count *or* by quantity, never both (the
    engine itself says so for one notice). Yet after a fee by quantity is paid, a second fee notice by count is
    accepted on the same request: the applicant pays twice, and each notice stops the clock for up to 20 more
    working days."""
    ids = [new_request(rwf, description=f"第{n}项信息") for n in range(1, 12)]
    rwf.requests.charge(ids[10], actor="clerk", on=RECEIVED, basis="by_quantity", pages=50)
    clock.to(date(2026, 10, 9))
    rwf.requests.paid(ids[10], actor="clerk", on=date(2026, 10, 9))
    with pytest.raises((Refused, InvalidInput)):
        rwf.requests.charge(ids[10], actor="clerk", on=date(2026, 10, 9), basis="by_count")


def test_an_applicant_is_not_erased_while_a_review_of_the_reply_is_pending(rwf: Workflow) -> None:
    """FINDING (medium). `erase` is allowed as soon as the reply is out, even while a 行政诉讼 against that reply is
    pending (尚未审结): the office destroys the identity of the other party to a live case (个人信息保护法 Art. 47 keeps
    what a law requires be kept; 行政诉讼法 requires the organ to produce its file). Erasure should wait until every
    review has an outcome."""
    rid = new_request(rwf)
    rwf.requests.reply(rid, actor="clerk", type="withheld.process_info", reason="属于内部讨论记录")
    review_and_send(rwf, rid)
    rwf.requests.review(rid, actor="ohead", on=RECEIVED, kind="lawsuit")
    with pytest.raises(Refused):
        rwf.requests.erase(rid, actor="ohead")


def test_an_art35_period_is_told_to_the_applicant(rwf: Workflow) -> None:
    """FINDING (low). Art. 35: a longer period is set "并告知申请人"; every other step that moves the due day sends a
    letter (extension, consultation, fee), but `set_period` sends none, so nothing proves the applicant was told,
    and a due day set on a holiday (1 Jan) is accepted as is."""
    rid = new_request(rwf)
    with pytest.raises(Refused, match="must set a working day"):
        rwf.requests.set_period(rid, actor="ohead", on=RECEIVED, due_on=date(2027, 1, 1), reason="申请数量巨大")
    rwf.requests.set_period(rid, actor="ohead", on=RECEIVED, due_on=date(2027, 1, 4), reason="申请数量巨大")
    assert [(s.action, x["kind"]) for s, x in rwf.requests.letters(rid)] == [("art35", "period")]
    assert rwf.requests.request(rid).due_on == date(2027, 1, 4)


def test_a_step_of_the_clock_is_the_requests_own_handlers(rwf: Workflow) -> None:
    """FINDING (low). A draft is its drafter's (谁提供、谁负责), and the reply of a request is refused to another
    handler (NotDrafter); but every step of the clock is open to *any* handler of the unit: another handler sends a
    补正 notice (one only, 一次性告知) on a request they do not handle, spending the request's one notice. The
    steps should follow the same rule (or the disclosure office head's, who reassigns)."""
    rwf.grant("drafter2", "handler", unit="gov", by=ADMIN)
    rid = new_request(rwf)
    with pytest.raises(Refused):
        rwf.requests.ask_correction(rid, actor="drafter2", on=RECEIVED, items=["请写明年度"])


# -- fees -------------------------------------------------------------------------------------------------------

def test_the_configured_fee_rates_are_the_ones_a_fee_notice_is_made_with(sqlite_url: str, clock: Clock) -> None:
    """FINDING (medium). `[requests.fees]` lets an office configure its rates (README: "rates in `[requests.fees]`"),
    and `charge` computes with them, but the letter checks the amount against hard-coded national rates
    (letters/kinds.py `pages_fee`, "no fee by count for 10 requests or fewer") and prints the national standard:
    with configured rates no fee by quantity can be sent at all (and a by-count fee past a configured
    free_requests below 10 is refused)."""
    config = parse({"requests": {"fees": {"page_bands": [[100, 5], [200, 10]], "page_yuan_above": 20}}})
    w = seeded(sqlite_url, clock, config)
    try:
        rid = new_request(w)
        w.requests.charge(rid, actor="clerk", on=RECEIVED, basis="by_quantity", pages=50)
        [(sent, _)] = w.requests.letters(rid)
        assert sent.data["amount"] == fees.by_quantity(config.requests.fees, 50) == 100
    finally:
        w.close()


def test_a_fee_by_count_does_not_group_different_people_by_name_alone(rwf: Workflow) -> None:
    """FINDING (medium). The fee by count groups an applicant's requests by a key of type, name and identity
    document; the document is optional, so without it every natural person of the same name is one applicant:
    eleven different 张伟 (different phones, no document) in a month, and the eleventh is charged 100 yuan for the
    requests of ten strangers. Charging a fee the measures do not allow is unlawful (Art. 42). The key should need
    the document (or not group at all without it)."""
    ids = [new_request(rwf, applicant=Applicant("张伟", "natural", phone=f"1390000{n:04d}"),
                       description=f"第{n}项信息") for n in range(11)]
    with pytest.raises(InvalidInput, match="identity document"):
        rwf.requests.charge(ids[10], actor="clerk", on=RECEIVED, basis="by_count")


def test_a_fee_by_count_counts_neither_another_units_nor_another_months_requests(rwf: Workflow,
                                                                                   clock: Clock) -> None:
    """PIN. 109号 counts an applicant's requests to one organ in one calendar month: ten in September to gov, plus
    one to another township and one received on 31 August, leave the tenth September request free."""
    rwf.add_unit("g2", name="另一乡人民政府", by=ADMIN)
    rwf.grant("clerk", "handler", unit="g2", by=ADMIN)
    new_request(rwf, received_on=date(2026, 8, 31), description="八月的申请")
    new_request(rwf, unit="g2", description="另一乡的申请")
    ids = [new_request(rwf, description=f"第{n}项信息") for n in range(1, 11)]
    with pytest.raises(InvalidInput, match="nothing is due"):
        rwf.requests.charge(ids[-1], actor="clerk", on=RECEIVED, basis="by_count")


# -- privacy -------------------------------------------------------------------------------------------------------

def test_the_applicant_is_named_nowhere_but_their_record_and_is_gone_after_erasure(rwf: Workflow,
                                                                                 clock: Clock) -> None:
    """PIN. The applicant's name, phone and document are in no log line, error, event, deadline, stored letter or
    listing; after `erase` they are nowhere in the database, and a printed letter falls back to the stored one."""
    with captured_logs() as logs:
        rid = new_request(rwf)
        for bad in (Applicant(NAME, "natural", phone="x"), Applicant(NAME + "\x07", "natural", phone=PHONE),
                    Applicant(NAME, "natural", id_document=ID_DOC + "\u2028", phone=PHONE)):
            with pytest.raises(InvalidInput) as caught:
                new_request(rwf, applicant=bad)
            assert not [x for x in (NAME, PHONE, ID_DOC) if x in str(caught.value)], caught.value
        rwf.requests.consult(rid, actor="clerk", on=RECEIVED, party="third_party", consulted="第三方",
                             concern="个人隐私")
        rwf.requests.reply(rid, actor="clerk", type="partial.withheld", how="纸质复印件", ground="withheld.third_party",
                           reason="身份证号码属于个人隐私")
        clock.to(date(2026, 10, 9))
        review_and_send(rwf, rid)
    said = json.dumps([logs, [vars(r) for r in rwf.requests.requests()], [vars(d) for d in rwf.deadlines()]],
                      ensure_ascii=False, default=str)
    assert not [x for x in (NAME, PHONE, ID_DOC) if x in said]
    [letter] = [x for _, x in rwf.requests.letters(rid) if x["kind"] == "reply"]
    assert NAME in "".join(p.text for p in docx.Document(io.BytesIO(
        rwf.requests.printed(rid, letter["docx"]).content)).paragraphs)
    rwf.requests.erase(rid, actor="ohead")
    with rwf.engine.connect() as c:
        every = [list(r) for t in ("zwgk_event", "zwgk_deadline", "zwgk_applicant", "zwgk_request", "zwgk_case")
                 for r in c.execute(text(f"SELECT * FROM {t}"))]
        documents = [bytes(r[0]) for r in c.execute(text("SELECT content FROM zwgk_document"))]
    dumped = json.dumps(every, ensure_ascii=False, default=str)
    texts = [d.decode("utf-8", "replace") for d in documents] + [
        "".join(p.text for p in docx.Document(io.BytesIO(d)).paragraphs) for d in documents if d[:2] == b"PK"]
    assert not [x for x in (NAME, PHONE, ID_DOC) if x in dumped or any(x in t for t in texts)]
    assert rwf.requests.printed(rid, letter["docx"]).sha256 == letter["docx"]
    assert rwf.verify().ok


# -- letters -------------------------------------------------------------------------------------------------------

def test_request_facts_are_not_templates_and_markup_is_escaped(rwf: Workflow) -> None:
    """PIN. A description or a reason holding `{placeholders}` or markup is printed as typed: never filled in again
    (no template injection), escaped in the HTML, plain text in the DOCX."""
    tricky = "低保{reason}{office}<script>alert(1)</script>]]><w:p/>"
    rid = new_request(rwf, description=tricky)
    rwf.requests.reply(rid, actor="clerk", type="withheld.process_info", reason="理由{description}")
    review_and_send(rwf, rid)
    [letter] = [x for _, x in rwf.requests.letters(rid) if x["kind"] == "reply"]
    html = rwf.requests.document(letter["html"]).content.decode()
    assert "<script>" not in html and "&lt;script&gt;" in html and "低保{reason}{office}" in html
    words = "".join(p.text for p in docx.Document(io.BytesIO(
        rwf.requests.document(letter["docx"]).content)).paragraphs)
    assert tricky in words and "理由{description}" in words


def test_intake_refuses_what_no_letter_can_print(rwf: Workflow) -> None:
    """FINDING (medium). Intake checks text with `workflow.text` (controls, line separators), the letters with a
    stricter rule (also bidirectional overrides, U+202A-U+202E, U+2066-U+2069: a printed letter must read as
    stored). A description or an address pasted with a U+202E is accepted, and then no 补正 notice, no extension
    and no reply can be made for that request (each fails "holds a character a letter cannot print") and no letter
    can be printed for that applicant: found only when the clock is already running. Intake should refuse what
    letters refuse."""
    with pytest.raises(InvalidInput):
        new_request(rwf, description="低保\u202e明细")
    with pytest.raises(InvalidInput):
        new_request(rwf, applicant=Applicant("李四", "natural", phone=PHONE, address="平田村\u202e1号"))


# -- the admin script ----------------------------------------------------------------------------------------------

@pytest.fixture
def cli_db(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = cli_world(capsys, tmp_path, monkeypatch)
    ok(capsys, "unit", "add", "v1", "--name", "平田村委会", "--kind", "village", "--as", ADMIN)
    return db


APPLICANT = ("--applicant-name", NAME, "--applicant-type", "natural", "--phone", PHONE)
BAD = {
    "fee by count with pages": ("fee", "R", "--on", "2026-09-28", "--basis", "by_count", "--pages", "50", "--as",
                                "clerk"),
    "negative pages": ("fee", "R", "--on", "2026-09-28", "--basis", "by_quantity", "--pages", "-5", "--as", "clerk"),
    "extension by the handler": ("extend", "R", "--on", "2026-09-28", "--days", "5", "--reason", "多", "--as",
                                 "clerk"),
    "period before the due day": ("period", "R", "--on", "2026-09-28", "--due-on", "2026-10-01", "--reason", "多",
                                  "--as", "ohead"),
    "correct by before the notice": ("correction", "R", "--on", "2026-09-28", "--item", "年度", "--correct-by",
                                     "2026-09-27", "--as", "clerk"),
    "corrected without a notice": ("corrected", "R", "--on", "2026-09-28", "--as", "clerk"),
    "a step dated tomorrow": ("consult", "R", "--on", "2026-09-29", "--party", "other_office", "--consulted",
                              "县民政局", "--as", "clerk"),
    "letter to a missing folder": ("letter", "R", "0" * 64, "--out", "/nonexistent/dir/x.docx"),
    "a village receives": ("new", "--unit", "v1", "--via", "post", *APPLICANT, "--description", "x", "--as",
                           "clerk"),
    "an impossible receipt day": ("new", "--unit", "gov", "--via", "post", "--received-on", "2026-02-30",
                                  *APPLICANT, "--description", "x", "--as", "clerk"),
    "a bad e-mail": ("new", "--unit", "gov", "--via", "post", "--applicant-name", NAME, "--applicant-type",
                     "natural", "--email", f"{NAME}@", "--description", "x", "--as", "clerk"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_through_the_cli_is_one_line_exit_2_and_writes_nothing(capsys: pytest.CaptureFixture[str],
                                                                         cli_db: Path, case: str) -> None:
    """PIN. Each bad input is one line on stderr that names no applicant, exit code 2, and the database as it was."""
    rid = ok_json(capsys, "request", "new", "--unit", "gov", "--via", "in_person", *APPLICANT, "--description",
                  DESCRIPTION, "--as", "clerk")["id"]
    before = snapshot(cli_db)
    rc, _, err = run(capsys, "request", *[rid if a == "R" else a for a in BAD[case]])
    line = one_error_line("\n".join(x for x in err.splitlines() if "calendar_year_unknown" not in x) + "\n")
    assert rc == 2 and NAME not in line and PHONE not in line
    assert snapshot(cli_db) == before


# -- what an auditor reads afterwards ------------------------------------------------------------------------------

def test_a_late_reply_stays_visible_as_late(rwf: Workflow, clock: Clock) -> None:
    """FINDING (low). A reply sent after its due day closes the request's deadline as "met", and the request's own
    view drops its due day (`due_on` None once replied): `zwgk request show` and `list` cannot tell a reply sent on
    time from one a week late (逾期答复), the first thing a 行政复议 of the reply and the supervision of Arts. 49-50
    ask. The view should keep the due day the reply was held to (or a `late` flag)."""
    rid = new_request(rwf)
    rwf.requests.reply(rid, actor="clerk", type="disclosed.provided", how="电子邮件发送")
    clock.to(date(2026, 11, 5))
    review_and_send(rwf, rid)
    assert rwf.requests.request(rid).due_on == DUE


def test_a_review_learned_of_late_is_recorded_with_the_day_it_was_filed(rwf: Workflow, clock: Clock) -> None:
    """FINDING (low). Every step must state a day no earlier than the steps before it, a review included; but an
    office learns of a 行政诉讼 when the court serves it, often after it has recorded a later fact (here the outcome
    of a 行政复议). The lawsuit filed on 10 Nov, served after the outcome recorded on 20 Nov, cannot be entered with
    its filing day, so the annual report's table of 复议/诉讼 is kept with a wrong day or not at all."""
    rid = new_request(rwf)
    rwf.requests.reply(rid, actor="clerk", type="withheld.process_info", reason="属于内部讨论记录")
    review_and_send(rwf, rid)
    clock.to(date(2026, 11, 20))
    rwf.requests.review(rid, actor="ohead", on=date(2026, 10, 12), kind="reconsideration")
    rwf.requests.review_outcome(rid, actor="ohead", on=date(2026, 11, 20), n=1, outcome="upheld")
    clock.to(date(2026, 11, 25))
    rwf.requests.review(rid, actor="ohead", on=date(2026, 11, 10), kind="lawsuit")
    assert [v["filed_on"] for v in rwf.requests.request(rid).reviews] == [date(2026, 10, 12), date(2026, 11, 10)]
