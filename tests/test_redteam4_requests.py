"""Red team, round 4: requests for government information (依申请公开, issue 12), where round 3
(tests/test_redteam3_requests.py) did not reach: the calendar changing under a request, a handler who leaves,
migrations, an embedding host's transaction and its types, the office's own letters, `verify --since`, the daemon,
backups and PostgreSQL writers side by side.

Each test's docstring says what is wrong (FINDING, with its severity) or, for a test that pins behaviour (PIN),
what must stay right, and why it matters.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import docx
import pytest
from sqlalchemy import text

from states import Refused, builtin
from states.authority import REGISTER
from states.kinds import ITEM
from tests.cli_helpers import ok, run
from tests.conftest import ADMIN, downgrade, seed
from tests.recording import Recorder
from tests.requesting import (
    DESCRIPTION,
    DUE,
    ID_DOC,
    NAME,
    PHONE,
    RECEIVED,
    WHO,
    Clock,
    cli_world,
    new_request,
    review_and_send,
    seeded,
)
from tests.tampering import Raw
from tests.test_redteam3_requests import _late_correction_notice, _late_extension, _year_long_consultation
from workflow import Workflow
from workflow.backup import backup, restore
from workflow.config import Config, ConfigError, parse
from workflow.errors import InvalidInput, ZwgkError
from workflow.reminders import Planner, build_channels
from workflow.workdays import WorkCalendar, YearDays

# 2027's schedule is not in the package: until it is published, days in 2027 are provisional (weekends and the
# fixed-date holidays only). Its Spring Festival as the office will publish it: 6-13 Feb off, Sun 14 Feb worked.
SPRING = frozenset({date(2027, 1, 1)} | {date(2027, 2, d) for d in range(6, 14)})
PUBLISHED = WorkCalendar({2027: YearDays(SPRING, frozenset({date(2027, 2, 14)}))})
RECEIVED_2027 = date(2027, 1, 25)  # a Monday; the clock stops on Thu 28 Jan, 15 working days before the holiday
STOPPED_2027 = date(2027, 1, 28)


@pytest.fixture
def rwf(sqlite_url: str, clock: Clock) -> Iterator[Workflow]:
    """SQLite unless a test says otherwise: most of this is not PostgreSQL-specific."""
    w = seeded(sqlite_url, clock)
    yield w
    w.close()


def counts(wf: Workflow) -> dict[str, int]:
    """Rows of every table a request writes."""
    tables = ("zwgk_event", "zwgk_case", "zwgk_request", "zwgk_applicant", "zwgk_request_number", "zwgk_document",
              "zwgk_deadline")
    with wf.engine.connect() as c:
        return {t: int(c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables}


def published(wf: Workflow, url: str, clock: Clock) -> Workflow:
    """The same database opened as it is after the office published 2027's schedule (`[calendar] overrides`)."""
    wf.close()
    return Workflow(url, clock=clock, config=replace(Config(), calendar=PUBLISHED))


# -- the calendar changes under a request ---------------------------------------------------------------------

def _consult(wf: Workflow, rid: str) -> None:
    wf.requests.consult(rid, actor="clerk", on=STOPPED_2027, party="other_office", consulted="县民政局")


def _fee(wf: Workflow, rid: str) -> None:
    wf.requests.charge(rid, actor="clerk", on=STOPPED_2027, basis="by_quantity", pages=50)


@pytest.mark.parametrize("stop", [_consult, _fee])
def test_verify_stays_ok_after_next_years_schedule_is_published(sqlite_url: str, stop: Any) -> None:
    """FINDING (high). A consultation's or a fee's limit (the 15th / 20th working day) is recorded as the calendar
    gives it when the step is signed; in a year whose schedule is not out yet that answer is provisional. `verify`
    holds the step to the calendar "where settled" (`settled_only`), so once the office loads 2027's schedule (as
    it must, every December) the same honest step is judged again against the published days, and verify fails:
    "consult records 2027-02-18 as its limit, not the 15th working day after 2027-01-28". Every database with a
    request whose clock stopped across New Year breaks on the day the State Council publishes the holidays, and an
    auditor is told the log was forged. The docstring of states/requests.py promises the opposite ("must not change
    its answer when next year's schedule is published"). Fix: a step's recorded limit that was provisional when it
    was signed is not rechecked (record `provisional` in the step, or recheck only years known at the signing
    time, e.g. by the calendar fingerprint the step records)."""
    clock = Clock(RECEIVED_2027)
    wf = seeded(sqlite_url, clock)
    rid = new_request(wf)
    clock.to(STOPPED_2027)
    stop(wf, rid)
    assert wf.verify().ok
    wf = published(wf, sqlite_url, clock)
    try:
        assert wf.verify().problems == []
    finally:
        wf.close()


