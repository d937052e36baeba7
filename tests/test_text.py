"""One validation for the text people type (red team and new user, issue 11): what cannot be stored, or would
forge terminal output, or would sign differently on another computer, is refused or normalised before hashing,
in one line, with nothing written, and no database error ever carries what was being written."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from scripts import zwgk
from tests.conftest import ADMIN, new_info, seed
from workflow import InvalidInput, Workflow
from workflow.config import Config, Limits


def refused(wf: Workflow, match: str, fn: object, *args: object, **kw: object) -> None:
    before = wf.digest()
    with pytest.raises(InvalidInput, match=match) as caught:
        fn(*args, **kw)  # type: ignore[operator]
    assert "\n" not in str(caught.value)
    assert wf.digest() == before


@pytest.mark.parametrize(("field", "value", "match"), [
    ("body", "正文\x00秘密", r"body holds a control character \(U\+0000\) at position 2"),
    ("title", "标题\ud800", r"title holds a character that is not text \(a lone surrogate at position 2\)"),
    ("title", "标题\n第二行", r"title holds a control character \(U\+000A\) at position 2; it must be one line"),
    ("title", "\x1b[31m红字", r"title holds a control character \(U\+001B\) at position 0"),
    ("comment", "说明\x07", r"comment holds a control character \(U\+0007\)"),
    ("title", "长" * 501, r"title is 501 characters, more than \[limits\] title_chars \(500\) allows"),
])
def test_bad_text_in_an_item_is_refused_and_writes_nothing(wf: Workflow, field: str, value: str,
                                                           match: str) -> None:
    """On PostgreSQL a NUL reached the server, whose error (through SQLAlchemy) carried the unpublished body."""
    refused(wf, match, new_info, wf, **{field: value})


def test_bad_text_in_a_name_or_a_step_is_refused(wf: Workflow) -> None:
    item = new_info(wf)
    refused(wf, r"name holds a control character \(U\+001B\)", wf.add_person, "fake", name="\x1b[2K值班 head",
            by=ADMIN)
    refused(wf, r"name holds a control character \(U\+000A\)", wf.add_unit, "u2", name="一行\n两行", by=ADMIN)
    refused(wf, r"reason holds a control character \(U\+0000\)", wf.advance, item, "submit", actor="clerk",
            reason="\x00")
    refused(wf, r"email 'zhang3' is not an e-mail address", wf.add_person, "z3", name="张三", email="zhang3",
            by=ADMIN)
    refused(wf, r"phone '12345' is not a mobile number", wf.add_person, "z3", name="张三", phone="12345", by=ADMIN)
    assert wf.add_person("z3", name="张三", email="zhang3@town.gov.cn", phone="+8613800138000", by=ADMIN).phone


def test_windows_line_ends_sign_the_same_as_unix_ones(wf: Workflow) -> None:
    """Text pasted from Word on Windows (CRLF) and the same text typed on Linux (LF) are one content."""
    windows = new_info(wf, body="第一段\r\n第二段\r\n\t缩进", comment="说明\r\n续")
    unix = new_info(wf, body="第一段\n第二段\n\t缩进")
    assert wf.item(windows).body == wf.item(unix).body == "第一段\n第二段\n\t缩进"
    assert wf.history(windows)[0].content_hash == wf.history(unix)[0].content_hash
    assert wf.history(windows)[0].comment == "说明\n续"
    wf.edit_item(unix, actor="clerk", body="改\r\n后")
    assert wf.item(unix).body == "改\n后"
    assert wf.verify().ok


def test_the_limits_come_from_the_configuration(sqlite_url: str) -> None:
    wf = seed(Workflow(sqlite_url, config=Config(limits=Limits(title_chars=10, body_bytes=12))))
    try:
        refused(wf, r"body is 15 bytes, more than \[limits\] body_bytes \(12\) allows", new_info, wf, title="短",
                body="一二三四五")
        refused(wf, r"title is 11 characters", new_info, wf, title="一" * 11)
        assert wf.item(new_info(wf, title="一" * 10, body="一二三四")).body == "一二三四"
    finally:
        wf.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(max_size=40))
def test_any_body_is_refused_in_one_line_or_stored_as_it_was_signed(swf: Workflow, body: str) -> None:
    try:
        item = new_info(swf, body=body)
    except InvalidInput as e:
        assert "\n" not in str(e) and str(e).startswith("body ")
        return
    stored = swf.item(item).body
    assert stored == body.replace("\r\n", "\n").replace("\r", "\n")
    assert "\x00" not in stored and "\x1b" not in stored


def test_the_cli_refuses_a_body_file_with_a_nul_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                            db_url: str) -> None:
    seed(Workflow(db_url)).close()
    capsys.readouterr()
    body = tmp_path / "body.txt"
    body.write_bytes("正文\x00未公开的内容".encode())
    code = zwgk.main(["--db", db_url, "item", "new", "--title", "T", "--unit", "gov", "--category", "3.4",
                      "--timing", "periodic", "--kind", "info", "--as", "clerk", "--body-file", str(body)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == "zwgk: body holds a control character (U+0000) at position 2\n"


def test_a_database_error_does_not_carry_the_parameters_of_its_statement(wf: Workflow) -> None:
    """Our engines hide the parameters in SQLAlchemy's error text (a host's engine is the host's to set). What the
    server itself quotes of a failing row (PostgreSQL's DETAIL) is not SQLAlchemy's to hide: the validation above
    keeps what the server would refuse from reaching it."""
    with pytest.raises(Exception) as caught, wf.engine.connect() as c:
        c.execute(text("INSERT INTO zwgk_unit (id) VALUES (:secret)"), {"secret": "未公开的正文"})
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(caught.value)
    if wf.engine.dialect.name == "sqlite":
        assert "未公开的正文" not in str(caught.value)
