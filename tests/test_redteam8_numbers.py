"""Red team 8 (issue 14): how the pre-screen reads numbers (workflow/screen_numbers.py) and the 涉密 mark, attacked as
an auditor or an attacker would: spellings a drafter or a copy-paste produces that a reader still reads as the
number, rows of government figures that look like one, odd and adversarial bodies, the spans redaction relies on,
and `verify` of items whose numbers are grouped, glued or hidden. Each test fails if the weakness it names exists;
confirmed weaknesses are `xfail(strict=True, reason="FINDING ...")` so the suite stays green until the lead fixes
them. All numbers are made up (tests/screening.py): valid check digits, nobody's data."""

from __future__ import annotations

import itertools
import json
import re
import re._constants as sre  # the parser's opcodes: the built-in patterns are read, not timed
import re._parser as sre_parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from states.errors import ScreenBlocked
from tests.cli_helpers import ok, ok_json
from tests.screening import ID, PHONE, in_review, to_public
from tests.test_screen_numbers import cards, mobiles, resident_ids
from workflow import Workflow
from workflow.screen import builtin_rules, masked, screen
from workflow.screen_numbers import KINDS, luhn_ok, numbers
from workflow.testing import captured_logs

CARD = "6222021234567890128"  # 19 digits, passes Luhn
X_ID = "11010519491231002X"  # a valid ID number whose check character is X
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def finding(reason: str) -> pytest.MarkDecorator:
    """A confirmed weakness: the test fails (an assertion) until the lead fixes it."""
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


def _rules(body: str) -> list[str]:
    return [f.rule for f in screen(body)]


def _groups(number: str, sizes: tuple[int, ...], sep: str) -> str:
    at = list(itertools.accumulate(sizes, initial=0))
    return sep.join(number[a:b] for a, b in itertools.pairwise(at))


MOBILE_344 = (3, 4, 4)
ID_684 = (6, 8, 4)
CARD_44443 = (4, 4, 4, 4, 3)


# --- recall: what a drafter types or a copy-paste leaves, read by any reader as the number --------------------------

@pytest.mark.parametrize("sep", [pytest.param("\u3000", id="full-width-space"),
                                 pytest.param("\u00a0", id="nbsp"),
                                 pytest.param("\uff0d", id="full-width-hyphen"),
                                 pytest.param(" ", id="space"), pytest.param("-", id="hyphen")])
@pytest.mark.parametrize(("number", "sizes", "rule"), [(PHONE, MOBILE_344, "mobile"), (ID, ID_684, "resident-id"),
                                                       (CARD, CARD_44443, "bank-card")],
                         ids=["mobile", "resident-id", "bank-card"])
def test_groups_with_the_separators_of_a_chinese_keyboard_are_one_number(number: str, sizes: tuple[int, ...],
                                                                         rule: str, sep: str) -> None:
    assert rule in _rules(f"联系人张某，号码：{_groups(number, sizes, sep)}。")


def test_a_number_typed_wholly_in_full_width_mode_is_found() -> None:
    assert "mobile" in _rules("电话：" + _groups(PHONE, MOBILE_344, "－").translate(FULL_WIDTH))


def test_an_id_number_with_a_full_width_check_character_is_found() -> None:
    assert "resident-id" in _rules(f"身份证号：{X_ID[:-1]}Ｘ。")


def test_an_id_number_with_a_lower_case_or_full_width_x_among_full_width_digits_is_found() -> None:
    """Held: full-width digits with Ｘ, ｘ or x; an ASCII x."""
    for check in ("Ｘ", "ｘ", "x"):
        assert "resident-id" in _rules(f"身份证号：{X_ID[:-1].translate(FULL_WIDTH)}{check}。"), check
    assert "resident-id" in _rules(f"身份证号：{X_ID[:-1]}x。")


@pytest.mark.parametrize("sep", ["  ", "\t"], ids=["two-spaces", "tab"])
def test_a_wider_gap_between_groups_is_still_one_number(sep: str) -> None:
    assert "mobile" in _rules(f"手机 {_groups(PHONE, MOBILE_344, sep)}")


@pytest.mark.parametrize("dash", ["\u2013", "\u2010", "\u2212"], ids=["en-dash", "hyphen-2010", "minus"])
def test_other_dashes_between_groups(dash: str) -> None:
    assert "mobile" in _rules(f"电话{_groups(PHONE, MOBILE_344, dash)}")


