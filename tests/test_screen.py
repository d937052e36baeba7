"""The pre-screen (workflow/screen.py): ID numbers, office rules, the time limit, and that the fast search (anchors,
byte runs) finds what a search of the whole body finds. The corpus is tests/test_screen_corpus.py's."""

from __future__ import annotations

import itertools
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.errors import InvalidInput
from workflow.screen import Finding, RuleSet, ScreenTimeout, builtin_rules, load_rules, rule_of, screen
from workflow.screen_numbers import luhn_ok, resident_id_check, runs, uscc_check


def resident_id(region: str, born: str, seq: str) -> str:
    first = region + born + seq
    return first + resident_id_check(first)


def card(prefix: str) -> str:
    """`prefix` completed with the Luhn check digit."""
    return next(prefix + d for d in "0123456789" if luhn_ok(prefix + d))


def uscc(first17: str) -> str:
    return first17 + uscc_check(first17)


def bad_check(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


ID1 = resident_id("532328", "19850317", "201")
CARD = card("622848004000123456")  # 19 digits
CODE = uscc("91532328MA6K12345")


def test_random_valid_ids_are_all_found_and_wrong_check_digits_never() -> None:
    rng = random.Random(14)
    for _ in range(300):
        born = f"{rng.randint(1920, 2020)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        number = resident_id(f"{rng.randint(11, 65)}{rng.randint(0, 9999):04d}", born, f"{rng.randint(0, 999):03d}")
        text = f"申请人身份证号{number}，"
        assert [f.rule for f in screen(text)] == ["resident-id"]
        assert "resident-id" not in [f.rule for f in screen(f"身份证号{bad_check(number)}，")]


def test_a_finding_holds_no_matched_text() -> None:
    f = screen("电话13987654321")[0]
    assert f == Finding("mobile", "block", 2, 13)
    assert "13987654321" not in repr(f)


# --- office rules --------------------------------------------------------------------------------------------

OFFICE = """
disable = ["uscc"]
[[rule]]
id = "case-number"
zh = "案件编号"
severity = "warn"
pattern = '案\\d{6}'
[[rule]]
id = "mobile"
zh = "手机号码"
severity = "warn"
kind = "mobile"
"""


def test_office_rules_add_replace_and_disable() -> None:
    rules = load_rules(OFFICE, "office.toml")
    text = f"案123456 电话13987654321 代码{CODE}\n秘密★\n"
    assert [(f.rule, f.severity) for f in screen(text, rules)] == [
        ("case-number", "warn"), ("mobile", "warn"), ("classification-mark", "forbid")]
    assert len(rules.rules) == len(builtin_rules().rules)  # +1 added, -1 disabled, 1 replaced


@pytest.mark.parametrize("office", [
    'disable = ["classification-mark"]',
    '[[rule]]\nid = "classification-mark"\nzh = "x"\nseverity = "warn"\npattern = "秘密"',
])
def test_the_classification_mark_rule_cannot_be_removed_or_lowered(office: str) -> None:
    with pytest.raises(InvalidInput, match=r"office\.toml: rule 'classification-mark' .*cannot be removed"):
        load_rules(office, "office.toml")


def test_a_bad_pattern_names_the_file_and_the_rule() -> None:
    with pytest.raises(InvalidInput, match=r"^office\.toml: rule 'broken': bad pattern"):
        load_rules('[[rule]]\nid = "broken"\nzh = "坏"\nseverity = "warn"\npattern = "(a"', "office.toml")
    with pytest.raises(InvalidInput, match="unknown kind"):
        load_rules('[[rule]]\nid = "x"\nzh = "x"\nseverity = "warn"\nkind = "passport"', "office.toml")


def test_a_catastrophic_office_pattern_is_stopped_by_the_time_limit() -> None:
    rules = load_rules('[[rule]]\nid = "slow"\nzh = "慢"\nseverity = "warn"\npattern = "(a|aa)+$"', "office.toml")
    with pytest.raises(ScreenTimeout, match="'slow'"):
        screen("a" * 5000 + "!", rules, time_limit=0.05)


# --- properties ----------------------------------------------------------------------------------------------

PIECES = st.sampled_from(["秘密★", "机密", "★", "内部资料", "\n", " ", "住址：", "村", "3组", "12号", ID1, CARD,
                          "13987654321", "+86", CODE, "1", "X", "文", "，"])


@given(st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=30).map("".join))
def test_offsets_stay_in_the_text_and_a_rule_never_overlaps_itself(text: str) -> None:
    findings = screen(text)
    for f in findings:
        assert 0 <= f.start < f.end <= len(text)
    for rule in {f.rule for f in findings}:
        spans = sorted((f.start, f.end) for f in findings if f.rule == rule)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


# What the anchors of the built-in rules stand for, and the lines around them: any of it, in any order.
NEAR = st.sampled_from([
    "秘密★", "机密", "绝 密", "密", "★", "☆", "＊", "*", "涉密", "涉密文件", "内部", "内部资料", "部", "注意保存", "，",
    "\n", "\r\n", " ", "\t", "\u3000", "住址：", "家住", "现居住", "户籍地：", "居住", "住", "籍", "村", "3组", "社",
    "12号", "1年", "长期", "会议开始前", "𠀀", "a1", ID1, "X"])


@given(st.lists(st.one_of(NEAR, st.text(max_size=4)), max_size=40).map("".join))
def test_each_built_in_rule_finds_what_a_search_of_the_whole_body_finds(text: str) -> None:
    for rule in builtin_rules().rules:
        if rule.pattern is not None:
            whole = [(m.start(), m.end()) for m in rule.pattern.finditer(text) if m.end() > m.start()]
            assert [(f.start, f.end) for f in screen(text, RuleSet((rule,)))] == whole, rule.id


@given(st.lists(st.one_of(PIECES, st.sampled_from(["a", "Z", "9", "_", "１", "𠀀", "\ud800"]), st.text(max_size=5)),
                max_size=30).map("".join))
def test_the_runs_are_those_of_a_character_class(text: str) -> None:
    assert [p.span(0, len(p.chars)) for p in runs(text)] == [m.span() for m in re.finditer("[0-9A-Za-z]{11,}", text)]


def test_anchors_are_for_the_built_in_file_only_and_are_patterns() -> None:
    table = {"id": "x", "zh": "x", "severity": "warn", "pattern": "x", "anchors": ["x"]}
    with pytest.raises(InvalidInput, match="unknown key 'anchors'"):
        rule_of(table, "office.toml", 1, builtin=False)
    with pytest.raises(InvalidInput, match="anchors must be a list of patterns"):
        rule_of({**table, "anchors": "x"}, "screen_rules.toml", 1, builtin=True)
    with pytest.raises(InvalidInput, match="bad pattern"):
        rule_of({**table, "anchors": ["(x"]}, "screen_rules.toml", 1, builtin=True)


def test_masked_hides_what_blocks_and_keeps_the_rest() -> None:
    from workflow.screen import masked

    assert masked("关于13912345678来电的答复（住址：大村3组12号）") == "关于［已隐去］来电的答复（住址：大村3组12号）"
    assert masked("关于调整低保标准的通知") == "关于调整低保标准的通知"
