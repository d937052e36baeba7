"""钉钉 group robot: a text message that @-mentions the person by mobile number, signed when a secret is set."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from notifiers import _robot
from notifiers._http import NETWORK_ERRORS, network_failure, post_json, url_secrets
from notifiers._settings import Settings
from notifiers.base import Contact, Message, Result, contact_value, finish

BASE_URL = "https://oapi.dingtalk.com/robot/send?access_token="
MAX_BYTES = 4000  # DingTalk allows more, but a reminder needs far less and a long one is not read
RATE_LIMITED = 130101


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}")); URL-encoding is left to the caller."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalkNotifier:
    channel = "dingtalk"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        s = Settings(self.channel, settings)
        self._url, token = _robot.endpoint(s, "token", BASE_URL)
        self._secret = s.text("secret")
        self.timeout = s.number("timeout", 10.0)
        self._secrets = (*url_secrets(self._url), token, self._secret or "")

    def address(self, person: Contact) -> str | None:
        return contact_value(person.phone)

    def _signed_url(self) -> str:
        if not self._secret:
            return self._url
        timestamp = int(time.time() * 1000)  # DingTalk refuses a signature more than an hour old: sign per send
        query = urlencode({"timestamp": timestamp, "sign": sign(self._secret, timestamp)})
        return f"{self._url}{'&' if urlsplit(self._url).query else '?'}{query}"

    def send(self, message: Message) -> Result:
        # The @ only highlights the person when their number also appears in the content.
        mention = f"\n@{message.address}"
        payload = {
            "msgtype": "text",
            "text": {"content": _robot.content(message, MAX_BYTES, mention)},
            "at": {"atMobiles": [message.address], "isAtAll": False},
        }
        try:
            reply = post_json(self._signed_url(), payload, headers={}, timeout=self.timeout)
        except NETWORK_ERRORS as e:
            return finish(self.channel, message, network_failure(e, self._secrets))
        return finish(self.channel, message, _robot.judge(reply, frozenset({RATE_LIMITED}), self._secrets))
