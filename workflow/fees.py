"""信息处理费: the fee for handling requests for government information (Regulation Art. 42; the national measures
《政府信息公开信息处理费管理办法》, 国办函〔2020〕109号).

The measures charge either by count (按件计收: an applicant's requests in one calendar month) or by quantity
(按量计收: the pages of one request), both on the excess (超额累进), and never both for one request (Art. 3): the
office chooses, so each is a function here and the caller applies one. Amounts are whole yuan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from itertools import pairwise
from typing import Any

from workflow.errors import ConfigError, InvalidInput, key_error


@dataclass(frozen=True)
class FeeRates:
    """The figures of the measures (Arts. 4 and 5); an office under other rules configures its own."""

    free_requests: int = 10  # a month's first requests cost nothing
    paid_requests: int = 30  # after them, up to this request of the month: request_yuan each
    request_yuan: int = 100
    step_requests: int = 10  # past paid_requests, every further step of this many requests ...
    step_yuan: int = 100  # ... costs this much more per request (31-40: 200, 41-50: 300, ...)
    free_pages: int = 30  # a request's first pages cost nothing
    page_bands: tuple[tuple[int, int], ...] = ((100, 10), (200, 20))  # (last page of the band, yuan a page)
    page_yuan_above: int = 40  # every page past the last band


def by_count(rates: FeeRates, nth: int) -> int:
    """The yuan due for an applicant's `nth` request (1-based) of a calendar month."""
    if nth < 1:
        raise InvalidInput("a request's number in the month must be at least 1, not {nth}", nth=nth)
    if nth <= rates.free_requests:
        return 0
    if nth <= rates.paid_requests:
        return rates.request_yuan
    steps = -(-(nth - rates.paid_requests) // rates.step_requests)  # ceiling: 31-40 is the first step
    return rates.request_yuan + steps * rates.step_yuan


def by_quantity(rates: FeeRates, pages: int) -> int:
    """The yuan due for one request of `pages` pages: each band's rate on the pages within it."""
    if pages < 0:
        raise InvalidInput("a page count must be at least 0, not {pages}", pages=pages)
    total, start = 0, rates.free_pages
    for last, yuan in rates.page_bands:
        total += max(0, min(pages, last) - start) * yuan
        start = last
    return total + max(0, pages - start) * rates.page_yuan_above


def fee_rates(table: Mapping[str, Any], *, source: str) -> FeeRates:
    """The rates of a `[requests.fees]` table (read from the file `source`); what it leaves out is national."""
    def bad(key: str, template: str, /, **params: object) -> ConfigError:
        return key_error(source, f"requests.fees.{key}", template, **params)

    if not isinstance(table, Mapping):
        raise key_error(source, "requests.fees", "must be a table")
    default = FeeRates()
    known = {f.name for f in fields(default)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise bad(key, "unknown key (expected one of: {known})", known=", ".join(sorted(known)))
        if key == "page_bands":
            values[key] = _bands(value, bad)
        elif not _whole(value):
            raise bad(key, "must be a whole number, not {value!r}", value=value)
        elif value < (1 if key == "step_requests" else 0):
            raise bad(key, "must be at least {minimum:g}", minimum=1 if key == "step_requests" else 0)
        else:
            values[key] = value
    rates = replace(default, **values)
    if rates.paid_requests <= rates.free_requests:
        raise bad("paid_requests", "must be more than free_requests ({free})", free=rates.free_requests)
    lasts = [last for last, _ in rates.page_bands]
    if lasts and lasts[0] <= rates.free_pages:
        raise bad("page_bands", "the first band must end after free_pages ({free})", free=rates.free_pages)
    if any(b <= a for a, b in pairwise(lasts)):
        raise bad("page_bands", "each band must end after the one before")
    # On the excess (超额累进) a later page never costs less than an earlier one.
    yuans = [yuan for _, yuan in rates.page_bands]
    if any(b < a for a, b in pairwise(yuans)):
        raise bad("page_bands", "a later band's yuan a page must not be less than an earlier one's")
    if yuans and rates.page_yuan_above < yuans[-1]:
        raise bad("page_yuan_above", "must not be less than the last band's yuan a page ({yuan})", yuan=yuans[-1])
    return rates


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bands(value: Any, bad: Callable[..., ConfigError]) -> tuple[tuple[int, int], ...]:
    """[[last page, yuan a page], ...] as in the TOML file."""
    if not isinstance(value, list | tuple):
        raise bad("page_bands", "must be a list of [last page, yuan a page] pairs")
    out = []
    for band in value:
        if not isinstance(band, list | tuple) or len(band) != 2 or not all(_whole(n) for n in band):
            raise bad("page_bands", "{band!r} is not a pair of whole numbers [last page, yuan a page]", band=band)
        if band[0] < 0 or band[1] < 0:
            raise bad("page_bands", "{band!r} has a negative number", band=band)
        out.append((band[0], band[1]))
    return tuple(out)


def standard(rates: FeeRates, basis: str) -> str | None:
    """The rates a fee notice states, in the measures' words, where the office's are not the national ones (None:
    the letter states the national standard)."""
    if rates == FeeRates():
        return None
    if basis == "by_count":
        return (f"同一申请人一个自然月内累计申请{rates.free_requests}件以下（含{rates.free_requests}件）的，不收费；"
                f"{rates.free_requests + 1}—{rates.paid_requests}件的部分，{rates.request_yuan}元/件；"
                f"{rates.paid_requests + 1}件以上的部分，以{rates.step_requests}件为一档，每增加一档，收费标准提高"
                f"{rates.step_yuan}元/件")
    parts = [f"{rates.free_pages}页以下（含{rates.free_pages}页）的，不收费"]
    first = rates.free_pages + 1
    for last, yuan in rates.page_bands:
        parts.append(f"{first}—{last}页（含{last}页）的部分，{yuan}元/页")
        first = last + 1
    parts.append(f"{first}页以上的部分，{rates.page_yuan_above}元/页")
    return "；".join(parts)
