"""`zwgk report annual YEAR`: the annual report (Regulation Art. 49) counted from the log up to a seal made first,
written as DOCX, XLSX or HTML. Parse, call `Workflow.annual_report` and `workflow.report.render`, write, print."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scripts import assessment_cli

if TYPE_CHECKING:
    from scripts.zwgk import Cli
    from workflow.report.annual import AnnualReport, Table

FORMATS = ("docx", "xlsx", "html")
IDENTITY = ("received", "carried_in", "total", "carried_out")


def add_parsers(sub: Any, common: argparse.ArgumentParser, count: Callable[[str], int]) -> None:
    rep = sub.add_parser("report", parents=[common], help="reports counted from the signature log")
    rs = rep.add_subparsers(dest="sub", required=True)
    annual = rs.add_parser("annual", parents=[common], help="a unit's annual report (Art. 49) in the national layout "
                           "of 2021, counted up to a seal made first; prints the root digest it was counted at")
    annual.add_argument("year", type=count, help="the year it reports, e.g. 2026")
    annual.add_argument("--unit", required=True, help="the unit it reports (its id)")
    annual.add_argument("--format", required=True, choices=FORMATS,
                        help="docx (to print), xlsx (every table, and the cases each number counts) or html (a "
                             "preview)")
    annual.add_argument("--out", type=Path, help="the file to write (default: UNIT-annual-report-YEAR.FORMAT here)")
    annual.add_argument("--text-file", action="append", default=[], metavar="SECTION=PATH",
                        help="docx and html: the office's text of a section, from a UTF-8 file: overview "
                             "(一、总体情况), problems (五、存在的主要问题及改进情况) or other "
                             "(六、其他需要报告的事项); repeat for each")
    annual.add_argument("--file-as", metavar="DRAFTER", help="also file the report (DOCX) as the draft item of the "
                        "annual-report schedule for YEAR, signed by this drafter (or replace the document it carries)")
    annual.add_argument("--statistics", type=Path, metavar="CSV",
                        help="with --file-as: the year's figures of other systems, signed on the report's item: a CSV "
                             "of NAME,VALUE rows (licensing or 行政许可, penalties or 行政处罚, coercion or 行政强制: "
                             "decisions; fees or 行政事业性收费: 万元 like 12.5)")
    assessment_cli.add_parser(rs, common)


def run(cli: Cli) -> int:
    from workflow.errors import NotFound
    from workflow.report import render

    a = cli.args
    if a.sub == assessment_cli.NAME:
        return assessment_cli.run(cli)
    from scripts.zwgk import UsageError

    texts = _texts(a.text_file)
    if a.statistics and not a.file_as:
        raise UsageError("--statistics are signed on the report's item: give --file-as DRAFTER too")
    with cli.workflow() as wf:
        names = {u.id: u.name for u in wf.units()}
        if a.unit not in names:  # said before the report seals the log: a refusal writes nothing
            raise NotFound("no unit '{unit}'", unit=a.unit)
        name = names[a.unit]
        render.check_texts(name, texts)
        figures = _statistics(a.statistics) if a.statistics else None
        path = a.out or Path(f"{a.unit}-annual-report-{a.year}.{a.format}")
        if not os.access(path.parent if str(path.parent) else Path(), os.W_OK) or (
                path.exists() and not os.access(path, os.W_OK)):  # said before anything is filed
            raise UsageError("cannot write --out {file}", file=path)
        filed = wf.file_annual_report(a.year, unit=a.unit, drafter=a.file_as, texts=texts,
                                      statistics=figures) if a.file_as else None
        # what was filed, as filed; else counted now
        report = filed.report if filed else wf.annual_report(a.year, unit=a.unit)
    if filed and a.format == "docx":
        content = filed.document
    elif a.format == "xlsx":
        content = render.to_xlsx(report, name)
    elif a.format == "docx":
        content = render.to_docx(report, name, texts)
    else:
        content = render.to_html(report, name, texts).encode()
    path.write_bytes(content)
    check = dict(zip(IDENTITY, report.identity, strict=True))
    cli.emit(report_obj(report) | {"file": str(path), "format": a.format, "item": filed.item.id if filed else None},
             [str(path), *([cli.tr("filed as item {item}", item=filed.item.id)] if filed else []),
              cli.tr("counted at root digest {digest}", digest=report.digest),
              cli.tr("the format's check holds: received {received} + carried over {carried_in} = replied {total} + "
                     "carried to next year {carried_out}", **check) if report.balanced else
              cli.tr("the format's check FAILS: received {received} + carried over {carried_in} != replied {total} + "
                     "carried to next year {carried_out}", **check)])
    return 0


def _statistics(path: Path) -> dict[str, object]:
    """The figures of a CSV of NAME,VALUE rows, by their names or the format's words; blank lines skipped."""
    import csv

    from scripts.zwgk import UsageError
    from workflow.catalog import STATISTICS

    names = {v: k for k, v in STATISTICS.items()} | {k: k for k in STATISTICS}
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = [r for r in csv.reader(f) if any(cell.strip() for cell in r)]
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError("cannot read --statistics {file}: {problem}", file=path,
                         problem=getattr(e, "strerror", None) or e) from None
    figures: dict[str, object] = {}
    for row in rows:
        if len(row) != 2 or row[0].strip() not in names:
            raise UsageError("--statistics {file}: a row is NAME,VALUE with a name of: {names}", file=path,
                             names=", ".join(names))
        key, value = names[row[0].strip()], row[1].strip()
        figures[key] = value if key == "fees" else int(value) if value.isdigit() else value
    return figures


def _texts(given: list[str]) -> dict[str, str]:
    """The office's texts by section, from the files `--text-file SECTION=PATH` names."""
    from workflow.errors import InvalidInput

    texts: dict[str, str] = {}
    for option in given:
        section, sep, path = option.partition("=")
        if not sep or not section or not path:
            raise InvalidInput("--text-file takes SECTION=PATH, not {option}", option=option)
        try:
            texts[section] = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InvalidInput("cannot read --text-file {file}: {problem}", file=path,
                               problem=getattr(e, "strerror", None) or e) from None
    return texts


def report_obj(r: AnnualReport) -> dict[str, Any]:
    """The numbers: each cell's value, the format's check, and the digest they were counted at."""
    return {"unit": r.unit, "year": r.year, "digest": r.digest, "sealed_at": r.sealed_at,
            "documents": _values(r.documents), "statistics": dict(r.statistics),
            "statistics_item": r.statistics_item, "requests": _values(r.requests), "reviews": _values(r.reviews),
            "identity": dict(zip(IDENTITY, r.identity, strict=True)), "balanced": r.balanced}


def _values(t: Table) -> dict[str, dict[str, int]]:
    return {row: {column: t.value(row, column) for column in t.columns} for row in t.rows}
