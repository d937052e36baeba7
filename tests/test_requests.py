"""Requests for government information (依申请公开) through the API: intake, the clock's steps, the reply through its
review, the letters, verify, privacy. The clock's arithmetic alone is in tests/test_request_clock.py."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import docx
import pytest
from playwright.sync_api import Browser
from sqlalchemy import text

from states import Refused
from tests.requesting import NAME, PHONE, TZ, WHO, Clock, new_request, review_and_send
from workflow import Workflow
from workflow.errors import InvalidInput, NotFound
from workflow.requests import Applicant
from workflow.workdays import WorkCalendar

from .conftest import ADMIN

CAL = WorkCalendar()


def test_a_request_is_numbered_and_due_twenty_working_days_after_receipt(rwf: Workflow) -> None:
    r = rwf.requests.request(new_request(rwf))
    assert r.id == "gov-R2026-000001"
    assert (r.received_on, r.due_on, r.status, r.state) == (date(2026, 9, 28), date(2026, 10, 30), "running",
                                                             "handling")
    assert rwf.requests.request(new_request(rwf)).id == "gov-R2026-000002"
    [dl] = [d for d in rwf.deadlines() if d.kind == "request" and d.key.startswith(f"request:{r.id}:")]
    assert dl.due_on == date(2026, 10, 30)
    assert NAME not in dl.title


def test_only_an_administrative_organ_receives_requests(rwf: Workflow) -> None:
    rwf.add_unit("v1", name="平田村委会", kind="village", by=ADMIN)
    with pytest.raises(InvalidInput, match="no administrative organ"):
        new_request(rwf, unit="v1")


def test_a_receipt_date_in_the_future_and_bad_applicants_are_refused_without_naming_them(rwf: Workflow) -> None:
    with pytest.raises(InvalidInput, match="cannot be in the future"):
        new_request(rwf, received_on=date(2026, 9, 29))
    for bad in (Applicant(NAME, "natural"), Applicant(NAME, "natural", email="not-an-address"),
                Applicant(NAME, "alien", phone=PHONE), Applicant(" ", "natural", phone=PHONE)):
        with pytest.raises(InvalidInput) as caught:
            new_request(rwf, applicant=bad)
        assert NAME not in str(caught.value) and "not-an-address" not in str(caught.value)


def test_correction_restarts_the_clock_and_extension_consultation_fee_move_it(rwf: Workflow, clock: Clock) -> None:
    rid = new_request(rwf)
    clock.to(date(2026, 9, 30))
    rwf.requests.ask_correction(rid, actor="clerk", on=date(2026, 9, 30), correct_by=date(2026, 10, 16),
                                items=["请写明所需信息的年度和村别"])
    assert (rwf.requests.request(rid).status, rwf.requests.request(rid).due_on) == ("awaiting_correction", None)
    with pytest.raises(Refused, match="once only"):
        rwf.requests.ask_correction(rid, actor="clerk", on=date(2026, 9, 30), correct_by=date(2026, 10, 16),
                                    items=["again"])
    clock.to(date(2026, 10, 12))
    rwf.requests.corrected(rid, actor="clerk", on=date(2026, 10, 12))
    rwf.requests.revise(rid, actor="clerk", description="2025年平田村低保资金发放明细")
    # 20 working days after Mon 12 Oct 2026: Mon 9 Nov
    assert rwf.requests.request(rid).due_on == CAL.add_working_days(date(2026, 10, 12), 20).day == date(2026, 11, 9)
    clock.to(date(2026, 10, 14))
    rwf.requests.consult(rid, actor="clerk", on=date(2026, 10, 14), party="third_party", consulted="第三方",
                        concern="个人隐私")
    assert rwf.requests.request(rid).due_on == CAL.add_working_days(date(2026, 11, 9), 15).day
    clock.to(date(2026, 10, 19))
    rwf.requests.consulted(rid, actor="clerk", on=date(2026, 10, 19), party="third_party")  # 3 working days stopped
    assert rwf.requests.request(rid).due_on == CAL.add_working_days(date(2026, 11, 9), 3).day == date(2026, 11, 12)
    with pytest.raises(Refused, match="disclosure_office_head"):
        rwf.requests.extend(rid, actor="clerk", on=date(2026, 10, 19), days=10, reason="需调取档案")
    rwf.requests.extend(rid, actor="ohead", on=date(2026, 10, 19), days=10, reason="需调取档案")
    assert rwf.requests.request(rid).due_on == CAL.add_working_days(date(2026, 11, 12), 10).day
    clock.to(date(2026, 10, 20))
    rwf.requests.charge(rid, actor="clerk", on=date(2026, 10, 20), basis="by_quantity", pages=50)
    assert rwf.requests.request(rid).status == "awaiting_fee"
    clock.to(date(2026, 10, 23))
    rwf.requests.paid(rid, actor="clerk", on=date(2026, 10, 23))  # 3 working days waited for the fee
    assert rwf.requests.request(rid).due_on == CAL.add_working_days(date(2026, 11, 12), 13).day
    letters = rwf.requests.letters(rid)
    assert [(s.action, x["kind"]) for s, x in letters] == [
        ("correct_notice", "correction"), ("consult", "consultation"), ("consult", "consultation_notice"),
        ("extend", "extension"), ("fee_notice", "fee")]
    fee = next(s for s, _ in letters if s.action == "fee_notice")
    assert (fee.data["amount"], fee.data["pages"]) == (200, 50)  # pages 31-50 at 10 yuan
    assert rwf.verify().ok, rwf.verify().problems


def test_a_reply_goes_through_review_and_its_letter_states_the_remedies(rwf: Workflow, clock: Clock) -> None:
    rid = new_request(rwf)
    with pytest.raises(InvalidInput, match="draft its reply first"):
        rwf.requests.advance(rid, "submit", actor="clerk")
    with pytest.raises(InvalidInput, match="states its"):
        rwf.requests.reply(rid, actor="clerk", type="partial.withheld", how="纸质复印件")
    rwf.requests.reply(rid, actor="clerk", type="partial.withheld", how="纸质复印件，当面领取",
                       ground="withheld.third_party", reason="名单中的身份证号码和银行账号属于个人隐私")
    clock.to(date(2026, 10, 9))
    review_and_send(rwf, rid)
    r = rwf.requests.request(rid)
    assert (r.state, r.status, r.due_on, r.late) == ("replied", "replied", date(2026, 10, 30), False)
    [(sent, docs)] = [(s, d) for s, d in rwf.requests.letters(rid) if s.action == "send"]
    assert sent.data["reply"] == "partial.withheld"
    stored = rwf.requests.document(docs["docx"])
    text_of = "\n".join(p.text for p in docx.Document(io.BytesIO(stored.content)).paragraphs)
    assert "行政复议" in text_of and rid in text_of and NAME not in text_of
    printed = rwf.requests.printed(rid, docs["docx"])
    assert NAME in "\n".join(p.text for p in docx.Document(io.BytesIO(printed.content)).paragraphs)
    assert not [d for d in rwf.deadlines() if d.key.startswith(f"request:{rid}:") and d.status in ("open",
                                                                                                   "overdue")]
    report = rwf.verify()
    assert report.ok, report.problems


def test_the_reply_letter_renders_in_a_browser_stored_and_printed(rwf: Workflow, browser: Browser) -> None:
    rid = new_request(rwf)
    rwf.requests.reply(rid, actor="clerk", type="unavailable.not_ours", reason="该信息由县民政局制作并保存",
                       other_office="元谋县民政局（电话 0878-0000000）")
    review_and_send(rwf, rid)
    [(_, letter)] = rwf.requests.letters(rid)
    page = browser.new_page()
    try:
        page.set_content(rwf.requests.document(letter["html"]).content.decode())
        stored = page.inner_text("body")
        page.set_content(rwf.requests.printed(rid, letter["html"]).content.decode())
        printed = page.inner_text("body")
    finally:
        page.close()
    assert "元谋县民政局" in stored and rid in stored and "行政诉讼" in stored and NAME not in stored
    assert NAME in printed


def test_a_lapsed_correction_closes_only_as_lapsed_and_only_after_its_day(rwf: Workflow, clock: Clock) -> None:
    rid = new_request(rwf)
    rwf.requests.ask_correction(rid, actor="clerk", on=date(2026, 9, 28), correct_by=date(2026, 10, 16),
                                items=["请写明年度"])
    rwf.requests.reply(rid, actor="clerk", type="other.not_corrected")
    with pytest.raises(Refused, match="until 2026-10-16"):
        rwf.requests.advance(rid, "submit", actor="clerk")
    clock.to(date(2026, 10, 19))
    with pytest.raises(Refused, match="lapsed"):
        rwf.requests.corrected(rid, actor="clerk", on=date(2026, 10, 19))
    review_and_send(rwf, rid)
    assert rwf.requests.request(rid).state == "replied"
    assert rwf.verify().ok


def test_the_applicant_is_off_the_chain_and_erasable(rwf: Workflow, clock: Clock) -> None:
    rid = new_request(rwf)
    with pytest.raises(Refused, match="cannot 'erase'"):
        rwf.requests.erase(rid, actor="ohead")
    rwf.requests.reply(rid, actor="clerk", type="disclosed.provided", how="电子邮件发送")
    review_and_send(rwf, rid)
    with rwf.engine.connect() as c:
        events = json.dumps([list(r) for r in c.execute(text("SELECT * FROM zwgk_event"))], ensure_ascii=False,
                            default=str)
        deadlines = json.dumps([list(r) for r in c.execute(text("SELECT * FROM zwgk_deadline"))],
                               ensure_ascii=False, default=str)
    assert NAME not in events and PHONE not in events and NAME not in deadlines
    assert rwf.requests.request(rid, applicant=True).applicant == WHO
    assert rwf.requests.request(rid).applicant is None  # a listing's view never names them
    rwf.requests.erase(rid, actor="ohead")
    assert rwf.requests.request(rid, applicant=True).applicant is None
    assert rwf.requests.request(rid).erased
    with rwf.engine.connect() as c:
        rows = [list(r) for r in c.execute(text("SELECT salt, identity, key FROM zwgk_applicant"))]
    assert rows == [[None, None, None]]
    assert rwf.verify().ok, rwf.verify().problems


def test_verify_catches_an_altered_applicant_letter_or_request(rwf: Workflow) -> None:
    new_request(rwf)
    assert rwf.verify().ok
    with rwf.engine.begin() as c:
        c.execute(text("UPDATE zwgk_applicant SET identity = replace(identity, '张三丰', '李四')"))
    assert any("not the one its signatures commit to" in p for p in rwf.verify().problems)
    with rwf.engine.begin() as c:
        c.execute(text("UPDATE zwgk_applicant SET identity = replace(identity, '李四', '张三丰')"))
        c.execute(text("UPDATE zwgk_request SET description = '别的信息'"))
    assert any("content differs" in p for p in rwf.verify().problems)
    with rwf.engine.begin() as c:
        c.execute(text("UPDATE zwgk_request SET description = '2025年平田乡低保资金发放明细'"))
        c.execute(text("UPDATE zwgk_applicant SET salt = NULL, identity = NULL, key = NULL, erased_at = 'x'"))
    assert any("erased without a signed erasure" in p for p in rwf.verify().problems)


def test_documents_are_written_once(rwf: Workflow) -> None:
    rid = new_request(rwf)
    rwf.requests.ask_correction(rid, actor="clerk", on=date(2026, 9, 28), correct_by=date(2026, 10, 16),
                                items=["请写明年度"])
    with pytest.raises(Exception, match="append-only"), rwf.engine.begin() as c:
        c.execute(text("UPDATE zwgk_document SET content = :x"), {"x": b"forged"})


def test_fee_by_count_is_by_the_applicants_requests_of_the_month(rwf: Workflow) -> None:
    ids = [new_request(rwf, description=f"第{n}项信息") for n in range(1, 12)]
    with pytest.raises(InvalidInput, match="nothing is due"):
        rwf.requests.charge(ids[9], actor="clerk", on=date(2026, 9, 28), basis="by_count")
    rwf.requests.charge(ids[10], actor="clerk", on=date(2026, 9, 28), basis="by_count")
    [(s, _)] = rwf.requests.letters(ids[10])
    assert (s.data["amount"], s.data["count"]) == (100, 11)
    other = Applicant("另一人", "business", id_document="91530328MA6K000000", phone="13800000000")
    solo = new_request(rwf, applicant=other)
    with pytest.raises(InvalidInput, match="nothing is due"):
        rwf.requests.charge(solo, actor="clerk", on=date(2026, 9, 28), basis="by_count")


def test_reviews_of_a_reply_are_recorded_with_their_outcome(rwf: Workflow, clock: Clock) -> None:
    rid = new_request(rwf)
    rwf.requests.reply(rid, actor="clerk", type="withheld.process_info", reason="属于内部讨论记录")
    review_and_send(rwf, rid)
    clock.to(date(2026, 11, 2))
    rwf.requests.review(rid, actor="ohead", on=date(2026, 11, 2), kind="reconsideration")
    with pytest.raises(Refused, match="still pending"):
        rwf.requests.review_outcome(rid, actor="ohead", on=date(2026, 11, 2), n=2, outcome="upheld")
    rwf.requests.review_outcome(rid, actor="ohead", on=date(2026, 11, 2), n=1, outcome="upheld")
    assert rwf.requests.request(rid).reviews == ({"kind": "reconsideration", "filed_on": date(2026, 11, 2),
                                                  "outcome": "upheld"},)
    assert rwf.verify().ok


def test_a_request_unknown_or_of_the_wrong_kind_is_not_found(rwf: Workflow) -> None:
    with pytest.raises(NotFound):
        rwf.requests.request("gov-R2026-000099")
    with pytest.raises(InvalidInput, match="step of the clock"):
        rwf.requests.advance(new_request(rwf), "extend", actor="ohead")


def test_the_clock_is_the_office_day_not_utc(rwf: Workflow, clock: Clock) -> None:
    rid = new_request(rwf)
    clock.now = datetime(2026, 9, 29, 7, 30, tzinfo=TZ).astimezone(UTC)  # 23:30 UTC on the 28th
    assert clock.now.date() == date(2026, 9, 28)  # UTC; at the office it is the 29th
    rwf.requests.consult(rid, actor="clerk", on=date(2026, 9, 29), party="other_office", consulted="县民政局")
    assert rwf.requests.request(rid).status == "consulting"


def test_information_several_applicants_ask_for_is_proposed_as_an_item_linked_both_ways(rwf: Workflow) -> None:
    first = new_request(rwf)
    second = new_request(rwf, applicant=Applicant("李四", "natural", phone="13800000001"),
                         description="请公开平田乡2025年度低保资金发放明细")
    unrelated = new_request(rwf, description="村道硬化工程招标文件")
    assert [rid for rid, _ in rwf.requests.same_information(second)] == [first]
    assert rwf.requests.same_information(unrelated) == []
    with pytest.raises(InvalidInput, match="at least two"):
        rwf.requests.propose_item([first], drafter="clerk", title="2025年低保资金发放情况", category="2")
    item = rwf.requests.propose_item([first, second], drafter="clerk", title="2025年低保资金发放情况", category="2")
    [created] = rwf.history(item.id)
    assert created.data["requests"] == sorted([first, second])
    assert rwf.requests.request(first).proposed == (item.id,) == rwf.requests.request(second).proposed
    assert rwf.verify().ok, rwf.verify().problems


def test_a_backup_carries_the_letters_and_verifies(swf: Workflow, tmp_path: Path) -> None:
    from workflow.backup import backup

    swf.grant("clerk", "handler", unit="gov", by=ADMIN)
    rid = new_request(swf)
    swf.requests.ask_correction(rid, actor="clerk", on=swf.today(), items=["请写明年度"])
    [(_, letter)] = swf.requests.letters(rid)
    source = Path(str(swf.engine.url.database))
    report = backup(source, tmp_path / "copy.db", swf.config)
    assert report.ok, report.problems
    with Workflow(f"sqlite:///{tmp_path / 'copy.db'}") as copy:
        assert copy.requests.document(letter["docx"]).intact
        assert copy.verify().ok
