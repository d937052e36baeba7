"""The files of deploy/ run commands that exist: each `zwgk ...` they hold parses as the admin script's own."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from scripts.zwgk import build_parser

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def invocations() -> list[tuple[str, list[str]]]:
    """(file, the arguments after `zwgk`) for every zwgk command line in deploy/: a unit's ExecStart, a cron line's
    command, WinSW's <arguments>, the Windows batch file's call."""
    found = []
    for path in sorted(DEPLOY.rglob("*")):
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.lstrip().startswith(("#", "rem ", "<!--")):
                continue
            if m := re.search(r"<arguments>(.*)</arguments>", line):
                found.append((path.name, shlex.split(m[1])))
            elif m := re.search(r"[/\\]zwgk(?:\.exe)?\"? ([^&|>]*)", line):
                found.append((path.name, shlex.split(m[1].replace("$(date +\\%F)", "2026-12-07"))))
    return found


def test_deploy_holds_the_daemon_for_systemd_winsw_cron_and_task_scheduler() -> None:
    commands = {(name, args[0]) for name, args in invocations()}
    assert {("zwgk.service", "daemon"), ("zwgk-daemon.xml", "daemon"), ("zwgk-once.cmd", "daemon"),
            ("zwgk.cron", "backup"), ("zwgk.cron", "daemon")} <= commands


@pytest.mark.parametrize(("name", "args"), invocations())
def test_each_command_in_deploy_parses(name: str, args: list[str]) -> None:
    parsed = build_parser().parse_args(args)
    assert parsed.command == args[0]


def test_the_unit_runs_as_its_own_user_restarts_and_logs_to_journald() -> None:
    unit = (DEPLOY / "zwgk.service").read_text(encoding="utf-8")
    for setting in ("User=zwgk", "Restart=on-failure", "StandardError=journal", "KillSignal=SIGTERM"):
        assert f"\n{setting}\n" in unit
