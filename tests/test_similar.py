"""Art. 44: which earlier requests ask for the same information, on a corpus of requests to 平田乡 written for
the test (each group asks for one piece of information; the groups are traps for one another)."""

from __future__ import annotations

from itertools import combinations

import pytest

from workflow.errors import InvalidInput
from workflow.similar import THRESHOLD, same_information

# Each inner tuple asks for one piece of information, in the words applicants use.
GROUPS: tuple[tuple[str, ...], ...] = (
    ("2025年平田乡低保资金发放明细", "请公开平田乡2025年度低保金发放名单及金额", "平田乡 2025年 低保资金 发放 明细。",
     "２０２５年平田乡低保资金发放情况", "申请公开2025年平田乡低保资金发放明细的相关信息",
     "二〇二五年平田乡低保金发放明细"),
    ("2024年平田乡低保资金发放明细", "平田乡2024年度低保金发放名单"),
    ("平田乡低保资金发放明细",),  # no year: not known to be either of the above
    ("2025年平田乡五保供养资金发放明细", "请公开2025年五保户供养金发放情况"),
    ("村道硬化工程招标文件", "关于平田乡村道硬化工程的招标文件", "请提供村道硬化工程招标公告及招标文件"),
    ("村道硬化工程中标结果公示", "平田乡村道硬化工程中标单位及中标金额"),
    ("乡卫生院建设项目预算", "平田乡卫生院建设工程项目预算明细"),
    ("平田乡2024年财政预算", "2024年度平田乡人民政府财政预算公开"),
    ("平田乡2024年财政决算", "请公开平田乡人民政府2024年度财政决算报告"),
    ("平田乡大河村土地征收补偿安置方案", "关于大河村征地补偿安置方案的信息"),
    ("平田乡小河村土地征收补偿安置方案",),
    ("2023年7月洪涝灾害救灾物资发放名单", "平田乡2023年7月洪灾救灾物资发放情况"),
    ("平田乡人民政府领导班子成员及分工", "乡政府领导分工情况"),
    ("2025年第三季度乡级财政收支情况", "2025年三季度平田乡财政收支", "平田乡2025年第3季度财政收支情况"),
    ("2025年第二季度乡级财政收支情况",),
    ("平田乡2025年春耕备耕补贴政策解读",),
    ("2025年春耕备耕补贴发放名单",),
    ("平田乡垃圾清运服务合同",),
    ("平田乡中心小学营养餐资金使用情况",),
    ("大河村2025年村务公开收支明细",),
    ("平田乡2025年耕地地力保护补贴发放花名册", "2025年度耕地地力保护补贴发放名单（平田乡）"),
    ("平田乡政务公开工作年度报告",),
)
# Written after THRESHOLD and the rules were fixed on GROUPS, to see how they do on what they were not tuned to.
HELD_OUT: tuple[tuple[str, ...], ...] = (
    ("平田乡2025年临时救助对象名单", "请公开2025年度平田乡临时救助人员名单及救助金额"),
    ("平田乡2025年残疾人两项补贴发放名单", "2025年平田乡困难残疾人生活补贴和重度残疾人护理补贴发放情况"),
    ("2026年平田乡政府采购计划", "平田乡人民政府2026年度政府采购计划表"),
    ("平田乡2026年政府采购合同",),
    ("平田乡集镇污水处理厂建设项目环境影响评价报告", "集镇污水处理厂环评报告"),
    ("平田乡2025年森林防火专项资金使用情况", "关于2025年度森林防火经费使用明细的信息"),
    ("平田乡2025年地质灾害隐患点名录",),
    ("平田乡行政执法事项清单", "平田乡人民政府行政执法事项目录及执法依据"),
    ("2025年平田乡公益性岗位招聘结果",),
    ("2025年平田乡公益性岗位招聘公告",),
    ("平田乡第十二届人民代表大会第五次会议政府工作报告", "平田乡第12届人大第5次会议政府工作报告全文"),
    ("平田乡第十二届人民代表大会第四次会议政府工作报告",),
    ("元谋县平田乡国土空间总体规划（2021-2035年）", "平田乡国土空间规划2021—2035"),
    ("平田乡2025年高龄津贴发放名单",),
    ("平田乡农村危房改造补助对象名单", "农村危房改造补助资金发放对象公示名单"),
    ("平田乡2024年义务教育营养改善计划资金使用情况",),
    ("2025年平田乡公务用车运行维护费支出",),
    ("2025年平田乡三公经费支出情况", "平田乡2025年度“三公”经费决算"),
)

