"""An event as stored and hashed: the canonical encoding and the SHA-256 every link of a chain rests on.

An event's canonical form is a JSON array, tagged with the format name, of the fields of `FIELDS` in that
order: compact, UTF-8, no escaping beyond JSON's. The same bytes on every database and every Python. An act's
or a link's extra fields travel in `data`, itself canonical JSON text, hashed as the text it is stored as.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from workflow.errors import InvalidInput

FORMAT = "zwgk-event/2"


class Event(NamedTuple):
    """One row of `zwgk_event`, by column name: the hashed fields in the order they are hashed, then the hash."""

    chain: str
    seq: int
    register_seq: int | None
    case_kind: str
    case_id: str
    round: int | None
    action: str
    from_state: str | None
    to_state: str | None
    actor: str | None
    role: str | None
    recorded_by: str | None
    paper_sha256: str | None
    operator: str
    at: str
    comment: str | None
    reason: str | None
    ground: str | None
    decision: str | None
    pipeline: str | None
    content_hash: str | None
    data: str | None
    prev_hash: str
    hash: str

    def payload(self) -> dict[str, Any]:
        """`data` as a mapping (empty when there is none)."""
        return json.loads(self.data) if self.data else {}


COLUMNS = Event._fields
FIELDS = COLUMNS[:-1]  # what the hash covers
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_encode_sorted = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
_sha256 = hashlib.sha256
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")


def event_hash(fields: tuple[Any, ...]) -> str:
    """SHA-256 of the canonical form of an event's fields (in `FIELDS` order, without the hash)."""
    return _sha256(_encode([FORMAT, *fields]).encode()).hexdigest()


def canonical(data: Mapping[str, Any]) -> str:
    """Mappings as every event and case row store them: compact JSON with sorted keys."""
    return _encode_sorted(data)


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of a case's content, as signed by every signature on it."""
    return _sha256(_encode_sorted(content).encode()).hexdigest()


def is_stamp(text: object) -> bool:
    """Whether `text` is a time as the engine stores it (`workflow.clock.stamp`): only those compare as text."""
    return isinstance(text, str) and _STAMP.fullmatch(text) is not None


@dataclass(frozen=True)
class Digest:
    """A chain's position `SEQ:HASH`; the register's is the root digest of the whole database."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Digest:
        seq, sep, h = text.strip().partition(":")
        if not sep or not seq.isdigit() or len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
            raise InvalidInput("'{text}' is not a digest (expected SEQ:SHA256 as printed by `zwgk digest`)", text=text)
        return cls(int(seq), h)
