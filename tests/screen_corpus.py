"""The pre-screen's corpus (tests/data/screen-corpus.toml) and what the rules make of it: true positives, false
positives and false negatives per rule. Read by tests/test_screen_corpus.py and printed by bench/screen.py."""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from workflow.screen import RuleSet, excerpt, screen

CORPUS = Path(__file__).parent / "data" / "screen-corpus.toml"
# Issue 14 asks for total recall on these (a missed mark or ID number is a leak) and 95% precision overall.
TOTAL_RECALL = ("classification-mark", "resident-id")

Pair = tuple[str, str]  # (rule id, the matched text)


@dataclass(frozen=True)
class Body:
    text: str
    expect: tuple[Pair, ...]  # the truth: every mark and item of personal data in the text
    false_positive: tuple[Pair, ...]  # found by the rules though not in `expect`
    missed: tuple[Pair, ...]  # in `expect` though the rules do not find it

    def found(self, rules: RuleSet | None = None) -> list[Pair]:
        return sorted((f.rule, excerpt(self.text, f)) for f in screen(self.text, rules))

    def annotated(self) -> list[Pair]:
        """What the rules find according to the annotations: the truth less what they miss, plus their mistakes."""
        return sorted((Counter(self.expect) - Counter(self.missed) + Counter(self.false_positive)).elements())


def bodies() -> list[Body]:
    data = tomllib.loads(CORPUS.read_text(encoding="utf-8"))
    return [Body(b["text"], *(tuple((r, t) for r, t in b.get(k, [])) for k in ("expect", "false_positive", "missed")))
            for b in data["body"]]


@dataclass(frozen=True)
class Counts:
    """True positives, false positives and false negatives over the corpus, by rule id."""
    tp: Counter[str]
    fp: Counter[str]
    fn: Counter[str]

    def rules(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))

    def recall(self, rules: tuple[str, ...]) -> float:
        tp, fn = sum(self.tp[r] for r in rules), sum(self.fn[r] for r in rules)
        return tp / (tp + fn) if tp + fn else 1.0

    def precision(self) -> float:
        tp, fp = self.tp.total(), self.fp.total()
        return tp / (tp + fp) if tp + fp else 1.0


def counts(found: list[list[Pair]], corpus: list[Body]) -> Counts:
    """`found[i]` (what the rules found in body i) against the truth of body i."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for got, body in zip(found, corpus, strict=True):
        have, want = Counter(got), Counter(body.expect)
        tp.update(rule for rule, _ in (have & want).elements())
        fp.update(rule for rule, _ in (have - want).elements())
        fn.update(rule for rule, _ in (want - have).elements())
    return Counts(tp, fp, fn)
