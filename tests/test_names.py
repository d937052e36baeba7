"""`workflow`, `states`, `notifiers` and `scripts` are generic names: another distribution holding one of them is
named in one line, by `import workflow` and by `zwgk`, before anything of ours imports the wrong package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ZWGK = Path(sys.executable).parent / "zwgk"


def run(args: list[str], shadow: Path | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if shadow is not None:  # PYTHONPATH comes before the site-packages where ours are installed
        env["PYTHONPATH"] = str(shadow)
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, cwd=shadow or Path.cwd())


@pytest.fixture
def shadow(tmp_path: Path) -> Path:
    """A folder with the PyPI-like package `notifiers` (not ours) in it."""
    (tmp_path / "notifiers").mkdir()
    (tmp_path / "notifiers" / "__init__.py").write_text('"""Another project\'s notifiers."""\n', encoding="utf-8")
    return tmp_path


def test_import_workflow_names_the_clashing_package(shadow: Path) -> None:
    done = run([sys.executable, "-c", "import workflow"], shadow)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last == (f"workflow.names.NameClash: the package 'notifiers' imported from {shadow / 'notifiers'} is "
                    "not zwgk-workflow's: another installed package uses the name; install zwgk-workflow in a "
                    "virtual environment of its own")


def test_zwgk_says_it_in_one_line(shadow: Path) -> None:
    done = run([str(ZWGK), "--db", f"sqlite:///{shadow / 'zwgk.db'}", "item", "list"], shadow)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [f"zwgk: the package 'notifiers' imported from {shadow / 'notifiers'} is not "
                                        "zwgk-workflow's: another installed package uses the name; install "
                                        "zwgk-workflow in a virtual environment of its own"]


def test_without_a_clash_nothing_is_said(tmp_path: Path) -> None:
    done = run([str(ZWGK), "--db", f"sqlite:///{tmp_path / 'zwgk.db'}", "init"], tmp_path)
    assert done.returncode == 0 and done.stderr == ""
