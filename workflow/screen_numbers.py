"""The kinds of the pre-screen (workflow/screen.py): numbers that are personal data, told by code (check digits, the
groups people print them in) rather than by a pattern. Pure, as the screen is.

A number is read where a reader sees one:
- a run of ASCII letters and digits (11 to 19 of them, the lengths the kinds have);
- ID numbers inside a longer run, glued to letters or to another number (IDNO530328…, a mobile then an ID
  number), and the digits beside one;
- digits in the groups a form or a card prints (139 1234 5678, 139-1234-5678, 6222 0212 3456 7890 128,
  530328 19900101 1236), in those shapes, between spaces or dashes of any width (Unicode's spaces and dashes), also
  among other figures of a row and glued to a word (Tel139 1234 5678); a mobile or a card between spaces only where a
  word introduces one: on its line, in the label or the table header above it, or just after it (a table's row is
  groups of figures too);
- digits with an invisible character (Unicode's format characters: a zero-width space, a soft hyphen, a direction
  mark) pasted among them.
Full-width digits are read as ASCII ones. Each place is claimed by the first kind that accepts it, so that one
number is never reported twice.

What a kind accepts is part of what a fingerprint of the rules names (workflow/screening.py stores a kind by its
name, and `verify` screens again with this code): change what a kind accepts only under a new name.

Speed: one byte per character (`_MARKS`) and byte searches find every place; Python looks only at those.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from functools import cached_property, lru_cache
from typing import NamedTuple

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def resident_id_check(first17: str) -> str:
    """The check character of GB 11643 for the first 17 digits."""
    return "10X98765432"[sum(map(operator.mul, map(int, first17), _ID_WEIGHTS)) % 11]


def is_resident_id(s: str) -> bool:
    if len(s) != 18 or not s[:17].isdecimal() or not s[:17].isascii() or s[0] not in "12345678":
        return False
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2099 and resident_id_check(s[:17]) == s[17].upper()


def uscc_check(first17: str) -> str:
    """The check character of GB 32100 for the first 17 characters."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def is_uscc(s: str) -> bool:
    # Registration authority (1-9, A-G, Y), then the region code (6 digits): the structure, then the check.
    if len(s) != 18 or s[0] not in "123456789ABCDEFGY" or not s[2:8].isdecimal() or any(c not in _USCC_CHARS
                                                                                          for c in s):
        return False
    return uscc_check(s[:17]) == s[17]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def is_bank_card(s: str) -> bool:
    return 13 <= len(s) <= 19 and s.isdecimal() and luhn_ok(s)


def is_mobile(s: str) -> bool:
    if len(s) == 13 and s.startswith("86"):
        s = s[2:]
    return len(s) == 11 and s.isdecimal() and s[0] == "1" and s[1] in "3456789"


# In the order they claim a place: an ID number that happens to pass Luhn is an ID number, not a card.
KINDS: dict[str, Callable[[str], bool]] = {
    "resident_id": is_resident_id,
    "uscc": is_uscc,
    "mobile": is_mobile,
    "bank_card": is_bank_card,
}
SHORTEST, LONGEST = 11, 19  # the lengths the kinds accept

