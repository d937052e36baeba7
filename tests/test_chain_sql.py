"""The database's fast path for verify builds exactly the canonical form that Python defines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, text

from tests.conftest import pg_schema_url
from workflow import chain

# Text as it can reach a signature: any Unicode a database stores (no surrogates, no NUL for PostgreSQL).
texts = st.one_of(st.none(), st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                                     max_size=40))


def _row(values: list[str | None], seq: int, rnd: int) -> dict[str, object]:
    row: dict[str, object] = dict(zip(chain.FIELDS, [None] * len(chain.FIELDS), strict=True))
    text_fields = [f for f in chain.FIELDS if f not in ("seq", "round")]
    row.update(zip(text_fields, values, strict=False))
    row["seq"], row["round"] = seq, rnd
    return row


@pytest.fixture(params=["sqlite", "postgresql"])
def conn(request: pytest.FixtureRequest) -> Iterator[Connection]:
    if request.param == "sqlite":
        engine = create_engine("sqlite://")
        yield from _table(engine)
    else:
        for url in pg_schema_url():
            engine = create_engine(url)
            yield from _table(engine)


def _table(engine):  # type: ignore[no-untyped-def]
    cols = ", ".join(f"{f} {'INTEGER' if f in ('seq', 'round') else 'TEXT'}" for f in chain.FIELDS)
    with engine.connect() as c:
        c.execute(text(f"CREATE TABLE zwgk_event ({cols})"))
        yield c
    engine.dispose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(texts, min_size=17, max_size=17), seq=st.integers(1, 2**31 - 1), rnd=st.integers(1, 1000))
def test_database_canonical_form_matches_python(conn: Connection, values: list[str | None], seq: int,
                                                rnd: int) -> None:
    row = _row(values, seq, rnd)
    conn.execute(text("DELETE FROM zwgk_event"))
    conn.execute(text(f"INSERT INTO zwgk_event VALUES ({', '.join(':' + f for f in chain.FIELDS)})"), row)
    computed = conn.execute(text(f"SELECT {chain.canonical_sql(conn.dialect.name)} FROM zwgk_event")).scalar_one()
    expected = chain.event_hash([row[f] for f in chain.FIELDS])
    got = chain.sha256_hex(computed) if conn.dialect.name == "sqlite" else computed
    assert got == expected
