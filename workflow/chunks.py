"""One chunk of the hash chain, checked from the strings the database joined (`sweep`'s chunk query).

It runs inside `verify`, and as a helper process that checks the chain of a large SQLite log on the other core
(`python -I -S chunks.py JOB`, the job and the answer in JSON): SQLite works inside the
process that calls it, and two threads of one process querying it at once run no faster than one. So this
module imports nothing but the standard library.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

HASH = 64  # characters of a hash in hex

# (the first event's previous hash, the last event's hash, the hash of the digest's event if it is among them)
Span = tuple[str, str, str | None]


def check(row: Sequence[Any], lo: int, hi: int, hashed: bool, at: int | None = None) -> Span | None:
    """Events lo..hi as one row of the chunk query, or None unless they are exactly those events, each well
    hashed and linked to the one before. `hashed`: the database gave the hashes (PostgreSQL), not the
    canonical forms (SQLite) that are hashed here."""
    count, odd, seqs, joined, prevs, computed = row
    hashes: str = joined
    n = hi - lo + 1
    if odd or count != n or seqs != ",".join(map(str, range(lo, hi + 1))):
        return None
    # Every hash exactly 64 characters: no separator can hide inside one, nor shift the others.
    if len(hashes) != n * (HASH + 1) - 1 or hashes[HASH::HASH + 1] != "," * (n - 1):
        return None
    # Each previous hash is the hash of the event before. The first one is linked by the caller, to a hash
    # with no ',' in it, so it cannot have swallowed the one after it either.
    first = prevs[:HASH]
    if prevs != f"{first},{hashes}"[:len(hashes)]:
        return None
    if hashed:
        if computed != hashes:
            return None
    else:
        canons = computed.encode().split(b"\n")  # JSON text has no newline of its own
        sha256 = hashlib.sha256
        if len(canons) != n or b"".join([sha256(c).digest() for c in canons]).hex() != hashes.replace(",", ""):
            return None
    there = hashes[(at - lo) * (HASH + 1):][:HASH] if at is not None and lo <= at <= hi else None
    return first, hashes[-HASH:], there


def link(spans: Sequence[Span]) -> Span | None:
    """Spans one after another, as one span; None unless each begins where the one before ends."""
    for before, after in pairwise(spans):
        if after[0] != before[1]:
            return None
    there = [s[2] for s in spans if s[2] is not None]
    return (spans[0][0], spans[-1][1], there[0] if there else None) if spans else None


def ranges(last: int, size: int) -> list[tuple[int, int]]:
    """Events 1..last in chunks of `size`."""
    return [(lo, min(lo + size - 1, last)) for lo in range(1, last + 1, size)]


def check_all(rows: Iterable[tuple[tuple[int, int], Sequence[Any]]], hashed: bool,
              at: int | None = None) -> list[Span] | None:
    """Each chunk's span, from ((lo, hi), row) in order; None at the first that is not sound."""
    spans = []
    for (lo, hi), row in rows:
        span = check(row, lo, hi, hashed, at)
        if span is None:
            return None
        spans.append(span)
    return spans


def run(job: dict[str, Any]) -> Span | None:
    """The helper's work: all the chunks of a SQLite file, read on a connection of its own, as one span."""
    db = sqlite3.connect(job["db"], timeout=30)
    try:
        rows = ((r, db.execute(job["sql"], {"lo": r[0], "hi": r[1]}).fetchone())
                for r in ranges(job["last"], job["chunk"]))
        spans = check_all(rows, False, job["at"])
        return link(spans) if spans is not None else None
    finally:
        db.close()


if __name__ == "__main__":
    json.dump({"span": run(json.loads(sys.argv[1]))}, sys.stdout)
