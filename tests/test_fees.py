"""信息处理费 (国办函〔2020〕109号): the national figures at every band edge, the totals against a recount from the
bands, and the `[requests.fees]` table's errors naming the key."""

from __future__ import annotations

from itertools import islice, repeat
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.config import ConfigError
from workflow.errors import InvalidInput
from workflow.fees import FeeRates, by_count, by_quantity, fee_rates

NATIONAL = FeeRates()


@pytest.mark.parametrize(("nth", "yuan"), [(1, 0), (10, 0), (11, 100), (30, 100), (31, 200), (40, 200), (41, 300),
                                           (50, 300), (51, 400), (100, 800)])
def test_by_count_at_the_band_edges(nth: int, yuan: int) -> None:
    assert by_count(NATIONAL, nth) == yuan


@pytest.mark.parametrize(("pages", "yuan"), [(0, 0), (30, 0), (31, 10), (100, 700), (101, 720), (200, 2700),
                                             (201, 2740), (250, 4700)])
def test_by_quantity_at_the_band_edges(pages: int, yuan: int) -> None:
    # On the excess: 201 pages = 70 x 10 + 100 x 20 + 1 x 40.
    assert by_quantity(NATIONAL, pages) == yuan


def test_a_month_of_35_requests_costs_the_sum_of_its_bands() -> None:
    assert sum(by_count(NATIONAL, n) for n in range(1, 36)) == 20 * 100 + 5 * 200


def recount_requests(rates: FeeRates, n: int) -> int:
    """The month's total for n requests, read off the bands one request at a time."""
    def prices() -> Any:
        yield from repeat(0, rates.free_requests)
        yield from repeat(rates.request_yuan, rates.paid_requests - rates.free_requests)
        step = 1
        while True:
            yield from repeat(rates.request_yuan + step * rates.step_yuan, rates.step_requests)
            step += 1

    return sum(islice(prices(), n))


def recount_pages(rates: FeeRates, pages: int) -> int:
    """A request's fee, page by page: each page at the rate of the band it falls in."""
    def rate(page: int) -> int:
        if page <= rates.free_pages:
            return 0
        return next((yuan for last, yuan in rates.page_bands if page <= last), rates.page_yuan_above)

    return sum(rate(p) for p in range(1, pages + 1))


@st.composite
def configured(draw: st.DrawFn) -> FeeRates:
    """Any valid `[requests.fees]` table, read through fee_rates."""
    free = draw(st.integers(0, 20))
    free_pages = draw(st.integers(0, 50))
    lasts = sorted(draw(st.sets(st.integers(free_pages + 1, 400), max_size=3)))
    yuans = sorted(draw(st.lists(st.integers(0, 50), min_size=len(lasts) + 1, max_size=len(lasts) + 1)))
    table = {"free_requests": free, "paid_requests": free + draw(st.integers(1, 30)),
             "request_yuan": draw(st.integers(0, 300)), "step_requests": draw(st.integers(1, 15)),
             "step_yuan": draw(st.integers(0, 300)), "free_pages": free_pages,
             "page_bands": [[last, yuan] for last, yuan in zip(lasts, yuans, strict=False)],
             "page_yuan_above": yuans[-1]}
    return fee_rates(table, source="zwgk.toml")


@given(st.one_of(st.just(NATIONAL), configured()), st.integers(1, 150))
def test_a_months_total_is_the_recount_from_the_bands(rates: FeeRates, n: int) -> None:
    assert sum(by_count(rates, k) for k in range(1, n + 1)) == recount_requests(rates, n)


@given(st.one_of(st.just(NATIONAL), configured()), st.integers(0, 600))
def test_a_requests_fee_is_the_page_by_page_recount(rates: FeeRates, pages: int) -> None:
    assert by_quantity(rates, pages) == recount_pages(rates, pages)


@given(st.one_of(st.just(NATIONAL), configured()), st.integers(1, 600))
def test_fees_never_fall_as_the_count_or_the_pages_grow(rates: FeeRates, n: int) -> None:
    assert by_count(rates, n) <= by_count(rates, n + 1)
    assert by_quantity(rates, n - 1) <= by_quantity(rates, n)


def test_a_request_number_below_1_or_negative_pages_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at least 1, not 0"):
        by_count(NATIONAL, 0)
    with pytest.raises(InvalidInput, match="at least 0, not -1"):
        by_quantity(NATIONAL, -1)


def test_an_empty_table_is_the_national_measures() -> None:
    assert fee_rates({}, source="zwgk.toml") == NATIONAL


def test_a_table_sets_what_it_names() -> None:
    rates = fee_rates({"free_requests": 5, "page_bands": [[60, 5]], "page_yuan_above": 8}, source="zwgk.toml")
    assert rates == FeeRates(free_requests=5, page_bands=((60, 5),), page_yuan_above=8)
    assert by_count(rates, 6) == 100
    assert by_quantity(rates, 61) == 30 * 5 + 8


@pytest.mark.parametrize(("table", "key", "problem"), [
    ({"free_request": 10}, "requests.fees.free_request", "unknown key"),
    ({"request_yuan": 99.5}, "requests.fees.request_yuan", "must be a whole number, not 99.5"),
    ({"request_yuan": 100.0}, "requests.fees.request_yuan", "must be a whole number"),
    ({"step_yuan": "100"}, "requests.fees.step_yuan", "must be a whole number"),
    ({"free_pages": True}, "requests.fees.free_pages", "must be a whole number"),
    ({"page_yuan_above": -40}, "requests.fees.page_yuan_above", "must be at least 0"),
    ({"step_requests": 0}, "requests.fees.step_requests", "must be at least 1"),
    ({"paid_requests": 10}, "requests.fees.paid_requests", "more than free_requests"),
    ({"page_bands": [[200, 20], [100, 10]]}, "requests.fees.page_bands", "after the one before"),
    ({"page_bands": [[100, 10], [100, 20]]}, "requests.fees.page_bands", "after the one before"),
    ({"page_bands": [[30, 10]]}, "requests.fees.page_bands", "after free_pages"),
    ({"page_bands": [[100, 20], [200, 10]]}, "requests.fees.page_bands", "not be less"),
    ({"page_yuan_above": 15}, "requests.fees.page_yuan_above", "last band's yuan a page (20)"),
    ({"page_bands": [[100, -10]]}, "requests.fees.page_bands", "negative"),
    ({"page_bands": [[100, 10.5]]}, "requests.fees.page_bands", "not a pair of whole numbers"),
    ({"page_bands": [[100]]}, "requests.fees.page_bands", "not a pair"),
    ({"page_bands": 100}, "requests.fees.page_bands", "must be a list"),
])
def test_a_bad_table_names_the_file_and_the_key(table: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        fee_rates(table, source="/etc/zwgk.toml")
    message = str(caught.value)
    assert message.startswith(f"/etc/zwgk.toml: {key}: ")
    assert problem in message


def test_a_fees_value_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^zwgk\.toml: requests\.fees: must be a table$"):
        fee_rates([10, 30], source="zwgk.toml")  # type: ignore[arg-type]
