"""`zwgk`: the admin script. Each command is one transaction; errors are one line on stderr.

Exit codes: 0 done, 1 a check failed (verify), 2 bad input or a refused action.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from scripts import output

# Each command imports what it uses, inside it: `zwgk --help` needs none of these, `item list` no Alembic (init
# alone migrates), and APScheduler is the daemon's alone (bench/cli.py measures what each costs).
if TYPE_CHECKING:
    from states import Pipeline
    from workflow import Signature, Workflow
    from workflow.config import Config

DEFAULT_DB = "sqlite:///zwgk.db"
T = TypeVar("T")


class UsageError(Exception):
    """Bad use of the command. Like the engine's errors (states.errors.Phrased, too heavy an import for `--help`),
    an English template and its parameters, which the CLI says in the user's language (workflow/i18n.py)."""

    def __init__(self, template: str, /, **params: object) -> None:
        self.template, self.params = template, params
        super().__init__(template.format(**params) if params else template)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError("{problem}", problem=message)  # argparse's own words, in English


def _count(text: str) -> int:
    """A whole number a database column holds (an id, a version, a limit)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 0 <= n < 2**31:
        raise argparse.ArgumentTypeError(f"{n} is out of range (0 to {2**31 - 1})")
    return n


def _span(text: str) -> tuple[int, int, str]:
    """START-END:GROUND, as `advance ITEM redact --span` takes it."""
    m = re.fullmatch(r"(\d{1,9})-(\d{1,9}):([a-z0-9_]{1,32})", text)
    if m is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not START-END:GROUND, e.g. 12-30:art15")
    return int(m[1]), int(m[2]), m[3]


def _finding(text: str) -> tuple[int, str]:
    """N:GROUND, as `advance ITEM redact --finding` takes it."""
    m = re.fullmatch(r"(\d{1,6}):([a-z0-9_]{1,32})", text)
    if m is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not N:GROUND, e.g. 2:art15")
    return int(m[1]), m[2]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


class _Version(argparse.Action):
    """`--version`, looked up only when asked: reading the installed metadata costs every command ~50 ms."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **_: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the installed version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib import metadata  # ~60 ms of imports (the email package) too

        try:
            version = metadata.version("zwgk-workflow")
        except metadata.PackageNotFoundError:  # run from a source tree that was never installed
            version = "(not installed)"
        print(f"zwgk {version}")  # on stdout, as argparse's own version action prints it
        parser.exit()


