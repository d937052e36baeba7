"""`zwgk request ...`: a request from intake to a partial disclosure, its letters written to files, and what a
refusal leaves (nothing), on a simulation whose clock ZWGK_NOW sets."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from tests.cli_helpers import ok, ok_json, one_error_line, run, snapshot
from tests.requesting import cli_world

from .conftest import ADMIN

NAME = "王五"


@pytest.fixture
def db(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return cli_world(capsys, tmp_path, monkeypatch)


def new(capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    out = ok_json(capsys, "request", "new", "--unit", "gov", "--via", "in_person", "--applicant-name", NAME,
                  "--applicant-type", "natural", "--phone", "13912345678", "--address", "平田村2号",
                  "--description", "2025年平田乡低保资金发放明细", "--as", "clerk", *extra)
    return str(out["id"])


def test_a_request_from_intake_to_a_partial_disclosure(capsys: pytest.CaptureFixture[str], db: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    rid = new(capsys)
    shown = ok_json(capsys, "request", "show", rid)
    assert (shown["id"], shown["due_on"], shown["status"]) == ("gov-R2026-000001", "2026-10-30", "running")
    assert "applicant" not in shown and NAME not in ok(capsys, "request", "list")
    assert ok_json(capsys, "request", "show", rid, "--applicant")["applicant"]["name"] == NAME
    monkeypatch.setenv("ZWGK_NOW", "2026-10-09T10:00:00+08:00")
    ok(capsys, "request", "consult", rid, "--on", "2026-10-09", "--party", "other_office", "--consulted", "县民政局",
       "--as", "clerk")
    assert ok_json(capsys, "request", "show", rid)["status"] == "consulting"
    ok(capsys, "request", "consulted", rid, "--on", "2026-10-09", "--party", "other_office", "--as", "clerk")
    ok(capsys, "request", "reply", rid, "--type", "partial.withheld", "--how", "纸质复印件", "--ground",
       "withheld.third_party", "--reason", "身份证号码属于个人隐私", "--as", "clerk")
    for action, who in (("submit", "clerk"), ("proofread", "proof"), ("clear", "sec"), ("check", "lead"),
                        ("approve", "head"), ("send", "clerk")):
        ok(capsys, "request", "advance", rid, action, "--as", who)
    assert ok_json(capsys, "request", "show", rid)["state"] == "replied"
    letters = ok_json(capsys, "request", "letter", rid)
    reply = next(x for x in letters if x["kind"] == "reply")
    written = ok_json(capsys, "request", "letter", rid, reply["docx"], "--out", "reply.docx")
    printed = "\n".join(p.text for p in docx.Document(written["file"]).paragraphs)
    assert NAME in printed and "行政复议" in printed
    ok(capsys, "request", "letter", rid, reply["docx"], "--stored", "--out", "stored.docx")
    stored = "\n".join(p.text for p in docx.Document(io.BytesIO(Path("stored.docx").read_bytes())).paragraphs)
    assert NAME not in stored and rid in stored
    assert ok_json(capsys, "verify")["ok"]
    history = ok(capsys, "request", "history", rid)
    assert "send" in history and NAME not in history


def test_a_refused_step_is_one_line_and_writes_nothing(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    rid = new(capsys)
    before = snapshot(db)
    rc, _, err = run(capsys, "request", "extend", rid, "--on", "2026-09-28", "--days", "30", "--reason", "多",
                     "--as", "ohead")
    assert rc == 2 and "1 to 20" in one_error_line(err)
    rc, _, err = run(capsys, "request", "extend", rid, "--on", "2026-09-28", "--days", "5", "--reason", "多",
                     "--as", "clerk")
    assert rc == 2 and "disclosure_office_head" in one_error_line(err)
    rc, _, err = run(capsys, "request", "new", "--unit", "gov", "--via", "fax", "--applicant-name", NAME,
                     "--applicant-type", "natural", "--email", "nope", "--description", "x", "--as", "clerk")
    assert rc == 2 and NAME not in err and "nope" not in err
    assert snapshot(db) == before


def test_deadlines_list_a_request_by_its_number_only(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    rid = new(capsys)
    listed = ok_json(capsys, "deadlines")
    [mine] = [d for d in listed if d["kind"] == "request"]
    assert rid in mine["title"] and NAME not in str(listed) and mine["due_on"] == "2026-10-30"


def test_a_unit_added_before_requests_existed_adopts_the_built_in_request_pipeline(
        capsys: pytest.CaptureFixture[str], db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import states.kinds

    with monkeypatch.context() as m:  # as a release before requests added it: items only
        m.setattr(states.kinds, "KINDS", {"item": states.kinds.ITEM})
        m.setattr("workflow.register.KINDS", {"item": states.kinds.ITEM})
        ok(capsys, "unit", "add", "old", "--name", "老乡人民政府", "--as", ADMIN)
    ok(capsys, "grant", "clerk", "drafter", "--unit", "old", "--as", ADMIN)
    rc, _, err = run(capsys, "request", "new", "--unit", "old", "--via", "post", "--applicant-name", NAME,
                     "--applicant-type", "natural", "--phone", "13912345678", "--description", "x", "--as", "clerk")
    assert rc == 2 and "pipeline adopt --builtin request --unit old" in one_error_line(err)
    rc, _, err = run(capsys, "pipeline", "adopt", "--builtin", "nothing", "--unit", "old", "--as", ADMIN)
    assert rc == 2 and "no kind of case 'nothing'" in one_error_line(err)
    assert ok_json(capsys, "pipeline", "adopt", "--builtin", "request", "--unit", "old", "--as", ADMIN)["kind"] == \
        "request"
    ok(capsys, "grant", "clerk", "handler", "--unit", "old", "--as", ADMIN)
    assert ok_json(capsys, "request", "new", "--unit", "old", "--via", "post", "--applicant-name", NAME,
                   "--applicant-type", "natural", "--phone", "13912345678", "--description", "x", "--as",
                   "clerk")["id"] == "old-R2026-000001"
    assert ok_json(capsys, "verify")["ok"]
