"""The township's settings: one TOML file (`--config`, `ZWGK_CONFIG`, or `zwgk.toml` beside the database).

Every key has a default from the plan and the Regulation, so an office only writes what differs.
Secrets (SMTP password, robot keys) may be left out of the file and given as `ZWGK_<CHANNEL>_<KEY>`
environment variables instead (`ZWGK_EMAIL_PASSWORD`, `ZWGK_WECOM_KEY`, ...).
"""

from __future__ import annotations

import calendar
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifiers import SECRET_KEYS, redact
from states.errors import Phrase
from workflow.errors import (
    ConfigError as ConfigError,  # defined beside the other errors, so that workflow.fees can use it
)
from workflow.errors import InvalidInput
from workflow.errors import key_error as key_error
from workflow.fees import FeeRates, fee_rates
from workflow.workdays import WorkCalendar, load_overrides

CYCLES = ("monthly", "quarterly", "half-yearly", "yearly")


@dataclass(frozen=True)
class Office:
    name: str = "乡人民政府"
    timezone: str = "Asia/Shanghai"
    opens: time = time(8, 30)
    closes: time = time(17, 30)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def date_of(self, moment: datetime) -> date:
        """The day it is at the office at `moment`."""
        return moment.astimezone(self.tz).date()


@dataclass(frozen=True)
class DeadlineRules:
    interpretation_days: int = 3  # plan §四(四): interpretation within 3 working days of the policy
    proactive_days: int = 20  # Regulation Art. 26
    stage_days: int = 2  # an item waiting longer than this in a review state reminds its signer
    reconfirm_months: int = 12  # long-term items: is the published content still current?
    withheld_review_months: int = 12  # withheld items: may they be disclosed now? (Art. 18: 定期评估审查)
    published_state: str = "published"  # reaching it meets the duty to publish; a state with no way out cancels it


@dataclass(frozen=True)
class Reminders:
    before_days: int = 1  # working days before the due day
    escalate_leader_after: int = 1  # working days overdue
    escalate_head_after: int = 3
    leader_role: str = "leader"
    head_role: str = "head"
    channels: tuple[str, ...] = ("console",)  # each person gets every listed channel that can reach them
    office_hours_only: bool = True  # send only on working days within office hours (night: next morning)
    max_attempts: int = 8
    backoff_seconds: float = 60.0  # first retry; doubles each time, with jitter
    backoff_max_seconds: float = 3600.0
    # A claimed notification not marked sent by then is claimed again: at least 3x the largest channel timeout.
    lease_seconds: float = 120.0
    clock_skew_seconds: float = 5.0  # how far daemons' clocks may disagree: an expired claim waits this much more
    batch: int = 200


@dataclass(frozen=True)
class Daemon:
    plan_every: float = 60.0
    send_every: float = 10.0
    roll_every: float = 3600.0
    heartbeat_every: float = 30.0
    seal_every: float = 3600.0  # a seal of every chain's head in the register, its digest sent to the witnesses
    metrics: str = ""  # "127.0.0.1:9464": serve Prometheus metrics there (needs prometheus-client); off if empty


@dataclass(frozen=True)
class Ledger:
    # A signature records the clock, or its chain's last time if the clock is behind that; further behind than
    # this many seconds, it is refused: a chain's time never goes backwards.
    max_clock_skew: float = 60.0


@dataclass(frozen=True)
class Limits:
    # What one item may hold: a body of more is most likely a file pasted by mistake, and every copy of the
    # database, every export and every verify carries it.
    title_chars: int = 500
    body_bytes: int = 10_000_000  # UTF-8


@dataclass(frozen=True)
class Screen:
    # Seconds an office's own screening patterns (workflow/screen.py) may take on one text together: past it the
    # rule that ran on is named and the text is not judged. Built-in patterns are linear and not counted.
    time_limit: float = 1.0


@dataclass(frozen=True)
class RequestSettings:
    """Requests for government information (依申请公开)."""

    correction_days: int = 15  # working days a 补正 notice gives the applicant, unless it says otherwise
    correction_most_days: int = 30  # the most it may give (a reasonable period, Art. 30)
    letters: Path | None = None  # a folder of the office's own letter templates (workflow/letters/templates)
    fees: FeeRates = field(default_factory=FeeRates)  # 国办函〔2020〕109号
    payment: str = "请持本通知到本机关缴纳，或按本机关另行告知的方式缴纳"  # how a fee is paid, as a fee notice says
    review_body: str | None = None  # the 行政复议机关 a reply names (default: 有管辖权的行政复议机关)
    court: str | None = None  # the court a reply names (default: 有管辖权的人民法院)


