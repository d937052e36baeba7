"""Channel name → factory: the built-ins, plugins registered in code, and the `zwgk.notifiers` entry points."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from notifiers.base import Contact, Message, Notifier, NotifierConfigError, Result, scrub, send_timeout
from notifiers.redaction import secret_values

Factory = Callable[[Mapping[str, Any]], Notifier]
ENTRY_POINT_GROUP = "zwgk.notifiers"

# Each imported when a channel of its kind is built: e-mail alone brings the `email` package, ~0.1 s that every
# command reading the settings would otherwise pay.
BUILTINS: Mapping[str, str] = {
    "console": "notifiers.console:ConsoleNotifier",
    "email": "notifiers.smtp:EmailNotifier",
    "webhook": "notifiers.webhook:WebhookNotifier",
    "wecom": "notifiers.wecom:WeComNotifier",
    "dingtalk": "notifiers.dingtalk:DingTalkNotifier",
}
_registered: dict[str, Factory] = {}


def register(channel: str, factory: Factory) -> Callable[[], None]:
    """Make `channel` buildable by `factory(settings) -> Notifier`; returns a function that takes it back.

    Used by the entry-point loader and by tests or host code that bring their own channel. A built-in
    or an already registered name cannot be taken over: two meanings for one name in a config is a trap.
    """
    if not channel or not channel.isidentifier():
        raise ValueError(f"channel name {channel!r} must be a simple identifier")
    if channel in BUILTINS or channel in _registered:
        raise ValueError(f"channel {channel!r} is already registered")
    _registered[channel] = factory

    def unregister() -> None:
        if _registered.get(channel) is factory:
            del _registered[channel]

    return unregister


def _builtin(channel: str) -> Factory | None:
    if channel not in BUILTINS:
        return None
    module, _, name = BUILTINS[channel].partition(":")
    factory: Factory = getattr(importlib.import_module(module), name)
    return factory


def _from_entry_point(channel: str) -> Factory | None:
    # Loaded by name on first use, so one broken plugin does not stop the others, nor the built-ins.
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=channel):
        try:
            factory = ep.load()
        except Exception as e:  # an import error in someone else's package: report it as configuration
            raise NotifierConfigError("channel {channel!r}: plugin {plugin} failed to load: {error}", channel=channel,
                                      plugin=ep.value, error=type(e).__name__) from e
        if not callable(factory):
            raise NotifierConfigError("channel {channel!r}: plugin {plugin} is not a factory", channel=channel,
                                      plugin=ep.value)
        register(channel, factory)
        return _registered[channel]
    return None


def channels() -> list[str]:
    """Every channel name that build() knows, plugins included (entry points are listed, not loaded)."""
    names = set(BUILTINS) | set(_registered) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names)


def build(channel: str, settings: Mapping[str, Any]) -> Notifier:
    """A ready notifier for `channel`; NotifierConfigError names the bad setting or the unknown channel."""
    factory = _builtin(channel) or _registered.get(channel) or _from_entry_point(channel)
    if factory is None:
        raise NotifierConfigError("unknown notifier channel {channel!r}; known: {known}", channel=channel,
                                  known=", ".join(channels()))
    notifier = factory(settings)
    if not isinstance(notifier, Notifier):
        raise NotifierConfigError("channel {channel!r}: factory returned {type}, not a Notifier", channel=channel,
                                  type=type(notifier).__name__)
    return notifier if channel in BUILTINS else _Plugin(notifier, secret_values(settings))


class _Plugin:
    """A plugin's notifier, whose failures cannot carry its channel's secrets onwards (into the outbox's
    `last_error` and the log): an exception becomes a failed Result, and every detail is scrubbed of the secret
    values of its settings. (The built-ins scrub their own.)"""

    def __init__(self, inner: Notifier, secrets: tuple[str, ...]) -> None:
        self.inner = inner
        self.channel = inner.channel
        self.timeout = send_timeout(inner)
        self.secrets = secrets

    def address(self, person: Contact) -> str | None:
        return self.inner.address(person)

    def send(self, message: Message) -> Result:
        try:
            result = self.inner.send(message)
        except Exception as e:  # a plugin's bug, or its library's error: worth another try, like a network one
            return Result(False, scrub(f"{type(e).__name__}: {e}", self.secrets), retry=True)
        return Result(result.ok, scrub(result.detail, self.secrets), result.retry)
