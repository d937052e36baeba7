"""The kinds of letter, the facts each states and the law it cites; the facts checked and said in words.

Every fact has one meaning and one type whatever letter it is in (`FACTS`). A kind's variant is chosen by its
selector facts (a consultation's `party`, a fee's `basis`, a reply's `reply_type` and `subtype`); a template has
paragraphs for each variant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from states.errors import Phrase
from states.replies import FEE_MEASURES, REGULATION, REPLIES, Remedy
from workflow.errors import InvalidInput
from workflow.text import NOT_PRINTABLE

TEXT, DATE, COUNT, ITEMS, CHOICE = "text", "date", "count", "items", "choice"

FACTS: dict[str, str] = {
    "description": TEXT,  # the information asked for, in the request's words
    "items": ITEMS,  # what is unclear and must be corrected (补正事项)
    "correct_by": DATE,
    "original_due": DATE,
    "new_due": DATE,
    "days": COUNT,
    "approved_by_title": TEXT,  # who approved an extension: 政府信息公开工作机构负责人
    "reason": TEXT,
    "party": CHOICE,  # who is consulted: third_party (Art. 32) or other_office (Art. 34)
    "consulted": TEXT,  # how a consultation letter names whom it consults
    "concern": TEXT,  # the rights of a third party that disclosure may harm: 商业秘密, 个人隐私
    "consulted_on": DATE,
    "basis": CHOICE,  # how a fee is counted: by_count (按件) or by_quantity (按量)
    "amount": COUNT,  # yuan
    "count": COUNT,  # requests by the applicant in the calendar month, this one included
    "pages": COUNT,
    "pay_by": DATE,
    "payment": TEXT,  # how to pay (缴纳方式)
    "standard": TEXT,  # the rates a fee is counted at, where the office's are not the national ones
    "reply_type": CHOICE,  # the two halves of a reply's code in states/replies.py: withheld + state_secret
    "subtype": CHOICE,
    "how": TEXT,
    "ground": CHOICE,  # a partial disclosure's ground: a `withheld.*` reply
    "other_office": TEXT,
    "notice_on": DATE,
    "law": TEXT,
    "review_body": TEXT,  # the 行政复议机关 the remedies name
    "court": TEXT,  # the court the remedies name
}

# What a template may say besides the facts (said by `compose`).
DERIVED = frozenset({"office", "number", "received_on", "issued_on", "basis"})
REMEDY_FIELDS = frozenset({"review_body", "court", "remedy_basis", "office", "number", "received_on", "issued_on"})
DEFAULT_REVIEW_BODY = "有管辖权的行政复议机关"
DEFAULT_COURT = "有管辖权的人民法院"

# 《政府信息公开信息处理费管理办法》 Arts. 4 and 5: by the applicant's requests in a calendar month, or by pages.
FEE_STANDARDS = {
    "by_count": "同一申请人一个自然月内累计申请10件以下（含10件）的，不收费；11—30件（含30件）的部分，100元/件；"
                "31件以上的部分，以10件为一档，每增加一档，收费标准提高100元/件",
    "by_quantity": "30页以下（含30页）的，不收费；31—100页（含100页）的部分，10元/页；101—200页（含200页）的部分，"
                   "20元/页；201页以上的部分，40元/页",
}


@dataclass(frozen=True)
class Variant:
    key: str  # the selectors' values joined by dots; "" for a kind with one variant
    basis: str
    needs: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    remedy: Remedy | None = None


@dataclass(frozen=True)
class Kind:
    name: str
    zh: str
    needs: frozenset[str]  # the facts of every variant
    variants: Mapping[str, Variant]
    selectors: tuple[str, ...] = ()
    optional: frozenset[str] = frozenset()
    to_applicant: bool = True  # a consultation goes to the party consulted, named by `consulted`

    def facts_of(self, variant: Variant) -> frozenset[str]:
        return self.needs | variant.needs | frozenset(self.selectors)

    def optional_of(self, variant: Variant) -> frozenset[str]:
        return self.optional | variant.optional

    def fields_of(self, variant: Variant) -> frozenset[str]:
        """What the paragraphs of `variant` may say: the facts (a choice only as `ground`, in words) and DERIVED."""
        own = frozenset({"standard"}) if self.name == "fee" else frozenset()  # said always: national by default
        return DERIVED | own | ((self.facts_of(variant) | self.optional_of(variant)) - _CHOICES)


_CHOICES = frozenset(n for n, t in FACTS.items() if t == CHOICE and n != "ground")


def _reg(*articles: str) -> str:
    return REGULATION + "、".join(articles)


def _one(basis: str) -> Mapping[str, Variant]:
    return {"": Variant("", basis)}


_ASKED = frozenset({"description"})
KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("correction", "补正告知书", _ASKED | {"items", "correct_by"}, _one(_reg("第三十条"))),
    Kind("extension", "延期答复告知书", _ASKED | {"original_due", "new_due", "days", "approved_by_title"},
         _one(_reg("第三十三条第一款")), optional=frozenset({"reason"})),
    Kind("period", "延长答复期限告知书", _ASKED | {"new_due", "reason"}, _one(_reg("第三十五条"))),
    Kind("consultation", "征求意见书", _ASKED | {"consulted"}, {
        "third_party": Variant("third_party", _reg("第三十二条"), frozenset({"concern"})),
        "other_office": Variant("other_office", _reg("第三十四条")),
    }, ("party",), to_applicant=False),
    Kind("consultation_notice", "征求意见告知书", _ASKED | {"consulted_on"}, {
        "third_party": Variant("third_party", _reg("第三十二条", "第三十三条第二款")),
        "other_office": Variant("other_office", _reg("第三十四条", "第三十三条第二款")),
    }, ("party",)),
    Kind("fee", "收费通知", _ASKED | {"amount", "pay_by", "payment"}, {
        "by_count": Variant("by_count", f"{REGULATION}第四十二条、{FEE_MEASURES}第三条、第四条", frozenset({"count"})),
        "by_quantity": Variant("by_quantity", f"{REGULATION}第四十二条、{FEE_MEASURES}第三条、第五条",
                               frozenset({"pages"})),
    }, ("basis",), optional=frozenset({"standard"})),
    Kind("reply", "答复书", _ASKED, {
        code: Variant(code, r.basis, r.needs, r.optional, r.remedy) for code, r in REPLIES.items()
    }, ("reply_type", "subtype"), optional=frozenset({"review_body", "court"})),
)}

NOT_TEXT = NOT_PRINTABLE  # what a letter cannot print (workflow/text.py)
_NOT_LINE = re.compile(r"[\t\n]")


def text(name: str, value: object, *, line: bool = False) -> str:
    """`value` if it is text a letter can print (one line if `line`); otherwise InvalidInput naming `name` (never
    quoting the value: it may name a person)."""
    if not isinstance(value, str):
        raise InvalidInput("letter fact {name} must be text, not {type}", name=name, type=type(value).__name__)
    value = value.replace("\r\n", "\n").replace("\r", "\n")  # Windows line ends, as workflow.text does
    bad = NOT_TEXT.search(value) or (_NOT_LINE.search(value) if line else None)
    if bad is not None:
        raise InvalidInput("letter fact {name} holds a character a letter cannot print (U+{code:04X}) at position "
                           "{position}", name=name, code=ord(bad.group()), position=bad.start())
    if not value.strip():
        raise InvalidInput("letter fact {name} is empty", name=name)
    return value


def checked(name: str, value: object) -> Any:
    """A fact's value as `FACTS` types it: text, a date, a whole number, a list of text, or a choice (text)."""
    kind = FACTS[name]
    if kind == DATE:
        if not isinstance(value, date) or isinstance(value, datetime):  # a datetime is a date too
            raise InvalidInput("letter fact {name} must be a date", name=name)
        return value
    if kind == COUNT:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInput("letter fact {name} must be a whole number, 0 or more", name=name)
        return value
    if kind == ITEMS:
        if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
            raise InvalidInput("letter fact {name} must be a list of one or more texts", name=name)
        if len(value) > 99:
            raise InvalidInput("letter fact {name} has {count} entries; at most 99", name=name, count=len(value))
        return [text(f"{name}[{i}]", v) for i, v in enumerate(value)]
    return text(name, value, line=kind == CHOICE)


