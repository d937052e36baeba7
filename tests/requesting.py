"""Requests in tests: the office's clock set by hand, a database with the people a request needs, the CLI's world,
and the steps every test takes (a pytest plugin of tests/conftest.py, as tests/tampering.py is)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.cli_helpers import isolate, ok
from tests.conftest import ADMIN, PEOPLE, seed
from workflow import Workflow
from workflow.requests import Applicant

TZ = ZoneInfo("Asia/Shanghai")
RECEIVED = date(2026, 9, 28)  # a Monday; due Fri 30 Oct 2026 (20 working days across National Day)
DUE = date(2026, 10, 30)
DESCRIPTION = "2025年平田乡低保资金发放明细"
NAME, PHONE, ID_DOC = "张三丰", "13912345678", "530328199001011234"  # must appear nowhere but their own record
WHO = Applicant(NAME, "natural", id_document=ID_DOC, phone=PHONE, address="元谋县平田乡平田村1号")


class Clock:
    """The office's clock, set by hand to 10:00 of a day in Asia/Shanghai."""

    def __init__(self, day: date) -> None:
        self.to(day)

    def __call__(self) -> datetime:
        return self.now

    def to(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 10, 0, tzinfo=TZ).astimezone(UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(RECEIVED)


def seeded(url: str, clock: Clock, config: Any = None) -> Workflow:
    """`seed`'s unit and people, with a handler and the head of the disclosure office."""
    w = seed(Workflow(url, clock=clock, config=config))
    w.grant("clerk", "handler", unit="gov", by=ADMIN)
    w.add_person("ohead", name="党政办主任", unit="gov", roles=["disclosure_office_head"], by=ADMIN)
    return w


@pytest.fixture
def rwf(db_url: str, clock: Clock) -> Iterator[Workflow]:
    w = seeded(db_url, clock)
    yield w
    w.close()


def new_request(wf: Workflow, **kw: object) -> str:
    args: dict[str, object] = {"unit": "gov", "handler": "clerk", "via": "in_person", "applicant": WHO,
                               "description": DESCRIPTION}
    args.update(kw)
    return wf.requests.new(**args).id  # type: ignore[arg-type]


def review_and_send(wf: Workflow, rid: str) -> None:
    for action, actor in (("submit", "clerk"), ("proofread", "proof"), ("clear", "sec"), ("check", "lead"),
                          ("approve", "head"), ("send", "clerk")):
        wf.requests.advance(rid, action, actor=actor)


def cli_world(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A simulation database made with `zwgk` itself, on 28 Sep 2026, with the people a request needs."""
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("ZWGK_NOW", "2026-09-28T10:00:00+08:00")
    ok(capsys, "init", "--admin", ADMIN, "--name", "管理员", "--simulation")
    ok(capsys, "unit", "add", "gov", "--name", "平田乡人民政府", "--as", ADMIN)
    for pid, roles in PEOPLE.items():
        ok(capsys, "person", "add", pid, "--name", pid, "--unit", "gov", *[f"--role={r}" for r in roles],
           "--as", ADMIN)
    ok(capsys, "grant", "clerk", "handler", "--unit", "gov", "--as", ADMIN)
    ok(capsys, "person", "add", "ohead", "--name", "主任", "--unit", "gov", "--role=disclosure_office_head",
       "--as", ADMIN)
    return tmp_path / "zwgk.db"
