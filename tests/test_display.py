"""Human output for Chinese readers: columns line up beside Chinese text (as a terminal draws it: a Chinese
character takes two columns), and the words are Chinese unless `--lang en` (English: tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from wcwidth import wcswidth

from states import default_pipeline
from tests.cli_helpers import isolate, ok, one_error_line, run, url_of
from tests.conftest import ADMIN, seed
from workflow import Workflow


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(monkeypatch, tmp_path)
    path = tmp_path / "zwgk.db"
    with Workflow(url_of(path)) as wf:
        seed(wf)
    monkeypatch.setenv("ZWGK_DATABASE_URL", url_of(path))
    return path


def column(line: str, field: str) -> int:
    """The terminal column at which `field` starts in `line`."""
    return wcswidth(line[:line.index(field)])


def test_person_list_lines_up_beside_chinese_names(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    for pid, name in (("zhang", "张三丰"), ("li", "Li Si"), ("ou", "欧阳")):
        ok(capsys, "person", "add", pid, "--name", name, "--unit", "gov", "--as", ADMIN)
    lines = [x for x in ok(capsys, "person", "list").splitlines() if x.split()[0] in ("zhang", "li", "ou")]
    assert len(lines) == 3
    assert len({column(x, " gov ") for x in lines}) == 1, lines


def test_pipeline_show_lines_up_beside_chinese_labels(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    lines = ok(capsys, "pipeline", "show").splitlines()
    header = next(x for x in lines if x.startswith("from"))
    p = default_pipeline()
    for a in p.actions:
        row = next(x for x in lines if f" {a.id} {a.zh} " in x and x.startswith(p.label(a.source)))
        assert column(row, f" {a.id} {a.zh} ") + 1 == column(header, "action"), row
        assert column(row, f"{a.role} ") == column(header, "role"), row


def test_chinese_is_the_default_and_en_is_asked_for(capsys: pytest.CaptureFixture[str], db: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZWGK_LANG")
    rc, _, err = run(capsys, "item", "show", "nope")
    assert rc == 2 and one_error_line(err) == "没有事项 'nope'"
    rc, _, err = run(capsys, "item", "show", "nope", "--lang", "en")
    assert rc == 2 and one_error_line(err) == "no item 'nope'"
    assert ok(capsys, "unit", "close", "gov", "--as", ADMIN).strip() == "单位 gov 已撤销"
    assert ok(capsys, "reminders", "--lang", "en").strip() == "none"
    assert ok(capsys, "reminders").strip() == "无"


def test_an_unknown_language_is_one_line(capsys: pytest.CaptureFixture[str], db: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZWGK_LANG", "fr")
    rc, _, err = run(capsys, "reminders")
    assert rc == 2 and one_error_line(err) == "unknown language 'fr' (one of: zh, en)"
