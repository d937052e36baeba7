"""The whole time one send may take.

A channel's `timeout` given to urllib or smtplib bounds each socket operation, not the send: a server that answers
a byte at a time keeps a send going for ever, past the claim it runs under (workflow/outbox.py sends only while the
claim covers the timeout twice), and so do a resolver that does not answer and a name with several unreachable
addresses. A Deadline makes the send's connections itself, within its time, watches their sockets and shuts them
down when the time is up; the send then fails as any broken connection does, and is tried again later.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress
from types import TracebackType
from typing import Any


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        # The name a send could not resolve in its time: the failure says so, whether or not the timer fired first
        # (the two end together: the resolver is waited on for all the time there is).
        self.unresolved: str | None = None
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

    def left(self) -> float:
        return self.ends - time.monotonic()

    def connect(self, address: tuple[str, int], timeout: float | None = None,
                source_address: Any = None) -> socket.socket:
        """`socket.create_connection` within what is left of the time: the name resolved in a thread waited on
        only that long (the resolver has no timeout of its own), then each address tried in turn, with an equal
        share of what is left, so that a dead first address (a broken IPv6 route) leaves time for the next."""
        host, port = address
        found: list[Any] = []
        resolver = threading.Thread(target=lambda: found.append(_resolve(host, port)), daemon=True)
        resolver.start()
        resolver.join(max(self.left(), 0))
        if not found:
            self.unresolved = host
            raise TimeoutError(f"name {host} not resolved within {self.seconds:g} s")
        if isinstance(found[0], OSError):
            raise found[0]
        addresses: list[Any] = found[0]
        error: OSError = TimeoutError(f"{host} not connected within {self.seconds:g} s")
        for i, (family, kind, proto, _, where) in enumerate(addresses):
            share = self.left() / (len(addresses) - i)
            if share <= 0:
                break
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(share)
                if source_address is not None:
                    sock.bind(source_address)
                sock.connect(where)
            except OSError as e:
                sock.close()
                error = e
                continue
            sock.settimeout(timeout if timeout is not None else self.seconds)  # for each read, as asked
            return self.watch(sock)
        raise error

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._watched:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):  # already closed by its peer
        sock.shutdown(socket.SHUT_RDWR)


def _resolve(host: str, port: int) -> list[Any] | OSError:
    try:
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except OSError as e:
        return e
