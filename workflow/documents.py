"""Documents by the SHA-256 of their bytes: the letters a request's signatures send, the reports an office files.

A signed event names a document by its hash; the bytes live in `zwgk_document` (append-only, so in every backup),
and `verify` checks that each document named is there and still hashes to its name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from workflow.errors import InvalidInput, NotFound
from workflow.uow import Row, Work


@dataclass(frozen=True)
class Document:
    sha256: str
    media_type: str
    name: str  # a file name to save it under
    content: bytes
    created_at: str

    @property
    def intact(self) -> bool:
        return hashlib.sha256(self.content).hexdigest() == self.sha256


def checked_hash(value: object) -> str:
    """A document's name as given: 64 lower-case hex digits, or InvalidInput."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise InvalidInput("a document is named by its SHA-256: 64 lower-case hex digits")
    return value


def put(work: Work, content: bytes, *, media_type: str, name: str, at: str) -> str:
    """Store `content` (once: the same bytes again are the same document); returns its hash."""
    sha = hashlib.sha256(content).hexdigest()
    work.run("put_document", {"sha256": sha, "media_type": media_type, "name": name, "size": len(content),
                              "content": content, "at": at})
    return sha


def find(work: Work, sha256: str) -> Document | None:
    row = work.one("document", {"sha256": sha256})
    return _document(row) if row is not None else None


def get(work: Work, sha256: str) -> Document:
    found = find(work, sha256)
    if found is None:
        raise NotFound("no document {sha256}", sha256=sha256[:12])
    return found


def _document(r: Row) -> Document:
    # psycopg2 hands bytea back as a memoryview, the others as bytes
    return Document(r["sha256"], r["media_type"], r["name"], bytes(r["content"]), r["created_at"])