def test_a_requests_due_day_and_its_deadline_agree_after_the_calendar_changes(sqlite_url: str) -> None:
    """FINDING (medium). While a consultation waits, the reply's deadline row is opened as (receipt day, 20 + the
    working days stopped), the stop counted up to the limit as the provisional calendar gave it. When 2027's
    schedule is published, `recompute_deadlines` (`zwgk calendar reload`, and the daemon's calendar watch) recounts
    that row over the published days, but the request's own clock keeps the recorded limit and counts the stop over
    the published days: `request show` says 15 Mar, `zwgk deadlines` and the reminders say 19 Mar. The law's answer
    (Art. 32/34: the 15th working day, Art. 33: 20 working days) on the published calendar is 19 Mar; the clerk
    reading `request show` answers four days "late" in the reminders' eyes, or the reminders stay silent four days
    after the request's own due day. Fix: one source for both: the clock's stop ends on the `CONSULT_DAYS`-th working
    day as the calendar now says wherever the recorded limit was provisional (and `recompute` reopens the request's
    deadlines from its clock, `workflow.requests.deadlines`, rather than from the stored days)."""
    clock = Clock(RECEIVED_2027)
    wf = seeded(sqlite_url, clock)
    rid = new_request(wf)
    clock.to(STOPPED_2027)
    _consult(wf, rid)
    wf = published(wf, sqlite_url, clock)
    try:
        wf.recompute_deadlines()
        [reply] = [d for d in wf.deadlines() if d.kind == "request"]
        law = PUBLISHED.add_working_days(RECEIVED_2027, 20 + 15).day
        assert (wf.requests.request(rid).due_on, reply.due_on) == (law, law)
    finally:
        wf.close()


def test_a_request_received_on_a_holiday_counts_from_the_next_working_day(rwf: Workflow, clock: Clock) -> None:
    """PIN. Handed in on Sat 3 Oct 2026 (National Day), the receipt day is that day (Art. 31) and the 20 working days
    are counted from the next working day, Thu 8 Oct (Sat 10 Oct is worked that year): due Tue 3 Nov, in the
    request and in its deadline alike."""
    clock.to(date(2026, 10, 3))
    rid = new_request(rwf)
    found = rwf.requests.request(rid)
    assert (found.received_on, found.due_on) == (date(2026, 10, 3), date(2026, 11, 3))
    [reply] = [d for d in rwf.deadlines() if d.kind == "request"]
    assert reply.due_on == date(2026, 11, 3)


# -- a handler who leaves ---------------------------------------------------------------------------------------

def test_a_request_whose_handler_left_can_be_handed_on(rwf: Workflow, clock: Clock) -> None:
    """FINDING (high). Only a request's handler drafts its reply and signs the steps of its clock (round 3's fix:
    "own handler's steps"), and the refusal says "it changes hands by reassign"; states/kinds.py names the head of
    the disclosure office as the one who "hands on a request whose handler cannot". But nothing can: `Workflow.
    reassign` looks for an *item* ("no item 'gov-R2026-000001'"), `Workflow.requests` has no reassign, `zwgk
    request` has no such command. A handler who leaves, is deactivated or falls ill leaves every request of theirs
    unanswerable while its legal clock runs on, which is what 行政复议 is brought for; and its reminders go to a
    deactivated person. Fix: `Workflow.requests.reassign(id, to=, actor=)` and `zwgk request reassign`, signed by
    the handler or the head of the disclosure office, moving the request's deadlines to the new handler (as
    `items.reassign` does with its Handover)."""
    rwf.grant("drafter2", "handler", unit="gov", by=ADMIN)
    rid = new_request(rwf)
    rwf.deactivate("clerk", by=ADMIN)
    clock.to(date(2026, 10, 9))
    reassign = getattr(rwf.requests, "reassign", None)
    assert reassign is not None, "Workflow.requests has no reassign"
    reassign(rid, to="drafter2", actor="ohead", reason="原承办人调离")
    rwf.requests.reply(rid, actor="drafter2", type="disclosed.provided", how="提供纸质复印件")
    assert {d.responsible for d in rwf.deadlines() if d.status in ("open", "overdue")} == {"drafter2"}