# Written after HELD_OUT had shown two gaps (第五次 was no number; a plan, a call and a result were not told apart)
# and they were mended, to measure the mended rules afresh.
HELD_OUT_2: tuple[tuple[str, ...], ...] = (
    ("平田乡2025年度部门整体支出绩效自评报告", "请公开平田乡人民政府2025年部门整体支出绩效自评结果"),
    ("平田乡2025年度项目支出绩效自评报告",),
    ("2025年平田乡饮水安全巩固提升工程项目实施方案", "关于平田乡2025年农村饮水安全巩固提升工程实施方案的信息"),
    ("2025年平田乡饮水安全巩固提升工程竣工验收报告",),
    ("平田乡突发事件总体应急预案", "平田乡人民政府突发公共事件总体应急预案全文"),
    ("平田乡防汛抗旱应急预案",),
    ("2024年12月平田乡低保新增审批对象公示", "平田乡2024年12月新增低保对象名单"),
    ("2024年11月平田乡低保新增审批对象公示",),
    ("平田乡小河村2025年村级集体经济收益分配方案", "小河村二〇二五年村集体经济收益分配情况"),
    ("平田乡农村宅基地审批办事指南", "农村村民宅基地申请审批流程及所需材料"),
    ("平田乡殡葬管理规定",),
    ("2025年平田乡人居环境整治资金使用明细", "平田乡2025年农村人居环境整治专项资金支出情况"),
    ("平田乡2025年秸秆禁烧工作方案",),
    ("平田乡2025年乡村振兴衔接资金项目公告公示",),
    ("平田乡2025年乡村振兴衔接资金项目库",),
    ("平田乡政府信息公开指南", "平田乡人民政府政府信息公开指南（2025年修订）"),
    ("平田乡政府信息公开申请表",),
)


def requests(groups: tuple[tuple[str, ...], ...]) -> list[tuple[str, str]]:
    return [(f"r{g}-{i}", text) for g, group in enumerate(groups) for i, text in enumerate(group)]



def group_of(request_id: str) -> str:
    return request_id.partition("-")[0]


def confusion(corpus: list[tuple[str, str]], threshold: float = THRESHOLD) -> tuple[int, int, int]:
    """True matches, false matches and missed matches over every pair of the corpus, each request asking
    about those before it."""
    found = set()
    for k, (request_id, text) in enumerate(corpus):
        found |= {frozenset((request_id, other)) for other, _ in same_information(text, corpus[:k],
                                                                                  threshold=threshold)}
    same = {frozenset((a, b)) for (a, _), (b, _) in combinations(corpus, 2) if group_of(a) == group_of(b)}
    return len(found & same), len(found - same), len(same - found)


# Measured at THRESHOLD (true, false, missed matches): GROUPS (31, 4, 0), whose false ones are 大河村/小河村 twice
# and lists of different subsidies; HELD_OUT (10, 1, 0) after the mending, (9, 5, 1) before; HELD_OUT_2 (6, 8, 2):
# a project's plan and its acceptance, two kinds of 预案 or 绩效自评, a guide and a form are too alike in their
# characters, and a guide "2025年修订" names a number its plain name does not. The floors keep what was measured.
@pytest.mark.parametrize(("groups", "precision", "recall"), [(GROUPS, 0.88, 1.0), (HELD_OUT, 0.9, 1.0),
                                                             (HELD_OUT_2, 0.42, 0.75)])
