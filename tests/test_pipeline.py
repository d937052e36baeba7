"""The pipeline package `states/` on its own: no database, no Workflow.

Covers loading the default pipeline, fingerprints, loading from a file, the error messages of malformed
pipeline files (with the line they point at), the machine's refusals and the diagrams.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from states import (
    ActionNotAvailable,
    AlreadySigned,
    Attempt,
    InputMissing,
    Pipeline,
    PipelineError,
    PipelineMachine,
    PrerequisiteMissing,
    Refused,
    RoleMissing,
    SeparationOfDuties,
    default_pipeline,
    draw,
    load_pipeline,
    parse_pipeline,
)

DEFAULT_TEXT = resources.files("states").joinpath("item.toml").read_text(encoding="utf-8")

STATES = {
    "draft": ("草稿", "Draft"),
    "confidentiality_review": ("保密审查", "Confidentiality review"),
    "leader_check": ("分管领导把关", "Leader check"),
    "head_approval": ("主要领导同意", "Head approval"),
    "published": ("已公开", "Published"),
    "withheld": ("不予公开", "Withheld"),
    "retracted": ("已撤回", "Retracted"),
    "abolished": ("已废止", "Abolished"),
}
ROLES = {
    "drafter": ("经办人", "Drafter"),
    "proofreader": ("校对人", "Proofreader"),
    "confidentiality_reviewer": ("保密审查人", "Confidentiality reviewer"),
    "leader": ("分管领导", "Leader in charge"),
    "head": ("主要领导", "Head"),
    "publisher": ("发布人", "Publisher"),
}
# (from, action, to, role); to None = the item stays where it is.
TRANSITIONS = [
    ("draft", "submit", "confidentiality_review", "drafter"),
    ("confidentiality_review", "proofread", None, "proofreader"),
    ("confidentiality_review", "clear", "leader_check", "confidentiality_reviewer"),
    ("confidentiality_review", "withhold", "withheld", "confidentiality_reviewer"),
    ("confidentiality_review", "override", None, "confidentiality_reviewer"),
    ("leader_check", "check", "head_approval", "leader"),
    ("head_approval", "approve", None, "head"),
    ("head_approval", "publish", "published", "publisher"),
    ("confidentiality_review", "return", "draft", "confidentiality_reviewer"),
    ("leader_check", "return", "draft", "leader"),
    ("head_approval", "return", "draft", "head"),
    ("published", "retract", "retracted", "head"),
    ("published", "abolish", "abolished", "head"),
    ("withheld", "confirm", "withheld", "confidentiality_reviewer"),
    ("withheld", "reopen", "draft", "confidentiality_reviewer"),
]
ALL_ROLES = frozenset(ROLES)


@pytest.fixture(scope="module")
def p() -> Pipeline:
    return default_pipeline()


@pytest.fixture(scope="module")
def m(p: Pipeline) -> PipelineMachine:
    return PipelineMachine(p)


# -- the default pipeline ---------------------------------------------------------------------------------


def test_default_pipeline_header(p: Pipeline) -> None:
    assert p.name == "zwgk-default"
    assert p.version == "2019.1"
    assert p.initial == "draft"
    assert p.drafter_role == "drafter"


def test_default_states_and_labels(p: Pipeline) -> None:
    assert [s.id for s in p.states] == list(STATES)
    for s in p.states:
        assert (s.zh, s.en) == STATES[s.id]
    assert p.state("leader_check").zh == "分管领导把关"
    assert p.label("draft") == "draft (草稿)"
    assert p.label("head_approval") == "head_approval (主要领导同意)"
    assert p.label(None) == "-"
    assert p.label("nowhere") == "nowhere"
    with pytest.raises(KeyError):
        p.state("nowhere")


def test_default_roles(p: Pipeline) -> None:
    assert [r.id for r in p.roles] == list(ROLES)
    for r in p.roles:
        assert (r.zh, r.en) == ROLES[r.id]
    assert p.role("head").en == "Head"
    with pytest.raises(KeyError):
        p.role("mayor")


def test_default_actions(p: Pipeline) -> None:
    assert [(a.source, a.id, a.to, a.role) for a in p.actions] == TRANSITIONS
    assert p.action_ids() == ["submit", "proofread", "clear", "withhold", "override", "check", "approve", "publish",
                              "return", "retract", "abolish", "confirm", "reopen"]
    labels = {a.id: (a.zh, a.en) for a in p.actions}
    assert labels["submit"] == ("经办", "Submit")
    assert labels["proofread"] == ("校对", "Proofread")
    assert labels["clear"] == ("审核", "Clear for disclosure")
    assert labels["withhold"] == ("不予公开", "Withhold")
    assert labels["check"] == ("把关", "Check")
    assert labels["approve"] == ("同意", "Approve")
    assert labels["publish"] == ("发布", "Publish")
    assert labels["return"] == ("退回", "Return")
    assert labels["confirm"] == ("确认不予公开", "Confirm withholding")
    assert labels["reopen"] == ("重新审查", "Reopen for review")
    assert labels["retract"] == ("撤回", "Retract")

    clear = p.action("confidentiality_review", "clear")
    assert clear is not None
    assert clear.requires == ("proofread",)
    assert clear.decisions == ("full", "partial")
    assert clear.reason_for == ("partial",)
    assert clear.reason is False
    withhold = p.action("confidentiality_review", "withhold")
    assert withhold is not None
    assert withhold.grounds == ("art14", "art15", "art16")
    assert withhold.reason is True
    publish = p.action("head_approval", "publish")
    assert publish is not None
    assert publish.requires == ("approve",)
    for state in ("confidentiality_review", "leader_check", "head_approval"):
        ret = p.action(state, "return")
        assert ret is not None
        assert ret.reason is True
        assert ret.new_round is True
        assert ret.to == "draft"
    retract = p.action("published", "retract")
    assert retract is not None
    assert retract.reason is True
    assert retract.new_round is False
    assert p.action("draft", "return") is None
    assert p.action("draft", "clear") is None
    assert [a.id for a in p.actions_from("confidentiality_review")] == ["proofread", "clear", "withhold", "override",
                                                                        "return"]
    assert [a.id for a in p.actions_from("withheld")] == ["confirm", "reopen"]
    confirm, reopen = p.actions_from("withheld")  # each review a round of its own (Art. 18)
    assert {(a.role, a.reason, a.new_round) for a in (confirm, reopen)} == {("confidentiality_reviewer", True, True)}
    assert (confirm.to, confirm.grounds, confirm.decisions) == ("withheld", ("art14", "art15", "art16"), ())
    assert (reopen.to, reopen.grounds, reopen.decisions) == ("draft", (), ("changed", "consent", "public_interest"))
    assert p.actions_from("retracted") == []


def test_default_separation_and_grounds(p: Pipeline) -> None:
    assert p.separation == (("submit", "proofread", "clear", "check", "approve"),)
    assert p.distinct_from("clear") == {"submit", "proofread", "check", "approve"}
    assert p.distinct_from("submit") == {"proofread", "clear", "check", "approve"}
    assert p.distinct_from("publish") == set()
    assert p.distinct_from("return") == set()
    assert set(p.grounds) == {"art14", "art15", "art16"}
    assert "第十四条" in p.grounds["art14"]
    assert "第十五条" in p.grounds["art15"]
    assert "第十六条" in p.grounds["art16"]


def test_full_version_is_version_plus_fingerprint(p: Pipeline) -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", p.fingerprint)
    assert re.fullmatch(r"2019\.1\+[0-9a-f]{12}", p.full_version)
    assert p.full_version == f"{p.version}+{p.fingerprint[:12]}"
    # stable: the same definition gives the same fingerprint
    assert default_pipeline().fingerprint == p.fingerprint
    assert parse_pipeline(DEFAULT_TEXT, "elsewhere.toml").fingerprint == p.fingerprint


@pytest.mark.parametrize(("old", "new"), [
    ('zh = "校对"', 'zh = "校核"'),                                       # a label
    ('requires = ["approve"]', "requires = []"),                           # a rule
    ('distinct = ["submit", "proofread", "clear", "check", "approve"]',
     'distinct = ["proofread", "clear"]'),                                 # separation
    ('art16 = "《条例》第十六条', 'art16 = "《条例》第16条'),               # a ground's text
    ('role = "publisher"\nrequires', 'role = "head"\nrequires'),            # who signs
])
def test_editing_the_definition_changes_the_fingerprint(p: Pipeline, old: str, new: str) -> None:
    assert DEFAULT_TEXT.count(old) == 1
    edited = parse_pipeline(DEFAULT_TEXT.replace(old, new), "edited.toml")
    assert edited.version == p.version
    assert edited.fingerprint != p.fingerprint
    assert edited.full_version != p.full_version
    assert edited.full_version.startswith("2019.1+")


def test_comments_and_layout_do_not_change_the_fingerprint(p: Pipeline) -> None:
    text = "# a township's copy\n\n" + DEFAULT_TEXT.replace("# 三审三校", "# three reviews")
    assert parse_pipeline(text).fingerprint == p.fingerprint


def test_load_pipeline_from_a_file(tmp_path: Path, p: Pipeline) -> None:
    path = tmp_path / "township.toml"
    path.write_text(DEFAULT_TEXT, encoding="utf-8")
    loaded = load_pipeline(path)
    assert loaded == p
    assert loaded.full_version == p.full_version
    assert load_pipeline(str(path)) == p


def test_load_pipeline_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(PipelineError) as e:
        load_pipeline(path)
    assert str(path) in str(e.value)
    assert "cannot read" in str(e.value)


# -- malformed pipeline files -----------------------------------------------------------------------------

# A small valid pipeline; the numbers are the line numbers the tests below point at.
MINI = [
    'name = "mini"',          # 1
    'version = "1"',          # 2
    'initial = "a"',          # 3
    "",                       # 4
    "[[state]]",              # 5
    'id = "a"',               # 6
    'zh = "甲"',              # 7
    'en = "A"',               # 8
    "",                       # 9
    "[[state]]",              # 10
    'id = "b"',               # 11
    'zh = "乙"',              # 12
    'en = "B"',               # 13
    "",                       # 14
    "[[role]]",               # 15
    'id = "r"',               # 16
    'zh = "角色"',            # 17
    'en = "Role"',            # 18
    "",                       # 19
    "[[action]]",             # 20
    'id = "go"',              # 21
    'zh = "走"',              # 22
    'en = "Go"',              # 23
    'from = "a"',             # 24
    'to = "b"',               # 25
    'role = "r"',             # 26
    "",                       # 27
    "[[action]]",             # 28
    'id = "stamp"',           # 29
    'zh = "盖章"',            # 30
    'en = "Stamp"',           # 31
    'from = "b"',             # 32
    'role = "r"',             # 33
    "",                       # 34
    "[[action]]",             # 35
    'id = "refuse"',          # 36
    'zh = "拒绝"',            # 37
    'en = "Refuse"',          # 38
    'from = "b"',             # 39
    'to = "a"',               # 40
    'role = "r"',             # 41
    'grounds = ["g1"]',       # 42
    'decisions = ["yes", "no"]',  # 43
    'reason_for = ["no"]',    # 44
    'requires = ["stamp"]',   # 45
    "",                       # 46
    "[[separation]]",         # 47
    'distinct = ["go", "stamp"]',  # 48
    "",                       # 49
    "[grounds]",              # 50
    'g1 = "ground one"',      # 51
]


def mini(replace: dict[int, str | None] | None = None, extra: list[str] | None = None) -> str:
    """MINI with line `n` replaced (None deletes it, keeping the others' numbers by leaving a blank line)."""
    lines = list(MINI)
    for n, text in (replace or {}).items():
        lines[n - 1] = "" if text is None else text
    return "\n".join(lines + (extra or [])) + "\n"


def test_mini_pipeline_is_valid() -> None:
    p = parse_pipeline(mini(), "mini.toml")
    assert [s.id for s in p.states] == ["a", "b"]
    assert [(a.source, a.id, a.to) for a in p.actions] == [("a", "go", "b"), ("b", "stamp", None), ("b", "refuse", "a")]
    assert p.separation == (("go", "stamp"),)
    assert p.grounds == {"g1": "ground one"}
    assert p.drafter_role == "r"


def error_of(text: str, tmp_path: Path, name: str = "bad.toml") -> tuple[str, int | None]:
    """Load `text` from a file; return the PipelineError message and the line number it names."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PipelineError) as e:
        load_pipeline(path)
    message = str(e.value)
    assert str(path) in message, message
    assert "\n" not in message
    found = re.search(r"\bline (\d+)", message)
    return message, int(found.group(1)) if found else None


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    message, line = error_of(mini({7: 'zh = "甲'}), tmp_path)
    assert line == 7
    assert "Illegal character" in message or "nterminated" in message


def test_toml_syntax_error_missing_equals(tmp_path: Path) -> None:
    message, line = error_of(mini({31: 'en "Stamp"'}), tmp_path)
    assert line == 31
    assert "=" in message


@pytest.mark.parametrize("key", ["name", "version", "initial"])
def test_missing_header_key(tmp_path: Path, key: str) -> None:
    n = {"name": 1, "version": 2, "initial": 3}[key]
    message, line = error_of(mini({n: None}), tmp_path)
    assert f"'{key}' must be a non-empty string" in message
    assert line is not None


@pytest.mark.parametrize(("n", "text", "key"), [(1, "name = 5", "name"), (2, 'version = ""', "version"),
                                                (3, "initial = []", "initial")])
def test_bad_header_key_points_at_its_line(tmp_path: Path, n: int, text: str, key: str) -> None:
    message, line = error_of(mini({n: text}), tmp_path)
    assert line == n
    assert f"'{key}' must be a non-empty string" in message


def test_unknown_initial_state(tmp_path: Path) -> None:
    message, line = error_of(mini({3: 'initial = "start"'}), tmp_path)
    assert line == 3
    assert "initial state 'start' is not declared" in message


def test_action_from_unknown_state(tmp_path: Path) -> None:
    message, line = error_of(mini({32: 'from = "limbo"'}), tmp_path)
    assert line == 32
    assert "action 'stamp'" in message
    assert "from 'limbo' is not a declared state" in message


def test_action_to_unknown_state(tmp_path: Path) -> None:
    message, line = error_of(mini({25: 'to = "nowhere"'}), tmp_path)
    assert line == 25
    assert "action 'go'" in message
    assert "to 'nowhere' is not a declared state" in message


def test_action_with_unknown_role(tmp_path: Path) -> None:
    message, line = error_of(mini({41: 'role = "mayor"'}), tmp_path)
    assert line == 41
    assert "action 'refuse'" in message
    assert "role 'mayor' is not a declared role" in message


def test_unknown_key_in_action(tmp_path: Path) -> None:
    message, line = error_of(mini({27: "deadline = 5"}), tmp_path)
    assert line == 27
    assert "action #1" in message
    assert "unknown key 'deadline'" in message


def test_unknown_key_in_later_action(tmp_path: Path) -> None:
    message, line = error_of(mini({34: 'sign = "x"'}), tmp_path)
    assert line == 34
    assert "action #2" in message
    assert "unknown key 'sign'" in message


def test_requires_unknown_action(tmp_path: Path) -> None:
    message, line = error_of(mini({45: 'requires = ["stamp", "notarize"]'}), tmp_path)
    assert line == 45
    assert "action 'refuse'" in message
    assert "requires unknown action 'notarize'" in message


def test_ground_not_in_grounds_table(tmp_path: Path) -> None:
    message, line = error_of(mini({42: 'grounds = ["g1", "g9"]'}), tmp_path)
    assert line == 42
    assert "ground 'g9' is not in [grounds]" in message


def test_reason_for_not_a_subset_of_decisions(tmp_path: Path) -> None:
    message, line = error_of(mini({44: 'reason_for = ["maybe"]'}), tmp_path)
    assert line == 44
    assert "action 'refuse'" in message
    assert "reason_for names a decision not in decisions" in message


def test_duplicate_action_from_same_state(tmp_path: Path) -> None:
    # the third action becomes a second 'stamp' from state b
    message, line = error_of(mini({36: 'id = "stamp"'}), tmp_path)
    assert line == 36
    assert "action 'stamp' is declared twice from state 'b'" in message


def test_same_action_from_two_states_is_fine() -> None:
    p = parse_pipeline(mini({39: 'from = "a"'}))
    assert [(a.source, a.id) for a in p.actions] == [("a", "go"), ("b", "stamp"), ("a", "refuse")]


def test_separation_naming_unknown_action(tmp_path: Path) -> None:
    message, line = error_of(mini({48: 'distinct = ["go", "stmp"]'}), tmp_path)
    assert line == 48
    assert "separation #1" in message
    assert "unknown action 'stmp'" in message


def test_separation_of_one_action(tmp_path: Path) -> None:
    message, line = error_of(mini({48: 'distinct = ["go"]'}), tmp_path)
    assert line == 48
    assert "needs at least two actions" in message


@pytest.mark.parametrize(("n", "text", "table"), [
    (21, 'id = "Go"', "action"),
    (29, 'id = "stamp-it"', "action"),
    (11, 'id = "2b"', "state"),
    (16, 'id = "r r"', "role"),
    (36, 'id = "refuse\\n"', "action"),  # a trailing newline must not slip through a `$` anchor
])
def test_bad_id_characters(tmp_path: Path, n: int, text: str, table: str) -> None:
    message, line = error_of(mini({n: text}), tmp_path)
    assert line == n
    assert f"{table} id '" in message
    assert "must be lower-case letters, digits and _" in message


def test_state_missing_label_points_at_its_table(tmp_path: Path) -> None:
    message, line = error_of(mini({12: None}), tmp_path)
    assert line == 10
    assert "state #2: 'zh' must be a non-empty string" in message


def test_requires_must_be_a_list(tmp_path: Path) -> None:
    message, line = error_of(mini({45: 'requires = "stamp"'}), tmp_path)
    assert line == 45
    assert "'requires' must be a list of strings" in message


@pytest.mark.parametrize(("n", "text"), [(25, 'to = ["b"]'), (25, 'to = { state = "b" }'), (25, "to = 5")])
def test_action_to_of_the_wrong_type(tmp_path: Path, n: int, text: str) -> None:
    # A malformed value must be reported as a PipelineError with its line, not crash with a TypeError.
    message, line = error_of(mini({n: text}), tmp_path)
    assert line == n
    assert "action 'go'" in message


@pytest.mark.parametrize("text", ['reason = "false"', 'reason = "no"', 'new_round = "false"'])
def test_action_flags_must_be_booleans(tmp_path: Path, text: str) -> None:
    # `reason = "false"` must not silently mean reason = true (bool("false") is True).
    message, line = error_of(mini({34: text}), tmp_path)
    assert line == 34
    assert text.split(" ")[0] in message


@pytest.mark.parametrize("extra", ['separation = ["go", "stamp"]', 'state = "a"', "action = 5"])
def test_tables_of_the_wrong_shape(tmp_path: Path, extra: str) -> None:
    # a top-level `separation = [...]` (a plausible slip for [[separation]]) is a PipelineError, not an AttributeError
    lines = list(MINI)
    drop = {"separation": (47, 48), "state": (5, 6, 7, 8, 10, 11, 12, 13), "action": tuple(range(20, 47))}
    for n in drop[extra.split(" ")[0]]:
        lines[n - 1] = ""
    text = "\n".join([extra, *lines]) + "\n"
    message, line = error_of(text, tmp_path)
    assert line == 1
    assert f"'{extra.split(' ')[0]}' must be a list of tables" in message


def test_initial_state_must_have_a_way_out(tmp_path: Path) -> None:
    message, line = error_of(mini({24: 'from = "b"'}), tmp_path)
    assert line == 3
    assert "no action leaves the initial state 'a'" in message


def test_duplicate_state(tmp_path: Path) -> None:
    message, line = error_of(mini({11: 'id = "a"'}), tmp_path)
    assert line == 5
    assert "two states share an id" in message


@pytest.mark.parametrize("quote", ['"""', "'''"])
def test_a_table_header_quoted_in_a_multiline_string_does_not_shift_the_line(tmp_path: Path, quote: str) -> None:
    # Line 22 becomes three lines (22-24) whose middle one looks like a table header; the bad `to` of the
    # third action, line 40 of MINI, is then line 42.
    text = mini({22: f'zh = {quote}走', 40: 'to = "nowhere"'}).replace(
        f"{quote}走\n", f"{quote}走\n[[action]]\n（说明）{quote}\n", 1)
    message, line = error_of(text, tmp_path)
    assert line == 42, message
    assert "nowhere" in message


def test_parse_pipeline_without_a_file_names_its_source() -> None:
    with pytest.raises(PipelineError) as e:
        parse_pipeline(mini({25: 'to = "nowhere"'}), "township.toml")
    assert str(e.value).startswith("township.toml, line 25: ")
    with pytest.raises(PipelineError) as e:
        parse_pipeline(mini({25: 'to = "nowhere"'}))
    assert str(e.value).startswith("<pipeline>, line 25: ")


# -- the machine ------------------------------------------------------------------------------------------


def attempt(actor: str, roles: set[str] | frozenset[str], signers: dict[str, str] | None = None, *, round: int = 1,
            item: str = "2026-000042", reason: str | None = None, ground: str | None = None,
            decision: str | None = None) -> Attempt:
    return Attempt(case=f"item {item}", actor=actor, roles=frozenset(roles), round=round, round_signers=signers or {},
                   reason=reason, ground=ground, decision=decision)


SUBMITTED = {"submit": "zhang_drafter"}
PROOFREAD = {"submit": "zhang_drafter", "proofread": "li_proof"}
CHECKED = {"submit": "zhang_drafter", "proofread": "li_proof", "clear": "wang_sec", "check": "zhao_lead"}
APPROVED = {**CHECKED, "approve": "qian_head"}


def test_fire_walks_the_default_path(m: PipelineMachine) -> None:
    steps = [
        ("draft", "submit", attempt("zhang_drafter", {"drafter"}), "confidentiality_review"),
        ("confidentiality_review", "proofread", attempt("li_proof", {"proofreader"}, SUBMITTED),
         "confidentiality_review"),
        ("confidentiality_review", "clear",
         attempt("wang_sec", {"confidentiality_reviewer"}, PROOFREAD, decision="full"), "leader_check"),
        ("leader_check", "check", attempt("zhao_lead", {"leader"}, {**PROOFREAD, "clear": "wang_sec"}),
         "head_approval"),
        ("head_approval", "approve", attempt("qian_head", {"head"}, CHECKED), "head_approval"),
        ("head_approval", "publish", attempt("zhang_drafter", {"publisher"}, APPROVED), "published"),
        ("published", "retract", attempt("qian_head", {"head"}, APPROVED, reason="发现错误"), "retracted"),
    ]
    for state, action_id, att, expected in steps:
        action, new_state = m.fire(state, action_id, att)
        assert action.id == action_id
        assert action.source == state
        assert new_state == expected


def test_fire_withhold_and_returns(m: PipelineMachine) -> None:
    action, state = m.fire("confidentiality_review", "withhold",
                           attempt("wang_sec", {"confidentiality_reviewer"}, SUBMITTED, ground="art15", reason="隐私"))
    assert (action.id, state) == ("withhold", "withheld")
    action, state = m.fire("confidentiality_review", "clear",
                           attempt("wang_sec", {"confidentiality_reviewer"}, PROOFREAD, decision="partial",
                                   reason="部分涉及个人信息"))
    assert (action.id, state, action.to) == ("clear", "leader_check", "leader_check")
    for source, role in (("confidentiality_review", "confidentiality_reviewer"), ("leader_check", "leader"),
                         ("head_approval", "head")):
        action, state = m.fire(source, "return", attempt("sun", {role}, CHECKED, reason="材料不全"))
        assert (action.id, action.source, action.new_round, state) == ("return", source, True, "draft")


def test_allowed(m: PipelineMachine) -> None:
    everyone = frozenset(ROLES)

    def ids(state: str, att: Attempt) -> list[str]:
        return [a.id for a in m.allowed(state, att)]

    assert ids("draft", attempt("zhang", {"drafter"})) == ["submit"]
    assert ids("draft", attempt("li", {"proofreader"})) == []
    # allowed ignores inputs: clear and withhold without decision/ground/reason
    assert ids("confidentiality_review", attempt("wang_sec", {"confidentiality_reviewer"}, PROOFREAD)) == [
        "clear", "withhold", "override", "return"]
    # clear needs proofread first
    assert ids("confidentiality_review", attempt("wang_sec", {"confidentiality_reviewer"}, SUBMITTED)) == [
        "withhold", "override", "return"]
    # the drafter, holding every role, may proofread nothing, clear nothing, but may withhold and return
    assert ids("confidentiality_review", attempt("zhang_drafter", everyone, SUBMITTED)) == ["withhold", "override",
                                                                                            "return"]
    # someone else holding every role may proofread (not yet signed) but not clear (prerequisite)
    assert ids("confidentiality_review", attempt("multi", everyone, SUBMITTED)) == ["proofread", "withhold",
                                                                                    "override", "return"]
    # approve once per round; publish needs approve
    assert ids("head_approval", attempt("qian_head", {"head"}, CHECKED)) == ["approve", "return"]
    assert ids("head_approval", attempt("qian_head", {"head"}, APPROVED)) == ["return"]
    assert ids("head_approval", attempt("pub", {"publisher"}, CHECKED)) == []
    assert ids("head_approval", attempt("pub", {"publisher"}, APPROVED)) == ["publish"]
    assert ids("published", attempt("qian_head", {"head"}, APPROVED)) == ["retract", "abolish"]
    assert ids("withheld", attempt("multi", everyone)) == ["confirm", "reopen"]
    assert ids("withheld", attempt("wang_sec", {"confidentiality_reviewer"})) == ["confirm", "reopen"]
    assert ids("withheld", attempt("qian_head", {"head"})) == []
    assert ids("retracted", attempt("multi", everyone)) == []


def test_check_accepts_and_refuses_directly(m: PipelineMachine, p: Pipeline) -> None:
    clear = p.action("confidentiality_review", "clear")
    assert clear is not None
    m.check(clear, attempt("wang_sec", {"confidentiality_reviewer"}, PROOFREAD, decision="full"))
    m.check(clear, attempt("wang_sec", {"confidentiality_reviewer"}, PROOFREAD), inputs=False)
    with pytest.raises(InputMissing):
        m.check(clear, attempt("wang_sec", {"confidentiality_reviewer"}, PROOFREAD))
    with pytest.raises(PrerequisiteMissing):
        m.check(clear, attempt("wang_sec", {"confidentiality_reviewer"}, SUBMITTED), inputs=False)


# Every refusal: (state, action, attempt, class, words the message must contain besides item/person/state).
# The actor's id is unique to each attempt so that naming "the person" means naming the one who tried.
REFUSALS = {
    "not-available": ("draft", "clear", attempt("wu_attempts", ALL_ROLES), ActionNotAvailable,
                      ["'clear'", "submit"]),
    "not-available-terminal": ("retracted", "return", attempt("wu_attempts", ALL_ROLES, reason="x"),
                               ActionNotAvailable, ["'return'"]),
    "unknown-action": ("draft", "sign", attempt("wu_attempts", ALL_ROLES), ActionNotAvailable, ["'sign'"]),
    "role": ("leader_check", "check", attempt("wu_attempts", {"head", "publisher"}, CHECKED), RoleMissing,
             ["leader", "check"]),
    "prerequisite-clear": ("confidentiality_review", "clear",
                           attempt("wu_attempts", {"confidentiality_reviewer"}, SUBMITTED, decision="full"),
                           PrerequisiteMissing, ["clear", "proofread"]),
    "prerequisite-publish": ("head_approval", "publish", attempt("wu_attempts", {"publisher"}, CHECKED),
                             PrerequisiteMissing, ["publish", "approve"]),
    "already-proofread": ("confidentiality_review", "proofread", attempt("wu_attempts", {"proofreader"}, PROOFREAD),
                          AlreadySigned, ["proofread", "li_proof"]),
    "already-approved": ("head_approval", "approve", attempt("wu_attempts", {"head"}, APPROVED), AlreadySigned,
                         ["approve", "qian_head"]),
    "separation": ("confidentiality_review", "proofread",
                   attempt("wu_attempts", {"proofreader"}, {"submit": "wu_attempts"}), SeparationOfDuties,
                   ["submit", "proofread"]),
    "separation-check": ("leader_check", "check",
                         attempt("wu_attempts", {"leader"}, {"submit": "z", "proofread": "wu_attempts", "clear": "w"}),
                         SeparationOfDuties, ["proofread", "check"]),
    "decision-missing": ("confidentiality_review", "clear",
                         attempt("wu_attempts", {"confidentiality_reviewer"}, PROOFREAD), InputMissing,
                         ["decision", "full", "partial"]),
    "decision-bad": ("confidentiality_review", "clear",
                     attempt("wu_attempts", {"confidentiality_reviewer"}, PROOFREAD, decision="most"), InputMissing,
                     ["decision", "full", "partial"]),
    "decision-not-taken": ("leader_check", "check",
                           attempt("wu_attempts", {"leader"}, {**PROOFREAD, "clear": "s"}, decision="full"),
                           InputMissing, ["takes no decision"]),
    "ground-missing": ("confidentiality_review", "withhold",
                       attempt("wu_attempts", {"confidentiality_reviewer"}, SUBMITTED, reason="涉密"), InputMissing,
                       ["legal ground", "art14", "art15", "art16"]),
    "ground-bad": ("confidentiality_review", "withhold",
                   attempt("wu_attempts", {"confidentiality_reviewer"}, SUBMITTED, reason="涉密", ground="art13"),
                   InputMissing, ["legal ground", "art14"]),
    "ground-not-taken": ("confidentiality_review", "clear",
                         attempt("wu_attempts", {"confidentiality_reviewer"}, PROOFREAD, decision="full",
                                 ground="art14"), InputMissing, ["takes no legal ground"]),
    "reason-missing-withhold": ("confidentiality_review", "withhold",
                                attempt("wu_attempts", {"confidentiality_reviewer"}, SUBMITTED, ground="art14"),
                                InputMissing, ["withhold", "needs a reason"]),
    "reason-blank-return": ("leader_check", "return", attempt("wu_attempts", {"leader"}, CHECKED, reason="   "),
                            InputMissing, ["return", "needs a reason"]),
    "reason-missing-retract": ("published", "retract", attempt("wu_attempts", {"head"}, APPROVED),
                               InputMissing, ["retract", "needs a reason"]),
    "reason-for-partial": ("confidentiality_review", "clear",
                           attempt("wu_attempts", {"confidentiality_reviewer"}, PROOFREAD, decision="partial"),
                           InputMissing, ["clear", "needs a reason"]),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusal_class_and_details(m: PipelineMachine, case: str) -> None:
    state, action_id, att, cls, words = REFUSALS[case]
    with pytest.raises(cls) as e:
        m.fire(state, action_id, att)
    assert isinstance(e.value, Refused)
    assert e.value.rule == cls.rule
    for word in words:
        assert word in str(e.value), (word, str(e.value))


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusal_message_is_one_line_naming_item_person_and_state(m: PipelineMachine, case: str) -> None:
    state, action_id, att, cls, _ = REFUSALS[case]
    with pytest.raises(cls) as e:
        m.fire(state, action_id, att)
    message = str(e.value)
    assert "\n" not in message
    assert att.case in message, message
    assert state in message, message
    assert att.actor in message, f"the message does not name who tried ({att.actor}): {message}"


def test_reason_only_required_for_partial(m: PipelineMachine) -> None:
    clerk = {"confidentiality_reviewer"}
    _, state = m.fire("confidentiality_review", "clear", attempt("wang_sec", clerk, PROOFREAD, decision="full"))
    assert state == "leader_check"
    with pytest.raises(InputMissing):
        m.fire("confidentiality_review", "clear", attempt("wang_sec", clerk, PROOFREAD, decision="partial",
                                                          reason=" \t"))
    _, state = m.fire("confidentiality_review", "clear", attempt("wang_sec", clerk, PROOFREAD, decision="partial",
                                                                 reason="第3页涉及个人隐私"))
    assert state == "leader_check"


def test_separation_applies_within_a_round_only(m: PipelineMachine) -> None:
    # round 2: the signers of round 1 are not passed, so the round-1 drafter may proofread
    _, state = m.fire("confidentiality_review", "proofread",
                      attempt("zhang_drafter", {"proofreader"}, {"submit": "li_proof"}, round=2))
    assert state == "confidentiality_review"
    with pytest.raises(SeparationOfDuties) as e:
        m.fire("head_approval", "approve", attempt("wang_sec", {"head"}, {**CHECKED, "clear": "wang_sec"}, round=2))
    assert "round 2" in str(e.value)


def test_publisher_and_returner_are_not_separated(m: PipelineMachine) -> None:
    # the drafter may publish (the plan's clerk does both); return and publish are outside the separation group
    _, state = m.fire("head_approval", "publish", attempt("zhang_drafter", {"publisher"}, APPROVED))
    assert state == "published"
    _, state = m.fire("head_approval", "return", attempt("qian_head", {"head"}, APPROVED, reason="再议"))
    assert state == "draft"


# -- a small township's pipeline ---------------------------------------------------------------------------

TOWNSHIP_TEXT = DEFAULT_TEXT.replace(
    'distinct = ["submit", "proofread", "clear", "check", "approve"]', 'distinct = ["proofread", "clear"]'
).replace('version = "2019.1"', 'version = "2019.1-small"')


def test_township_pipeline_parses(tmp_path: Path, p: Pipeline) -> None:
    path = tmp_path / "township.toml"
    path.write_text(TOWNSHIP_TEXT, encoding="utf-8")
    small = load_pipeline(path)
    assert small.separation == (("proofread", "clear"),)
    assert small.version == "2019.1-small"
    assert small.full_version.startswith("2019.1-small+")
    assert small.fingerprint != p.fingerprint
    assert small.actions == p.actions
    assert small.distinct_from("check") == set()
    assert small.distinct_from("clear") == {"proofread"}


def test_township_pipeline_allows_what_the_default_forbids(m: PipelineMachine) -> None:
    small = PipelineMachine(parse_pipeline(TOWNSHIP_TEXT, "township.toml"))
    # one person drafts, proofreads, checks and approves; only clear must be someone else
    cases = [
        ("confidentiality_review", "proofread", attempt("chen", {"proofreader"}, {"submit": "chen"}),
         "confidentiality_review"),
        ("leader_check", "check", attempt("chen", {"leader"}, {"submit": "chen", "proofread": "chen", "clear": "lin"}),
         "head_approval"),
        ("head_approval", "approve",
         attempt("chen", {"head"}, {"submit": "chen", "proofread": "chen", "clear": "lin", "check": "chen"}),
         "head_approval"),
    ]
    for state, action_id, att, expected in cases:
        with pytest.raises(SeparationOfDuties):
            m.fire(state, action_id, att)
        assert action_id not in [a.id for a in m.allowed(state, att)]
        _, new_state = small.fire(state, action_id, att)
        assert new_state == expected
        assert action_id in [a.id for a in small.allowed(state, att)]
    # the remaining rule still holds
    with pytest.raises(SeparationOfDuties) as e:
        small.fire("confidentiality_review", "clear",
                   attempt("chen", {"confidentiality_reviewer"}, {"submit": "chen", "proofread": "chen"},
                           decision="full"))
    assert "proofread" in str(e.value)


# -- diagrams ---------------------------------------------------------------------------------------------


def test_mermaid_has_every_state_and_transition(p: Pipeline) -> None:
    text = draw.mermaid(p)
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert "    [*] --> draft" in lines
    for sid, (zh, _) in STATES.items():
        assert f"    {sid} : {sid} {zh}" in lines
    edges = [line for line in lines if "-->" in line and "[*]" not in line]
    assert len(edges) == len(TRANSITIONS)
    actions = {(a.source, a.id): a for a in p.actions}
    for source, action_id, to, role in TRANSITIONS:
        a = actions[(source, action_id)]
        expected = f"    {source} --> {to or source} : {action_id} {a.zh} / {ROLES[role][0]}"
        assert expected in lines, expected


def test_dot_has_every_state_and_transition(p: Pipeline) -> None:
    text = draw.dot(p)
    lines = text.splitlines()
    assert lines[0] == 'digraph "zwgk-default" {'
    assert lines[-1] == "}"
    for sid, (zh, _) in STATES.items():
        assert f'    {sid} [label="{sid}\\n{zh}"];' in lines
    edges = [line for line in lines if "->" in line]
    assert len(edges) == len(TRANSITIONS)
    actions = {(a.source, a.id): a for a in p.actions}
    for source, action_id, to, role in TRANSITIONS:
        a = actions[(source, action_id)]
        style = ", style=dashed" if to is None else ""
        expected = f'    {source} -> {to or source} [label="{action_id} {a.zh} / {ROLES[role][0]}"{style}];'
        assert expected in lines, expected


def test_diagrams_follow_the_pipeline_file() -> None:
    small = parse_pipeline(mini())
    assert "    b --> a : refuse 拒绝 / 角色" in draw.mermaid(small).splitlines()
    assert '    b -> b [label="stamp 盖章 / 角色", style=dashed];' in draw.dot(small).splitlines()
    assert draw.dot(small).startswith('digraph "mini" {')


def test_unknown_top_level_key(tmp_path: Path) -> None:
    """A misspelt key (`seperation`) was dropped without a word: the file seemed to say what it did not."""
    message, line = error_of(mini({4: "seperation = []"}), tmp_path)
    assert line == 4
    assert "unknown key 'seperation' (one of: action, grounds, initial, kind, name, role, separation, state, " \
           "version)" in message


def test_unknown_key_in_a_state(tmp_path: Path) -> None:
    message, line = error_of(mini({12: "final = true"}), tmp_path)
    assert line == 12
    assert "state #2: unknown key 'final'" in message


def test_terminal_must_be_true_or_false(tmp_path: Path) -> None:
    message, line = error_of(mini({14: 'terminal = "no"'}), tmp_path)
    assert line == 14
    assert "state 'b': 'terminal' must be true or false" in message
