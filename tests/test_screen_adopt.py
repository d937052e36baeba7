"""A unit's screening rules (issue 14): an office's TOML file merged over the built-in rules, adopted by an
admin's signed act of the unit's chain as a pipeline is; `verify` judges the act, and holds the stored rules and
zwgk_screen_adopted to what the chain adopted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from states.errors import NotAuthorised, RoleMissing
from tests.cli_helpers import isolate, ok, ok_json, one_error_line, run, snapshot
from tests.conftest import ADMIN, new_info
from tests.tampering import Raw
from workflow import Workflow, screening
from workflow.errors import InvalidInput, NotFound, Unjudgeable
from workflow.ledger.verify import UnitFold
from workflow.screen import RuleSet, builtin_rules, load_rules

OFFICE = """disable = ["uscc"]

[[rule]]
id = "case-number"
zh = "案件编号"
severity = "warn"
pattern = '案\\d{6}'
"""
OTHER = """[[rule]]
id = "land-number"
zh = "宗地编号"
severity = "block"
pattern = '宗地\\d{8}'
"""
BAD = [
    ('disable = ["classification-mark"]\n', "office.toml: rule 'classification-mark' is a built-in classification-"
                                            "mark rule and cannot be removed or redefined"),
    ('[[rule]]\nid = "classification-mark"\nzh = "密级"\nseverity = "warn"\npattern = "密"\n',
     "office.toml: rule 'classification-mark' is a built-in classification-mark rule"),
    ('[[rule]]\nid = "x"\nzh = "某"\nseverity = "warn"\npattern = "("\n', "office.toml: rule 'x': bad pattern"),
    ('[[rule]]\nid = "x"\nzh = "某"\nseverity = "loud"\npattern = "a"\n', "office.toml: rule 'x': severity must be"),
    ("[[rule]\n", "office.toml: not valid TOML"),
]
BUILTIN = screening.builtin().fingerprint


@pytest.fixture
def raw(wf: Workflow) -> Iterator[Raw]:
    r = Raw(wf.engine.url.render_as_string(hide_password=False))
    yield r
    r.close()


def written(r: Raw) -> tuple[list[tuple[Any, ...]], ...]:
    """What an adoption writes: the chains' heads, the stored rules, the rules in force."""
    return (r.rows("SELECT chain, seq, hash FROM zwgk_chain ORDER BY chain"),
            r.rows("SELECT fingerprint FROM zwgk_screen_rules ORDER BY fingerprint"),
            r.rows("SELECT unit_id, rules, seq FROM zwgk_screen_adopted ORDER BY unit_id"))


def test_a_unit_screens_with_the_built_in_rules_until_it_adopts_its_own(wf: Workflow) -> None:
    assert wf.screen_rules("gov").fingerprint == BUILTIN
    fingerprint = wf.adopt_screen_rules("gov", OFFICE, source="office.toml", by=ADMIN)
    rules = wf.screen_rules("gov")
    assert rules.fingerprint == fingerprint != BUILTIN
    ids = [r.id for r in rules.rules.rules]
    assert "case-number" in ids and "uscc" not in ids and "classification-mark" in ids
    assert [f.rule for f in rules.screen("案号案123456，统一社会信用代码略")] == ["case-number"]
    with wf.engine.connect() as c:
        head = c.exec_driver_sql("SELECT seq FROM zwgk_chain WHERE chain = 'gov'").scalar_one()
    act = wf.event("gov", head)
    assert (act.case_kind, act.case_id, act.action, act.actor, act.role, dict(act.data)) == (
        "screen", "gov", "adopt", ADMIN, "admin", {"rules": fingerprint})
    assert wf.verify().ok, wf.verify().problems


def test_the_built_in_rules_can_be_adopted_back(wf: Workflow) -> None:
    wf.adopt_screen_rules("gov", OFFICE, source="office.toml", by=ADMIN)
    assert wf.adopt_screen_rules("gov", None, source="built-in", by=ADMIN) == BUILTIN
    assert wf.screen_rules("gov").fingerprint == BUILTIN
    assert wf.verify().ok


@pytest.mark.parametrize(("text", "message"), BAD)
def test_a_bad_file_is_refused_in_one_line_naming_it_and_the_rule_and_nothing_is_written(
        wf: Workflow, raw: Raw, text: str, message: str) -> None:
    before = written(raw)
    with pytest.raises(InvalidInput) as caught:
        wf.adopt_screen_rules("gov", text, source="office.toml", by=ADMIN)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    assert written(raw) == before


