"""Art. 44: requests that ask for the same government information as an earlier one of the same unit.

Where several applicants ask for the same information and it may be disclosed, the office may make it proactive.
This finds the earlier requests whose description (the information asked for, free Chinese text) says the same:
normalised (full-width to half-width, no spaces or punctuation, the request's boilerplate off its edges), then
compared by character bigrams (Dice). Numbers decide alone: 2024 and 2025, the 2nd and the 3rd quarter, are other
information however alike the words, so two descriptions must name the same set of numbers to match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from workflow.errors import InvalidInput

THRESHOLD = 0.35  # the least Dice score of a match, chosen on tests/test_similar.py's corpus

# What applicants wrap around the information they ask for; taken off the edges only, so never out of a name.
_PREFIXES = ("申请公开", "请求公开", "请予公开", "依法公开", "请公开", "申请提供", "请求提供", "请提供", "申请获取",
             "申请查阅", "申请", "请求", "关于", "公开", "提供", "获取")
_SUFFIXES = ("的相关信息", "相关信息", "等相关信息", "的信息", "等信息", "信息", "的相关文件", "相关文件", "有关情况",
             "情况", "相关资料", "等资料", "资料", "予以公开", "公开")
# Words that name different information however alike the rest: where both descriptions use words of one row and
# not the same ones, they ask for different things (低保 is not 五保; a budget is not its final account).
_DISTINCT: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("低保", "最低生活保障"), ("五保", "特困"), ("临时救助",), ("优抚",), ("残疾人",), ("高龄",)),
    (("预算",), ("决算",)),
    (("采购计划", "采购意向"), ("招标",), ("中标", "成交"), ("合同",), ("验收",)),
    (("公告",), ("结果",)),  # of a recruitment, a tender: the call is not its outcome
    (("解读",), ("名单", "花名册", "明细")),  # a policy's interpretation is not the list of who got what
)
_DIGITS = re.compile(r"[0-9]+")
# A number in Chinese after 第 or before what it counts (第五次, 三季度, 二〇二五年, 十二月): 五保, 十四五规划 and
# 一次性 stay words.
_NUMERAL = "[〇零一二两三四五六七八九十]+"
_HANZI_NUMBER = re.compile(f"(?<=第){_NUMERAL}|{_NUMERAL}(?=季度|季|月|年|批|期|届|号)")
_HANZI_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "两": 2}


def same_information(description: str, earlier: Iterable[tuple[str, str]], *,
                     threshold: float = THRESHOLD) -> list[tuple[str, float]]:
    """The earlier requests (id, description) that ask for the information `description` asks for, as (id, score)
    from the best; a score is 1.0 for the same text once normalised. Earlier descriptions that say nothing are
    passed over."""
    if not 0 < threshold <= 1:
        raise InvalidInput("the similarity threshold must be above 0 and at most 1, not {threshold}",
                           threshold=threshold)
    text, numbers = _normal(description)
    if not text:
        raise InvalidInput("a request's description must say what information it asks for")
    grams = _bigrams(text)
    found = []
    for request_id, other in earlier:
        other_text, other_numbers = _normal(other)
        if not other_text or other_numbers != numbers or _distinct(text, other_text):
            continue
        score = 1.0 if other_text == text else _dice(grams, _bigrams(other_text))
        if score >= threshold:
            found.append((request_id, score))
    found.sort(key=lambda pair: -pair[1])  # stable: equal scores stay in the order given
    return found


def _normal(description: str) -> tuple[str, frozenset[int]]:
    """The description's words (each number a '#') and the numbers it names."""
    text = unicodedata.normalize("NFKC", description).lower()
    # Spaces and punctuation out, but after they have kept apart numbers like 2021-2035.
    text = "".join(c if unicodedata.category(c)[0] in "LN" else " " for c in text)
    numbers = {int(n) for n in _DIGITS.findall(text)}
    numbers |= {_hanzi_value(n) for n in _HANZI_NUMBER.findall(text)}
    text = _HANZI_NUMBER.sub("#", _DIGITS.sub("#", text.replace(" ", "")))
    return _strip_edges(text.replace("#年度", "#").replace("#年", "#")), frozenset(numbers)  # 2025年(度)


def _distinct(a: str, b: str) -> bool:
    """Whether a row of _DISTINCT tells the two apart."""
    for row in _DISTINCT:
        in_a = {i for i, words in enumerate(row) if any(w in a for w in words)}
        in_b = {i for i, words in enumerate(row) if any(w in b for w in words)}
        if in_a and in_b and in_a != in_b:
            return True
    return False


def _hanzi_value(numeral: str) -> int:
    """二〇二五 -> 2025 (digit by digit); 十二 -> 12, 二十三 -> 23 (with tens)."""
    if "十" not in numeral:
        return int("".join(str(_HANZI_DIGIT[c]) for c in numeral))
    tens, _, ones = numeral.partition("十")
    return (_HANZI_DIGIT.get(tens[-1:], 1) if tens else 1) * 10 + (_HANZI_DIGIT.get(ones[:1], 0) if ones else 0)


def _strip_edges(text: str) -> str:
    """The text without its boilerplate at either end, unless that is all there is."""
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                text, changed = text[len(prefix):], True
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, changed = text[:-len(suffix)], True
    return text


def _bigrams(text: str) -> frozenset[str]:
    """The pairs of characters within the runs between numbers: the numbers already agree, and a pair with one
    would make any two descriptions of the same year look alike."""
    runs = [run for run in text.split("#") if run]
    return frozenset(run[i:i + 2] for run in runs for i in range(len(run) - 1)) or frozenset(runs) or frozenset({text})


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b))
