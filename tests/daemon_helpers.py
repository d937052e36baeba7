"""Helpers for tests/test_daemon.py: real `zwgk daemon` processes, a real SMTP server, a real HTTP server.

Nothing here is mocked: the daemon is the console script run as a child process (`python -m scripts.zwgk`),
e-mail goes over TCP to aiosmtpd, webhooks and a group robot's posts over HTTP to http.server, and the database
is the file or the PostgreSQL schema the test hands over. Every wait polls with a generous bound, so a loaded
machine is slow, not red, and a real hang still fails.
"""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import text

from tests.conftest import ADMIN
from workflow import Workflow
from workflow.db import READ_ONLY
from workflow.outbox import LEASE_PER_TIMEOUT

REPO = Path(__file__).resolve().parent.parent
WAIT = 60.0  # generous for a loaded 2-core machine; a real hang still fails

# "Now" for every daemon: a Monday in office hours. Items formed on FORMED are due about 2026-09-29
# (20 working days, Regulation Art. 26), so at NOW they are well over 3 working days overdue: their one
# reminder goes to the drafter, both leaders and both heads (escalate_head_after = 3).
NOW = datetime.fromisoformat("2026-11-16T10:00:00+08:00")
FORMED = date(2026, 9, 1)
PEOPLE: dict[str, tuple[str, list[str]]] = {
    "clerk": ("张三", ["drafter", "publisher"]),
    "lead1": ("李四", ["leader"]),
    "lead2": ("王五", ["leader"]),
    "head1": ("赵六", ["head"]),
    "head2": ("钱七", ["head"]),
}
RECIPIENTS = sorted(PEOPLE)
# Who else signs on the way to published; no reminder is addressed to them. In the register from the start, so
# that no test adds a person (a register event) while a daemon, whose clock runs on, is sealing there.
REVIEWERS: dict[str, tuple[str, list[str]]] = {
    "proof": ("孙八", ["proofreader"]),
    "sec": ("周九", ["confidentiality_reviewer"]),
}


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT, every: float = 0.05,
             alive: Iterable[DaemonProcess] = ()) -> Any:
    """Poll until `condition()` is truthy and return it; fail naming `what` after `timeout` seconds, or at
    once if one of the daemons in `alive` has exited meanwhile (a bad config, a crash)."""
    deadline = time.monotonic() + timeout
    watched = list(alive)
    while True:
        value = condition()
        if value:
            return value
        for d in watched:
            if not d.running():
                raise AssertionError(f"daemon exited while waiting for {what}: {d.describe()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what} (last: {value!r})")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ClosedPort:
    """A port of this test's own where connections are refused until this test's server listens there: a socket
    bound to it, not listening. While it is bound no other process can bind it (this socket has no SO_REUSEADDR,
    so neither can one that has), nor does the kernel hand it to a client as its source port. So no other test's
    daemon, sending to the relay it believes down, reaches this test's server (found as a flake: a fixed port
    below the ephemeral range was the same one in every process, and three suites at once sent each other mail)."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])

    def close(self) -> None:
        self.socket.close()


# ---------------------------------------------------------------- configuration and data


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def write_config(path: Path, channels: Mapping[str, Mapping[str, Any]], *, reminders: Mapping[str, Any] = {},
                 daemon: Mapping[str, Any] = {}, witnesses: Iterable[Mapping[str, Any]] = ()) -> Path:
    """A zwgk.toml for a test: no periodic schedules (so the counts are exact), short intervals, no office
    hours (so nothing depends on the wall clock), every listed channel in `reminders.channels`, and the
    `witnesses` (name, channel, email, phone) who are sent each seal's root digest."""
    # The shortest lease the channels' timeouts allow, so that a killed daemon's claims expire soon; the daemons
    # share one clock (Daemons.env), so a small clock-skew margin will do.
    lease = max([3.0, *(LEASE_PER_TIMEOUT * float(c.get("timeout", 0)) for c in channels.values())])
    rem = {"channels": list(channels), "office_hours_only": False, "lease_seconds": lease, "clock_skew_seconds": 0.5,
           "max_attempts": 8, "backoff_seconds": 0.2, "backoff_max_seconds": 1, **reminders}
    dmn = {"plan_every": 0.2, "send_every": 0.2, "roll_every": 5, "heartbeat_every": 0.5, **daemon}
    lines = ["schedule = []", "", "[reminders]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in rem.items()]
    lines += ["", "[daemon]"] + [f"{k} = {_toml_value(v)}" for k, v in dmn.items()]
    for name, settings in channels.items():
        lines += ["", f"[channels.{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in settings.items()]
    for witness in witnesses:
        lines += ["", "[[witness]]"] + [f"{k} = {_toml_value(v)}" for k, v in witness.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# A channel's timeout in these tests: far above what a local server takes (a slow one is told its delay), short
# enough that the lease it requires (three times as long) lets a killed daemon's claims expire soon.
TIMEOUT = 3.0


def email_channel(port: int, timeout: float = TIMEOUT) -> dict[str, Any]:
    return {"type": "email", "host": "127.0.0.1", "port": port, "sender": "政务公开 <zwgk@town.example>",
            "timeout": timeout, "local_hostname": "zwgk.test"}


def webhook_channel(url: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    return {"type": "webhook", "url": url, "timeout": timeout}


def seed_people(wf: Workflow) -> None:
    """A simulation register (the daemons' clocks are set by ZWGK_NOW), the unit `gov`, PEOPLE and REVIEWERS."""
    wf.init(admin=ADMIN, name="党政办登记管理员", simulation=True)
    wf.add_unit("gov", name="平田乡人民政府", by=ADMIN)
    for pid, (name, roles) in {**PEOPLE, **REVIEWERS}.items():
        wf.add_person(pid, name=name, unit="gov", roles=roles, email=f"{pid}@town.example", by=ADMIN)


def digest_in(text: str) -> str:
    """The root digest a witness message carries (`SEQ:HASH`, as `zwgk verify --against` takes it)."""
    found: set[str] = set(re.findall(r"root digest: (\d+:[0-9a-f]{64})", text))
    assert len(found) == 1, f"not one root digest in: {text!r}"
    return found.pop()


def witness_key(seq: int, name: str, channel: str) -> str:
    """The outbox key of seal `seq`'s message to a witness: the name (any length, any script) as a short hash."""
    return f"zwgk:seal:{seq}:{hashlib.sha256(name.encode()).hexdigest()[:16]}:{channel}"


def overdue_items(wf: Workflow, n: int, *, formed_on: date = FORMED, prefix: str = "od",
                  one_transaction: bool = False) -> list[str]:
    """`n` drafts formed on `formed_on`: each opens one proactive (20 working days) deadline.

    With `one_transaction` they are all committed at once (a host system's bulk import), so that every
    daemon already running sees them due at the same moment."""
    def create(conn: Any) -> list[str]:
        return [wf.new_item(id=f"{prefix}-{k:04d}", title=f"逾期事项 {k}", unit="gov", category="3.4",
                            timing="immediate", kind="info", drafter="clerk", body="……", formed_on=formed_on,
                            conn=conn).id for k in range(n)]
    if not one_transaction:
        return create(None)
    with wf.engine.begin() as conn:
        return create(conn)


def rows(wf: Workflow, sql: str, **params: Any) -> list[Any]:
    """A read in a read-only transaction (on SQLite a plain BEGIN: polling must not take the write lock)."""
    with wf.engine.connect() as c:
        c.execution_options(**{READ_ONLY: True})
        with c.begin():
            return list(c.execute(text(sql), params).all())


def scalar(wf: Workflow, sql: str, **params: Any) -> Any:
    found = rows(wf, sql, **params)
    return found[0][0] if found else None


def statuses(wf: Workflow) -> Counter[str]:
    return Counter({s: n for s, n in rows(wf, "SELECT status, count(*) FROM zwgk_notification GROUP BY status")})


# ---------------------------------------------------------------- daemon processes


class DaemonProcess:
    """One `zwgk daemon` child process; stdout and stderr go to files (no pipe to fill up and block it)."""

    def __init__(self, args: list[str], env: Mapping[str, str], folder: Path, name: str) -> None:
        self.name = name
        self.out_path = folder / f"{name}.stdout"
        self.err_path = folder / f"{name}.stderr"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "scripts.zwgk", *args], cwd=REPO, env=dict(env),
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        self.pid = self.proc.pid

    def stdout(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def log(self) -> list[dict[str, Any]]:
        """The JSON log lines on stderr (every non-empty line must be one)."""
        return [json.loads(line) for line in self.stderr().splitlines() if line.strip()]

    def logged(self, event: str) -> bool:
        """Whether a whole line of the log (not one being written) is `event`."""
        whole = self.stderr().rpartition("\n")[0]
        return any(json.loads(line)["event"] == event for line in whole.splitlines() if line.strip())

    def takers(self, signum: int) -> list[int]:
        """The threads (ids; the main one's is the pid) that a signal sent to the process may go to: those not
        blocking it, as /proc says."""
        found = []
        for task in sorted(Path(f"/proc/{self.pid}/task").iterdir(), key=lambda p: int(p.name)):
            status = dict(line.split(":", 1) for line in (task / "status").read_text().splitlines())
            if not int(status["SigBlk"], 16) & (1 << (signum - 1)):
                found.append(int(task.name))
        return found

    def running(self) -> bool:
        return self.proc.poll() is None

    def signal(self, signum: int) -> None:
        if self.running():
            os.kill(self.pid, signum)

    def wait(self, timeout: float = WAIT) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"daemon {self.name} (pid {self.pid}) still running after {timeout:g}s; "
                                 f"stderr tail: {self.stderr()[-2000:]}") from None

    def stop(self, timeout: float = WAIT) -> int:
        """SIGTERM, then wait for the exit code."""
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is released."""
        if self.running():
            self.proc.kill()
        self.proc.wait(timeout=WAIT)

    def describe(self) -> str:
        return f"{self.name} pid {self.pid} rc {self.proc.poll()}\nstderr tail:\n{self.stderr()[-3000:]}"


class Daemons:
    """Starts daemon processes for one test and kills whatever is left of them (by pid) afterwards."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[DaemonProcess] = []
        self.workflows: list[Workflow] = []  # this process's own handles on the database, closed at the end
        self.t0 = time.monotonic()
        self.t0_wall = time.time()

    def now(self) -> datetime:
        """One timeline for all daemons of a test: NOW when the test began, running on since."""
        return NOW + timedelta(seconds=time.monotonic() - self.t0)

    def env(self, url: str, config: Path, now: datetime | None = None, *, real_clock: bool = False,
            skew: float = 0.0, **extra: str) -> dict[str, str]:
        """The child's environment: ZWGK_NOW set to `now`, or to the test's timeline (plus `skew` seconds: a clock
        running ahead), unless `real_clock`.

        The timeline is NOW at the wall time the test began (ZWGK_NOW_SINCE), so every daemon of a test reads
        the same clock however long each takes to start; a daemon started later does not live in the past of
        one started earlier (and wait that much longer for its leases)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZWGK_") or k == "ZWGK_LANG"}
        env.update(ZWGK_DATABASE_URL=url, ZWGK_CONFIG=str(config), PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO), **extra)
        if real_clock:
            return env
        if now is None:
            env.update(ZWGK_NOW=(NOW + timedelta(seconds=skew)).isoformat(), ZWGK_NOW_SINCE=repr(self.t0_wall))
        else:
            env.update(ZWGK_NOW=(now + timedelta(seconds=skew)).isoformat(), ZWGK_NOW_SINCE=repr(time.time()))
        return env

    def start(self, url: str, config: Path, *args: str, now: datetime | None = None, real_clock: bool = False,
              skew: float = 0.0) -> DaemonProcess:
        name = f"daemon{len(self.started) + 1}"
        d = DaemonProcess(["daemon", *args], self.env(url, config, now, real_clock=real_clock, skew=skew),
                          self.folder, name)
        self.started.append(d)
        return d

    def once(self, url: str, config: Path, now: datetime | None = None, *, real_clock: bool = False) -> DaemonProcess:
        d = self.start(url, config, "--once", now=now, real_clock=real_clock)
        rc = d.wait()
        assert rc == 0, d.describe()
        return d

    def cli(self, url: str, config: Path, *args: str, now: datetime | None = None,
            real_clock: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "scripts.zwgk", *args], cwd=REPO,
                              env=self.env(url, config, now, real_clock=real_clock),
                              capture_output=True, text=True, timeout=WAIT, check=False)

    def cleanup(self) -> None:
        for d in self.started:
            if d.running():
                d.kill()
        for wf in self.workflows:
            wf.close()


def daemon_rows(wf: Workflow) -> list[Any]:
    return rows(wf, "SELECT id, pid, beat_at, stopped_at, planned, sent, failed FROM zwgk_daemon ORDER BY started_at")


def daemon_row(wf: Workflow, pid: int) -> Any:
    found = [r for r in daemon_rows(wf) if r.pid == pid]
    return found[-1] if found else None


# ---------------------------------------------------------------- a real SMTP server


class SmtpRecorder:
    """aiosmtpd handler: keeps the X-Zwgk-Idempotency-Key of every message it accepts, and the message.

    `delay` seconds are spent inside DATA before the 250 reply (a slow relay). `active` counts the messages
    inside DATA right now, so a test can strike while one is in flight; a message whose client vanishes
    meanwhile is never answered, so it is not accepted (aiosmtpd cancels the handler).
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.keys: list[str] = []  # accepted: answered 250
        self.mail: list[email.message.EmailMessage] = []  # the messages accepted, in that order
        self.begun: list[str] = []  # DATA received (accepted or not)
        self.active = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        key = str(message["X-Zwgk-Idempotency-Key"])
        with self.lock:
            self.active += 1
            self.begun.append(key)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            with self.lock:
                self.keys.append(key)
                self.mail.append(message)
            return "250 2.0.0 queued"
        finally:
            with self.lock:
                self.active -= 1

    def received(self) -> Counter[str]:
        with self.lock:
            return Counter(self.keys)

    def settle(self) -> None:
        """Wait until no message is inside DATA any more (answered, or dropped with its client)."""
        wait_for(lambda: self.active == 0, "the SMTP server to be done with the message in flight")

    def in_flight(self) -> bool:
        return self.active > 0

    def count(self) -> int:
        with self.lock:
            return len(self.keys)


class _OnSocket(Controller):
    """aiosmtpd's threaded controller listening on a socket already bound (rather than binding host:port itself)."""

    def __init__(self, handler: Any, sock: socket.socket, **kwargs: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1], **kwargs)
        self.sock = sock

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self.sock)


class SmtpServer:
    """A real SMTP server on 127.0.0.1, listening on the very socket of `port` (the relay comes up where it was
    down) or of a port of its own: there is no moment when the port is free for another process to take.
    It is started once; stopping it closes the port."""

    def __init__(self, recorder: SmtpRecorder, port: ClosedPort | None = None) -> None:
        self.recorder = recorder
        self.at = port or ClosedPort()
        self.port = self.at.port
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        assert self.at.socket.fileno() != -1, "an SMTP server is started once"
        self.controller = _OnSocket(self.recorder, self.at.socket, server_hostname="mail.test", ready_timeout=WAIT)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
        self.at.close()


# ---------------------------------------------------------------- a real HTTP server for webhooks


class WebhookRecorder:
    """A ThreadingHTTPServer in this process that answers 200 and keeps each request's Idempotency-Key (decoded)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.keys: list[str] = []
        self.lock = threading.Lock()
        self.delay = delay
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                # A key that is not printable ASCII (a witness's Chinese name) travels percent-encoded.
                header = self.headers.get("Idempotency-Key", "")
                key = urllib.parse.unquote(header)
                assert body["key"] == key, (header, body["key"])
                if recorder.delay:
                    time.sleep(recorder.delay)
                with recorder.lock:
                    recorder.keys.append(key)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def received(self) -> Counter[str]:
        with self.lock:
            return Counter(self.keys)

    def count(self) -> int:
        with self.lock:
            return len(self.keys)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HeldReceiver:
    """A webhook receiver that holds requests open instead of answering: `hold(key)` says which (all, by default).

    It signals each arrival (`arrived(key)`), answers a held request when the test calls `release()`, and drops it
    unanswered once its client has given up (timed out, been killed). On each arrival it checks, without waiting,
    whether an earlier request for the same key is still open (its client still waiting): `overlaps` lists
    those, i.e. two daemons sending one message at the same time.
    """

    def __init__(self, hold: Callable[[str], bool] = lambda key: True) -> None:
        self.hold = hold
        self.lock = threading.Condition()
        self.keys: list[str] = []  # every request, in order of arrival
        self.answered: list[str] = []
        self.open: dict[str, list[socket.socket]] = {}
        self.overlaps: list[str] = []
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                key = json.loads(self.rfile.read(length).decode("utf-8"))["key"]
                with receiver.lock:
                    if any(not _gone(other) for other in receiver.open.get(key, [])):
                        receiver.overlaps.append(key)
                    receiver.keys.append(key)
                    receiver.open.setdefault(key, []).append(self.connection)
                    receiver.lock.notify_all()
                try:
                    if receiver.hold(key) and not receiver._wait(self.connection):
                        return  # the client left: no answer
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                    with receiver.lock:
                        receiver.answered.append(key)
                finally:
                    with receiver.lock:
                        receiver.open[key].remove(self.connection)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def _wait(self, conn: socket.socket) -> bool:
        """Until released (True) or the client has gone (False)."""
        while not self.released.wait(0.05):
            if _gone(conn):
                return False
        return True

    def arrived(self, key: str | None = None, times: int = 1) -> bool:
        with self.lock:
            return sum(1 for k in self.keys if key is None or k == key) >= times

    def first(self) -> str:
        with self.lock:
            return self.keys[0]

    def release(self) -> None:
        self.released.set()

    def received(self) -> Counter[str]:
        with self.lock:
            return Counter(self.keys)

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


class HungServer:
    """A TCP server that accepts connections and then says nothing (an SMTP relay that hangs before its banner)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # closed
                return
            with self.lock:
                self.accepted.append(conn)

    def connections(self) -> int:
        with self.lock:
            return len(self.accepted)

    def close(self) -> None:
        """Hang up on every client (they see the connection closed) and stop listening."""
        self.listener.close()
        with self.lock:
            for conn in self.accepted:
                conn.close()


def _gone(conn: socket.socket) -> bool:
    """Whether the client has closed its end (a peek that finds the end of the stream), without waiting."""
    try:
        return conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


class RobotRecorder:
    """A group robot's webhook (WeCom 企业微信's protocol) on 127.0.0.1: answers errcode 0 and keeps every JSON
    payload posted to it (the robot's text and the mobile numbers it @-mentions)."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length).decode("utf-8"))
                with recorder.lock:
                    recorder.payloads.append(payload)
                answer = b'{"errcode": 0, "errmsg": "ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def received(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.payloads)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def duplicates(received: Counter[str]) -> dict[str, int]:
    return {k: n for k, n in received.items() if n > 1}


def keys_of(wf: Workflow, where: str = "1 = 1") -> set[str]:
    return {r.key for r in rows(wf, f"SELECT key FROM zwgk_notification WHERE {where}")}