# -- the API as an embedding developer uses it ----------------------------------------------------------------

def test_correction_items_given_as_one_string_are_refused(rwf: Workflow, clock: Clock) -> None:
    """FINDING (medium). `ask_correction(items=...)` takes a list of what to correct; given one string (the easy
    mistake from a web form's single text field), every character becomes an item and the notice is signed and
    stored: "（一）请 （二）写 （三）明 （四）年 （五）度". Only one 补正 notice is allowed (一次性告知, Art. 30), so
    the office cannot send the right one afterwards: the request can only wait for a correction nobody can make.
    Fix: refuse anything but a list (or tuple) of strings, as `_texts` refuses a number for text."""
    rid = new_request(rwf)
    clock.to(date(2026, 9, 29))
    before = counts(rwf)
    with pytest.raises(InvalidInput):
        rwf.requests.ask_correction(rid, actor="clerk", on=date(2026, 9, 29), items="请写明所需信息的年度")  # type: ignore[arg-type]
    assert counts(rwf) == before


def _ill_typed_calls() -> dict[str, Callable[[Workflow, str], object]]:
    on = date(2026, 9, 28)
    return {
        "correct_by as a datetime": lambda w, rid: w.requests.ask_correction(
            rid, actor="clerk", on=on, items=["年度"], correct_by=datetime(2026, 10, 20, 9)),
        "pages as text": lambda w, rid: w.requests.charge(rid, actor="clerk", on=on, basis="by_quantity",
                                                        pages="50"),
        "oral as text": lambda w, rid: w.requests.new(unit="gov", handler="clerk", via="in_person", applicant=WHO,
                                                      description=DESCRIPTION, oral="no"),
        "a document's hash as a number": lambda w, rid: w.requests.printed(rid, 5),
        "a listing's limit as text": lambda w, rid: w.requests.requests(limit="5"),
    }


@pytest.mark.parametrize("call", list(_ill_typed_calls()))
def test_ill_typed_arguments_are_refused_with_one_typed_error(rwf: Workflow, call: str) -> None:
    """FINDING (low). The library's errors are typed (`workflow.errors`), so a host can show them; these arguments
    of the wrong type crash with a bare TypeError instead (`can't compare datetime.datetime to datetime.date`,
    `'<' not supported between instances of 'str' and 'int'`, `'int' object is not subscriptable`), or are taken
    as something else: `oral="no"` signs an oral request (`bool("no")` is True) into the request's signed content.
    Fix: check each argument's type at the API's edge (`_day` refusing a datetime, `type(pages) is int`,
    `type(oral) is bool`, `text.checked` on the hash and the limit)."""
    rid = new_request(rwf)
    before = counts(rwf)
    with pytest.raises((ZwgkError, Refused)):
        _ill_typed_calls()[call](rwf, rid)
    assert counts(rwf) == before


