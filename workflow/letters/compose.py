"""A letter's facts made into its text, ready to print or to store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from states.replies import REPLIES
from workflow.errors import InvalidInput
from workflow.letters import kinds
from workflow.letters.kinds import DEFAULT_COURT, DEFAULT_REVIEW_BODY, FEE_STANDARDS, KINDS, Kind, Variant
from workflow.letters.templates import fill, template, title

SEAL = "（印章）"


@dataclass(frozen=True)
class Letter:
    kind: str  # one of KINDS: correction, extension, consultation, consultation_notice, fee, reply
    office: str  # the administrative organ that issues it: 平田乡人民政府
    number: str  # the request's number: gov-R2026-000003
    received_on: date  # when the request was received (Art. 31)
    issued_on: date
    facts: Mapping[str, Any] = field(default_factory=dict)  # what the kind states (workflow/letters/kinds.py)


@dataclass(frozen=True)
class Composed:
    """A letter as text. It names no one: the applicant is "申请人" with the request's number, and the name and
    address are merged only when it is printed (`lines(addressee)`), so the stored copy can be kept for ever."""

    kind: str
    title: str
    reference: str  # 申请编号：gov-R2026-000003
    to: str  # how the stored copy names whom it is addressed to: 申请人, or the party consulted
    paragraphs: tuple[str, ...]
    basis: str  # the articles the letter rests on
    remedies: tuple[str, ...]  # a reply's: how to challenge it (Art. 51); empty for the others
    office: str
    date: str  # 2026年10月30日
    seal: str = SEAL

    def lines(self, addressee: str | None = None) -> list[str]:
        """The letter's text in print order: title, reference, salutation, body, remedies, signature block."""
        to = self.to if addressee is None else kinds.text("addressee", addressee, line=True)
        return [self.title, self.reference, f"{to}：", *self.paragraphs, *self.remedies, self.office, self.date,
                self.seal]


def compose(letter: Letter, templates: Path | None = None) -> Composed:
    """The letter's text from its facts and its kind's template (the office's in `templates`, if it has one)."""
    kind = KINDS.get(letter.kind)
    if kind is None:
        raise InvalidInput("no letter kind '{kind}' (one of: {known})", kind=str(letter.kind), known=", ".join(KINDS))
    office = kinds.text("office", letter.office, line=True)
    number = kinds.text("number", letter.number, line=True)
    for name, day in (("received_on", letter.received_on), ("issued_on", letter.issued_on)):
        if not isinstance(day, date) or isinstance(day, datetime):  # a datetime is a date too
            raise InvalidInput("letter {name} must be a date", name=name)
    if letter.issued_on < letter.received_on:
        raise InvalidInput("a letter cannot be issued before its request was received")
    variant = kinds.variant_of(kind, letter.facts)
    facts = _facts(kind, variant, letter.facts)
    kinds.check_facts(kind, variant, facts, letter.issued_on)
    basis = _basis(variant, facts)
    values = {name: kinds.said(value) for name, value in facts.items() if kinds.FACTS[name] != kinds.CHOICE}
    values |= {"office": office, "number": number, "received_on": kinds.zh_date(letter.received_on),
               "issued_on": kinds.zh_date(letter.issued_on), "basis": basis}
    if kind.name == "fee":
        values.setdefault("standard", FEE_STANDARDS[variant.key])
    if "ground" in facts:
        values["ground"] = REPLIES[facts["ground"]].zh
    lists = {name: kinds.listed(value) for name, value in facts.items() if kinds.FACTS[name] == kinds.ITEMS}
    t = template(kind, templates)
    remedies: list[str] = []
    if variant.remedy is not None:
        remedy_values = {"review_body": facts.get("review_body", DEFAULT_REVIEW_BODY),
                         "court": facts.get("court", DEFAULT_COURT), "remedy_basis": variant.remedy.basis,
                         **{k: values[k] for k in ("office", "number", "received_on", "issued_on")}}
        remedies = fill(t, t.remedies[variant.remedy.code], remedy_values, {})
    to = "申请人" if kind.to_applicant else values["consulted"]
    body = fill(t, t.bodies[variant.key], values, lists)
    return Composed(kind.name, title(t, variant.key, values), f"申请编号：{number}", to, tuple(body), basis,
                    tuple(remedies), office, kinds.zh_date(letter.issued_on))


def _facts(kind: Kind, variant: Variant, given: Mapping[str, Any]) -> dict[str, Any]:
    """The facts the letter states, checked: every one it needs, none it does not know."""
    given = {name: value for name, value in given.items() if value is not None}  # None: not given
    needs = kind.facts_of(variant)
    known = needs | kind.optional_of(variant)
    for name in sorted(needs - set(given)):
        raise InvalidInput("letter {kind} ({variant}): no fact '{name}'", kind=kind.name, variant=variant.key or "-",
                           name=name)
    for name in sorted(set(given) - known):
        raise InvalidInput("letter {kind} ({variant}): no fact '{name}' in this letter (it states: {known})",
                           kind=kind.name, variant=variant.key or "-", name=str(name), known=", ".join(sorted(known)))
    return {name: kinds.checked(name, value) for name, value in given.items()}


def _basis(variant: Variant, facts: Mapping[str, Any]) -> str:
    if variant.key == "other.other":  # the catalogue has no basis for "其他": the office states it
        return str(facts["law"])
    if "ground" in facts:  # a partial disclosure rests on Art. 37 and on the ground of what it withholds
        return f"{REPLIES[facts['ground']].basis}、第三十七条"
    return variant.basis

