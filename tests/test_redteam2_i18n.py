"""Red team 2 on the CLI's language (workflow/i18n.py, scripts/zwgk.py): what still comes out in English, or raw,
under the default Chinese. The tests set ZWGK_LANG=en (conftest), so none of them saw the CLI in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import one_error_line, run


def test_a_usage_error_is_said_in_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # scripts/zwgk.py UsageError is not a states.errors.Phrased, so workflow.i18n.explain() returns its English
    # str(): its 20 templates are translated in the catalog, and never shown. The first error a new user meets.
    rc, _, err = run(capsys, "--lang", "zh", "--db", f"sqlite:///{tmp_path / 'none.db'}", "item", "list")
    assert rc == 2
    assert one_error_line(err) == f"数据库 {tmp_path / 'none.db'} 不存在；请先运行 `zwgk init`"


def test_a_usage_error_of_the_cli_itself_is_said_in_chinese(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--lang", "zh", "--db", f"sqlite:///{tmp_path / 'no' / 'such.db'}", "item", "list")
    assert rc == 2
    assert one_error_line(err) == f"文件夹 {tmp_path / 'no'} 不存在"


def test_an_error_line_does_not_pass_terminal_escapes_through(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # _fail() joins whitespace into one line but prints ESC (and other C0/C1 controls) raw: an id echoed back can
    # recolour, move the cursor or clear the clerk's terminal (human output escapes user fields; errors do not).
    run(capsys, "--db", f"sqlite:///{tmp_path / 'x.db'}", "init")
    rc, _, err = run(capsys, "--db", f"sqlite:///{tmp_path / 'x.db'}", "item", "show", "a\x1b[2J\x1b[31mb")
    assert rc == 2
    assert "\x1b" not in err, repr(err)
