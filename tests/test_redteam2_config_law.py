"""Red team 2 on red team 1's fixes: config maxima (workflow/config.py _MAXIMUM) and the law an adoption is
judged by (states/authority.py, states/kinds.py LAW)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

import states.kinds
import workflow.register
from states import parse_pipeline
from tests.conftest import ADMIN, seed
from tests.test_redteam_pipelines import REOPEN
from workflow import Workflow
from workflow.config import ConfigError, parse


def test_a_batch_the_database_cannot_hold_is_refused_by_the_configuration() -> None:
    # _MAXIMUM covers durations only. [reminders] batch = 1e20 (an integer in TOML) is accepted; every plan pass
    # of the daemon then fails with "OverflowError: Python int too large to convert to SQLite INTEGER" (the LIMIT
    # of rm_due and of the outbox claim), logged as job_failed, and `daemon --once` still exits 0: reminders
    # are silently never planned.
    with pytest.raises(ConfigError, match=r"reminders\.batch: must be at most"):
        parse({"reminders": {"batch": 10**20}})


def test_an_adoption_claiming_law_1_after_law_2_adoptions_is_refused_by_verify(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Documented (states/kinds.py above LAW): a forged adoption may claim law 1 and skip the final-state and
    # reassigner checks. But a database only ever moves up in law: an adoption of law 1 after one of law 2 in the
    # same register cannot have been made by any engine, and verify could say so at no cost (law never
    # decreases along the register / a unit's chain). Here an engine patched to record law 1 (what anyone who
    # can write the database and recompute the hashes can produce) makes a 0.3 database's unit adopt a pipeline
    # that reopens published items; verify passes it.
    text = resources.files("states").joinpath("item.toml").read_text(encoding="utf-8") + REOPEN
    lax = parse_pipeline(text.replace('name = "zwgk-default"', 'name = "township-reopen"'), "lax.toml")
    wf = seed(Workflow(f"sqlite:///{tmp_path}/zwgk.db"))
    try:
        with monkeypatch.context() as m:
            m.setattr(states.kinds, "final_exits", lambda *a: None)
            m.setattr(workflow.register, "LAW", 1)
            wf.adopt_pipeline("gov", lax, by=ADMIN)
        report = wf.verify()
        assert not report.ok, "a law-1 adoption after law-2 adoptions of the same register passed verify"
    finally:
        wf.close()
