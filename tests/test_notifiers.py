"""Notifiers against real servers on 127.0.0.1: aiosmtpd for e-mail, http.server for webhooks and robots."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import io
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

import notifiers
from notifiers import Contact, Message, NotifierConfigError, Result, build, redact, register
from notifiers import registry as registry_module
from workflow.testing import captured_logs

ZHANG = Contact(id="clerk", name="张三", email="zhangsan@town.example", phone="13800138000")
SUBJECT = "【提醒】政策解读 2026-000123 明天到期"
TEXT = "事项：政策解读 2026-000123\n步骤：校对\n到期：2026-05-08\n\n请及时处理。"
FIELDS = {"item": "2026-000123", "title": "政策解读", "due": "2026-05-08", "step": "proofread"}

SMTP_PASSWORD = "s3cret-SMTP-pass"
ROBOT_KEY = "wecom-robot-key-0123456789"
DING_TOKEN = "ding-access-token-abcdef"
DING_SECRET = "SECdingtalk-sign-secret-xyz"
HOOK_TOKEN = "hook-query-token-42"
HOOK_AUTH = "Bearer hook-header-token-99"


def message(address: str, key: str = "remind:2026-000123:proofread:1", recipient: Contact = ZHANG) -> Message:
    return Message(key=key, recipient=recipient, address=address, subject=SUBJECT, text=TEXT, fields=FIELDS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel does) but never says a word: a hung server."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    # Plugins registered by one test must not leak into the next.
    monkeypatch.setattr(registry_module, "_registered", {})


# ---------------------------------------------------------------- SMTP


class Collector:
    """An aiosmtpd handler that keeps what it receives and refuses some mailboxes."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.tls: list[bool] = []
        self.logins: list[bytes] = []

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy@"):
            return "450 4.2.1 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        # session.ssl is set by STARTTLS only; an implicit-TLS transport shows its ssl_object instead.
        self.tls.append(session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None)
        return "250 2.0.0 queued"

    def authenticator(self, server: Any, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append(auth_data.login)
        ok = auth_data.login == b"clerk@town.example" and auth_data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok, handled=False)

    def received(self) -> EmailMessage:
        assert len(self.envelopes) == 1
        raw = self.envelopes[0].original_content or self.envelopes[0].content
        assert isinstance(raw, bytes)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpServer:
    handler: Collector
    port: int


@pytest.fixture
def start_smtp() -> Iterator[Callable[..., SmtpServer]]:
    controllers: list[Controller] = []

    def start(**kwargs: Any) -> SmtpServer:
        handler = Collector()
        port = free_port()
        if kwargs.pop("auth", False):
            kwargs.update(authenticator=handler.authenticator, auth_require_tls=False)
        controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="mail.test", **kwargs)
        controller.start()
        controllers.append(controller)
        return SmtpServer(handler, port)

    yield start
    for c in controllers:
        c.stop()


def smtp_settings(port: int, **extra: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "sender": "政务公开 <zwgk@town.example>", "timeout": 5,
            "local_hostname": "zwgk.test", **extra}


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made now with the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl CLI (and no cryptography package) to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    done = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"openssl could not make a test certificate: {done.stderr.decode(errors='replace')[:100]}")
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*certificate)
    return ctx


