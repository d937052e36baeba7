"""The pre-screen (workflow/screen.py) on a corpus written for the tests: expected findings per sample, recall
on marks and valid ID numbers, precision overall, the domain's own texts, office rules, the time limit."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.errors import InvalidInput
from workflow.screen import (
    Finding,
    ScreenTimeout,
    builtin_rules,
    excerpt,
    load_rules,
    luhn_ok,
    resident_id_check,
    screen,
    uscc_check,
)

SHARED = Path("/work/shared/domain")
DATA = Path(__file__).parent / "data"


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


ID1, ID2 = resident_id("532328", "19850317", "201"), resident_id("110101", "20000229", "004")
ID_X = next(resident_id("530102", "19761231", f"{n:03d}") for n in range(1000)
            if resident_id("530102", "19761231", f"{n:03d}").endswith("X"))
CARD = card("622848004000123456")  # 19 digits
CARD16 = card("436742001234567")
CODE = uscc("91532328MA6K12345")

# (text, expected [(rule, excerpt)]): marks in many spellings, numbers in running Chinese text, near misses.
CORPUS: list[tuple[str, list[tuple[str, str]]]] = [
    ("秘密★1年\n关于做好防汛工作的通知", [("classification-mark", "秘密★1年")]),
    ("机密 ★ 长期\n正文", [("classification-mark", "机密 ★ 长期")]),
    ("绝密☆\n", [("classification-mark", "绝密☆")]),
    ("秘密＊6个月\n", [("classification-mark", "秘密＊6个月")]),
    ("秘密★会议开始前\n", [("classification-mark", "秘密★会议开始前")]),
    ("秘　密*\n", [("classification-mark", "秘　密*")]),
    ("机密★１０年\n", [("classification-mark", "机密★１０年")]),
    ("文首标注绝密★，其后是正文。", [("classification-mark", "绝密★")]),
    ("涉密\n平田乡关于……的报告", [("classified-mark", "涉密")]),
    ("  内部资料\n仅供参考", [("internal-mark", "  内部资料")]),
    (f"经核实，申请人张某（身份证号{ID1}）已领取补助。", [("resident-id", ID1)]),
    (f"身份证号码：{ID2}，", [("resident-id", ID2)]),
    (f"公民身份号码{ID_X}", [("resident-id", ID_X)]),
    (f"公民身份号码{ID_X[:-1]}x。", [("resident-id", ID_X[:-1] + "x")]),
    ("联系电话13987654321，请于工作日拨打。", [("mobile", "13987654321")]),
    ("手机：+86 15812345678。", [("mobile", "+86 15812345678")]),
    (f"补助资金已打入其银行卡{CARD}。", [("bank-card", CARD)]),
    (f"账号{CARD16}（农村信用社）", [("bank-card", CARD16)]),
    (f"中标单位统一社会信用代码：{CODE}。", [("uscc", CODE)]),
    ("公示对象：李某，住址：平田乡大村委会小村3组12号。", [("address", "住址：平田乡大村委会小村3组12号")]),
    # Near misses: nothing expected.
    ("要严格遵守保密纪律，涉密不上网、上网不涉密。", []),
    ("除涉及国家秘密外，要积极通过网络公开。秘密文件不得上网。", []),
    ("加强内部管理，规范内部流程。", []),
    (f"身份证号{bad_check(ID1)}（校验位错误）", []),
    (f"证号{ID1[:6]}19851332{ID1[14:]}（日期不存在）", []),
    ("编号2019049000012345678901（超长）", []),
    ("电话12345678901，座机0878-1234567。", []),
    ("金额1234567.89元，2019年8月16日印发。", []),
    (f"批次{bad_check(CARD)}（校验失败）", []),
    (f"代码{bad_check(CODE)}（校验位错误）", []),
    ("地点：平田乡大村委会小村3组会议室。", []),
    ("政府发〔2019〕49号", []),
]


def found(text: str) -> list[tuple[str, str]]:
    return [(f.rule, excerpt(text, f)) for f in screen(text)]


@pytest.mark.parametrize(("text", "expected"), CORPUS, ids=[str(i) for i in range(len(CORPUS))])
def test_each_sample_gives_its_expected_findings(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


def test_recall_on_marks_and_valid_ids_is_total_and_precision_at_least_95() -> None:
    expected = {(i, e) for i, (_, exp) in enumerate(CORPUS) for e in exp}
    got = {(i, g) for i, (text, _) in enumerate(CORPUS) for g in found(text)}
    key = {"classification-mark", "resident-id"}
    assert {e for e in expected if e[1][0] in key} <= got
    assert len(got & expected) / len(got) >= 0.95


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


def domain_texts() -> list[Path]:
    texts = [DATA / "plan-excerpt.txt"]
    if SHARED.is_dir():  # not in CI: the excerpt above stands in for it there
        texts += [SHARED / "pingtian-2019-disclosure-plan.txt", SHARED / "DOMAIN.md"]
    return texts


@pytest.mark.parametrize("path", domain_texts(), ids=lambda p: p.name)
def test_no_forbid_or_block_on_the_domain_texts(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.name == "DOMAIN.md":
        # It quotes the marks in back-quotes as examples of what must be refused: those and only those.
        assert {excerpt(text, f) for f in screen(text) if f.severity != "warn"} <= {"秘密★1年", "机密★会议开始前",
                                                                                      "绝密★"}
        return
    assert [f for f in screen(text) if f.severity != "warn"] == []


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
