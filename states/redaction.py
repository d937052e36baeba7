"""Redaction for partial disclosure (部分公开, Art. 37): spans of a body withheld, each on a legal ground, replaced
by a mark that names the ground and has the same length whatever it hides, so that the published text does not
tell how much was withheld. Pure: offsets are code points into the stored body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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


def checked(body: str, spans: Sequence[Span], grounds: Mapping[str, str], label: object) -> tuple[Span, ...]:
    """`spans` sorted, each within the body, non-empty, not overlapping another, on a ground of `grounds`; an
    `InputMissing` naming `label` (the case) if not."""
    ordered = tuple(sorted(spans))
    for s in ordered:
        if type(s.start) is not int or type(s.end) is not int or not 0 <= s.start < s.end <= len(body):
            raise InputMissing("{case}: a span to withhold must lie within the body (0 to {length}) and hide at "
                               "least one character, not {start}-{end}", case=label, length=len(body),
                               start=s.start, end=s.end)
        if s.ground not in grounds:
            raise InputMissing("{case}: a span withheld needs a legal ground, one of: {grounds} (not {ground})",
                               case=label, grounds=", ".join(grounds), ground=s.ground)
    for a, b in zip(ordered, ordered[1:]):
        if b.start < a.end:
            raise InputMissing("{case}: spans {a} and {b} overlap: withhold them as one span", case=label,
                               a=f"{a.start}-{a.end}", b=f"{b.start}-{b.end}")
    return ordered


def redact(body: str, spans: Sequence[Span], grounds: Mapping[str, str]) -> str:
    """The body with each span (checked, sorted) replaced by its ground's mark; everything else unchanged."""
    out, at = [], 0
    for s in spans:
        out += [body[at:s.start], mark(grounds[s.ground])]
        at = s.end
    out.append(body[at:])
    return "".join(out)


def to_original(position: int, spans: Sequence[Span], grounds: Mapping[str, str]) -> int | None:
    """Where a position of the redacted body was in the original one; None inside a mark."""
    shift = 0
    for s in spans:
        start = s.start + shift  # where its mark starts in the redacted body
        width = len(mark(grounds[s.ground]))
        if position < start:
            break
        if position < start + width:
            return None
        shift += width - (s.end - s.start)
    return position - shift