# The groups numbers are printed in, by the length of each group, and the kind each shape can be. A mobile or a card
# in groups of spaces is taken only where a word naming one (`_CUE`) introduces it (`_Cues`): a row of a table is
# groups of figures too, and a mobile has no check digit (a card's Luhn passes one row in ten). A grouped card must
# also begin as an issuer's number does (3-6, or 9 for old domestic cards).
_SHAPES: dict[tuple[int, ...], str] = {
    (3, 4, 4): "mobile", (2, 3, 4, 4): "mobile",  # 139 1234 5678, 86 139 1234 5678
    (6, 8, 4): "resident_id", (6, 4, 4, 4): "resident_id", (6, 12): "resident_id",  # 530328 19900101 1236
    (6, 4, 2, 2, 4): "resident_id",  # 530328 1990 01 01 1236: the date of birth typed in parts
    **{(4, 4, 4, 4, *last): "bank_card" for last in ((), (1,), (2,), (3,), (4,))},  # 6222 0212 3456 7890 128
}
_MOST_GROUPS = max(map(len, _SHAPES))
_CARD_ISSUERS = "34569"
_SHORTEST_GROUPED = min(sum(shape) + len(shape) - 1 for shape in _SHAPES)  # 139 1234 5678
# Read in the text folded by `_folded` (NFKC, no spaces, lower case): a form aligns its labels (电　　话) and may
# capitalise them (ＴＥＬ).
_CUE = re.compile(r"电话|手机|联系|号码|热线|微信|通讯|tel|mobile|phone"
                  r"|卡号|银行卡|账号|帐号|账户|帐户|银行|开户|收款|一卡通|存折|社保卡|社会保障卡|借记卡|信用卡|储蓄卡")
_PLUS = re.compile(r"(?<![0-9])(?:\+|00)\s*86\s*\)?\s*$")  # just before the groups: +86 139, (+86) 139, 0086 139
_CUE_BEFORE = 200  # characters before a number on its line
_CUE_AFTER = 20  # characters after it, on its line: 139 1234 5678（手机）
_CUE_REACH = 200_000  # characters above a number in which its table's header is looked for
_LINE_REACH = 4000  # characters of a line, at most, for it to be a row of cells
_LABEL_LONGEST = 60
_LABEL = re.compile(r"[:：]\s*$")
_EOL = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # where str.splitlines ends a line (Word ends one in \r)
_LINE_END = re.compile(f"[{_EOL}]+")  # blank lines are no lines: a label is the line with words above
_CELL_END = re.compile(f"[\t{_EOL}]")
# A line with a word and no figure: a table's header, not a rule of dashes. Linear: the first part takes no letter.
_HEADER = re.compile(f"(?:(?<=[{_EOL}])|\\A)[^{_EOL}0-9\\w]*[^\\W\\d_][^{_EOL}0-9]*(?=[{_EOL}]|\\Z)")

# One byte per character: "1" an ASCII letter or digit, "s" a space or a tab, "h" a hyphen, "u" a character the
# encoding could not hold (or a question mark), " " anything else. Non-ASCII characters arrive as "?" from the
# encoding, one byte each, so offsets stay the body's. Between two digits, `_between` marks again what a reader
# reads there (`_READS`): "z" characters that are invisible, "s" other spaces, "h" other dashes.
_MARKS = bytes(ord("1") if chr(b).isascii() and chr(b).isalnum() else ord("s") if b in (0x20, 0x09) else
               ord("h") if b == 0x2D else ord("u") if b == 0x3F else ord(" ") for b in range(256))
_READS = {"Cf": "z", "Zs": "s", "Pd": "h"}  # by Unicode category: format characters, spaces, dashes
_READS_TOO = {"\t": "s", "\u2212": "h"}  # a tab; the minus sign (a math symbol)
_RUN = b"1" * SHORTEST
_RUN_END = re.compile(rb"[^1]")
# What lies between two digits, unless an ASCII hyphen alone: most bodies have many (2019年1月); `re` finds them faster
# than bytes.find.
_BETWEEN = re.compile(rb"1(?:[us]{1,4}|[us]{1,2}h[us]{0,2}|h[us]{1,2})1")
_GROUPED_AT = re.compile(rb"1[shz]+1")
# One kind of separator throughout (2024-01-01 139 1234 5678 is two), an invisible character beside either.
_GROUPS = re.compile(rb"1+(?:[sz]+1+)+|1+(?:[hz]+1+)+")
_GROUP = re.compile(rb"1+")
_CORE = re.compile(r"[A-Za-z]*?([0-9]+[Xx]?)[A-Za-z]*")  # a group's digits, a word glued before or after them
_JOINED = re.compile(rb"1+(?:z+1+)+")
_DIGITS = re.compile(r"[0-9]{17,}[Xx]?")  # what may hold an ID number
# A necessary condition of `is_resident_id`, to look for ID numbers in a long run at the speed of `re`.
_ID_SHAPE = re.compile(r"(?=[1-8][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx])")
# Full-width digits (an input method left in full-width mode) are the same number, read one character for one.
_FULL_WIDTH = "０１２３４５６７８９Ｘｘ"
_HALF_WIDTH = str.maketrans(_FULL_WIDTH, "0123456789Xx")
_PLUS86 = re.compile(r"\+(?:86[ \t-]?)?$")


