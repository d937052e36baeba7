"""The hash chain over signature events: canonical encoding, hashing and verification.

An event's canonical form is a JSON array in the fixed order of `FIELDS`, tagged with the format name,
with no whitespace and UTF-8 text: the same bytes on every database and every Python.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from workflow.model import signed_content
from workflow.schema import ITEM_FIELDS

FORMAT = "zwgk-event/1"
FIELDS = ("seq", "item_id", "round", "action", "from_state", "to_state", "actor", "role", "recorded_by",
          "paper_sha256", "at", "comment", "reason", "ground", "decision", "pipeline", "pipeline_version",
          "content_hash", "prev_hash")
_INTEGER_FIELDS = {"seq", "round"}
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_sha256 = hashlib.sha256


def event_hash(values: Sequence[Any]) -> str:
    """SHA-256 of the canonical form of one event given as values in `FIELDS` order."""
    return _sha256(_encode([FORMAT, *values]).encode()).hexdigest()


def canonical_sql(dialect: str) -> str:
    """A SQL expression that recomputes each event's hash input (SQLite) or hash (PostgreSQL) in the database.

    SQLite's json_array() writes the same compact JSON as our encoder; PostgreSQL builds the same text from
    to_json() pieces and hashes it itself. Python rechecks any mismatch, so these are only the fast path.
    """
    if dialect == "sqlite":
        return f"json_array('{FORMAT}', {', '.join(FIELDS)})"
    parts = [f"{f}::text" if f in _INTEGER_FIELDS else f"coalesce(to_json({f})::text, 'null')" for f in FIELDS]
    return hashed_sql(f"""'["{FORMAT}",' || {" || ',' || ".join(parts)} || ']'""", dialect)


def hashed_sql(text: str, dialect: str) -> str:
    """A SQL expression of canonical text, as the database hands it to `verify`: PostgreSQL hashes it itself;
    SQLite has no SHA-256, so there the text comes back and Python hashes it."""
    return text if dialect == "sqlite" else f"encode(sha256(convert_to({text}, 'UTF8')), 'hex')"


def sha256_hex(text: str) -> str:
    return _sha256(text.encode()).hexdigest()


_encode_sorted = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of an item's content, as signed by every signature on it."""
    return _sha256(_encode_sorted(content).encode()).hexdigest()


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
    unchecked: int = 0  # signatures of a pipeline version with no (valid) stored definition: not judged
    versions: dict[str, int] = field(default_factory=dict)  # signatures by the pipeline version they record

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> str | None:
        return self.problems[0] if self.problems else None


# Replays one event against the pipeline's rules: a problem, or None.
Rules = Callable[[int, str, int, str, str | None, str, str, str | None, str | None, str | None, str | None, str],
                 str | None]


