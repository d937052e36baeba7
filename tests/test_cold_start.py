"""Each command imports what it uses and no more, so that it starts quickly (bench/cli.py measures how quickly):
`--help` no database library at all, the everyday commands no Alembic (nor its Mako), and no APScheduler."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.conftest import new_info
from workflow import Workflow, db

ROOT = Path(__file__).resolve().parent.parent
MIGRATING = {"alembic", "mako", "pygments"}
DAEMON = {"apscheduler"}


def imported(url: str, *argv: str) -> set[str]:
    """The top-level packages `zwgk ARGV` imports, as `python -X importtime` lists them."""
    env = {k: v for k, v in os.environ.items() if k != "ZWGK_NOW"} | {"ZWGK_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "scripts.zwgk", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line.split("|") for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {name.strip().split(".")[0] for _, _, name in lines[1:]}  # the first is the header


def test_help_imports_no_database_library(sqlite_url: str) -> None:
    found = imported(sqlite_url, "--help")
    assert not found & {"sqlalchemy", "structlog", "transitions", "workflow", "states", *MIGRATING, *DAEMON}


@pytest.mark.parametrize("argv", [["item", "list"], ["item", "show", "{item}"],
                                  ["advance", "{item}", "submit", "--as", "clerk"]])
def test_everyday_commands_import_no_migrations_nor_scheduler(swf: Workflow, sqlite_url: str,
                                                              argv: list[str]) -> None:
    item = new_info(swf)
    found = imported(sqlite_url, *(a.format(item=item) for a in argv))
    assert "sqlalchemy" in found and not found & (MIGRATING | DAEMON)


def test_init_imports_alembic(tmp_path: Path) -> None:
    """The check above can see a module imported inside a command."""
    assert "alembic" in imported(f"sqlite:///{tmp_path}/new.db", "init")


def test_head_revision_read_from_the_files_is_alembics() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("workflow").joinpath("migrations")))
    assert db.head_revision() == ScriptDirectory.from_config(cfg).get_current_head()
