"""The notifier protocol and what travels through it: a contact, a message, a result."""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast, runtime_checkable

import structlog

from states.errors import Phrased


class NotifierConfigError(Phrased, ValueError):
    """Bad or missing settings for a channel; the message is one line naming the key."""

    code = "notifier-config"


def get_logger(name: str, **bound: Any) -> structlog.stdlib.BoundLogger:
    """The engine's logger: structlog on top of the standard library's `logging.getLogger(name)`, whatever the
    host did or did not configure of structlog. Handlers are the host's: the library adds none but a NullHandler,
    so nothing is printed unless the host configures logging (our CLI and daemon do, `workflow.logs.configure`).
    A record's message reads `event key=value ...` for a plain formatter; it carries the event and its fields as
    the attributes `zwgk_event` and `zwgk_fields` for a structured one. (Here, at the bottom of the imports, so
    that the notifiers, which the engine imports, use it too.)"""
    logger = structlog.wrap_logger(logging.getLogger(name), processors=[structlog.stdlib.filter_by_level, _to_record],
                                   wrapper_class=structlog.stdlib.BoundLogger, cache_logger_on_first_use=True,
                                   **bound)
    return cast(structlog.stdlib.BoundLogger, logger)


def _to_record(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> tuple[tuple[str], dict[str, Any]]:
    """The arguments of the standard library's logging call for one event."""
    exc_info = event_dict.pop("exc_info", None)
    event = str(event_dict.pop("event"))
    message = " ".join([event, *(f"{k}={v}" for k, v in sorted(event_dict.items()))])
    return (message,), {"exc_info": exc_info, "extra": {"zwgk_event": event, "zwgk_fields": dict(event_dict)}}


logging.getLogger("zwgk").addHandler(logging.NullHandler())  # no "last resort" printing of our warnings
log = get_logger("zwgk.notifiers")


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