class Verifier:
    """Walks events in sequence order once: recomputes each hash, checks the links, and replays each item."""

    def __init__(self, genesis: str, against: Digest | None = None) -> None:
        self.report = Report()
        self.last_seq = 0
        self.last_hash = self.genesis = genesis
        self.replay: dict[str, list[Any]] = {}  # item id -> [state, round, content hash, first seq]
        self.hashes_at: dict[int, str] = {}
        self._want: set[int] = {against.seq} if against else set()

    def feed(self, rows: Iterable[Sequence[Any]], digest_of: Callable[[Any], str | None],
             recheck: Callable[[int], str | None], rules: Rules | None = None) -> None:
        """Rows are (seq, item_id, round, from_state, to_state, content_hash, prev_hash, hash, actor, action, role,
        reason, ground, decision, pipeline_version, computed).

        `digest_of(computed)` gives the hash the database recomputed (see `canonical_sql`); where it
        differs from the stored one, `recheck(seq)` recomputes it from the columns in Python, which is the
        definition, so a database that builds JSON a little differently can never raise a false alarm.
        """
        problems = self.report.problems
        replay = self.replay
        want = self._want
        last_seq, last_hash, count = self.last_seq, self.last_hash, 0
        for (seq, item_id, rnd, from_state, to_state, chash, prev, stored, actor, action, role, reason, ground,
             decision, version, computed) in rows:
            count += 1
            if not problems:
                if type(seq) is not int:  # a table rebuilt behind the engine's back
                    problems.append(f"event after {last_seq}: its sequence number is {seq!r}, not a whole number")
                elif seq != last_seq + 1:
                    kind = "missing or reordered" if seq > last_seq + 1 else "duplicated"
                    problems.append(f"event {seq}: sequence jumps from {last_seq} ({kind} events)")
                elif prev != last_hash:
                    problems.append(f"event {seq}: previous-hash link broken (event deleted, inserted or reordered)")
                elif digest_of(computed) != stored and recheck(seq) != stored:
                    problems.append(f"event {seq}: contents do not match its hash (event modified)")
            last_seq, last_hash = seq, stored
            if seq in want:
                self.hashes_at[seq] = stored
            r = replay.get(item_id)
            if r is None:  # state, round, content hash, first event, events, creator
                replay[item_id] = r = [to_state, rnd, chash, seq, 1, actor]
                if from_state is not None and not problems:
                    problems.append(f"event {seq}: item {item_id} has no creation event before it")
            else:
                if r[0] != from_state and not problems:
                    problems.append(f"event {seq}: item {item_id} moves from {from_state} but was in {r[0]}")
                r[0], r[1], r[2] = to_state, rnd, chash
                r[4] += 1
            # Last: the rules judge a step only once it is known to follow from where the item was.
            if rules is not None and (broken := rules(seq, item_id, rnd, action, from_state, to_state, actor, role,
                                                      reason, ground, decision, version)) and not problems:
                problems.append(broken)
        self.last_seq, self.last_hash = last_seq, last_hash
        self.report.events += count

    def finish(self, head: tuple[int, str] | None, items: Iterable[Sequence[Any]], content_hashes: dict[str, str],
               against: Digest | None) -> Report:
        """`items` rows are (id, state, round, version, drafter); `content_hashes` maps id to the hash of its
        current content."""
        problems = self.report.problems
        if head is not None and (head[0], head[1]) != (self.last_seq, self.last_hash):
            problems.append(f"chain head says event {head[0]} but the log ends at event {self.last_seq} "
                            "(events deleted from the end, or the head was altered)")
        if against is not None:
            got = self.hashes_at.get(against.seq, self.genesis if against.seq == 0 else None)
            if got is None:
                problems.append(f"digest {against.seq}: the log ends at event {self.last_seq}, "
                                "before the digest (events deleted from the end)")
            elif got != against.hash:
                problems.append(f"digest {against.seq}: event {against.seq} differs from the digest")
        seen = set()
        for item_id, state, rnd, version, drafter in items:
            self.report.items += 1
            r = self.replay.get(item_id)
            if item_id in seen:  # a table rebuilt without its key
                problems.append(f"item {item_id}: stored twice")
            elif r is None:
                problems.append(f"item {item_id}: has no events (its history was deleted)")
            elif (r[0], r[1]) != (state, rnd):
                problems.append(f"item {item_id}: state {state} round {rnd} disagrees with its signatures "
                                f"(replay gives {r[0]} round {r[1]})")
            elif content_hashes.get(item_id) != r[2]:
                problems.append(f"item {item_id}: content differs from what was last signed")
            elif version != r[4]:
                problems.append(f"item {item_id}: version {version} but {r[4]} signatures (one per version)")
            elif drafter != r[5]:
                problems.append(f"item {item_id}: drafter {drafter} but {r[5]} signed its creation")
            seen.add(item_id)
        for item_id, r in self.replay.items():
            if item_id not in seen:
                problems.append(f"item {item_id}: has events from {r[3]} on but the item is gone (deleted)")
        return self.report


ITEMS = f"SELECT {', '.join(ITEM_FIELDS)} FROM zwgk_item"  # noqa: S608 - fixed column names


@dataclass
class Items:
    """Every item as the walk checks it (`Verifier.finish`)."""

    rows: list[tuple[Any, ...]]  # (id, state, round, version, drafter)
    content_hashes: dict[str, str]  # item id -> hash of its current content
    problems: list[str]  # items whose signed fields hold what no signature made


def item_hashes(rows: Sequence[Sequence[Any]]) -> Items:
    """The items of `ITEMS` rows, each with the hash of its content now."""
    items = Items([], {}, [])
    for (id, title, body, unit, category, timing, kind, interprets, tags, formed_on, drafter, state, rnd, version,
         _created, _updated, schedule, period) in rows:
        items.rows.append((id, state, rnd, version, drafter))
        try:
            items.content_hashes[id] = content_hash(signed_content(
                title, body, unit, category, timing, kind, interprets, list(json.loads(tags)),
                date.fromisoformat(formed_on) if formed_on else None, schedule, period))
        except (TypeError, ValueError):
            items.problems.append(f"item {id}: a signed field holds a value no signature made")
    return items