@pytest.mark.parametrize("sizes", [(6, 4, 4, 4), (6, 12)], ids=["6-4-4-4", "6-12"])
def test_an_id_number_in_other_groups(sizes: tuple[int, ...]) -> None:
    assert "resident-id" in _rules(f"身份证号 {_groups(ID, sizes, ' ')}")


@pytest.mark.parametrize("mark", ["\u200e", "\u200f", "\u202c"], ids=["lrm", "rlm", "pdf"])
def test_direction_marks_inside_a_number(mark: str) -> None:
    assert "resident-id" in _rules(f"身份证号{ID[:6]}{mark}{ID[6:]}")


@finding("FINDING (low): a mobile glued to ASCII letters (Tel13…, 电话TEL13…) is not found, while an ID number glued "
         "to letters is: inside a longer run only ID numbers are looked for. Fix: let _between/_read accept a mobile "
         "at the end of a run of letters")
def test_a_mobile_glued_to_letters_is_found() -> None:
    assert "mobile" in _rules(f"联系方式：Tel{PHONE}")


@finding("FINDING (low): groups with mixed separators (86 139-1234-5678, 139-1234 5678) are not read as one number")
def test_mixed_separators() -> None:
    assert "mobile" in _rules(f"电话86 {_groups(PHONE, MOBILE_344, '-')}")


def test_what_the_screen_reads_in_ordinary_spellings() -> None:
    """Held: +86 in every form, (+86), the groups with ASCII separators, mixed full-/half-width digits, a number in a
    URL, an e-mail address, HTML, glued to Chinese or to an underscore, an ID number glued to a card either way, a
    zero-width space before or after a number."""
    for body, rule in [(f"(+86){PHONE}", "mobile"), (f"+86-{_groups(PHONE, MOBILE_344, '-')}", "mobile"),
                       (f"+86 {_groups(PHONE, MOBILE_344, ' ')}", "mobile"), (f"0086 {PHONE}", "mobile"),
                       (PHONE[:3] + PHONE[3:].translate(FULL_WIDTH), "mobile"), (f"{PHONE}@163.com", "mobile"),
                       (f"http://x.gov.cn/q?id={ID}&a=1", "resident-id"), (f"<td>{ID}</td>", "resident-id"),
                       (f"身份证号码{ID}号", "resident-id"), (f"ID_{ID}_", "resident-id"),
                       (f"\u200b{ID}\u200b", "resident-id"), (f"微信号wxid_{PHONE}", "mobile"),
                       (f"{ID}{CARD}", "bank-card"), (f"{CARD}{ID}", "resident-id"),
                       (f"卡号+{_groups(CARD, CARD_44443, ' ')}", "bank-card")]:
        assert rule in _rules(body), body


# --- precision: government text that is no personal data --------------------------------------------------------------

@pytest.mark.parametrize("body", [
    "平政发〔2026〕12号 平政办发〔2026〕3号", "邮编 655000 电话 0874-7123456",
    "0878-7123456 0871-65123456 (0871)65123456",
    "400-123-4567 95588 12345", "0871 6512 3456", "v1.23.4567.8901", "金额 1 234 567.89 元，合计 12 345 678 901 元",
    "1,234,567,890,123 元", "ISBN 978-7-5087-1234-5", "E102.123456 N24.123456", "530328 530329 530330 530331",
    "2026-03-15 2026-04-15 2026-05-15", "2021 2022 2023 2024 2025 3456 4567 5678 6789", "2026 0315 1030",
    "http://www.gov.cn/zhengce/content/2026-03/15/content_5601234.htm", "大村村委会 156 2345 7890 12.5",
    "编号：5303 2026 0315 0012", "总人口 13 4567 8901"], ids=lambda b: b[:12])
def test_government_figures_are_no_personal_data(body: str) -> None:
    """Held: document numbers, postcodes, landlines, amounts, versions, URLs, years, dates, region codes."""
    assert _rules(body) == []


def test_a_row_of_three_figures_is_no_mobile() -> None:
    assert _rules("各村户数、人口、耕地面积（亩）：\n合计 186 1020 3400\n") == []


@pytest.mark.parametrize("row", ["3200 4500 1800 2690", "4500 3200 1250 6870 16"], ids=["four", "five"])
def test_a_row_of_amounts_is_no_bank_card(row: str) -> None:
    assert luhn_ok(row.replace(" ", ""))
    assert _rules(f"各项支出（万元）：\n{row}\n") == []


