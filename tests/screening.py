"""What the tests of the pre-screen and of redaction share (tests/test_redaction.py, test_redteam7_screening.py):
personal data with valid check digits, and an item walked through the review of conftest.seed's people."""

from __future__ import annotations

from tests.conftest import new_info
from workflow import Workflow

ID = "530328199001011236"  # a valid check digit (GB 11643)
PHONE = "13912345678"


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
