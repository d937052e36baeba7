"""Fixtures of an office on a travelling clock (a pytest plugin, named in conftest.py): the deadline tests move
`now[0]` and watch what falls due. A test module that wants its `wf` on this clock defines `wf` as `make()`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from states import Pipeline
from tests.conftest import ADMIN, seed
from workflow import Workflow
from workflow.config import Config

SH = ZoneInfo("Asia/Shanghai")


def sh(y: int, m: int, d: int, hh: int = 10, mm: int = 0, ss: int = 0, us: int = 0) -> datetime:
    """A moment on the office's wall clock (Asia/Shanghai)."""
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=SH)


@pytest.fixture
def now() -> list[datetime]:
    return [sh(2026, 9, 30)]


@pytest.fixture
def make(db_url: str, now: list[datetime]) -> Iterator[Callable[..., Workflow]]:
    """A seeded Workflow on a travelling clock (`now[0]`); call it once per test, with a config if needed."""
    made: list[Workflow] = []

    def factory(config: Config | None = None, pipeline: Pipeline | None = None) -> Workflow:
        w = Workflow(db_url, clock=lambda: now[0], config=config)
        made.append(seed(w) if len(made) == 0 else w)  # a second one is the same office with other settings
        if pipeline is not None:  # the office adopts its own pipeline
            w.adopt_pipeline("gov", pipeline, by=ADMIN)
        return w

    yield factory
    for w in made:
        w.close()