@finding("FINDING (low): a case or receipt number of region code, date and serial (530328-YYYYMMDD-NNNN, as "
         "registration offices print them) is an ID number of severity block when its last digit happens to be the "
         "check digit (1 in 11), even when its date is of this year. Fix: none cheap; a birth date not after the "
         "item's creation (passed in, the screen stays pure) would remove most")
def test_a_serial_of_region_date_and_number_is_no_id_number() -> None:
    assert _rules("受理编号：530328-20260315-0107") == []


# --- robustness: odd bodies ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    "\ud800" * 1000, f"\udfff{ID}\ud800", "\x00" * 1000, f"{ID[:9]}\x00{ID[9:]}", "9" * 50_000, "1 " * 20_000,
    "1-" * 20_000, "1\u200b" * 20_000, "\u200b" * 20_000, "1" + "\u200b" * 20_000 + "1", "１" * 20_000,
    "5303281990" * 5000, ("1" * 17 + "X") * 2000, "涉密\n" * 5000, "+" * 1000 + PHONE, "𠀀" * 1000 + ID],
    ids=lambda b: repr(b[:8]))
def test_odd_bodies_are_screened_without_an_exception(body: str) -> None:
    """Held: lone surrogates, NUL, long runs of digits, of spaced digits, of invisible characters, astral characters:
    offsets stay in the body, ordered, a kind never overlapping another."""
    found = screen(body)
    assert all(0 <= f.start < f.end <= len(body) for f in found)
    kinds = sorted((s, e) for _, s, e in numbers(body, list(KINDS)))
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(kinds))


SEPARATORS = st.sampled_from([" ", "-"])
AROUND = st.sampled_from(["", "，", "。", "身份证号", "电话：", "\n", "（", "）", "申请人张某", "𠀀", "😀"])