def test_email_plain_delivery_with_chinese_subject(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp()
    notifier = build("email", smtp_settings(server.port))
    assert notifier.channel == "email"
    assert notifier.address(ZHANG) == "zhangsan@town.example"
    assert notifier.address(Contact(id="x", name="无邮箱")) is None
    assert notifier.address(Contact(id="x", name="空邮箱", email="")) is None

    result = notifier.send(message("zhangsan@town.example"))

    assert result.ok, result
    envelope = server.handler.envelopes[0]
    assert envelope.mail_from == "zwgk@town.example"
    assert envelope.rcpt_tos == ["zhangsan@town.example"]
    mail = server.handler.received()
    raw = envelope.original_content or b""
    assert b"=?utf-8?" in raw  # the Chinese subject travels RFC 2047 encoded ...
    assert mail["Subject"] == SUBJECT  # ... and decodes back exactly
    assert mail["To"].addresses[0].display_name == "张三"
    assert mail["From"].addresses[0].display_name == "政务公开"
    assert mail["Date"] is not None
    body = mail.get_body()
    assert body is not None
    assert body.get_content().replace("\r\n", "\n").rstrip("\n") == TEXT  # CRLF on the wire


def test_email_message_id_is_deterministic_from_the_key(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp()
    notifier = build("email", smtp_settings(server.port))
    key = "remind:2026-000123:proofread:1"

    first = notifier.send(message("zhangsan@town.example", key))
    second = notifier.send(message("zhangsan@town.example", key))  # as after a crash
    notifier.send(message("zhangsan@town.example", "remind:other"))

    expected = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@zwgk>"
    ids, keys = [], []
    for envelope in server.handler.envelopes:
        mail = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        ids.append(mail["Message-ID"])
        keys.append(mail["X-Zwgk-Idempotency-Key"])
    assert ids[0] == ids[1] == expected != ids[2]
    assert keys == [key, key, "remind:other"]
    assert first.detail == second.detail == expected


def test_email_login(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp(auth=True)
    good = build("email", smtp_settings(server.port, username="clerk@town.example", password=SMTP_PASSWORD))
    bad = build("email", smtp_settings(server.port, username="clerk@town.example", password="wrong"))

    assert good.send(message("zhangsan@town.example")).ok
    refused = bad.send(message("zhangsan@town.example"))

    assert set(server.handler.logins) == {b"clerk@town.example"}  # smtplib tries PLAIN, then LOGIN, on failure
    assert len(server.handler.envelopes) == 1
    assert not refused.ok and refused.retry  # the configuration is wrong, not the message: keep it
    assert refused.detail.startswith("authentication failed: 535")


def test_email_starttls(start_smtp: Callable[..., SmtpServer], certificate: tuple[Path, Path]) -> None:
    server = start_smtp(tls_context=server_context(certificate), require_starttls=True)
    cert = str(certificate[0])

    unverified = build("email", smtp_settings(server.port, security="starttls", verify=False))
    with_ca = build("email", smtp_settings(server.port, security="starttls", cafile=cert))
    untrusted = build("email", smtp_settings(server.port, security="starttls"))  # verify defaults to true
    plain = build("email", smtp_settings(server.port))

    assert unverified.send(message("zhangsan@town.example")).ok
    assert with_ca.send(message("zhangsan@town.example")).ok
    failed = untrusted.send(message("zhangsan@town.example"))
    assert not failed.ok and failed.retry and "SSLCertVerificationError" in failed.detail
    refused = plain.send(message("zhangsan@town.example"))  # the server insists on STARTTLS
    assert not refused.ok and refused.retry
    assert server.handler.tls == [True, True]


def test_email_implicit_tls(start_smtp: Callable[..., SmtpServer], certificate: tuple[Path, Path]) -> None:
    server = start_smtp(ssl_context=server_context(certificate))
    notifier = build("email", smtp_settings(server.port, security="tls", cafile=str(certificate[0])))
    assert notifier.send(message("zhangsan@town.example")).ok
    assert server.handler.tls == [True]


def test_email_default_ports() -> None:
    def port(**s: Any) -> int:
        n = build("email", {"host": "mail.example", "sender": "a@example", **s})
        return int(n.port)  # type: ignore[attr-defined]

    assert (port(), port(security="starttls"), port(security="tls"), port(security="tls", port=2465)) == (
        25, 587, 465, 2465)


def test_email_server_down_is_transient() -> None:
    notifier = build("email", smtp_settings(free_port()))
    result = notifier.send(message("zhangsan@town.example"))
    assert not result.ok and result.retry
    assert "ConnectionRefused" in result.detail


def test_email_silent_server_times_out(silent_port: int) -> None:
    notifier = build("email", smtp_settings(silent_port, timeout=0.3))
    result = notifier.send(message("zhangsan@town.example"))
    assert not result.ok and result.retry


def test_email_recipient_refused(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp()
    notifier = build("email", smtp_settings(server.port))

    gone = notifier.send(message("nobody@town.example"))
    busy = notifier.send(message("busy@town.example"))

    assert not gone.ok and not gone.retry  # 5xx: dead-letter now
    assert gone.detail.startswith("recipient refused: 550")
    assert not busy.ok and busy.retry  # 4xx: later
    assert server.handler.envelopes == []


def test_email_bad_address_is_permanent(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp()
    result = build("email", smtp_settings(server.port)).send(message("zhang\nBcc: all@town.example"))
    assert not result.ok and not result.retry
    assert server.handler.envelopes == []


# ---------------------------------------------------------------- HTTP


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: Any  # http.client.HTTPMessage: case-insensitive get()
    body: Any


@dataclass
class HttpServer:
    url: str
    requests: list[Seen] = field(default_factory=list)
    status: int = 200
    reply: bytes = b'{"errcode": 0, "errmsg": "ok"}'

    def answer(self, status: int, body: Any) -> None:
        self.status = status
        self.reply = body if isinstance(body, bytes) else json.dumps(body).encode()


@pytest.fixture
def http_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpServer]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # a proxy in the environment must not sit between us and 127.0.0.1

    state = HttpServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            parts = urlsplit(self.path)
            state.requests.append(Seen(parts.path, parse_qs(parts.query), parts.query, self.headers,
                                       json.loads(raw.decode("utf-8"))))
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.reply)))
            self.end_headers()
            self.wfile.write(state.reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_webhook_posts_the_message_as_json(http_server: HttpServer) -> None:
    http_server.answer(202, b"")
    notifier = build("webhook", {"url": f"{http_server.url}/hooks/zwgk?token={HOOK_TOKEN}",
                                 "headers": {"Authorization": HOOK_AUTH}})
    assert notifier.address(ZHANG) == "clerk"

    result = notifier.send(message("clerk"))

    assert result == Result(True, "HTTP 202")
    [seen] = http_server.requests
    assert seen.path == "/hooks/zwgk" and seen.query == {"token": [HOOK_TOKEN]}
    assert seen.headers.get("Idempotency-Key") == "remind:2026-000123:proofread:1"
    assert seen.headers.get("Content-Type") == "application/json"
    assert seen.headers.get("Authorization") == HOOK_AUTH
    assert seen.body == {
        "key": "remind:2026-000123:proofread:1",
        "recipient": {"id": "clerk", "name": "张三"},
        "address": "clerk",
        "subject": SUBJECT,
        "text": TEXT,
        "fields": FIELDS,
    }


@pytest.mark.parametrize(("status", "retry"), [(500, True), (503, True), (429, True), (408, True),
                                               (400, False), (404, False), (410, False)])
def test_webhook_status_decides_retry(http_server: HttpServer, status: int, retry: bool) -> None:
    http_server.answer(status, b"{}")
    result = build("webhook", {"url": http_server.url}).send(message("clerk"))
    assert result == Result(False, f"HTTP {status}", retry=retry)


def test_webhook_redirect_is_not_followed(http_server: HttpServer) -> None:
    http_server.answer(302, b"")  # urllib would re-send as a GET without the body
    result = build("webhook", {"url": http_server.url}).send(message("clerk"))
    assert result == Result(False, "HTTP 302", retry=False)
    assert len(http_server.requests) == 1


def test_webhook_unreachable_and_silent_servers_are_transient(silent_port: int) -> None:
    down = build("webhook", {"url": f"http://127.0.0.1:{free_port()}/hook"}).send(message("clerk"))
    hung = build("webhook", {"url": f"http://127.0.0.1:{silent_port}/hook", "timeout": 0.3}).send(message("clerk"))
    assert not down.ok and down.retry and "ConnectionRefused" in down.detail
    assert not hung.ok and hung.retry


def test_wecom_format_and_errcodes(http_server: HttpServer) -> None:
    notifier = build("wecom", {"url": f"{http_server.url}/cgi-bin/webhook/send?key={ROBOT_KEY}"})
    assert notifier.address(ZHANG) == "13800138000"
    assert notifier.address(Contact(id="x", name="无手机")) is None

    assert notifier.send(message("13800138000")) == Result(True, "errcode 0")
    [seen] = http_server.requests
    assert seen.path == "/cgi-bin/webhook/send" and seen.query == {"key": [ROBOT_KEY]}
    assert seen.body == {"msgtype": "text",
                         "text": {"content": f"{SUBJECT}\n{TEXT}", "mentioned_mobile_list": ["13800138000"]}}

    http_server.answer(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
    assert notifier.send(message("13800138000")) == Result(False, "errcode 45009: api freq out of limit", retry=True)
    http_server.answer(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    assert notifier.send(message("13800138000")) == Result(False, "errcode 93000: invalid webhook url", retry=False)
    http_server.answer(502, b"<html>bad gateway</html>")
    assert notifier.send(message("13800138000")) == Result(False, "HTTP 502", retry=True)
    http_server.answer(200, b"<html>portal</html>")
    assert notifier.send(message("13800138000")).retry


def test_wecom_key_setting_builds_the_official_url() -> None:
    notifier = build("wecom", {"key": ROBOT_KEY})
    assert notifier._url == f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={ROBOT_KEY}"  # type: ignore[attr-defined]


def test_wecom_content_is_capped_on_a_character_boundary(http_server: HttpServer) -> None:
    notifier = build("wecom", {"url": f"{http_server.url}/send?key=k"})
    long = Message(key="k1", recipient=ZHANG, address="13800138000", subject=SUBJECT, text="政务公开" * 1000,
                   fields={})
    assert notifier.send(long).ok
    content = http_server.requests[0].body["text"]["content"]
    assert len(content.encode("utf-8")) <= 2048
    assert content.startswith(f"{SUBJECT}\n政务公开") and content.endswith("…")


def test_dingtalk_format_and_signature(http_server: HttpServer) -> None:
    notifier = build("dingtalk", {"url": f"{http_server.url}/robot/send?access_token={DING_TOKEN}",
                                  "secret": DING_SECRET})
    assert notifier.address(ZHANG) == "13800138000"

    before = int(time.time() * 1000)
    assert notifier.send(message("13800138000")) == Result(True, "errcode 0")
    after = int(time.time() * 1000)

    [seen] = http_server.requests
    assert seen.path == "/robot/send" and seen.query["access_token"] == [DING_TOKEN]
    timestamp = seen.query["timestamp"][0]
    assert before <= int(timestamp) <= after
    # Recomputed here the way DingTalk's documentation spells it.
    digest = hmac.new(DING_SECRET.encode(), f"{timestamp}\n{DING_SECRET}".encode(), hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    assert seen.query["sign"] == [expected]
    assert f"sign={quote_plus(expected)}" in seen.raw_query  # URL-encoded on the wire
    assert seen.body == {"msgtype": "text",
                         "text": {"content": f"{SUBJECT}\n{TEXT}\n@13800138000"},
                         "at": {"atMobiles": ["13800138000"], "isAtAll": False}}


def test_dingtalk_errcodes_and_unsigned(http_server: HttpServer) -> None:
    notifier = build("dingtalk", {"url": f"{http_server.url}/robot/send?access_token={DING_TOKEN}"})
    http_server.answer(200, {"errcode": 130101, "errmsg": "send too fast"})
    assert notifier.send(message("13800138000")) == Result(False, "errcode 130101: send too fast", retry=True)
    http_server.answer(200, {"errcode": 310000, "errmsg": "sign not match"})
    assert notifier.send(message("13800138000")) == Result(False, "errcode 310000: sign not match", retry=False)
    http_server.answer(500, b"")
    assert notifier.send(message("13800138000")) == Result(False, "HTTP 500", retry=True)
    assert all("sign" not in seen.query and "timestamp" not in seen.query for seen in http_server.requests)


def test_dingtalk_token_setting_and_unreachable() -> None:
    notifier = build("dingtalk", {"token": DING_TOKEN})
    assert notifier._url == f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}"  # type: ignore[attr-defined]
    down = build("dingtalk", {"url": f"http://127.0.0.1:{free_port()}/robot/send?access_token=x"})
    result = down.send(message("13800138000"))
    assert not result.ok and result.retry
    down_wecom = build("wecom", {"url": f"http://127.0.0.1:{free_port()}/send?key=x"})
    assert down_wecom.send(message("13800138000")).retry


# ---------------------------------------------------------------- secrets


def test_no_secret_reaches_the_log_or_a_result(http_server: HttpServer, start_smtp: Callable[..., SmtpServer]) -> None:
    smtp = start_smtp(auth=True)
    secrets = [SMTP_PASSWORD, ROBOT_KEY, DING_TOKEN, DING_SECRET, HOOK_TOKEN, HOOK_AUTH]
    results: list[Result] = []
    with captured_logs() as logs:
        mail = build("email", smtp_settings(smtp.port, username="clerk@town.example", password=SMTP_PASSWORD))
        results.append(mail.send(message("zhangsan@town.example")))
        results.append(mail.send(message("nobody@town.example")))
        # A server that echoes what it was given, the way some error messages do.
        http_server.answer(200, {"errcode": 93000, "errmsg": f"invalid key {ROBOT_KEY}"})
        results.append(build("wecom", {"url": f"{http_server.url}/send?key={ROBOT_KEY}"}).send(message("138")))
        http_server.answer(200, {"errcode": 310000, "errmsg": f"bad token {DING_TOKEN}, secret {DING_SECRET}"})
        results.append(build("dingtalk", {"url": f"{http_server.url}/send?access_token={DING_TOKEN}",
                                          "secret": DING_SECRET}).send(message("138")))
        http_server.answer(500, b"")
        results.append(build("webhook", {"url": f"{http_server.url}/hook?token={HOOK_TOKEN}",
                                         "headers": {"Authorization": HOOK_AUTH}}).send(message("clerk")))
        results.append(build("webhook", {"url": f"http://127.0.0.1:{free_port()}/hook?token={HOOK_TOKEN}"})
                       .send(message("clerk")))
        results.append(build("wecom", {"url": f"http://127.0.0.1:{free_port()}/send?key={ROBOT_KEY}"})
                       .send(message("138")))

    assert [r.ok for r in results[:4]] == [True, False, False, False]
    assert "***" in results[2].detail and "***" in results[3].detail  # the echoed secrets were scrubbed
    assert len(logs) == len(results)
    assert {entry["event"] for entry in logs} == {"notify.sent", "notify.failed"}
    seen = repr(logs) + repr(results)
    for secret in secrets:
        assert secret not in seen
    assert TEXT.splitlines()[0] not in repr(logs)  # nor the message text
    assert "zhangsan@town.example" not in repr(logs)  # nor where it went


# ---------------------------------------------------------------- console, registry, redaction


def test_console_writes_a_readable_block() -> None:
    out = io.StringIO()
    notifier = build("console", {"stream": out})
    assert notifier.address(Contact(id="lead", name="李四")) == "lead"

    assert notifier.send(message("clerk")).ok

    assert out.getvalue() == (
        "[提醒→clerk 张三] 【提醒】政策解读 2026-000123 明天到期\n"
        "    事项：政策解读 2026-000123\n"
        "    步骤：校对\n"
        "    到期：2026-05-08\n"
        "\n"
        "    请及时处理。\n"
    )


def test_console_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    build("console", {}).send(message("clerk"))
    assert capsys.readouterr().out.startswith("[提醒→clerk 张三] ")


def test_redact() -> None:
    settings = {
        "host": "smtp.town.example", "username": "clerk", "password": SMTP_PASSWORD, "port": 465,
        "url": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={ROBOT_KEY}",
        "token": DING_TOKEN, "secret": DING_SECRET, "key": ROBOT_KEY, "timeout": None,
        "headers": {"Authorization": HOOK_AUTH}, "api_key": "k",
    }
    assert redact(settings) == {
        "host": "smtp.town.example", "username": "clerk", "password": "***", "port": 465,
        "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?***",
        "token": "***", "secret": "***", "key": "***", "timeout": None,
        "headers": {"Authorization": "***"}, "api_key": "***",
    }
    assert redact({"url": "https://u:p@hook.example/x"}) == {"url": "https://***@hook.example/x"}
    assert redact({"url": "https://hook.example/x"}) == {"url": "https://hook.example/x"}
    assert settings["password"] == SMTP_PASSWORD  # a copy, the original untouched
    assert frozenset({"password", "key", "token", "secret"}) == notifiers.SECRET_KEYS


@pytest.mark.parametrize(("channel", "settings", "names"), [
    ("email", {"sender": "a@example"}, "'host'"),
    ("email", {"host": "mail.example"}, "'sender'"),
    ("email", {"host": "mail.example", "sender": "a@example", "username": "u"}, "'password'"),
    ("email", {"host": "mail.example", "sender": "a@example", "port": "smtp"}, "'port'"),
    ("email", {"host": "mail.example", "sender": "a@example", "security": "ssl"}, "'security'"),
    ("email", {"host": "mail.example", "sender": "a@example", "security": "tls", "verify": "maybe"}, "'verify'"),
    ("email", {"host": "mail.example", "sender": "a@example", "security": "tls", "cafile": "/nonexistent"},
     "'cafile'"),
    ("webhook", {}, "'url'"),
    ("webhook", {"url": "file:///etc/passwd"}, "'url'"),
    ("webhook", {"url": "https://h.example", "headers": {"X-A": "1\r\nX-B: 2"}}, "'headers'"),
    ("webhook", {"url": "https://h.example", "timeout": 0}, "'timeout'"),
    ("wecom", {}, "'url' or 'key'"),
    ("wecom", {"url": "https://h.example/?key=1", "key": "2"}, "not both"),
    ("dingtalk", {}, "'url' or 'token'"),
    ("console", {"stream": 42}, "'stream'"),
])
def test_build_names_the_bad_setting(channel: str, settings: dict[str, Any], names: str) -> None:
    with pytest.raises(NotifierConfigError, match=names) as caught:
        build(channel, settings)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"{channel}: ")


def test_build_unknown_channel_lists_the_known_ones() -> None:
    with pytest.raises(NotifierConfigError, match="unknown notifier channel 'pager'") as caught:
        build("pager", {})
    for name in ("console", "dingtalk", "email", "webhook", "wecom"):
        assert name in str(caught.value)


class SmsNotifier:
    """A third-party channel, as a plugin would bring it."""

    channel = "sms"

    def __init__(self, settings: Any) -> None:
        self.gateway = settings["gateway"]
        self.sent: list[Message] = []

    def address(self, person: Contact) -> str | None:
        return person.phone

    def send(self, message: Message) -> Result:
        self.sent.append(message)
        return Result(True, f"via {self.gateway}")


def test_registered_plugin_is_built_and_used() -> None:
    unregister = register("sms", SmsNotifier)
    assert "sms" in notifiers.channels()

    notifier = build("sms", {"gateway": "gw1"})
    inner = notifier.inner  # type: ignore[attr-defined]  (a plugin comes wrapped: its details are scrubbed)
    assert isinstance(inner, SmsNotifier) and notifier.channel == "sms"
    assert notifier.address(ZHANG) == "13800138000"
    assert notifier.send(message("13800138000")) == Result(True, "via gw1")
    assert inner.sent[0].key == "remind:2026-000123:proofread:1"

    with pytest.raises(ValueError, match="already registered"):
        register("sms", SmsNotifier)
    with pytest.raises(ValueError, match="already registered"):
        register("email", SmsNotifier)  # no taking over a built-in
    unregister()
    with pytest.raises(NotifierConfigError, match="unknown"):
        build("sms", {"gateway": "gw1"})


def test_factory_must_return_a_notifier() -> None:
    register("broken", lambda settings: object())  # type: ignore[arg-type,return-value]
    with pytest.raises(NotifierConfigError, match="not a Notifier"):
        build("broken", {})


def test_entry_point_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A real installed distribution, as far as importlib.metadata can tell: a dist-info folder on sys.path.
    (tmp_path / "zwgk_fake_sms.py").write_text(
        "from notifiers import Result\n"
        "class Fake:\n"
        "    channel = 'fakesms'\n"
        "    def __init__(self, settings): self.settings = dict(settings)\n"
        "    def address(self, person): return person.phone\n"
        "    def send(self, message): return Result(True, 'fake ' + message.address)\n",
        encoding="utf-8")
    info = tmp_path / "zwgk_fake_sms-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zwgk-fake-sms\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[zwgk.notifiers]\nfakesms = zwgk_fake_sms:Fake\nbrokensms = zwgk_no_such_module:Fake\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))

    assert {"fakesms", "brokensms"} <= set(notifiers.channels())
    notifier = build("fakesms", {"a": "b"})
    assert notifier.send(message("13800138000")) == Result(True, "fake 13800138000")
    with pytest.raises(NotifierConfigError, match="failed to load: ModuleNotFoundError"):
        build("brokensms", {})


class Drip:
    """A server that answers a byte every 20 ms and never finishes: no read waits `timeout`, so only a limit on
    the whole send ends it. Counts the connections it saw closed."""

    def __init__(self, first: bytes) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = threading.Semaphore(0)
        self.first = first
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.sendall(self.first)
                while True:
                    conn.sendall(b"x")
                    time.sleep(0.02)
            except OSError:  # the client shut the connection down
                self.closed.release()

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize(("channel", "first"), [("email", b"220-"), ("webhook", b"HTTP/1.1 2")])
def test_a_server_that_answers_a_byte_at_a_time_cannot_outlast_the_timeout(channel: str, first: bytes) -> None:
    drip = Drip(first)
    try:
        settings = (smtp_settings(drip.port, timeout=0.5) if channel == "email" else
                    {"url": f"http://127.0.0.1:{drip.port}/hook", "timeout": 0.5})
        result = build(channel, settings).send(message("zhangsan@town.example"))
        assert (result.ok, result.retry) == (False, True)
        assert "no whole answer within 0.5 s" in result.detail, result.detail
        assert drip.closed.acquire(timeout=60)  # the connection was given up, not left dripping
    finally:
        drip.close()


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), 0, -1])
def test_a_timeout_that_is_no_time_is_refused(timeout: float) -> None:
    with pytest.raises(NotifierConfigError, match="webhook: setting 'timeout' must be a positive finite number"):
        build("webhook", {"url": "http://127.0.0.1:9/hook", "timeout": timeout})