def test_a_fee_by_count_in_a_host_transaction_counts_what_the_host_wrote(rwf: Workflow) -> None:
    """FINDING (medium). Every request call takes `conn=` (a host's transaction) and writes in it; but `charge`
    counts the applicant's requests of the month (the fee by count) in a read of its own, outside the host's
    transaction: a request registered in the same transaction is "not found", and requests the host registered but
    has not committed are not counted, so the fee signed in that transaction is counted from another snapshot than
    the one it is written in. An embedding 政务服务 system that registers and charges in one transaction gets
    NotFound. Fix: count inside `self.wf._write(conn)`, in the step's own unit of work."""
    with rwf.engine.begin() as conn:
        rid = rwf.requests.new(unit="gov", handler="clerk", via="in_person", applicant=WHO, description=DESCRIPTION,
                               conn=conn).id
        # counted in the host's transaction: the applicant's first request of the month, so nothing is due (before
        # the fix: "no request" — the count read outside the transaction that registered it)
        with pytest.raises(InvalidInput, match="nothing is due by by_count"):
            rwf.requests.charge(rid, actor="clerk", on=RECEIVED, basis="by_count", conn=conn)
    assert [s.action for s in rwf.requests.history(rid)] == ["create"]


def test_a_host_rollback_leaves_nothing_of_a_request(rwf: Workflow) -> None:
    """PIN. A request registered and extended in a host's transaction that rolls back leaves no event, case, request,
    applicant, number, document (the letter) or deadline, and the next request takes number 1."""
    before = counts(rwf)
    with contextlib.suppress(ZeroDivisionError), rwf.engine.begin() as conn:
        rid = rwf.requests.new(unit="gov", handler="clerk", via="in_person", applicant=WHO, description=DESCRIPTION,
                               conn=conn).id
        rwf.requests.extend(rid, actor="ohead", on=RECEIVED, days=5, reason="需调取档案", conn=conn)
        _ = 1 / 0
    assert counts(rwf) == before
    assert new_request(rwf) == "gov-R2026-000001"
    assert rwf.verify().ok


# -- the office's own letters ---------------------------------------------------------------------------------

def test_a_broken_office_template_is_refused_when_the_configuration_is_read(tmp_path: Path) -> None:
    """FINDING (low). `[requests] letters` is checked only to be a folder; its files are read when a letter is made.
    A reply letter is made as the reply is *sent*, so an office whose reply.toml has a typo finds out after the
    handler, the proofreader, the confidentiality reviewer, the leader and the head have all signed (five
    signatures, often days, often the last day of the 20), and the send fails on the due day. Fix: read every
    template of the folder whole when the configuration is loaded (`workflow.letters.templates` already checks a
    file whole), so `zwgk` refuses to start with the one-line error naming the file and the place."""
    folder = tmp_path / "letters"
    folder.mkdir()
    built_in = (Path(__file__).parents[1] / "workflow" / "letters" / "templates" / "reply.toml").read_text("utf-8")
    (folder / "reply.toml").write_text(built_in.replace('"{how}",', '"{hw}",'), "utf-8")
    with pytest.raises(ConfigError, match=r"reply\.toml"):
        parse({"requests": {"letters": str(folder)}}, source="zwgk.toml")


def test_a_letter_printed_after_the_office_rewords_its_templates_is_the_signed_text(sqlite_url: str, clock: Clock,
                                                                                     tmp_path: Path) -> None:
    """PIN. A letter is printed from its stored composed text, not composed again: once the office rewords its reply
    template, the printed copy of a reply sent before still says what was signed, with the applicant's name added."""
    wf = seeded(sqlite_url, clock)
    rid = new_request(wf)
    wf.requests.reply(rid, actor="clerk", type="disclosed.provided", how="提供纸质复印件")
    review_and_send(wf, rid)
    [(_, letter)] = [(s, x) for s, x in wf.requests.letters(rid) if x["kind"] == "reply"]
    signed = json.loads(wf.requests.document(letter["text"]).content)["paragraphs"]
    wf.close()
    folder = tmp_path / "letters"
    folder.mkdir()
    built_in = (Path(__file__).parents[1] / "workflow" / "letters" / "templates" / "reply.toml").read_text("utf-8")
    (folder / "reply.toml").write_text(built_in.replace("本机关决定予以公开", "本机关同意公开"), "utf-8")
    wf = Workflow(sqlite_url, clock=clock, config=parse({"requests": {"letters": str(folder)}}, source="t.toml"))
    try:
        printed = docx.Document(io.BytesIO(wf.requests.printed(rid, letter["docx"]).content))
        body = "\n".join(p.text for p in printed.paragraphs)
        assert all(p in body for p in signed) and "本机关同意公开" not in body and NAME in body
    finally:
        wf.close()


