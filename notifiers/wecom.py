"""企业微信 group robot: a text message that @-mentions the person by mobile number."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notifiers import _robot
from notifiers._http import NETWORK_ERRORS, network_failure, post_json, url_secrets
from notifiers._settings import Settings
from notifiers.base import Contact, Message, Result, contact_value, finish

BASE_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="
MAX_BYTES = 2048  # documented limit of text.content, in UTF-8 bytes
RATE_LIMITED = 45009


class WeComNotifier:
    channel = "wecom"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        s = Settings(self.channel, settings)
        self._url, key = _robot.endpoint(s, "key", BASE_URL)
        self.timeout = s.number("timeout", 10.0)
        self._secrets = (*url_secrets(self._url), key)

    def address(self, person: Contact) -> str | None:
        return contact_value(person.phone)

    def send(self, message: Message) -> Result:
        payload = {
            "msgtype": "text",
            "text": {"content": _robot.content(message, MAX_BYTES), "mentioned_mobile_list": [message.address]},
        }
        try:
            reply = post_json(self._url, payload, headers={}, timeout=self.timeout)
        except NETWORK_ERRORS as e:
            return finish(self.channel, message, network_failure(e, self._secrets))
        return finish(self.channel, message, _robot.judge(reply, frozenset({RATE_LIMITED}), self._secrets))