@pytest.mark.parametrize(("by", "unit", "exc", "match"), [
    ("clerk", "gov", RoleMissing, "clerk does not hold the role admin"),
    (ADMIN, "nowhere", NotFound, "no unit 'nowhere'"),
])
def test_only_an_admin_adopts_and_only_in_a_unit(wf: Workflow, raw: Raw, by: str, unit: str,
                                                 exc: type[Exception], match: str) -> None:
    before = written(raw)
    with pytest.raises(exc, match=match):
        wf.adopt_screen_rules(unit, OFFICE, source="office.toml", by=by)
    assert written(raw) == before


def test_the_same_rules_twice_and_a_closed_unit_are_refused(wf: Workflow, raw: Raw) -> None:
    wf.adopt_screen_rules("gov", OFFICE, source="office.toml", by=ADMIN)
    before = written(raw)
    with pytest.raises(NotAuthorised, match="unit gov has these screening rules in force already"):
        wf.adopt_screen_rules("gov", OFFICE, source="again.toml", by=ADMIN)
    wf.add_unit("fin", name="财政所", kind="station", by=ADMIN)
    wf.close_unit("fin", by=ADMIN)
    before = written(raw)
    with pytest.raises(NotAuthorised, match="unit fin is closed"):
        wf.adopt_screen_rules("fin", OFFICE, source="office.toml", by=ADMIN)
    assert written(raw) == before
    with pytest.raises(NotFound, match="no unit 'nowhere'"):
        wf.screen_rules("nowhere")


def test_each_unit_has_its_own_rules(wf: Workflow) -> None:
    wf.add_unit("fin", name="财政所", kind="station", by=ADMIN)
    fingerprint = wf.adopt_screen_rules("fin", OTHER, source="fin.toml", by=ADMIN)
    assert (wf.screen_rules("fin").fingerprint, wf.screen_rules("gov").fingerprint) == (fingerprint, BUILTIN)
    assert wf.verify().ok


def test_verify_since_a_digest_folds_the_adoptions_before_it(wf: Workflow) -> None:
    wf.adopt_screen_rules("gov", OFFICE, source="office.toml", by=ADMIN)
    digest = wf.digest()
    wf.adopt_screen_rules("gov", OTHER, source="other.toml", by=ADMIN)
    assert wf.verify(since=digest).ok, wf.verify(since=digest).problems
    digest = wf.digest()
    with pytest.raises(NotAuthorised, match="in force already"):  # the fold before the digest is OTHER's
        wf.adopt_screen_rules("gov", OTHER, source="other.toml", by=ADMIN)
    assert wf.verify(since=digest).ok


def test_the_fold_says_which_rules_were_in_force_at_each_step(wf: Workflow, monkeypatch: pytest.MonkeyPatch) -> None:
    """`UnitFold.screen_rules_in_force()`: what verify holds a step's screen record to."""
    seen: list[tuple[str, str]] = []
    step = UnitFold._step

    def recording(self: UnitFold, e: Any, where: str) -> None:
        seen.append((e.action, self.screen_rules_in_force()))
        step(self, e, where)

    monkeypatch.setattr(UnitFold, "_step", recording)
    item = new_info(wf)
    fingerprint = wf.adopt_screen_rules("gov", OFFICE, source="office.toml", by=ADMIN)
    wf.advance(item, "submit", actor="clerk")
    wf.adopt_screen_rules("gov", None, source="built-in", by=ADMIN)
    wf.advance(item, "return", actor="sec", reason="缺少附件")
    assert wf.verify().ok
    assert seen == [("create", BUILTIN), ("submit", fingerprint), ("return", BUILTIN)]


# -- behind the engine's back ------------------------------------------------------------------------------------


def _problems(wf: Workflow) -> list[str]:
    report = wf.verify()
    assert not report.ok
    return report.problems


def test_an_altered_stored_definition_fails_verify_and_is_never_screened_with(wf: Workflow, raw: Raw) -> None:
    fingerprint = wf.adopt_screen_rules("gov", OFFICE, source="office.toml", by=ADMIN)
    laxer = json.dumps([r for r in json.loads(wf.screen_rules("gov").definition) if r["id"] != "case-number"],
                       ensure_ascii=False)
    raw.run("UPDATE zwgk_screen_rules SET definition = :d WHERE fingerprint = :f", d=laxer, f=fingerprint)
    problems = _problems(wf)
    assert f"screening rules {fingerprint[:12]}: their stored definition is not the one their fingerprint " \
           "names (altered)" in problems
    assert any("no stored screening rules have the fingerprint it names" in p for p in problems), problems
    with pytest.raises(Unjudgeable, match="zwgk_screen_rules was altered"):
        wf.screen_rules("gov")