@dataclass(frozen=True)
class Witness:
    """Someone outside the office who keeps each seal's root digest (e.g. the county's disclosure office), so that
    a database rewritten whole by its owner can still be caught (`zwgk verify --against DIGEST`)."""

    name: str
    channel: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Schedule:
    """A periodic disclosure (定期公开) or an office duty (self-assessment, annual report)."""

    id: str
    title: str
    cycle: str
    due_days: int | None = None  # working days after the period ends ...
    due_date: str | None = None  # ... or a fixed "MM-DD" after it ends (the annual report: "01-31")
    responsible: str | None = None  # a person id, or
    role: str | None = None  # everyone active with this role (in `unit`, if given)
    unit: str | None = None
    category: str | None = None


ANNUAL_REPORT = Schedule("annual-report", "政府信息公开工作年度报告 annual report (Regulation Art. 49)", "yearly",
                         due_date="01-31", role="head", category="6")
DEFAULT_SCHEDULES = (
    Schedule("finance", "乡镇和村级财政收支情况 township and village income and expenditure", "quarterly",
             due_days=15, role="drafter", category="3.4"),
    Schedule("indicators", "主要经济社会发展指标 main development indicators", "quarterly", due_days=15,
             role="drafter", category="1.2"),
    Schedule("budget", "财政预算、决算 budget and final accounts", "yearly", due_days=20, role="drafter",
             category="3.4"),
    Schedule("self-assessment", "政务公开半年自评 half-yearly self-assessment (plan §五(三))", "half-yearly",
             due_days=10, role="head"),
    ANNUAL_REPORT,
)


@dataclass(frozen=True)
class Config:
    office: Office = field(default_factory=Office)
    deadlines: DeadlineRules = field(default_factory=DeadlineRules)
    reminders: Reminders = field(default_factory=Reminders)
    daemon: Daemon = field(default_factory=Daemon)
    schedules: tuple[Schedule, ...] = DEFAULT_SCHEDULES
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: {"console": {"type": "console"}})
    calendar_file: str | None = None
    calendar: WorkCalendar = field(default_factory=WorkCalendar, compare=False)
    source: str = "(built-in defaults)"
    ledger: Ledger = field(default_factory=Ledger)
    operators: Mapping[str, str] = field(default_factory=dict)  # operator (account@host or account) -> person
    witnesses: tuple[Witness, ...] = ()
    limits: Limits = field(default_factory=Limits)
    requests: RequestSettings = field(default_factory=RequestSettings)
    screen: Screen = field(default_factory=Screen)

    def operator_person(self, operator: str) -> str | None:
        """The person an operator account is, where the configuration says so."""
        return self.operators.get(operator) or self.operators.get(operator.partition("@")[0])

    def schedule(self, schedule_id: str) -> Schedule:
        for s in self.schedules:
            if s.id == schedule_id:
                return s
        raise InvalidInput("no periodic schedule '{schedule}' in {source} (one of: {known})", schedule=schedule_id,
                           source=self.source, known=", ".join(s.id for s in self.schedules))

    def channel_settings(self, name: str) -> dict[str, Any]:
        """A channel's settings with its secrets filled in from the environment."""
        settings = dict(self.channels[name])
        for key in sorted(SECRET_KEYS):
            env = os.environ.get(f"ZWGK_{name.upper().replace('-', '_')}_{key.upper()}")
            if env:
                settings[key] = env
        return settings