# -- verify --since ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("forge", [_late_extension, _late_correction_notice, _year_long_consultation])
def test_verify_since_a_digest_holds_later_steps_to_the_calendar_rules(rwf: Workflow, sqlite_url: str,
                                                                       clock: Clock, forge: Any) -> None:
    """PIN. `verify --since DIGEST` folds a request's events before the digest without rechecking them, and judges
    those after it as a full verify does: a step forged after the seal (an extension after the due day, a 补正
    notice after 7 working days, a consultation stopping the clock for a year) is caught by both, with the same
    problem."""
    rid = new_request(rwf)
    since = rwf.digest()
    clock.to(date(2026, 11, 3))
    raw = Raw(sqlite_url)
    raw.drop_guards()
    register_seq = raw.head(REGISTER)[0]  # the seal is the register's last event: a careful forger names it
    forged = raw.append_forged
    with mock.patch.object(raw, "append_forged",
                           lambda chain="gov", **values: forged(chain, **(values | {"register_seq": register_seq}))):
        forge(raw, rwf, rid)
    raw.close()
    full, after = rwf.verify(), rwf.verify(since=since)
    assert not full.ok and after.problems == full.problems
    assert "request gov-R2026-000001" in str(after.first_problem)


# -- migrations -----------------------------------------------------------------------------------------------

def _at_0103(url: str, clock: Clock) -> Workflow:
    """A database as release 0103 left it: `gov` and its people, an item with its deadline, no request pipeline."""
    with mock.patch("workflow.register.KINDS", {"item": ITEM}):
        wf = seed(Workflow(url, clock=clock))
    wf.new_item(title="2026年财政预算", unit="gov", category="1.1", timing="immediate", kind="info", drafter="clerk")
    downgrade(wf, "0103")
    wf.close()
    return Workflow(url, clock=clock)


def test_a_unit_upgraded_from_0103_adopts_the_request_pipeline_and_receives_requests(sqlite_url: str,
                                                                                     clock: Clock) -> None:
    """PIN. After `init` upgrades a 0103 database, its items and deadlines verify; its government unit has no
    request pipeline and says how to adopt one; once adopted (and the roles granted), requests are received,
    numbered from 1, and the log verifies."""
    wf = _at_0103(sqlite_url, clock)
    try:
        wf.init()
        assert wf.verify().ok and [d.kind for d in wf.deadlines()] == ["proactive"]
        with pytest.raises(ZwgkError, match="pipeline adopt"):
            new_request(wf)
        wf.adopt_pipeline("gov", builtin("request"), by=ADMIN)
        wf.grant("clerk", "handler", unit="gov", by=ADMIN)
        wf.add_person("ohead", name="主任", unit="gov", roles=["disclosure_office_head"], by=ADMIN)
        assert new_request(wf) == "gov-R2026-000001"
        assert wf.requests.request("gov-R2026-000001").due_on == DUE and wf.verify().ok
    finally:
        wf.close()


