"""The generic webhook: the whole message as JSON, for whatever the township already runs (OA, a chat bridge)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notifiers._http import NETWORK_ERRORS, header_value, network_failure, post_json, transient_status, url_secrets
from notifiers._settings import Settings
from notifiers.base import Contact, Message, Result, finish


class WebhookNotifier:
    channel = "webhook"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        s = Settings(self.channel, settings)
        self._url = s.url("url", s.required("url"))
        self.timeout = s.number("timeout", 10.0)
        self._headers = s.headers("headers")
        # What must never reach a log or a Result: the query string (often a token) and header values (Authorization).
        self._secrets = (*url_secrets(self._url), *self._headers.values())

    def address(self, person: Contact) -> str | None:
        return person.id

    def send(self, message: Message) -> Result:
        payload = {
            "key": message.key,
            "recipient": {"id": message.recipient.id, "name": message.recipient.name},
            "address": message.address,
            "subject": message.subject,
            "text": message.text,
            "fields": dict(message.fields),
        }
        headers = {**self._headers, "Idempotency-Key": header_value(message.key)}
        try:
            reply = post_json(self._url, payload, headers=headers, timeout=self.timeout)
        except NETWORK_ERRORS as e:
            return finish(self.channel, message, network_failure(e, self._secrets))
        if 200 <= reply.status < 300:
            result = Result(True, f"HTTP {reply.status}")
        else:
            # 408/429/5xx: the receiver is busy or down. Other 4xx, and 3xx (not followed): resending will not help.
            result = Result(False, f"HTTP {reply.status}", retry=transient_status(reply.status))
        return finish(self.channel, message, result)
