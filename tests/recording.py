"""A notifier for tests (the `recorder` fixture registers it as the channel `recording`): scripted outcomes,
every attempt kept."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from notifiers import Contact, Message, Result


@dataclass
class Recorder:
    """Scripted outcomes, in order (then success); every attempt and every delivery recorded. `unreachable`:
    errors that the next calls of `address()` raise, in order (a third-party notifier's bug), then it answers."""

    script: list[Result | BaseException] = field(default_factory=list)
    unreachable: list[BaseException] = field(default_factory=list)
    attempts: list[Message] = field(default_factory=list)
    delivered: list[Message] = field(default_factory=list)
    after_send: Callable[[Message], None] | None = None

    def factory(self, settings: Mapping[str, Any]) -> RecordingNotifier:
        return RecordingNotifier(self, dict(settings))


class RecordingNotifier:
    channel = "recording"

    def __init__(self, recorder: Recorder, settings: dict[str, Any]) -> None:
        self.recorder = recorder
        self.settings = settings

    def address(self, person: Contact) -> str | None:
        if self.recorder.unreachable:
            raise self.recorder.unreachable.pop(0)
        return person.id

    def send(self, message: Message) -> Result:
        r = self.recorder
        r.attempts.append(message)
        outcome = r.script.pop(0) if r.script else Result(True, "recorded")
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome.ok:
            r.delivered.append(message)
        if r.after_send is not None:
            r.after_send(message)
        return outcome