class _Completion(argparse.Action):
    """`--print-completion SHELL`: a completion script for the whole parser (shtab), imported only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, _: argparse.Namespace, shell: Any, *__: Any) -> None:
        import shtab

        try:
            print(shtab.complete(parser, shell=shell), flush=True)
        except BrokenPipeError:  # `zwgk --print-completion bash | head`: the reader left; say nothing more
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    # The global options are accepted before or after the command.
    common = _Parser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS,
                        help=f"database URL (default: $ZWGK_DATABASE_URL or {DEFAULT_DB})")
    common.add_argument("--pipeline", default=argparse.SUPPRESS,
                        help="pipeline TOML file for `pipeline show|diagram|adopt` (default: $ZWGK_PIPELINE)")
    common.add_argument("--config", default=argparse.SUPPRESS,
                        help="settings TOML file (default: $ZWGK_CONFIG or zwgk.toml beside the database)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON with stable keys")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log what happens to stderr")
    common.add_argument("--lang", choices=["zh", "en"], default=argparse.SUPPRESS,
                        help="the language of human output and errors (default: $ZWGK_LANG or zh); JSON keys and "
                             "logs stay English")
    p = _Parser(prog="zwgk", description="政务公开 workflow: advance items, check the signature log.",
                parents=[common])
    p.add_argument("--version", action=_Version)
    p.add_argument("--print-completion", choices=["bash", "zsh", "tcsh"], action=_Completion,
                   help="print a shell completion script and exit, e.g. `zwgk --print-completion bash > "
                        "/etc/bash_completion.d/zwgk`")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    init = sub.add_parser("init", parents=[common], help="create or upgrade the schema (idempotent); with --admin, "
                                                        "start the register")
    init.add_argument("--admin", help="the first admin's person id (登记管理员: keeps the register)")
    init.add_argument("--name", help="the first admin's name")
    init.add_argument("--simulation", action="store_true",
                      help="a database for demos and tests: the only kind that takes a clock set by ZWGK_NOW")

    unit = sub.add_parser("unit", parents=[common], help="units: 乡人民政府, 站所, 村委会").add_subparsers(
        dest="sub", required=True)
    ua = unit.add_parser("add", parents=[common], help="add a unit, with its own chain (signed by an admin)")
    ua.add_argument("id", help="the unit's id (letters, digits, . _ -), e.g. gov")
    ua.add_argument("--name", required=True, help="its name, e.g. 平田乡人民政府")
    ua.add_argument("--kind", default="government", help="government, station, village or office")
    _signer_arg(ua, "the admin who adds it")
    uc = unit.add_parser("close", parents=[common], help="close a unit: its chain takes no more events")
    uc.add_argument("id", help="the unit's id")
    _signer_arg(uc, "the admin who closes it")
    unit.add_parser("list", parents=[common], help="every unit, open or closed")

    person = sub.add_parser("person", parents=[common], help="people").add_subparsers(dest="sub", required=True)
    pa = person.add_parser("add", parents=[common], help="add a person to the register (signed by an admin)")
    pa.add_argument("id", help="the person's id (letters, digits, . _ -), e.g. zhang3")
    pa.add_argument("--name", required=True, help="their name, e.g. 张三")
    pa.add_argument("--unit", help="where they work; --role grants roles there")
    pa.add_argument("--role", action="append", default=[], help="a role in --unit; repeat for several")
    pa.add_argument("--email", help="for reminders by e-mail")
    pa.add_argument("--phone", help="mobile number, for reminders by WeCom or DingTalk robots")
    _signer_arg(pa, "the admin who adds them")
    for verb, what in (("deactivate", "may no longer sign (left the office)"), ("reactivate", "may sign again")):
        pd = person.add_parser(verb, parents=[common], help=f"the person {what}")
        pd.add_argument("id", help="the person's id")
        _signer_arg(pd, "the admin")
    person.add_parser("list", parents=[common], help="everyone in the register, with their roles per unit")

    for verb, what in (("grant", "grant a role in a unit, or admin in the register (no --unit)"),
                       ("revoke", "revoke a role in a unit, or admin in the register (no --unit)")):
        g = sub.add_parser(verb, parents=[common], help=what)
        g.add_argument("person", help="the person's id")
        g.add_argument("role", help="a role of the pipeline in force (drafter, proofreader, ...), or admin")
        g.add_argument("--unit", help="the unit the role is held in")
        _signer_arg(g, "the admin (who may not grant a role to themselves)")

    item = sub.add_parser("item", parents=[common], help="items of information").add_subparsers(
        dest="sub", required=True)
    new = item.add_parser("new", parents=[common], help="register a draft (its creation is signed by its drafter)")
    new.add_argument("--title", required=True, help="the title, one line")
    new.add_argument("--unit", required=True, help="the unit that discloses it")
    new.add_argument("--category", required=True, help="1..6 or a sub-item such as 3.4")
    new.add_argument("--timing", required=True, help="long_term, periodic or immediate")
    new.add_argument("--kind", required=True, help="info, policy or interpretation")
    new.add_argument("--interprets", help="the policy item an interpretation interprets")
    new.add_argument("--tag", action="append", default=[], help="五公开 tag; repeatable")
    new.add_argument("--formed-on", type=_date, help="date the information was formed (YYYY-MM-DD)")
    new.add_argument("--id", help="use this id instead of a generated one")
    new.add_argument("--schedule", help="the periodic schedule (定期公开) this item discloses, with --period")
    new.add_argument("--period", help="e.g. 2026Q3, 2026H1, 2026-10 or 2026")
    new.add_argument("--interpreter", help="an interpretation's: who interprets the policy, if not its drafter")
    new.add_argument("--doc-type", choices=["rule", "normative"],
                     help="a document the annual report counts: rule (规章) or normative (行政规范性文件)")
    _body_args(new)
    new.add_argument("--as", dest="actor", required=True, help="the drafter")
    edit = item.add_parser("edit", parents=[common], help="change a draft")
    edit.add_argument("item", help="the item's id")
    edit.add_argument("--title", help="a new title")
    edit.add_argument("--tag", action="append", help="五公开 tag; repeatable; replaces the tags")
    edit.add_argument("--formed-on", type=_date, help="a new formation date (YYYY-MM-DD): its 20 days restart")
    edit.add_argument("--comment", help="recorded with the edit's signature")
    _body_args(edit)
    edit.add_argument("--as", dest="actor", required=True, help="who edits (signs the edit)")
    show = item.add_parser("show", parents=[common], help="one item: its content, state and next steps")
    show.add_argument("item", help="the item's id")
    show.add_argument("--redacted", action="store_true",
                      help="also print the body as it is published: spans withheld replaced by marks")
    lst = item.add_parser("list", parents=[common], help="items by id, printed as they are read")
    lst.add_argument("--state", help="only those in this state, e.g. published")
    lst.add_argument("--limit", type=_count, help="at most this many (a page)")
    lst.add_argument("--after", metavar="ITEM", help="only those after this id: the last of the previous page")

    adv = sub.add_parser("advance", parents=[common], help="sign one step of an item")
    adv.add_argument("item", help="the item's id")
    adv.add_argument("action", help="the step to sign, e.g. submit, proofread, clear, check, approve, publish")
    adv.add_argument("--as", dest="actor", required=True, help="who signs")
    adv.add_argument("--comment", help="recorded with the signature")
    adv.add_argument("--reason", help="why (a return, a withholding or its review, a retraction need one)")
    adv.add_argument("--ground", help="legal ground, e.g. art16")
    adv.add_argument("--decision", help="e.g. full or partial; a reopen: changed, consent or public_interest")
    adv.add_argument("--recorded-by", help="the clerk entering a paper sign-off for the signer")
    sheet = adv.add_mutually_exclusive_group()
    sheet.add_argument("--paper", type=Path, help="scanned sign-off sheet; its SHA-256 is recorded")
    sheet.add_argument("--paper-sha256", help="SHA-256 of the scanned sign-off sheet")
    adv.add_argument("--expect-version", type=_count, help="refuse if the item is no longer at this version")
    adv.add_argument("--to", help="reassign: the drafter a draft goes to")
    adv.add_argument("--span", action="append", default=[], type=_span, metavar="START-END:GROUND",
                     help="redact: characters START to END (from 0, END not included) of the body withheld on GROUND "
                          "(e.g. 12-30:art15); repeatable")
    adv.add_argument("--finding", action="append", default=[], type=_finding, metavar="N:GROUND",
                     help="redact: the body's finding N of `zwgk screen` withheld on GROUND; repeatable")
    adv.add_argument("--no-spans", action="store_true", help="redact: withhold nothing (undo the spans withheld)")

    from scripts import requests_cli

    requests_cli.add_parsers(sub, common, _date, _count)

    from scripts import report_cli

    report_cli.add_parsers(sub, common, _count)

    scr = sub.add_parser("screen", parents=[common], help="the pre-screen: its findings on an item (personal data, "
                         "document marks: rule, severity, where; the matched text only with --show); `screen rules "
                         "--unit U`: a unit's rules; `screen adopt FILE|--builtin --unit U --as ADMIN`: adopt them")
    scr.add_argument("words", nargs="*", metavar="ITEM | rules | adopt [FILE]",
                     help="an item's id; `rules`; or `adopt` and the office's rules TOML")
    scr.add_argument("--item", help="the item's id, whatever it is (an item named adopt or rules too)")
    scr.add_argument("--show", action="store_true", help="also print the matched text (for its reviewer's eyes)")
    scr.add_argument("--redacted", action="store_true", help="screen the body as it is published (spans withheld)")
    scr.add_argument("--unit", help="rules, adopt: the unit")
    scr.add_argument("--builtin", action="store_true", help="adopt: the built-in rules back, instead of a file")
    scr.add_argument("--as", dest="actor", help="adopt: the admin who adopts them (signs the act)")
    hist = sub.add_parser("history", parents=[common], help="every signature on an item")
    hist.add_argument("item", help="the item's id")
    ver = sub.add_parser("verify", parents=[common], help="recompute every chain and judge every event by the rules")
    ver.add_argument("--against", help="a root digest kept earlier (printed by `zwgk digest`, sent to witnesses)")
    ver.add_argument("--since", help="recheck only what came after this root digest")
    sub.add_parser("digest", parents=[common],
                   help="seal every chain's head in the register and print the root digest (SEQ:SHA256)")

    bk = sub.add_parser("backup", parents=[common],
                        help="copy the SQLite database, in use or not, to one file, and verify the copy")
    bk.add_argument("dest", type=Path, help="the copy's file (an older copy there is replaced once this one verifies)")
    rs = sub.add_parser("restore", parents=[common], help="put a copy made by `zwgk backup` in place of the database; "
                        "refused if the copy fails verify or lacks what the database holds")
    rs.add_argument("copy", type=Path, help="the backup file")
    rs.add_argument("--drop-unsealed", action="store_true",
                    help="accept losing the database's events after its last seal (when they are what is wrong)")

    pipe = sub.add_parser("pipeline", parents=[common],
                          help="pipelines: a file's (--pipeline), or the one in force in a unit").add_subparsers(
        dest="sub", required=True)
    for name in ("show", "diagram"):
        shown = pipe.add_parser(name, parents=[common], help="print its states, roles and actions" if name == "show"
                                else "draw it (mermaid or Graphviz dot)")
        shown.add_argument("--unit", help="the pipeline in force in this unit (default: --pipeline, or built-in)")
        if name == "diagram":
            shown.add_argument("--format", choices=["mermaid", "dot"], default="mermaid", help="the drawing's language")
    adopt = pipe.add_parser("adopt", parents=[common], help="adopt a pipeline file in a unit (signed by an admin)")
    adopt.add_argument("file", nargs="?", type=Path, help="the pipeline TOML (default: --pipeline)")
    adopt.add_argument("--builtin", metavar="KIND", help="the built-in pipeline of this kind of case instead of a "
                       "file, e.g. request (for a unit added before its kind existed)")
    adopt.add_argument("--unit", required=True, help="the unit that adopts it")
    _signer_arg(adopt, "the admin who adopts it")

    dl = sub.add_parser("deadlines", parents=[common], help="deadlines by due date")
    dl.add_argument("--overdue", action="store_true", help="only those past their due day and not met")
    dl.add_argument("--due-before", type=_date, help="only those due before this date")
    dl.add_argument("--status", help="open, overdue, met or cancelled")
    dl.add_argument("--item", help="only this item's")
    dd = sub.add_parser("deadline", parents=[common], help="one deadline").add_subparsers(dest="sub", required=True)
    dshow = dd.add_parser("show", parents=[common], help="one deadline, by its number")
    dshow.add_argument("id", type=_count, help="the deadline's number (#N in listings)")
    done = dd.add_parser("done", parents=[common], help="close an office duty by hand (self-assessment held, ...)")
    done.add_argument("id", type=_count, help="the deadline's number")
    done.add_argument("--as", dest="actor", required=True, help="who confirms it")
    done.add_argument("--note", help="what was done")

    rem = sub.add_parser("reminders", parents=[common], help="the reminder outbox, newest first")
    which = rem.add_mutually_exclusive_group()
    for status in ("pending", "sending", "sent", "dead", "cancelled"):
        which.add_argument(f"--{status}", dest="status", action="store_const", const=status,
                           help=f"only those {status}")
    rem.add_argument("--limit", type=_count, default=100, help="at most this many (default 100)")
    rem.add_argument("--ack", nargs="+", metavar="ID", help="acknowledge these dead letters (their numbers, or 'all'): "
                     "`daemon --status` stops exiting 3 for them")
    rem.add_argument("--as", dest="actor", help="who acknowledges (default: the operating-system account)")
    plan = sub.add_parser("remind", parents=[common], help="plan due reminders into the outbox now")
    plan.add_argument("--dry-run", action="store_true", help="only print what would be queued")
    plan.add_argument("--now", help="as if it were this time (ISO with offset); also $ZWGK_NOW")

    cal = sub.add_parser("calendar", parents=[common], help="the working-day calendar").add_subparsers(
        dest="sub", required=True)
    cshow = cal.add_parser("show", parents=[common], help="a year's holidays and working weekends")
    cshow.add_argument("year", type=int, help="e.g. 2026")
    cal.add_parser("reload", parents=[common], help="recompute provisional deadlines on the calendar as it is now")
    cfg = sub.add_parser("config", parents=[common], help="the settings in force").add_subparsers(
        dest="sub", required=True)
    cfg.add_parser("show", parents=[common], help="print them, secrets redacted")

    dmn = sub.add_parser("daemon", parents=[common], help="plan and send reminders until stopped (SIGTERM)")
    mode = dmn.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one pass of every job, then exit (for cron and tests)")
    mode.add_argument("--status", action="store_true", help="list the daemons' heartbeats and exit")

    demo = sub.add_parser("demo", parents=[common],
                          help="build a demo database, walk sample items, then run the reminder daemon on it")
    demo.add_argument("--dir", type=Path, help="folder for the demo database (default: a new temporary folder)")
    demo.add_argument("--once", action="store_true", help="run the daemon's jobs once instead of until Ctrl-C")
    demo.add_argument("--no-daemon", action="store_true", help="only build the database")
    return p


def _signer_arg(p: argparse.ArgumentParser, who: str) -> None:
    p.add_argument("--as", dest="actor", required=True, help=who)


def _body_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--body", help="the text")
    g.add_argument("--body-file", type=Path, help="read the text from this file (UTF-8)")


def _body(args: argparse.Namespace) -> str | None:
    if args.body_file is None:
        return args.body  # type: ignore[no-any-return]
    try:
        return args.body_file.read_text(encoding="utf-8")  # type: ignore[no-any-return]
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError("cannot read --body-file {file}: {problem}", file=args.body_file,
                         problem=getattr(e, "strerror", None) or e) from None


def _paper(args: argparse.Namespace) -> str | None:
    import hashlib

    if args.paper is None:
        return args.paper_sha256  # type: ignore[no-any-return]
    try:
        return hashlib.sha256(args.paper.read_bytes()).hexdigest()
    except OSError as e:
        raise UsageError("cannot read --paper {file}: {problem}", file=args.paper, problem=e.strerror) from None


class Cli:
    def __init__(self, args: argparse.Namespace, out: Callable[[str], None], lang: str) -> None:
        self.args = args
        self.out = out
        self.lang = lang

    def tr(self, template: str, **params: Any) -> str:
        """`template` in the user's language (a command has imported the engine by the time it speaks)."""
        from workflow.i18n import say

        return say(self.lang, template, **params)

    def pipeline_file(self) -> Pipeline | None:
        """The pipeline of --pipeline (or $ZWGK_PIPELINE), for `pipeline show|diagram|adopt` alone."""
        from states import load_pipeline

        path = getattr(self.args, "file", None) or self.args.pipeline or os.environ.get("ZWGK_PIPELINE")
        return load_pipeline(path) if path else None

    def _url(self) -> tuple[str, Path | None]:
        """The database URL, and the folder of its file for an SQLite database."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        url = self.args.db or os.environ.get("ZWGK_DATABASE_URL") or DEFAULT_DB
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise UsageError("the database URL is malformed (expected e.g. sqlite:///zwgk.db)") from None
        if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
            return url, Path(parsed.database)
        return url, None

    def config(self) -> Config:
        from workflow.config import load as load_config

        given = self.args.config or os.environ.get("ZWGK_CONFIG")
        if given:
            return load_config(given, required=True)
        _, path = self._url()
        return load_config((path.parent if path else Path()) / "zwgk.toml")

    def workflow(self, *, create: bool = False, moving: bool = False) -> Workflow:
        """`moving`: a clock set by ZWGK_NOW runs on from there (the daemon), instead of standing still."""
        from workflow import Workflow, db
        from workflow.clock import fixed, parse_instant, running_from

        url, path = self._url()
        if path is not None:
            if not path.parent.is_dir():  # said first: `zwgk init` could not make the database there either
                raise UsageError("folder {folder} does not exist", folder=path.parent)
            if not create and not path.exists():
                raise UsageError("database {path} does not exist; run `zwgk init` first", path=path)
            if _reads_only(self.args):  # writes nothing, not even a -shm file: works on a copy on a CD
                url = db.reading_url(path)
            elif path.exists() and not db.writable(path):
                raise UsageError("database {path} is read-only here (its file or folder cannot be written): only "
                                 "commands that read (item list, history, verify, ...) work on it", path=path)
        now = self.args.now if getattr(self.args, "now", None) else os.environ.get("ZWGK_NOW")
        clock = None
        if now and moving:
            since = os.environ.get("ZWGK_NOW_SINCE")  # the wall time ZWGK_NOW was read at: one clock for all
            clock = running_from(parse_instant(now), float(since) if since else None)
        elif now:
            clock = fixed(parse_instant(now))
        wf = Workflow(url, clock=clock, config=self.config())
        if not create:
            wf.check_schema()
        return wf

    def emit(self, obj: Any, lines: Sequence[str]) -> None:
        """JSON, or the human lines; an empty listing says so rather than printing a blank line."""
        self.out(output.to_json(obj) if self.args.json else "\n".join(lines) or self.tr("none"))

    def stream(self, values: Iterable[T], obj: Callable[[T], Any], line: Callable[[T], str]) -> None:
        """`emit` for a listing of any length: each value printed as it comes, JSON as one array all the same."""
        if self.args.json:
            for text in output.json_lines(obj(v) for v in values):
                self.out(text)
            return
        empty = True
        for v in values:
            self.out(line(v))
            empty = False
        if empty:
            self.out(self.tr("none"))

    # -- commands -----------------------------------------------------------------------------------------

    def init(self) -> int:
        a = self.args
        if (a.admin is None) != (a.name is None):
            raise UsageError("the register starts with its first admin: give both --admin ID and --name NAME")
        with self.workflow(create=True) as wf:
            wf.init(admin=a.admin, name=a.name, simulation=a.simulation)
            url = wf.engine.url.render_as_string(hide_password=True)
        line = self.tr("database {url} is ready", url=url)
        if a.admin:
            line += self.tr("; register started by admin {admin}", admin=a.admin)
        if a.simulation:
            line += self.tr(" (a simulation)")
        self.emit({"database": url, "ready": True, "admin": a.admin, "simulation": a.simulation}, [line])
        return 0

    def unit(self) -> int:
        a = self.args
        with self.workflow() as wf:
            if a.sub == "add":
                u = wf.add_unit(a.id, name=a.name, kind=a.kind, by=a.actor)
                self.emit(output.unit_obj(u), [self.tr("unit {unit} added, with its chain", unit=u.id)])
            elif a.sub == "close":
                wf.close_unit(a.id, by=a.actor)
                self.emit({"id": a.id, "open": False}, [self.tr("unit {unit} closed", unit=a.id)])
            else:
                units = wf.units()
                self.emit([output.unit_obj(u) for u in units],
                          [f"{u.id:<16} {u.kind:<11} {output.safe(u.name)}" + ("" if u.open else "  (closed)")
                           for u in units])
        return 0

    def person(self) -> int:
        a = self.args
        with self.workflow() as wf:
            if a.sub == "add":
                p = wf.add_person(a.id, name=a.name, unit=a.unit, roles=a.role, email=a.email, phone=a.phone,
                                  by=a.actor)
                held = p.roles_in(a.unit) if a.unit else ()
                line = (self.tr("person {person} added with roles {roles} in {unit}", person=p.id,
                            roles=", ".join(held), unit=a.unit) if held else
                        self.tr("person {person} added", person=p.id))
                self.emit(output.person_obj(p), [line])
            elif a.sub == "deactivate":
                wf.deactivate(a.id, by=a.actor)
                self.emit({"id": a.id, "active": False}, [self.tr("person {person} deactivated", person=a.id)])
            elif a.sub == "reactivate":
                wf.reactivate(a.id, by=a.actor)
                self.emit({"id": a.id, "active": True}, [self.tr("person {person} reactivated", person=a.id)])
            else:
                people = wf.people()
                self.emit([output.person_obj(p) for p in people], [output.person_line(p) for p in people])
        return 0

    def grant(self) -> int:
        a = self.args
        with self.workflow() as wf:
            (wf.revoke if a.command == "revoke" else wf.grant)(a.person, a.role, unit=a.unit, by=a.actor)
        where = self.tr("in {unit}", unit=a.unit) if a.unit else self.tr("in the register")
        done = (self.tr("role {role} {where} revoked from {person}", role=a.role, where=where, person=a.person)
                if a.command == "revoke" else
                self.tr("role {role} {where} granted to {person}", role=a.role, where=where, person=a.person))
        self.emit({"person": a.person, "role": a.role, "unit": a.unit, "held": a.command == "grant"}, [done])
        return 0

    def item(self) -> int:
        a = self.args
        with self.workflow() as wf:
            if a.sub == "new":
                i = wf.new_item(title=a.title, unit=a.unit, category=a.category, timing=a.timing, kind=a.kind,
                                drafter=a.actor, body=_body(a) or "", interprets=a.interprets, tags=a.tag,
                                formed_on=a.formed_on, id=a.id, schedule=a.schedule, period=a.period,
                                doc_type=a.doc_type, interpreter=a.interpreter)
                self.emit({"id": i.id, "state": i.state, "version": i.version}, [i.id])
            elif a.sub == "edit":
                s = wf.edit_item(a.item, actor=a.actor, title=a.title, body=_body(a), tags=a.tag,
                                 formed_on=a.formed_on, comment=a.comment)
                self._signatures(wf, [s], one=True)
            elif a.sub == "show":
                i = wf.item(a.item)
                steps = wf.next_steps(a.item)
                p = wf.pipeline_in_force(i.unit)
                found = wf.screen_item(a.item, redacted=True)
                lines = output.item_lines(i, p, steps, self.lang) + output.screen_lines(a.item, found, self.lang)
                if a.redacted:
                    lines += ["", *(output.safe(line) for line in i.public_body.splitlines())]
                self.emit(output.item_obj(i, p, body=True, redacted=a.redacted) | {"next": output.next_obj(steps)}
                          | {"screen": [{"field": field, "rule": f.rule, "severity": f.severity, "start": f.start,
                                         "end": f.end} for field, f in found]}, lines)
            else:
                if a.limit == 0:
                    raise UsageError("--limit must be at least 1")
                labels = _Labels(wf)
                self.stream(wf.iter_items(state=a.state, limit=a.limit, after=a.after),
                            lambda i: output.item_obj(i, labels(i.unit)), lambda i: output.item_line(i, labels(i.unit)))
        return 0

    def advance(self) -> int:
        a = self.args
        if (a.action == "reassign") != (a.to is not None):
            raise UsageError("--to names the drafter of a reassign, and a reassign needs it")
        if a.action == "reassign" and any((a.ground, a.decision, a.recorded_by, a.paper, a.paper_sha256)):
            raise UsageError("a reassign takes no --ground, --decision, --recorded-by or paper sheet")
        if (a.action == "redact") != bool(a.span or a.finding or a.no_spans) or (a.no_spans and (a.span or a.finding)):
            raise UsageError("--span, --finding or --no-spans say what a redact withholds, and a redact needs them")
        if a.action == "redact" and any((a.reason, a.ground, a.decision, a.recorded_by, a.paper, a.paper_sha256)):
            raise UsageError("a redact takes no --reason, --ground, --decision, --recorded-by or paper sheet (each "
                             "span has its ground; --comment says why)")
        with self.workflow() as wf:
            if a.action == "redact":
                s = wf.redact(a.item, [*a.span, *self._found(wf, a.item, a.finding)], actor=a.actor,
                              comment=a.comment, expected_version=a.expect_version)
            elif a.action == "reassign":
                s = wf.reassign(a.item, to=a.to, actor=a.actor, comment=a.comment, reason=a.reason,
                                expected_version=a.expect_version)
            else:
                s = wf.advance(a.item, a.action, actor=a.actor, comment=a.comment, reason=a.reason, ground=a.ground,
                               decision=a.decision, recorded_by=a.recorded_by, paper_sha256=_paper(a),
                               expected_version=a.expect_version)
            self._signatures(wf, [s], one=True)
        return 0

    def request(self) -> int:
        from scripts import requests_cli

        return requests_cli.run(self)

    def report(self) -> int:
        from scripts import report_cli

        return report_cli.run(self)

    def screen(self) -> int:
        from workflow.screen import excerpt

        a = self.args
        verb = _screen_verb(a)
        given = [f"--{name}" for name, on in (("item", a.item is not None), ("show", a.show),
                                              ("redacted", a.redacted), ("unit", a.unit is not None),
                                              ("builtin", a.builtin), ("as", a.actor is not None)) if on]
        allowed = {"adopt": {"--unit", "--builtin", "--as"}, "rules": {"--unit"}}.get(
            verb or "", {"--item", "--show", "--redacted"})
        extra = [o for o in given if o not in allowed]
        if extra:
            raise UsageError("zwgk screen {verb} does not take {option}", verb=verb or "ITEM", option=extra[0])
        if verb == "adopt":
            return self._screen_adopt(a.words[1:])
        if verb == "rules":
            return self._screen_rules(a.words[1:])
        if len(a.words) + (a.item is not None) != 1:
            raise UsageError("zwgk screen takes one item: ITEM, or --item ID (for an item named adopt or rules)")
        item_id = a.item if a.item is not None else a.words[0]
        with self.workflow() as wf:
            findings = wf.screen_item(item_id, redacted=a.redacted)
            item = wf.item(item_id) if a.show else None
        texts = {"title": item.title, "body": item.public_body if a.redacted else item.body} if item else {}
        rows = [{"n": n, "field": field, "rule": f.rule, "severity": f.severity, "start": f.start, "end": f.end}
                | ({"text": excerpt(texts[field], f)} if texts else {}) for n, (field, f) in enumerate(findings, 1)]
        self.emit(rows, [f"{r['n']:>3} {r['field']:<5} {r['start']:>7}-{r['end']:<7} {r['severity']:<6} {r['rule']}"
                         + (f"  {output.safe(str(r['text']))}" if "text" in r else "") for r in rows])
        return 0

    def _found(self, wf: Workflow, item: str, wanted: list[tuple[int, str]]) -> list[tuple[int, int, str]]:
        """The spans of the body's findings `wanted` as (N, ground), N as `zwgk screen` numbers them."""
        findings = wf.screen_item(item) if wanted else []
        spans = []
        for n, ground in wanted:
            if not 1 <= n <= len(findings) or findings[n - 1][0] != "body":
                raise UsageError("--finding {n}: `zwgk screen {item}` has no finding {n} in the body", n=n, item=item)
            f = findings[n - 1][1]
            spans.append((f.start, f.end, ground))
        return spans

    def _screen_adopt(self, files: list[str]) -> int:
        a = self.args
        if len(files) + a.builtin != 1 or a.unit is None or a.actor is None:
            raise UsageError("zwgk screen adopt takes the office's rules file or --builtin, with --unit U --as ADMIN")
        text, source = None, self.tr("the built-in rules")
        if files:
            source = files[0]
            try:
                text = Path(source).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise UsageError("cannot read {file}: {reason}", file=source,
                                 reason=getattr(e, "strerror", None) or e) from None
        with self.workflow() as wf:
            fingerprint = wf.adopt_screen_rules(a.unit, text, source=source, by=a.actor)
        self.emit({"unit": a.unit, "fingerprint": fingerprint, "builtin": text is None},
                  [self.tr("unit {unit} adopted the screening rules {fingerprint} ({source})", unit=a.unit,
                           fingerprint=fingerprint[:12], source=source)])
        return 0

    def _screen_rules(self, rest: list[str]) -> int:
        import json

        from workflow import screening

        a = self.args
        if rest or a.unit is None:
            raise UsageError("zwgk screen rules takes --unit U and nothing else")
        with self.workflow() as wf:
            rules = wf.screen_rules(a.unit)
        builtin = rules.fingerprint == screening.builtin().fingerprint
        rows = json.loads(rules.definition)
        head = self.tr("unit {unit} screens with the rules {fingerprint} ({which})", unit=a.unit,
                       fingerprint=rules.fingerprint[:12],
                       which=self.tr("the built-in rules") if builtin else self.tr("the office's file"))
        self.emit({"unit": a.unit, "fingerprint": rules.fingerprint, "builtin": builtin, "rules": rows},
                  [head] + [f"{r['id']:<22} {output.safe(r['zh'])}  {r['severity']:<6} "
                            f"{self.tr('built-in') if r['builtin'] else self.tr('office')}  "
                            + (self.tr("kind {kind}", kind=r["kind"]) if "kind" in r else output.safe(r["pattern"]))
                            for r in rows])
        return 0

    def history(self) -> int:
        with self.workflow() as wf:
            self._signatures(wf, wf.history(self.args.item))
        return 0

    def _signatures(self, wf: Workflow, sigs: Sequence[Signature], *, one: bool = False) -> None:
        labels = _Labels(wf)
        objs = [output.signature_obj(s, labels(s.chain)) for s in sigs]
        tz = wf.config.office.tz
        self.emit(objs[0] if one else objs, [output.signature_line(s, labels(s.chain), tz) for s in sigs])

    def verify(self) -> int:
        from workflow import Digest

        try:
            against = Digest.parse(self.args.against) if self.args.against else None
            since = Digest.parse(self.args.since) if self.args.since else None
        except ValueError as e:
            raise UsageError("{problem}", problem=e) from None
        with self.workflow() as wf:
            r = wf.verify(against, since)
        if self.args.json:
            self.out(output.to_json({"ok": r.ok, "events": r.events, "chains": r.chains, "cases": r.cases,
                                     "problems": r.problems, "digest": str(r.digest) if r.digest else None,
                                     "sealed": r.sealed, "since": str(r.since) if r.since else None,
                                     "simulation": r.simulation}))
        elif r.ok:
            root = (self.tr("root digest {digest}", digest=r.digest) if r.sealed else
                    self.tr("the register is at {digest}; chains moved since its last seal: `zwgk digest` "
                        "seals them", digest=r.digest))
            self.out(self.tr("ok: {events} events in {chains} chains, {cases} cases; hashes, links, times, "
                         "rules and tables agree; {root}", events=r.events, chains=r.chains, cases=r.cases, root=root))
            if r.since is not None:
                self.out(self.tr("rechecked only what follows {since} (and the chain positions of its seal); "
                             "the links before it were not rechecked", since=r.since))
            if r.simulation:
                self.out(self.tr("a simulation (zwgk init --simulation): its clock may be set by hand, so its "
                             "times prove nothing"))
        else:  # the problems themselves are an auditor's evidence, said as verify found them (English)
            print("zwgk: " + self.tr("verify failed: {problem}", problem=r.first_problem), file=sys.stderr)
            for more in r.problems[1:]:
                self.out(self.tr("  also: {problem}", problem=more))
        return 0 if r.ok else 1

    def digest(self) -> int:
        with self.workflow() as wf:
            d = wf.digest()
        self.emit({"seq": d.seq, "hash": d.hash, "digest": str(d)}, [str(d)])
        return 0

    def backup(self) -> int:
        from workflow import backup as copies

        dest = self.args.dest
        try:
            r = copies.backup(self._sqlite_file("backup", "pg_dump"), dest, self.config())
        except copies.NotVerified as e:
            print(f"zwgk: {e}", file=sys.stderr)
            return 1
        self.emit({"backup": str(dest), "events": r.events, "chains": r.chains, "digest": str(r.digest)},
                  [f"backup {dest}: verified, {r.events} events in {r.chains} chains; root digest {r.digest}"])
        return 0

    def restore(self) -> int:
        from workflow import backup as copies

        live = self._sqlite_file("restore", "pg_restore", exists=False)
        r = copies.restore(self.args.copy, live, self.config(), drop_unsealed=self.args.drop_unsealed)
        self.emit({"restored": str(self.args.copy), "database": str(live), "events": r.events, "chains": r.chains,
                   "digest": str(r.digest)},
                  [f"restored {self.args.copy} into {live}: verified, {r.events} events in {r.chains} chains; "
                   f"root digest {r.digest}"])
        return 0

    def _sqlite_file(self, command: str, tool: str, *, exists: bool = True) -> Path:
        """The database file `backup` and `restore` work on: they copy SQLite files; PostgreSQL has its own tools."""
        _, path = self._url()
        if path is None:
            raise UsageError("zwgk {command} works on an SQLite database file; for PostgreSQL use {tool} "
                             "(README: Backup and restore)", command=command, tool=tool)
        if not path.parent.is_dir():
            raise UsageError("folder {folder} does not exist", folder=path.parent)
        if exists and not path.exists():
            raise UsageError("database {path} does not exist", path=path)
        return path

    def pipeline_cmd(self) -> int:
        from states import KINDS, builtin, default_pipeline
        from states.draw import dot, mermaid
        from states.machine import as_rows

        a = self.args
        if a.sub == "adopt":
            if a.builtin is not None and (a.file or a.pipeline):
                raise UsageError("pipeline adopt takes a pipeline file or --builtin KIND, not both")
            if a.builtin is not None and a.builtin not in KINDS:
                raise UsageError("no kind of case '{kind}' (one of: {kinds})", kind=a.builtin, kinds=", ".join(KINDS))
            p = builtin(a.builtin) if a.builtin is not None else self.pipeline_file()
            if p is None:
                raise UsageError("pipeline adopt needs a pipeline file (FILE or --pipeline) or --builtin KIND")
            with self.workflow() as wf:
                fingerprint = wf.adopt_pipeline(a.unit, p, by=a.actor)
            self.emit({"unit": a.unit, "kind": p.kind, "name": p.name, "version": p.full_version,
                       "fingerprint": fingerprint},
                      [f"unit {a.unit} adopted {p.kind} pipeline {p.name} {p.full_version}"])
            return 0
        if a.unit is not None:
            with self.workflow() as wf:
                p = wf.pipeline_in_force(a.unit)
        else:
            p = self.pipeline_file() or default_pipeline()
        if a.sub == "show":
            self.emit({"kind": p.kind, "name": p.name, "version": p.full_version, "fingerprint": p.fingerprint,
                       "initial": p.initial, "actions": as_rows(p), "separation": [list(g) for g in p.separation]},
                      output.pipeline_lines(p, self.lang))
        else:
            self.out(mermaid(p) if a.format == "mermaid" else dot(p))
        return 0

    def deadlines(self) -> int:
        a = self.args
        with self.workflow() as wf:
            found, today = wf.deadlines(status=a.status, overdue=a.overdue, due_before=a.due_before,
                                        item=a.item), wf.today()
        self.emit([output.deadline_obj(d, today) for d in found],
                  [output.deadline_line(d, today, self.lang) for d in found])
        return 0

    def deadline(self) -> int:
        a = self.args
        with self.workflow() as wf:
            d = wf.deadline(a.id) if a.sub == "show" else wf.complete_deadline(a.id, by=a.actor, note=a.note)
            today = wf.today()
        self.emit(output.deadline_obj(d, today), [output.deadline_line(d, today, self.lang)])
        return 0

    def reminders(self) -> int:
        if self.args.limit < 1:
            raise UsageError("--limit must be at least 1")
        if self.args.ack:
            return self._ack(self.args.ack)
        if self.args.actor:
            raise UsageError("--as goes with --ack")
        with self.workflow() as wf:
            found = wf.notifications(status=self.args.status, limit=self.args.limit)
            tz = wf.config.office.tz
        self.emit([output.notification_obj(n) for n in found], [output.notification_line(n, tz) for n in found])
        return 0

    def _ack(self, given: list[str]) -> int:
        ids: list[int] | None = None
        if given != ["all"]:
            if not all(g.isdigit() and 0 < int(g) < 2**63 for g in given):
                raise UsageError("--ack takes dead letters' numbers (as `reminders --dead` shows them) or 'all'")
            ids = sorted({int(g) for g in given})
        from workflow.outbox import acknowledge

        with self.workflow() as wf:
            wf.writable_clock()  # it records when: with a clock set by hand, on a simulation only
            done = acknowledge(wf.engine, ids, self.args.actor or wf.operator, wf.clock())
        self.emit({"acknowledged": done}, [f"acknowledged {done} dead letter{'s' if done != 1 else ''}"])
        return 0

    def remind(self) -> int:
        from workflow.reminders import Planner, build_channels

        with self.workflow() as wf:
            if not self.args.dry_run:
                wf.writable_clock()  # planning writes the outbox: with a clock set by hand, on a simulation only
            planner = Planner(wf.engine, wf.config, build_channels(wf.config))
            planned = planner.plan(wf.clock(), dry_run=self.args.dry_run)
        self.emit([{"deadline": p.deadline_id, "step": p.step, "recipient": p.recipient, "channel": p.channel,
                    "key": p.key, "subject": p.subject, "not_before": p.not_before.isoformat()} for p in planned],
                  [f"{'would queue' if self.args.dry_run else 'queued'} #{p.deadline_id} {p.step:<10} "
                   f"{p.channel:<8} {p.recipient:<14} {output.safe(p.subject)}" for p in planned]
                  or ["nothing is due"])
        return 0

    def calendar(self) -> int:
        config = self.config()
        if self.args.sub == "show":
            if not 1900 < self.args.year < 2200:
                raise UsageError("the year must be between 1901 and 2199")
            report = config.calendar.year(self.args.year)
            self.emit({"year": report.year, "source": report.source, "working_days": report.working_days,
                       "days": [{"date": d.day, "kind": d.kind, "name": d.name} for d in report.days]},
                      output.calendar_lines(report, self.lang))
            return 0
        with self.workflow() as wf:
            changed = wf.recompute_deadlines()
        self.emit([{"deadline": i, "was": old, "now": new} for i, old, new in changed],
                  [f"#{i}: due {old.isoformat()} -> {new.isoformat()}" for i, old, new in changed]
                  or ["no provisional deadline changed"])
        return 0

    def config_cmd(self) -> int:
        from workflow.config import redacted

        shown = redacted(self.config())
        self.out(output.to_json(shown))
        return 0

    def daemon(self) -> int:
        from workflow.daemon import Daemon

        if self.args.status:
            from workflow.outbox import unacknowledged

            with self.workflow() as wf:
                beats = wf.daemons()
                dead = unacknowledged(wf.engine)
                tz = wf.config.office.tz

            def local(stamp: str) -> str:
                return datetime.fromisoformat(stamp).astimezone(tz).isoformat(timespec="seconds")

            self.emit(beats, [f"{b['id']:<40} {b['state']:<8} started {local(b['started_at'])}  beat "
                              f"{local(b['beat_at'])}  planned {b['planned']} sent {b['sent']} failed {b['failed']}"
                              for b in beats] or [self.tr("no daemon has run on this database")])
            if dead and not self.args.json:
                self.out(f"{dead} dead letter{'s' if dead != 1 else ''} not acknowledged: "
                         "see `zwgk reminders --dead`, then `zwgk reminders --ack ID...`")
            # For cron and monitoring: 1 a daemon went silent, 3 dead letters wait for someone (1 says more).
            return 1 if any(b["state"] == "silent" for b in beats) else 3 if dead else 0
        with self.workflow(moving=True) as wf:
            runner = Daemon(wf, reload_calendar=self._calendar_watch(wf))
            if self.args.once:
                done = runner.once()
                counts = [f"{k} {v}" for k, v in vars(done).items() if k not in ("waiting", "broken")]
                failed = [self.tr("failed: {jobs} (see the log)", jobs=", ".join(done.broken))] if done.broken else []
                self.emit(vars(done), [", ".join(counts), *failed])
                return 1 if done.broken else 0  # for cron: a sweep that failed is worth a look
            runner.run()
        return 0

    def _calendar_watch(self, wf: Workflow) -> Callable[[], bool]:
        """Re-reads the calendar overrides file; True when it changed (then provisional deadlines are redone)."""
        def changed() -> bool:
            fresh = self.config().calendar
            if fresh.fingerprint() == wf.timeline.calendar.fingerprint():
                return False
            wf.use_calendar(fresh)
            return True
        return changed

    def demo(self) -> int:
        from workflow import demo as demo_run

        folder = self.args.dir
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise UsageError("cannot make folder {folder}: {problem}", folder=folder,
                                 problem=e.strerror or e) from None
        return demo_run.run(folder, self.out, daemon=not self.args.no_daemon,
                            once=self.args.once)


