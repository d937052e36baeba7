"""The notifier protocol and what travels through it: a contact, a message, a result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import structlog


class NotifierConfigError(ValueError):
    """Bad or missing settings for a channel; the message is one line naming the key."""


class Logger:
    """The engine's logger: structlog's own once anyone has configured structlog (the host, or our CLI and daemon
    through `workflow.logs.configure`), silent until then. Embedded, the library prints nothing of its own accord:
    structlog's default would print every event to standard output. (Here, at the bottom of the imports, so that
    the notifiers, which the engine imports, use it too.)"""

    def __init__(self, name: str, **bound: Any) -> None:
        self.name = name
        self.bound = bound

    def bind(self, **values: Any) -> Logger:
        return Logger(self.name, **self.bound, **values)

    def _emit(self, level: str, event: str, values: dict[str, Any]) -> None:
        if structlog.is_configured():  # read at each event: the host may configure after importing us
            getattr(structlog.get_logger(self.name, **self.bound), level)(event, **values)

    def info(self, event: str, **values: Any) -> None:
        self._emit("info", event, values)

    def warning(self, event: str, **values: Any) -> None:
        self._emit("warning", event, values)

    def exception(self, event: str, **values: Any) -> None:
        self._emit("exception", event, values)


log = Logger("zwgk.notifiers")


@dataclass(frozen=True)
class Contact:
    """What a notifier may know of a person."""

    id: str
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Message:
    key: str  # idempotency key: a reminder re-sent after a crash carries the same key
    recipient: Contact
    address: str  # where this channel delivers: e-mail address, mobile number or person id
    subject: str  # one line
    text: str  # plain text, several lines; never the body of an item
    fields: Mapping[str, str] = field(default_factory=dict)  # structured, for JSON webhooks


@dataclass(frozen=True)
class Result:
    ok: bool
    detail: str = ""  # message id / HTTP status / error text, never a secret
    retry: bool = True  # when not ok: False means permanent failure (dead-letter now)


@runtime_checkable
class Notifier(Protocol):
    channel: str  # a network channel also declares `timeout`: seconds one send may wait (see send_timeout)

    def address(self, person: Contact) -> str | None:
        """Where this channel reaches `person`; None when it cannot."""
        ...

    def send(self, message: Message) -> Result:
        """Deliver one message. Network failures come back as Result(ok=False, retry=True)."""
        ...


def send_timeout(notifier: Notifier) -> float:
    """The seconds one send may wait on the network, as the notifier declares it in `timeout` (none: 0). The daemon
    sends only while its claim on the message has twice that left, and wants claims of three times the largest."""
    value = getattr(notifier, "timeout", 0.0)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Belt and braces: error text from a server or a library must not carry a secret onwards."""
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


def finish(channel: str, message: Message, result: Result) -> Result:
    """Log the outcome (who, which key, what happened; never the text nor where it went) and pass it on."""
    if result.ok:
        log.info("notify.sent", channel=channel, key=message.key, to=message.recipient.id, detail=result.detail)
    else:
        log.warning("notify.failed", channel=channel, key=message.key, to=message.recipient.id,
                    retry=result.retry, detail=result.detail)
    return result


def truncate_utf8(text: str, max_bytes: int, ellipsis: str = "…") -> str:
    """Cut `text` to at most `max_bytes` UTF-8 bytes on a character boundary, marking the cut."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    room = max(max_bytes - len(ellipsis.encode("utf-8")), 0)
    # errors="ignore" drops the half character the byte cut may leave at the end
    return raw[:room].decode("utf-8", errors="ignore") + ellipsis


def contact_value(value: str | None) -> str | None:
    """An empty string in a directory means "unknown", same as None."""
    value = (value or "").strip()
    return value or None
