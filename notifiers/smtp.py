"""The e-mail channel over plain smtplib: none, STARTTLS or implicit TLS, optional login."""

from __future__ import annotations

import hashlib
import smtplib
import socket
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from notifiers._deadline import Deadline
from notifiers._settings import Settings
from notifiers.base import Contact, Message, NotifierConfigError, Result, contact_value, finish, scrub

_DEFAULT_PORT = {"none": 25, "starttls": 587, "tls": 465}


def message_id(key: str) -> str:
    """Deterministic, so a reminder re-sent after a crash is recognisably the same mail to the receiving side."""
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@zwgk>"


class _SMTP(smtplib.SMTP):
    """smtplib's connection, its socket watched by the send's Deadline (set before it connects)."""

    def __init__(self, deadline: Deadline, *args: Any, **kwargs: Any) -> None:
        self.deadline = deadline
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> Any:
        return self.deadline.connect((host, port), timeout, self.source_address)


class _SMTPS(smtplib.SMTP_SSL, _SMTP):
    """The same over implicit TLS: SMTP_SSL wraps the socket _SMTP watches, so the handshake is timed too."""

    def __init__(self, deadline: Deadline, *args: Any, **kwargs: Any) -> None:
        self.deadline = deadline  # SMTP_SSL calls SMTP.__init__ itself, not _SMTP's
        smtplib.SMTP_SSL.__init__(self, *args, **kwargs)


class EmailNotifier:
    channel = "email"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        s = Settings(self.channel, settings)
        self.host = s.required("host")
        self.security = s.choice("security", "none", tuple(_DEFAULT_PORT))
        self.port = int(s.number("port", _DEFAULT_PORT[self.security], integer=True))
        self.sender = s.required("sender")
        if not parseaddr(self.sender)[1]:
            raise NotifierConfigError("email: setting 'sender' is not an e-mail address")
        self.username = s.text("username")
        self._password = s.text("password", "")
        if self.username and not self._password:
            raise NotifierConfigError("email: setting 'password' is required when 'username' is set")
        self.timeout = s.number("timeout", 30.0)
        # The EHLO name: smtplib's default asks DNS for our FQDN inside each send, where nothing bounds it.
        self.local_hostname = s.text("local_hostname") or socket.gethostname()
        self._context: ssl.SSLContext | None = None
        if self.security != "none":
            cafile = s.text("cafile")
            try:
                ctx = ssl.create_default_context(cafile=cafile)
            except (OSError, ssl.SSLError) as e:
                raise NotifierConfigError("email: setting 'cafile' cannot be loaded: {error}",
                                          error=type(e).__name__) from None
            if not s.flag("verify", True):
                # For a township's own relay with a self-signed certificate; still encrypted, just not authenticated.
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            self._context = ctx

    def address(self, person: Contact) -> str | None:
        return contact_value(person.email)

    def _compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()  # default policy: RFC 2047 encodes the Chinese subject and names
        mail["Subject"] = " ".join(message.subject.split())  # one line, whatever the caller handed in
        mail["From"] = self.sender
        mail["To"] = Address(display_name=message.recipient.name, addr_spec=message.address)
        mail["Date"] = format_datetime(datetime.now(UTC))
        mail["Message-ID"] = message_id(message.key)
        mail["X-Zwgk-Idempotency-Key"] = message.key
        mail.set_content(message.text)
        return mail

    def _connect(self, deadline: Deadline) -> smtplib.SMTP:
        if self.security == "tls":
            return _SMTPS(deadline, self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout,
                          context=self._context)
        conn = _SMTP(deadline, self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout)
        if self.security == "starttls":
            try:
                conn.starttls(context=self._context)  # raises if the server does not offer it: never fall back to plain
            except BaseException:
                conn.close()
                raise
        return conn

    def send(self, message: Message) -> Result:
        try:
            mail = self._compose(message)
        except (ValueError, TypeError, IndexError) as e:  # e.g. a malformed address: resending will not fix it
            return finish(self.channel, message, Result(False, f"cannot build e-mail: {type(e).__name__}", retry=False))
        return finish(self.channel, message, self._deliver(mail, message.address))

    def _deliver(self, mail: EmailMessage, to: str) -> Result:
        with Deadline(self.timeout) as deadline:  # the whole conversation, not only each read
            result = self._converse(deadline, mail, to)
        if deadline.expired and not result.ok and deadline.unresolved is None:
            return Result(False, f"no whole answer within {self.timeout:g} s", retry=True)
        return result

    def _converse(self, deadline: Deadline, mail: EmailMessage, to: str) -> Result:
        try:
            with self._connect(deadline) as conn:
                if self.username:
                    conn.login(self.username, self._password or "")
                conn.send_message(mail, from_addr=parseaddr(self.sender)[1], to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as e:
            code, reply = next(iter(e.recipients.values()), (550, b""))
            return self._refused("recipient refused", code, reply, permanent=code >= 500)
        except smtplib.SMTPDataError as e:  # the server took against this very message
            return self._refused("message refused", e.smtp_code, e.smtp_error, permanent=e.smtp_code >= 500)
        except smtplib.SMTPAuthenticationError as e:
            # Bad credentials are the configuration's fault, not the message's: keep it for after the fix.
            return self._refused("authentication failed", e.smtp_code, e.smtp_error, permanent=False)
        except smtplib.SMTPResponseException as e:  # sender refused, 4xx ...: the server or our setup, not the message
            return self._refused(type(e).__name__, e.smtp_code, e.smtp_error, permanent=False)
        except (smtplib.SMTPException, OSError) as e:  # refused connection, timeout, TLS failure, disconnect
            return Result(False, self._clean(f"{type(e).__name__}: {e}"), retry=True)
        return Result(True, str(mail["Message-ID"]))

    def _refused(self, what: str, code: int, reply: bytes | str, *, permanent: bool) -> Result:
        text = reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else str(reply)
        return Result(False, self._clean(f"{what}: {code} {text}"), retry=not permanent)

    def _clean(self, detail: str) -> str:
        return scrub(" ".join(detail.split())[:300], (self._password or "",))