def test_precision_and_recall_on_the_corpora(groups: tuple[tuple[str, ...], ...], precision: float,
                                             recall: float) -> None:
    hits, false, missed = confusion(requests(groups))
    assert hits / (hits + false) >= precision and hits / (hits + missed) >= recall, (hits, false, missed)


def test_the_same_payments_in_other_words_match() -> None:
    found = same_information("请公开平田乡2025年度低保金发放名单及金额", [("a", "2025年平田乡低保资金发放明细")])
    assert [request_id for request_id, _ in found] == ["a"]


def test_another_year_never_matches_however_alike_the_words() -> None:
    assert same_information("2025年平田乡低保资金发放明细", [("a", "2024年平田乡低保资金发放明细")],
                            threshold=0.01) == []


def test_another_quarter_in_chinese_numerals_never_matches() -> None:
    earlier = [("q2", "2025年第二季度乡级财政收支情况"), ("q3", "2025年第3季度乡级财政收支情况")]
    assert [i for i, _ in same_information("2025年第三季度乡级财政收支情况", earlier, threshold=0.01)] == ["q3"]


def test_numbers_in_chinese_and_ranges_are_numbers() -> None:
    earlier = [("5", "平田乡第12届人大第5次会议政府工作报告"), ("4", "平田乡第12届人大第4次会议政府工作报告")]
    fifth = same_information("平田乡第十二届人民代表大会第五次会议政府工作报告", earlier)
    assert [i for i, _ in fifth] == ["5"]
    plan = same_information("国土空间总体规划（2021-2035年）",
                            [("same", "国土空间规划 2021—2035"), ("other", "国土空间规划（2021-2030年）")])
    assert [i for i, _ in plan] == ["same"]


def test_words_that_name_other_information_keep_it_apart() -> None:
    assert same_information("平田乡2024年财政预算", [("final", "平田乡2024年财政决算")], threshold=0.01) == []
    assert same_information("2024年平田乡低保资金发放明细", [("five", "2024年平田乡五保供养资金发放明细")],
                            threshold=0.01) == []


def test_unrelated_information_does_not_match() -> None:
    assert same_information("村道硬化工程招标文件", [("a", "乡卫生院建设项目预算")], threshold=0.01) == []


def test_the_same_text_once_normalised_scores_1() -> None:
    earlier = [("a", "申请公开：２０２５年 平田乡低保资金发放明细！"), ("b", "2025年平田乡低保资金发放明细")]
    assert same_information("2025年平田乡低保资金发放明细", earlier) == [("a", 1.0), ("b", 1.0)]


def test_matches_come_best_first_and_the_threshold_holds() -> None:
    earlier = [("loose", "请公开平田乡2025年度低保金发放名单及金额"), ("exact", "2025年平田乡低保资金发放明细"),
               ("close", "2025年平田乡低保资金发放情况"), ("other", "村道硬化工程招标文件")]
    found = same_information("2025年平田乡低保资金发放明细", earlier)
    assert [i for i, _ in found] == ["exact", "close", "loose"]
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True) and scores[0] == 1.0 > scores[1] > scores[2] >= THRESHOLD
    stricter = same_information("2025年平田乡低保资金发放明细", earlier, threshold=scores[1])
    assert [i for i, _ in stricter] == ["exact", "close"]


def test_an_earlier_description_that_says_nothing_is_passed_over() -> None:
    assert same_information("2025年平田乡低保资金发放明细", [("blank", " 　\n"), ("dots", "。。。")]) == []


@pytest.mark.parametrize("description", ["", "   ", "\u3000\n\t", "。，、！"])
def test_a_description_that_says_nothing_is_refused(description: str) -> None:
    with pytest.raises(InvalidInput, match="must say what information"):
        same_information(description, [("a", "2025年平田乡低保资金发放明细")])


@pytest.mark.parametrize("threshold", [0, -0.5, 1.5])
def test_a_threshold_outside_0_to_1_is_refused(threshold: float) -> None:
    with pytest.raises(InvalidInput, match="threshold"):
        same_information("村道硬化工程招标文件", [], threshold=threshold)