def load(path: str | Path | None, *, required: bool = False) -> Config:
    """The configuration in `path`; the built-in defaults if there is none (unless it was asked for)."""
    if path is None:
        return Config()
    p = Path(path)
    if not p.exists():
        if required:
            raise ConfigError("configuration file {path} does not exist", path=str(p))
        return Config()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))  # Notepad saves UTF-8 with a BOM
    except tomllib.TOMLDecodeError as e:
        raise ConfigError("{source}: {error}", source=str(p), error=str(e)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError("{source}: cannot read: {error}", source=str(p), error=str(e)) from None
    return parse(data, source=str(p), base=p.parent)


def parse(data: Mapping[str, Any], *, source: str = "zwgk.toml", base: Path | None = None) -> Config:
    r = _Reader(source)
    r.keys("", data, {"office", "calendar", "deadlines", "reminders", "daemon", "schedule", "channels", "ledger",
                      "operators", "witness", "limits", "requests", "screen"})
    office = r.section("office", data.get("office", {}), Office(), {"opens": r.clock, "closes": r.clock})
    try:
        ZoneInfo(office.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.bad("office.timezone", "unknown time zone '{zone}'", zone=office.timezone) from None
    if office.opens >= office.closes:
        raise r.bad("office.closes", "must be later than office.opens")
    deadlines = r.section("deadlines", data.get("deadlines", {}), DeadlineRules())
    reminders = r.section("reminders", data.get("reminders", {}), Reminders())
    if reminders.escalate_head_after < reminders.escalate_leader_after:
        raise r.bad("reminders.escalate_head_after", "must not be less than escalate_leader_after")
    daemon = r.section("daemon", data.get("daemon", {}), Daemon())
    if daemon.metrics and listen_address(daemon.metrics) is None:
        raise r.bad("daemon.metrics", "'{address}' is not HOST:PORT like 127.0.0.1:9464", address=daemon.metrics)
    ledger = r.section("ledger", data.get("ledger", {}), Ledger())
    limits = r.section("limits", data.get("limits", {}), Limits())
    operators = r.operators(data.get("operators", {}))
    channels = r.channels(data.get("channels", {"console": {"type": "console"}}))
    witnesses = r.witnesses(data.get("witness", []), channels)
    for ch in reminders.channels:
        if ch not in channels:
            raise r.bad("reminders.channels", "channel '{channel}' is not defined under [channels]", channel=ch)
    schedules = r.schedules(data["schedule"]) if "schedule" in data else DEFAULT_SCHEDULES
    if not any(s.id == ANNUAL_REPORT.id for s in schedules):  # the law's duty (Art. 49), kept in any list
        schedules = (*schedules, ANNUAL_REPORT)
    cal_section = data.get("calendar", {})
    r.keys("calendar", cal_section, {"overrides"})
    calendar, calendar_file = WorkCalendar(), None
    if "overrides" in cal_section:
        calendar_file = str((base or Path()) / r.typed("calendar.overrides", cal_section["overrides"], str))
        try:
            text = Path(calendar_file).read_text(encoding="utf-8-sig")
        except OSError as e:
            raise r.bad("calendar.overrides", "cannot read {file}: {reason}", file=calendar_file,
                        reason=e.strerror) from None
        except UnicodeDecodeError:
            raise r.bad("calendar.overrides", "{file} is not UTF-8 text", file=calendar_file) from None
        calendar = WorkCalendar(load_overrides(text, source=calendar_file))
    return Config(office, deadlines, reminders, daemon, schedules, channels, calendar_file, calendar, source, ledger,
                  operators, witnesses, limits, r.requests(data.get("requests", {}), base, source),
                  r.section("screen", data.get("screen", {}), Screen()))


class _Reader:
    """Checks a parsed TOML document against the dataclasses, naming the key of the first problem."""

    def __init__(self, source: str) -> None:
        self.source = source

    def bad(self, key: str, template: str, /, **params: object) -> ConfigError:
        return key_error(self.source, key, template, **params)

    def keys(self, where: str, table: Any, allowed: set[str]) -> None:
        if not isinstance(table, dict):
            raise self.bad(where, "must be a table")
        for key in table:
            if key not in allowed:
                name = f"{where}.{key}" if where else key
                raise self.bad(name, "unknown key (expected one of: {known})", known=", ".join(sorted(allowed)))

    def typed(self, key: str, value: Any, kind: type, *, minimum: float | None = None,
              maximum: float | None = None) -> Any:
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.bad(key, "must be a list of strings")
            return tuple(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.bad(key, "must be {kind}, not {value!r}", kind=_NAMES.get(kind, kind.__name__), value=value)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.bad(key, "must be a finite number")
        if minimum is not None and isinstance(value, int | float) and value < minimum:
            raise self.bad(key, "must be at least {minimum:g}", minimum=minimum)
        if maximum is not None and isinstance(value, int | float) and value > maximum:
            raise self.bad(key, "must be at most {maximum:g}", maximum=maximum)
        return value

    def clock(self, key: str, value: Any) -> time:
        """"08:30" or a TOML time 08:30:00; local to the office's time zone, so no offset."""
        if not isinstance(value, time):
            try:
                value = time.fromisoformat(self.typed(key, value, str))
            except ValueError:
                raise self.bad(key, "'{value}' is not a time of day like 08:30", value=value) from None
        moment: time = value
        if moment.tzinfo is not None:
            raise self.bad(key, "a time of day in the office's time zone has no offset (set office.timezone)")
        return moment

    def section(self, name: str, table: Any, default: Any,
                special: Mapping[str, Callable[[str, Any], Any]] | None = None) -> Any:
        kinds = {f.name: type(getattr(default, f.name)) for f in fields(default)}
        self.keys(name, table, set(kinds))
        values = {}
        for key, value in table.items():
            if special and key in special:
                values[key] = special[key](f"{name}.{key}", value)
                continue
            minimum = _MINIMUM.get(key, 0) if kinds[key] in (int, float) else None
            values[key] = self.typed(f"{name}.{key}", value, kinds[key], minimum=minimum, maximum=_MAXIMUM.get(key))
        return replace(default, **values)

    def requests(self, table: Any, base: Path | None, source: str) -> RequestSettings:
        self.keys("requests", table, {"correction_days", "correction_most_days", "letters", "fees", "payment",
                                      "review_body", "court"})
        days = self.typed("requests.correction_days", table.get("correction_days", 15), int, minimum=1,
                          maximum=60)
        most = self.typed("requests.correction_most_days", table.get("correction_most_days", 30), int,
                          minimum=days, maximum=60)
        letters = None
        if "letters" in table:
            letters = (base or Path()) / self.typed("requests.letters", table["letters"], str)
            if not letters.is_dir():
                raise self.bad("requests.letters", "{folder} is not a folder of letter templates", folder=letters)
            from workflow.letters.templates import check_folder  # only then: the letters import python-docx

            try:  # each of the office's templates read whole now, not found broken as a reply is sent
                check_folder(letters)
            except InvalidInput as e:
                raise self.bad("requests.letters", "{problem}", problem=e) from None
        fees = self.typed("requests.fees", table.get("fees", {}), dict)
        words = {key: self.typed(f"requests.{key}", table[key], str) for key in ("payment", "review_body", "court")
                 if key in table}
        return RequestSettings(days, most, letters, fee_rates(fees, source=source), **words)

    def channels(self, table: Any) -> dict[str, dict[str, Any]]:
        self.keys("channels", table, set(table) if isinstance(table, dict) else set())
        out = {}
        for name, settings in table.items():
            if not _CHANNEL_NAME.fullmatch(name):
                raise self.bad(f"channels.{name}", "a channel name is 1-32 letters, digits, '_' or '-'")
            if not isinstance(settings, dict):
                raise self.bad(f"channels.{name}", "must be a table")
            out[name] = {"type": name, **settings}
            self.typed(f"channels.{name}.type", out[name]["type"], str)
        return out

    def operators(self, table: Any) -> dict[str, str]:
        self.keys("operators", table, set(table) if isinstance(table, dict) else set())
        return {account: self.typed(f"operators.{account}", person, str) for account, person in table.items()}

    def witnesses(self, entries: Any, channels: Mapping[str, Any]) -> tuple[Witness, ...]:
        if not isinstance(entries, list):
            raise self.bad("witness", "must be an array of tables ([[witness]])")
        out: list[Witness] = []
        for i, entry in enumerate(entries):
            where = f"witness[{i}]"
            self.keys(where, entry, {f.name for f in fields(Witness)})
            for needed in ("name", "channel"):
                if needed not in entry:
                    raise self.bad(f"{where}.{needed}", "is required")
            w = Witness(**{k: self.typed(f"{where}.{k}", v, str) for k, v in entry.items()})
            if w.channel not in channels:
                raise self.bad(f"{where}.channel", "channel '{channel}' is not defined under [channels]",
                               channel=w.channel)
            if not 0 < len(w.name) <= 64:
                raise self.bad(f"{where}.name", "must be 1-64 characters")
            if any((o.name, o.channel) == (w.name, w.channel) for o in out):
                raise self.bad(where, "witness '{witness}' on channel {channel} is listed twice", witness=w.name,
                               channel=w.channel)
            out.append(w)
        return tuple(out)

    def schedules(self, entries: Any) -> tuple[Schedule, ...]:
        if not isinstance(entries, list):
            raise self.bad("schedule", "must be an array of tables ([[schedule]])")
        out: list[Schedule] = []
        allowed = {f.name for f in fields(Schedule)}
        for i, entry in enumerate(entries):
            where = f"schedule[{i}]"
            self.keys(where, entry, allowed)
            for needed in ("id", "title", "cycle"):
                if needed not in entry:
                    raise self.bad(f"{where}.{needed}", "is required")
            values = {k: self.typed(f"{where}.{k}", v, int if k == "due_days" else str, minimum=None)
                      for k, v in entry.items()}
            s = Schedule(**values)
            if s.cycle not in CYCLES:
                raise self.bad(f"{where}.cycle", "'{cycle}' is not one of: {known}", cycle=s.cycle,
                               known=", ".join(CYCLES))
            if (s.due_days is None) == (s.due_date is None):
                raise self.bad(where, "give exactly one of due_days and due_date")
            if s.due_days is not None and s.due_days < 0:
                raise self.bad(f"{where}.due_days", "must be at least 0")
            if s.due_date is not None and not _month_day(s.due_date):
                raise self.bad(f"{where}.due_date", "'{value}' is not a month and day like 01-31", value=s.due_date)
            if (s.responsible is None) == (s.role is None):
                raise self.bad(where, "give exactly one of responsible (a person) and role")
            if any(s.id == o.id for o in out):
                raise self.bad(f"{where}.id", "'{schedule}' is used twice", schedule=s.id)
            out.append(s)
        return tuple(out)


def listen_address(text: str) -> tuple[str, int] | None:
    """HOST:PORT (an IPv6 host in brackets) as a pair; None if it is not one."""
    host, _, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def _month_day(text: str) -> bool:
    parts = text.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return False
    month, day = int(parts[0]), int(parts[1])
    # Any day of a leap year; 02-29 falls on 28 February in other years.
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(2000, month)[1]


# Numbers that would silently stop the work at 0 (a batch of none, a lease that has always expired).
_MINIMUM = {"batch": 1, "max_attempts": 1, "lease_seconds": 1, "backoff_seconds": 0.1, "backoff_max_seconds": 0.1,
            "plan_every": 0.1, "send_every": 0.1, "roll_every": 0.1, "heartbeat_every": 0.1, "seal_every": 0.1,
            "title_chars": 1, "body_bytes": 1, "time_limit": 0.01, "withheld_review_months": 1}
# Durations a daemon adds to the clock: past a week they are mistakes, and past ~1e9 days they overflow it.
_MAXIMUM = dict.fromkeys(("lease_seconds", "clock_skew_seconds", "backoff_seconds", "backoff_max_seconds",
                          "plan_every", "send_every", "roll_every", "heartbeat_every", "seal_every"), 7 * 86400) | {
    "batch": 100_000,  # rows a claim takes at once: more would only hold them longer (and overflow SQLite's integer)
    "time_limit": 10.0,  # an office's patterns on one text: longer, and a signature waits on a runaway pattern
    "withheld_review_months": 60}  # a review every five years is the longest that is still periodic (定期)
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
_NAMES = {int: Phrase("an integer"), float: Phrase("a number"), str: Phrase("text"), bool: Phrase("true or false")}


def redacted(config: Config) -> dict[str, Any]:
    """The configuration in force, as plain data, with every secret replaced (for `zwgk config show`)."""
    def plain(obj: Any) -> Any:
        if isinstance(obj, time):
            return obj.strftime("%H:%M")
        if isinstance(obj, tuple):
            return list(obj)
        return obj

    def section(obj: Any) -> dict[str, Any]:
        return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)}

    return {
        "source": config.source,
        "office": section(config.office),
        "deadlines": section(config.deadlines),
        "reminders": section(config.reminders),
        "daemon": section(config.daemon),
        "ledger": section(config.ledger),
        "limits": section(config.limits),
        "screen": section(config.screen),
        "operators": dict(config.operators),
        "witness": [{k: v for k, v in section(w).items() if v is not None} for w in config.witnesses],
        "calendar": {"overrides": config.calendar_file},
        "schedule": [{k: v for k, v in section(s).items() if v is not None} for s in config.schedules],
        "channels": {name: redact(config.channel_settings(name)) for name in config.channels},
    }
