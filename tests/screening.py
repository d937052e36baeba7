"""What the tests of the pre-screen and of redaction share (tests/test_redaction.py, test_redteam*_*.py): personal
data with valid check digits, what every finding of the number screen must be, and an item walked through the review
of conftest.seed's people."""

from __future__ import annotations

import itertools

from tests.conftest import new_info
from workflow import Workflow
from workflow.screen_numbers import KINDS, Found, is_mobile, numbers

ID = "530328199001011236"  # a valid check digit (GB 11643)
PHONE = "13912345678"
HALF_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")


def well_formed(text: str) -> list[Found]:
    """What every kind finds in `text`, held to what any finding must be: in order, none overlapping another; each
    begins on a letter or digit (or the + of +86) and ends on one; what it covers, separators left out, passes its
    kind's check."""
    found = numbers(text, list(KINDS))
    assert all(a[2] <= b[1] for a, b in itertools.pairwise(found))
    for kind, start, end in found:
        span = text[start:end].translate(HALF_WIDTH)
        assert 0 <= start < end <= len(text)
        assert (span[0].isascii() and span[0].isalnum()) or span[0] == "+", span
        assert span[-1].isascii() and span[-1].isalnum(), span
        read = "".join(c for c in span if c.isascii() and c.isalnum())
        assert KINDS[kind](read) or (kind == "mobile" and is_mobile(read.removeprefix("86"))), (kind, read)
    return found


def review(wf: Workflow, item: str) -> None:
    """A draft submitted by its drafter and proofread: before the confidentiality reviewer."""
    wf.advance(item, "submit", actor="clerk")
    wf.advance(item, "proofread", actor="proof")


def in_review(wf: Workflow, body: str, **kw: object) -> str:
    """A new item with `body`, before the confidentiality reviewer."""
    item = new_info(wf, body=body, **kw)
    review(wf, item)
    return item


def to_public(wf: Workflow, item: str, decision: str) -> None:
    """Cleared (`decision` full or partial, a partial one with its reason), checked, approved and published."""
    wf.advance(item, "clear", actor="sec", decision=decision, reason="依法部分公开" if decision == "partial" else None)
    wf.advance(item, "check", actor="lead")
    wf.advance(item, "approve", actor="head")
    wf.advance(item, "publish", actor="clerk")
