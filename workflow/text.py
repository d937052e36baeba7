"""One validation for the text people type, before it is hashed or stored.

Refused: what is not text, lone surrogates (no UTF-8 for them), NUL and the other control characters (ANSI
escapes forge terminal output; PostgreSQL cannot store NUL), and text over the configured limits. Kept: newline
and tab in free text (a body, a comment, a reason, a note), where Windows line ends (CRLF, text pasted from Word)
become LF before anything is hashed, so that the same words sign the same on every computer.
"""

from __future__ import annotations

import re
from typing import Any

from workflow.config import Limits
from workflow.errors import InvalidInput

FREE_TEXT = frozenset({"body", "comment", "reason", "note"})  # may run over several lines
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # C0, DEL, C1, and the Unicode line separators
_CONTROL_IN_FREE_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # the same but tab and newline
# What no printed letter may hold: control characters but newline and tab (not in a .docx; they forge terminals),
# the Unicode line separators, bidirectional overrides (a printed letter must read as it is stored), and what is no
# character at all (lone surrogates, U+FFFE, U+FFFF). Text a letter will state is held to it when it is typed.
NOT_PRINTABLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_MOBILE = re.compile(r"(\+86)?1[3-9]\d{9}")


def identifier(kind: str, value: str) -> str:
    """An id as the engine keys and prints it: refused with one line if it is not one."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidInput("{kind} id '{value}' must be 1-64 letters, digits, '.', '_' or '-'", kind=kind, value=value)
    return value


def printable(**values: str | None) -> None:
    """Text a letter will state: refused with one line naming the field (never quoting it) if a letter cannot
    print it."""
    for name, value in values.items():
        bad = NOT_PRINTABLE.search(value) if value is not None else None
        if bad is not None:
            raise InvalidInput("{name} holds a character a letter cannot print (U+{code:04X}) at position {position}",
                               name=name, code=ord(bad.group()), position=bad.start())


def checked(limits: Limits, **values: object) -> dict[str, Any]:
    """`values` as the engine will hash and store them (None stays None), or InvalidInput naming the first bad one."""
    return {name: None if value is None else _one(name, value, limits) for name, value in values.items()}


def _one(name: str, value: object, limits: Limits) -> str:
    if not isinstance(value, str):
        raise InvalidInput("{name} must be text, not {type}", name=name, type=type(value).__name__)
    free = name in FREE_TEXT
    if free:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError as e:
        raise InvalidInput("{name} holds a character that is not text (a lone surrogate at position {position})",
                           name=name, position=e.start) \
            from None
    bad = (_CONTROL_IN_FREE_TEXT if free else _CONTROL).search(value)
    if bad is not None and free:
        raise InvalidInput("{name} holds a control character (U+{code:04X}) at position {position}", name=name,
                           code=ord(bad.group()), position=bad.start())
    if bad is not None:
        raise InvalidInput("{name} holds a control character (U+{code:04X}) at position {position}; it must be one "
                           "line of text", name=name, code=ord(bad.group()), position=bad.start())
    if name == "body" and size > limits.body_bytes:
        raise InvalidInput("body is {size:,} bytes, more than [limits] body_bytes ({limit:,}) allows", size=size,
                           limit=limits.body_bytes)
    if name == "title" and len(value) > limits.title_chars:
        raise InvalidInput("title is {length:,} characters, more than [limits] title_chars ({limit:,}) allows",
                           length=len(value), limit=limits.title_chars)
    if name == "email" and not _EMAIL.fullmatch(value):
        raise InvalidInput("email '{value}' is not an e-mail address (name@example.gov.cn)", value=value)
    if name == "phone" and not _MOBILE.fullmatch(value):
        raise InvalidInput("phone '{value}' is not a mobile number (11 digits from 1, optionally after +86)",
                           value=value)
    return value
