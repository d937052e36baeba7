"""Pooled connections on PostgreSQL: a server that dropped them (a restart) costs no lasting failure."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import new_info, seed
from workflow import Workflow
from workflow.db import ping_when_idle

NAME = "zwgk_dropped"


def named(url: str) -> str:
    """The URL, its connections named so that only they are dropped."""
    return f"{url}&application_name={NAME}"


def _drop_our_connections(url: str) -> int:
    """What a server restart does to the pool's connections."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            return len(c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE application_name = :name"), {"name": NAME}).all())
    finally:
        admin.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(pg_url: str) -> None:
    engine = create_engine(named(pg_url))
    ping_when_idle(engine, seconds=0)  # every checkout counts as idle here
    wf = seed(Workflow(engine=engine))
    try:
        item = new_info(wf)
        assert _drop_our_connections(pg_url) >= 1
        assert wf.advance(item, "submit", actor="clerk").action == "submit"
        assert wf.verify().ok
    finally:
        engine.dispose()


def test_a_busy_connection_the_server_dropped_fails_once_and_is_not_reused(pg_url: str) -> None:
    """Back to back, connections are not pinged (a round trip per signature): the first call after a restart fails
    with the driver's error, and nothing is written; the pool does not hand that connection out again."""
    wf = seed(Workflow(named(pg_url)))
    try:
        item = new_info(wf)
        assert _drop_our_connections(pg_url) >= 1
        with pytest.raises(Exception, match=r"terminat|closed|connection"):
            wf.advance(item, "submit", actor="clerk")
        assert wf.advance(item, "submit", actor="clerk").action == "submit"
        assert [s.action for s in wf.history(item)] == ["create", "submit"]
        assert wf.verify().ok
    finally:
        wf.close()
