"""Fixtures: a fresh database per test, on SQLite and (when reachable) on the real PostgreSQL server.

PostgreSQL tests skip with a one-line reason when no server answers, unless ZWGK_REQUIRE_POSTGRES=1
(as in CI), where an unreachable server fails them instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from alembic import command
from sqlalchemy import create_engine, text

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

import notifiers
from tests.recording import Recorder
from workflow import Workflow, db
from workflow.logs import OURS
from workflow.testing import scratch_schema

# The tampering fixtures (a log to tamper with, on SQLite and PostgreSQL), and the requests' (a clock set by hand,
# a database with a handler and the disclosure office head).
pytest_plugins = ["tests.tampering", "tests.requesting", "tests.clocking"]

# The tests read the CLI's words in English (`--lang en`); tests/test_i18n.py holds the Chinese to the catalog.
os.environ["ZWGK_LANG"] = "en"
PG_URL = os.environ.get("ZWGK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("ZWGK_REQUIRE_POSTGRES") == "1"

# The plan's people: one per role, so the default separation of duties can be met.
PEOPLE = {
    "clerk": ["drafter", "publisher"],
    "drafter2": ["drafter"],
    "proof": ["proofreader"],
    "sec": ["confidentiality_reviewer"],
    "lead": ["leader"],
    "head": ["head"],
    "multi": ["proofreader", "confidentiality_reviewer", "leader", "head", "publisher", "drafter"],
}


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """The CLI configures logging for its process; in-process CLI tests must not leave that to the next test."""
    loggers = [logging.getLogger(name) for name in OURS]
    saved = [(list(lg.handlers), lg.propagate, lg.level) for lg in loggers]
    yield
    for lg, (handlers, propagate, level) in zip(loggers, saved, strict=True):
        lg.handlers, lg.propagate = handlers, propagate
        lg.setLevel(level)


def _pg_problem() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as c:
            c.execute(text("select 1"))
        engine.dispose()
    except Exception as e:  # any failure to reach the server means "no PostgreSQL here"
        return f"PostgreSQL not reachable at {PG_URL}: {type(e).__name__}"
    return None


_PG_PROBLEM: list[str | None] = []


def pg_schema_url() -> Iterator[str]:
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_pg_problem())
    problem = _PG_PROBLEM[0]
    if problem:
        if REQUIRE_PG:
            pytest.fail(f"{problem} (ZWGK_REQUIRE_POSTGRES=1)")
        pytest.skip(problem)
    with scratch_schema(PG_URL, prefix="zt") as url:
        yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from pg_schema_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/zwgk.db"
    else:
        yield from pg_schema_url()


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    return f"sqlite:///{tmp_path}/zwgk.db"


def downgrade(wf: Workflow, revision: str) -> None:
    """The schema as an older release made it (the migrations' own downgrades)."""
    with wf.engine.begin() as c:
        command.downgrade(db._alembic_config(c), revision)


ADMIN = "admin"  # keeps the register (登记管理员); signs no step of any case


def seed(wf: Workflow) -> Workflow:
    """The register (a simulation: tests may set the clock), the unit `gov` and the plan's people in it."""
    wf.init(admin=ADMIN, name="党政办登记管理员", simulation=True)
    wf.add_unit("gov", name="平田乡人民政府", by=ADMIN)
    for pid, roles in PEOPLE.items():
        wf.add_person(pid, name=pid, unit="gov", roles=roles, by=ADMIN)
    return wf


@pytest.fixture
def wf(db_url: str) -> Iterator[Workflow]:
    w = seed(Workflow(db_url))
    yield w
    w.close()


@pytest.fixture
def swf(sqlite_url: str) -> Iterator[Workflow]:
    """SQLite only, for tests that are about the engine rather than the database."""
    w = seed(Workflow(sqlite_url))
    yield w
    w.close()


def new_info(wf: Workflow, **kw: object) -> str:
    args: dict[str, object] = {"title": "2026年第三季度财务收支", "unit": "gov", "category": "3.4",
                               "timing": "periodic", "kind": "info", "drafter": "clerk", "body": "收入……"}
    args.update(kw)
    return wf.new_item(**args).id  # type: ignore[arg-type]


def to_head_approval(wf: Workflow, item_id: str) -> None:
    wf.advance(item_id, "submit", actor=wf.item(item_id).drafter)  # a draft's drafter submits it
    wf.advance(item_id, "proofread", actor="proof")
    wf.advance(item_id, "clear", actor="sec", decision="full")
    wf.advance(item_id, "check", actor="lead")


def publish(wf: Workflow, item_id: str) -> None:
    to_head_approval(wf, item_id)
    wf.advance(item_id, "approve", actor="head")
    wf.advance(item_id, "publish", actor="clerk")


CHROMIUM = "/usr/bin/chromium"  # Debian's; .ci/run installs it (no browser downloads work here)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium for rendering the letters' HTML; a one-line skip without it, unless ZWGK_REQUIRE_BROWSER."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        if os.environ.get("ZWGK_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and ZWGK_REQUIRE_BROWSER is set")
        pytest.skip(f"{CHROMIUM} is missing: no browser to render the letters")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    """A page of that browser, one for a module's tests."""
    p = browser.new_page()
    yield p
    p.close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """The channel type `recording`, for the length of a test: what it was asked to send, and scripted outcomes."""
    rec = Recorder()
    unregister = notifiers.register("recording", rec.factory)
    yield rec
    unregister()
