"""The annual report as a workbook, a Word document and an HTML preview (issue 13), each read back and held to the
report's numbers, and `zwgk report annual`. The counting itself is tests/test_annual_report.py's."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest
from playwright.sync_api import Page

from scripts.report_cli import report_obj
from tests.cli_helpers import ok, ok_json, one_error_line, run, snapshot, url_of, world_copy
from tests.requesting import Clock, seeded
from tests.test_annual_report import Year
from workflow import Workflow
from workflow.errors import InvalidInput
from workflow.report.annual import APPLICANT_COLUMNS, REQUEST_ROWS, REVIEW_COLUMNS, AnnualReport, row_label
from workflow.report.render import to_docx, to_html, to_xlsx

UNIT = "平田乡人民政府"
REVIEWS = ("reconsideration", "lawsuit", "lawsuit_after_reconsideration")
# The format's words, written out here rather than taken from the module under test.
COLUMN_WORDS = dict(zip(APPLICANT_COLUMNS,
                        ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"),
                        strict=True))
OUTCOME_WORDS = dict(zip(REVIEW_COLUMNS, ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计"), strict=True))
REVIEW_WORDS = dict(zip(REVIEWS, ("行政复议", "行政诉讼（未经复议直接起诉）", "行政诉讼（复议后起诉）"), strict=True))
OVERVIEW = "2026年，平田乡人民政府认真贯彻落实《中华人民共和国政府信息公开条例》。\n\n全年主动公开政府信息120条。"
NOW = "2027-02-01T10:00:00+08:00"  # the clock when the year was built


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AnnualReport]:
    """A year: two requests carried in (one replied in January, one open all year), five of different applicants
    and reply types replied in April, one received in December and replied in January, and three reviews (one
    decided only the next year). Built once for the module; its database is copied for each CLI test."""
    path = tmp_path_factory.mktemp("year") / "zwgk.db"
    clock = Clock(date(2025, 12, 22))
    wf = seeded(url_of(path), clock)
    y = Year(wf, clock)
    late = y.request(date(2025, 12, 22), "business")
    y.request(date(2025, 12, 23), "research")
    y.reply(late, "withheld.third_party", date(2026, 1, 5))
    asked = [(y.request(date(2026, 3, 2), kind), code) for kind, code in (
        ("natural", "disclosed.provided"), ("public_interest", "partial.withheld"), ("legal_service", "refused.repeat"),
        ("other", "unavailable.not_ours"), ("natural", "other.other"))]
    for rid, code in asked:
        y.reply(rid, code, date(2026, 4, 20))
    december = y.request(date(2026, 12, 28), "legal_service")
    y.reply(december, "disclosed.provided", date(2027, 1, 6))
    clock.to(date(2027, 2, 1))
    for (rid, _), kind, outcome, on in zip(asked, REVIEWS, ("upheld", "corrected", "other"),
                                           (date(2026, 9, 1), date(2026, 9, 1), date(2027, 1, 20)), strict=False):
        wf.requests.review(rid, actor="ohead", on=date(2026, 6, 1), kind=kind)
        wf.requests.review_outcome(rid, actor="ohead", on=on, n=1, outcome=outcome)
    report = wf.annual_report(2026, unit="gov")
    wf.close()
    # Not a year of zeros: the tables below have numbers to get wrong.
    assert report.identity == (6, 2, 6, 2) and report.balanced
    assert [report.reviews.value(k, c) for k, c in zip(REVIEWS, ("upheld", "corrected", "pending"), strict=True)] == [
        1, 1, 1]
    return path, report


@pytest.fixture(scope="module")
def report(world: tuple[Path, AnnualReport]) -> AnnualReport:
    return world[1]


def request_cells(report: AnnualReport) -> dict[tuple[str, str], int]:
    return {(r, c): report.requests.value(r, c) for r in REQUEST_ROWS for c in APPLICANT_COLUMNS}


def review_numbers(report: AnnualReport) -> list[int]:
    """Table 四 as the format prints it: one row of fifteen numbers."""
    return [report.reviews.value(k, c) for k in REVIEWS for c in REVIEW_COLUMNS]


# -- XLSX ----------------------------------------------------------------------------------------------------------


def test_the_workbook_holds_every_cell_of_tables_three_and_four(report: AnnualReport) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(report, UNIT)))
    assert wb.sheetnames == ["说明", "表二", "表三", "表四", "所计案件"]
    three = wb["表三"]
    assert three["A1"].value == f"{UNIT}2026年 三、收到和处理政府信息公开申请情况"
    assert (three["C3"].value, three["C4"].value, three["D4"].value, three["I4"].value) == (
        "申请人情况", "自然人", "法人或其他组织", "总计")
    assert [three.cell(5, c).value for c in range(4, 9)] == list(COLUMN_WORDS.values())[1:-1]
    assert {"C3:I3", "D4:H4", "C4:C5", "I4:I5"} <= {str(r) for r in three.merged_cells.ranges}
    for i, row in enumerate(REQUEST_ROWS):
        at = 6 + i
        assert (three.cell(at, 2).value or three.cell(at, 1).value) == row_label(row)
        assert [three.cell(at, 3 + j).value for j in range(7)] == [report.requests.value(row, c)
                                                                   for c in APPLICANT_COLUMNS], row
    assert three.cell(6 + len(REQUEST_ROWS), 1).value is None  # nothing after 四、结转下年度继续办理
    four = wb["表四"]
    assert (four["A3"].value, four["F3"].value, four["F4"].value, four["K4"].value) == (
        "行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉")
    assert [four.cell(5, c).value for c in range(1, 16)] == list(OUTCOME_WORDS.values()) * 3
    assert [four.cell(6, c).value for c in range(1, 16)] == review_numbers(report)
    info = {row[0]: row[1] for row in wb["说明"].iter_rows(values_only=True)}
    assert (info["单位"], info["年度"], info["根摘要"], info["统计至本单位链事件"]) == (
        UNIT, 2026, report.digest, report.sealed_at)
    assert (info["本年新收"], info["上年结转"], info["办理结果总计"], info["结转下年度"], info["勾稽关系"]) == (
        6, 2, 6, 2, "成立")


def test_the_cases_sheet_lists_exactly_the_cases_counted_and_recounts_every_cell(report: AnnualReport) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(report, UNIT)))
    header, *listed = wb["所计案件"].iter_rows(values_only=True)
    assert header == ("表", "行", "列", "案件")
    expected = Counter(("表三", row_label(r), COLUMN_WORDS[c], case)
                       for (r, c), cases in report.requests.cases.items() for case in cases)
    expected.update(("表四", REVIEW_WORDS[k], OUTCOME_WORDS[c], case)
                    for (k, c), cases in report.reviews.cases.items() for case in cases)
    assert Counter(listed) == expected
    # An auditor's recount: the cases listed under each cell are as many as the cell says.
    recount = Counter((table, row, column) for table, row, column, _ in listed)
    for (row, column), value in request_cells(report).items():
        assert recount["表三", row_label(row), COLUMN_WORDS[column]] == value
    assert [recount["表四", REVIEW_WORDS[k], OUTCOME_WORDS[c]] for k in REVIEWS for c in REVIEW_COLUMNS] == \
        review_numbers(report)


# -- DOCX ----------------------------------------------------------------------------------------------------------


def test_the_document_s_tables_are_the_report_s(report: AnnualReport) -> None:
    doc = docx.Document(io.BytesIO(to_docx(report, UNIT, {"overview": OVERVIEW})))
    said = [p.text for p in doc.paragraphs]
    assert said[0] == f"{UNIT}2026年政府信息公开工作年度报告"
    headings = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]
    assert [t for t in said if t in headings] == headings
    start = said.index("一、总体情况")
    assert said[start + 1:start + 3] == ["2026年，平田乡人民政府认真贯彻落实《中华人民共和国政府信息公开条例》。",
                                         "全年主动公开政府信息120条。"]
    assert any(p.startswith("（行政许可、行政处罚、行政强制、行政事业性收费的数字尚未") for p in said)  # none stated
    assert all(said[said.index(h) + 1].startswith("（此处由本机关填写") for h in headings[4:])  # not written yet
    assert "本年新收＋上年结转＝办理结果总计＋结转下年度）：6＋2＝8，6＋2＝8，成立。" in "\n".join(said)
    assert report.digest in said[-1] and "可据此复核" in said[-1]
    proactive, three, four = doc.tables
    heads = {c.text for row in proactive.rows for c in row.cells}
    assert {"规章", "行政规范性文件", "本年制发件数", "本年废止件数", "现行有效件数", "行政许可", "行政处罚",
            "行政强制", "行政事业性收费", "本年收费金额（单位：万元）"} <= heads
    assert [c.text for c in three.rows[2].cells[2:]] == list(COLUMN_WORDS.values())
    assert three.cell(0, 2).text == "申请人情况" and three.cell(1, 4).text == "法人或其他组织"
    assert len(three.rows) == 3 + len(REQUEST_ROWS)
    for i, row in enumerate(REQUEST_ROWS):
        cells = three.rows[3 + i].cells
        assert cells[1].text == row_label(row)
        assert [int(c.text) for c in cells[2:]] == [report.requests.value(row, c) for c in APPLICANT_COLUMNS], row
    assert three.cell(10, 0).text == "三、本年度办理结果"
    assert [c.text for c in four.rows[0].cells] == ["行政复议"] * 5 + ["行政诉讼"] * 10
    assert [c.text for c in four.rows[1].cells][5:] == ["未经复议直接起诉"] * 5 + ["复议后起诉"] * 5
    assert [int(c.text) for c in four.rows[3].cells] == review_numbers(report)


def test_the_same_report_gives_the_same_bytes_with_no_time_of_making(report: AnnualReport) -> None:
    for made in (to_docx(report, UNIT, {}), to_xlsx(report, UNIT)):
        with zipfile.ZipFile(io.BytesIO(made)) as z:
            assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
            core = z.read("docProps/core.xml").decode()
        assert set(re.findall(r"\d{4}-\d\d-\d\dT[\d:]+", core)) == {"2000-01-01T00:00:00"}, core
    assert to_docx(report, UNIT, {}) == to_docx(report, UNIT, {})
    assert to_xlsx(report, UNIT) == to_xlsx(report, UNIT)


def test_text_that_no_section_takes_or_no_page_can_print_is_refused(report: AnnualReport) -> None:
    with pytest.raises(InvalidInput, match="no section 'summary'"):
        to_docx(report, UNIT, {"summary": "..."})
    with pytest.raises(InvalidInput, match="section 'problems'"):
        to_html(report, UNIT, {"problems": "问题\x1b[31m"})
    with pytest.raises(InvalidInput, match="unit's name"):
        to_xlsx(report, "平田乡\u202e政府")


# -- HTML, in a browser ----------------------------------------------------------------------------------------------


def test_the_preview_shows_every_number_in_chromium(page: Page, report: AnnualReport) -> None:
    page.set_content(to_html(report, UNIT, {"overview": OVERVIEW}))
    shown = page.eval_on_selector_all("td[data-row]", "cells => cells.map(c => "
                                      "[c.closest('table').id, c.dataset.row, c.dataset.column, c.innerText])")
    numbers = {(table, row, column): int(text) for table, row, column, text in shown}
    cells = len(REQUEST_ROWS) * len(APPLICANT_COLUMNS) + len(REVIEWS) * len(REVIEW_COLUMNS) + 2 * 3  # 二's documents
    assert len(numbers) == len(shown) == cells
    assert {(r, c): n for (t, r, c), n in numbers.items() if t == "requests"} == request_cells(report)
    assert [numbers["reviews", k, c] for k in REVIEWS for c in REVIEW_COLUMNS] == review_numbers(report)
    text = page.inner_text("body")
    for said in (f"{UNIT}2026年政府信息公开工作年度报告", "三、本年度办理结果", "1.属于国家秘密", "复议后起诉", "规章",
                 "全年主动公开政府信息120条。", "6＋2＝8，6＋2＝8，成立", report.digest):
        assert said in text, said
    assert page.title() == f"{UNIT}2026年政府信息公开工作年度报告"
    assert page.evaluate("document.querySelectorAll('link, script, img, iframe').length") == 0  # self-contained
    shot = page.screenshot(full_page=True)
    assert shot.startswith(b"\x89PNG") and len(shot) > 10_000
    pdf = page.pdf(prefer_css_page_size=True)
    width, height = (float(n) for n in re.findall(rb"/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", pdf)[0])
    assert abs(width - 595.3) < 1 and abs(height - 841.9) < 1  # A4


def test_markup_in_the_office_s_text_or_the_unit_s_name_is_shown_as_text(page: Page, report: AnnualReport) -> None:
    markup = '<script>document.title="pwned"</script><b>粗</b>&amp;"'
    html = to_html(report, "<i>乡</i>", {"other": markup})
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    page.set_content(html)
    assert markup in page.inner_text("body") and page.title() == "<i>乡</i>2026年政府信息公开工作年度报告"
    assert page.evaluate("document.querySelectorAll('script, b, i').length") == 0


def test_rendering_is_imported_only_when_asked() -> None:
    """`import workflow` and the report's module stay light: python-docx and openpyxl come with a render."""
    probe = "import sys, workflow.report.render; print(sorted({'docx', 'openpyxl'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- the CLI ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def db(world: tuple[Path, AnnualReport], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in ("ZWGK_CONFIG", "ZWGK_LANG", "ZWGK_PIPELINE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZWGK_NOW", NOW)
    return world_copy(world[0], tmp_path, monkeypatch)


