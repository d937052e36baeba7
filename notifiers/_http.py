"""One JSON POST with urllib, shared by the webhook and the group robots."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from notifiers._deadline import Deadline
from notifiers.base import Result, scrub

MAX_REPLY = 64 * 1024  # a robot answers in a few bytes; never read an endless body into memory
USER_AGENT = "zwgk-workflow-notifier"

# What a network failure looks like from urllib: URLError/timeouts are OSError, a torn reply is HTTPException.
NETWORK_ERRORS = (OSError, http.client.HTTPException)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would turn a redirected POST into a GET without the body, and carry our headers to another host.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _Watched(urllib.request.AbstractHTTPHandler):
    """Opens connections whose sockets `deadline` watches."""

    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def do_open(self, http_class: Any, req: urllib.request.Request, **kw: Any) -> http.client.HTTPResponse:
        def watched(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
            conn = http_class(*args, **kwargs)
            conn._create_connection = self.deadline.connect  # http.client's hook for making the socket
            return conn  # type: ignore[no-any-return]

        return super().do_open(watched, req, **kw)


class _HTTP(_Watched, urllib.request.HTTPHandler):
    pass


class _HTTPS(_Watched, urllib.request.HTTPSHandler):
    pass


def post_json(url: str, payload: Any, *, headers: dict[str, str], timeout: float) -> Reply:
    """POST `payload` as UTF-8 JSON, all of it within `timeout` (not only each read). Any HTTP status comes back as
    a Reply; network errors raise NETWORK_ERRORS."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    all_headers = {"User-Agent": USER_AGENT, **headers, "Content-Type": "application/json"}
    if not url.lower().startswith(("http://", "https://")):  # urllib would also open file:// and ftp://
        raise ValueError("only http(s) URLs are posted to")
    request = urllib.request.Request(url, data=data, headers=all_headers, method="POST")  # noqa: S310 (checked above)
    with Deadline(timeout) as deadline:
        opener = urllib.request.build_opener(_NoRedirect, _HTTP(deadline), _HTTPS(deadline))
        try:
            with opener.open(request, timeout=timeout) as response:
                return Reply(response.status, response.read(MAX_REPLY))
        except urllib.error.HTTPError as e:
            with e:
                return Reply(e.code, e.read(MAX_REPLY) if e.fp is not None else b"")
        except NETWORK_ERRORS as e:
            # A status line came in time: the receiver had the whole request, whatever was cut after it.
            if deadline.expired and deadline.unresolved is None:
                raise TimeoutError(f"no whole answer within {timeout:g} s") from e
            raise


def network_failure(exc: BaseException, secrets: tuple[str, ...]) -> Result:
    """A failure before any HTTP status: worth another try. The text names the cause, never the URL."""
    cause: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc  # the socket error inside
    kind = type(cause).__name__ if isinstance(cause, BaseException) else type(exc).__name__
    detail = f"{kind}: {cause}"
    return Result(False, scrub(" ".join(detail.split())[:300], secrets), retry=True)


def url_secrets(url: str) -> tuple[str, ...]:
    """The query string and each of its values: robot keys and tokens travel there."""
    query = urllib.parse.urlsplit(url).query
    return (query, *(v for _, v in urllib.parse.parse_qsl(query) if len(v) >= 4))


def header_value(value: str) -> str:
    """http.client sends headers as Latin-1 and forbids line breaks; percent-encode anything else, keep ASCII as is."""
    if value.isascii() and value.isprintable():
        return value
    return urllib.parse.quote(value, safe="".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%"))


def transient_status(status: int) -> bool:
    return status in (408, 429) or status >= 500
