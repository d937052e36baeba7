"""The `zwgk` admin script: every command's happy path (human and --json), bad input to every command,
tamper detection by `verify`, and a few real runs of the installed console script.

Most tests call `scripts.zwgk.main([...])` in-process (it returns the exit code) and read stdout/stderr
with capsys. The contract checked throughout: exit 0 done, 1 a failed check (verify), 2 bad input or a
refused action; an error is exactly one line on stderr starting with `zwgk: `, nothing on stdout, and
nothing written to the database.

The databases here are simulations (`seed`, `zwgk init --simulation`), the only kind a clock set by ZWGK_NOW
may write to; units and people are added by the register's admin (`--as admin`).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scripts.zwgk import build_parser
from scripts.zwgk import main as zwgk_main
from states import KINDS, default_pipeline
from tests.cli_helpers import SIMULATION, isolate, ok, ok_json, one_error_line, run, snapshot, url_of, world_copy
from tests.conftest import ADMIN, PEOPLE, new_info, publish, seed, to_head_approval
from workflow import Workflow
from workflow.clock import fixed

NOW = "2026-10-09T09:00:00+08:00"
NOW_UTC = datetime(2026, 10, 9, 1, 0, tzinfo=UTC)
BUILT = NOW_UTC - timedelta(days=1)  # when the world template was built: before every clock its tests set
ZWGK = Path(sys.executable).with_name("zwgk")
DEFAULT_TOML = Path(__file__).resolve().parents[1] / "states" / "item.toml"
REGISTER = "_register"
ADMIN_NAME = "党政办登记管理员"

FINGERPRINT = default_pipeline().fingerprint  # the pipeline every signature here records (the built-in one)

SIGNATURE_KEYS = {"chain", "seq", "register_seq", "case_kind", "case_id", "item_id", "round", "action",
                  "from_state", "to_state", "to_state_zh", "actor", "role", "recorded_by", "paper_sha256", "operator",
                  "at", "comment", "reason", "ground", "decision", "pipeline", "content_hash", "data", "prev_hash",
                  "hash"}
ITEM_KEYS = {"id", "title", "unit", "category", "timing", "kind", "interprets", "tags", "formed_on", "drafter",
             "state", "state_zh", "round", "version", "created_at", "updated_at", "interpreted_by", "schedule",
             "period", "attachments", "doc_type", "statistics", "interpreter", "redactions"}
NEXT_KEYS = {"action", "zh", "role", "to", "people"}
PERSON_KEYS = {"id", "name", "unit", "roles", "email", "phone", "active", "admin"}
SIGNATURE_LINE = re.compile(r"[a-z0-9][a-z0-9_.-]*#\d+ +\d{4}-")  # CHAIN#SEQ, then the time
VERIFY_KEYS = {"ok", "events", "chains", "cases", "problems", "digest", "sealed", "since", "simulation"}

# After `seed`: the register holds its opening, the unit gov and the 7 people; gov's chain its opening, the
# adoption of the built-in pipeline and the 13 roles granted there. The first item created in gov is its 16th event.
SEEDED_REGISTER = 2 + len(PEOPLE)
SEEDED_GOV = 1 + len(KINDS) + sum(len(roles) for roles in PEOPLE.values())

# Commands that open the database, each with otherwise valid arguments.
DB_COMMANDS: list[list[str]] = [
    ["unit", "list"],
    ["unit", "add", "u2", "--name", "站所", "--as", ADMIN],
    ["unit", "close", "gov", "--as", ADMIN],
    ["person", "list"],
    ["person", "add", "p2", "--name", "某人", "--unit", "gov", "--role", "drafter", "--as", ADMIN],
    ["person", "deactivate", "clerk", "--as", ADMIN],
    ["person", "reactivate", "clerk", "--as", ADMIN],
    ["grant", "clerk", "head", "--unit", "gov", "--as", ADMIN],
    ["revoke", "clerk", "drafter", "--unit", "gov", "--as", ADMIN],
    ["item", "list"],
    ["item", "show", "d1"],
    ["item", "new", "--title", "标题", "--unit", "gov", "--category", "3.4", "--timing", "periodic",
     "--kind", "info", "--as", "clerk"],
    ["item", "edit", "d1", "--title", "新标题", "--as", "clerk"],
    ["advance", "d1", "submit", "--as", "clerk"],
    ["history", "d1"],
    ["pipeline", "show", "--unit", "gov"],
    ["pipeline", "adopt", str(DEFAULT_TOML), "--unit", "gov", "--as", ADMIN],
    ["verify"],
    ["digest"],
]


# -- helpers ----------------------------------------------------------------------------------------------


def refused(capsys: pytest.CaptureFixture[str], db: Path | str, *argv: str, code: int = 2) -> str:
    """Run a command that must fail: exit `code`, one line on stderr, nothing on stdout, nothing written."""
    before = snapshot(db)
    rc, out, err = run(capsys, *argv)
    assert rc == code, (rc, out, err)
    assert out == "", f"a failed command printed to stdout: {out!r}"
    message = one_error_line(err)
    assert snapshot(db) == before, "a refused command changed the database"
    return message


def item_new(*extra: str, **over: str | None) -> list[str]:
    opts: dict[str, str | None] = {"--title": "2026年第三季度财务收支", "--unit": "gov", "--category": "3.4",
                                   "--timing": "periodic", "--kind": "info", "--as": "clerk"}
    opts.update({f"--{k.replace('_', '-')}": v for k, v in over.items()})
    argv = ["item", "new"]
    for k, v in opts.items():
        if v is not None:
            argv += [k, v]
    return argv + list(extra)


def role_args(roles: Sequence[str]) -> list[str]:
    return [arg for r in roles for arg in ("--role", r)]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ZWGK_") or k == "ZWGK_LANG"}


def zwgk(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ZWGK), *argv], capture_output=True, text=True, env=env or clean_env(), cwd=cwd,
                          timeout=120)


def tamper(path: Path, chain: str, seq: int, **values: str) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute("DROP TRIGGER zwgk_event_no_update")
        sets = ", ".join(f"{k} = ?" for k in values)
        con.execute(f"UPDATE zwgk_event SET {sets} WHERE chain = ? AND seq = ?", [*values.values(), chain, seq])
        con.commit()
    finally:
        con.close()


def register_event(url: str, seq: int) -> dict[str, object]:
    """An event of the register (a seal, say), as the API reads it."""
    with Workflow(url) as wf:
        return dict(wf.event(REGISTER, seq).data)


# -- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded database with items in several states (built once, copied per test), on a clock that ticks a
    second a reading from BUILT.

    d1 draft; r1 in confidentiality_review, submitted by clerk and proofread by multi; q1 submitted only;
    h1 at head_approval (not yet approved); pol a published policy. All in unit gov.
    """
    path = tmp_path_factory.mktemp("template") / "zwgk.db"
    ticks = itertools.count()
    with Workflow(url_of(path), clock=lambda: BUILT + timedelta(seconds=next(ticks))) as wf:
        seed(wf)
        new_info(wf, id="d1")
        new_info(wf, id="r1")
        wf.advance("r1", "submit", actor="clerk")
        wf.advance("r1", "proofread", actor="multi")
        new_info(wf, id="q1")
        wf.advance("q1", "submit", actor="clerk")
        new_info(wf, id="h1")
        to_head_approval(wf, "h1")
        new_info(wf, id="pol", kind="policy", category="1.1", timing="long_term", title="村庄建设管理办法")
        publish(wf, "pol")
    assert not path.with_name("zwgk.db-wal").exists()  # checkpointed: the file alone is the database
    return path


