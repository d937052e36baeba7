"""The annual report's tables 三 and 四, counted from the log, against a count the test keeps as it builds a year:
requests of every reply type and applicant type, ones carried in from the year before and out to the next, and
reviews with each outcome."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from states.replies import REPLIES
from tests.cli_helpers import ok_json
from tests.requesting import Clock, cli_world, review_and_send, seeded
from workflow import Workflow
from workflow.errors import InvalidInput, NotFound
from workflow.report.annual import APPLICANT_COLUMNS, REQUEST_ROWS, REVIEW_COLUMNS
from workflow.requests import Applicant

TYPES = APPLICANT_COLUMNS[:-1]
# Where the 2021 format counts a reply that has no row of its own: written out here, not taken from the catalogue.
OWN_ROW = {"disclosed.proactive": "disclosed", "disclosed.provided": "disclosed", "partial.withheld": "partial",
           "partial.not_government_info": "partial", "unavailable.not_ours": "unavailable.not_held"}
FACTS = {"how": "提供纸质复印件", "reason": "经检索，理由如下", "ground": "withheld.third_party",
         "other_office": "元谋县民政局", "law": "《中华人民共和国档案法》第二十七条"}


class Year:
    """A year of requests, and the count the test keeps of them."""

    def __init__(self, wf: Workflow, clock: Clock) -> None:
        self.wf, self.clock = wf, clock
        self.expected: Counter[tuple[str, str]] = Counter()
        self.n = 0

    def request(self, received: date, kind: str) -> str:
        self.clock.to(received)
        self.n += 1
        who = Applicant(f"申请人{self.n}", kind, id_document=f"ID{self.n:04d}", phone="13800000000")
        return self.wf.requests.new(unit="gov", handler="clerk", via="in_person", applicant=who,
                                    description=f"第{self.n}项信息").id

    def count(self, row: str, kind: str) -> None:
        self.expected[row, kind] += 1
        self.expected[row, "total"] += 1

    def reply(self, rid: str, code: str, on: date) -> None:
        self.clock.to(on)
        needs = REPLIES[code].needs - {"notice_on"}
        self.wf.requests.reply(rid, actor="clerk", type=code, **{k: FACTS[k] for k in needs})
        review_and_send(self.wf, rid)


@pytest.fixture
def year(db_url: str) -> Iterator[Year]:
    clock = Clock(date(2025, 11, 3))
    wf = seeded(db_url, clock)
    yield Year(wf, clock)
    wf.close()


def test_every_cell_of_tables_three_and_four_is_the_count_kept_while_building_the_year(year: Year) -> None:
    y, wf = year, year.wf
    # The year before: one replied then (counted nowhere in 2026), one replied in 2026, one still open at its end.
    done = y.request(date(2025, 11, 3), "natural")
    y.reply(done, "disclosed.provided", date(2025, 11, 10))
    late = y.request(date(2025, 12, 22), "business")
    y.count("carried_in", "business")
    still = y.request(date(2025, 12, 23), "research")
    y.count("carried_in", "research")
    y.count("carried_out", "research")
    y.reply(late, "withheld.process_info", date(2026, 1, 5))
    for row in ("withheld", "withheld.process_info", "total"):
        y.count(row, "business")
    # 2026: one request of each reply type, the applicant types in turn, replied in the year.
    received = date(2026, 3, 2)
    asked = []
    for i, code in enumerate(sorted(REPLIES)):
        kind = TYPES[i % len(TYPES)]
        rid = y.request(received, kind)
        asked.append((rid, code, kind))
        y.count("received", kind)
        if code == "other.not_corrected":
            wf.requests.ask_correction(rid, actor="clerk", on=received, items=["请写明年度"],
                                       correct_by=date(2026, 3, 9))
        elif code == "other.fee_unpaid":
            wf.requests.charge(rid, actor="clerk", on=received, basis="by_quantity", pages=60)
        elif code == "unavailable.still_unclear":
            wf.requests.ask_correction(rid, actor="clerk", on=received, items=["请写明年度"],
                                       correct_by=date(2026, 3, 9))
            wf.requests.corrected(rid, actor="clerk", on=received)
    for rid, code, kind in asked:
        y.reply(rid, code, date(2026, 4, 20))
        for row in {code.split(".")[0], OWN_ROW.get(code, code), "total"}:
            y.count(row, kind)
    # Received in December, replied in January: counted as received, and carried to the next year.
    december = y.request(date(2026, 12, 28), "legal_service")
    y.count("received", "legal_service")
    y.count("carried_out", "legal_service")
    y.reply(december, "disclosed.provided", date(2027, 1, 6))
    # Reviews filed in 2026 against replies, with each outcome; the last decided only in 2027 (尚未审结 in 2026).
    reviews: Counter[tuple[str, str]] = Counter()
    replied = [rid for rid in (r.id for r in wf.requests.requests()) if wf.requests.request(rid).state == "replied"]
    y.clock.to(date(2027, 2, 1))
    for rid, kind, outcome in zip(replied[1:], ("reconsideration", "lawsuit", "lawsuit_after_reconsideration",
                                                "reconsideration", "lawsuit"),
                                  ("upheld", "corrected", "other", None, "upheld"), strict=False):
        wf.requests.review(rid, actor="ohead", on=date(2026, 6, 1), kind=kind)
        on = date(2027, 1, 20) if rid == replied[5] else date(2026, 9, 1)
        if outcome is not None:
            wf.requests.review_outcome(rid, actor="ohead", on=on, n=1, outcome=outcome)
        said = outcome if outcome is not None and on.year == 2026 else "pending"
        reviews[kind, said] += 1
        reviews[kind, "total"] += 1
    wf.requests.review(replied[0], actor="ohead", on=date(2025, 12, 1), kind="lawsuit")  # filed the year before

    report = wf.annual_report(2026, unit="gov")
    assert report.balanced and report.identity == (len(REPLIES) + 1, 2, len(REPLIES) + 1, 2)
    for row in REQUEST_ROWS:
        for column in APPLICANT_COLUMNS:
            assert report.requests.value(row, column) == y.expected[row, column], (row, column)
    for kind in ("reconsideration", "lawsuit", "lawsuit_after_reconsideration"):
        for column in REVIEW_COLUMNS:
            assert report.reviews.value(kind, column) == reviews[kind, column], (kind, column)
    assert report.requests.cases["carried_in", "research"] == (still,)
    assert wf.verify(against=_digest(report.digest)).ok


def _digest(text: str) -> object:
    from workflow.ledger.events import Digest

    seq, h = text.split(":")
    return Digest(int(seq), h)


def test_a_report_counts_only_what_its_seal_covers(year: Year) -> None:
    y, wf = year, year.wf
    first = wf.annual_report(2025, unit="gov")
    assert first.identity == (0, 0, 0, 0) and first.balanced
    rid = y.request(date(2025, 11, 3), "natural")
    assert wf.annual_report(2025, unit="gov").requests.cases["received", "natural"] == (rid,)
    with pytest.raises(NotFound):
        wf.annual_report(2025, unit="nowhere")
    with pytest.raises(InvalidInput):
        wf.annual_report(25, unit="gov")


def test_the_overview_counts_the_items_published_in_the_year(wf: Workflow) -> None:
    from .conftest import new_info, publish

    policy = new_info(wf, kind="policy", category="1.1", timing="long_term")
    publish(wf, policy)
    reading = new_info(wf, kind="interpretation", interprets=policy, category="1.1", timing="immediate")
    publish(wf, reading)
    money = new_info(wf, category="3.4", timing="periodic")
    publish(wf, money)
    new_info(wf, category="2.4")  # a draft: not published
    report = wf.annual_report(wf.today().year, unit="gov")
    table = report.published
    assert (table.value("1", "long_term"), table.value("1", "immediate"), table.value("3", "periodic")) == (1, 1, 1)
    assert (table.value("total", "total"), table.value("2", "total")) == (3, 0)
    assert report.interpretations == (reading,)


def test_the_report_is_filed_as_the_draft_item_of_its_year_carrying_its_document(wf: Workflow) -> None:
    import io

    import docx

    from .conftest import publish

    year = wf.today().year
    item = wf.file_annual_report(year, unit="gov", drafter="clerk", texts={"overview": "本年度工作总体平稳。"}).item
    assert (item.schedule, item.period, item.state, len(item.attachments)) == ("annual-report", str(year), "draft", 1)
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(wf.requests.document(item.attachments[0]).content))
                     .paragraphs)
    assert "本年度工作总体平稳。" in text and "年政府信息公开工作年度报告" in text
    again = wf.file_annual_report(year, unit="gov", drafter="clerk", texts={"overview": "改过的总体情况。"}).item
    assert again.id == item.id and again.attachments != item.attachments and again.version == item.version + 1
    publish(wf, item.id)
    with pytest.raises(InvalidInput, match="return it to draft"):
        wf.file_annual_report(year, unit="gov", drafter="clerk")
    assert wf.verify().ok


def test_zwgk_report_annual_files_the_report_as_an_item(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cli_world(capsys, tmp_path, monkeypatch)
    done = ok_json(capsys, "report", "annual", "2026", "--unit", "gov", "--format", "docx", "--file-as", "clerk")
    shown = ok_json(capsys, "item", "show", done["item"])
    assert (shown["schedule"], shown["period"], shown["state"]) == ("annual-report", "2026", "draft")
    assert len(shown["attachments"]) == 1 and (tmp_path / done["file"]).exists()


def test_table_two_counts_documents_made_abolished_in_force_and_the_figures_the_report_item_states(
        wf: Workflow) -> None:
    from .conftest import new_info, publish

    made = new_info(wf, kind="policy", category="1.1", timing="long_term", doc_type="normative")
    publish(wf, made)
    gone = new_info(wf, kind="policy", category="1.1", timing="long_term", doc_type="normative")
    publish(wf, gone)
    wf.advance(gone, "abolish", actor="head", reason="已被新办法取代")
    draft = new_info(wf, kind="policy", category="1.1", timing="long_term", doc_type="normative")  # never published
    year = wf.today().year
    figures = {"licensing": 12, "penalties": 3, "coercion": 0, "fees": "1.25"}
    item = wf.file_annual_report(year, unit="gov", drafter="clerk").item
    wf.edit_item(item.id, actor="clerk", statistics=figures)
    report = wf.annual_report(year, unit="gov")
    docs = report.documents
    assert (docs.value("normative", "made"), docs.value("normative", "abolished"),
            docs.value("normative", "in_force")) == (2, 1, 1)
    assert docs.cases["normative", "in_force"] == (made,) and draft not in docs.cases["normative", "made"]
    assert docs.value("rule", "made") == 0
    assert (report.statistics, report.statistics_item) == (figures, item.id)
    with pytest.raises(InvalidInput, match="whole number"):
        wf.edit_item(item.id, actor="clerk", statistics={"licensing": -1})
    with pytest.raises(InvalidInput, match="万元"):
        wf.edit_item(item.id, actor="clerk", statistics={"fees": 1.25})
    with pytest.raises(InvalidInput, match="unknown statistic"):
        wf.edit_item(item.id, actor="clerk", statistics={"weather": 1})
    assert wf.verify().ok


def test_zwgk_report_annual_signs_the_statistics_of_a_csv_on_the_item(capsys: pytest.CaptureFixture[str],
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.cli_helpers import one_error_line, run, snapshot

    db = cli_world(capsys, tmp_path, monkeypatch)
    figures = "行政许可,12\npenalties,3\n行政强制,0\n行政事业性收费,1.25\n"
    (tmp_path / "figures.csv").write_text(figures, encoding="utf-8")
    done = ok_json(capsys, "report", "annual", "2026", "--unit", "gov", "--format", "xlsx", "--file-as", "clerk",
                   "--statistics", "figures.csv")
    assert done["statistics"] == {"licensing": 12, "penalties": 3, "coercion": 0, "fees": "1.25"}
    assert done["statistics_item"] == done["item"]
    (tmp_path / "bad.csv").write_text("天气,3\n", encoding="utf-8")
    before = snapshot(db)
    code, _, err = run(capsys, "report", "annual", "2026", "--unit", "gov", "--format", "xlsx", "--file-as", "clerk",
                       "--statistics", "bad.csv")
    assert code == 2 and "a row is NAME,VALUE" in one_error_line(err) and snapshot(db) == before
