"""The console channel: one readable block per message, for development and for small offices that tail a log."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from notifiers._settings import Settings
from notifiers.base import Contact, Message, NotifierConfigError, Result, finish

_NAMED = ("stdout", "stderr")


class ConsoleNotifier:
    channel = "console"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        s = Settings(self.channel, settings)
        stream = s.raw.get("stream")
        if stream is not None and not isinstance(stream, str) and not callable(getattr(stream, "write", None)):
            raise NotifierConfigError("console: setting 'stream' must be stdout, stderr or a writable text stream")
        if isinstance(stream, str) and stream not in _NAMED:
            raise NotifierConfigError("console: setting 'stream' must be stdout, stderr or a writable text stream")
        self._stream: TextIO | str | None = stream

    def _out(self) -> TextIO:
        # Looked up per message, not at build time, so a redirected sys.stdout (tests, daemons) is honoured.
        if self._stream is None or self._stream == "stdout":
            return sys.stdout
        if self._stream == "stderr":
            return sys.stderr
        assert not isinstance(self._stream, str)
        return self._stream

    def address(self, person: Contact) -> str | None:
        return person.id

    def send(self, message: Message) -> Result:
        subject = " ".join(message.subject.split())
        lines = [f"[提醒→{message.recipient.id} {message.recipient.name}] {subject}"]
        lines += [f"    {line}" if line else "" for line in message.text.splitlines()]
        try:
            out = self._out()
            out.write("\n".join(lines) + "\n")
            out.flush()
        except (OSError, ValueError) as e:  # closed stream / broken pipe: maybe better next time
            return finish(self.channel, message, Result(False, f"cannot write: {type(e).__name__}", retry=True))
        return finish(self.channel, message, Result(True, "written"))