@pytest.fixture
def world(world_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return world_copy(world_template, tmp_path, monkeypatch)


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A simulation database with the plan's people and a fixed clock, via ZWGK_DATABASE_URL and ZWGK_NOW."""
    path = tmp_path / "fresh.db"
    with Workflow(url_of(path), clock=fixed(NOW_UTC)) as wf:
        seed(wf)
    monkeypatch.setenv("ZWGK_DATABASE_URL", url_of(path))
    monkeypatch.setenv("ZWGK_NOW", NOW)
    return path


# -- happy paths --------------------------------------------------------------------------------------------


def test_init_creates_the_database_and_is_idempotent(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    url = url_of(path)
    out = ok(capsys, "--db", url, "init")
    assert out == f"database {url} is ready\n"
    assert path.exists()
    out = ok(capsys, "--db", url, "init", "--admin", ADMIN, "--name", ADMIN_NAME)
    assert out == f"database {url} is ready; register started by admin {ADMIN}\n"
    ok(capsys, "--db", url, "unit", "add", "gov", "--name", "平田乡人民政府", "--as", ADMIN)
    ok(capsys, "--db", url, "person", "add", "clerk", "--name", "经办员", "--unit", "gov", "--role", "drafter",
       "--as", ADMIN)
    ok(capsys, "--db", url, *item_new())
    digest = ok(capsys, "--db", url, "digest")  # seals the chains' heads in the register
    before = snapshot(path)
    assert ok_json(capsys, "--db", url, "init") == {"database": url, "ready": True, "admin": None,
                                                    "simulation": False}
    assert ok(capsys, "init", "--db", url) == f"database {url} is ready\n"
    assert snapshot(path) == before
    assert ok(capsys, "--db", url, "digest") == digest  # nothing new to seal: no new seal
    assert snapshot(path) == before
    assert ok_json(capsys, "--db", url, "verify")["ok"] is True
    # The register is started once.
    message = refused(capsys, path, "--db", url, "init", "--admin", "other", "--name", "又一个")
    assert message == "the register is started already; its first admin is in its first event"


def test_init_uses_the_default_database_in_the_working_directory(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    ok(capsys, "init")
    assert (tmp_path / "zwgk.db").exists()
    message = refused(capsys, tmp_path / "zwgk.db", "digest")
    assert message == "the register is not started; run `zwgk init --admin ID --name NAME`"
    started = ok_json(capsys, "init", "--admin", ADMIN, "--name", ADMIN_NAME, "--simulation")
    assert started == {"database": "sqlite:///zwgk.db", "ready": True, "admin": ADMIN, "simulation": True}
    d = ok_json(capsys, "digest")
    assert d["seq"] == 2  # the register's opening, then the seal (of no unit's chain yet)
    assert d == {"seq": 2, "hash": d["hash"], "digest": f"2:{d['hash']}"} and len(d["hash"]) == 64
    assert register_event("sqlite:///zwgk.db", 2) == {"chains": []}


def test_init_refuses_half_an_admin_and_a_hand_set_clock_outside_a_simulation(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "zwgk.db"
    ok(capsys, "init")
    for argv, fragment in ((["init", "--admin", ADMIN], "give both --admin ID and --name NAME"),
                           (["init", "--name", ADMIN_NAME], "give both --admin ID and --name NAME"),
                           (["init", "--admin", "a b", "--name", ADMIN_NAME], "person id 'a b'"),
                           (["init", "--admin", ADMIN, "--name", " "], "admin name must not be empty")):
        assert fragment in refused(capsys, path, *argv)
    monkeypatch.setenv("ZWGK_NOW", NOW)
    message = refused(capsys, path, "init", "--admin", ADMIN, "--name", ADMIN_NAME)
    assert "zwgk init --simulation" in message, message
    assert ok_json(capsys, "init", "--admin", ADMIN, "--name", ADMIN_NAME, "--simulation")["simulation"] is True


def test_zwgk_now_writes_only_to_a_simulation(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock set by hand may read any database, but writes only to one started with --simulation."""
    path = tmp_path / "zwgk.db"
    ok(capsys, "init", "--admin", ADMIN, "--name", ADMIN_NAME)
    ok(capsys, "unit", "add", "gov", "--name", "平田乡人民政府", "--as", ADMIN)
    ok(capsys, "person", "add", "clerk", "--name", "经办员", "--unit", "gov", "--role", "drafter", "--as", ADMIN)
    item_id = ok_json(capsys, *item_new())["id"]
    monkeypatch.setenv("ZWGK_NOW", "2099-01-01T00:00:00+08:00")
    for argv in (["unit", "add", "u2", "--name", "站所", "--as", ADMIN], item_new(),
                 ["advance", item_id, "submit", "--as", "clerk"], ["digest"]):
        assert "is not a simulation" in refused(capsys, path, *argv), argv
    assert [i["id"] for i in ok_json(capsys, "item", "list")] == [item_id]
    assert ok_json(capsys, "verify")["ok"] is True


def test_unit_add_and_list(capsys: pytest.CaptureFixture[str], fresh: Path) -> None:
    assert ok(capsys, "unit", "add", "finance", "--name", "平田乡财政所", "--kind", "station", "--as", ADMIN) == \
        "unit finance added, with its chain\n"
    assert ok_json(capsys, "unit", "add", "village1", "--name", "平田村委会", "--kind", "village", "--as", ADMIN) == {
        "id": "village1", "name": "平田村委会", "kind": "village", "open": True}
    assert ok(capsys, "unit", "add", "office", "--name", "党政办", "--kind", "office", "--as", ADMIN) == \
        "unit office added, with its chain\n"
    units = ok_json(capsys, "unit", "list")
    assert units == [
        {"id": "finance", "name": "平田乡财政所", "kind": "station", "open": True},
        {"id": "gov", "name": "平田乡人民政府", "kind": "government", "open": True},
        {"id": "office", "name": "党政办", "kind": "office", "open": True},
        {"id": "village1", "name": "平田村委会", "kind": "village", "open": True},
    ]
    lines = ok(capsys, "unit", "list").splitlines()
    assert [line.split()[:2] for line in lines] == [["finance", "station"], ["gov", "government"],
                                                   ["office", "office"], ["village1", "village"]]
    assert lines[1].endswith("平田乡人民政府")
    # Each unit has its own chain, which adopted the built-in pipeline.
    assert ok_json(capsys, "pipeline", "show", "--unit", "finance")["fingerprint"] == FINGERPRINT


def test_unit_close(capsys: pytest.CaptureFixture[str], fresh: Path) -> None:
    ok(capsys, "unit", "add", "finance", "--name", "平田乡财政所", "--kind", "station", "--as", ADMIN)
    ok(capsys, "grant", "clerk", "drafter", "--unit", "finance", "--as", ADMIN)
    assert ok_json(capsys, *item_new(unit="finance"))["id"] == "finance-2026-000001"
    assert ok(capsys, "unit", "close", "finance", "--as", ADMIN) == "unit finance closed\n"
    assert ok_json(capsys, "unit", "list")[0] == {"id": "finance", "name": "平田乡财政所", "kind": "station",
                                                   "open": False}
    assert ok(capsys, "unit", "list").splitlines()[0].endswith("平田乡财政所  (closed)")
    assert "unit finance is closed" in refused(capsys, fresh, *item_new(unit="finance"))
    assert "unit finance is closed" in refused(capsys, fresh, "grant", "proof", "proofreader", "--unit", "finance",
                                               "--as", ADMIN)
    assert "there is no open unit finance" in refused(capsys, fresh, "unit", "close", "finance", "--as", ADMIN)
    assert ok_json(capsys, "verify")["ok"] is True


def test_person_add_and_list(capsys: pytest.CaptureFixture[str], fresh: Path) -> None:
    out = ok(capsys, "person", "add", "zhang", "--name", "张三", "--unit", "gov", "--role", "leader",
             "--role", "head", "--as", ADMIN)
    assert out.startswith("person zhang added with roles ") and out.count("\n") == 1
    assert out.endswith(" in gov\n")
    assert sorted(out.strip().removesuffix(" in gov").split("roles ", 1)[1].split(", ")) == ["head", "leader"]
    p = ok_json(capsys, "person", "add", "li", "--name", "李四", "--unit", "gov", "--role", "publisher",
                "--email", "li@example.org", "--phone", "13907901234", "--as", ADMIN)
    assert p == {"id": "li", "name": "李四", "unit": "gov", "roles": {"gov": ["publisher"]}, "email": "li@example.org",
                 "phone": "13907901234", "active": True, "admin": False}
    # Roles are granted separately now: a person may be added without any, and without a unit.
    assert ok(capsys, "person", "add", "wang", "--name", "王五", "--as", ADMIN) == "person wang added\n"
    people = {p["id"]: p for p in ok_json(capsys, "person", "list")}
    assert set(people) == set(PEOPLE) | {ADMIN, "zhang", "li", "wang"}
    assert sorted(people["zhang"]["roles"]["gov"]) == ["head", "leader"]
    assert all(set(p) == PERSON_KEYS for p in people.values())
    assert (people[ADMIN]["admin"], people[ADMIN]["roles"]) == (True, {})
    assert (people["wang"]["unit"], people["wang"]["roles"]) == (None, {})
    line = next(x for x in ok(capsys, "person", "list").splitlines() if x.startswith("zhang"))
    assert "张三" in line and "gov" in line and "head, leader" in line
    assert next(x for x in ok(capsys, "person", "list").splitlines() if x.startswith(ADMIN)).endswith("  admin")


def test_person_add_names_each_role_once(capsys: pytest.CaptureFixture[str], fresh: Path) -> None:
    out = ok(capsys, "person", "add", "zhang", "--name", "张三", "--unit", "gov", "--role", "leader",
             "--role", "head", "--role", "leader", "--as", ADMIN)
    assert sorted(out.strip().removesuffix(" in gov").split("roles ", 1)[1].split(", ")) == ["head", "leader"]


def test_person_deactivate_and_reactivate(capsys: pytest.CaptureFixture[str], fresh: Path) -> None:
    item_id = ok_json(capsys, *item_new())["id"]
    assert ok(capsys, "person", "deactivate", "proof", "--as", ADMIN) == "person proof deactivated\n"
    assert ok_json(capsys, "person", "list")[-2] == {
        "id": "proof", "name": "proof", "unit": "gov", "roles": {"gov": ["proofreader"]}, "email": None,
        "phone": None, "active": False, "admin": False}
    assert next(x for x in ok(capsys, "person", "list").splitlines() if x.startswith("proof")).endswith(
        "  (inactive)")
    ok(capsys, "advance", item_id, "submit", "--as", "clerk")
    nxt = {n["action"]: n["people"] for n in ok_json(capsys, "item", "show", item_id)["next"]}
    assert nxt["proofread"] == ["multi"]  # proof may no longer sign
    assert "proof is not an active person of the register" in refused(capsys, fresh, "advance", item_id,
                                                                      "proofread", "--as", "proof")
    assert ok_json(capsys, "person", "reactivate", "proof", "--as", ADMIN) == {"id": "proof", "active": True}
    assert ok_json(capsys, "advance", item_id, "proofread", "--as", "proof")["actor"] == "proof"
    assert ok_json(capsys, "verify")["ok"] is True


def test_grant_and_revoke(capsys: pytest.CaptureFixture[str], fresh: Path) -> None:
    assert ok(capsys, "grant", "drafter2", "publisher", "--unit", "gov", "--as", ADMIN) == \
        "role publisher in gov granted to drafter2\n"
    assert ok_json(capsys, "revoke", "drafter2", "drafter", "--unit", "gov", "--as", ADMIN) == {
        "person": "drafter2", "role": "drafter", "unit": "gov", "held": False}
    people = {p["id"]: p for p in ok_json(capsys, "person", "list")}
    assert people["drafter2"]["roles"] == {"gov": ["publisher"]}
    assert "drafter2 does not hold the role drafter" in refused(capsys, fresh, *item_new(**{"as": "drafter2"}))
    # admin is granted in the register (no --unit); the new admin may then add people.
    assert ok(capsys, "grant", "head", "admin", "--as", ADMIN) == "role admin in the register granted to head\n"
    assert ok_json(capsys, "person", "list")[3]["admin"] is True
    ok(capsys, "person", "add", "zhao", "--name", "赵六", "--as", "head")
    assert ok_json(capsys, "revoke", "head", "admin", "--as", ADMIN) == {
        "person": "head", "role": "admin", "unit": None, "held": False}
    assert "does not hold the role admin" in refused(capsys, fresh, "person", "add", "qian", "--name", "钱七",
                                                     "--as", "head")
    assert ok_json(capsys, "verify")["ok"] is True


def test_item_new_prints_the_id_or_stable_json(capsys: pytest.CaptureFixture[str], fresh: Path) -> None:
    out = ok(capsys, *item_new())
    assert out == "gov-2026-000001\n"  # the unit, the year of ZWGK_NOW, then the unit's number in that year
    obj = ok_json(capsys, *item_new("--tag", "result", "--tag", "service", "--formed-on", "2026-10-01",
                                    "--body", "收入……", id="fin-q3"))
    assert obj == {"id": "fin-q3", "state": "draft", "version": 1}
    shown = ok_json(capsys, "item", "show", "fin-q3")
    assert shown["tags"] == ["result", "service"]
    assert shown["formed_on"] == "2026-10-01"
    assert shown["body"] == "收入……"
    assert shown["drafter"] == "clerk"
    assert datetime.fromisoformat(shown["created_at"]) == NOW_UTC


def test_item_new_reads_the_body_file(capsys: pytest.CaptureFixture[str], fresh: Path, tmp_path: Path) -> None:
    body = "第一条  为规范村庄建设……\n第二条  本办法适用于全乡各村。\n"
    f = tmp_path / "body.txt"
    f.write_text(body, encoding="utf-8")
    item_id = ok_json(capsys, *item_new("--body-file", str(f)))["id"]
    assert ok_json(capsys, "item", "show", item_id)["body"] == body


def test_item_show_human_says_what_can_happen_next_and_who(capsys: pytest.CaptureFixture[str],
                                                            world: Path) -> None:
    lines = ok(capsys, "item", "show", "r1").splitlines()
    assert lines[0] == "r1  2026年第三季度财务收支"
    assert lines[1].split() == ["state", "confidentiality_review", "(保密审查)", "(round", "1,", "version", "3)"]
    assert "category 3.4" in lines[2] and "timing periodic" in lines[2] and "kind info" in lines[2]
    assert lines[3].split()[:2] == ["drafter", "clerk"]
    nxt = [line.split(None, 1)[1] for line in lines if line.startswith("  next")]
    # multi proofread this round, so separation of duties leaves only sec for clear; proofread is done.
    assert nxt == [
        "proofread (校对) -> confidentiality_review (保密审查) by proofreader: nobody may sign it now",
        "clear (审核) -> leader_check (分管领导把关) by confidentiality_reviewer: sec",
        "withhold (不予公开) -> withheld (不予公开) by confidentiality_reviewer: multi, sec",
        "override (确认公开) -> confidentiality_review (保密审查) by confidentiality_reviewer: multi, sec",
        "return (退回) -> draft (草稿) by confidentiality_reviewer: multi, sec",
    ]
    draft = ok(capsys, "item", "show", "d1")
    assert "  state     draft (草稿)  (round 1, version 1)" in draft.splitlines()
    assert "submit (经办) -> confidentiality_review (保密审查) by drafter: clerk\n" in draft  # the draft's own


def test_item_show_json(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    obj = ok_json(capsys, "item", "show", "r1")
    assert ITEM_KEYS | {"body", "next", "screen"} <= set(obj)
    assert obj["id"] == "r1" and obj["title"] == "2026年第三季度财务收支" and obj["body"] == "收入……"
    assert (obj["state"], obj["state_zh"], obj["round"], obj["version"]) == ("confidentiality_review", "保密审查", 1, 3)
    assert obj["interprets"] is None and obj["interpreted_by"] == []
    assert all(set(n) == NEXT_KEYS for n in obj["next"])
    assert [(n["action"], n["zh"], n["role"], n["to"], n["people"]) for n in obj["next"]] == [
        ("proofread", "校对", "proofreader", "confidentiality_review", []),
        ("clear", "审核", "confidentiality_reviewer", "leader_check", ["sec"]),
        ("withhold", "不予公开", "confidentiality_reviewer", "withheld", ["multi", "sec"]),
        ("override", "确认公开", "confidentiality_reviewer", "confidentiality_review", ["multi", "sec"]),
        ("return", "退回", "confidentiality_reviewer", "draft", ["multi", "sec"]),
    ]


def test_item_show_of_a_final_state(capsys: pytest.CaptureFixture[str], fresh: Path) -> None:
    ok(capsys, *item_new(id="m1"))
    ok(capsys, "advance", "m1", "submit", "--as", "clerk")
    ok(capsys, "advance", "m1", "withhold", "--as", "sec", "--ground", "art16", "--reason", "过程性信息")
    obj = ok_json(capsys, "item", "show", "m1")  # withheld waits for its review (Art. 18)
    assert (obj["state"], obj["state_zh"]) == ("withheld", "不予公开")
    assert [(n["action"], n["to"], n["people"]) for n in obj["next"]] == [("confirm", "withheld", ["multi", "sec"]),
                                                                          ("reopen", "draft", ["multi", "sec"])]
    ok(capsys, "advance", "m1", "reopen", "--as", "sec", "--decision", "changed", "--reason", "已办结")
    for action, who, *extra in (("submit", "clerk"), ("proofread", "proof"), ("clear", "sec", "--decision", "full"),
                                ("check", "lead"), ("approve", "head"), ("publish", "clerk"),
                                ("retract", "head", "--reason", "有误")):
        ok(capsys, "advance", "m1", action, "--as", who, *extra)
    assert "  next      nothing: this is a final state" in ok(capsys, "item", "show", "m1").splitlines()
    obj = ok_json(capsys, "item", "show", "m1")
    assert (obj["state"], obj["state_zh"], obj["next"]) == ("retracted", "已撤回", [])


def test_interpretation_links_to_its_policy(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    ok(capsys, *item_new(id="jd1", kind="interpretation", interprets="pol", category="1.1", timing="immediate",
                         title="《村庄建设管理办法》政策解读"))
    for action, who, *extra in (("submit", "clerk"), ("proofread", "proof"), ("clear", "sec", "--decision", "full"),
                                ("check", "lead"), ("approve", "head"), ("publish", "clerk")):
        ok(capsys, "advance", "jd1", action, "--as", who, *extra)
    assert ok_json(capsys, "item", "show", "pol")["interpreted_by"] == ["jd1"]
    assert "  interpreted by jd1" in ok(capsys, "item", "show", "pol").splitlines()
    assert ok_json(capsys, "item", "show", "jd1")["interprets"] == "pol"
    assert "  interprets pol" in ok(capsys, "item", "show", "jd1").splitlines()
    published = ok(capsys, "item", "show", "pol")
    assert "retract (撤回) -> retracted (已撤回) by head: head, multi" in published
    ok(capsys, "advance", "pol", "retract", "--as", "head", "--reason", "有误")
    retracted = ok_json(capsys, "item", "show", "pol")
    assert (retracted["state"], retracted["interpreted_by"]) == ("retracted", [])


def test_item_list_human_json_and_state_filter(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    items = ok_json(capsys, "item", "list")
    assert [i["id"] for i in items] == ["d1", "h1", "pol", "q1", "r1"]  # by id
    assert all(set(i) == ITEM_KEYS for i in items)  # the body is only in `item show`
    assert [i["state_zh"] for i in items] == ["草稿", "主要领导同意", "已公开", "保密审查", "保密审查"]
    review = ok_json(capsys, "item", "list", "--state", "confidentiality_review")
    assert [i["id"] for i in review] == ["q1", "r1"]
    assert ok_json(capsys, "item", "list", "--state", "withheld") == []
    lines = ok(capsys, "item", "list", "--state", "confidentiality_review").splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("r1 ") and "confidentiality_review (保密审查)" in lines[1]
    assert lines[1].split()[-2:] == ["r1", "2026年第三季度财务收支"]
    assert ok(capsys, "item", "list", "--state", "withheld") == "none\n"  # not a blank line (a new user, issue 11)


def test_item_list_pages_by_id(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    """`--limit` and `--after` (a keyset: the last id shown) walk the listing page by page (issue 11)."""
    def ids(*argv: str) -> list[str]:
        return [i["id"] for i in ok_json(capsys, "item", "list", *argv)]

    assert ids("--limit", "2") == ["d1", "h1"]
    assert ids("--limit", "2", "--after", "h1") == ["pol", "q1"]
    assert ids("--limit", "2", "--after", "q1") == ["r1"]
    assert ids("--after", "r1") == []
    assert ids("--after", "e") == ["h1", "pol", "q1", "r1"]  # any text: those whose id sorts after it
    assert ids("--state", "confidentiality_review", "--limit", "1", "--after", "d1") == ["q1"]
    lines = ok(capsys, "item", "list", "--limit", "2", "--after", "d1").splitlines()
    assert [line.split()[0] for line in lines] == ["h1", "pol"]


def test_item_list_json_is_one_array_printed_a_line_an_item(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    out = ok(capsys, "item", "list", "--json")
    lines = out.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 2 + 5
    assert [json.loads(line.rstrip(","))["id"] for line in lines[1:-1]] == ["d1", "h1", "pol", "q1", "r1"]
    assert json.loads(out) == ok_json(capsys, "item", "list")
    assert ok(capsys, "item", "list", "--json", "--state", "withheld") == "[]\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["--limit", "0"], "--limit must be at least 1"),
    (["--limit", "-1"], "argument --limit: -1 is out of range"),
    (["--after", "a\x00b"], "after"),
])
def test_item_list_refuses_bad_paging(capsys: pytest.CaptureFixture[str], world: Path, argv: list[str],
                                      message: str) -> None:
    rc, out, err = run(capsys, "item", "list", "--json", *argv)
    assert (rc, out) == (2, "")
    assert message in one_error_line(err)


def test_walk_through_the_pipeline_with_json_signatures(capsys: pytest.CaptureFixture[str], fresh: Path) -> None:
    item_id = ok_json(capsys, *item_new())["id"]
    steps = [("submit", "clerk", []), ("proofread", "proof", ["--comment", "文字已校对"]),
             ("clear", "sec", ["--decision", "partial", "--reason", "个人信息已删除"]), ("check", "lead", []),
             ("approve", "head", []), ("publish", "clerk", [])]
    sigs = []
    for action, who, extra in steps:
        s = ok_json(capsys, "advance", item_id, action, "--as", who, *extra)
        assert set(s) == SIGNATURE_KEYS
        sigs.append(s)
    created = SEEDED_GOV + 1  # the item's creation: gov's 16th event
    assert [(s["chain"], s["seq"]) for s in sigs] == [("gov", created + n) for n in range(1, 7)]
    assert [s["to_state"] for s in sigs] == ["confidentiality_review", "confidentiality_review", "leader_check",
                                            "head_approval", "head_approval", "published"]
    assert [s["to_state_zh"] for s in sigs] == ["保密审查", "保密审查", "分管领导把关", "主要领导同意", "主要领导同意",
                                               "已公开"]
    assert [s["from_state"] for s in sigs][:2] == ["draft", "confidentiality_review"]
    assert [(s["actor"], s["role"]) for s in sigs] == [
        ("clerk", "drafter"), ("proof", "proofreader"), ("sec", "confidentiality_reviewer"), ("lead", "leader"),
        ("head", "head"), ("clerk", "publisher")]
    assert sigs[1]["comment"] == "文字已校对"
    assert (sigs[2]["decision"], sigs[2]["reason"], sigs[2]["ground"]) == ("partial", "个人信息已删除", None)
    for s in sigs:
        assert s["item_id"] == item_id and s["round"] == 1
        assert (s["case_kind"], s["case_id"], s["register_seq"]) == ("item", item_id, SEEDED_REGISTER)
        assert s["pipeline"] == FINGERPRINT and set(s["data"]) <= {"screen"}  # the pre-screen, on its steps
        assert s["operator"]
        at = datetime.fromisoformat(s["at"])
        assert at == NOW_UTC and at.utcoffset() == timedelta(0)  # ZWGK_NOW, stored in UTC
        assert len(s["hash"]) == 64 and len(s["content_hash"]) == 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(sigs))
    history = ok_json(capsys, "history", item_id)
    assert all(set(s) == SIGNATURE_KEYS for s in history)
    assert [s["action"] for s in history] == ["create", "submit", "proofread", "clear", "check", "approve",
                                             "publish"]
    assert history[0]["from_state"] is None and history[0]["to_state"] == "draft"
    assert history[1:] == sigs
    assert history[0]["seq"] == created and sigs[0]["prev_hash"] == history[0]["hash"]
    # The digest is the register's head once a seal in it names gov's last signature.
    d = ok_json(capsys, "digest")
    seal = SEEDED_REGISTER + 1
    assert d == {"seq": seal, "hash": d["hash"], "digest": f"{seal}:{d['hash']}"}
    assert register_event(url_of(fresh), seal) == {"chains": [["gov", created + 6, sigs[-1]["hash"]]]}
    assert ok_json(capsys, "verify") == {"ok": True, "events": seal + created + 6, "chains": 2, "cases": 1,
                                         "problems": [], "digest": d["digest"], "sealed": True, "since": None,
                                         "simulation": True}


def test_names_written_behind_the_engines_back_cannot_forge_rows(capsys: pytest.CaptureFixture[str],
                                                                 fresh: Path) -> None:
    """Red team, issue 11: a person's name with an ANSI escape and a newline printed a fake "head" row. The engine
    refuses such names; one written into the table directly is shown escaped, on its own line."""
    forged = "李四\x1b[2K\rhead             主要领导 gov head\n"
    with sqlite3.connect(fresh) as c:
        c.execute("UPDATE zwgk_person SET name = ? WHERE id = 'clerk'", (forged,))
        c.execute("UPDATE zwgk_unit SET name = ? WHERE id = 'gov'", (forged,))
    people = ok(capsys, "person", "list").splitlines()
    assert len(people) == len(PEOPLE) + 1  # the admin too: no line was added
    line = next(x for x in people if x.startswith("clerk "))
    assert "李四\\x1b[2K\\rhead" in line and "gov head\\n" in line and "\x1b" not in line
    units = ok(capsys, "unit", "list").splitlines()
    assert len(units) == 1 and "\x1b" not in units[0] and "\\n" in units[0]


def test_advance_and_history_human_lines(capsys: pytest.CaptureFixture[str], fresh: Path) -> None:
    ok(capsys, *item_new(id="a1"))
    line = ok(capsys, "advance", "a1", "submit", "--as", "clerk", "--comment", "请审核")
    assert line.count("\n") == 1
    assert line.startswith(f"gov#{SEEDED_GOV + 2} ")
    assert "2026-10-09T09:00:00+08:00" in line  # the office's time (JSON keeps UTC)
    assert "a1  r1  submit" in line
    assert "draft (草稿) -> confidentiality_review (保密审查)  by clerk as drafter comment=请审核" in line
    assert line.rstrip().split()[-2] == "hash"
    ok(capsys, "advance", "a1", "return", "--as", "sec", "--reason", "请补充")
    history = ok(capsys, "history", "a1").splitlines()
    assert len(history) == 3
    assert "- -> draft (草稿)  by clerk as drafter" in history[0]
    assert "  r2  return " in history[2]
    assert "confidentiality_review (保密审查) -> draft (草稿)  by sec as confidentiality_reviewer reason=请补充" \
        in history[2]
    assert ok_json(capsys, "item", "show", "a1")["round"] == 2


def test_item_edit(capsys: pytest.CaptureFixture[str], world: Path, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZWGK_NOW", NOW)
    f = tmp_path / "b.txt"
    f.write_text("新的正文\n", encoding="utf-8")
    s = ok_json(capsys, "item", "edit", "d1", "--as", "clerk", "--title", "新标题", "--body-file", str(f),
                "--tag", "result", "--formed-on", "2026-09-30", "--comment", "改标题")
    assert set(s) == SIGNATURE_KEYS
    assert (s["action"], s["from_state"], s["to_state"], s["actor"], s["role"], s["comment"]) == (
        "edit", "draft", "draft", "clerk", "drafter", "改标题")
    assert datetime.fromisoformat(s["at"]) == NOW_UTC
    shown = ok_json(capsys, "item", "show", "d1")
    assert (shown["title"], shown["body"], shown["tags"], shown["formed_on"], shown["version"]) == (
        "新标题", "新的正文\n", ["result"], "2026-09-30", 2)
    ok(capsys, "advance", "d1", "reassign", "--to", "drafter2", "--as", "clerk")  # only its drafter edits a draft
    line = ok(capsys, "item", "edit", "d1", "--as", "drafter2", "--body", "再改")
    assert "  edit " in line and "draft (草稿) -> draft (草稿)  by drafter2 as drafter" in line
    assert ok_json(capsys, "item", "show", "d1")["body"] == "再改"
    assert ok_json(capsys, "item", "show", "d1")["tags"] == ["result"]  # tags untouched unless --tag is given
    assert ok_json(capsys, "verify")["ok"] is True


def test_paper_sign_off_records_the_file_sha256(capsys: pytest.CaptureFixture[str], world: Path,
                                                tmp_path: Path) -> None:
    scan = tmp_path / "sheet.pdf"
    scan.write_bytes(b"%PDF-1.4 scanned sign-off sheet \x00\xff")
    s = ok_json(capsys, "advance", "h1", "approve", "--as", "head", "--recorded-by", "clerk", "--paper", str(scan))
    assert s["paper_sha256"] == hashlib.sha256(scan.read_bytes()).hexdigest()
    assert (s["actor"], s["recorded_by"]) == ("head", "clerk")
    line = ok(capsys, "history", "h1").splitlines()[-1]
    assert "by head (recorded by clerk) as head" in line
    sha = "ab" * 32
    ok(capsys, *item_new(id="x1"))
    s = ok_json(capsys, "advance", "x1", "submit", "--as", "clerk", "--recorded-by", "multi", "--paper-sha256", sha)
    assert (s["paper_sha256"], s["recorded_by"]) == (sha, "multi")


def test_expect_version(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    s = ok_json(capsys, "advance", "d1", "submit", "--as", "clerk", "--expect-version", "1")
    assert s["to_state"] == "confidentiality_review"


def test_global_options_before_or_after_the_command(capsys: pytest.CaptureFixture[str], world: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    url = url_of(world)
    monkeypatch.delenv("ZWGK_DATABASE_URL")
    expected = ok_json(capsys, "--db", url, "item", "list")
    for argv in (["--json", "--db", url, "item", "list"], ["item", "list", "--json", "--db", url],
                 ["item", "--db", url, "list", "--json"], ["--db", url, "item", "--json", "list"]):
        assert json.loads(ok(capsys, *argv)) == expected, argv
    assert json.loads(ok(capsys, "--json", "history", "r1", "--db", url))[-1]["action"] == "proofread"
    assert ok(capsys, "--db", url, "digest") == ok(capsys, "digest", "--db", url)


def test_database_url_from_the_environment_and_db_option_wins(capsys: pytest.CaptureFixture[str], world: Path,
                                                              fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZWGK_DATABASE_URL", url_of(world))
    assert len(ok_json(capsys, "item", "list")) == 5
    assert ok_json(capsys, "--db", url_of(fresh), "item", "list") == []


def test_zwgk_now_fixes_the_clock(capsys: pytest.CaptureFixture[str], world: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZWGK_NOW", "2027-02-03T04:05:06.789+08:00")
    s = ok_json(capsys, "advance", "d1", "submit", "--as", "clerk")
    at = datetime.fromisoformat(s["at"])
    assert at == datetime(2027, 2, 2, 20, 5, 6, 789000, tzinfo=UTC)
    assert at.utcoffset() == timedelta(0)
    assert ok_json(capsys, "item", "show", "d1")["updated_at"] == s["at"]
    monkeypatch.setenv("ZWGK_NOW", "2027-06-01T00:00:00+00:00")
    assert ok_json(capsys, *item_new())["id"].startswith("gov-2027-")


def test_digest_and_verify(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    d = ok_json(capsys, "digest")
    assert set(d) == {"seq", "hash", "digest"}
    assert ok(capsys, "digest") == d["digest"] + "\n"
    assert d["digest"] == f"{d['seq']}:{d['hash']}"
    gov = ok_json(capsys, "history", "pol")[-1]["seq"]  # pol's publication is gov's last event
    assert register_event(url_of(world), d["seq"])["chains"] == [["gov", gov, ok_json(capsys, "history", "pol")[-1][
        "hash"]]]
    events = d["seq"] + gov
    assert ok(capsys, "verify") == (f"ok: {events} events in 2 chains, 5 cases; hashes, links, times, rules and "
                                    f"tables agree; root digest {d['digest']}\n{SIMULATION}\n")
    assert ok_json(capsys, "verify") == {"ok": True, "events": events, "chains": 2, "cases": 5, "problems": [],
                                         "digest": d["digest"], "sealed": True, "since": None,
                                         "simulation": True}
    ok(capsys, "advance", "d1", "submit", "--as", "clerk")
    assert ok_json(capsys, "verify", "--against", d["digest"])["ok"] is True
    # gov moved since the seal: the register's head is no root digest until `zwgk digest` seals again.
    assert ok(capsys, "verify", "--against", d["digest"]) == (
        f"ok: {events + 1} events in 2 chains, 5 cases; hashes, links, times, rules and tables agree; the register "
        f"is at {d['digest']}; chains moved since its last seal: `zwgk digest` seals them\n{SIMULATION}\n")
    # --since rechecks only what came after the digest: here d1's submission.
    since = ok_json(capsys, "verify", "--since", d["digest"])
    assert since == {"ok": True, "events": 1, "chains": 2, "cases": since["cases"], "problems": [],
                     "digest": d["digest"], "sealed": False, "since": d["digest"], "simulation": True}
    lines = ok(capsys, "verify", "--since", d["digest"]).splitlines()
    assert lines[0].startswith("ok: 1 events in 2 chains")
    assert lines[1].startswith(f"rechecked only what follows {d['digest']}")
    d2 = ok_json(capsys, "digest")
    assert d2["seq"] == d["seq"] + 1  # a new seal, for gov's new head
    assert ok_json(capsys, "verify", "--against", d2["digest"], "--since", d["digest"])["ok"] is True


def test_pipeline_show_and_diagram_need_no_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    human = ok(capsys, "pipeline", "show")
    assert human.startswith("pipeline zwgk-default version 2019.1+")
    assert "confidentiality_review (保密审查)" in human and "separation of duties: submit, proofread" in human
    obj = ok_json(capsys, "pipeline", "show")
    assert set(obj) == {"kind", "name", "version", "fingerprint", "initial", "actions", "separation"}
    assert (obj["kind"], obj["name"], obj["initial"], obj["fingerprint"]) == ("item", "zwgk-default", "draft",
                                                                              FINGERPRINT)
    assert obj["separation"] == [["submit", "proofread", "clear", "check", "approve"]]
    clear = next(a for a in obj["actions"] if a["action"] == "clear")
    assert clear == {"from": "confidentiality_review", "action": "clear", "zh": "审核",
                     "role": "confidentiality_reviewer", "to": "leader_check", "requires": ["proofread"],
                     "reason": True, "grounds": [], "decisions": ["full", "partial"], "new_round": False}
    mermaid = ok(capsys, "pipeline", "diagram")
    assert mermaid.startswith("stateDiagram-v2\n") and "[*] --> draft" in mermaid
    assert ok(capsys, "pipeline", "diagram", "--format", "mermaid") == mermaid
    dot = ok(capsys, "pipeline", "diagram", "--format", "dot")
    assert dot.startswith('digraph "zwgk-default" {') and "draft -> confidentiality_review" in dot
    assert list(tmp_path.iterdir()) == []  # no ./zwgk.db was created on the way


def test_custom_pipeline_file(capsys: pytest.CaptureFixture[str], world: Path, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    custom = tmp_path / "pingtian.toml"
    custom.write_text(DEFAULT_TOML.read_text(encoding="utf-8").replace('version = "2019.1"', 'version = "2026.2"'),
                      encoding="utf-8")
    shown = ok_json(capsys, "--pipeline", str(custom), "pipeline", "show")
    assert shown["version"].startswith("2026.2+") and shown["fingerprint"] != FINGERPRINT
    # --pipeline feeds only `pipeline show|diagram|adopt`: a signature follows the pipeline its unit adopted.
    s = ok_json(capsys, "advance", "d1", "submit", "--as", "clerk", "--pipeline", str(custom))
    assert s["pipeline"] == FINGERPRINT
    adopted = ok_json(capsys, "pipeline", "adopt", str(custom), "--unit", "gov", "--as", ADMIN)
    assert adopted == {"unit": "gov", "kind": "item", "name": "zwgk-default", "version": shown["version"],
                       "fingerprint": shown["fingerprint"]}
    assert ok_json(capsys, "pipeline", "show", "--unit", "gov")["fingerprint"] == shown["fingerprint"]
    assert ok(capsys, "pipeline", "show", "--unit", "gov").startswith("pipeline zwgk-default version 2026.2+")
    assert ok_json(capsys, "advance", "r1", "clear", "--as", "sec", "--decision", "full")["pipeline"] == \
        shown["fingerprint"]
    monkeypatch.setenv("ZWGK_PIPELINE", str(custom))
    assert ok(capsys, "pipeline", "show").startswith("pipeline zwgk-default version 2026.2+")
    # ZWGK_PIPELINE feeds `pipeline adopt` without FILE: here the pipeline in force, which is not adopted twice.
    assert refused(capsys, world, "pipeline", "adopt", "--unit", "gov", "--as", ADMIN) == \
        "adopt pipeline item: unit gov has this pipeline in force already"
    monkeypatch.delenv("ZWGK_PIPELINE")
    ok(capsys, "pipeline", "adopt", str(DEFAULT_TOML), "--unit", "gov", "--as", ADMIN)
    assert ok_json(capsys, "pipeline", "show", "--unit", "gov")["fingerprint"] == FINGERPRINT
    monkeypatch.setenv("ZWGK_PIPELINE", str(custom))
    assert ok(capsys, "pipeline", "adopt", "--unit", "gov", "--as", ADMIN) == \
        f"unit gov adopted item pipeline zwgk-default {shown['version']}\n"
    assert ok_json(capsys, "pipeline", "show", "--unit", "gov")["fingerprint"] == shown["fingerprint"]
    monkeypatch.delenv("ZWGK_PIPELINE")
    ok(capsys, "pipeline", "adopt", str(DEFAULT_TOML), "--unit", "gov", "--as", ADMIN)
    assert ok_json(capsys, "pipeline", "show", "--unit", "gov")["fingerprint"] == FINGERPRINT
    assert ok_json(capsys, "verify")["ok"] is True


def test_verbose_logs_to_stderr(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    rc, out, err = run(capsys, "-v", "advance", "d1", "submit", "--as", "clerk")
    assert rc == 0 and "submit" in out
    assert "signed" in err
    assert "publish" in refused(capsys, world, "-v", "advance", "d1", "publish", "--as", "clerk")


def test_demo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "new" / "demo"  # made if it is not there yet
    for _ in range(2):  # a second run in the same folder starts afresh
        rc, out, err = run(capsys, "demo", "--dir", str(folder), "--once")
        assert rc == 0, err
        # The policy's yearly reconfirmation falls in 2027, a year the calendar does not know yet.
        assert [line for line in err.splitlines() if "calendar_year_unknown" not in line] == []
        lines = out.splitlines()
        assert SIGNATURE_LINE.match(lines[0]), lines[0]
        assert sum(1 for line in lines if SIGNATURE_LINE.match(line)) >= 30
        assert any(line.startswith("verify: ok (") for line in lines)
        assert any(line.startswith("root digest: ") for line in lines)
        assert "confidentiality_review (保密审查)" in out
        hint = next(line for line in lines if line.startswith("database: "))
        assert f"(try: ./dev zwgk --db {url_of(folder / 'zwgk-demo.db')} item show " in hint
    db = folder / "zwgk-demo.db"
    assert db.exists()
    assert ok_json(capsys, "--db", url_of(db), "verify")["ok"] is True
    states = {i["state"] for i in ok_json(capsys, "--db", url_of(db), "item", "list")}
    assert states == {"published", "withheld", "retracted", "leader_check"}


# -- tampering ----------------------------------------------------------------------------------------------


def _tampered_proofread(capsys: pytest.CaptureFixture[str], world: Path) -> int:
    """Change who signed r1's proofreading, behind the engine's back; its seq in gov's chain."""
    proofread = ok_json(capsys, "history", "r1")[-1]
    assert (proofread["action"], proofread["actor"]) == ("proofread", "multi")
    tamper(world, "gov", proofread["seq"], actor="lead")
    return int(proofread["seq"])


def test_verify_fails_after_an_event_is_modified(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    seq = _tampered_proofread(capsys, world)
    message = refused(capsys, world, "verify", code=1)
    assert message == f"verify failed: chain gov event {seq}: contents do not match its hash (event modified)"
    rc, out, _ = run(capsys, "verify", "--json")
    assert rc == 1
    report = json.loads(out)
    assert report["ok"] is False and report["problems"] == [
        f"chain gov event {seq}: contents do not match its hash (event modified)"]
    assert set(report) == VERIFY_KEYS


def test_verify_fails_after_an_event_is_modified_since_a_digest(capsys: pytest.CaptureFixture[str],
                                                                world: Path) -> None:
    """The same, after a seal: the first problem is on stderr (and it is the only one: see the next test)."""
    digest = ok(capsys, "digest").strip()
    seq = _tampered_proofread(capsys, world)
    before = snapshot(world)
    for argv in (["verify"], ["verify", "--against", digest]):
        rc, _, err = run(capsys, *argv)
        assert rc == 1, argv
        assert one_error_line(err) == (f"verify failed: chain gov event {seq}: contents do not match its hash "
                                       "(event modified)"), argv
    # --since rechecks only what follows the digest, and says so: the event modified before it is not looked at.
    lines = ok(capsys, "verify", "--since", digest).splitlines()
    assert lines[0].startswith("ok: 0 events in 2 chains") and lines[1].startswith(f"rechecked only what follows "
                                                                                  f"{digest}")
    rc, out, _ = run(capsys, "verify", "--json")
    assert rc == 1
    report = json.loads(out)
    assert report["ok"] is False and report["problems"][0].startswith(f"chain gov event {seq}:")
    assert set(report) == VERIFY_KEYS
    assert snapshot(world) == before


def test_verify_after_a_seal_names_the_modified_event_alone(capsys: pytest.CaptureFixture[str],
                                                            world: Path) -> None:
    digest = ok(capsys, "digest").strip()
    seq = _tampered_proofread(capsys, world)
    message = refused(capsys, world, "verify", code=1)
    assert message == f"verify failed: chain gov event {seq}: contents do not match its hash (event modified)"
    assert refused(capsys, world, "verify", "--against", digest, code=1).startswith(
        f"verify failed: chain gov event {seq}:")
    _, out, _ = run(capsys, "verify", "--json")
    assert json.loads(out)["problems"] == [f"chain gov event {seq}: contents do not match its hash (event modified)"]


def test_verify_fails_after_an_act_of_the_register_is_modified(capsys: pytest.CaptureFixture[str],
                                                               world: Path) -> None:
    tamper(world, REGISTER, 3, actor="clerk")  # clerk's own addition to the register
    before = snapshot(world)
    rc, _, err = run(capsys, "verify")
    assert rc == 1
    assert one_error_line(err) == (f"verify failed: chain {REGISTER} event 3: contents do not match its hash "
                                   "(event modified)")
    assert snapshot(world) == before


def test_verify_names_the_modified_register_act_alone(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    tamper(world, REGISTER, 3, actor="clerk")
    message = refused(capsys, world, "verify", code=1)
    assert message == f"verify failed: chain {REGISTER} event 3: contents do not match its hash (event modified)"


def test_verify_against_a_digest_beyond_the_log(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    seq = ok_json(capsys, "digest")["seq"]
    message = refused(capsys, world, "verify", "--against", f"{seq + 5}:{'a' * 64}", code=1)
    assert message.startswith(f"verify failed: digest {seq + 5}:")
    assert message.endswith(f"the register ends at event {seq}, before it (events deleted from the end)")


def test_verify_against_a_different_digest(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    before = snapshot(world)
    rc, _, err = run(capsys, "verify", "--against", f"2:{'a' * 64}")
    assert rc == 1
    assert one_error_line(err) == (f"verify failed: digest 2:{'a' * 64}: the register's event 2 differs from it "
                                   "(the log was rewritten)")
    assert snapshot(world) == before


def test_verify_against_a_different_digest_names_that_problem_alone(capsys: pytest.CaptureFixture[str],
                                                                   world: Path) -> None:
    message = refused(capsys, world, "verify", "--against", f"2:{'a' * 64}", code=1)
    assert message.startswith("verify failed: digest 2:")


def test_verify_fails_when_item_state_is_changed_behind_its_back(capsys: pytest.CaptureFixture[str],
                                                                  world: Path) -> None:
    con = sqlite3.connect(world)
    con.execute("UPDATE zwgk_case SET state = 'published' WHERE kind = 'item' AND id = 'h1'")
    con.commit()
    con.close()
    assert refused(capsys, world, "verify", code=1).startswith("verify failed: item h1: state published")


# -- bad input: exit 2, one line on stderr, nothing on stdout, nothing written ------------------------------

BAD: list[tuple[str, list[str], str]] = [
    # (case id, argv, a fragment the one-line message must contain)
    ("no-command", [], "required: command"),
    ("unknown-command", ["frobnicate"], "invalid choice: 'frobnicate'"),
    ("unit-no-sub", ["unit"], "required"),
    ("unit-unknown-sub", ["unit", "remove"], "invalid choice: 'remove'"),
    ("person-unknown-sub", ["person", "delete", "clerk"], "invalid choice: 'delete'"),
    ("item-no-sub", ["item"], "required"),
    ("item-unknown-sub", ["item", "delete", "d1"], "invalid choice: 'delete'"),
    ("pipeline-unknown-sub", ["pipeline", "edit"], "invalid choice: 'edit'"),
    ("unknown-option", ["item", "list", "--colour"], "unrecognized arguments: --colour"),
    ("extra-argument", ["digest", "now"], "unrecognized arguments: now"),
    ("unit-open-is-no-command", ["unit", "open", "gov", "--as", ADMIN], "invalid choice: 'open'"),
    # init
    ("init-admin-without-name", ["init", "--admin", ADMIN], "give both --admin ID and --name NAME"),
    ("init-name-without-admin", ["init", "--name", ADMIN_NAME], "give both --admin ID and --name NAME"),
    ("init-register-started", ["init", "--admin", "other", "--name", "又一个"], "the register is started already"),
    ("init-bad-admin-id", ["init", "--admin", "a b", "--name", "x"], "person id 'a b'"),
    # unit add
    ("unit-add-no-name", ["unit", "add", "u2", "--as", ADMIN], "--name"),
    ("unit-add-no-id", ["unit", "add", "--name", "站所", "--as", ADMIN], "id"),
    ("unit-add-no-as", ["unit", "add", "u2", "--name", "站所"], "--as"),
    ("unit-add-not-admin", ["unit", "add", "u2", "--name", "站所", "--as", "clerk"],
     "add unit u2: clerk does not hold the role admin (登记管理员) needed for it"),
    ("unit-add-unknown-signer", ["unit", "add", "u2", "--name", "站所", "--as", "ghost"],
     "ghost is not an active person of the register"),
    ("unit-add-bad-kind", ["unit", "add", "u2", "--name", "站所", "--kind", "bureau", "--as", ADMIN],
     "unknown unit kind 'bureau'"),
    ("unit-add-bad-id", ["unit", "add", "u 2", "--name", "站所", "--as", ADMIN], "unit id 'u 2'"),
    ("unit-add-long-id", ["unit", "add", "u" * 65, "--name", "站所", "--as", ADMIN], "1-64"),
    ("unit-add-empty-name", ["unit", "add", "u2", "--name", " ", "--as", ADMIN], "unit name must not be empty"),
    ("unit-add-duplicate", ["unit", "add", "gov", "--name", "又一个", "--as", ADMIN], "unit gov already exists"),
    # unit close
    ("unit-close-no-id", ["unit", "close", "--as", ADMIN], "id"),
    ("unit-close-no-as", ["unit", "close", "gov"], "--as"),
    ("unit-close-unknown", ["unit", "close", "nowhere", "--as", ADMIN], "no unit 'nowhere'"),
    ("unit-close-not-admin", ["unit", "close", "gov", "--as", "head"],
     "close unit gov: head does not hold the role admin"),
    # person add
    ("person-add-no-name", ["person", "add", "p2", "--unit", "gov", "--as", ADMIN], "--name"),
    ("person-add-no-as", ["person", "add", "p2", "--name", "某人", "--unit", "gov", "--role", "drafter"], "--as"),
    ("person-add-not-admin", ["person", "add", "p2", "--name", "某人", "--unit", "gov", "--role", "drafter", "--as",
                              "clerk"], "clerk does not hold the role admin"),
    ("person-add-no-unit", ["person", "add", "p2", "--name", "某人", "--role", "drafter", "--as", ADMIN],
     "roles are held in a unit"),
    ("person-add-unknown-unit", ["person", "add", "p2", "--name", "某人", "--unit", "nowhere", "--role", "drafter",
                                 "--as", ADMIN], "no unit 'nowhere'"),
    ("person-add-unknown-role", ["person", "add", "p2", "--name", "某人", "--unit", "gov", "--role", "boss",
                                 "--as", ADMIN], "'boss' is a role of no pipeline in force in unit gov"),
    ("person-add-one-bad-role", ["person", "add", "p2", "--name", "某人", "--unit", "gov", "--role", "drafter",
                                 "--role", "king", "--as", ADMIN], "'king' is a role of no pipeline"),
    ("person-add-duplicate", ["person", "add", "clerk", "--name", "某人", "--unit", "gov", "--role", "drafter",
                              "--as", ADMIN], "person clerk already exists"),
    ("person-add-admin-again", ["person", "add", ADMIN, "--name", "某人", "--as", ADMIN],
     f"person {ADMIN} already exists"),
    ("person-add-bad-id", ["person", "add", "-x", "--name", "某人", "--unit", "gov", "--role", "drafter",
                           "--as", ADMIN], ""),
    ("person-add-bad-id2", ["person", "add", "张三", "--name", "某人", "--unit", "gov", "--role", "drafter",
                            "--as", ADMIN], "person id '张三'"),
    ("person-add-empty-name", ["person", "add", "p2", "--name", "", "--as", ADMIN], "person name must not be empty"),
    # person deactivate / reactivate
    ("deactivate-no-id", ["person", "deactivate", "--as", ADMIN], "id"),
    ("deactivate-no-as", ["person", "deactivate", "clerk"], "--as"),
    ("deactivate-unknown", ["person", "deactivate", "ghost", "--as", ADMIN], "there is no person ghost"),
    ("deactivate-not-admin", ["person", "deactivate", "clerk", "--as", "head"], "head does not hold the role admin"),
    ("deactivate-last-admin", ["person", "deactivate", ADMIN, "--as", ADMIN], f"{ADMIN} is the last active admin"),
    ("reactivate-active", ["person", "reactivate", "clerk", "--as", ADMIN], "clerk is active"),
    ("reactivate-unknown", ["person", "reactivate", "ghost", "--as", ADMIN], "there is no person ghost"),
    ("reactivate-no-as", ["person", "reactivate", "clerk"], "--as"),
    # grant / revoke
    ("grant-no-role", ["grant", "clerk", "--unit", "gov", "--as", ADMIN], "role"),
    ("grant-no-as", ["grant", "clerk", "head", "--unit", "gov"], "--as"),
    ("grant-unknown-person", ["grant", "ghost", "head", "--unit", "gov", "--as", ADMIN], "there is no person ghost"),
    ("grant-unknown-unit", ["grant", "clerk", "head", "--unit", "nowhere", "--as", ADMIN], "no unit 'nowhere'"),
    ("grant-unknown-role", ["grant", "clerk", "boss", "--unit", "gov", "--as", ADMIN],
     "'boss' is a role of no pipeline in force in unit gov"),
    ("grant-held-already", ["grant", "clerk", "drafter", "--unit", "gov", "--as", ADMIN],
     "clerk holds the role drafter there already"),
    ("grant-not-admin", ["grant", "clerk", "head", "--unit", "gov", "--as", "head"],
     "head does not hold the role admin"),
    ("grant-to-themselves", ["grant", ADMIN, "drafter", "--unit", "gov", "--as", ADMIN],
     "an admin may not grant a role to themselves"),
    ("grant-admin-to-themselves", ["grant", ADMIN, "admin", "--as", ADMIN],
     "an admin may not grant a role to themselves"),
    ("grant-unit-role-in-the-register", ["grant", "clerk", "head", "--as", ADMIN], "grant person clerk:"),
    ("revoke-not-held", ["revoke", "clerk", "head", "--unit", "gov", "--as", ADMIN],
     "clerk does not hold the role head there"),
    ("revoke-admin-not-held", ["revoke", "clerk", "admin", "--as", ADMIN], "clerk does not hold the role admin"),
    ("revoke-last-admin", ["revoke", ADMIN, "admin", "--as", ADMIN], f"{ADMIN} is the last active admin"),
    ("revoke-unknown-person", ["revoke", "ghost", "head", "--unit", "gov", "--as", ADMIN], "there is no person ghost"),
    ("revoke-not-admin", ["revoke", "clerk", "drafter", "--unit", "gov", "--as", "clerk"],
     "clerk does not hold the role admin"),
    ("revoke-no-as", ["revoke", "clerk", "drafter", "--unit", "gov"], "--as"),
    # item new
    ("new-no-title", item_new(title=None), "--title"),
    ("new-no-as", item_new(**{"as": None}), "--as"),
    ("new-no-category", item_new(category=None), "--category"),
    ("new-empty-title", item_new(title=""), "title must not be empty"),
    ("new-unknown-unit", item_new(unit="nowhere"), "no unit 'nowhere'"),
    ("new-unknown-person", item_new(**{"as": "ghost"}), "no person 'ghost'"),
    ("new-not-a-drafter", item_new(**{"as": "proof"}), "proof does not hold the role drafter"),
    ("new-bad-category", item_new(category="7"), "unknown category '7'"),
    ("new-bad-subcategory", item_new(category="3.9"), "unknown category '3.9'"),
    ("new-bad-timing", item_new(timing="weekly"), "unknown timing 'weekly'"),
    ("new-bad-kind", item_new(kind="memo"), "unknown kind 'memo'"),
    ("new-bad-tag", item_new("--tag", "result", "--tag", "gossip"), "unknown tag 'gossip'"),
    ("new-bad-date", item_new(formed_on="2026-13-01"), "'2026-13-01' is not a date"),
    ("new-bad-date-word", item_new(formed_on="yesterday"), "'yesterday' is not a date"),
    ("new-bad-date-feb30", item_new(formed_on="2026-02-30"), "'2026-02-30' is not a date"),
    ("new-missing-body-file", item_new(body_file="no-such-body.txt"), "cannot read --body-file no-such-body.txt"),
    ("new-body-and-body-file", item_new("--body", "x", "--body-file", "b.txt"), "not allowed with"),
    ("new-interpretation-without-policy", item_new(kind="interpretation"), "--interprets"),
    ("new-interprets-on-info", item_new(interprets="pol"), "--interprets"),
    ("new-interprets-unknown", item_new(kind="interpretation", interprets="nothing"), "'nothing' is not a policy"),
    ("new-interprets-non-policy", item_new(kind="interpretation", interprets="d1"), "'d1' is not a policy"),
    ("new-duplicate-id", item_new(id="d1"), "item d1 already exists"),
    ("new-bad-id", item_new(id="has space"), "item id 'has space'"),
    # item edit
    ("edit-no-as", ["item", "edit", "d1", "--title", "x"], "--as"),
    ("edit-unknown-item", ["item", "edit", "zz", "--title", "x", "--as", "clerk"], "no item 'zz'"),
    ("edit-unknown-person", ["item", "edit", "d1", "--title", "x", "--as", "ghost"], "no person 'ghost'"),
    ("edit-wrong-role", ["item", "edit", "d1", "--title", "x", "--as", "proof"], "proof does not hold the role"),
    ("edit-not-a-draft", ["item", "edit", "r1", "--title", "x", "--as", "clerk"], "only a draft can be edited"),
    ("edit-nothing", ["item", "edit", "d1", "--as", "clerk"], "nothing to change"),
    ("edit-only-comment", ["item", "edit", "d1", "--as", "clerk", "--comment", "只有备注"], "nothing to change"),
    ("edit-bad-tag", ["item", "edit", "d1", "--tag", "gossip", "--as", "clerk"], "unknown tag 'gossip'"),
    ("edit-bad-date", ["item", "edit", "d1", "--formed-on", "2026-9-1", "--as", "clerk"], "is not a date"),
    ("edit-empty-title", ["item", "edit", "d1", "--title", "", "--as", "clerk"], "title must not be empty"),
    ("edit-missing-body-file", ["item", "edit", "d1", "--body-file", "nope.txt", "--as", "clerk"],
     "cannot read --body-file nope.txt"),
    # item show / list, history
    ("show-no-item", ["item", "show"], "item"),
    ("show-unknown", ["item", "show", "zz"], "no item 'zz'"),
    ("list-bad-state", ["item", "list", "--state", "lost"], "unknown state 'lost'"),
    ("history-no-item", ["history"], "item"),
    ("history-unknown", ["history", "zz"], "no item 'zz'"),
    # advance
    ("advance-no-as", ["advance", "d1", "submit"], "--as"),
    ("advance-no-action", ["advance", "d1"], "action"),
    ("advance-unknown-item", ["advance", "zz", "submit", "--as", "clerk"], "no item 'zz'"),
    ("advance-unknown-person", ["advance", "d1", "submit", "--as", "ghost"], "no person 'ghost'"),
    ("advance-unknown-action", ["advance", "d1", "sign", "--as", "clerk"], "clerk cannot 'sign' there"),
    ("advance-not-available", ["advance", "d1", "publish", "--as", "clerk"],
     "item d1 is in state draft (草稿); clerk cannot 'publish' there (possible: submit)"),
    ("advance-wrong-role", ["advance", "d1", "submit", "--as", "proof"], "proof does not hold the role drafter"),
    ("advance-separation", ["advance", "r1", "clear", "--as", "multi", "--decision", "full"],
     "multi signed proofread (校对) in this round and may not also sign clear"),
    ("advance-no-decision", ["advance", "r1", "clear", "--as", "sec"], "needs a decision, one of: full, partial"),
    ("advance-bad-decision", ["advance", "r1", "clear", "--as", "sec", "--decision", "maybe"], "needs a decision"),
    ("advance-partial-no-reason", ["advance", "r1", "clear", "--as", "sec", "--decision", "partial"],
     "needs a reason"),
    ("advance-blank-reason", ["advance", "r1", "return", "--as", "sec", "--reason", "  "], "needs a reason"),
    ("advance-return-no-reason", ["advance", "r1", "return", "--as", "sec"], "needs a reason"),
    ("advance-withhold-no-ground", ["advance", "r1", "withhold", "--as", "sec", "--reason", "内部"],
     "needs a legal ground, one of: art14, art15, art16"),
    ("advance-withhold-bad-ground", ["advance", "r1", "withhold", "--as", "sec", "--reason", "内部", "--ground",
                                     "art99"], "needs a legal ground"),
    ("advance-withhold-no-reason", ["advance", "r1", "withhold", "--as", "sec", "--ground", "art16"],
     "needs a reason"),
    ("advance-unwanted-ground", ["advance", "h1", "approve", "--as", "head", "--ground", "art16"],
     "takes no legal ground"),
    ("advance-unwanted-decision", ["advance", "d1", "submit", "--as", "clerk", "--decision", "full"],
     "takes no decision"),
    ("advance-prerequisite", ["advance", "q1", "clear", "--as", "sec", "--decision", "full"],
     "needs proofread (校对) signed first"),
    ("advance-publish-before-approve", ["advance", "h1", "publish", "--as", "clerk"], "needs approve"),
    ("advance-already-signed", ["advance", "r1", "proofread", "--as", "proof"], "already signed in this round"),
    ("advance-stale-version", ["advance", "d1", "submit", "--as", "clerk", "--expect-version", "7"],
     "item d1 changed since you read it"),
    ("advance-version-not-int", ["advance", "d1", "submit", "--as", "clerk", "--expect-version", "one"],
     "argument --expect-version: 'one' is not a whole number"),
    ("advance-version-negative", ["advance", "d1", "submit", "--as", "clerk", "--expect-version", "-1"],
     "argument --expect-version: -1 is out of range (0 to 2147483647)"),
    ("advance-version-too-big", ["advance", "d1", "submit", "--as", "clerk", "--expect-version", str(2**31)],
     "argument --expect-version: 2147483648 is out of range (0 to 2147483647)"),
    ("advance-missing-paper", ["advance", "h1", "approve", "--as", "head", "--recorded-by", "clerk", "--paper",
                               "no-scan.pdf"], "cannot read --paper no-scan.pdf"),
    ("advance-bad-paper-sha", ["advance", "h1", "approve", "--as", "head", "--recorded-by", "clerk",
                               "--paper-sha256", "abc"], "64 lower-case hex"),
    ("advance-upper-paper-sha", ["advance", "h1", "approve", "--as", "head", "--recorded-by", "clerk",
                                 "--paper-sha256", "AB" * 32], "64 lower-case hex"),
    ("advance-paper-and-sha", ["advance", "h1", "approve", "--as", "head", "--recorded-by", "clerk", "--paper",
                               "scan.pdf", "--paper-sha256", "ab" * 32], "not allowed with"),
    ("advance-paper-no-clerk", ["advance", "h1", "approve", "--as", "head", "--paper-sha256", "ab" * 32],
     "recorded_by"),
    ("advance-unknown-clerk", ["advance", "h1", "approve", "--as", "head", "--recorded-by", "ghost"],
     "no person 'ghost'"),
    # verify, digest, pipeline, demo, init
    ("verify-against-nonsense", ["verify", "--against", "yesterday"], "'yesterday' is not a digest"),
    ("verify-against-short-hash", ["verify", "--against", "3:abc"], "is not a digest"),
    ("verify-against-no-seq", ["verify", "--against", ":" + "a" * 64], "is not a digest"),
    ("verify-against-upper", ["verify", "--against", "3:" + "A" * 64], "is not a digest"),
    ("pipeline-diagram-bad-format", ["pipeline", "diagram", "--format", "png"], "invalid choice: 'png'"),
    ("db-mysql", ["--db", "mysql://root@127.0.0.1/test", "item", "list"],
     "zwgk runs on SQLite (sqlite:///zwgk.db) or PostgreSQL (postgresql+psycopg://user@host/db), not on 'mysql'"),
    ("init-missing-folder", ["--db", "sqlite:///no-such-folder/z.db", "init"], "folder no-such-folder does not exist"),
    ("list-missing-folder", ["--db", "sqlite:///no-such-folder/z.db", "item", "list"],
     "folder no-such-folder does not exist"),  # not "run zwgk init", which would then fail on the same folder
    ("db-not-a-url", ["--db", "not a url", "item", "list"], "the database URL is malformed"),
    ("pipeline-file-missing", ["--pipeline", "no-such.toml", "pipeline", "show"], "no-such.toml: cannot read"),
    ("verify-since-nonsense", ["verify", "--since", "yesterday"], "'yesterday' is not a digest"),
    ("verify-since-short-hash", ["verify", "--since", "3:abc"], "is not a digest"),
    ("pipeline-show-unknown-unit", ["pipeline", "show", "--unit", "nowhere"], "unit 'nowhere' has no item pipeline"),
    ("pipeline-diagram-unknown-unit", ["pipeline", "diagram", "--unit", "nowhere"],
     "unit 'nowhere' has no item pipeline"),
    # pipeline adopt
    ("adopt-no-file", ["pipeline", "adopt", "--unit", "gov", "--as", ADMIN],
     "pipeline adopt needs a pipeline file (FILE or --pipeline)"),
    ("adopt-missing-file", ["pipeline", "adopt", "no-such.toml", "--unit", "gov", "--as", ADMIN],
     "no-such.toml: cannot read"),
    ("adopt-missing-pipeline-option", ["--pipeline", "no-such.toml", "pipeline", "adopt", "--unit", "gov", "--as",
                                       ADMIN], "no-such.toml: cannot read"),
    ("adopt-no-unit", ["pipeline", "adopt", str(DEFAULT_TOML), "--as", ADMIN], "--unit"),
    ("adopt-no-as", ["pipeline", "adopt", str(DEFAULT_TOML), "--unit", "gov"], "--as"),
    ("adopt-unknown-unit", ["pipeline", "adopt", str(DEFAULT_TOML), "--unit", "nowhere", "--as", ADMIN],
     "no unit 'nowhere'"),
    ("adopt-not-admin", ["pipeline", "adopt", str(DEFAULT_TOML), "--unit", "gov", "--as", "head"],
     "adopt pipeline item: head does not hold the role admin"),
    ("adopt-unknown-signer", ["pipeline", "adopt", str(DEFAULT_TOML), "--unit", "gov", "--as", "ghost"], "ghost"),
]


@pytest.mark.parametrize(("argv", "fragment"), [pytest.param(a, f, id=i) for i, a, f in BAD])
def test_bad_input_is_refused_and_writes_nothing(capsys: pytest.CaptureFixture[str], world: Path, tmp_path: Path,
                                                 argv: list[str], fragment: str) -> None:
    (tmp_path / "b.txt").write_text("正文", encoding="utf-8")
    (tmp_path / "scan.pdf").write_bytes(b"scan")
    before = set(tmp_path.iterdir())
    message = refused(capsys, world, *argv)
    assert fragment in message
    assert set(tmp_path.iterdir()) - before <= {world.with_name("world.db-wal"), world.with_name("world.db-shm")}


@pytest.mark.parametrize("argv", [pytest.param(a, id=" ".join(a[:2])) for a in DB_COMMANDS])
def test_bad_zwgk_now_is_refused(capsys: pytest.CaptureFixture[str], world: Path, monkeypatch: pytest.MonkeyPatch,
                                 argv: list[str]) -> None:
    monkeypatch.setenv("ZWGK_NOW", "2026-10-09 09:00")  # no offset
    assert "needs an offset" in refused(capsys, world, *argv)
    monkeypatch.setenv("ZWGK_NOW", "next tuesday")
    assert "is not an ISO time" in refused(capsys, world, *argv)


def test_body_file_that_is_a_folder_or_not_utf8(capsys: pytest.CaptureFixture[str], world: Path,
                                                tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    assert "cannot read --body-file latin1.txt" in refused(capsys, world, *item_new(body_file="latin1.txt"))
    (tmp_path / "folder").mkdir()
    assert "cannot read --body-file folder" in refused(capsys, world, *item_new(body_file="folder"))
    assert "cannot read --body-file folder" in refused(capsys, world, "item", "edit", "d1", "--as", "clerk",
                                                       "--body-file", "folder")
    assert "cannot read --paper folder" in refused(capsys, world, "advance", "h1", "approve", "--as", "head",
                                                   "--recorded-by", "clerk", "--paper", "folder")


def test_refused_action_leaves_digest_and_items_unchanged(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    """The brief's own check, through the CLI: digest and `item list --json` before and after."""
    digest, items = ok(capsys, "digest"), ok(capsys, "item", "list", "--json")
    for argv in (["advance", "r1", "clear", "--as", "multi", "--decision", "full"],
                 ["advance", "r1", "return", "--as", "sec"],
                 ["advance", "d1", "publish", "--as", "clerk"],
                 item_new(id="d1")):
        rc, out, err = run(capsys, *argv)
        assert (rc, out) == (2, "") and one_error_line(err)
    assert ok(capsys, "digest") == digest
    assert ok(capsys, "item", "list", "--json") == items


@pytest.mark.parametrize("argv", [pytest.param(a, id=" ".join(a[:2])) for a in DB_COMMANDS])
def test_missing_database_file_is_not_created(capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "missing.db"
    for how in ("option", "env", "default"):
        if how == "option":
            rc, out, err = run(capsys, "--db", url_of(path), *argv)
        elif how == "env":
            monkeypatch.setenv("ZWGK_DATABASE_URL", url_of(path))
            rc, out, err = run(capsys, *argv)
            monkeypatch.delenv("ZWGK_DATABASE_URL")
        else:
            path = tmp_path / "zwgk.db"
            rc, out, err = run(capsys, *argv)
        assert (rc, out) == (2, ""), (how, err)
        message = one_error_line(err)
        assert "does not exist" in message and "zwgk init" in message, message
        assert list(tmp_path.iterdir()) == [], how


@pytest.mark.parametrize("argv", [pytest.param(a, id=" ".join(a[:2])) for a in DB_COMMANDS])
def test_database_not_initialised(capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]) -> None:
    path = tmp_path / "empty.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE host_table (x INTEGER)")  # someone else's database, without zwgk tables
    con.commit()
    con.close()
    message = refused(capsys, path, "--db", url_of(path), *argv)
    assert message == "database has no zwgk tables; run `zwgk init`"


def test_database_that_is_not_a_database_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("these are minutes of a meeting, not a database\n", encoding="utf-8")
    rc, out, err = run(capsys, "--db", url_of(junk), "item", "list")
    assert (rc, out) == (2, ""), err
    one_error_line(err)
    assert junk.read_text(encoding="utf-8") == "these are minutes of a meeting, not a database\n"


def test_database_url_with_an_unknown_driver(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "--db", "mysqlx://db.example/zwgk", "item", "list")
    assert (rc, out) == (2, ""), err
    one_error_line(err)


def test_unreachable_postgres_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "digest")
    assert (rc, out) == (2, "")
    assert one_error_line(err).startswith("database error: ")


# -- malformed pipeline files ---------------------------------------------------------------------------------

_HEAD = 'name = "x"\nversion = "1"\ninitial = "draft"\n'
_DRAFT = '[[state]]\nid = "draft"\nzh = "草稿"\nen = "Draft"\n'
_ROLE = '[[role]]\nid = "drafter"\nzh = "经办人"\nen = "Drafter"\n'

BAD_PIPELINES: list[tuple[str, str, int]] = [
    # (case id, text, the line the message must name)
    ("toml-syntax", _HEAD + _DRAFT + "en = \n", 8),
    ("bad-role-line", DEFAULT_TOML.read_text(encoding="utf-8").replace('role = "leader"\n', 'role = "boss"\n', 1),
     DEFAULT_TOML.read_text(encoding="utf-8").splitlines().index('role = "leader"') + 1),
    ("unknown-to-state", _HEAD + _DRAFT + _ROLE
     + '[[action]]\nid = "go"\nzh = "走"\nen = "Go"\nfrom = "draft"\nto = "nowhere"\nrole = "drafter"\n', 17),
    ("unknown-key", _HEAD + _DRAFT + _ROLE
     + '[[action]]\nid = "go"\nzh = "走"\nen = "Go"\nfrom = "draft"\nrole = "drafter"\nwho = "me"\n', 18),
    ("initial-undeclared", _HEAD.replace('"draft"', '"start"') + _DRAFT, 3),
    ("bad-state-id", _HEAD + _DRAFT + '[[state]]\nid = "Done"\nzh = "完"\nen = "Done"\n', 9),
]


@pytest.mark.parametrize(("text", "line"), [pytest.param(t, n, id=i) for i, t, n in BAD_PIPELINES])
def test_malformed_pipeline_names_the_line(capsys: pytest.CaptureFixture[str], world: Path, tmp_path: Path,
                                           text: str, line: int, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    for argv in (["pipeline", "adopt", str(bad), "--unit", "gov", "--as", ADMIN],
                 ["--pipeline", str(bad), "pipeline", "adopt", "--unit", "gov", "--as", ADMIN],
                 ["pipeline", "show", "--pipeline", str(bad)],
                 ["pipeline", "diagram", "--pipeline", str(bad)]):
        message = refused(capsys, world, *argv)
        assert message.startswith(f"{bad}")
        assert f"line {line}" in message, message
    monkeypatch.setenv("ZWGK_PIPELINE", str(bad))
    assert f"line {line}" in refused(capsys, world, "pipeline", "show")
    assert f"line {line}" in refused(capsys, world, "pipeline", "adopt", "--unit", "gov", "--as", ADMIN)
    # Only `pipeline show|diagram|adopt` read the file: the other commands follow what gov adopted.
    assert len(ok_json(capsys, "item", "list")) == 5
    assert ok_json(capsys, "--pipeline", str(bad), "advance", "d1", "submit", "--as", "clerk")["pipeline"] == \
        FINGERPRINT


def test_pipeline_whose_tables_are_not_tables(capsys: pytest.CaptureFixture[str], world: Path,
                                              tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(_HEAD + "state = 5\n", encoding="utf-8")
    message = refused(capsys, world, "--pipeline", str(bad), "pipeline", "show")
    assert "line 4" in message, message


def test_pipeline_with_no_way_out_of_the_initial_state(capsys: pytest.CaptureFixture[str], world: Path,
                                                       tmp_path: Path) -> None:
    bad = tmp_path / "stuck.toml"
    bad.write_text(_HEAD + _DRAFT + _ROLE, encoding="utf-8")
    assert "no action leaves the initial state 'draft'" in refused(capsys, world, "pipeline", "adopt", str(bad),
                                                                   "--unit", "gov", "--as", ADMIN)
    assert "no action leaves the initial state 'draft'" in refused(capsys, world, "--pipeline", str(bad),
                                                                   "pipeline", "show")


def test_pipeline_adoption_refused(capsys: pytest.CaptureFixture[str], world: Path, tmp_path: Path) -> None:
    """A unit may not adopt a pipeline that strands its open cases, or that publishes without review."""
    default = DEFAULT_TOML.read_text(encoding="utf-8")
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(default.replace("head_approval", "head_sign"), encoding="utf-8")
    message = refused(capsys, world, "pipeline", "adopt", str(renamed), "--unit", "gov", "--as", ADMIN)
    assert "has no state 'head_approval', in which open cases of this unit sit" in message  # h1
    fast = tmp_path / "fast.toml"
    fast.write_text(default + '\n[[action]]\nid = "fast"\nzh = "直接发布"\nen = "Publish at once"\nfrom = "draft"\n'
                    'to = "published"\nrole = "publisher"\n', encoding="utf-8")
    ok(capsys, "--pipeline", str(fast), "pipeline", "show")  # a well-formed file: only its adoption is refused
    message = refused(capsys, world, "pipeline", "adopt", str(fast), "--unit", "gov", "--as", ADMIN)
    assert "lets a case become public without the signatures of confidentiality_reviewer and head" in message
    assert "draft -fast-> published" in message


# -- ids ------------------------------------------------------------------------------------------------------


def test_generated_item_ids_do_not_collide_with_chosen_ones(capsys: pytest.CaptureFixture[str], fresh: Path) -> None:
    """An office that once typed `--id 2026-000002` must still be able to create items without --id."""
    assert ok_json(capsys, *item_new(id="2026-000002"))["id"] == "2026-000002"
    first = ok_json(capsys, *item_new())["id"]
    second = ok_json(capsys, *item_new())["id"]
    assert len({"2026-000002", first, second}) == 3


@pytest.mark.parametrize("argv", [
    pytest.param(["unit", "add", "gov2\n", "--name", "站所", "--as", ADMIN], id="unit"),
    pytest.param(["person", "add", "p2\n", "--name", "某人", "--unit", "gov", "--role", "drafter", "--as", ADMIN],
                 id="person"),
    pytest.param(["init", "--admin", "a2\n", "--name", "某人"], id="admin"),
    pytest.param(item_new(id="x1\n"), id="item"),
])
def test_ids_with_a_trailing_newline_are_refused(capsys: pytest.CaptureFixture[str], world: Path,
                                                 argv: list[str]) -> None:
    assert "id" in refused(capsys, world, *argv)


def test_error_echoing_a_newline_stays_on_one_line(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    """Messages quote what the user typed; the one-line contract must hold even when that holds a newline."""
    assert "no item" in refused(capsys, world, "item", "show", "no\nsuch")


# -- the installed console script, end to end -----------------------------------------------------------------


def test_console_script_end_to_end(tmp_path: Path) -> None:
    """Few runs (each pays the interpreter's start-up): the console script, exit codes 0/1/2 and stderr."""
    assert ZWGK.exists(), ZWGK
    path = tmp_path / "z.db"
    env = clean_env() | {"ZWGK_DATABASE_URL": url_of(path), "ZWGK_NOW": NOW}
    r = zwgk("init", env=env)
    assert (r.returncode, r.stdout, r.stderr) == (0, f"database {url_of(path)} is ready\n", "")
    with Workflow(url_of(path), clock=fixed(NOW_UTC)) as wf:
        seed(wf)  # starts the register (a simulation) on the schema `zwgk init` made
    r = zwgk("--json", *item_new(), env=env)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    item_id = json.loads(r.stdout)["id"]
    r = zwgk("advance", item_id, "submit", "--as", "clerk", env=env)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    assert r.stdout.startswith(f"gov#{SEEDED_GOV + 2} ")
    assert "2026-10-09T09:00:00+08:00" in r.stdout  # ZWGK_NOW, shown in the office's time zone
    assert "draft (草稿) -> confidentiality_review (保密审查)  by clerk as drafter" in r.stdout
    assert not path.with_name("z.db-wal").exists()
    with Workflow(url_of(path), clock=fixed(NOW_UTC)) as wf:
        digest = wf.digest()
    rows = snapshot(path)

    # refused: exit 2, one line on stderr, nothing on stdout, nothing written
    r = zwgk("advance", item_id, "clear", "--as", "sec", "--decision", "full", env=env)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.startswith("zwgk: ") and r.stderr.count("\n") == 1 and "needs proofread" in r.stderr
    r = zwgk("frobnicate", env=env)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.startswith("zwgk: ") and r.stderr.count("\n") == 1
    with Workflow(url_of(path), clock=fixed(NOW_UTC)) as wf:
        assert wf.digest() == digest
    assert snapshot(path) == rows

    # tampering: verify exits 1 with one line on stderr
    tamper(path, "gov", SEEDED_GOV + 2, comment="后补的意见")  # after the seal, which names a later event of gov
    r = zwgk("verify", env=env)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (f"zwgk: verify failed: chain gov event {SEEDED_GOV + 2}: contents do not match its hash "
                        "(event modified)\n")


def test_console_script_missing_database_and_default_path(tmp_path: Path) -> None:
    r = zwgk("item", "list", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == "zwgk: database zwgk.db does not exist; run `zwgk init` first\n"
    assert list(tmp_path.iterdir()) == []
    r = zwgk("--db", url_of(tmp_path / "x.db"), "verify", "--against", "nonsense", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (2, "") and r.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        zwgk_main(["--version"])
    assert done.value.code == 0
    assert re.fullmatch(r"zwgk \d+\.\d+\.\d+\n", capsys.readouterr().out)


def test_console_script_demo(tmp_path: Path) -> None:
    r = zwgk("demo", "--dir", str(tmp_path), "--once")
    assert r.returncode == 0, r.stderr
    assert [line for line in r.stderr.splitlines() if "calendar_year_unknown" not in line] == []
    assert "【政务公开提醒】" in r.stdout  # the daemon's pass sent the due reminders to the console
    assert SIGNATURE_LINE.match(r.stdout), r.stdout[:100]
    assert "\nverify: ok (" in r.stdout
    assert (tmp_path / "zwgk-demo.db").exists()


# -- PostgreSQL -----------------------------------------------------------------------------------------------


@pytest.fixture
def pg(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("ZWGK_NOW", NOW)
    yield pg_url


def _walk(capsys: pytest.CaptureFixture[str], db: Sequence[str]) -> str:
    ok(capsys, *db, "init")
    ok(capsys, *db, "init", "--admin", ADMIN, "--name", ADMIN_NAME, "--simulation")  # ZWGK_NOW writes
    ok(capsys, *db, "init")
    ok(capsys, *db, "unit", "add", "gov", "--name", "平田乡人民政府", "--as", ADMIN)
    for pid, roles in PEOPLE.items():
        ok(capsys, *db, "person", "add", pid, "--name", pid, "--unit", "gov", *role_args(roles), "--as", ADMIN)
    item_id: str = ok_json(capsys, *db, *item_new())["id"]
    for action, who, *extra in (("submit", "clerk"), ("proofread", "proof"), ("clear", "sec", "--decision", "full"),
                                ("check", "lead"), ("approve", "head"), ("publish", "clerk")):
        s = ok_json(capsys, *db, "advance", item_id, action, "--as", who, *extra)
        assert set(s) == SIGNATURE_KEYS and datetime.fromisoformat(s["at"]) == NOW_UTC
        assert s["operator"].endswith(" pg:postgres") and s["pipeline"] == FINGERPRINT
    return item_id


def test_postgresql_happy_path_and_refusal(capsys: pytest.CaptureFixture[str], pg: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    db = ["--db", pg]
    item_id = _walk(capsys, db)
    assert item_id == "gov-2026-000001"
    shown = ok_json(capsys, *db, "item", "show", item_id)
    assert (shown["state"], shown["state_zh"], shown["version"]) == ("published", "已公开", 7)
    assert [n["action"] for n in shown["next"]] == ["retract", "abolish"]
    history = ok_json(capsys, *db, "history", item_id)
    assert [s["action"] for s in history] == ["create", "submit", "proofread", "clear", "check", "approve", "publish"]
    assert [(s["chain"], s["seq"]) for s in history] == [("gov", SEEDED_GOV + n) for n in range(1, 8)]
    assert len(ok(capsys, *db, "history", item_id).splitlines()) == 7
    assert len(ok_json(capsys, *db, "unit", "list")) == 1 and len(ok_json(capsys, *db, "person", "list")) == 8
    d = ok_json(capsys, *db, "digest")
    assert d["seq"] == SEEDED_REGISTER + 1  # the seal
    events = SEEDED_REGISTER + 1 + SEEDED_GOV + 7
    assert ok_json(capsys, *db, "verify", "--against", d["digest"]) == {
        "ok": True, "events": events, "chains": 2, "cases": 1, "problems": [], "digest": d["digest"], "sealed": True,
        "since": None, "simulation": True}
    items = ok(capsys, *db, "item", "list", "--json")
    before = snapshot(pg)
    for argv in (["advance", item_id, "retract", "--as", "head"],
                 ["advance", item_id, "retract", "--as", "clerk", "--reason", "x"],
                 ["advance", item_id, "publish", "--as", "clerk"],
                 ["unit", "add", "gov", "--name", "又一个", "--as", ADMIN],
                 ["unit", "add", "u2", "--name", "站所", "--as", "clerk"],
                 ["person", "add", "clerk", "--name", "又一个", "--as", ADMIN],
                 ["grant", ADMIN, "drafter", "--unit", "gov", "--as", ADMIN],
                 ["revoke", "clerk", "head", "--unit", "gov", "--as", ADMIN],
                 ["person", "deactivate", ADMIN, "--as", ADMIN],
                 ["pipeline", "adopt", str(DEFAULT_TOML), "--unit", "gov", "--as", "head"],
                 ["unit", "close", "nowhere", "--as", ADMIN],
                 ["init", "--admin", "other", "--name", "又一个"],
                 item_new(id=item_id)):
        refused(capsys, pg, *db, *argv)
    assert snapshot(pg) == before
    assert ok_json(capsys, *db, "digest") == d
    assert ok(capsys, *db, "item", "list", "--json") == items
    # ZWGK_DATABASE_URL works for PostgreSQL too
    monkeypatch.setenv("ZWGK_DATABASE_URL", pg)
    assert ok(capsys, "digest") == d["digest"] + "\n"
    assert ok(capsys, "verify") == (f"ok: {events} events in 2 chains, 1 cases; hashes, links, times, rules and "
                                    f"tables agree; root digest {d['digest']}\n{SIMULATION}\n")
    assert ok(capsys, "verify", "--since", d["digest"]).startswith("ok: 0 events in 2 chains")


def test_postgresql_zwgk_now_writes_only_to_a_simulation(capsys: pytest.CaptureFixture[str], pg_url: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    db = ["--db", pg_url]
    ok(capsys, *db, "init", "--admin", ADMIN, "--name", ADMIN_NAME)
    monkeypatch.setenv("ZWGK_NOW", "2099-01-01T00:00:00+08:00")
    assert "is not a simulation" in refused(capsys, pg_url, *db, "unit", "add", "gov", "--name", "平田乡人民政府",
                                            "--as", ADMIN)
    assert ok_json(capsys, *db, "unit", "list") == []


def test_postgresql_not_initialised(capsys: pytest.CaptureFixture[str], pg: str) -> None:
    for argv in DB_COMMANDS:
        rc, out, err = run(capsys, "--db", pg, *argv)
        assert (rc, out) == (2, ""), argv
        assert one_error_line(err) == "database has no zwgk tables; run `zwgk init`"


def test_every_command_option_and_argument_says_what_it_is_for() -> None:
    """A new user reads `zwgk CMD --help` (issue 11): nothing in it may be bare."""
    bare: list[str] = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helped = {c.dest: c.help for c in action._choices_actions}
                for name, sub in action.choices.items():
                    if not helped.get(name):
                        bare.append(" ".join([*path, name]))
                    walk(sub, [*path, name])
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                bare.append(" ".join([*path, *(action.option_strings[-1:] or [action.dest])]))

    walk(build_parser(), ["zwgk"])
    assert bare == []
