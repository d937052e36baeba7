"""The `zwgk` commands of deadlines and reminders: deadlines, deadline show|done, reminders, remind, calendar,
config show, item new --schedule/--period, daemon --once; in-process through `scripts.zwgk.main` (with capsys)
and a few runs of the installed console script.

The contract, as for every command: exit 0 done, 2 bad input or a refused action; an error is exactly one line
on stderr starting with `zwgk: `, nothing on stdout, and nothing written to the database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifiers import Result
from tests.cli_helpers import isolate, ok, ok_json, one_error_line, run, snapshot, url_of, world_copy
from tests.conftest import new_info, publish, seed
from tests.recording import Recorder
from workflow import Workflow
from workflow.workdays import WorkCalendar

CST = timezone(timedelta(hours=8))
NOW = "2026-10-13T09:00:00+08:00"  # a Tuesday: the interpretation (due Saturday 10 October) is 2 days overdue
ZWGK = Path(sys.executable).with_name("zwgk")
BODY = "正文机密-BODY-c41d-不得外传"  # items' bodies: never printed by a reminder
TITLE = "平田乡村庄建设管理办法"
DEADLINE_KEYS = {"id", "key", "kind", "item_id", "schedule", "period", "title", "responsible", "roles", "unit",
                 "starts_on", "days", "due_on", "provisional", "status", "step", "next_at", "closed_by", "closed_at",
                 "closed_note", "stored_status", "kind_zh", "request_id"}
NOTIFICATION_KEYS = {"id", "key", "deadline_id", "step", "recipient", "channel", "subject", "status", "attempts",
                     "next_attempt_at", "last_error", "sent_at", "acked_by", "acked_at"}
OVERRIDES_2027 = """
[2027]
holidays = ["2027-01-01", "2027-02-05..2027-02-13"]
workdays = ["2027-01-02", "2027-02-14"]
"""


# -- helpers ----------------------------------------------------------------------------------------------------


def summary(*, rolled: int = 0, recomputed: int = 0, planned: int = 0, sent: int = 0, failed: int = 0,
            dead: int = 0, sealed: int = 0, witnessed: int = 0) -> str:
    """The last line `daemon --once` prints: what each job did. The first pass over a database seals its chains'
    heads in the register (no witness is configured here); a pass after which no chain moved seals nothing."""
    return (f"rolled {rolled}, recomputed {recomputed}, planned {planned}, sent {sent}, failed {failed}, "
            f"dead {dead}, sealed {sealed}, witnessed {witnessed}")


def refused(capsys: pytest.CaptureFixture[str], db: Path | None, *argv: str) -> str:
    """Run a command that must fail: exit 2, one line on stderr, nothing on stdout, nothing written."""
    before = snapshot(db) if db else None
    rc, out, err = run(capsys, *argv)
    assert rc == 2, (rc, out, err)
    assert out == "", f"a failed command printed to stdout: {out!r}"
    message = one_error_line(err)
    if db:
        assert snapshot(db) == before, "a refused command changed the database"
    return message


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ZWGK_") or k == "ZWGK_LANG"}


def zwgk(*argv: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ZWGK), *argv], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def local(day: date, hour: int = 8, minute: int = 30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CST)


def deadline_ids(path: Path) -> dict[str, int]:
    with Workflow(url_of(path)) as wf:
        return {d.key: d.id for d in wf.deadlines()}


def keys_of(found: list[dict[str, Any]]) -> set[str]:
    return {d["key"] for d in found}


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# -- a recording channel (for dead letters through the CLI) --------------------------------------------------------




# -- fixtures ----------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once, copied per test.

    1 July 2026: the schedules are rolled (finance and indicators 2026Q2 due 21 July, the self-assessment 2026H1
    due 14 July: all overdue by NOW). 30 September 10:00: the policy `pol` is published (its interpretation is due
    10 October, overdue by NOW) and the draft `d1` (drafted by drafter2) is registered (published by 3 November).
    """
    path = tmp_path_factory.mktemp("deadlines") / "zwgk.db"
    clock = Clock(local(date(2026, 7, 1), 9, 0))
    with Workflow(url_of(path), clock=clock) as wf:
        seed(wf)
        assert len(wf.roll_schedules()) == 3
        clock.now = local(date(2026, 9, 30), 10, 0)
        new_info(wf, id="pol", kind="policy", category="1.1", timing="immediate", title=TITLE, body=BODY)
        publish(wf, "pol")
        new_info(wf, id="d1", body=BODY, drafter="drafter2")
    return path


