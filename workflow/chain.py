"""The hash chain over signature events: canonical encoding, hashing and verification.

An event's canonical form is a JSON array in the fixed order of `FIELDS`, tagged with the format name,
with no whitespace and UTF-8 text: the same bytes on every database and every Python.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

FORMAT = "zwgk-event/1"
FIELDS = ("seq", "item_id", "round", "action", "from_state", "to_state", "actor", "role", "recorded_by",
          "paper_sha256", "at", "comment", "reason", "ground", "decision", "pipeline", "pipeline_version",
          "content_hash", "prev_hash")
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_sha256 = hashlib.sha256


def event_hash(values: Sequence[Any]) -> str:
    """SHA-256 of the canonical form of one event given as values in `FIELDS` order."""
    return _sha256(_encode([FORMAT, *values]).encode()).hexdigest()


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of an item's content, as signed by every signature on it."""
    data = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return _sha256(data.encode()).hexdigest()


@dataclass(frozen=True)
class Digest:
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Digest:
        seq, sep, h = text.strip().partition(":")
        if not sep or not seq.isdigit() or len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
            raise ValueError(f"'{text}' is not a digest (expected SEQ:SHA256 as printed by `zwgk digest`)")
        return cls(int(seq), h)


@dataclass
class Report:
    events: int = 0
    items: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> str | None:
        return self.problems[0] if self.problems else None


@dataclass
class _Replay:
    state: str | None = None
    round: int = 1
    content_hash: str = ""
    first_seq: int = 0


class Verifier:
    """Walks events in sequence order once: recomputes each hash, checks the links, and replays each item."""

    def __init__(self, genesis: str) -> None:
        self.report = Report()
        self.last_seq = 0
        self.last_hash = genesis
        self.replay: dict[str, _Replay] = {}
        self.hashes_at: dict[int, str] = {}
        self._want: set[int] = set()

    def remember(self, seq: int) -> None:
        """Keep the hash at `seq`, to compare against a digest taken earlier."""
        self._want.add(seq)

    def feed(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows are `FIELDS` followed by the stored hash."""
        problems = self.report.problems
        replay = self.replay
        for row in rows:
            seq = row[0]
            if not problems:
                if seq != self.last_seq + 1:
                    kind = "missing or reordered" if seq > self.last_seq + 1 else "duplicated"
                    problems.append(f"event {seq}: sequence jumps from {self.last_seq} ({kind} events)")
                elif row[18] != self.last_hash:
                    problems.append(f"event {seq}: previous-hash link broken (event deleted, inserted or reordered)")
                elif event_hash(row[:19]) != row[19]:
                    problems.append(f"event {seq}: contents do not match its hash (event modified)")
            self.last_seq, self.last_hash = seq, row[19]
            if seq in self._want:
                self.hashes_at[seq] = row[19]
            r = replay.get(row[1])
            if r is None:
                r = replay[row[1]] = _Replay(first_seq=seq)
                if row[4] is not None and not problems:
                    problems.append(f"event {seq}: item {row[1]} has no creation event before it")
            elif r.state != row[4] and not problems:
                problems.append(f"event {seq}: item {row[1]} moves from {row[4]} but was in {r.state}")
            r.state, r.round, r.content_hash = row[5], row[2], row[17]
            self.report.events += 1

    def finish(self, head: tuple[int, str] | None, items: Iterable[Sequence[Any]], content_hashes: dict[str, str],
               against: Digest | None) -> Report:
        """`items` rows are (id, state, round); `content_hashes` maps id to the hash of its current content."""
        problems = self.report.problems
        if head is not None and (head[0], head[1]) != (self.last_seq, self.last_hash):
            problems.append(f"chain head says event {head[0]} but the log ends at event {self.last_seq} "
                            "(events deleted from the end, or the head was altered)")
        if against is not None:
            got = self.hashes_at.get(against.seq)
            if got is None:
                problems.append(f"digest {against.seq}: the log ends at event {self.last_seq}, "
                                "before the digest (events deleted from the end)")
            elif got != against.hash:
                problems.append(f"digest {against.seq}: event {against.seq} differs from the digest")
        seen = set()
        for item_id, state, rnd in items:
            seen.add(item_id)
            self.report.items += 1
            r = self.replay.get(item_id)
            if r is None:
                problems.append(f"item {item_id}: has no events (its history was deleted)")
            elif (r.state, r.round) != (state, rnd):
                problems.append(f"item {item_id}: state {state} round {rnd} disagrees with its signatures "
                                f"(replay gives {r.state} round {r.round}; first bad event {r.first_seq})")
            elif content_hashes.get(item_id) != r.content_hash:
                problems.append(f"item {item_id}: content differs from what was last signed")
        for item_id, r in self.replay.items():
            if item_id not in seen:
                problems.append(f"item {item_id}: has events from {r.first_seq} on but the item is gone (deleted)")
        return self.report
