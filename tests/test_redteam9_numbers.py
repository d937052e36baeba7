"""Red team 9 (issue 14): the fixes after red team 8 in workflow/screen_numbers.py and the 涉密/内部 marks, attacked
only there: the cue a mobile or a card between spaces needs (`_CUE`), separators of any width between groups, the
`_ID_SHAPE` prefilter of ID numbers in long runs, and the possessive mark patterns. Holding tests pass; confirmed
weaknesses are `xfail(strict=True, reason="FINDING ...")`. All numbers are made up (tests/screening.py): valid check
digits, nobody's data."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.screening import ID, PHONE
from workflow.screen import screen
from workflow.screen_numbers import _ID_SHAPE, KINDS, is_resident_id, numbers, resident_id_check

CARD = "6222021234567890128"  # 19 digits, passes Luhn
ALL = list(KINDS)


def finding(reason: str) -> pytest.MarkDecorator:
    """A confirmed weakness: the test fails (an assertion) until the lead fixes it."""
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


def _groups(number: str, sizes: tuple[int, ...], sep: str) -> str:
    at = list(itertools.accumulate(sizes, initial=0))
    return sep.join(number[a:b] for a, b in itertools.pairwise(at))


def _exactly(body: str, spelled: str, kind: str) -> None:
    """`body` holds `spelled` once, and the screen finds it as `kind`, covering exactly it."""
    start = body.index(spelled)
    assert [(k, s, e) for k, s, e in numbers(body, ALL)] == [(kind, start, start + len(spelled))]


MOBILE = _groups(PHONE, (3, 4, 4), " ")
SPACED_CARD = _groups(CARD, (4, 4, 4, 4, 3), " ")


# --- 1. the cue a spaced mobile or card needs ----------------------------------------------------------------------

@pytest.mark.parametrize(("before", "spelled", "kind"), [
    pytest.param("联系电话：", MOBILE, "mobile", id="phone-colon"),
    pytest.param("联系人：张某，联系方式 ", MOBILE, "mobile", id="contact"),
    pytest.param("Tel: ", MOBILE, "mobile", id="tel"),
    pytest.param("补贴发放至户主银行卡，卡号 ", SPACED_CARD, "bank_card", id="card-number"),
    pytest.param("户名\t开户银行\t账号\n张某\t某某农商银行\t", SPACED_CARD, "bank_card", id="bank-on-the-row"),
])
def test_a_spaced_number_after_its_cue_on_the_line_is_found_whole(before: str, spelled: str, kind: str) -> None:
    _exactly(f"{before}{spelled}。", spelled, kind)


@pytest.mark.parametrize("row", ["合计 135 1200 1800", "2023年 139 1000 2000", "小计 6222 0212 3456 7890 128"])
def test_a_row_of_figures_without_a_cue_is_no_number(row: str) -> None:
    assert numbers(row, ALL) == []


@pytest.mark.parametrize("body", [
    pytest.param("联系电话：\n{m}\n", id="label-line"),
    pytest.param("姓名\t职务\t联系电话\n张某\t村委会主任\t{m}\n", id="table-header-tab"),
    pytest.param("姓名 职务 电话\n张某 网格员 {m}\n", id="table-header-space"),
])
def test_a_spaced_mobile_under_its_cue_is_found(body: str) -> None:
    _exactly(body.format(m=MOBILE), MOBILE, "mobile")


def test_a_cue_before_office_hours_is_seen() -> None:
    _exactly(f"咨询电话（工作日上午8:30-12:00，下午14:30-17:30）：{MOBILE}", MOBILE, "mobile")


@pytest.mark.parametrize("row", ["台账 135 1200 1800", "卡口 150 2300 4100", "打卡 138 1000 2000"])
def test_a_row_after_a_word_holding_a_cue_is_no_mobile(row: str) -> None:
    assert numbers(row, ALL) == []


# --- 2. separators ---------------------------------------------------------------------------------------------------

NUMBERS = [(PHONE, (3, 4, 4), "电话：", "mobile"), (CARD, (4, 4, 4, 4, 3), "卡号：", "bank_card"),
           (ID, (6, 8, 4), "身份证号：", "resident_id")]


@pytest.mark.parametrize("sep", ["\u3000", "\u00a0", "\u00a0\u00a0", "\u3000\u3000", "\t", "   ", "\t ", "\u2013",
                                 "\uff0d", "\u2212", "\u200b\u200b", "\u200e", "\u202c"])
@pytest.mark.parametrize(("number", "sizes", "cue", "kind"), NUMBERS)
@pytest.mark.parametrize(("before", "after"), [("", ""), ("某 ", " 。"), ("（", "）"), ("x ", " y")])
def test_a_finding_covers_the_groups_and_separators_and_nothing_else(
        number: str, sizes: tuple[int, ...], cue: str, kind: str, sep: str, before: str, after: str) -> None:
    spelled = _groups(number, sizes, sep)
    _exactly(f"{before}{cue}{spelled}{after}", spelled, kind)


@pytest.mark.parametrize("sep", [pytest.param("\u00a0 ", id="nbsp-space"), pytest.param(" \u00a0", id="space-nbsp"),
                                 pytest.param("\u200b ", id="zwsp-space"), pytest.param(" \u200b", id="space-zwsp"),
                                 pytest.param("\u3000\u200b", id="ideographic-zwsp"),
                                 pytest.param("\u3000" * 3, id="three-ideographic"),
                                 pytest.param("\u00a0" * 3, id="three-nbsp"),
                                 pytest.param("\u2013 ", id="en-dash-space")])
@pytest.mark.parametrize(("number", "sizes", "cue", "kind"), NUMBERS)
def test_mixed_or_wide_separators_are_one_number(number: str, sizes: tuple[int, ...], cue: str, kind: str,
                                                 sep: str) -> None:
    spelled = _groups(number, sizes, sep)
    _exactly(f"{cue}{spelled}。", spelled, kind)


@pytest.mark.parametrize("sep", [" - ", " \uff0d "])
@pytest.mark.parametrize(("number", "sizes", "cue", "kind"), NUMBERS)
def test_a_spaced_hyphen_between_every_group_is_one_number(number: str, sizes: tuple[int, ...], cue: str, kind: str,
                                                           sep: str) -> None:
    spelled = _groups(number, sizes, sep)
    _exactly(f"{cue}{spelled}。", spelled, kind)


# --- 3. the ID prefilter -------------------------------------------------------------------------------------------

@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from("12345678")) + draw(st.text("0123456789", min_size=5, max_size=5))
    born = date(1900, 1, 1) + timedelta(days=draw(st.integers(0, (date(2099, 12, 31) - date(1900, 1, 1)).days)))
    first17 = region + born.strftime("%Y%m%d") + draw(st.text("0123456789", min_size=3, max_size=3))
    check = resident_id_check(first17)
    return first17 + (check.lower() if check == "X" and draw(st.booleans()) else check)


@given(valid_ids())
def test_every_id_number_is_of_the_prefilters_shape(s: str) -> None:
    assert is_resident_id(s)
    assert _ID_SHAPE.match(s)


@given(st.text("0123456789Xx", min_size=18, max_size=18))
def test_what_the_check_accepts_the_prefilter_lets_through(s: str) -> None:
    assert not is_resident_id(s) or _ID_SHAPE.match(s)


@pytest.mark.parametrize("born", [date(1900, 1, 1), date(2099, 12, 31), date(2000, 2, 29), date(1999, 9, 30)])
def test_an_id_number_at_the_edges_of_the_calendar_is_found_in_a_long_run(born: date) -> None:
    first17 = "110105" + born.strftime("%Y%m%d") + "001"
    number = first17 + resident_id_check(first17)
    body = f"编号0000{number}0000号"
    start = body.index(number)
    assert ("resident_id", start, start + 18) in numbers(body, ALL)


# --- 4. the possessive 涉密/内部 marks --------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "rule"), [
    ("【涉密】", "classified-mark"), ("涉密：", "classified-mark"), ("涉密文件（内部）", "classified-mark"),
    ("  涉密  ", "classified-mark"), ("（涉密）", "classified-mark"), ("涉密材料：", "classified-mark"),
    ("涉密\u3000\u3000（绝密级）", "classified-mark"), ("\u3000" * 40 + "涉密" + " " * 40, "classified-mark"),
    ("内部资料", "internal-mark"), ("内部 ，注意保存", "internal-mark"), ("内部", "internal-mark"),
    ("内部使用", "internal-mark"), ("内部\t，\t注意保存", "internal-mark"),
    (" " * 40 + "内部资料" + "\t" * 40, "internal-mark"),
])
def test_a_mark_on_its_own_line_is_found(line: str, rule: str) -> None:
    assert rule in [f.rule for f in screen(f"正文\n{line}\n正文")]


@pytest.mark.parametrize("line", ["涉密不上网，上网不涉密", "内部资料不得外传", "涉密：否", "内部控制制度",
                                  "会议研究了涉密文件管理", "加强内部管理，注意保存原始凭证",
                                  "涉密 " * 30 + "x", "内部 " * 30 + "x"])
def test_prose_is_no_mark(line: str) -> None:
    assert not {"classified-mark", "internal-mark"} & {f.rule for f in screen(f"正文\n{line}\n正文")}