class Place(NamedTuple):
    """Characters that may be a number (separators left out) and the offset in the body of each."""

    chars: str
    at: Sequence[int]

    def span(self, i: int, j: int) -> tuple[int, int]:
        return self.at[i], self.at[j - 1] + 1


Found = tuple[str, int, int]  # a kind, and the span of the body it claims


def numbers(text: str, kinds: Sequence[str]) -> list[Found]:
    """What `kinds` (of KINDS, in any order) find in `text`, ordered by position."""
    order = [k for k in KINDS if k in kinds]
    if not order:
        return []
    if any(d in text for d in _FULL_WIDTH):
        text = text.translate(_HALF_WIDTH)
    marks = _between(text, text.encode("ascii", "replace").translate(_MARKS))
    # What a reader sees as one number first: digits joined by invisible characters, before the runs they join.
    found = _merged([f for place in _joined(text, marks) for f in _read(place, order)],
                    (f for place in runs(text, marks) for f in _read(place, order)))
    found = _merged(found, _grouped(text, marks, order))
    return [(kind, _with_plus86(text, start) if kind == "mobile" else start, end) for kind, start, end in found]


def _between(text: str, marks: bytes) -> bytes:
    """`marks` with the few characters between two digits marked as what a reader reads there."""
    again = None
    m = _BETWEEN.search(marks)
    while m:
        start, end = m.start() + 1, m.end() - 1
        gap = text[start:end]  # ASCII spaces alone are marked already
        mark = _gap(gap) if marks.find(b"u", start, end) != -1 or marks.find(b"h", start, end) != -1 else None
        if mark is not None:
            again = again if again is not None else bytearray(marks)
            again[start:end] = mark * len(gap)
        m = _BETWEEN.search(marks, end)  # the digit after is the one before the next
    return marks if again is None else bytes(again)


@lru_cache(maxsize=4096)  # a body repeats its gaps (年, a no-break space)
def _gap(chars: str) -> bytes | None:
    """z: invisible characters only; s: spaces (and invisible ones); h: one dash, perhaps with spaces."""
    read = [_READS_TOO.get(c) or _READS.get(unicodedata.category(c)) for c in chars]
    if None in read:
        return None
    if all(r == "z" for r in read):
        return b"z"
    dashes = read.count("h")
    return b"s" if dashes == 0 else b"h" if dashes == 1 else None


def _merged(first: list[Found], then: Iterable[Found]) -> list[Found]:
    """`first` and each of `then` that overlaps none of it, by position (each in order, neither overlapping itself)."""
    out: list[Found] = []
    i = 0
    for f in then:
        while i < len(first) and first[i][2] <= f[1]:
            out.append(first[i])
            i += 1
        if i == len(first) or f[2] <= first[i][1]:
            out.append(f)
    return out + first[i:]


def _with_plus86(text: str, start: int) -> int:
    plus = _PLUS86.search(text, max(0, start - 4), start)
    return plus.start() if plus else start


def runs(text: str, marks: bytes | None = None) -> Iterator[Place]:
    """Each run of 11 or more ASCII letters and digits, not inside a longer one: what
    `re.finditer("[0-9A-Za-z]{11,}", text)` finds, by byte searches many times faster than that class scan."""
    if marks is None:
        marks = text.encode("ascii", "replace").translate(_MARKS)
    start = marks.find(_RUN)
    while start != -1:
        m = _RUN_END.search(marks, start)
        end = m.start() if m else len(marks)
        yield Place(text[start:end], range(start, end))
        start = marks.find(_RUN, end)


