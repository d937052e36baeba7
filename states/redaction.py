"""Redaction for partial disclosure (部分公开, Art. 37): spans of a body withheld, each on a legal ground, replaced
by a mark that names the ground and has the same length whatever it hides, so that the published text does not
tell how much was withheld. Pure: offsets are code points into the stored body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from states.errors import InputMissing


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    ground: str

    def row(self) -> list[object]:
        """As the event and the item's row record it."""
        return [self.start, self.end, self.ground]


def mark(ground_text: str) -> str:
    """The mark for a ground: its citation (what precedes the first full-width colon), e.g.
    `［不予公开：《条例》第十五条］`."""
    return f"［不予公开：{ground_text.split('：', 1)[0].strip()}］"


def misfit(body: str, spans: Sequence[Span]) -> str | None:
    """Why `spans` (sorted) do not fit `body`: one outside it or empty, or two overlapping; None if they fit."""
    for s in spans:
        if type(s.start) is not int or type(s.end) is not int or not 0 <= s.start < s.end <= len(body):
            return f"{s.start}-{s.end}"
    for a, b in pairwise(spans):
        if b.start < a.end:
            return f"{a.start}-{a.end}/{b.start}-{b.end}"
    return None


def checked(body: str, spans: Sequence[Span], grounds: Mapping[str, str], label: object) -> tuple[Span, ...]:
    """`spans` sorted, each within the body, non-empty, not overlapping another, on a ground of `grounds`; an
    `InputMissing` naming `label` (the case) if not."""
    for s in spans:
        if s.ground not in grounds:
            raise InputMissing("{case}: a span withheld needs a legal ground, one of: {grounds} (not {ground})",
                               case=label, grounds=", ".join(grounds), ground=s.ground)
    ordered = tuple(sorted(spans))
    bad = misfit(body, ordered)
    if bad is not None:
        raise InputMissing("{case}: spans withheld lie within the body (0 to {length}), each hides at least one "
                           "character and none overlaps another: not {spans}", case=label, length=len(body),
                           spans=bad)
    return ordered


def redact(body: str, spans: Sequence[Span], marks: Mapping[str, str]) -> str:
    """The body with each span (checked, sorted) replaced by the mark of its ground; everything else unchanged."""
    out, at = [], 0
    for s in spans:
        out += [body[at:s.start], marks[s.ground]]
        at = s.end
    out.append(body[at:])
    return "".join(out)


def to_original(position: int, spans: Sequence[Span], marks: Mapping[str, str]) -> int | None:
    """Where a position of the redacted body was in the original one; None inside a mark."""
    shift = 0
    for s in spans:
        start = s.start + shift  # where its mark starts in the redacted body
        width = len(marks[s.ground])
        if position < start:
            break
        if position < start + width:
            return None
        shift += width - (s.end - s.start)
    return position - shift


@dataclass(frozen=True)
class Redactions:
    """An item's redactions as its content signs them: the spans, the mark of each ground used, and the SHA-256
    of the redacted body (which the engine makes from the rest)."""

    spans: tuple[Span, ...]
    marks: Mapping[str, str]
    redacted: str

    def apply(self, body: str) -> str:
        """The redacted body (a `ValueError` if the spans do not fit this body)."""
        if list(self.spans) != sorted(self.spans) or misfit(body, self.spans) is not None or any(
                not isinstance(self.marks.get(s.ground), str) for s in self.spans):
            raise ValueError("spans that do not fit the body")
        return redact(body, self.spans, self.marks)

    def signed(self) -> dict[str, object]:
        return {"spans": [s.row() for s in self.spans], "marks": dict(self.marks), "redacted": self.redacted}

    @classmethod
    def of(cls, d: Mapping[str, object]) -> Redactions:
        """From what `signed` gave (a `TypeError`/`ValueError` on anything else)."""
        spans, marks, redacted = d["spans"], d["marks"], d["redacted"]
        if set(d) != {"spans", "marks", "redacted"} or not isinstance(spans, list) or not isinstance(marks, dict) \
                or not isinstance(redacted, str):
            raise ValueError("not redactions")
        return cls(tuple(Span(*row) for row in spans), marks, redacted)
