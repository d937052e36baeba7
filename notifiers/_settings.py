"""Reading a channel's settings mapping, failing with one line that names the key."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from notifiers.base import NotifierConfigError
from states.errors import Phrase

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Settings:
    def __init__(self, channel: str, settings: Mapping[str, Any]) -> None:
        if not isinstance(settings, Mapping):
            raise NotifierConfigError("{channel}: settings must be a mapping, not {type}", channel=channel,
                                      type=type(settings).__name__)
        self.channel = channel
        self.raw = settings

    def fail(self, key: str, template: str, /, **params: object) -> NotifierConfigError:
        return NotifierConfigError("{channel}: setting {key!r} {problem}", channel=self.channel, key=key,
                                   problem=Phrase(template, **params))

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.raw.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(key, "is required")
            return default
        if not isinstance(value, str):
            raise self.fail(key, "must be a string, not {type}", type=type(value).__name__)
        return value

    def required(self, key: str) -> str:
        value = self.text(key, required=True)
        assert value is not None
        return value

    def number(self, key: str, default: float, *, integer: bool = False) -> float:
        value = self.raw.get(key)
        if value is None or value == "":
            return default
        try:
            if isinstance(value, bool):  # True is an int to Python, not to a person writing a config file
                raise TypeError
            number = int(value) if integer else float(value)
        except (TypeError, ValueError):
            if integer:
                raise self.fail(key, "must be a whole number") from None
            raise self.fail(key, "must be a number") from None
        if not math.isfinite(number) or number <= 0:
            raise self.fail(key, "must be a positive finite number")
        return number

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise self.fail(key, "must be true or false")

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = (self.text(key) or default).lower()
        if value not in allowed:
            raise self.fail(key, "must be one of {known}", known=", ".join(allowed))
        return value

    def headers(self, key: str) -> dict[str, str]:
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a mapping of header names to values")
        out: dict[str, str] = {}
        for name, v in value.items():
            if not isinstance(name, str) or not isinstance(v, str):
                raise self.fail(key, "must map strings to strings")
            if any(c in name + v for c in "\r\n"):  # a line break would smuggle in another header
                raise self.fail(key, "has a line break in header {name!r}", name=name)
            out[name] = v
        return out

    def url(self, key: str, value: str) -> str:
        """Check an http(s) URL; urllib would also open file:// and ftp://, which a webhook never means."""
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.fail(key, "must be an http:// or https:// URL")
        return value