def variant_of(kind: Kind, facts: Mapping[str, Any]) -> Variant:
    if not kind.selectors:
        return kind.variants[""]
    for name in kind.selectors:
        if name not in facts:
            raise InvalidInput("letter {kind}: no fact '{name}'", kind=kind.name, name=name)
    key = ".".join(checked(name, facts[name]) for name in kind.selectors)
    found = kind.variants.get(key)
    if found is None:
        raise InvalidInput("letter {kind}: no variant '{key}' of {selectors} (one of: {known})", kind=kind.name,
                           key=key, selectors="+".join(kind.selectors), known=", ".join(kind.variants))
    return found


def zh_date(d: date) -> str:
    """As GB/T 9704 writes a date: Arabic numerals, the year in full, no leading zeros (2026年1月5日)."""
    return f"{d.year}年{d.month}月{d.day}日"


_DIGITS = "零一二三四五六七八九"


def zh_number(n: int) -> str:
    """1-99 in Chinese numerals, for numbering a letter's items: 一, 十, 十一, 二十一."""
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else _DIGITS[tens]) + "十" if tens else "") + (_DIGITS[ones] if ones else "")


def said(value: Any) -> str:
    """A checked fact in a letter's words."""
    if isinstance(value, date):
        return zh_date(value)
    if isinstance(value, list):
        return "；".join(value)
    return str(value)


def listed(items: list[str]) -> list[str]:
    return [f"（{zh_number(n)}）{item}" for n, item in enumerate(items, 1)]


def check_facts(kind: Kind, variant: Variant, facts: Mapping[str, Any], issued_on: date) -> None:
    """What the law bounds: an extension of at most 20 working days, no fee where none may be charged, and so on."""
    def wrong(problem: Phrase) -> InvalidInput:
        return InvalidInput("letter {kind}: {problem}", kind=kind.name, problem=problem)

    for name in ("correct_by", "pay_by"):
        if name in facts and facts[name] <= issued_on:
            raise wrong(Phrase("{name} must come after the letter's date", name=name))
    if kind.name == "extension":
        if not 1 <= facts["days"] <= 20:
            raise wrong(Phrase("an extension is 1 to 20 working days (Art. 33), not {days}", days=facts["days"]))
        if facts["new_due"] <= facts["original_due"]:
            raise wrong(Phrase("new_due must come after original_due"))
    # A fee's amount is the engine's, counted at the office's configured rates (workflow/fees.py), which the letter
    # states as its `standard` where they are not the national ones.
    if kind.name == "fee" and facts["amount"] <= 0:
        raise wrong(Phrase("a fee notice asks for an amount above 0"))
    if "ground" in facts and not (facts["ground"] in REPLIES and facts["ground"].startswith("withheld.")):
        raise wrong(Phrase("ground must be a withheld.* reply (one of: {known})",
                         known=", ".join(c for c in REPLIES if c.startswith("withheld."))))