def _read(place: Place, order: list[str]) -> Iterator[Found]:
    """The kind of a whole place, else the ID numbers inside it (glued to letters or to other digits: a check digit
    and a date of birth are evidence enough there, as eleven digits or a Luhn check are not)."""
    if SHORTEST <= len(place.chars) <= LONGEST:
        kind = _kind(place.chars, order)
        if kind is not None:
            yield (kind, *place.span(0, len(place.chars)))
            return
    if "resident_id" in order:
        for m in _DIGITS.finditer(place.chars):
            yield from _ids(place, m.start(), m.end(), order)


def _ids(place: Place, i: int, j: int, order: list[str]) -> Iterator[Found]:
    """Each ID number among the digits at i:j of a place, and, beside one, the kind of the digits between."""
    found = False
    for m in _ID_SHAPE.finditer(place.chars, i, j):
        at = m.start()
        if at >= i and is_resident_id(place.chars[at:at + 18]):
            yield from _beside(place, i, at, order)
            yield ("resident_id", *place.span(at, at + 18))
            i, found = at + 18, True
    if found:
        yield from _beside(place, i, j, order)


def _beside(place: Place, i: int, j: int, order: list[str]) -> Iterator[Found]:
    kind = _kind(place.chars[i:j], order) if SHORTEST <= j - i <= LONGEST else None
    if kind is not None:
        yield (kind, *place.span(i, j))


def _kind(s: str, order: list[str]) -> str | None:
    for kind in order:
        if KINDS[kind](s):
            return kind
    return None


def _grouped(text: str, marks: bytes, order: list[str]) -> Iterator[Found]:
    """Numbers printed in groups, in the shapes of `_SHAPES`, among the groups of a row."""
    end, cues = 0, _Cues(text)
    for hit in _GROUPED_AT.finditer(marks):
        if hit.start() < end:
            continue
        start = hit.start()
        while start > end and marks[start - 1] == 0x31:
            start -= 1
        m = _GROUPS.match(marks, start)
        if m is None:  # a hyphen then spaces
            continue
        end = m.end()
        if end - start >= _SHORTEST_GROUPED:
            for digits in _digit_groups(text, marks, start, end):
                yield from _shaped(text, marks, digits, order, cues)


def _digit_groups(text: str, marks: bytes, start: int, end: int) -> Iterator[list[tuple[int, int]]]:
    """The spans of the digits of each group between `start` and `end`, cut where a group is not digits: a word
    glued before a group's digits begins a number there (Tel139), one glued after them ends it, as an X does."""
    digits: list[tuple[int, int]] = []
    for group in _GROUP.finditer(marks, start, end):
        core = _CORE.fullmatch(text, *group.span())
        if core is None or (core.start(1) > group.start() and digits):
            if digits:
                yield digits
            digits = []
        if core is not None:
            digits.append(core.span(1))
            if core.end(1) < group.end() or text[core.end(1) - 1] in "Xx":
                yield digits
                digits = []
    if digits:
        yield digits


def _shaped(text: str, marks: bytes, groups: list[tuple[int, int]], order: list[str], cues: _Cues) \
        -> Iterator[Found]:
    """Each run of consecutive `groups` in a shape whose kind accepts its digits, the longest first, left to right."""
    sizes = [b - a for a, b in groups]
    i = 0
    while i < len(groups):
        for j in range(min(len(groups), i + _MOST_GROUPS), i + 1, -1):
            kind = _SHAPES.get(tuple(sizes[i:j]))
            if kind is None or kind not in order:
                continue
            digits = "".join(text[a:b] for a, b in groups[i:j])
            start, end = groups[i][0], groups[j - 1][1]
            if "\t" in text[start:end] and j - i < len(groups):
                continue  # a tab parts the cells of a row: groups across cells are one number only alone there
            if KINDS[kind](digits) and (kind != "bank_card" or digits[0] in _CARD_ISSUERS) \
                    and (kind == "resident_id" or marks.find(b"s", start, end) == -1 or cues.near(start, end)):
                yield kind, start, end
                i = j
                break
        else:
            i += 1


