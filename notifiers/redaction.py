"""Showing a channel's settings without its secrets (`zwgk config show`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

SECRET_KEYS = frozenset({"password", "key", "token", "secret"})
HIDDEN = "***"


def _is_secret(name: str) -> bool:
    name = name.lower()
    return name in SECRET_KEYS or any(name.endswith(f"_{k}") for k in SECRET_KEYS)  # smtp_password, api_key ...


def redact_url(url: str) -> str:
    """Keep scheme, host and path; hide the query (robot keys, tokens) and any user:password@."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{HIDDEN}@{netloc.rpartition('@')[2]}"
    return urlunsplit((parts.scheme, netloc, parts.path, HIDDEN if parts.query else "", ""))


def redact(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `settings` fit to print: secret values become "***", URLs lose their query string."""
    out: dict[str, Any] = {}
    for name, value in settings.items():
        if value is None:
            out[name] = value
        elif _is_secret(str(name)):
            out[name] = HIDDEN
        elif name == "headers" and isinstance(value, Mapping):
            out[name] = dict.fromkeys(value, HIDDEN)  # Authorization and friends: show which, never what
        elif name == "url" and isinstance(value, str):
            out[name] = redact_url(value)
        elif isinstance(value, Mapping):
            out[name] = redact(value)
        else:
            out[name] = value
    return out


def secret_values(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The values `redact` hides, to scrub out of text a plugin hands back (an error quoting its URL, say)."""
    out: list[str] = []
    for name, value in settings.items():
        if isinstance(value, str) and _is_secret(str(name)):
            out.append(value)
        elif name == "headers" and isinstance(value, Mapping):
            out.extend(str(v) for v in value.values())
        elif name == "url" and isinstance(value, str):
            parts = urlsplit(value)
            out.extend([parts.query, *(v for _, v in parse_qsl(parts.query)), parts.netloc.rpartition("@")[0]])
        elif isinstance(value, Mapping):
            out.extend(secret_values(value))
    return tuple(v for v in out if len(v) >= 4)  # shorter, it would scrub ordinary words
