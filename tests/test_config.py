"""workflow.config: the defaults, a township's zwgk.toml, one-line errors naming file and key, secrets from
the environment, `zwgk config show`'s redaction, and the channels and calendar built from it."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from datetime import date, time
from pathlib import Path

import pytest

from notifiers.smtp import EmailNotifier
from notifiers.webhook import WebhookNotifier
from workflow import Workflow
from workflow.config import (
    DEFAULT_SCHEDULES,
    Config,
    ConfigError,
    DeadlineRules,
    Office,
    Reminders,
    Schedule,
    load,
    parse,
    redacted,
)
from workflow.config import Daemon as DaemonSettings
from workflow.deadlines import Timeline
from workflow.errors import InvalidInput
from workflow.reminders import build_channels
from workflow.workdays import Due

OVERRIDE_2027 = """
[2027]
holidays = ["2027-01-01..2027-01-04", "2027-02-06..2027-02-13", "2027-10-01..2027-10-07"]
workdays = ["2027-02-14", "2027-10-09"]
"""

# A township's file, as an office would write it: only what differs from the defaults.
TOWNSHIP = """
# 平田乡 政务公开 settings
[office]
name = "平田乡人民政府"
opens = "08:00"
closes = "17:00"

[deadlines]
stage_days = 3

[reminders]
before_days = 2
channels = ["console", "email"]
backoff_seconds = 30          # an integer where a number is expected
office_hours_only = false

[daemon]
plan_every = 120

[calendar]
overrides = "holidays.toml"   # beside this file

[channels.console]

[channels.email]
host = "smtp.town.example"
sender = "zwgk@town.example"
username = "zwgk"
# password: from ZWGK_EMAIL_PASSWORD

[channels.hook]
type = "webhook"
url = "https://hooks.town.example/zwgk?token=hook-token-42"

[[schedule]]
id = "finance"
title = "乡镇和村级财政收支情况"
cycle = "quarterly"
due_days = 10
role = "drafter"
category = "3.4"