def _reads_only(a: argparse.Namespace) -> bool:
    """The commands that only read a database (they open an SQLite file read-only)."""
    if a.command in ("daemon", "remind", "reminders"):
        return bool(a.status if a.command == "daemon" else a.dry_run if a.command == "remind" else not a.ack)
    if a.command == "screen":
        return _screen_verb(a) != "adopt"
    return a.command in ("history", "verify", "deadlines") or (a.command, getattr(a, "sub", None)) in {
        ("item", "show"), ("item", "list"), ("unit", "list"), ("person", "list"), ("deadline", "show"),
        ("pipeline", "show"), ("pipeline", "diagram"), ("request", "show"), ("request", "list"),
        ("report", "self-assessment"),
        ("request", "history"), ("request", "letter"), ("request", "similar")}


def _screen_verb(a: argparse.Namespace) -> str | None:
    """`zwgk screen adopt ...` or `zwgk screen rules ...`; None for an item's findings (`--item ID` is always one)."""
    verb = a.words[0] if a.words and a.item is None else None
    return verb if verb in ("adopt", "rules") else None


class _Labels:
    """The pipeline in force in each unit, asked once: how a state is shown."""

    def __init__(self, wf: Workflow) -> None:
        self.wf = wf
        self.known: dict[str, Pipeline] = {}

    def __call__(self, unit: str) -> Pipeline:
        if unit not in self.known:
            self.known[unit] = self._ask(unit)
        return self.known[unit]

    def _ask(self, unit: str) -> Pipeline:
        from states import default_pipeline
        from workflow import ZwgkError

        try:
            return self.wf.pipeline_in_force(unit)
        except ZwgkError:  # the register's chain: no states to show
            return default_pipeline()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as e:
        return _fail(str(e))
    # Only now that a command is to run: `zwgk --help` and a mistyped command need none of this.
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    try:
        from workflow import ZwgkError  # first: it checks that our other top-level names are ours (workflow.names)
        from workflow.logs import configure
    except ImportError as e:  # another distribution's package under one of those names
        return _fail(str(e))
    from states import PipelineError, Refused
    from workflow.i18n import explain, language, say

    try:
        lang = language(getattr(args, "lang", None))
    except ValueError as e:  # ZWGK_LANG set to a language we do not speak
        return _fail(str(e))
    try:
        for key, default in (("db", None), ("pipeline", None), ("config", None), ("json", False),
                             ("verbose", False)):
            if not hasattr(args, key):  # the common options are suppressed unless given somewhere
                setattr(args, key, default)
        daemon = args.command == "daemon" and not args.status
        configure(json=daemon, level=logging.INFO if args.verbose or daemon else logging.WARNING)
        cli = Cli(args, print, lang)
        handler = {"pipeline": cli.pipeline_cmd, "config": cli.config_cmd, "revoke": cli.grant}.get(
            args.command) or getattr(cli, args.command)
        return int(handler())
    except (UsageError, ZwgkError, Refused, PipelineError) as e:
        return _fail(explain(e, lang))
    except SQLAlchemyError as e:  # an unreachable server, a file that is no database, an unknown driver
        return _fail(say(lang, "database error: {problem}", problem=getattr(e, "orig", None) or e))
    except BrokenPipeError:  # `zwgk history X | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, OverflowError, ImportError, UnicodeError, OSError) as e:
        # Input the layers below could not take (an odd URL, an out-of-range ZWGK_NOW, undecodable bytes)
        # or a driver's own error: still one line, still nothing written.
        return _fail(f"{type(e).__name__}: {e}")
    except Exception as e:
        if _driver_error(e):
            return _fail(say(lang, "database error: {problem}", problem=e))
        raise


def _driver_error(e: Exception) -> bool:
    """An error of the DBAPI driver itself (the hot path uses its cursor directly)."""
    return type(e).__module__.split(".")[0] in ("sqlite3", "psycopg", "psycopg2")


def _fail(message: str) -> int:
    """One line on stderr, whatever the message echoes back (an id typed with a newline, say)."""
    print("zwgk: " + output.safe(" ".join(message.split())), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
