"""The whole time one send may take.

A channel's `timeout` given to urllib or smtplib bounds each socket operation, not the send: a server that answers
a byte at a time keeps a send going for ever, past the claim it runs under (workflow/outbox.py sends only while the
claim covers the timeout twice). A Deadline watches the sockets a send opens and shuts them down when its time is
up; the send then fails as any broken connection does, and is tried again later.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress
from types import TracebackType


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        # Our own descriptor of each socket: shutting it down breaks the connection, whatever the owner wrapped the
        # socket in (TLS) or did with its own descriptor meanwhile; closing the owner's never touches another's.
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._watched:
                sock.close()
            self._watched.clear()

    def watch(self, sock: socket.socket) -> socket.socket:
        """Shut `sock` down when the time is up (at once, if it is already); returns `sock`."""
        mine = socket.fromfd(sock.fileno(), sock.family, sock.type)
        with self._lock:
            self._watched.append(mine)
            if self.expired:
                _shut(mine)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._watched:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):  # already closed by its peer
        sock.shutdown(socket.SHUT_RDWR)