def test_the_cli_writes_each_format_and_its_json_is_the_api_s(capsys: pytest.CaptureFixture[str], db: Path,
                                                               tmp_path: Path) -> None:
    (tmp_path / "overview.txt").write_text(OVERVIEW, encoding="utf-8")
    human = ok(capsys, "report", "annual", "2026", "--unit", "gov", "--format", "docx", "--lang", "en")
    assert human.splitlines()[0] == "gov-annual-report-2026.docx" and "check holds" in human
    written = ok_json(capsys, "report", "annual", "2026", "--unit", "gov", "--format", "docx", "--out", "r.docx",
                      "--text-file", f"overview={tmp_path / 'overview.txt'}")
    paragraphs = [p.text for p in docx.Document(written["file"]).paragraphs]
    assert "全年主动公开政府信息120条。" in paragraphs and paragraphs[0] == f"{UNIT}2026年政府信息公开工作年度报告"
    book = ok_json(capsys, "report", "annual", "2026", "--unit", "gov", "--format", "xlsx", "--out", "r.xlsx")
    assert openpyxl.load_workbook(book["file"])["表四"].cell(6, 14).value == 1  # 复议后起诉 尚未审结
    page = ok_json(capsys, "report", "annual", "2026", "--unit", "gov", "--format", "html", "--out", "r.html")
    assert "勾稽关系" in Path(page["file"]).read_text(encoding="utf-8")
    with Workflow(url_of(db)) as wf:
        api = wf.annual_report(2026, unit="gov")
    for out in (written, book, page):
        numbers = {k: v for k, v in out.items() if k not in ("file", "format", "item")}
        assert numbers == json.loads(json.dumps(report_obj(api)))
    assert written["requests"]["received"]["total"] == 6 and written["identity"] == {
        "received": 6, "carried_in": 2, "total": 6, "carried_out": 2}
    assert written["reviews"]["lawsuit_after_reconsideration"] == {"upheld": 0, "corrected": 0, "other": 0,
                                                                    "pending": 1, "total": 1}


def test_the_cli_refuses_bad_text_and_writes_nothing(capsys: pytest.CaptureFixture[str], db: Path,
                                                     tmp_path: Path) -> None:
    before = snapshot(db)
    (tmp_path / "bad.txt").write_text("问题\x07", encoding="utf-8")
    for extra, said in ((["--text-file", "summary=bad.txt"], "no section 'summary' of the report takes text"),
                        (["--text-file", "problems=bad.txt"], "the text of section 'problems'"),
                        (["--text-file", "problems"], "--text-file takes SECTION=PATH"),
                        (["--text-file", "other=missing.txt"], "cannot read --text-file missing.txt"),
                        (["--unit", "nowhere"], "no unit 'nowhere'")):
        args = ["report", "annual", "2026", "--unit", "gov", "--format", "docx", "--lang", "en", *extra]
        rc, out, err = run(capsys, *args)
        assert (rc, out) == (2, "") and said in one_error_line(err), err
    assert snapshot(db) == before and not list(tmp_path.glob("*.docx"))
    rc, _, err = run(capsys, "report", "annual", "2026", "--unit", "gov", "--format", "docx", "--text-file",
                     "summary=bad.txt")
    assert rc == 2 and "报告没有可填写文字的部分 'summary'" in one_error_line(err)