def test_stored_rules_no_engine_wrote_fail_verify_as_such(wf: Workflow, raw: Raw) -> None:
    """A row stored behind the engine's back under its own hash, naming no adoption: still a problem, not a crash."""
    for junk in ('[{"id": "x"}]', "{}", "not json"):
        raw.run("INSERT INTO zwgk_screen_rules (fingerprint, definition, created_at) VALUES (:f, :d, '2026-01-01')",
                f=hashlib.sha256(junk.encode()).hexdigest(), d=junk)
    problems = _problems(wf)
    assert sum("their stored definition is not the one their fingerprint names" in p for p in problems) == 3, problems


@pytest.mark.parametrize("how", ["other", "deleted", "inserted"])
def test_a_changed_row_of_the_rules_in_force_fails_verify_and_is_never_screened_with(
        wf: Workflow, raw: Raw, how: str) -> None:
    wf.add_unit("fin", name="财政所", kind="station", by=ADMIN)
    wf.adopt_screen_rules("gov", OFFICE, source="office.toml", by=ADMIN)
    wf.adopt_screen_rules("gov", None, source="built-in", by=ADMIN)  # stores the built-in rules too
    unit = "fin" if how == "inserted" else "gov"
    if how == "other":
        raw.run("UPDATE zwgk_screen_adopted SET rules = :f WHERE unit_id = 'gov'",
                f=screening.of(load_rules(OFFICE, "o")).fingerprint)
    elif how == "deleted":
        raw.run("DELETE FROM zwgk_screen_adopted WHERE unit_id = 'gov'")
    else:
        raw.run("INSERT INTO zwgk_screen_adopted (unit_id, rules, seq) VALUES ('fin', :f, 1)", f=BUILTIN)
    assert f"unit {unit}: the screening rules in force are not the ones its chain adopted last" in _problems(wf)
    with pytest.raises(Unjudgeable, match="zwgk_screen_adopted was altered"):
        wf.screen_rules(unit)


def _forge(wf: Workflow, raw: Raw, actor: str, definition_of: screening.Rules) -> int:
    """An adoption appended to gov's chain behind the engine's back, well hashed, with its rules stored."""
    raw.drop_guards()
    raw.run("INSERT INTO zwgk_screen_rules (fingerprint, definition, created_at) VALUES (:f, :d, '2026-01-01') "
            "ON CONFLICT DO NOTHING", f=definition_of.fingerprint, d=definition_of.definition)
    row = raw.append_forged("gov", case_kind="screen", case_id="gov", action="adopt", actor=actor, role="admin",
                            round=None, from_state=None, to_state=None, pipeline=None, content_hash=None,
                            reason=None, ground=None, decision=None, recorded_by=None, paper_sha256=None,
                            comment=None, data=json.dumps({"rules": definition_of.fingerprint}))
    raw.run("DELETE FROM zwgk_screen_adopted WHERE unit_id = 'gov'")
    raw.run("INSERT INTO zwgk_screen_adopted (unit_id, rules, seq) VALUES ('gov', :f, :s)",
            f=definition_of.fingerprint, s=row["seq"])
    return int(row["seq"])


def test_a_forged_adoption_by_a_non_admin_fails_verify(wf: Workflow, raw: Raw) -> None:
    new_info(wf)  # the chain's last event is a step: the forger copies its register event
    seq = _forge(wf, raw, "clerk", screening.of(load_rules(OFFICE, "o")))
    first = wf.verify().first_problem or ""
    assert first.startswith(f"chain gov event {seq}: adopt screen gov: clerk does not hold the role admin"), first


def test_a_forged_adoption_of_rules_without_the_classification_marks_fails_verify(wf: Workflow, raw: Raw) -> None:
    unmarked = screening.of(RuleSet(tuple(r for r in builtin_rules().rules if r.severity != "forbid")))
    seq = _forge(wf, raw, ADMIN, unmarked)
    first = wf.verify().first_problem or ""
    assert first.startswith(f"chain gov event {seq}: adopt screen gov: its screening rules lack the built-in "
                            "classification-mark rule 'classification-mark'"), first


# -- the CLI ------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("ZWGK_NOW", "2026-09-28T10:00:00+08:00")
    ok(capsys, "init", "--admin", ADMIN, "--name", "管理员", "--simulation")
    ok(capsys, "unit", "add", "gov", "--name", "平田乡人民政府", "--as", ADMIN)
    ok(capsys, "person", "add", "clerk", "--name", "clerk", "--unit", "gov", "--role=drafter", "--as", ADMIN)
    (tmp_path / "office.toml").write_text(OFFICE, encoding="utf-8")
    return tmp_path / "zwgk.db"


