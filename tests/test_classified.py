"""涉密不上网: an item whose title or body bears a classification mark is refused outright, as it is created or
edited, with no override, and nothing is stored; the refusal says where, never what."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.cli_helpers import one_error_line, run, snapshot
from workflow import Workflow
from workflow.errors import InvalidInput

from .conftest import new_info

MARKED = "关于某事项的通知\n秘密★1年\n正文……"


def _events(wf: Workflow) -> int:
    with wf.engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM zwgk_event")).scalar_one())


@pytest.mark.parametrize("field", ["title", "body"])
def test_a_marked_item_is_refused_before_anything_is_stored(wf: Workflow, field: str) -> None:
    before = _events(wf)
    with pytest.raises(InvalidInput, match=f"{field} bears a classification mark") as caught:
        new_info(wf, **{field: "机密 ★ 长期" if field == "title" else MARKED})
    assert "秘密★" not in str(caught.value) and "机密" not in str(caught.value)  # where, never what
    assert _events(wf) == before


def test_an_edit_that_adds_a_mark_is_refused(wf: Workflow) -> None:
    item = new_info(wf, body="公开内容")
    version = wf.item(item).version
    with pytest.raises(InvalidInput, match="body bears a classification mark at character 10"):
        wf.edit_item(item, actor="clerk", body=MARKED)
    assert wf.item(item).version == version and wf.item(item).body == "公开内容"


def test_ordinary_words_about_secrets_are_not_marks(wf: Workflow) -> None:
    item = new_info(wf, body="坚持“涉密不上网、上网不涉密”，严格保守国家秘密。")
    assert wf.item(item).body.startswith("坚持")


def test_the_cli_refuses_a_marked_body_in_one_line_and_writes_nothing(capsys: pytest.CaptureFixture[str],
                                                                       tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.requesting import cli_world

    db = cli_world(capsys, tmp_path, monkeypatch)
    before = snapshot(db)
    code, _, err = run(capsys, "item", "new", "--title", "通知", "--unit", "gov", "--category", "2", "--timing",
                       "immediate", "--kind", "info", "--body", MARKED, "--as", "clerk")
    assert code == 2 and "classification mark" in one_error_line(err) and "秘密" not in err
    assert snapshot(db) == before


def test_zwgk_screen_lists_where_personal_data_is_and_shows_it_only_when_asked(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.cli_helpers import ok, ok_json
    from tests.requesting import cli_world

    cli_world(capsys, tmp_path, monkeypatch)
    body = "低保名单：张三，电话13912345678，身份证530328199001011236。"  # a valid check digit (GB 11643)
    item = ok_json(capsys, "item", "new", "--title", "低保名单", "--unit", "gov", "--category", "2.4", "--timing",
                   "immediate", "--kind", "info", "--body", body, "--as", "clerk")["id"]
    found = ok_json(capsys, "screen", item)
    assert {(f["field"], f["rule"], f["severity"]) for f in found} == {("body", "mobile", "block"),
                                                                         ("body", "resident-id", "block")}
    assert all("text" not in f for f in found) and "13912345678" not in ok(capsys, "screen", item)
    shown = ok_json(capsys, "screen", item, "--show")
    assert {f["text"] for f in shown} == {"13912345678", "530328199001011236"}
    assert all(body[f["start"]:f["end"]] == f["text"] for f in shown)
