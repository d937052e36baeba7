"""Found by the red team: final states at adoption (states/kinds.py check_adoptable), as verify judges adoptions
of the past: each by the law it was made under."""

from __future__ import annotations

from importlib import resources

import pytest

import states.kinds
import workflow.register
from states import AdoptionRefused, parse_pipeline
from tests.conftest import ADMIN, seed
from workflow import Workflow

REOPEN = """
[[action]]
id = "reopen"
zh = "重新审核"
en = "Reopen"
from = "published"
to = "head_approval"
role = "head"
"""


def test_a_unit_that_adopted_under_0_2_a_pipeline_leaving_published_still_verifies(
        tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """0.2.0 let a unit adopt a pipeline with `published -> head_approval` (no `terminal` key existed). The
    adoption event is signed and its fingerprint unchanged (terminal undeclared is left out of the definition),
    but verify re-runs today's check_adoptable on every past adoption (states/authority.py decide_unit), so the
    upgraded database fails verify: backup refuses to keep a copy (exit 1), restore refuses every copy. The same
    holds for 0.2 adoptions of a pipeline without the `leader` role (the new reassigner check). Fix: judge an
    adoption by the rules in force when it was signed (e.g. the new checks only for adoptions after the upgrade's
    revision/time, or as a warning in verify), or record that the check is new and say so in CHANGELOG."""
    text = resources.files("states").joinpath("item.toml").read_text(encoding="utf-8") + REOPEN
    old = parse_pipeline(text.replace('name = "zwgk-default"', 'name = "township-reopen"'), "old.toml")
    with monkeypatch.context() as m:  # the 0.2.0 engine: no final states, and its adoptions record no law
        m.setattr(states.kinds, "final_exits", lambda *a: None)
        m.setattr(workflow.register, "LAW", 1)
        wf = seed(Workflow(f"sqlite:///{tmp_path}/zwgk.db"))
        wf.adopt_pipeline("gov", old, by=ADMIN)
    report = wf.verify()
    assert report.ok, report.first_problem
    with pytest.raises(AdoptionRefused, match="published may be left only for abolished or retracted"):  # not any more
        wf.adopt_pipeline("gov", parse_pipeline(text, "new.toml"), by=ADMIN)
    wf.close()


def test_an_adoption_under_a_law_this_engine_does_not_know_is_refused() -> None:
    builtin = states.kinds.default_pipeline()
    with pytest.raises(AdoptionRefused, match=r"adopted under law 3, which this engine does not know \(1 to 2\)"):
        states.kinds.check_adoptable(builtin, law=3)
    states.kinds.check_adoptable(builtin, law=1)
