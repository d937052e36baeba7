"""The daemon tests' own fixtures, where a defect shows up as another test's flake."""

from __future__ import annotations

import errno
import smtplib
import socket

import pytest

from tests.daemon_helpers import WAIT, ClosedPort, SmtpRecorder, SmtpServer


def test_a_closed_port_is_this_tests_alone_until_its_own_server_listens_there() -> None:
    """Found as a flake (three suites at once; a superseded reminder 'delivered'): the closed port was the same one
    in every process, so a daemon sending to the relay its test believed down delivered to another test's SMTP
    server there. Now a test holds its port: refused, and no other process's, until its own server listens."""
    mine, beside = ClosedPort(), ClosedPort()  # beside: what a test running at the same time is given
    server = SmtpServer(SmtpRecorder(), mine)
    try:
        assert mine.port != beside.port
        with socket.socket() as client, pytest.raises(ConnectionRefusedError):
            client.connect(("127.0.0.1", mine.port))
        with socket.socket() as other:
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as an asyncio server binds
            with pytest.raises(OSError) as taken:
                other.bind(("127.0.0.1", mine.port))
            assert taken.value.errno == errno.EADDRINUSE

        server.start()  # the relay comes up where it was down
        with smtplib.SMTP("127.0.0.1", mine.port, timeout=WAIT) as client:
            assert client.noop()[0] == 250
    finally:
        server.stop()
        beside.close()
