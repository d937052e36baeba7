"""Item numbers (编号): each unit numbers the items it creates in a calendar year 1, 2, 3… without a gap, in the
order of its chain. The number is part of the signed creation, so `verify` holds every unit's numbering to this.

Databases made before numbering gave ids of the same form, numbered by the chain's seq (with gaps); such an id
is kept, and the numbers of its unit and year go on after the highest of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from states.errors import NotNext

# Every time zone's calendar year at an instant lies between these offsets from UTC.
_ZONES = (timedelta(hours=-12), timedelta(hours=14))


def numbered_id(unit: str, year: int, number: int, mark: str = "") -> str:
    """The id the engine gives a case: `UNIT-2026-000003` for an item, `UNIT-R2026-000003` for a request (`mark`
    R), the unit's id cut to 48 characters."""
    return f"{unit[:48]}-{mark}{year}-{number:06d}"


def id_number(unit: str, item_id: str, mark: str = "") -> tuple[int, int] | None:
    """(year, number) of an id in the engine's form for `unit` (`.2`, `.3`… added where a chosen id was in the
    way), or None."""
    found = re.fullmatch(rf"{re.escape(unit[:48])}-{mark}(\d{{4}})-(\d{{6}})(?:\.\d+)?", item_id)
    return (int(found.group(1)), int(found.group(2))) if found else None


# Any unit's, of any kind: a unit's id may itself contain "-2026-".
_NUMBERED = re.compile(r".+-R?\d{4}-\d{6}(?:\.\d+)?")


def chosen_id(unit: str, item_id: str) -> None:
    """An id chosen by hand may not look like a number, which the engine gives, of its unit or of any other."""
    if _NUMBERED.fullmatch(item_id):
        raise NotNext("id {item} has the form of the numbers the engine gives (UNIT-YEAR-NNNNNN, UNIT-RYEAR-NNNNNN); "
                      "choose another id or let the engine number it", item=item_id)


@dataclass
class Numbering:
    """A unit's numbers as its chain has given them: the highest of each year."""

    unit: str
    mark: str = ""  # R: a request's numbers
    known: bool = True  # every earlier creation was folded (not so for a `since` check: it takes the first number
    # of a year it meets as it finds it)
    last: dict[int, int] = field(default_factory=dict)
    started: bool = False  # a numbered creation was seen: ids of the numbers' form are the engine's only

    def next(self, year: int) -> int:
        return self.last.get(year, 0) + 1

    def created(self, item_id: str, number: tuple[int, int] | None, at: datetime) -> None:
        """Fold an item's creation: its (year, number), or None for one with an id chosen by hand (or made before
        numbering, whose number in its id the numbers of its year go on after)."""
        if number is None:
            if self.started:
                chosen_id(self.unit, item_id)
            legacy = id_number(self.unit, item_id, self.mark) if not self.mark else None
            if legacy is not None:
                year, n = legacy
                self.last[year] = max(self.last.get(year, 0), n)
            return
        year, n = number
        if not (at + _ZONES[0]).year <= year <= (at + _ZONES[1]).year:
            raise NotNext("item {item} is numbered in {year}, which is not the year anywhere when it was created "
                          "({at})", item=item_id, year=year, at=at.isoformat())
        if id_number(self.unit, item_id, self.mark) != (year, n):
            raise NotNext("item {item} is number {n} of unit {unit} in {year}, which its id does not say",
                          item=item_id, n=n, unit=self.unit, year=year)
        if n != self.next(year) and (self.known or year in self.last):
            raise NotNext("item {item} is number {n} of unit {unit} in {year}, where the next is {next} (numbers "
                          "run without a gap or a repeat)", item=item_id, n=n, unit=self.unit, year=year,
                          next=self.next(year))
        self.last[year] = n
        self.started = True