class _Cues:
    """Where a word naming a mobile or a card (`_CUE`) introduces one printed between spaces: before it on its line,
    just after it, on a label just above it (a line ending in a colon), or in the nearest line above holding words and
    no figure (a table's header, over all its rows). In a row of cells parted by tabs, only the number's cell and the
    one before it count (empty cells skipped), and of a header with as many cells, the cell of the number's column
    (unless empty: a merged cell); groups in cells of their own (139\t1234\t5678) only by a word in the first one.
    The work per number is bounded: lines and headers are found once, a header is folded once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded: dict[int, tuple[str, list[str]]] = {}  # by header: folded whole and by cell

    @cached_property
    def headers(self) -> list[tuple[int, int]]:  # found once, when a number first needs one
        return [m.span() for m in _HEADER.finditer(self.text)]

    @cached_property
    def lines(self) -> list[int]:  # where each line begins
        return [0, *(m.end() for m in _LINE_END.finditer(self.text))]

    def near(self, start: int, end: int) -> bool:
        text = self.text
        k = bisect_left(self.lines, start + 1)
        line, next_line = self.lines[k - 1], self.lines[k] if k < len(self.lines) else len(text)
        row = text[line:next_line] if next_line - line <= _LINE_REACH else None  # None: too long to be a row
        before = text[max(line, start - _CUE_BEFORE):start]
        after = _CELL_END.split(text[end:end + _CUE_AFTER], maxsplit=1)[0]
        tabbed = "\t" in text[start:end]  # its groups fill cells of a row: named in its own first cell, or none
        if "\t" in before:
            *cells, own = before.split("\t")
            before = own if tabbed else next((c for c in reversed(cells) if c.strip()), "") + "\t" + own
        said = [_folded(before), _folded(after)]
        if tabbed:
            return any(_CUE.search(words) for words in said)
        if _PLUS.search(unicodedata.normalize("NFKC", before)) or (text.startswith("86", start)
                                                                   and said[0].endswith("+")):
            return True
        if k >= 2:
            said.append(_folded(self._label(self.lines[k - 2], line)))
        return any(_CUE.search(words) for words in said) \
            or _CUE.search(self._header(start, row, start - line)) is not None

    def _label(self, above: int, line: int) -> str:
        """The line just above, if it ends in a colon (3. 联系电话：, 联系电话（24小时值班）：)."""
        label = self.text[above:line] if line - above <= _LABEL_LONGEST else ""
        return label if _LABEL.search(label) else ""

    def _header(self, start: int, row: str | None, at: int) -> str:
        """The nearest header above `start`, folded; of a header whose cells are the row's (`at` in it), the number's
        cell, unless it is empty."""
        i = bisect_left(self.headers, start, key=lambda h: h[0]) - 1
        if i < 0 or start - self.headers[i][0] > _CUE_REACH or self.headers[i][1] - self.headers[i][0] > _LINE_REACH:
            return ""  # none, or prose: a line longer than a row ends the table above it
        if i not in self.folded:
            header = self.text[slice(*self.headers[i])]
            self.folded[i] = _folded(header), [_folded(cell) for cell in header.split("\t")]
        whole, cells = self.folded[i]
        if row is not None and len(cells) > 1 and row.count("\t") + 1 == len(cells):
            return cells[row.count("\t", 0, at)] or whole
        return whole


def _folded(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _joined(text: str, marks: bytes) -> Iterator[Place]:
    """Runs of letters and digits joined by invisible characters, read without them."""
    if marks.find(b"z") == -1:
        return
    for m in _JOINED.finditer(marks):
        at = [i for i in range(m.start(), m.end()) if marks[i] != 0x7A]
        yield Place("".join(text[i] for i in at), at)
