"""The letters (告知书) of a request for government information: every kind and every reply composes, states its facts,
its legal basis and the right remedy; the .docx read back with python-docx, the HTML rendered by Chromium (Debian's,
driven by Playwright) and printed to PDF; the stored copy names no one; offices' templates; the catalogue; and the
documents the letters are stored as, on SQLite and PostgreSQL.

The browser tests skip with one line when /usr/bin/chromium is missing, unless ZWGK_REQUIRE_BROWSER is set (as in CI).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from playwright.sync_api import Page
from sqlalchemy import text

from states.replies import REMEDIES, REPLIES, REPORT_ROWS, TYPES
from workflow import Workflow, documents
from workflow.errors import InvalidInput, NotFound
from workflow.letters import KINDS, Composed, Letter, compose, to_docx, to_html
from workflow.letters.kinds import COUNT, DATE, FACTS, ITEMS, TEXT

REQUIRE_BROWSER = bool(os.environ.get("ZWGK_REQUIRE_BROWSER"))
OFFICE = "平田乡人民政府"
NUMBER = "gov-R2026-000003"
RECEIVED, ISSUED = date(2026, 9, 28), date(2026, 9, 30)
ADDRESSEE = "张三（云南省元谋县平田乡平田村委会）"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

DATES = {"correct_by": date(2026, 10, 16), "original_due": date(2026, 10, 26), "new_due": date(2026, 11, 23),
         "consulted_on": date(2026, 9, 30), "pay_by": date(2026, 10, 30), "notice_on": date(2026, 9, 29)}


def sample(kind: str, key: str) -> dict[str, Any]:
    """Facts for one variant of a kind: each text a marker that names its fact, so a test can look for it."""
    k = KINDS[kind]
    v = k.variants[key]
    facts: dict[str, Any] = dict(zip(k.selectors, key.split("."), strict=True)) if k.selectors else {}
    for name in sorted(k.facts_of(v) | k.optional_of(v)):
        if name in facts:
            continue
        kind_of = FACTS[name]
        if kind_of == TEXT:
            facts[name] = f"〔{name}示例〕"
        elif kind_of == DATE:
            facts[name] = DATES[name]
        elif kind_of == ITEMS:
            facts[name] = ["〔补正事项一〕", "〔补正事项二〕"]
        elif kind_of == COUNT:
            facts[name] = {"days": 15, "count": 12, "pages": 120}.get(name, 0)
        elif name == "ground":
            facts[name] = "withheld.third_party"
    if kind == "fee":
        facts["amount"] = 1100 if key == "by_quantity" else 200
    return facts


VARIANTS = [(kind, key) for kind, k in KINDS.items() for key in k.variants]


def letter(kind: str, key: str = "", **facts: Any) -> Letter:
    return Letter(kind, OFFICE, NUMBER, RECEIVED, ISSUED, {**sample(kind, key), **facts})


def docx_text(content: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)


def facts_said(kind: str, key: str) -> list[str]:
    """What the letter must say of its sample facts."""
    said = []
    for name, value in sample(kind, key).items():
        if FACTS[name] == TEXT:
            said.append(value)
        elif FACTS[name] == ITEMS:
            said += [f"（{n}）{item}" for n, item in zip("一二", value, strict=True)]
        elif FACTS[name] == DATE:
            said.append(f"{value.year}年{value.month}月{value.day}日")
    if kind == "reply" and "ground" in sample(kind, key):
        said.append("保护第三方合法权益")
    return said


def assert_remedy(kind: str, key: str, body: str) -> None:
    """A reply states the remedy the catalogue gives it; the other letters state none."""
    if kind != "reply":
        assert "行政复议" not in body and "行政诉讼" not in body
        return
    remedy = REPLIES[key].remedy.code
    assert REMEDIES[remedy].basis in body
    either = "6个月内" in body
    first = "应当先" in body and "收到行政复议决定书之日起15日内" in body
    assert (either, first) == {"either": (True, False), "review_first": (False, True), "partial": (True, True)}[remedy]
    assert "60日内" in body


# -- composing, and the .docx ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "key"), VARIANTS)
def test_every_letter_states_its_facts_basis_and_remedy_in_the_docx(kind: str, key: str) -> None:
    composed = compose(letter(kind, key))
    stored = docx_text(to_docx(composed))
    for said in [composed.title, f"申请编号：{NUMBER}", composed.basis, *facts_said(kind, key), OFFICE,
                 "2026年9月30日", "（印章）"]:
        assert said in stored, said
    assert_remedy(kind, key, stored)
    lines = stored.split("\n")
    assert lines[-3:] == [OFFICE, "2026年9月30日", "（印章）"]  # the signature block closes every letter
    assert ADDRESSEE not in stored
    to = "申请人：" if KINDS[kind].to_applicant else "〔consulted示例〕："
    assert to in lines
    printed = docx_text(to_docx(composed, ADDRESSEE))
    assert f"{ADDRESSEE}：" in printed.split("\n") and to not in printed.split("\n")
    assert printed.replace(ADDRESSEE, to[:-1]) == stored  # the addressee is the only difference


def test_the_legal_basis_of_each_letter() -> None:
    reg = "《中华人民共和国政府信息公开条例》"
    assert compose(letter("correction")).basis == f"{reg}第三十条"
    assert compose(letter("extension")).basis == f"{reg}第三十三条第一款"
    assert compose(letter("consultation", "third_party")).basis == f"{reg}第三十二条"
    assert compose(letter("consultation", "other_office")).basis == f"{reg}第三十四条"
    assert compose(letter("consultation_notice", "third_party")).basis == f"{reg}第三十二条、第三十三条第二款"
    assert "第四十二条" in compose(letter("fee", "by_count")).basis
    assert compose(letter("fee", "by_quantity")).basis.endswith("（国办函〔2020〕109号）第三条、第五条")
    assert compose(letter("reply", "withheld.state_secret")).basis == f"{reg}第十四条、第三十六条第（三）项"
    assert compose(letter("reply", "unavailable.not_ours")).basis == f"{reg}第三十六条第（五）项"
    # a partial disclosure rests on Art. 37 and on the ground of what it withholds
    partial = compose(letter("reply", "partial.withheld", ground="withheld.process_info"))
    assert partial.basis == f"{reg}第十六条第二款、第三十六条第（三）项、第三十七条"
    assert "（属于四类过程性信息）" in "".join(partial.paragraphs)
    # "其他" has no basis in the catalogue: the office states it
    assert compose(letter("reply", "other.other", law="《某某法》第十条")).basis == "《某某法》第十条"


def test_a_refusal_goes_to_review_first_and_the_rest_may_go_to_court() -> None:
    for code, reply in REPLIES.items():
        expected = {"withheld": "review_first", "partial": "partial" if code == "partial.withheld" else "either"}
        assert reply.remedy.code == expected.get(reply.type.code, "either"), code
    withheld = compose(letter("reply", "withheld.process_info"))
    assert "《中华人民共和国行政复议法》第二十条和第二十三条第一款第（四）项" in withheld.remedies[0]
    assert "《中华人民共和国行政诉讼法》第四十五条" in withheld.remedies[0]
    named = compose(letter("reply", "refused.repeat", review_body="元谋县人民政府", court="元谋县人民法院"))
    assert named.remedies == ("如对本答复不服，你（单位）可以自收到本答复书之日起60日内向元谋县人民政府申请行政复议，"
                              "也可以自收到本答复书之日起6个月内向元谋县人民法院提起行政诉讼（《中华人民共和国政府信息公开"
                              "条例》第五十一条、《中华人民共和国行政复议法》第二十条、《中华人民共和国行政诉讼法》第四十六条）。",)


def test_the_correction_notice_says_what_the_law_says() -> None:
    body = "\n".join(compose(letter("correction")).paragraphs)
    assert "一次性告知" in body
    assert "答复期限自本机关收到补正后的申请之日起重新计算" in body
    assert "无正当理由逾期不补正的，视为放弃申请，本机关不再处理该政府信息公开申请" in body
    assert "\n（一）〔补正事项一〕\n（二）〔补正事项二〕\n" in body  # one numbered paragraph per item


def test_the_extension_says_who_approved_it_and_its_reason_only_when_given() -> None:
    with_reason = "\n".join(compose(letter("extension")).paragraphs)
    assert "经〔approved_by_title示例〕同意，答复期限延长15个工作日" in with_reason
    assert "延期理由：〔reason示例〕" in with_reason
    without = compose(letter("extension", reason=None))
    assert not any("延期理由" in p for p in without.paragraphs)


def test_a_consultation_never_names_the_applicant_and_its_notice_never_names_the_party() -> None:
    consultation = compose(letter("consultation", "third_party"))
    assert consultation.to == "〔consulted示例〕"
    assert "15个工作日内" in "".join(consultation.paragraphs) and "申请人" not in "".join(consultation.paragraphs)
    assert "逾期未提出意见的，视为同意公开" in "".join(compose(letter("consultation", "other_office")).paragraphs)
    notice = compose(letter("consultation_notice", "third_party"))
    assert "不计算在答复期限内" in "".join(notice.paragraphs) and notice.to == "申请人"
    with pytest.raises(InvalidInput, match="no fact 'consulted' in this letter"):
        compose(letter("consultation_notice", "third_party", consulted="某某有限公司"))


def test_a_fee_states_the_rates_it_was_counted_at() -> None:
    with pytest.raises(InvalidInput, match="an amount above 0"):
        compose(letter("fee", "by_quantity", amount=0))
    national = "\n".join(compose(letter("fee", "by_quantity", standard=None)).paragraphs)
    assert "31—100页（含100页）的部分，10元/页" in national
    own = "\n".join(compose(letter("fee", "by_quantity", standard="31页以上的部分，5元/页")).paragraphs)
    assert "31页以上的部分，5元/页" in own and "10元/页" not in own
    body = "\n".join(compose(letter("fee", "by_count")).paragraphs)
    assert "按件计收" in body and "200元" in body and "缴纳方式：〔payment示例〕" in body
    assert "逾期未缴纳的，视为放弃申请" in body


@pytest.mark.parametrize(("facts", "message"), [
    ({"kind": "letter"}, "no letter kind 'letter'"),
    ({"facts": {"items": ["x"], "correct_by": date(2026, 10, 16)}}, "letter correction (-): no fact 'description'"),
    ({"facts": {**sample("correction", ""), "corect_by": 1}}, "no fact 'corect_by' in this letter"),
    ({"facts": {**sample("correction", ""), "items": "x"}}, "items must be a list of one or more texts"),
    ({"facts": {**sample("correction", ""), "correct_by": "2026-10-16"}}, "correct_by must be a date"),
    ({"facts": {**sample("correction", ""), "correct_by": ISSUED}}, "correct_by must come after the letter's date"),
    ({"kind": "extension", "facts": {**sample("extension", ""), "days": 21}}, "1 to 20 working days"),
    ({"kind": "reply", "facts": {**sample("reply", "withheld.state_secret"), "subtype": "secret"}},
     "no variant 'withheld.secret' of reply_type+subtype"),
    ({"kind": "reply", "facts": {**sample("reply", "partial.withheld"), "ground": "refused.repeat"}},
     "ground must be a withheld.* reply"),
    ({"issued_on": date(2026, 9, 1)}, "cannot be issued before its request was received"),
])
def test_wrong_facts_are_refused_with_one_line(facts: dict[str, Any], message: str) -> None:
    fields = {"kind": "correction", "office": OFFICE, "number": NUMBER, "received_on": RECEIVED,
              "issued_on": ISSUED, "facts": sample("correction", "")} | facts
    with pytest.raises(InvalidInput, match=re.escape(message)) as caught:
        compose(Letter(**fields))
    assert "\n" not in str(caught.value)


def test_an_error_never_quotes_what_may_name_a_person() -> None:
    secret = "李四 13800000000"
    for facts in ({"description": f"{secret}\x1b[2J"}, {"description": f"{secret}\u202e"}):
        with pytest.raises(InvalidInput) as caught:
            compose(letter("correction", **facts))
        assert secret not in str(caught.value) and "description" in str(caught.value)
    composed = compose(letter("correction"))
    with pytest.raises(InvalidInput) as caught:
        to_docx(composed, f"{secret}\n云南省")
    assert secret not in str(caught.value) and "addressee" in str(caught.value)


def test_the_same_letter_gives_the_same_bytes() -> None:
    composed = compose(letter("reply", "disclosed.provided"))
    assert to_docx(composed) == to_docx(compose(letter("reply", "disclosed.provided")))
    assert to_html(composed) == to_html(composed)
    props = docx.Document(io.BytesIO(to_docx(composed))).core_properties
    assert (props.title, props.author) == ("政府信息公开申请答复书", OFFICE)


# -- offices' templates ------------------------------------------------------------------------------------------

OWN_CORRECTION = """
title = "补正通知（{office}）"
paragraphs = ["依据{basis}，请补正：", "{items}", "截止{correct_by}。"]
"""


def test_an_office_template_wins_over_the_built_in_one(tmp_path: Path) -> None:
    (tmp_path / "correction.toml").write_text(OWN_CORRECTION, encoding="utf-8")
    own = compose(letter("correction"), templates=tmp_path)
    assert own.title == f"补正通知（{OFFICE}）"
    assert own.paragraphs == ("依据《中华人民共和国政府信息公开条例》第三十条，请补正：", "（一）〔补正事项一〕",
                              "（二）〔补正事项二〕", "截止2026年10月16日。")
    # the kinds the office did not write keep the built-in wording
    assert compose(letter("extension"), templates=tmp_path) == compose(letter("extension"))


BROKEN = {
    "toml": ('title = "x"\nparagraphs = ["{basis}"', "correction.toml: "),
    "no title": ('paragraphs = ["{basis}"]', "no title"),
    "attribute": ('title = "x"\nparagraphs = ["{basis}{description.__class__}"]',
                  "paragraphs 1: '{description.__class__}' is not a plain {name} placeholder"),
    "index": ('title = "x"\nparagraphs = ["{basis}{items[0]}"]', "'{items[0]}' is not a plain {name} placeholder"),
    "conversion": ('title = "x"\nparagraphs = ["{basis!r}"]', "'{basis!r}' is not a plain {name} placeholder"),
    "positional": ('title = "x"\nparagraphs = ["{basis}{}"]', "'{}' is not a plain {name} placeholder"),
    "unknown field": ('title = "x"\nparagraphs = ["{basis}{applicant}"]', "unknown field 'applicant'"),
    "lone brace": ('title = "x"\nparagraphs = ["{basis} }"]', "paragraphs 1: Single '}'"),
    "no basis": ('title = "x"\nparagraphs = ["{description}"]', "never states the legal basis ({basis})"),
    "unknown key": ('title = "x"\nparagraphs = ["{basis}"]\nfooter = 1', "unknown key 'footer'"),
    "empty table": ('title = "x"\nparagraphs = ["{basis}"]\n[footer]', "unknown key 'footer'"),
    "bad when": ('title = "x"\nparagraphs = ["{basis}", { when = "items", text = "{items}" }]',
                 "a table paragraph is { when"),
    "nul": ('title = "x\\u0000"\nparagraphs = ["{basis}"]', "title holds a character a letter cannot print (U+0000)"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_office_template_is_one_clear_error_naming_the_file(tmp_path: Path, case: str) -> None:
    content, message = BROKEN[case]
    path = tmp_path / "correction.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        compose(letter("correction"), templates=tmp_path)
    said = str(caught.value)
    assert said.startswith(f"letter template {path}: ") and message in said and "\n" not in said, said


def test_a_broken_reply_template_names_the_variant_or_remedy(tmp_path: Path) -> None:
    builtin = (Path(__file__).parent.parent / "workflow" / "letters" / "templates" / "reply.toml").read_text("utf-8")
    (tmp_path / "reply.toml").write_text(builtin.replace("[withheld.inquiry]", "[withheld.enquiry]"), "utf-8")
    with pytest.raises(InvalidInput, match=re.escape("[withheld.enquiry] is not a variant of this letter")):
        compose(letter("reply", "disclosed.provided"), templates=tmp_path)
    (tmp_path / "reply.toml").write_text(builtin.split("\n[remedies]\n")[0], "utf-8")
    with pytest.raises(InvalidInput, match=re.escape("no [remedies] table")):
        compose(letter("reply", "disclosed.provided"), templates=tmp_path)
    (tmp_path / "reply.toml").write_text(builtin.replace("（{remedy_basis}）", ""), "utf-8")
    with pytest.raises(InvalidInput, match=re.escape("[remedies] either never states its legal basis")):
        compose(letter("reply", "disclosed.provided"), templates=tmp_path)


def test_an_optional_fact_outside_its_when_paragraph_is_missing_when_not_given(tmp_path: Path) -> None:
    (tmp_path / "extension.toml").write_text('title = "延期"\nparagraphs = ["{basis}：{reason}"]', "utf-8")
    assert compose(letter("extension"), templates=tmp_path).paragraphs[0].endswith("：〔reason示例〕")
    with pytest.raises(InvalidInput, match=re.escape(f"letter template {tmp_path / 'extension.toml'}: no fact "
                                                     "'reason' for {reason}")):
        compose(letter("extension", reason=None), templates=tmp_path)


def test_a_templates_directory_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is not a directory"):
        compose(letter("correction"), templates=tmp_path / "missing")


# -- the catalogue -----------------------------------------------------------------------------------------------


def test_the_catalogue_is_the_annual_reports_table() -> None:
    rows = list(REPORT_ROWS.items())
    assert len(rows) == 6 + 8 + 3 + 5 + 3
    assert rows[0] == ("disclosed", "（一）予以公开")
    assert rows[1] == ("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）")
    assert REPORT_ROWS["withheld.security_stability"] == "3.危及“三安全一稳定”"
    assert REPORT_ROWS["refused.excessive"] == "4.无正当理由大量反复申请"
    assert REPORT_ROWS["other.fee_unpaid"] == "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"
    for code, reply in REPLIES.items():
        assert code.split(".")[0] in TYPES and reply.report in REPORT_ROWS
        assert reply.item is None or REPORT_ROWS[code].startswith(f"{reply.item}.")
        assert (reply.basis == "") == ("law" in reply.needs)
    assert REPLIES["unavailable.not_ours"].report == "unavailable.not_held"  # counted as not held
    assert set(KINDS["reply"].variants) == set(REPLIES)


# -- the HTML, in a browser --------------------------------------------------------------------------------------


def shown(page: Page, composed: Composed, addressee: str | None = None) -> str:
    page.set_content(to_html(composed, addressee))
    return page.inner_text("body")


@pytest.mark.parametrize(("kind", "key"), VARIANTS)
def test_every_letter_shows_its_facts_basis_and_remedy_in_the_browser(page: Page, kind: str, key: str) -> None:
    composed = compose(letter(kind, key))
    stored = shown(page, composed)
    for said in [composed.title, composed.basis, *facts_said(kind, key), OFFICE, "2026年9月30日", "（印章）"]:
        assert said in stored, said
    assert_remedy(kind, key, stored)
    assert ADDRESSEE not in stored and page.title() == composed.title
    assert ADDRESSEE in shown(page, composed, ADDRESSEE)


def test_the_html_prints_to_a4_pages(page: Page) -> None:
    page.set_content(to_html(compose(letter("extension"))))
    one = page.pdf(prefer_css_page_size=True)
    assert one.startswith(b"%PDF-") and _pages(one) == 1
    width, height = (float(n) for n in re.findall(rb"/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", one)[0])
    assert abs(width - 595.3) < 1 and abs(height - 841.9) < 1  # A4: 210 x 297 mm in points
    page.set_content(to_html(compose(letter("correction", items=[f"补正事项{n}" for n in range(60)]))))
    assert _pages(page.pdf(prefer_css_page_size=True)) > 1
    assert page.evaluate("document.querySelectorAll('link, script, img, iframe').length") == 0  # self-contained


def test_the_printed_letter_draws_its_chinese_with_a_chinese_font(page: Page) -> None:
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    if not fonts.strip() and not REQUIRE_BROWSER:
        pytest.skip("no Chinese font installed (fonts-noto-cjk)")
    page.set_content(to_html(compose(letter("correction"))))
    embedded = re.findall(rb"/FontName\s*/([^\s/]+)", page.pdf())
    assert any(re.search(rb"CJK|Song|Hei|Fang|Kai|Ming|WenQuanYi|Han", f) for f in embedded), embedded


def test_markup_in_a_fact_is_shown_as_text(page: Page) -> None:
    markup = '<script>document.title="pwned"</script><b>粗</b>&amp;"\''
    composed = compose(letter("reply", "other.other", reason=markup, law="《条例》</p><p>"))
    html = to_html(composed, "<i>张三</i>")
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    body = shown(page, composed, "<i>张三</i>")
    assert markup in body and "《条例》</p><p>" in body and "<i>张三</i>：" in body
    assert page.title() == composed.title
    assert page.evaluate("document.querySelectorAll('script, b, i').length") == 0
    assert markup in docx_text(to_docx(composed))


# Text a fact may hold: anything but what `compose` refuses (control characters but newline and tab, line
# separators, bidirectional overrides, what is not a character).
FACT_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"),
                                  blacklist_characters="\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068"
                                                       "\u2069\ufffe\uffff") | st.sampled_from("\n\t"),
                    min_size=1, max_size=60).filter(str.strip)


@settings(max_examples=60, deadline=None)
@given(description=FACT_TEXT, reason=FACT_TEXT)
def test_any_text_fact_comes_back_unchanged_from_the_docx_and_the_browser(page: Page, description: str,
                                                                           reason: str) -> None:
    composed = compose(letter("reply", "withheld.internal_affairs", description=description, reason=reason))
    stored = docx_text(to_docx(composed))
    body = shown(page, composed)
    for fact in (description, reason):
        assert fact in stored
        assert fact in body


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


# -- storing a letter --------------------------------------------------------------------------------------------


def test_a_letter_is_stored_once_by_its_hash_and_read_back(db_url: str) -> None:
    wf = Workflow(db_url)
    wf.init(admin="admin", name="党政办登记管理员")
    content = to_docx(compose(letter("reply", "disclosed.provided")))
    with wf.uow() as work:
        sha = documents.put(work, content, media_type=DOCX, name=f"{NUMBER}-答复书.docx", at="2026-09-30T09:00+08:00")
        again = documents.put(work, content, media_type=DOCX, name="another name.docx", at="2026-10-01T09:00+08:00")
    assert again == sha and len(sha) == 64
    with wf.uow(write=False) as work:
        got = documents.get(work, sha)
        assert documents.find(work, "0" * 64) is None
        with pytest.raises(NotFound, match="no document 000000000000"):
            documents.get(work, "0" * 64)
        assert work.rows("document", {"sha256": sha})[0]["size"] == len(content)
    assert (got.content, got.media_type, got.name, got.intact) == (content, DOCX, f"{NUMBER}-答复书.docx", True)
    assert "申请人：" in docx_text(got.content) and ADDRESSEE not in docx_text(got.content)
    with pytest.raises(Exception, match=r"append-only"), wf.engine.begin() as c:
        c.execute(text("UPDATE zwgk_document SET name = 'x'"))  # written once: what a signature named stays
    wf.close()
