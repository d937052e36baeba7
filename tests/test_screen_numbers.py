"""Numbers as personal data (workflow/screen_numbers.py): found in every spelling a reader still reads as the
number (groups, glued to letters or to another number, an invisible character inside, full-width digits), and not
in rows of figures that only look like groups."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from workflow.screen import screen
from workflow.screen_numbers import _ID_SHAPE, KINDS, is_resident_id, luhn_ok, numbers, resident_id_check

INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
AROUND = st.sampled_from(["", "，", "。", "身份证号", "电话：", "\n", "（", "）", "申请人张某", " 、"])


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["530328", "532328", "110105", "440305"]))
    born = date(1900, 1, 1) + timedelta(days=draw(st.integers(0, 199 * 365)))
    first = f"{region}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first + resident_id_check(first)


mobiles = st.builds(lambda second, rest: f"1{second}{rest:09d}", st.sampled_from("3456789"),
                    st.integers(0, 10**9 - 1))


@st.composite
def cards(draw: st.DrawFn) -> str:
    # 16 or 19 digits, as debit cards are: an 18-digit number may pass the check of a credit code as well
    size = draw(st.sampled_from([9, 12]))
    prefix = draw(st.sampled_from(["622202", "621700", "455951", "625800"])) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=size, max_size=size)))
    return next(prefix + d for d in "0123456789" if luhn_ok(prefix + d))


def grouped(number: str, sizes: tuple[int, ...], sep: str) -> str:
    at = list(itertools.accumulate(sizes, initial=0))
    return sep.join(number[a:b] for a, b in itertools.pairwise(at))


@st.composite
def hidden(draw: st.DrawFn, number: str) -> str:
    """`number` with an invisible character pasted at a place inside it."""
    at = draw(st.integers(1, len(number) - 1))
    return number[:at] + draw(st.sampled_from(INVISIBLE)) + number[at:]


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str, str]:
    """(kind, the number's digits, how it is written)."""
    kind = draw(st.sampled_from(["resident_id", "mobile", "bank_card"]))
    number = draw({"resident_id": resident_ids(), "mobile": mobiles, "bank_card": cards()}[kind])
    sep = draw(st.sampled_from(" -"))
    ways = [st.just(number), hidden(number), st.just(number.translate(FULL_WIDTH))]
    if kind == "resident_id":
        ways += [st.just(grouped(number, (6, 8, 4), sep)), st.just("IDNO" + number), st.just(number + "abc"),
                 mobiles.map(lambda m: m + number)]
    elif kind == "mobile":
        ways += [st.just(grouped(number, (3, 4, 4), sep)), st.just("+86" + sep + grouped(number, (3, 4, 4), sep)),
                 st.just("+86" + number)]
    else:
        ways += [st.just(grouped(number, (4,) * (len(number) // 4) + ((len(number) % 4,) if len(number) % 4 else ()),
                                 sep))]
    return kind, number, draw(st.one_of(ways))


def read(text: str) -> str:
    """What a reader reads in the place of a finding: the digits, without separators or invisible characters."""
    return "".join(c for c in text.translate(str.maketrans("０１２３４５６７８９Ｘ", "0123456789X"))
                   if c.isascii() and c.isalnum())


@given(AROUND, spellings(), AROUND)
def test_a_number_is_found_however_it_is_written(before: str, spelled: tuple[str, str, str], after: str) -> None:
    kind, number, written = spelled
    if " " in written and kind != "resident_id":  # a mobile or a card between spaces after a word naming one
        before += "电话" if kind == "mobile" else "卡号"
    text = before + written + after
    found = [(k, text[s:e]) for k, s, e in numbers(text, list(KINDS))]
    assert any(k == kind and read(place).endswith(number) for k, place in found), (written, found)
    spans = sorted((s, e) for _, s, e in numbers(text, list(KINDS)))
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), "one place claimed twice"


@given(st.lists(st.integers(0, 9999), min_size=2, max_size=12), st.sampled_from(" -"))
def test_rows_of_figures_are_no_grouped_number(figures: list[int], sep: str) -> None:
    """Figures of a table or a list of years, none of them 11 digits long: no kind but what is written whole."""
    text = f"数据：{sep.join(str(f) for f in figures)}。"
    for kind, s, e in numbers(text, list(KINDS)):  # only groups of a number's shape, passing its check
        place = text[s:e]
        sizes = tuple(len(g) for g in place.replace("-", " ").split(" "))
        assert sizes in {(3, 4, 4), (2, 3, 4, 4), (6, 8, 4)} or (sizes[:4] == (4, 4, 4, 4) and place[0] in "34569"), \
            (kind, place)
    years = sep.join(str(1990 + f % 60) for f in figures)
    assert numbers(f"年份：{years}。", list(KINDS)) == []


def test_the_shapes_are_strict() -> None:
    assert [f.rule for f in screen("电话139 1234 5678，号码 139 12345 678，0878-712-3456。")] == ["mobile"]
    assert screen("2021 2022 2023 2024 2025") == []  # years: four groups of four digits, not an issuer's number
    assert [f.rule for f in screen("发文日期2026-03-15 139-8765-4321")] == ["mobile"]


def test_a_word_before_or_after_the_groups_is_not_one() -> None:
    for text in ("联系电话 Tel 139 1234 5678。", "手机139 1234 5678 mobile", "ID 530328 19900101 105X，"):
        f, = screen(text)
        assert text[f.start:f.end] in ("139 1234 5678", "530328 19900101 105X"), text


def test_a_disabled_kind_is_not_looked_for_in_any_spelling() -> None:
    text = "身份证号 530328 19900101 1236，手机 139 1234 5678"
    at = text.index("139")
    assert numbers(text, ["mobile"]) == [("mobile", at, at + len("139 1234 5678"))]


@given(resident_ids(), st.sampled_from("0123456789X"))
def test_the_shape_looked_for_in_long_runs_holds_every_id_number(number: str, check: str) -> None:
    """`_ID_SHAPE` is a necessary condition of `is_resident_id` (it only makes the search of a long run fast)."""
    for candidate in (number, number[:-1] + check):
        assert not is_resident_id(candidate) or _ID_SHAPE.match(candidate), candidate