def test_zwgk_screen_adopt_and_rules(capsys: pytest.CaptureFixture[str], cli: Path) -> None:
    shown = ok_json(capsys, "screen", "rules", "--unit", "gov")
    assert (shown["fingerprint"], shown["builtin"]) == (BUILTIN, True)
    adopted = ok_json(capsys, "screen", "adopt", "office.toml", "--unit", "gov", "--as", ADMIN)
    assert adopted["builtin"] is False and adopted["fingerprint"] != BUILTIN
    shown = ok_json(capsys, "screen", "rules", "--unit", "gov")
    assert (shown["fingerprint"], shown["builtin"]) == (adopted["fingerprint"], False)
    rules = {r["id"]: r for r in shown["rules"]}
    assert rules["case-number"] == {"id": "case-number", "zh": "案件编号", "severity": "warn", "pattern": "案\\d{6}",
                                    "builtin": False}
    assert rules["mobile"]["kind"] == "mobile" and rules["mobile"]["builtin"] is True and "uscc" not in rules
    lines = ok(capsys, "screen", "rules", "--unit", "gov").splitlines()
    assert lines[0] == f"unit gov screens with the rules {adopted['fingerprint'][:12]} (the office's file)"
    assert "case-number            案件编号  warn   office  案\\d{6}" in lines
    assert "mobile                 手机号码  block  built-in  kind mobile" in lines
    assert ok(capsys, "screen", "adopt", "--builtin", "--unit", "gov", "--as", ADMIN).strip() == (
        f"unit gov adopted the screening rules {BUILTIN[:12]} (the built-in rules)")
    assert "单位 gov 现行筛查规则" in ok(capsys, "screen", "rules", "--unit", "gov", "--lang", "zh")
    assert ok(capsys, "verify").startswith("ok:")


def test_zwgk_screen_adopt_refuses_a_bad_file_in_one_line_and_writes_nothing(
        capsys: pytest.CaptureFixture[str], cli: Path) -> None:
    (cli.parent / "bad.toml").write_text(BAD[0][0], encoding="utf-8")
    before = snapshot(cli)
    code, out, err = run(capsys, "screen", "adopt", "bad.toml", "--unit", "gov", "--as", ADMIN)
    assert (code, out) == (2, "")
    assert one_error_line(err).startswith("bad.toml: rule 'classification-mark' is a built-in classification-mark")
    code, _, err = run(capsys, "screen", "adopt", "missing.toml", "--unit", "gov", "--as", ADMIN)
    assert code == 2 and one_error_line(err).startswith("cannot read missing.toml")
    assert snapshot(cli) == before


@pytest.mark.parametrize(("argv", "message"), [
    (["screen", "adopt", "office.toml", "--builtin", "--unit", "gov", "--as", ADMIN],
     "zwgk screen adopt takes the office's rules file or --builtin, with --unit U --as ADMIN"),
    (["screen", "adopt", "office.toml", "--unit", "gov"],
     "zwgk screen adopt takes the office's rules file or --builtin, with --unit U --as ADMIN"),
    (["screen", "rules"], "zwgk screen rules takes --unit U and nothing else"),
    (["screen", "rules", "--unit", "gov", "--as", ADMIN], "zwgk screen rules does not take --as"),
    (["screen", "adopt", "--builtin", "--unit", "gov", "--as", ADMIN, "--show"],
     "zwgk screen adopt does not take --show"),
    (["screen", "A", "--unit", "gov"], "zwgk screen ITEM does not take --unit"),
    (["screen"], "zwgk screen takes one item: ITEM, or --item ID (for an item named adopt or rules)"),
    (["screen", "A", "B"], "zwgk screen takes one item: ITEM, or --item ID (for an item named adopt or rules)"),
])
def test_zwgk_screen_says_how_it_is_used(capsys: pytest.CaptureFixture[str], cli: Path, argv: list[str],
                                         message: str) -> None:
    before = snapshot(cli)
    code, _, err = run(capsys, *argv)
    assert code == 2 and one_error_line(err) == message
    assert snapshot(cli) == before


@pytest.mark.parametrize("item", ["adopt", "rules"])
def test_an_item_named_like_a_verb_is_screened_with_item(capsys: pytest.CaptureFixture[str], cli: Path,
                                                         item: str) -> None:
    ok(capsys, "item", "new", "--id", item, "--title", "名单", "--unit", "gov", "--category", "2.4", "--timing",
       "immediate", "--kind", "info", "--body", "电话13912345678", "--as", "clerk")
    found = ok_json(capsys, "screen", "--item", item)
    assert [(f["field"], f["rule"]) for f in found] == [("body", "mobile")]


def test_the_office_patterns_time_limit_is_a_setting() -> None:
    from workflow.config import Config, parse

    assert Config().screen.time_limit == 1.0
    assert parse({"screen": {"time_limit": 2.5}}).screen.time_limit == 2.5
