"""Found by the second red team of issue 11, on the whole-send deadline (notifiers/_deadline.py): name resolution
and connecting happened before any socket was watched, so a send could outlast its timeout, and with it the claim
it runs under (workflow/outbox.py sends only while the claim has 2x the timeout left). Now the Deadline resolves
and connects within the send's time. Nothing here is timed: each test shows what bounds the send."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from notifiers import build
from tests.test_notifiers import message, smtp_settings, start_smtp  # noqa: F401 (a fixture)

TIMEOUT = 0.5


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port whose SYNs are dropped: a listener with a full backlog (Linux drops the SYN; connect() hangs), as a
    firewall or a dead route does."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        with socket.create_connection(("127.0.0.1", port)):  # fills the backlog
            yield port


@pytest.fixture
def answering() -> Iterator[int]:
    """A webhook receiver that answers 200 at once."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def resolving(monkeypatch: pytest.MonkeyPatch, answer: Callable[[int], list[Any]]) -> None:
    """Names ending in .test resolve to `answer(port)` (what a DNS server with several records gives)."""
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if isinstance(host, str) and host.endswith(".test"):
            return answer(int(port))
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def v4(port: int) -> tuple[Any, ...]:
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))


def settings(channel: str, host: str, port: int) -> dict[str, Any]:
    if channel == "webhook":
        return {"url": f"http://{host}:{port}/hook", "timeout": TIMEOUT}
    return smtp_settings(port, host=host, timeout=TIMEOUT)


class Connecting(socket.socket):
    """A socket that notes the timeout each connect() was given."""

    timeouts: ClassVar[list[float | None]] = []

    def connect(self, address: Any) -> None:
        Connecting.timeouts.append(self.gettimeout())
        super().connect(address)


@pytest.mark.parametrize("channel", ["webhook", "email"])
def test_several_unreachable_addresses_share_the_timeout(channel: str, blackhole: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """socket.create_connection gave each address the whole timeout: six dead records held a send six times it."""
    resolving(monkeypatch, lambda port: [v4(port)] * 6)
    monkeypatch.setattr(Connecting, "timeouts", [])
    monkeypatch.setattr(socket, "socket", Connecting)
    result = build(channel, settings(channel, "relay.test", blackhole)).send(message("zhangsan@town.example"))
    assert not result.ok and result.retry
    assert Connecting.timeouts and all(t is not None for t in Connecting.timeouts)
    assert sum(t for t in Connecting.timeouts if t is not None) <= TIMEOUT


@pytest.mark.parametrize("channel", ["webhook", "email"])
def test_a_resolver_that_does_not_answer_is_not_waited_for(channel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreachable DNS server: glibc waits timeout x attempts x nameservers (5 s x 2 x 3 by default). This one
    answers only when the test lets it, after the send has given up."""
    gate = threading.Event()

    def unanswered(port: int) -> list[Any]:
        gate.wait(30)  # a regression fails in 30 s instead of hanging
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    resolving(monkeypatch, unanswered)
    try:
        result = build(channel, settings(channel, "relay.test", 9)).send(message("zhangsan@town.example"))
        assert not gate.is_set() and not result.ok and result.retry
        assert f"name relay.test not resolved within {TIMEOUT:g} s" in result.detail, result.detail
    finally:
        gate.set()


def test_smtp_does_not_ask_dns_for_our_own_name_inside_a_send(start_smtp: Any,  # noqa: F811 (the fixture)
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Without local_hostname, smtplib called socket.getfqdn() (a reverse lookup, unbounded) in every send."""
    asked: list[str] = []
    monkeypatch.setattr(socket, "getfqdn", lambda name="": asked.append(name) or "zwgk.example")
    server = start_smtp()
    settings = smtp_settings(server.port, timeout=TIMEOUT)
    del settings["local_hostname"]
    assert build("email", settings).send(message("zhangsan@town.example")).ok
    assert asked == []


def test_a_dead_first_address_leaves_time_for_the_next(blackhole: int, answering: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The usual broken-IPv6 case: the first record is unreachable, the next answers. Each address has an equal
    share of the time, so the second is reached."""
    resolving(monkeypatch, lambda port: [v4(blackhole), v4(answering)])
    result = build("webhook", {"url": f"http://hook.test:{answering}/hook", "timeout": 4}).send(message("clerk"))
    assert result.ok, result.detail
