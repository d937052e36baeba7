"""The pre-screen (workflow/screen.py) on its corpus (tests/data/screen-corpus.toml): every body gives exactly
its findings, recall is total on marks and valid ID numbers and precision at least 95%, and the domain's own
texts give no finding at all."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.screen_corpus import TOTAL_RECALL, Body, bodies, counts
from workflow.screen import builtin_rules, excerpt, screen

CORPUS = bodies()
SHARED = Path("/work/shared/domain")
DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("body", CORPUS, ids=[str(i) for i in range(len(CORPUS))])
def test_each_body_gives_exactly_its_findings(body: Body) -> None:
    assert body.found() == body.annotated()


def test_the_annotations_hold_together() -> None:
    for body in CORPUS:
        assert all(t in body.text for _, t in body.expect + body.false_positive)
        assert not Counter(body.missed) - Counter(body.expect)
        assert not set(body.false_positive) & set(body.expect)


def test_the_corpus_covers_every_rule_with_near_misses() -> None:
    assert len(CORPUS) >= 150
    assert {rule for b in CORPUS for rule, _ in b.expect} == {r.id for r in builtin_rules().rules}
    assert sum(1 for b in CORPUS if not b.expect) >= 50


def test_recall_on_marks_and_valid_ids_is_total_and_precision_at_least_95() -> None:
    c = counts([b.found() for b in CORPUS], CORPUS)
    assert c.recall(TOTAL_RECALL) == 1.0
    assert all(c.tp[rule] >= 30 for rule in TOTAL_RECALL)
    assert c.precision() >= 0.95


def domain_texts() -> list[Path]:
    """The plan's copy here, and every text of ../shared/domain/ where it exists (not on CI)."""
    shared = sorted(p for p in SHARED.glob("*") if p.suffix in (".txt", ".md")) if SHARED.is_dir() else []
    return [DATA / "pingtian-2019-disclosure-plan.txt", *shared]


# DOMAIN.md quotes three marks, in back-quotes, as what must be refused. To the screen a quoted mark is a mark:
# it cannot tell quoting from marking, and refusing is the side to err on. Those three and nothing else.
QUOTED = {"DOMAIN.md": [("classification-mark", "秘密★1年"), ("classification-mark", "机密★会议开始前"),
                        ("classification-mark", "绝密★")]}


@pytest.mark.parametrize("path", domain_texts(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_domain_texts_give_no_finding_of_any_severity(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert [(f.rule, excerpt(text, f)) for f in screen(text)] == QUOTED.get(path.name, [])