@pytest.fixture
def world(world_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ZWGK_NOW", NOW)
    return world_copy(world_template, tmp_path, monkeypatch)


@pytest.fixture
def year_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A policy published on 30 December 2026: its interpretation is due in 2027, which the calendar does not know."""
    path = tmp_path / "year_end.db"
    with Workflow(url_of(path), clock=lambda: local(date(2026, 12, 30), 10, 0)) as wf:
        seed(wf)
        new_info(wf, id="pol", kind="policy", category="1.1", timing="immediate", title=TITLE, body=BODY)
        publish(wf, "pol")
    monkeypatch.setenv("ZWGK_DATABASE_URL", url_of(path))
    monkeypatch.setenv("ZWGK_NOW", "2026-12-30T15:00:00+08:00")
    return path


# -- deadlines -----------------------------------------------------------------------------------------------------


def test_deadlines_human_lines_by_due_date(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    ids = deadline_ids(world)
    lines = ok(capsys, "deadlines").splitlines()
    assert len(lines) == len(ids) == 9
    assert [line.split()[0] for line in lines] == [f"#{ids[k]}" for k in (
        "periodic:self-assessment:2026H1", "periodic:finance:2026Q2", "periodic:indicators:2026Q2",
        "stage:pol:1:confidentiality_review", "stage:pol:1:leader_check",
        "stage:pol:1:head_approval", "interpretation:pol", "proactive:pol", "proactive:d1")]
    interp = next(line for line in lines if line.startswith(f"#{ids['interpretation:pol']} "))
    assert interp.split()[1:6] == ["2026-10-10", "overdue", "政策解读", "pol", "clerk"]
    assert interp.endswith(TITLE)
    duty = lines[0].split()
    assert duty[1:6] == ["2026-07-14", "overdue", "定期公开", "self-assessment", "2026H1"]
    assert duty[6] == "head"
    d1 = lines[-1].split()
    assert d1[1:6] == ["2026-11-03", "open", "主动公开", "d1", "drafter2"]
    assert BODY not in "\n".join(lines)


def test_deadlines_json(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    found = ok_json(capsys, "deadlines")
    assert len(found) == 9
    for d in found:
        assert set(d) == DEADLINE_KEYS
    by_key = {d["key"]: d for d in found}
    interp = by_key["interpretation:pol"]
    assert {k: interp[k] for k in ("kind", "kind_zh", "item_id", "responsible", "roles", "unit", "starts_on", "days",
                                   "due_on", "provisional", "status", "stored_status", "closed_by")} == {
        "kind": "interpretation", "kind_zh": "政策解读", "item_id": "pol", "responsible": "clerk", "roles": [],
        "unit": "gov", "starts_on": "2026-09-30", "days": 3, "due_on": "2026-10-10", "provisional": False,
        "status": "overdue",  # by today's date ...
        "stored_status": "open",  # ... though no daemon has looked at it yet
        "closed_by": None}
    assert interp["next_at"] == "2026-10-09T00:30:00+00:00"  # the day before, when the office opens
    stage = by_key["stage:pol:1:confidentiality_review"]
    assert (stage["status"], stage["roles"], stage["responsible"]) == (
        "met", ["confidentiality_reviewer"], None)  # the proofreader had signed before the item moved on
    approval = by_key["stage:pol:1:head_approval"]
    assert (approval["status"], approval["roles"]) == ("met", ["publisher"])  # and the head
    finance = by_key["periodic:finance:2026Q2"]
    assert (finance["schedule"], finance["period"], finance["item_id"], finance["roles"]) == (
        "finance", "2026Q2", None, ["drafter"])
    assert BODY not in json.dumps(found, ensure_ascii=False)


def test_deadlines_filters(capsys: pytest.CaptureFixture[str], world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    overdue = {"periodic:self-assessment:2026H1", "periodic:finance:2026Q2", "periodic:indicators:2026Q2",
               "interpretation:pol"}
    met = {"proactive:pol", "stage:pol:1:confidentiality_review", "stage:pol:1:leader_check",
           "stage:pol:1:head_approval"}
    assert keys_of(ok_json(capsys, "deadlines", "--overdue")) == overdue
    assert keys_of(ok_json(capsys, "deadlines", "--status", "overdue")) == overdue
    assert keys_of(ok_json(capsys, "deadlines", "--status", "open")) == {"proactive:d1"}
    assert keys_of(ok_json(capsys, "deadlines", "--status", "met")) == met
    assert ok_json(capsys, "deadlines", "--status", "cancelled") == []
    assert keys_of(ok_json(capsys, "deadlines", "--due-before", "2026-10-10")) == (
        overdue - {"interpretation:pol"}) | (met - {"proactive:pol"})
    assert keys_of(ok_json(capsys, "deadlines", "--due-before", "2026-10-11", "--overdue")) == overdue
    assert keys_of(ok_json(capsys, "deadlines", "--item", "pol")) == met | {"interpretation:pol"}
    assert keys_of(ok_json(capsys, "deadlines", "--item", "d1")) == {"proactive:d1"}
    assert ok_json(capsys, "deadlines", "--item", "nosuch") == []
    assert keys_of(ok_json(capsys, "deadlines", "--item", "pol", "--overdue")) == {"interpretation:pol"}
    assert len(ok(capsys, "deadlines", "--overdue").splitlines()) == 4
    # the same database on Friday 9 October: the interpretation was not overdue yet
    monkeypatch.setenv("ZWGK_NOW", "2026-10-09T09:00:00+08:00")
    assert keys_of(ok_json(capsys, "deadlines", "--overdue")) == overdue - {"interpretation:pol"}
    assert keys_of(ok_json(capsys, "deadlines", "--status", "open")) == {"interpretation:pol", "proactive:d1"}


@pytest.mark.parametrize(("argv", "says"), [
    (["deadlines", "--status", "late"], "unknown deadline status 'late'"),
    (["deadlines", "--due-before", "2026-13-01"], "'2026-13-01' is not a date"),
    (["deadlines", "--due-before", "next week"], "is not a date"),
    (["deadline", "show", "999"], "no deadline 999"),
    (["deadline", "show", "one"], "argument id: 'one' is not a whole number"),
    (["deadline", "show", str(2**31)], "argument id: 2147483648 is out of range (0 to 2147483647)"),
    (["deadline", "done", "-1", "--as", "head"], "argument id: -1 is out of range (0 to 2147483647)"),
    (["reminders", "--limit", "ten"], "argument --limit: 'ten' is not a whole number"),
    (["reminders", "--limit", str(2**31)], "argument --limit: 2147483648 is out of range (0 to 2147483647)"),
    (["deadline", "done", "999", "--as", "head"], "no deadline 999"),
    (["deadline", "done", "3"], "--as"),
    (["reminders", "--limit", "0"], "--limit must be at least 1"),
    (["reminders", "--pending", "--sent"], "not allowed with"),
    (["reminders", "--sent", "--cancelled"], "not allowed with"),
    (["remind", "--now", "tomorrow"], "is not an ISO time"),
    (["remind", "--now", "2026-10-13T09:00:00"], "needs an offset"),
    (["calendar", "show", "1066"], "between 1901 and 2199"),
    (["calendar", "show", "MMXXVII"], "invalid int value"),
])
def test_bad_input_is_refused(capsys: pytest.CaptureFixture[str], world: Path, argv: list[str], says: str) -> None:
    assert says in refused(capsys, world, *argv)


def test_deadline_show(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    ids = deadline_ids(world)
    n = ids["interpretation:pol"]
    assert ok(capsys, "deadline", "show", str(n)).splitlines()[0] in ok(capsys, "deadlines").splitlines()
    shown = ok_json(capsys, "deadline", "show", str(n))
    assert shown == next(d for d in ok_json(capsys, "deadlines") if d["id"] == n)
    met = ok_json(capsys, "deadline", "show", str(ids["proactive:pol"]))
    assert (met["status"], met["closed_at"], met["next_at"]) == ("met", "2026-09-30T02:00:00+00:00", None)
    with Workflow(url_of(world)) as wf:
        published = next(s for s in wf.history("pol") if s.action == "publish")
    assert met["closed_by"] == f"gov:{published.seq}"  # the publishing signature, as CHAIN:SEQ


def test_deadline_done_closes_an_office_duty(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    n = deadline_ids(world)["periodic:self-assessment:2026H1"]
    line = ok(capsys, "deadline", "done", str(n), "--as", "head", "--note", "自评会已于10月12日召开")
    assert line.split()[:3] == [f"#{n}", "2026-07-14", "met"]
    shown = ok_json(capsys, "deadline", "show", str(n))
    assert (shown["status"], shown["stored_status"], shown["next_at"]) == ("met", "met", None)
    assert shown["closed_note"] == "head: 自评会已于10月12日召开"
    assert shown["closed_at"] == "2026-10-13T01:00:00+00:00"  # ZWGK_NOW
    assert keys_of(ok_json(capsys, "deadlines", "--overdue")) == {
        "periodic:finance:2026Q2", "periodic:indicators:2026Q2", "interpretation:pol"}
    assert f"deadline {n} is already met" in refused(capsys, world, "deadline", "done", str(n), "--as", "head")
    # and no reminder is planned for it any more
    planned = ok_json(capsys, "remind", "--dry-run")
    assert n not in {p["deadline"] for p in planned}


def test_deadline_done_without_a_note(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    n = deadline_ids(world)["periodic:self-assessment:2026H1"]
    done = ok_json(capsys, "deadline", "done", str(n), "--as", "multi")
    assert (done["status"], done["closed_note"]) == ("met", "multi: ")


@pytest.mark.parametrize(("deadline_key", "says"), [
    ("proactive:d1", "(proactive) is met by signing the item, not by hand"),
    ("interpretation:pol", "(interpretation) is met by signing the item, not by hand"),
    ("periodic:finance:2026Q2", "is met by publishing an item for finance 2026Q2 "
                                "(zwgk item new --schedule finance --period 2026Q2)"),
    ("proactive:pol", "is already met"),
])
def test_deadline_done_refuses_what_signing_or_publishing_meets(capsys: pytest.CaptureFixture[str], world: Path,
                                                                deadline_key: str, says: str) -> None:
    n = deadline_ids(world)[deadline_key]
    message = refused(capsys, world, "deadline", "done", str(n), "--as", "clerk", "--note", "已办")
    assert message == f"deadline {n} {says}"


def test_deadline_done_by_an_unknown_person(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    n = deadline_ids(world)["periodic:self-assessment:2026H1"]
    assert refused(capsys, world, "deadline", "done", str(n), "--as", "nobody") == "no active person 'nobody'"


# -- remind and reminders --------------------------------------------------------------------------------------------


def test_remind_dry_run_writes_nothing_then_remind_queues(capsys: pytest.CaptureFixture[str], world: Path) -> None:
    ids = deadline_ids(world)
    due_on = {d["id"]: d["due_on"] for d in ok_json(capsys, "deadlines")}
    at = "2026-10-12T08:30:00+08:00"  # Monday: the interpretation is 1 working day overdue
    before = snapshot(world)
    dry = ok(capsys, "remind", "--dry-run", "--now", at)
    dry_json = ok_json(capsys, "remind", "--dry-run", "--now", at)
    assert snapshot(world) == before
    lines = dry.splitlines()
    assert all(line.startswith("would queue #") for line in lines)
    interp = [p for p in dry_json if p["deadline"] == ids["interpretation:pol"]]
    assert [(p["step"], p["recipient"], p["channel"]) for p in interp] == [
        ("overdue1", "clerk", "console"), ("overdue1", "lead", "console"), ("overdue1", "multi", "console")]
    for p in dry_json:
        assert set(p) == {"deadline", "step", "recipient", "channel", "key", "subject", "not_before"}
        assert p["key"] == f"zwgk:{p['deadline']}:{due_on[p['deadline']]}:{p['step']}:{p['recipient']}:{p['channel']}"
        assert datetime.fromisoformat(p["not_before"]) == datetime.fromisoformat(at)
    assert {p["deadline"] for p in dry_json} == {ids[k] for k in (
        "periodic:self-assessment:2026H1", "periodic:finance:2026Q2", "periodic:indicators:2026Q2",
        "interpretation:pol")}
    assert f"would queue #{ids['interpretation:pol']} overdue1   console  lead" in dry
    assert len(lines) == len(dry_json) == 3 + 3 + 5 + 5  # the duty: head, multi, lead; the others: 3 drafters + 2

    queued = ok(capsys, "remind", "--now", at)
    assert queued.replace("queued #", "would queue #") == dry
    assert sorted(n["key"] for n in ok_json(capsys, "reminders", "--pending")) == sorted(p["key"] for p in dry_json)
    assert ok(capsys, "remind", "--now", at) == "nothing is due\n"
    # a day later (ZWGK_NOW), the next step
    later = ok_json(capsys, "remind")
    assert {p["step"] for p in later if p["deadline"] == ids["interpretation:pol"]} == {"overdue2"}
    assert len(ok_json(capsys, "reminders")) == 2 * len(dry_json)


def test_remind_uses_the_configured_rules(capsys: pytest.CaptureFixture[str], world: Path, tmp_path: Path) -> None:
    config = write(tmp_path / "rules.toml", "[reminders]\nbefore_days = 2\nescalate_leader_after = 0\n")
    ids = deadline_ids(world)
    # the deadline's first step was computed when it was opened (the day before): it is due then, at the earliest
    planned = ok_json(capsys, "remind", "--dry-run", "--now", "2026-10-09T08:30:00+08:00", "--config", str(config))
    interp = [(p["step"], p["recipient"]) for p in planned if p["deadline"] == ids["interpretation:pol"]]
    assert interp == [("before1", "clerk")]
    planned = ok_json(capsys, "remind", "--dry-run", "--now", "2026-10-10T08:30:00+08:00", "--config", str(config))
    interp = [(p["step"], p["recipient"]) for p in planned if p["deadline"] == ids["interpretation:pol"]]
    assert interp == [("due", "clerk"), ("due", "lead"), ("due", "multi")]  # escalated on the due day itself


def test_reminders_pending_sent_and_dead(capsys: pytest.CaptureFixture[str], world: Path, tmp_path: Path,
                                        recorder: Recorder) -> None:
    config = write(tmp_path / "rec.toml", '[channels.rec]\ntype = "recording"\n[reminders]\nchannels = ["rec"]\n')
    # The last message meets a busy server: a failure worth retrying, after which a channel rests for the pass.
    recorder.script = [Result(False, "550 5.1.1 no such user", retry=False), *[Result(True, "ok")] * 14,
                       Result(False, "451 busy", retry=True)]
    started = time.monotonic()  # the daemon's clock starts at ZWGK_NOW and runs on at the real pace
    rc, out, _err = run(capsys, "daemon", "--once", "--config", str(config))
    ran = time.monotonic() - started
    assert rc == 0
    assert out.splitlines()[-1] == summary(rolled=2, planned=16, sent=14, failed=2, dead=1, sealed=1)
    assert len(recorder.attempts) == 16

    everything = ok_json(capsys, "reminders", "--config", str(config))
    assert len(everything) == 16
    assert [n["id"] for n in everything] == sorted((n["id"] for n in everything), reverse=True)  # newest first
    for n in everything:
        assert set(n) == NOTIFICATION_KEYS
    dead = ok_json(capsys, "reminders", "--dead")
    assert [(n["status"], n["attempts"], n["last_error"]) for n in dead] == [("dead", 1, "550 5.1.1 no such user")]
    assert dead[0]["key"] == recorder.attempts[0].key
    pending = ok_json(capsys, "reminders", "--pending")
    assert [(n["status"], n["attempts"], n["last_error"]) for n in pending] == [("pending", 1, "451 busy")]
    retry_at = datetime.fromisoformat(pending[0]["next_attempt_at"])
    assert 30 <= (retry_at - datetime.fromisoformat(NOW)).total_seconds() <= 60 + ran  # backoff 60 s, jitter
    sent = ok_json(capsys, "reminders", "--sent")
    assert len(sent) == 14 and {n["status"] for n in sent} == {"sent"}
    assert {n["sent_at"] is not None for n in sent} == {True}
    assert ok_json(capsys, "reminders", "--sending") == []
    assert len(ok_json(capsys, "reminders", "--sent", "--limit", "5")) == 5

    lines = ok(capsys, "reminders", "--dead").splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"#{dead[0]['id']}") and " dead " in lines[0] and " rec " in lines[0]
    assert lines[0].endswith("  last error: 550 5.1.1 no such user")
    assert " x1 " in lines[0]
    sent_lines = ok(capsys, "reminders", "--sent").splitlines()
    assert len(sent_lines) == 14
    first = next(n for n in sent if f"#{n['id']} " in sent_lines[0])  # shown in the office's time, JSON in UTC
    shown = datetime.fromisoformat(first["sent_at"]).astimezone(ZoneInfo("Asia/Shanghai")).isoformat(
        timespec="seconds")
    assert f" {shown}  " in sent_lines[0] and shown.endswith("+08:00")


def test_daemon_once_sends_to_the_console_and_prints_a_summary(capsys: pytest.CaptureFixture[str],
                                                               world: Path) -> None:
    rc, out, err = run(capsys, "daemon", "--once")
    assert rc == 0, err
    *blocks, last = out.splitlines()
    assert last == summary(rolled=2, planned=16, sent=16, sealed=1)
    heads = [line for line in blocks if line.startswith("[提醒→")]
    assert len(heads) == 16
    assert f"[提醒→clerk clerk] 【政务公开提醒】政策解读 pol {TITLE} 已逾期 2 个工作日" in heads
    assert f"[提醒→lead lead] 【督办】【政务公开提醒】政策解读 pol {TITLE} 已逾期 2 个工作日" in heads
    assert "    期限 due: 2026-10-10 下班前" in blocks
    assert "    督办 escalation: 责任人 clerk 已逾期 2 个工作日，请督促办理。" in blocks
    assert BODY not in out and BODY not in err
    for line in err.splitlines():  # the daemon logs JSON lines to stderr
        assert "event" in json.loads(line)
    assert {n["status"] for n in ok_json(capsys, "reminders")} == {"sent"}
    # once more at the same time: everything was done
    rc, out, err = run(capsys, "daemon", "--once")
    assert (rc, out) == (0, summary() + "\n"), err


def steps_by_deadline(listed: list[dict[str, Any]]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for n in listed:
        out.setdefault(n["deadline_id"], set()).add(n["step"])
    return out


def test_daemon_once_at_night_queues_for_the_morning(capsys: pytest.CaptureFixture[str], world: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZWGK_NOW", "2026-10-12T21:00:00+08:00")
    rc, out, err = run(capsys, "daemon", "--once")
    assert (rc, out) == (0, summary(rolled=2, planned=16, sealed=1) + "\n"), err
    night = ok_json(capsys, "reminders", "--pending")
    assert len(night) == 16
    monkeypatch.setenv("ZWGK_NOW", "2026-10-13T08:30:00+08:00")
    rc, out, err = run(capsys, "daemon", "--once")
    assert rc == 0, err
    # The morning's next step of each deadline supersedes last night's: only the 16 new ones go out.
    assert out.splitlines()[-1] == summary(planned=16, sent=16)
    assert len([line for line in out.splitlines() if line.startswith("[提醒→")]) == 16
    sent, cancelled = ok_json(capsys, "reminders", "--sent"), ok_json(capsys, "reminders", "--cancelled")
    assert sorted(n["id"] for n in cancelled) == sorted(n["id"] for n in night)
    assert {(n["status"], n["attempts"], n["sent_at"]) for n in cancelled} == {("cancelled", 0, None)}
    assert len(sent) == 16 and not {n["id"] for n in sent} & {n["id"] for n in night}
    last_night, this_morning = steps_by_deadline(night), steps_by_deadline(sent)
    assert set(last_night) == set(this_morning) and len(last_night) == 4  # one step per deadline each time
    assert all(len(this_morning[d]) == 1 and this_morning[d] != last_night[d] for d in last_night)
    assert ok_json(capsys, "reminders", "--pending") == []
    assert len(ok(capsys, "reminders", "--cancelled").splitlines()) == 16


def test_a_reminder_queued_for_a_duty_done_since_is_cancelled(capsys: pytest.CaptureFixture[str], world: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    duty = deadline_ids(world)["periodic:self-assessment:2026H1"]
    monkeypatch.setenv("ZWGK_NOW", "2026-10-12T21:00:00+08:00")
    assert run(capsys, "daemon", "--once")[1] == summary(rolled=2, planned=16, sealed=1) + "\n"
    night = ok_json(capsys, "reminders", "--pending")
    queued = [n for n in night if n["deadline_id"] == duty]
    assert sorted(n["recipient"] for n in queued) == ["head", "lead", "multi"]
    monkeypatch.setenv("ZWGK_NOW", "2026-10-13T08:00:00+08:00")
    ok(capsys, "deadline", "done", str(duty), "--as", "head", "--note", "自评会已召开")
    monkeypatch.setenv("ZWGK_NOW", "2026-10-13T08:30:00+08:00")
    rc, out, err = run(capsys, "daemon", "--once")
    assert rc == 0, err
    # This morning's 13 for the three other deadlines (superseding their 13 of last night); not the duty's 3
    assert out.splitlines()[-1] == summary(planned=13, sent=13)
    assert "自评" not in "".join(line for line in out.splitlines() if line.startswith("[提醒→"))
    listed = ok_json(capsys, "reminders")
    assert len(listed) == 16 + 13
    night_ids = {n["id"] for n in night}
    assert {(n["deadline_id"] == duty, n["id"] in night_ids, n["status"], n["attempts"]) for n in listed} == {
        (True, True, "cancelled", 0),  # the duty was done
        (False, True, "cancelled", 0),  # superseded by this morning's step
        (False, False, "sent", 1)}
    assert sorted(n["id"] for n in ok_json(capsys, "reminders", "--cancelled")) == sorted(night_ids)
    lines = [line for line in ok(capsys, "reminders").splitlines() if " cancelled " in line]
    assert sorted(line.split()[0] for line in lines) == sorted(f"#{i}" for i in night_ids)


# -- the calendar ------------------------------------------------------------------------------------------------------


def test_calendar_show_2026(capsys: pytest.CaptureFixture[str]) -> None:
    lines = ok(capsys, "calendar", "show", "2026").splitlines()
    assert lines[0] == "2026: 248 working days (source: chinese_calendar)"
    assert "  2026-10-10 Sat workday  National Day" in lines
    assert "  2026-10-01 Thu holiday  National Day" in lines
    assert "  2026-02-14 Sat workday  Spring Festival" in lines
    shown = ok_json(capsys, "calendar", "show", "2026")
    assert (shown["year"], shown["source"], shown["working_days"]) == (2026, "chinese_calendar", 248)
    assert {"date": "2026-10-10", "kind": "workday", "name": "National Day"} in shown["days"]
    assert {"date": "2026-10-07", "kind": "holiday", "name": "National Day"} in shown["days"]
    assert not (Path() / "zwgk.db").exists()  # no database needed, none created


def test_calendar_show_2027_is_provisional(capsys: pytest.CaptureFixture[str]) -> None:
    lines = ok(capsys, "calendar", "show", "2027").splitlines()
    assert lines[0].endswith("(source: provisional)")
    assert "  2027-01-01 Fri holiday  New Year's Day" in lines
    shown = json.loads(ok(capsys, "calendar", "show", "2027", "--json"))
    assert shown["source"] == "provisional"


def test_calendar_reload_with_overrides(capsys: pytest.CaptureFixture[str], year_end: Path, tmp_path: Path) -> None:
    n = deadline_ids(year_end)["interpretation:pol"]
    before = ok_json(capsys, "deadline", "show", str(n))
    assert (before["due_on"], before["provisional"]) == ("2027-01-05", True)
    assert ok(capsys, "calendar", "reload") == "no provisional deadline changed\n"

    config = write(tmp_path / "conf" / "zwgk.toml", '[calendar]\noverrides = "cal.toml"\n')
    write(tmp_path / "conf" / "cal.toml", OVERRIDES_2027)  # beside the configuration file, not the working dir
    lines = ok(capsys, "calendar", "show", "2027", "--config", str(config)).splitlines()
    assert lines[0].endswith("(source: overrides)")
    assert "  2027-01-02 Sat workday" in lines and "  2027-02-05 Fri holiday" in lines
    assert ok(capsys, "calendar", "reload", "--config", str(config)) == f"#{n}: due 2027-01-05 -> 2027-01-04\n"
    after = ok_json(capsys, "deadline", "show", str(n))
    assert (after["due_on"], after["provisional"], after["next_at"]) == (
        "2027-01-04", False, "2027-01-02T00:30:00+00:00")
    assert ok_json(capsys, "calendar", "reload", "--config", str(config)) == []


def test_calendar_reload_json(capsys: pytest.CaptureFixture[str], year_end: Path, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    n = deadline_ids(year_end)["interpretation:pol"]
    write(tmp_path / "cal.toml", OVERRIDES_2027)
    monkeypatch.setenv("ZWGK_CONFIG", str(write(tmp_path / "z.toml", '[calendar]\noverrides = "cal.toml"\n')))
    assert ok_json(capsys, "calendar", "reload") == [{"deadline": n, "was": "2027-01-05", "now": "2027-01-04"}]


@pytest.mark.parametrize(("overrides", "says"), [
    ('[2027]\nworkdays = ["2027-01-02"]\n', "[2027] has no holidays list"),
    ('[2027]\nholidays = ["2027-01-04"]\nworkdays = ["2027-01-05"]\n', "2027-01-05 is a Tuesday"),
    ("[2027\n", "not valid TOML"),
])
def test_calendar_with_bad_overrides(capsys: pytest.CaptureFixture[str], year_end: Path, tmp_path: Path,
                                     overrides: str, says: str) -> None:
    write(tmp_path / "cal.toml", overrides)
    config = write(tmp_path / "z.toml", '[calendar]\noverrides = "cal.toml"\n')
    for argv in (["calendar", "show", "2027"], ["calendar", "reload"], ["deadlines"]):
        message = refused(capsys, year_end, *argv, "--config", str(config))
        assert str(tmp_path / "cal.toml") in message and says in message


# -- the configuration ---------------------------------------------------------------------------------------------


SECRET_CONFIG = """
[channels.email]
host = "smtp.town.example"
sender = "zwgk@town.example"
username = "clerk@town.example"
password = "pw-IN-FILE-5d1e"
[channels.wecom]
key = "wecom-KEY-8a2b"
[channels.hook]
type = "webhook"
url = "https://hooks.town.example/notify?token=hook-TOKEN-77c0"
headers = { Authorization = "Bearer hook-BEARER-19fe" }
[channels.dingtalk]
token = "ding-TOKEN-0b3c"
[channels.console]
[reminders]
channels = ["email", "wecom", "console"]
"""
SECRETS = ("pw-IN-FILE-5d1e", "wecom-KEY-8a2b", "hook-TOKEN-77c0", "hook-BEARER-19fe", "ding-TOKEN-0b3c")
ENV_SECRETS = {"ZWGK_EMAIL_PASSWORD": "pw-FROM-ENV-6e2f", "ZWGK_DINGTALK_SECRET": "SECding-ENV-4a71"}


def test_config_show_redacts_secrets(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path / "zwgk.toml", SECRET_CONFIG)
    for name, value in ENV_SECRETS.items():
        monkeypatch.setenv(name, value)
    rc, out, err = run(capsys, "config", "show", "--config", str(config))
    assert (rc, err) == (0, "")
    for secret in (*SECRETS, *ENV_SECRETS.values()):
        assert secret not in out
    shown = json.loads(out)
    assert shown["source"] == str(config)
    channels = shown["channels"]
    assert channels["email"] == {"type": "email", "host": "smtp.town.example", "sender": "zwgk@town.example",
                                 "username": "clerk@town.example", "password": "***"}
    assert channels["wecom"] == {"type": "wecom", "key": "***"}
    assert channels["hook"] == {"type": "webhook", "url": "https://hooks.town.example/notify?***",
                                "headers": {"Authorization": "***"}}
    assert channels["dingtalk"] == {"type": "dingtalk", "token": "***", "secret": "***"}  # the secret from the env
    assert channels["console"] == {"type": "console"}
    assert shown["reminders"]["channels"] == ["email", "wecom", "console"]
    assert shown["office"] == {"name": "乡人民政府", "timezone": "Asia/Shanghai", "opens": "08:30", "closes": "17:30"}
    assert [s["id"] for s in shown["schedule"]] == ["finance", "indicators", "budget", "self-assessment",
                                                    "annual-report"]


def test_config_show_defaults_and_where_the_file_is_found(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    shown = json.loads(ok(capsys, "config", "show"))
    assert shown["source"] == "(built-in defaults)"
    assert shown["reminders"]["before_days"] == 1 and shown["channels"] == {"console": {"type": "console"}}
    beside = write(tmp_path / "db" / "zwgk.toml", "[reminders]\nbefore_days = 2\n")
    monkeypatch.setenv("ZWGK_DATABASE_URL", url_of(tmp_path / "db" / "town.db"))
    shown = json.loads(ok(capsys, "config", "show"))  # zwgk.toml beside the database
    assert (shown["source"], shown["reminders"]["before_days"]) == (str(beside), 2)
    env = write(tmp_path / "env.toml", "[reminders]\nbefore_days = 3\n")
    monkeypatch.setenv("ZWGK_CONFIG", str(env))
    assert json.loads(ok(capsys, "config", "show"))["reminders"]["before_days"] == 3
    given = write(tmp_path / "given.toml", "[reminders]\nbefore_days = 4\n")
    assert json.loads(ok(capsys, "config", "show", "--config", str(given)))["reminders"]["before_days"] == 4
    missing = tmp_path / "missing.toml"
    assert refused(capsys, None, "config", "show", "--config", str(missing)) == (
        f"configuration file {missing} does not exist")
    monkeypatch.setenv("ZWGK_CONFIG", str(missing))
    assert "does not exist" in refused(capsys, None, "config", "show")


BAD_CONFIGS = [
    ("[reminders]\nbefore_dayz = 1\n", "reminders.before_dayz: unknown key"),
    ('[reminders]\nmax_attempts = "8"\n', "reminders.max_attempts: must be an integer"),
    ("[reminders]\nmax_attempts = true\n", "reminders.max_attempts: must be an integer"),
    ("[reminders]\nbefore_days = 1.5\n", "reminders.before_days: must be an integer"),
    ("[reminders]\nbackoff_seconds = -1\n", "reminders.backoff_seconds: must be at least 0"),
    ('[reminders]\nchannels = "console"\n', "reminders.channels: must be a list of strings"),
    ('[reminders]\nchannels = ["sms"]\n', "reminders.channels: channel 'sms' is not defined under [channels]"),
    ("[reminders]\nescalate_leader_after = 4\n", "reminders.escalate_head_after: must not be less than"),
    ('[office]\nopens = "8.30"\n', "office.opens: '8.30' is not a time of day"),
    ('[office]\ntimezone = "Asia/Beijing"\n', "office.timezone: unknown time zone 'Asia/Beijing'"),
    ('[office]\nopens = "18:00"\n', "office.closes: must be later than office.opens"),
    ('[[schedule]]\nid = "x"\ntitle = "t"\ncycle = "weekly"\ndue_days = 3\nrole = "head"\n',
     "schedule[0].cycle: 'weekly' is not one of: monthly, quarterly, half-yearly, yearly"),
    ('[[schedule]]\nid = "x"\ntitle = "t"\ncycle = "yearly"\ndue_date = "02-30"\nrole = "head"\n',
     "schedule[0].due_date: '02-30' is not a month and day"),
    ('[[schedule]]\nid = "x"\ntitle = "t"\ncycle = "yearly"\ndue_days = 3\n',
     "schedule[0]: give exactly one of responsible (a person) and role"),
    ("[channels]\nconsole = 1\n", "channels.console: must be a table"),
    ("frobnicate = 1\n", "frobnicate: unknown key"),
    ('[calendar]\noverrides = "nowhere.toml"\n', "calendar.overrides: cannot read"),
    ("[reminders\n", "Expected ']'"),
]


@pytest.mark.parametrize(("content", "says"), BAD_CONFIGS)
def test_invalid_config_is_one_line_naming_the_key(capsys: pytest.CaptureFixture[str], world: Path, tmp_path: Path,
                                                   content: str, says: str) -> None:
    bad = write(tmp_path / "bad.toml", content)
    message = refused(capsys, world, "config", "show", "--config", str(bad))
    assert message.startswith(f"{bad}: ") and says in message, message
    assert refused(capsys, world, "deadlines", "--config", str(bad)) == message
    assert refused(capsys, world, "remind", "--config", str(bad)) == message


@pytest.mark.parametrize(("content", "says"), [
    ('[channels.sms]\ntype = "sms"\n[reminders]\nchannels = ["sms"]\n', "channels.sms: unknown notifier channel 'sms'"),
    ('[channels.email]\nsender = "zwgk@town.example"\n[reminders]\nchannels = ["email"]\n',
     "channels.email: email: setting 'host' is required"),
])
def test_a_channel_that_cannot_be_built_is_refused_when_reminding(capsys: pytest.CaptureFixture[str], world: Path,
                                                                  tmp_path: Path, content: str, says: str) -> None:
    bad = write(tmp_path / "bad.toml", content)
    for argv in (["remind"], ["remind", "--dry-run"], ["daemon", "--once"]):
        message = refused(capsys, world, *argv, "--config", str(bad))
        assert message == f"{bad}: {says}" or message.startswith(f"{bad}: {says}"), message


def test_a_batch_of_zero_is_refused(capsys: pytest.CaptureFixture[str], world: Path, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.toml", "[reminders]\nbatch = 0\n")
    message = refused(capsys, world, "config", "show", "--config", str(bad))
    assert message == f"{bad}: reminders.batch: must be at least 1"
    for argv in (["remind"], ["daemon", "--once"]):
        assert refused(capsys, world, *argv, "--config", str(bad)) == message


PIPELINE_ROLES = "confidentiality_reviewer, drafter, head, leader, proofreader, publisher"


@pytest.mark.parametrize(("content", "says"), [
    ('[reminders]\nleader_role = "leadr"\n',
     f"reminders.leader_role: 'leadr' is not a role of pipeline zwgk-default (one of: {PIPELINE_ROLES})"),
    ('[deadlines]\npublished_state = "publised"\n',
     "deadlines.published_state: 'publised' is not a state of pipeline zwgk-default (one of: abolished, "
     "confidentiality_review, draft, head_approval, leader_check, published, retracted, withheld)"),
])
def test_names_the_pipeline_does_not_know_are_refused(capsys: pytest.CaptureFixture[str], world: Path,
                                                      tmp_path: Path, content: str, says: str) -> None:
    bad = write(tmp_path / "bad.toml", content)
    for argv in (["deadlines"], ["remind"], ["remind", "--dry-run"], ["daemon", "--once"]):
        assert refused(capsys, world, *argv, "--config", str(bad)) == f"{bad}: {says}"


def test_a_leap_day_schedule_does_not_stop_the_roll(capsys: pytest.CaptureFixture[str], world: Path,
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path / "leap.toml", '[[schedule]]\nid = "finance"\ntitle = "财务收支"\ncycle = "quarterly"\n'
                   'due_days = 15\nrole = "drafter"\ncategory = "3.4"\n\n[[schedule]]\nid = "leap"\n'
                   'title = "年度报告"\ncycle = "yearly"\ndue_date = "02-29"\nrole = "head"\ncategory = "6"\n')
    assert ok_json(capsys, "config", "show", "--config", str(config))["schedule"][1]["due_date"] == "02-29"
    rc, out, err = run(capsys, "daemon", "--once", "--config", str(config))
    assert rc == 0
    assert "job_failed" not in err, err[:300]
    assert out.splitlines()[-1].startswith("rolled 1,")  # 2025's report (due 28 Feb 2026) is long past
    assert "periodic:finance:2026Q3" in deadline_ids(world)
    # In January 2027 the 2026 report is rolled, due on the last day of February (a Sunday: so Monday 1 March).
    monkeypatch.setenv("ZWGK_NOW", "2027-01-05T09:00:00+08:00")
    rc, out, err = run(capsys, "daemon", "--once", "--config", str(config))
    assert rc == 0
    assert "job_failed" not in err, err[:300]
    leap = next(d for d in ok_json(capsys, "deadlines", "--config", str(config)) if d["key"] == "periodic:leap:2026")
    assert (leap["starts_on"], leap["due_on"], leap["provisional"]) == ("2027-02-28", "2027-03-01", True)


# -- periodic items ------------------------------------------------------------------------------------------------


def item_new(*extra: str) -> list[str]:
    return ["item", "new", "--title", "2026年第二季度乡村两级财务收支情况", "--unit", "gov", "--category", "3.4",
            "--timing", "periodic", "--kind", "info", "--body", BODY, "--as", "clerk", *extra]


@pytest.mark.parametrize(("extra", "says"), [
    (["--schedule", "finance", "--period", "2026Q5"], "'2026Q5' is not a quarterly period (like 2026Q3)"),
    (["--schedule", "finance", "--period", "2026-07"], "'2026-07' is not a quarterly period (like 2026Q3)"),
    (["--schedule", "finance", "--period", "2026q3"], "'2026q3' is not a quarterly period"),
    (["--schedule", "budget", "--period", "2026H1"], "'2026H1' is not a yearly period (like 2026)"),
    (["--schedule", "self-assessment", "--period", "2026H3"], "'2026H3' is not a half-yearly period"),
    (["--schedule", "nosuch", "--period", "2026Q3"], "no periodic schedule 'nosuch'"),
    (["--schedule", "finance"], "a periodic item names both its schedule and its period"),
    (["--period", "2026Q3"], "a periodic item names both its schedule and its period"),
])
def test_item_new_with_a_bad_schedule_or_period(capsys: pytest.CaptureFixture[str], world: Path, extra: list[str],
                                                says: str) -> None:
    assert says in refused(capsys, world, *item_new(*extra))


def test_publishing_the_periodic_item_meets_the_schedules_deadline(capsys: pytest.CaptureFixture[str],
                                                                   world: Path) -> None:
    n = deadline_ids(world)["periodic:finance:2026Q2"]
    made = ok_json(capsys, *item_new("--schedule", "finance", "--period", "2026Q2"))
    item_id = made["id"]
    shown = ok_json(capsys, "item", "show", item_id)
    assert (shown["schedule"], shown["period"]) == ("finance", "2026Q2")
    assert ok_json(capsys, "deadlines", "--item", item_id) == []  # its clock is the schedule's, not 20 days
    for action, who, *more in (("submit", "clerk"), ("proofread", "proof"), ("clear", "sec", "--decision", "full"),
                               ("check", "lead"), ("approve", "head")):
        ok(capsys, "advance", item_id, action, "--as", who, *more)
    assert ok_json(capsys, "deadline", "show", str(n))["status"] == "overdue"
    ok(capsys, "advance", item_id, "publish", "--as", "clerk")
    met = ok_json(capsys, "deadline", "show", str(n))
    assert (met["status"], met["next_at"], met["closed_at"]) == ("met", None, "2026-10-13T01:00:00+00:00")
    assert n not in {p["deadline"] for p in ok_json(capsys, "remind", "--dry-run")}


def test_a_period_published_before_its_deadline_opens_is_met_when_it_opens(capsys: pytest.CaptureFixture[str],
                                                                           world: Path) -> None:
    item_id = ok_json(capsys, *item_new("--schedule", "finance", "--period", "2026Q3"))["id"]
    for action, who, *more in (("submit", "clerk"), ("proofread", "proof"), ("clear", "sec", "--decision", "full"),
                               ("check", "lead"), ("approve", "head"), ("publish", "clerk")):
        ok(capsys, "advance", item_id, action, "--as", who, *more)
    assert "periodic:finance:2026Q3" not in deadline_ids(world)
    rc, _out, err = run(capsys, "daemon", "--once")  # the roll job opens 2026Q3's deadlines
    assert rc == 0, err
    by_key = {d["key"]: d for d in ok_json(capsys, "deadlines")}
    assert by_key["periodic:finance:2026Q3"]["status"] == "met"
    assert by_key["periodic:indicators:2026Q3"]["status"] == "open"


# -- the installed console script ---------------------------------------------------------------------------------


def test_console_script_daemon_once(world: Path) -> None:
    env = clean_env() | {"ZWGK_DATABASE_URL": url_of(world), "ZWGK_NOW": NOW}
    r = zwgk("daemon", "--once", env=env)
    assert r.returncode == 0, r.stderr
    *blocks, last = r.stdout.splitlines()
    assert last == summary(rolled=2, planned=16, sent=16, sealed=1)
    assert sum(1 for line in blocks if line.startswith("[提醒→")) == 16
    late = WorkCalendar().working_days_between(date(2026, 7, 14), date(2026, 10, 13))
    assert (f"[提醒→head head] 【政务公开提醒】定期公开 政务公开半年自评 half-yearly self-assessment (plan §五(三)) "
            f"2026H1 已逾期 {late} 个工作日") in blocks
    events = [json.loads(line)["event"] for line in r.stderr.splitlines()]
    assert "schedules_rolled" in events and "planned" in events and events.count("notify.sent") == 16
    assert BODY not in r.stdout + r.stderr
    r = zwgk("reminders", "--sent", "--json", env=env)
    assert (r.returncode, r.stderr) == (0, "")
    assert len(json.loads(r.stdout)) == 16


def test_console_script_config_show_never_prints_a_secret(tmp_path: Path) -> None:
    config = write(tmp_path / "zwgk.toml", SECRET_CONFIG)
    env = clean_env() | ENV_SECRETS | {"ZWGK_CONFIG": str(config)}
    for argv in (["config", "show"], ["config", "show", "-v"]):
        r = zwgk(*argv, env=env, cwd=tmp_path)
        assert (r.returncode, r.stderr) == (0, ""), r.stderr
        for secret in (*SECRETS, *ENV_SECRETS.values()):
            assert secret not in r.stdout
        assert json.loads(r.stdout)["channels"]["email"]["password"] == "***"


def test_console_script_deadlines_and_a_refused_done(world: Path) -> None:
    env = clean_env() | {"ZWGK_DATABASE_URL": url_of(world), "ZWGK_NOW": NOW}
    r = zwgk("deadlines", "--overdue", "--json", env=env)
    assert (r.returncode, r.stderr) == (0, "")
    overdue = {d["key"]: d for d in json.loads(r.stdout)}
    assert set(overdue) == {"periodic:self-assessment:2026H1", "periodic:finance:2026Q2",
                            "periodic:indicators:2026Q2", "interpretation:pol"}
    before = snapshot(world)
    d1 = deadline_ids(world)["proactive:d1"]
    r = zwgk("deadline", "done", str(d1), "--as", "drafter2", "--note", "已办", env=env)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"zwgk: deadline {d1} (proactive) is met by signing the item, not by hand\n"
    assert snapshot(world) == before
    duty = overdue["periodic:self-assessment:2026H1"]["id"]
    r = zwgk("deadline", "done", str(duty), "--as", "head", "--note", "自评会已开", env=env)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    assert r.stdout.split()[:3] == [f"#{duty}", "2026-07-14", "met"]


# -- PostgreSQL ------------------------------------------------------------------------------------------------------


def test_postgresql_deadlines_remind_and_daemon_once(capsys: pytest.CaptureFixture[str], pg_url: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(local(date(2026, 9, 30), 10, 0))
    with Workflow(pg_url, clock=clock) as wf:
        seed(wf)
        new_info(wf, id="pol", kind="policy", category="1.1", timing="immediate", title=TITLE, body=BODY)
        publish(wf, "pol")
    monkeypatch.setenv("ZWGK_NOW", NOW)
    db = ["--db", pg_url]
    assert keys_of(ok_json(capsys, *db, "deadlines", "--overdue")) == {"interpretation:pol"}
    dry = ok_json(capsys, *db, "remind", "--dry-run")
    assert [(p["step"], p["recipient"]) for p in dry] == [("overdue2", "clerk"), ("overdue2", "lead"),
                                                          ("overdue2", "multi")]
    assert ok_json(capsys, *db, "reminders") == []
    rc, out, err = run(capsys, *db, "daemon", "--once")
    assert rc == 0, err
    assert out.splitlines()[-1] == summary(rolled=2, planned=3, sent=3, sealed=1)
    assert sorted(n["key"] for n in ok_json(capsys, *db, "reminders", "--sent")) == sorted(p["key"] for p in dry)
    assert BODY not in out
    n = next(d["id"] for d in ok_json(capsys, *db, "deadlines") if d["key"] == "proactive:pol")
    rc, out, err = run(capsys, *db, "deadline", "done", str(n), "--as", "clerk")
    assert (rc, out, one_error_line(err)) == (2, "", f"deadline {n} is already met")
