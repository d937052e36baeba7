"""Red team 12: the number screen after commits ea449fb and abbf4ff (workflow/screen_numbers.py): a cue in the
number's cell or the one before, a header of as many cells as the row naming its column's cell (`_Cues.near`,
`_header`), a label just above ending in a colon (`_label`), groups across a row's tabs (`_shaped`), +86 (`_PLUS`) and
the number's line by bisection. Holding behaviours pass; confirmed weaknesses are
`xfail(strict=True, raises=AssertionError, reason="FINDING ...")`. Fixed after the round (their tests now hold): empty
cells skipped for the cell before, an empty header cell reads the whole header, lines end where str.splitlines ends
them, 0086, no label past 60 characters, +86 only within a cell, a header folded once and no longer than a row. All
numbers are made up (tests/screening.py, check digits computed here): valid check digits, nobody's data."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workflow.screen_numbers as sn
from tests.screening import ID, PHONE, well_formed
from workflow.screen_numbers import KINDS, is_mobile, luhn_ok, numbers

ALL = list(KINDS)
CARD = "6222021234567890128"  # 19 digits, passes Luhn


def finding(reason: str) -> pytest.MarkDecorator:
    """A confirmed weakness: the test fails (an assertion) until the lead fixes it."""
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


def _groups(number: str, sizes: tuple[int, ...], sep: str = " ") -> str:
    at = list(itertools.accumulate(sizes, initial=0))
    return sep.join(number[a:b] for a, b in itertools.pairwise(at))


MOBILE = _groups(PHONE, (3, 4, 4))
MOBILE2 = _groups("13800001111", (3, 4, 4))
SPACED_CARD = _groups(CARD, (4, 4, 4, 4, 3))
SPACED_ID = _groups(ID, (6, 8, 4))
FIGURES = "138 2450 3160"  # a count, then two 4-digit figures: a mobile's shape and prefix
AMOUNTS = next(f"450032001250687{d}" for d in "0123456789" if luhn_ok(f"450032001250687{d}"))


def _found(body: str) -> list[tuple[str, str]]:
    return [(kind, body[s:e]) for kind, s, e in numbers(body, ALL)]


def _mobiles(body: str) -> list[str]:
    return [spelled for kind, spelled in _found(body) if kind == "mobile"]


# --- holding ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    pytest.param(f"姓名\t张某\t联系电话\t{MOBILE}\n", id="form-pairs"),
    pytest.param(f"姓名\t张某\t联系电话\t{MOBILE}\t\n", id="form-pairs-trailing-tab"),
    pytest.param(f"姓名\t张某\t联系电话\t{MOBILE}\t身份证号\t（略）\n", id="form-pairs-then-more"),
    pytest.param(f"姓名\t联系电话\n1\t张某\t{MOBILE}\n", id="serial-column-in-rows-only"),
    pytest.param(f"\t姓名\t联系电话\n1\t张某\t{MOBILE}\n", id="empty-header-over-serials"),
    pytest.param(f"姓名\t联系电话\n张某\t{MOBILE}\t\n", id="row-trailing-tab"),
    pytest.param(f"姓名\t联系电话\t\n张某\t{MOBILE}\t\n", id="both-trailing-tabs"),
    pytest.param(f"姓名\t\t联系电话\n张某\t\t{MOBILE}\n", id="word-double-tabs-both"),
    pytest.param(f"姓名\t联系电话\n张某\t\t{MOBILE}\n", id="word-double-tabs-row-only"),
    pytest.param(f"姓名,联系电话\n张某,{MOBILE}\n", id="csv"),
    pytest.param(f'"序号","姓名","联系电话"\n"1","张某","{MOBILE}"\n', id="csv-quoted"),
    pytest.param(f"姓名|联系电话\n张某|{MOBILE}\n", id="pipes"),
    pytest.param(f"姓名\t联系电话\r\n张某\t{MOBILE}\r\n", id="crlf-table"),
    pytest.param(f"基本情况\t\t联系方式\n姓名\t职务\t手机\n张某\t主任\t{MOBILE}\n", id="two-header-lines"),
    pytest.param(f"户主\t联系电话：\n张某\t{MOBILE}\n", id="header-cell-with-colon"),
    pytest.param(f"张某\t+86\t{MOBILE}\n", id="plus86-own-cell"),
])
def test_a_spaced_mobile_in_a_township_table_or_form_is_found(body: str) -> None:
    """Held: label/value pairs along a row, a serial column in the rows only, trailing and doubled tabs (when the
    header's and the row's counts differ or agree), CSV, pipes, CRLF, two header lines with the cue below."""
    assert _mobiles(body) == [MOBILE] or _mobiles(body) == [f"+86\t{MOBILE}"]


@pytest.mark.parametrize("body", [
    pytest.param(f"户名\t开户银行\t银行卡号\n1\t张某\t农业银行\t{SPACED_CARD}\n", id="card-serial-rows"),
    pytest.param(f"户名\t\t张某\t账号\t{SPACED_CARD}\n", id="card-form-pairs"),
])
def test_a_spaced_card_in_a_roster_is_found(body: str) -> None:
    assert _found(body) == [("bank_card", SPACED_CARD)]


@pytest.mark.parametrize("body", [
    pytest.param("乡镇\t开户数\t笔数\t金额\n1\t城关镇\t138\t2450\t3160\n", id="counts-in-cells-serial"),
    pytest.param("乡镇\t联系户数\t户数\t人口\n城关镇\t138\t2450\t3160\t\n", id="counts-in-cells-trailing-tab"),
    pytest.param("乡镇\t联系户数\t户数 人口\n1\t城关镇\t138 2450 3160\n", id="counts-in-a-cell-aligned"),
    pytest.param("村名\t户数\t人口\t面积\n银行代发\t138\t2450\t3160\n", id="cue-cell-before-cells"),
    pytest.param("项目\t收款单位\t预算数（万元）\n1\t道路硬化\t平田乡财政所\t"
                 + "\t".join(AMOUNTS[i:i + 4] for i in range(0, 16, 4)) + "\n", id="budget-serial"),
    pytest.param(f"联系电话\t张某\t{FIGURES}\t12\n", id="cue-two-cells-before"),
])
def test_figures_in_a_statistics_or_budget_row_are_no_number(body: str) -> None:
    """Held: figures in cells of their own, or under a header cell without a cue, are no mobile or card."""
    assert is_mobile(FIGURES.replace(" ", "")) and luhn_ok(AMOUNTS)
    assert numbers(body, ALL) == []


def test_an_id_number_in_a_table_needs_no_header() -> None:
    assert _found(f"序号\t姓名\t\t备注\n1\t张某\t{SPACED_ID}\t\n") == [("resident_id", SPACED_ID)]


NOISE = st.sampled_from([
    *"0123456789 \t\n\r:：+-,，|", "\t\t", "\r\n", "\x0b", "\x0c", "\u2028", "\u0085", "\u3000", "\u200b", "０",
    "联系电话", "银行卡号", "手机", "姓名", "张某", "序号", "+86", "86", "(+86)", "0086", MOBILE, MOBILE2, SPACED_CARD,
    SPACED_ID, "139", "1234", "5678", "6222", ID, PHONE])


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(NOISE, max_size=60).map("".join))
def test_tables_of_random_cells_are_screened_into_disjoint_numbers(text: str) -> None:
    """Held (20 000 examples by hand): tabs, line ends of every kind, cues, pluses and digits raise nothing; findings
    are ordered, disjoint, and each reads as a number of its kind."""
    well_formed(text)


# --- findings: misses ------------------------------------------------------------------------------------------------

LEADING_TAB = finding(
    "FINDING (medium, left open): a header whose cell count equals the row's while its columns do not line up, with "
    "the number's header cell not empty (\\t姓名\\t联系电话 over 张某\\t139 1234 5678\\t), names the wrong "
    "column. Fix: align header and row by their empty cells at either end")
TWO_LINE_HEADER = finding(
    "FINDING (medium, left open): a two-line header (联系电话 merged above 本人\\t家属) is read at its lower line "
    "only, whose cells hold no cue; the mobiles under it are missed. Fix: read a header line directly above the "
    "nearest one with it")


@pytest.mark.parametrize("body", [
    pytest.param(f"姓名\t\t张某\t\t联系电话\t\t{MOBILE}\n", id="form-double-tabs"),
    pytest.param(f"联系电话：\t\t{MOBILE}\r\n", id="label-double-tab"),
    pytest.param(f"户名\t\t张某\t\t银行卡号\t\t{SPACED_CARD}\n", id="card-form-double-tabs"),
])
def test_a_label_cell_then_an_empty_cell_cues_the_value(body: str) -> None:
    assert len(numbers(body, ALL)) == 1


@pytest.mark.parametrize("body", [
    pytest.param(f"姓名\t住址\t联系电话\t\n1\t张某\t大村\t{MOBILE}\n", id="header-trailing-tab-serial-rows"),
    pytest.param(f"姓名\t\t联系电话\n张某\t{MOBILE}\t\n", id="header-double-tab-row-trailing-tab"),
    pytest.param(f"\t姓名\t联系电话\n张某\t{MOBILE}\t\n", id="header-leading-tab-row-trailing-tab",
                 marks=LEADING_TAB),
])
def test_a_misaligned_header_of_the_rows_cell_count_still_cues(body: str) -> None:
    assert _mobiles(body) == [MOBILE]


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param(f"姓名\t联系电话\t\n张某\t{MOBILE}\t{MOBILE2}\n", [MOBILE, MOBILE2], id="merged-cell-one-line"),
    pytest.param(f"姓名\t联系电话\t\n\t本人\t家属\n张某\t{MOBILE}\t{MOBILE2}\n", [MOBILE, MOBILE2],
                 id="merged-cell-two-lines", marks=TWO_LINE_HEADER),
    pytest.param(f"序号\t姓名\t联系电话\t\n\t\t本人\t家属\n1\t张某\t{MOBILE}\t{MOBILE2}\n", [MOBILE, MOBILE2],
                 id="merged-cell-two-lines-serial", marks=TWO_LINE_HEADER),
])
def test_a_merged_header_cell_cues_each_column_under_it(body: str, expected: list[str]) -> None:
    assert _mobiles(body) == expected


@pytest.mark.parametrize("end", [pytest.param("\r", id="cr"), pytest.param("\x0b", id="vt"),
                                 pytest.param("\u2028", id="line-separator")])
def test_a_table_with_other_line_ends_is_read_by_its_header(end: str) -> None:
    body = f"序号\t姓名\t联系电话{end}1\t张某\t{MOBILE}{end}2\t李某\t{MOBILE2}{end}"
    assert _mobiles(body) == [MOBILE, MOBILE2]


def test_0086_before_a_spaced_mobile_is_a_cue() -> None:
    assert _mobiles(f"张某\t0086 {MOBILE}\n") == [MOBILE]


# --- findings: false positives ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("between", [pytest.param("", id="adjacent"),
                                     pytest.param("全乡共有12个村。\n" * 30, id="thirty-lines-between")])
def test_a_cue_far_above_a_long_sentence_ending_in_a_colon_is_no_label(between: str) -> None:
    para = ("根据县财政局关于做好二〇二五年度耕地地力保护补贴资金发放工作的通知要求，经村民小组评议、村委会审核、"
            "乡人民政府复核并公示无异议，现将各村补贴发放情况公布如下：")
    assert len(para) > 60
    assert numbers(f"联系人：王某\n{between}{para}\n大村 {FIGURES}\n", ALL) == []


@finding("FINDING (medium): the column rule of abbf4ff holds for tabs only: a table aligned by spaces (text taken "
         "from a PDF, the usual form of 政务公开 attachments) is read by its whole header, so a cue naming one column "
         "(联系电话, 开户数) makes a row's counts in other columns a mobile. Fix: map a space-aligned row to the "
         "header's columns by display width (East Asian wide = 2), or read only the header word above the number")
@pytest.mark.parametrize("body", [
    pytest.param(f"乡镇    联系电话        户数  人口  面积\n城关镇  0874-7123456    {FIGURES}\n", id="phone-column"),
    pytest.param(f"乡镇    开户数  笔数  金额（万元）\n城关镇  {FIGURES}\n", id="accounts-opened"),
])
def test_a_space_aligned_header_naming_one_column_does_not_cue_the_others(body: str) -> None:
    assert numbers(body, ALL) == []


def test_a_plus_change_before_figures_in_cells_is_no_country_code() -> None:
    assert numbers(f"乡镇\t增减\t户数\t人口\t面积\n城关镇\t+86\t{FIGURES.replace(' ', chr(9))}\n", ALL) == []


# --- findings: time --------------------------------------------------------------------------------------------------

class _CountingPattern:
    """Stands for a compiled pattern and sums the length of the text each search is handed."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern, self.read = pattern, 0

    def search(self, text: str, *args: int) -> re.Match[str] | None:
        self.read += len(text)
        return self.pattern.search(text, *args)


@pytest.mark.parametrize("above", [pytest.param("某" * 70, id="long-line-above-each"),
                                   pytest.param("某" * 20_000, id="long-header-once")])
def test_the_text_read_for_each_numbers_cue_is_bounded(above: str, monkeypatch: pytest.MonkeyPatch) -> None:
    label = _CountingPattern(sn._LABEL)
    folded: list[int] = []
    fold = sn._folded
    monkeypatch.setattr(sn, "_LABEL", label)

    def counted(text: str) -> str:
        folded.append(len(text))
        return fold(text)

    monkeypatch.setattr(sn, "_folded", counted)
    rows = 500
    body = (f"{above}\n{MOBILE}\n" * rows) if len(above) < 100 else above + f"\n{MOBILE}" * rows
    assert numbers(body, ALL) == []  # no cue anywhere: every number is looked at by `_Cues.near`
    per_number = (label.read + sum(folded)) / rows
    assert per_number <= 2 * sn._LINE_REACH, per_number