@st.composite
def written(draw: st.DrawFn) -> tuple[str, str, str]:
    """(kind, its digits, how written) in the spellings the screen claims to read, astral characters around."""
    kind = draw(st.sampled_from(["resident_id", "mobile", "bank_card"]))
    number = draw({"resident_id": resident_ids(), "mobile": mobiles, "bank_card": cards()}[kind])
    sep = draw(SEPARATORS)
    sizes = {"resident_id": ID_684, "mobile": MOBILE_344,
             "bank_card": (4,) * (len(number) // 4) + ((len(number) % 4,) if len(number) % 4 else ())}[kind]
    at = draw(st.integers(1, len(number) - 1))
    invisible = draw(st.sampled_from("\u200b\u00ad\u2060"))
    return kind, number, draw(st.sampled_from([number, _groups(number, sizes, sep), number.translate(FULL_WIDTH),
                                               number[:at] + invisible + number[at:]]))


@given(AROUND, written(), AROUND)
def test_a_finding_covers_the_number_as_written_and_nothing_else(before: str, spelled: tuple[str, str, str],
                                                                  after: str) -> None:
    """Held: the span starts at the number's first character and ends after its last (separators and invisible
    characters inside, none outside); masking by the findings leaves no digit of it."""
    kind, _, spelling = spelled
    if " " in spelling and kind != "resident_id":  # a mobile or a card between spaces after a word naming one
        before += "电话" if kind == "mobile" else "卡号"
    text = before + spelling + after
    at = len(before)
    found = [(k, s, e) for k, s, e in numbers(text, list(KINDS)) if k == kind]
    assert (kind, at, at + len(spelling)) in found, (spelling, found)
    assert not any(c.isdigit() for c in masked(text).replace("𠀀", "")), "a digit left by masking"


def test_plus86_is_inside_the_span_and_nothing_before_it() -> None:
    """Held: +86 belongs to the mobile's span (so redaction by finding hides it too); the word before does not."""
    for prefix in ("+86", "+86 ", "+86-"):
        text = f"电话{prefix}{PHONE}。"
        ((_, s, e),) = numbers(text, list(KINDS))
        assert text[s:e] == prefix + PHONE, prefix


# --- robustness: the built-in patterns cannot backtrack super-linearly ---------------------------------------------

def _members(items: list[Any]) -> Callable[[int], bool]:
    """Membership of one character class of the parser's tree (IN, LITERAL, NOT_LITERAL, ANY, CATEGORY)."""
    def category(cat: Any, c: int) -> bool:
        ch = chr(c)
        return {sre.CATEGORY_DIGIT: ch.isdecimal(), sre.CATEGORY_NOT_DIGIT: not ch.isdecimal(),
                sre.CATEGORY_SPACE: ch.isspace(), sre.CATEGORY_NOT_SPACE: not ch.isspace(),
                sre.CATEGORY_WORD: ch.isalnum() or ch == "_",
                sre.CATEGORY_NOT_WORD: not (ch.isalnum() or ch == "_")}.get(cat, True)

    def one(op: Any, av: Any, c: int) -> bool:
        if op is sre.LITERAL:
            return bool(c == av)
        if op is sre.NOT_LITERAL:
            return bool(c != av)
        if op is sre.RANGE:
            return bool(av[0] <= c <= av[1])
        if op is sre.CATEGORY:
            return category(av, c)
        return op is sre.ANY

    def member(c: int) -> bool:
        (op, av), = items
        if op is not sre.IN:
            return one(op, av, c)
        negate = bool(av) and av[0][0] is sre.NEGATE
        hit = any(one(o, a, c) for o, a in (av[1:] if negate else av))
        return hit != negate
    return member


def _nullable(item: tuple[Any, Any]) -> bool:
    op, av = item
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        return bool(av[0] == 0) or all(_nullable(i) for i in av[2])
    if op is sre.SUBPATTERN:
        return all(_nullable(i) for i in av[3])
    if op is sre.BRANCH:
        return any(all(_nullable(i) for i in alt) for alt in av[1])
    return op is sre.AT


def _unbounded(item: tuple[Any, Any]) -> Callable[[int], bool] | None:
    """The class of a backtracking repeat without bound of one character class (possessive ones do not count)."""
    op, av = item
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[1] == sre.MAXREPEAT and len(av[2]) == 1 \
            and av[2][0][0] in (sre.IN, sre.LITERAL, sre.NOT_LITERAL, sre.ANY):
        return _members(list(av[2]))
    return None


def _heads(items: list[Any]) -> Iterator[Callable[[int], bool]]:
    """The unbounded repeats a match can enter first at the start of `items` (through optional items)."""
    for item in items:
        op, av = item
        own = _unbounded(item)
        if own is not None:
            yield own
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            yield from _heads(list(av[2]))
        elif op is sre.SUBPATTERN:
            yield from _heads(list(av[3]))
        elif op is sre.BRANCH:
            for alt in av[1]:
                yield from _heads(list(alt))
        if not _nullable(item):
            return


def _meetings(items: list[Any]) -> Iterator[int]:
    """Each character two unbounded repeats of a sequence can share with only optional items between them: a run of
    it may be split between the two in as many ways as it is long, each tried on a failure (and a third or a fourth
    repeat multiplies that again)."""
    for i, item in enumerate(items):
        own = _unbounded(item)
        if own is not None:
            for head in _heads(items[i + 1:]):
                yield from (c for c in (*range(0x80), 0xA0, 0x3000, 0x2002, 0x200B) if own(c) and head(c))
        op, av = item
        nested = [list(av[2])] if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) else \
            [list(av[3])] if op is sre.SUBPATTERN else [list(a) for a in av[1]] if op is sre.BRANCH else \
            [list(av)] if op is sre.ATOMIC_GROUP else []
        for seq in nested:
            yield from _meetings(seq)


def test_the_check_of_meeting_repeats_sees_what_it_should() -> None:
    """The static check itself: a classic quadratic pattern is seen, linear and possessive ones are not."""
    assert list(_meetings(list(sre_parse.parse(r"^ *-? *x$"))))
    assert list(_meetings(list(sre_parse.parse(r"^ *(?: *x)?$"))))
    assert not list(_meetings(list(sre_parse.parse(r"^ *x *$"))))
    assert not list(_meetings(list(sre_parse.parse(r"^ *+-? *x$"))))


@pytest.mark.parametrize("rule", [r.id for r in builtin_rules().rules if r.pattern is not None])
def test_no_built_in_pattern_splits_a_run_between_two_repeats(rule: str) -> None:
    """Built-in patterns run with `re`, without the time limit: none may let two unbounded repeats share a character
    with only optional items between them (the shape of super-linear backtracking). Read from the parsed pattern,
    not timed."""
    found = builtin_rules().get(rule)
    assert found is not None and found.pattern is not None
    shared = sorted(set(_meetings(list(sre_parse.parse(found.pattern.pattern)))))
    assert shared == [], [hex(c) for c in shared]


# --- the gate and verify: grouped, glued and hidden numbers redacted by finding ------------------------------------

SPELLINGS = {
    "mobile-grouped": (f"村务公开：主任电话{_groups(PHONE, MOBILE_344, ' ')}，欢迎监督。", "mobile"),
    "mobile-plus86": (f"联系电话+86-{_groups(PHONE, MOBILE_344, '-')}。", "mobile"),
    "id-grouped": (f"低保名单：张三，身份证{_groups(ID, ID_684, ' ')}。", "resident-id"),
    "id-glued-letters": (f"低保名单：张三，IDNO{ID}abc。", "resident-id"),
    "id-glued-mobile": (f"低保名单：张三，{PHONE}{ID}。", "resident-id"),
    "id-hidden": (f"低保名单：张三，身份证{ID[:6]}\u200b\u00ad{ID[6:]}。", "resident-id"),
    "card-grouped": (f"补贴发放：卡号{_groups(CARD, CARD_44443, ' ')}。", "bank-card"),
    "id-full-width": (f"低保名单：张三，身份证{ID.translate(FULL_WIDTH)}。", "resident-id"),
}


def _digits(text: str) -> str:
    return "".join(c for c in text.translate(str.maketrans("０１２３４５６７８９", "0123456789")) if c.isdigit())


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_a_number_however_written_is_redacted_whole_published_and_verified(wf: Workflow, spelling: str) -> None:
    """Held (SQLite and PostgreSQL): the gate stops it, a redaction of every block finding hides every digit of it,
    the item publishes, and `verify` re-screens the recorded screens and agrees."""
    body, rule = SPELLINGS[spelling]
    item = in_review(wf, body)
    found = [f for field, f in wf.screen_item(item) if field == "body" and f.severity == "block"]
    assert rule in [f.rule for f in found]
    with pytest.raises(ScreenBlocked):
        wf.advance(item, "clear", actor="sec", decision="full")
    wf.redact(item, [(f.start, f.end, "art15") for f in found], actor="sec")
    to_public(wf, item, "partial")
    public = wf.item(item).public_body
    assert _digits(public) == "", "a digit of the number was published"
    report = wf.verify()
    assert report.ok, report.problems


def test_the_cli_redacts_a_grouped_number_by_finding(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Held: `advance ITEM redact --finding N:GROUND` withholds the whole grouped number, separators and +86 too;
    nothing of it is printed without --show."""
    from tests.requesting import cli_world

    cli_world(capsys, tmp_path, monkeypatch)
    spaced = _groups(PHONE, MOBILE_344, " ")
    body = f"联系电话：+86 {spaced}；身份证{_groups(ID, ID_684, '-')}。"
    item = ok_json(capsys, "item", "new", "--title", "名单", "--unit", "gov", "--category", "2.4", "--timing",
                   "immediate", "--kind", "info", "--body", body, "--as", "clerk")["id"]
    ok(capsys, "advance", item, "submit", "--as", "clerk")
    ok(capsys, "advance", item, "proofread", "--as", "proof")
    found = ok_json(capsys, "screen", item)
    assert sorted(f["rule"] for f in found) == ["mobile", "resident-id"]
    assert spaced not in json.dumps(found, ensure_ascii=False)
    args = [a for f in found for a in ("--finding", f"{f['n']}:art15")]
    ok(capsys, "advance", item, "redact", *args, "--as", "sec")
    assert ok_json(capsys, "screen", item, "--redacted") == []
    shown = ok_json(capsys, "item", "show", item, "--redacted")["body"]
    assert _digits(shown) == "" and "+" not in shown, "part of a number left in the redacted body"


def test_refusals_and_logs_hold_no_grouped_or_hidden_number(wf: Workflow) -> None:
    """Held: the refusal, the events and the logs name rules and places, never the number in any spelling."""
    spaced, hidden = _groups(PHONE, MOBILE_344, " "), f"{ID[:6]}\u200b{ID[6:]}"
    with captured_logs() as logs:
        item = in_review(wf, f"名单：{hidden}，电话{spaced}。", title=f"电话{_groups(PHONE, MOBILE_344, '-')}")
        with pytest.raises(ScreenBlocked) as blocked:
            wf.advance(item, "clear", actor="sec", decision="full")
    everything = str(blocked.value) + json.dumps([s.data for s in wf.history(item)], ensure_ascii=False) + json.dumps(
        logs, ensure_ascii=False, default=str)
    assert spaced not in everything and hidden not in everything
    assert PHONE not in re.sub(r"[\s\-\u200b]", "", everything) and ID not in everything.replace("\u200b", "")
