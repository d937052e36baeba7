"""Who typed it: every event records the operator (the account that ran the program), which the person typing
does not declare; where the configuration says which person an account is, they sign as themselves or record
for the signer."""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import isolate, ok_json, one_error_line, run
from tests.conftest import ADMIN, new_info, seed
from workflow import InvalidInput, Workflow
from workflow.config import parse
from workflow.operator import local_account

ACCOUNT = f"{pwd.getpwuid(os.geteuid()).pw_name}@{socket.gethostname()}"


def test_the_api_records_the_process_account_or_what_the_host_passes(db_url: str) -> None:
    wf = seed(Workflow(db_url))
    try:
        pg = " pg:postgres" if db_url.startswith("postgresql") else ""
        item = new_info(wf)
        assert wf.history(item)[0].operator == ACCOUNT + pg == local_account() + pg
        host = Workflow(db_url, operator="oa-system:zhang3")
        try:
            sig = host.advance(item, "submit", actor="clerk")
        finally:
            host.close()
        assert sig.operator == "oa-system:zhang3" + pg
        assert wf.verify().ok
    finally:
        wf.close()


def test_the_cli_records_the_effective_user_not_user(sqlite_url: str, tmp_path: Path) -> None:
    """$USER is whatever the person typing says it is; the operator is not."""
    wf = seed(Workflow(sqlite_url))
    item = new_info(wf)
    wf.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZWGK_") or k == "ZWGK_LANG"} | {
        "USER": "the-head", "LOGNAME": "the-head", "ZWGK_DATABASE_URL": sqlite_url}
    done = subprocess.run([sys.executable, "-m", "scripts.zwgk", "advance", item, "submit", "--as", "clerk", "--json"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"operator": "' + ACCOUNT + '"' in done.stdout


@pytest.fixture
def mapped(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database whose configuration says this account is the clerk."""
    seed(Workflow(sqlite_url)).close()
    isolate(monkeypatch, tmp_path)
    account = ACCOUNT.partition("@")[0]
    (tmp_path / "zwgk.toml").write_text(f'[operators]\n"{account}" = "clerk"\n', encoding="utf-8")
    monkeypatch.setenv("ZWGK_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("ZWGK_CONFIG", str(tmp_path / "zwgk.toml"))
    return sqlite_url


def test_a_mapped_operator_signs_as_themselves(mapped: str, capsys: pytest.CaptureFixture[str]) -> None:
    item = ok_json(capsys, "item", "new", "--title", "T", "--unit", "gov", "--category", "3.4", "--timing",
                   "periodic", "--kind", "info", "--as", "clerk")["id"]
    sig = ok_json(capsys, "advance", item, "submit", "--as", "clerk")
    assert sig["operator"] == ACCOUNT


def test_a_mapped_operator_signing_for_another_must_say_they_record_it(mapped: str,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    item = ok_json(capsys, "item", "new", "--title", "T", "--unit", "gov", "--category", "3.4", "--timing",
                   "periodic", "--kind", "info", "--as", "clerk")["id"]
    ok_json(capsys, "advance", item, "submit", "--as", "clerk")
    rc, out, err = run(capsys, "advance", item, "proofread", "--as", "proof")
    assert (rc, out) == (2, "")
    assert one_error_line(err) == (f"operator {ACCOUNT} is clerk ({Path(os.environ['ZWGK_CONFIG'])}); signing as "
                                   "proof needs --recorded-by clerk")
    sig = ok_json(capsys, "advance", item, "proofread", "--as", "proof", "--recorded-by", "clerk")
    assert (sig["actor"], sig["recorded_by"], sig["operator"]) == ("proof", "clerk", ACCOUNT)
    rc, _, err = run(capsys, "person", "add", "x", "--name", "X", "--as", ADMIN)
    # an act of authority is not a paper sign-off: there is nothing to record for another (it has no --recorded-by)
    assert rc == 2 and one_error_line(err).endswith("signing as admin is not for them: only clerk signs here")


def test_the_operator_map_is_checked_in_the_api_too(sqlite_url: str) -> None:
    wf = seed(Workflow(sqlite_url))
    item = new_info(wf)
    wf.close()
    config = parse({"operators": {"oa:li4": "sec"}})
    host = Workflow(sqlite_url, operator="oa:li4", config=config)
    try:
        with pytest.raises(InvalidInput, match="operator oa:li4 is sec"):
            host.advance(item, "submit", actor="clerk")
        assert host.advance(item, "submit", actor="clerk", recorded_by="sec").recorded_by == "sec"
    finally:
        host.close()
