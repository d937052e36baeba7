"""What the WeCom and DingTalk group robots have in common: text content and an errcode in the reply."""

from __future__ import annotations

from urllib.parse import quote

from notifiers._http import Reply, transient_status
from notifiers._settings import Settings
from notifiers.base import Message, NotifierConfigError, Result, scrub, truncate_utf8

SYSTEM_BUSY = -1  # both platforms document -1 as "系统繁忙": try again later


def endpoint(s: Settings, key_name: str, base_url: str) -> tuple[str, str]:
    """The robot's webhook URL, given whole as `url` or as its key (`key`, `token`) after `base_url`; and the key."""
    url, key = s.text("url"), s.text(key_name)
    if url and key:
        raise NotifierConfigError("{channel}: set either 'url' or '{key}', not both", channel=s.channel, key=key_name)
    if not url and not key:
        raise NotifierConfigError("{channel}: setting 'url' or '{key}' is required", channel=s.channel, key=key_name)
    return (s.url("url", url) if url else base_url + quote(key or "", safe="")), key or ""


def content(message: Message, max_bytes: int, suffix: str = "") -> str:
    """Subject, newline, text; cut on a character boundary so that, with `suffix`, it fits the robot's limit."""
    body = f"{' '.join(message.subject.split())}\n{message.text}".rstrip()
    return truncate_utf8(body, max_bytes - len(suffix.encode("utf-8"))) + suffix


def judge(reply: Reply, retry_codes: frozenset[int], secrets: tuple[str, ...]) -> Result:
    if not 200 <= reply.status < 300:
        return Result(False, f"HTTP {reply.status}", retry=transient_status(reply.status))
    try:
        answer = reply.json()
        errcode = int(answer["errcode"])
        errmsg = str(answer.get("errmsg", ""))
    except (ValueError, TypeError, KeyError, AttributeError):
        # A 2xx without the robot's JSON is likely a proxy or portal page in between: it may pass.
        return Result(False, f"HTTP {reply.status}: reply without errcode", retry=True)
    if errcode == 0:
        return Result(True, "errcode 0")
    detail = scrub(" ".join(f"errcode {errcode}: {errmsg}".split())[:300], secrets)
    return Result(False, detail, retry=errcode in retry_codes or errcode == SYSTEM_BUSY)