def test_a_plugins_failure_cannot_carry_its_channels_secrets_onwards() -> None:
    """A plugin's library quoted the URL with its key in an exception; that text went into the outbox's
    last_error and the log. Every plugin's detail is scrubbed of its settings' secret values."""

    class Leaky:
        channel = "leaky"

        def __init__(self, settings: Mapping[str, Any]) -> None:
            self.url = settings["url"]

        def address(self, person: Contact) -> str | None:
            return person.id

        def send(self, message: Message) -> Result:
            if message.key.endswith("raise"):
                raise ConnectionError(f"HTTPSConnectionPool: max retries exceeded with url {self.url}")
            return Result(False, f"401 for {self.url}, token {HOOK_TOKEN}")

    unregister = register("leaky", Leaky)
    try:
        leaky = build("leaky", {"url": f"https://robot.example/send?key={ROBOT_KEY}", "api_token": HOOK_TOKEN})
        raised = leaky.send(message("x", key="k:raise"))
        told = leaky.send(message("x"))
    finally:
        unregister()
    assert (raised.ok, raised.retry) == (False, True)
    assert raised.detail == "ConnectionError: HTTPSConnectionPool: max retries exceeded with url " \
                            "https://robot.example/send?***"
    assert told.detail == "401 for https://robot.example/send?***, token ***"
