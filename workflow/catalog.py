"""What can be disclosed, and when: the plan's categories (§四(一)), timings (§四(二)) and the 五公开 tags."""

from __future__ import annotations

import re
from collections.abc import Mapping

from workflow.errors import InvalidInput

CATEGORIES: dict[str, str] = {
    "1": "规范性文件和发展规划",
    "1.1": "规范性文件及具体制度",
    "1.2": "国民经济和社会发展规划、计划及完成情况",
    "1.3": "集镇总体规划、土地利用总体规划、专项规划",
    "2": "与公众密切相关的重大事项",
    "2.1": "疫情、灾情或突发事件的预报、发生及处理",
    "2.2": "扶贫、优抚、教育、社会保障、劳动就业的标准、条件及实施",
    "2.3": "土地征收、征用、房屋拆迁的批准文件、补偿标准、安置方案",
    "2.4": "五保低保生活补助金、救灾物资的发放",
    "2.5": "政府投资工程的建设、管理及完成情况",
    "2.6": "水利开发及利用前景",
    "3": "公共资金使用和监督",
    "3.1": "基础建设项目公开招标中标及工程进度",
    "3.2": "政府集中采购目录、限额标准、方式、结果及监督",
    "3.3": "重要专项基金、资金的使用",
    "3.4": "财政年度预算、决算及执行",
    "4": "政府机构和人事",
    "4.1": "办公地址、机构设置、职能、办事条件、程序、期限、监督救济途径",
    "4.2": "负责人及工作人员姓名、职责分工",
    "4.3": "年度工作目标及执行情况",
    "4.4": "负责人人事任免",
    "5": "行政执法事项、依据、程序、纪律、结果",
    "6": "法律、法规、规章规定应当公开的其他政府信息",
}

# The documents the annual report counts (table 二, Art. 20(一)): made, abolished, in force.
DOC_TYPES: dict[str, str] = {"rule": "规章", "normative": "行政规范性文件"}

# The figures of other systems an office enters, signed, on its annual report's item (table 二, Art. 20(五)(六)(八)):
# decisions made in the year, and fees collected in 万元 (to four decimals, as text).
STATISTICS: dict[str, str] = {"licensing": "行政许可", "penalties": "行政处罚", "coercion": "行政强制",
                              "fees": "行政事业性收费"}

TIMINGS: dict[str, str] = {"long_term": "长期公开", "periodic": "定期公开", "immediate": "即时公开"}

KINDS: dict[str, str] = {"info": "政府信息", "policy": "政策文件", "interpretation": "政策解读"}

TAGS: dict[str, str] = {"decision": "决策", "execution": "执行", "management": "管理", "service": "服务",
                        "result": "结果"}

UNIT_KINDS: dict[str, str] = {"government": "乡人民政府", "station": "站所", "village": "村委会", "office": "党政办"}


def choice(kind: str, value: str, allowed: dict[str, str]) -> str:
    """Returns `value` if allowed, else raises InvalidInput naming the choices."""
    if value not in allowed:
        raise InvalidInput("unknown {kind} '{value}' (one of: {known})", kind=kind, value=value,
                           known=", ".join(allowed))
    return value


MOST_DECISIONS = 10**9  # more decisions in a year than any office makes: a typo


def statistics(given: Mapping[str, object]) -> dict[str, object]:
    """An annual report's figures as signed: decisions as whole numbers, fees as 万元 text like "12.3456"."""
    if not isinstance(given, Mapping) or not given:  # {} would sign what no row stores
        raise InvalidInput("statistics are a mapping of figure to value, at least one")
    out: dict[str, object] = {}
    for name, value in given.items():
        choice("statistic", str(name), STATISTICS)
        if name == "fees":
            if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,12}(\.[0-9]{1,4})?", value):
                raise InvalidInput("fees are 万元 as text with up to four decimals, like 12.5, not {value}",
                                   value=value)
        elif type(value) is not int or not 0 <= value < MOST_DECISIONS:
            raise InvalidInput("{name} is a whole number of decisions, 0 to {most:,}", name=name,
                               most=MOST_DECISIONS - 1)
        out[str(name)] = value
    return out