def test_the_adoption_the_error_names_works_outside_the_source_tree(capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """FINDING (low). A unit without a request pipeline (every government unit of a database upgraded from 0103)
    refuses its first request with "adopt one with `zwgk pipeline adopt` (the built-in: states/request.toml)". That
    path exists only in a checkout of the source: an office runs `zwgk` from its own folder (the README's
    deployment), where `zwgk pipeline adopt states/request.toml --unit gov --as admin` fails with "cannot read: No
    such file or directory". The office's first request after the upgrade, with the applicant at the counter, ends
    in a search for a file inside site-packages. Fix: `zwgk pipeline adopt --builtin request` (or resolve a bare
    built-in name), and name that in the error; or let `init` adopt the built-in pipeline of a new kind in every
    unit that takes it."""
    cli_world(capsys, tmp_path, monkeypatch)
    ok(capsys, "unit", "add", "st", "--name", "财政所", "--kind", "station", "--as", ADMIN)  # has no request pipeline
    elsewhere = tmp_path / "office"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = run(capsys, "--db", f"sqlite:///{tmp_path / 'zwgk.db'}", "pipeline", "adopt",
                       "--builtin", "request", "--unit", "st", "--as", ADMIN)  # the fix: the built-in by its kind
    assert code == 0, err


def test_a_downgrade_below_0104_loses_no_request(rwf: Workflow) -> None:
    """FINDING (medium). 0104's downgrade drops zwgk_request, zwgk_applicant, zwgk_request_number and zwgk_document
    whatever they hold, while the requests' signed events stay in the chains: the applicants' identities, the
    request's content and every stored letter (the only copy of what the office told the applicant) are gone, and
    after upgrading again the database fails verify ("records what the request it signs does not say") and `request
    show` says "no request". A downgrade is what an office tries first when an upgrade goes wrong. Fix: refuse
    the downgrade while any request or document exists (one line saying so), as a migration that cannot keep the
    data must."""
    rid = new_request(rwf)
    rwf.requests.extend(rid, actor="ohead", on=RECEIVED, days=5, reason="需调取档案")
    with contextlib.suppress(Exception):  # refusing is the fix; what must not happen is losing the data
        downgrade(rwf, "0103")
    rwf.init()
    assert rwf.requests.request(rid).extended == 5
    assert rwf.verify().problems == []


# -- the daemon ---------------------------------------------------------------------------------------------------

@pytest.fixture
def planned(sqlite_url: str, clock: Clock, recorder: Recorder) -> Iterator[tuple[Workflow, Callable[[date], Any]]]:
    """A township whose reminders go to the recording channel, and a planning pass at 10:00 of a day."""
    config = parse({"channels": {"rec": {"type": "recording"}}, "reminders": {"channels": ["rec"]}},
                   source="test.toml")
    wf = seeded(sqlite_url, clock, config)

    def plan(day: date) -> list[Any]:
        clock.to(day)
        return Planner(wf.engine, wf.config, build_channels(wf.config)).plan(clock())

    yield wf, plan
    wf.close()


def test_the_daemon_reminds_the_handler_of_a_request_and_escalates_after_its_due_day(
        planned: tuple[Workflow, Callable[[date], Any]]) -> None:
    """PIN. A request due Fri 30 Oct: the handler is reminded the working day before and on the day; after it the
    leader in charge (1 working day late) and the head (3 days) are told too. Every reminder names the request by its
    number only: never what it asks for nor who asked."""
    wf, plan = planned
    rid = new_request(wf)
    assert plan(date(2026, 10, 28)) == []
    assert {(p.step, p.recipient) for p in plan(date(2026, 10, 29))} == {("before1", "clerk")}
    assert {(p.step, p.recipient) for p in plan(date(2026, 10, 30))} == {("due", "clerk")}
    late = plan(date(2026, 11, 2))
    assert {p.recipient for p in late} == {"clerk", "lead", "multi"} and {p.step for p in late} == {"overdue1"}
    later = plan(date(2026, 11, 4))
    assert "head" in {p.recipient for p in later}
    for p in [*late, *later]:
        words = p.subject + p.text + json.dumps(dict(p.fields), ensure_ascii=False)
        assert rid in words and DESCRIPTION not in words and NAME not in words and PHONE not in words
        assert ID_DOC not in words


def test_a_fee_stops_the_reply_reminders_and_payment_restarts_them(
        planned: tuple[Workflow, Callable[[date], Any]]) -> None:
    """PIN. A fee notice stops the clock: the reply's reminders stop (its deadline is cancelled), the day to pay is
    reminded instead; paid, the reply's deadline opens again with the days waited not counted, and its reminders
    start over for the new due day."""
    wf, plan = planned
    rid = new_request(wf)
    on = date(2026, 10, 9)
    plan(on)
    wf.requests.charge(rid, actor="clerk", on=on, basis="by_quantity", pages=50)
    live = {d.kind: d for d in wf.deadlines() if d.status in ("open", "overdue")}
    assert set(live) == {"fee"}
    assert {p.step for p in plan(DUE)} == set()  # the reply's old due day: nothing about it
    paid = date(2026, 10, 30)
    wf.requests.paid(rid, actor="clerk", on=paid)
    [reply] = [d for d in wf.deadlines() if d.kind == "request" and d.status == "open"]
    assert reply.due_on == wf.requests.request(rid).due_on and reply.due_on > DUE
    before = wf.config.calendar.subtract_working_days(reply.due_on, 1).day
    assert {(p.step, p.recipient, p.due_on) for p in plan(before)} == {("before1", "clerk", reply.due_on)}


# -- backups ------------------------------------------------------------------------------------------------------

def test_a_restored_backup_holds_every_request_letter_and_applicant(rwf: Workflow, sqlite_url: str, clock: Clock,
                                                                  tmp_path: Path) -> None:
    """PIN. A backup is the whole database: restored in place of a lost one, the requests, their stored letters (the
    documents their signatures name) and the applicants' identities are there, and the copy verifies."""
    rid = new_request(rwf)
    rwf.requests.extend(rid, actor="ohead", on=RECEIVED, days=5, reason="需调取档案")
    rwf.seal()
    live = Path(sqlite_url.removeprefix("sqlite:///"))
    copy = tmp_path / "copy.db"
    backup(live, copy, rwf.config)
    rwf.close()
    elsewhere = tmp_path / "restored.db"
    assert restore(copy, elsewhere, Config()).ok
    wf = Workflow(f"sqlite:///{elsewhere}", clock=clock)
    try:
        [(_, letter)] = wf.requests.letters(rid)
        assert all(hashlib.sha256(wf.requests.document(letter[f]).content).hexdigest() == letter[f]
                   for f in ("docx", "html", "text"))
        printed = docx.Document(io.BytesIO(wf.requests.printed(rid, letter["docx"]).content))
        assert NAME in "\n".join(p.text for p in printed.paragraphs)
        assert wf.requests.request(rid, applicant=True).applicant == WHO and wf.verify().ok
    finally:
        wf.close()


# -- PostgreSQL: writers side by side -----------------------------------------------------------------------------

def test_handlers_registering_at_once_get_unique_gapless_numbers(pg_url: str) -> None:
    """PIN. Six handlers' sessions registering three requests each at the same moment on PostgreSQL: the eighteen
    numbers are 1-18 of the unit's year, each once, and the log verifies."""
    clock = Clock(RECEIVED)
    wf = seeded(pg_url, clock)
    start = threading.Barrier(6)
    got: list[str] = []
    errors: list[BaseException] = []

    def handler() -> None:
        with Workflow(pg_url, clock=clock) as own:
            start.wait(timeout=60)
            try:
                got.extend(new_request(own) for _ in range(3))
            except BaseException as e:  # reported below, not lost in the thread
                errors.append(e)

    threads = [threading.Thread(target=handler) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert errors == [] and sorted(got) == [f"gov-R2026-{n:06d}" for n in range(1, 19)]
        assert wf.verify().ok
    finally:
        wf.close()


def test_two_fee_notices_at_once_sign_one(pg_url: str) -> None:
    """PIN. Two clerks' sessions sending the fee notice of one request at the same moment on PostgreSQL: one is
    signed, the other is refused (one fee per request, 国办函〔2020〕109号), and one letter is stored."""
    clock = Clock(date(2026, 10, 9))
    wf = seeded(pg_url, clock)
    rid = new_request(wf, received_on=RECEIVED)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def charge() -> None:
        with Workflow(pg_url, clock=clock) as own:
            start.wait(timeout=60)
            try:
                own.requests.charge(rid, actor="clerk", on=date(2026, 10, 9), basis="by_quantity", pages=50)
                outcomes.append("signed")
            except (ZwgkError, Refused) as e:
                outcomes.append(type(e).__name__)

    threads = [threading.Thread(target=charge) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert len(outcomes) == 2 and outcomes.count("signed") == 1, outcomes
        assert [x["kind"] for _, x in wf.requests.letters(rid)] == ["fee"] and wf.verify().ok
    finally:
        wf.close()