[[schedule]]
id = "annual-report"
title = "政府信息公开工作年度报告"
cycle = "yearly"
due_date = "01-31"
responsible = "head"
"""


def write(tmp_path: Path, text: str, name: str = "zwgk.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- defaults -----------------------------------------------------------------------------------------------

def test_the_defaults_are_the_plans_and_the_regulations() -> None:
    c = Config()
    assert c.office == Office("乡人民政府", "Asia/Shanghai", time(8, 30), time(17, 30))
    assert c.deadlines == DeadlineRules(interpretation_days=3, proactive_days=20, stage_days=2, reconfirm_months=12,
                                        published_state="published")
    assert (c.reminders.before_days, c.reminders.escalate_leader_after, c.reminders.escalate_head_after) == (1, 1, 3)
    assert (c.reminders.leader_role, c.reminders.head_role, c.reminders.channels) == ("leader", "head", ("console",))
    assert dict(c.channels) == {"console": {"type": "console"}}
    assert [s.id for s in c.schedules] == ["finance", "indicators", "budget", "self-assessment", "annual-report"]
    assert c.schedule("annual-report").due_date == "01-31"  # Regulation Art. 49
    assert c.calendar_file is None
    assert c.source == "(built-in defaults)"


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing differs\n")
    assert load(path) == replace(Config(), source=str(path))
    assert parse({}) == replace(Config(), source="zwgk.toml")


def test_no_file_gives_the_defaults_unless_one_was_asked_for(tmp_path: Path) -> None:
    assert load(None) == Config()
    assert load(tmp_path / "zwgk.toml") == Config()
    with pytest.raises(ConfigError, match=re.escape(f"configuration file {tmp_path / 'missing.toml'} does not exist")):
        load(tmp_path / "missing.toml", required=True)


# --- a township's file --------------------------------------------------------------------------------------

def test_a_township_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, OVERRIDE_2027, "holidays.toml")
    path = write(tmp_path, TOWNSHIP)
    monkeypatch.chdir(tmp_path.parent)  # relative paths are the file's, not the working directory's
    c = load(path, required=True)
    assert c.source == str(path)
    assert c.office == Office("平田乡人民政府", "Asia/Shanghai", time(8, 0), time(17, 0))
    assert c.deadlines == DeadlineRules(stage_days=3)  # the rest as by default
    assert c.reminders == Reminders(before_days=2, channels=("console", "email"), backoff_seconds=30.0,
                                    office_hours_only=False)
    assert isinstance(c.reminders.backoff_seconds, float)
    assert c.daemon == DaemonSettings(plan_every=120.0)
    # A channel's type is its name unless given.
    assert dict(c.channels) == {
        "console": {"type": "console"},
        "email": {"type": "email", "host": "smtp.town.example", "sender": "zwgk@town.example", "username": "zwgk"},
        "hook": {"type": "webhook", "url": "https://hooks.town.example/zwgk?token=hook-token-42"},
    }
    # [[schedule]] replaces the default list whole.
    assert c.schedules == (
        Schedule("finance", "乡镇和村级财政收支情况", "quarterly", due_days=10, role="drafter", category="3.4"),
        Schedule("annual-report", "政府信息公开工作年度报告", "yearly", due_date="01-31", responsible="head"),
    )
    assert c.calendar_file == str(tmp_path / "holidays.toml")
    assert c.calendar.knows(2027)
    assert c.calendar.is_working_day(date(2027, 2, 14))  # a working Sunday in the override
    assert not c.calendar.is_working_day(date(2027, 1, 4))


def test_the_configured_calendar_is_the_one_deadlines_count_on(tmp_path: Path) -> None:
    write(tmp_path, OVERRIDE_2027, "holidays.toml")
    known = Timeline(load(write(tmp_path, '[calendar]\noverrides = "holidays.toml"\n')))
    # 31 Dec 2026 + 3 with 1–4 Jan off: Jan 5, 6, 7 — and no longer provisional.
    assert known.due(date(2026, 12, 31), 3) == Due(date(2027, 1, 7), False)
    assert Timeline(Config()).due(date(2026, 12, 31), 3) == Due(date(2027, 1, 6), True)


def test_a_section_given_in_part_keeps_its_other_defaults() -> None:
    c = parse({"reminders": {"escalate_head_after": 5}, "deadlines": {"published_state": "published"}})
    assert c.reminders == Reminders(escalate_head_after=5)
    assert c.deadlines == DeadlineRules()
    assert c.schedules == DEFAULT_SCHEDULES


def test_a_schedule_is_found_by_id() -> None:
    c = parse({"schedule": [{"id": "rent", "title": "村集体资产出租", "cycle": "half-yearly", "due_days": 5,
                             "role": "drafter", "unit": "gov"}]}, source="/etc/zwgk.toml")
    assert c.schedule("rent").unit == "gov"
    with pytest.raises(InvalidInput,
                       match=r"no periodic schedule 'finance' in /etc/zwgk.toml \(one of: rent, annual-report\)"):
        c.schedule("finance")


# --- one line per problem, naming the file and the key ------------------------------------------------------

SCHEDULE = 'id = "rent"\ntitle = "村集体资产出租"\ncycle = "yearly"\n'

BAD = [
    ('title = "平田乡"\n', "title: unknown key (expected one of: calendar, channels, daemon, deadlines, ledger, "
                          "limits, office, operators, reminders, requests, schedule, screen, witness)"),
    ("office = 5\n", "office: must be a table"),
    ("[office]\nname = 5\n", "office.name: must be text, not 5"),
    ('[office]\nopens = "9am"\n', "office.opens: '9am' is not a time of day like 08:30"),
    ('[office]\nopens = "18:00"\n', "office.closes: must be later than office.opens"),
    ('[office]\nopens = "08:30"\ncloses = "08:30"\n', "office.closes: must be later than office.opens"),
    ('[office]\nopens = "08:30+08:00"\n', "office.opens: a time of day in the office's time zone has no offset"),
    ('[office]\ncloses = "17:30Z"\n', "office.closes: a time of day in the office's time zone has no offset"),
    ('[office]\ntimezone = "Asia/Beijing"\n', "office.timezone: unknown time zone 'Asia/Beijing'"),
    ('[office]\ntimezone = "../../etc/passwd"\n', "office.timezone: unknown time zone"),
    ('[deadlines]\nproactive_days = "20"\n', "deadlines.proactive_days: must be an integer, not '20'"),
    ("[deadlines]\nproactive_days = 20.5\n", "deadlines.proactive_days: must be an integer, not 20.5"),
    ("[deadlines]\nproactive_days = true\n", "deadlines.proactive_days: must be an integer, not True"),
    ("[deadlines]\nstage_days = -1\n", "deadlines.stage_days: must be at least 0"),
    ("[deadlines]\nproactive_day = 20\n", "deadlines.proactive_day: unknown key (expected one of: "
                                          "interpretation_days, proactive_days, published_state, reconfirm_months, "
                                          "stage_days, withheld_review_months)"),
    ("[deadlines]\nwithheld_review_months = 0\n", "deadlines.withheld_review_months: must be at least 1"),
    ("[deadlines]\nwithheld_review_months = 61\n", "deadlines.withheld_review_months: must be at most 60"),
    ("[reminders]\nbackoff_seconds = -5\n", "reminders.backoff_seconds: must be at least 0.1"),
    # Numbers that would silently stop the work at 0: a batch of none, a lease that has always run out, ...
    ("[reminders]\nbatch = 0\n", "reminders.batch: must be at least 1"),
    ("[reminders]\nmax_attempts = 0\n", "reminders.max_attempts: must be at least 1"),
    ("[reminders]\nclock_skew_seconds = 1e300\n", "reminders.clock_skew_seconds: must be at most 604800"),
    ("[daemon]\nseal_every = 1e12\n", "daemon.seal_every: must be at most 604800"),
    ("[screen]\ntime_limit = 0\n", "screen.time_limit: must be at least 0.01"),
    ("[screen]\ntime_limit = 60\n", "screen.time_limit: must be at most 10"),
    ("[reminders]\nlease_seconds = 0\n", "reminders.lease_seconds: must be at least 1"),
    ("[reminders]\nlease_seconds = 0.5\n", "reminders.lease_seconds: must be at least 1"),
    ("[reminders]\nbackoff_seconds = 0\n", "reminders.backoff_seconds: must be at least 0.1"),
    ("[reminders]\nbackoff_max_seconds = 0.05\n", "reminders.backoff_max_seconds: must be at least 0.1"),
    ("[daemon]\nplan_every = 0\n", "daemon.plan_every: must be at least 0.1"),
    ("[daemon]\nsend_every = 0\n", "daemon.send_every: must be at least 0.1"),
    ("[daemon]\nroll_every = -1\n", "daemon.roll_every: must be at least 0.1"),
    ("[daemon]\nheartbeat_every = 0.0\n", "daemon.heartbeat_every: must be at least 0.1"),
    # TOML's nan and inf are floats too.
    ("[daemon]\nplan_every = nan\n", "daemon.plan_every: must be a finite number"),
    ("[reminders]\nlease_seconds = inf\n", "reminders.lease_seconds: must be a finite number"),
    ("[reminders]\nbackoff_max_seconds = -inf\n", "reminders.backoff_max_seconds: must be a finite number"),
    ('[reminders]\noffice_hours_only = "yes"\n', "reminders.office_hours_only: must be true or false, not 'yes'"),
    ("[reminders]\nescalate_leader_after = 5\n",
     "reminders.escalate_head_after: must not be less than escalate_leader_after"),
    ('[reminders]\nchannels = "console"\n', "reminders.channels: must be a list of strings"),
    ('[reminders]\nchannels = ["console", 5]\n', "reminders.channels: must be a list of strings"),
    ('[reminders]\nchannels = ["sms"]\n', "reminders.channels: channel 'sms' is not defined under [channels]"),
    # [channels] is taken whole: naming e-mail only leaves the default console undefined.
    ('[channels.email]\nhost = "smtp.town.example"\n',
     "reminders.channels: channel 'console' is not defined under [channels]"),
    ("channels = 5\n", "channels: must be a table"),
    ("[channels]\nemail = 5\n", "channels.email: must be a table"),
    ("[channels.email]\ntype = 5\n", "channels.email.type: must be text, not 5"),
    # A channel's name goes into the outbox's keys (':'-separated) and into ZWGK_<NAME>_PASSWORD.
    ('[channels."work:mail"]\ntype = "email"\n', "channels.work:mail: a channel name is 1-32 letters, digits, "
                                                 "'_' or '-'"),
    ('[channels."work mail"]\ntype = "email"\n', "channels.work mail: a channel name is 1-32 letters"),
    ('[channels.""]\ntype = "email"\n', "channels.: a channel name is 1-32 letters"),
    (f'[channels.{"m" * 33}]\ntype = "email"\n', f"channels.{'m' * 33}: a channel name is 1-32 letters"),
    ('[daemon]\nplan_every = "1m"\n', "daemon.plan_every: must be a number, not '1m'"),
    ('[calendar]\nfile = "holidays.toml"\n', "calendar.file: unknown key (expected one of: overrides)"),
    ("[calendar]\noverrides = 2027\n", "calendar.overrides: must be text, not 2027"),
    ('[schedule]\nid = "rent"\n', "schedule: must be an array of tables ([[schedule]])"),
    ("schedule = [5]\n", "schedule[0]: must be a table"),
    ('[[schedule]]\nid = "rent"\ncycle = "yearly"\ndue_days = 5\nrole = "head"\n', "schedule[0].title: is required"),
    ('[[schedule]]\nid = "rent"\ntitle = "t"\ncycle = "weekly"\ndue_days = 5\nrole = "head"\n',
     "schedule[0].cycle: 'weekly' is not one of: monthly, quarterly, half-yearly, yearly"),
    (f'[[schedule]]\n{SCHEDULE}due_days = 5\ndue_date = "01-31"\nrole = "head"\n',
     "schedule[0]: give exactly one of due_days and due_date"),
    (f'[[schedule]]\n{SCHEDULE}role = "head"\n', "schedule[0]: give exactly one of due_days and due_date"),
    (f'[[schedule]]\n{SCHEDULE}due_date = "02-30"\nrole = "head"\n',
     "schedule[0].due_date: '02-30' is not a month and day like 01-31"),
    (f'[[schedule]]\n{SCHEDULE}due_date = "1/31"\nrole = "head"\n',
     "schedule[0].due_date: '1/31' is not a month and day like 01-31"),
    (f'[[schedule]]\n{SCHEDULE}due_date = "13-01"\nrole = "head"\n',
     "schedule[0].due_date: '13-01' is not a month and day like 01-31"),
    (f'[[schedule]]\n{SCHEDULE}due_days = -1\nrole = "head"\n', "schedule[0].due_days: must be at least 0"),
    (f'[[schedule]]\n{SCHEDULE}due_days = "15"\nrole = "head"\n',
     "schedule[0].due_days: must be an integer, not '15'"),
    (f'[[schedule]]\n{SCHEDULE}due_days = 5\nrole = "head"\nresponsible = "head"\n',
     "schedule[0]: give exactly one of responsible (a person) and role"),
    (f"[[schedule]]\n{SCHEDULE}due_days = 5\n", "schedule[0]: give exactly one of responsible (a person) and role"),
    (f'[[schedule]]\n{SCHEDULE}due_days = 5\nrole = "head"\ndeadline = 3\n', "schedule[0].deadline: unknown key"),
    (f'[[schedule]]\n{SCHEDULE}due_days = 5\nrole = "head"\n[[schedule]]\n{SCHEDULE}due_days = 6\nrole = "head"\n',
     "schedule[1].id: 'rent' is used twice"),
]


@pytest.mark.parametrize(("text", "problem"), BAD, ids=[p.split(":")[0] + f"-{i}" for i, (_, p) in enumerate(BAD)])
def test_a_bad_file_is_one_line_naming_the_file_and_the_key(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {problem}")
    assert "\n" not in message


def test_a_file_that_is_not_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[office]\nopens = 08:30\n")  # TOML times need seconds, and this is not one
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: .*line 2"):
        load(path)


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "zwgk.toml"
    path.write_bytes('[office]\nname = "平田乡人民政府"\n'.encode("gbk"))  # saved by an editor set to GBK
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: cannot read"):
        load(path)


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(str(tmp_path))}: cannot read"):
        load(tmp_path)


def test_calendar_override_problems_name_the_override_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[calendar]\noverrides = "holidays.toml"\n')
    overrides = tmp_path / "holidays.toml"
    with pytest.raises(ConfigError, match=re.escape(f"{path}: calendar.overrides: cannot read {overrides}: ")):
        load(path)
    write(tmp_path, '[2027]\nworkdays = ["2027-02-14"]\n', "holidays.toml")
    with pytest.raises(InvalidInput, match=re.escape(f"{overrides}: [2027] has no holidays list")):
        load(path)


# --- secrets ------------------------------------------------------------------------------------------------

MAIL = {"type": "email", "host": "smtp.town.example", "sender": "zwgk@town.example", "username": "zwgk"}


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    c = parse({"channels": {"work-mail": MAIL}, "reminders": {"channels": ["work-mail"]}})
    monkeypatch.setenv("ZWGK_WORK_MAIL_PASSWORD", "s3cret-SMTP-pass")
    monkeypatch.setenv("ZWGK_WORK_MAIL_HOST", "evil.example")  # not a secret: the file decides
    monkeypatch.setenv("ZWGK_WORK_MAIL_TOKEN", "")  # empty: as if unset
    assert c.channel_settings("work-mail") == {**MAIL, "password": "s3cret-SMTP-pass"}
    assert "password" not in c.channels["work-mail"]  # the configuration itself never holds it


def test_the_environment_overrides_a_secret_in_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    c = parse({"channels": {"email": {**MAIL, "password": "from-file"}}, "reminders": {"channels": ["email"]}})
    assert c.channel_settings("email")["password"] == "from-file"
    monkeypatch.setenv("ZWGK_EMAIL_PASSWORD", "from-env")
    assert c.channel_settings("email")["password"] == "from-env"


def test_channels_are_built_in_the_order_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    c = parse({"channels": {"email": MAIL, "hook": {"type": "webhook", "url": "https://hooks.town.example/z"}},
               "reminders": {"channels": ["hook", "email"]}}, source="/etc/zwgk.toml")
    with pytest.raises(ConfigError, match=r"^/etc/zwgk.toml: channels.email: .*'password' is required"):
        build_channels(c)
    monkeypatch.setenv("ZWGK_EMAIL_PASSWORD", "s3cret-SMTP-pass")
    built = build_channels(c)
    assert list(built) == ["hook", "email"]
    assert isinstance(built["hook"], WebhookNotifier)
    assert isinstance(built["email"], EmailNotifier)


def test_an_unknown_channel_type_is_a_configuration_error() -> None:
    c = parse({"channels": {"sms": {}}, "reminders": {"channels": ["sms"]}}, source="/etc/zwgk.toml")
    with pytest.raises(ConfigError, match=r"^/etc/zwgk.toml: channels.sms: unknown notifier channel 'sms'"):
        build_channels(c)


def test_config_show_hides_every_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, OVERRIDE_2027, "holidays.toml")
    path = write(tmp_path, TOWNSHIP)
    monkeypatch.setenv("ZWGK_EMAIL_PASSWORD", "s3cret-SMTP-pass")
    shown = redacted(load(path))
    text = json.dumps(shown, ensure_ascii=False)  # plain data all the way down
    assert "s3cret-SMTP-pass" not in text
    assert "hook-token-42" not in text
    assert shown["channels"]["email"]["password"] == "***"
    assert shown["channels"]["email"]["username"] == "zwgk"
    assert shown["channels"]["hook"]["url"] == "https://hooks.town.example/zwgk?***"
    assert shown["source"] == str(path)
    assert shown["office"] == {"name": "平田乡人民政府", "timezone": "Asia/Shanghai",
                               "opens": "08:00", "closes": "17:00"}
    assert shown["reminders"]["channels"] == ["console", "email"]
    assert shown["calendar"] == {"overrides": str(tmp_path / "holidays.toml")}
    assert shown["schedule"][1] == {"id": "annual-report", "title": "政府信息公开工作年度报告", "cycle": "yearly",
                                    "due_date": "01-31", "responsible": "head"}


# --- what the fixes of the first review made of the file ---------------------------------------------------

def test_an_override_file_that_is_not_utf8(tmp_path: Path) -> None:
    overrides = tmp_path / "holidays.toml"
    overrides.write_bytes('[2027]\nholidays = ["2027-01-01"]  # 元旦\n'.encode("gbk"))
    path = write(tmp_path, '[calendar]\noverrides = "holidays.toml"\n')
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value) == f"{path}: calendar.overrides: {overrides} is not UTF-8 text"


def test_files_saved_with_a_byte_order_mark(tmp_path: Path) -> None:
    """Notepad saves UTF-8 with a BOM; both the configuration and the overrides file may start with one."""
    (tmp_path / "holidays.toml").write_bytes(b"\xef\xbb\xbf" + OVERRIDE_2027.encode())
    path = tmp_path / "zwgk.toml"
    path.write_bytes(b"\xef\xbb\xbf" + '[office]\nname = "平田乡人民政府"\n[calendar]\noverrides = "holidays.toml"\n'
                     .encode())
    c = load(path)
    assert c.office.name == "平田乡人民政府"
    assert c.calendar.knows(2027) and not c.calendar.is_working_day(date(2027, 1, 4))


def test_office_hours_as_toml_time_literals() -> None:
    c = parse(tomllib.loads("[office]\nopens = 08:00:00\ncloses = 17:00:00\n"))
    assert (c.office.opens, c.office.closes) == (time(8, 0), time(17, 0))
    assert redacted(c)["office"] == {"name": "乡人民政府", "timezone": "Asia/Shanghai", "opens": "08:00",
                                     "closes": "17:00"}
    with pytest.raises(ConfigError, match=r"^zwgk.toml: office.closes: must be later than office.opens"):
        parse(tomllib.loads("[office]\nopens = 18:00:00\n"))


def test_a_leap_day_due_date_is_accepted() -> None:
    """It falls on the last day of February in other years (see test_deadlines)."""
    c = parse({"schedule": [{"id": "leap", "title": "t", "cycle": "yearly", "due_date": "02-29", "role": "head"}]})
    assert c.schedule("leap").due_date == "02-29"


@pytest.mark.parametrize(("raw", "key", "name", "what"), [
    # Publishing would never meet the duty to publish; 'publised' would become a review stage.
    ({"deadlines": {"published_state": "publised"}}, "deadlines.published_state", "publised", "state"),
    # Escalations would go to nobody.
    ({"reminders": {"leader_role": "leadr"}}, "reminders.leader_role", "leadr", "role"),
    ({"reminders": {"head_role": "boss"}}, "reminders.head_role", "boss", "role"),
    # The periodic deadline would have nobody responsible; the key names the entry as the other errors of
    # [[schedule]] do, by its place in the list.
    ({"schedule": [{"id": "ok", "title": "t", "cycle": "yearly", "due_days": 5, "role": "head"},
                   {"id": "rent", "title": "t", "cycle": "yearly", "due_days": 5, "role": "draftr"}]},
     "schedule[1].role", "draftr", "role"),
])
def test_names_the_pipeline_does_not_know_are_refused(sqlite_url: str, raw: dict[str, object], key: str, name: str,
                                                      what: str) -> None:
    config = parse(raw, source="/etc/zwgk.toml")
    with pytest.raises(ConfigError) as caught:
        Workflow(sqlite_url, config=config).close()
    message = str(caught.value)
    known = ("abolished, confidentiality_review, draft, head_approval, leader_check, published, retracted, withheld"
             if what == "state" else "confidentiality_reviewer, drafter, head, leader, proofreader, publisher")
    assert message == f"/etc/zwgk.toml: {key}: '{name}' is not a {what} of pipeline zwgk-default (one of: {known})"


def test_names_the_pipeline_knows_are_accepted(sqlite_url: str) -> None:
    config = parse({"deadlines": {"published_state": "published"},
                    "reminders": {"leader_role": "head", "head_role": "head"},
                    "schedule": [{"id": "rent", "title": "t", "cycle": "yearly", "due_days": 5, "role": "publisher"}]})
    wf = Workflow(sqlite_url, config=config)
    try:
        assert wf.config.reminders.leader_role == "head"
    finally:
        wf.close()
