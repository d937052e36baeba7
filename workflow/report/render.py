"""The annual report in the national layout (国办公开办函〔2021〕30号): a Word document, a workbook of its tables with
the cases each number counts, and a print-ready HTML preview.

Each table is laid out once, as a grid of cells (text, span, and for a number the report's cell it shows); every
format draws the same grid, so the three cannot disagree. python-docx and openpyxl are imported by the function
that uses them: `import workflow` stays fast. The same report gives the same bytes (no time of making is stored).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from workflow.catalog import DOC_TYPES
from workflow.errors import InvalidInput
from workflow.report.annual import (
    CARRIED_IN,
    CARRIED_OUT,
    GROUPS,
    RECEIVED,
    TOTAL,
    AnnualReport,
    Table,
    row_label,
)
from workflow.text import NOT_PRINTABLE

if TYPE_CHECKING:
    from docx.document import Document

APPLICANTS = {"natural": "自然人", "business": "商业企业", "research": "科研机构", "public_interest": "社会公益组织",
              "legal_service": "法律服务机构", "other": "其他", "total": "总计"}
REVIEW_KINDS = {"reconsideration": "行政复议", "lawsuit": "未经复议直接起诉",
                "lawsuit_after_reconsideration": "复议后起诉"}
OUTCOMES = {"upheld": "结果维持", "corrected": "结果纠正", "other": "其他结果", "pending": "尚未审结", "total": "总计"}
TITLES = ("一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
          "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项")
# The sections the office writes: the key `texts` gives each one's text under, its section, and what stands in
# for the text until it is written.
WRITTEN = {
    "overview": (0, "（此处由本机关填写本年度政府信息公开工作总体情况。）"),
    "problems": (4, "（此处由本机关填写存在的主要问题及改进情况。）"),
    "other": (5, "（此处由本机关填写其他需要报告的事项，如收取信息处理费情况等。）"),
}
DOCUMENT_WORDS = {"made": "本年制发件数", "abolished": "本年废止件数", "in_force": "现行有效件数"}
STATED = "（行政许可、行政处罚、行政强制、行政事业性收费的数字为本年度报告信息 {item} 所载、经签署的数字。）"
UNSTATED = "（行政许可、行政处罚、行政强制、行政事业性收费的数字尚未在本年度报告信息中填报。）"
CHECK_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
RESULTS = "三、本年度办理结果"
SHEET_INFO, SHEET_CASES = "说明", "所计案件"
_FIXED_TIME = datetime(2000, 1, 1)


@dataclass(frozen=True)
class Cell:
    row: int
    col: int
    text: str
    rows: int = 1
    cols: int = 1
    head: bool = False  # a heading of the table, centred
    item: bool = False  # a numbered item under its reply type: indented
    key: tuple[str, str] | None = None  # the report's cell (row, column) a number shows


@dataclass(frozen=True)
class Grid:
    id: str  # "requests": the HTML table's id
    title: str  # its section's title
    height: int
    widths: tuple[int, ...]  # each column's, relative (about a character of 小五 each)
    cells: tuple[Cell, ...]

    @property
    def width(self) -> int:
        return len(self.widths)


@dataclass(frozen=True)
class Para:
    text: str
    kind: str = "text"  # title, heading, text (indented), note (centred)


# -- the report's content, the same in every format --------------------------------------------------------------


def requests_grid(report: AnnualReport) -> Grid:
    """Table 三: two columns of labels (三、本年度办理结果 down the first beside its rows), then the applicants'."""
    t = report.requests
    cells = [Cell(0, 0, CHECK_NOTE, rows=3, cols=2, head=True), Cell(0, 2, "申请人情况", cols=7, head=True),
             Cell(1, 2, APPLICANTS["natural"], rows=2, head=True), Cell(1, 3, "法人或其他组织", cols=5, head=True),
             Cell(1, 8, APPLICANTS["total"], rows=2, head=True)]
    cells += [Cell(2, 3 + i, APPLICANTS[c], head=True) for i, c in enumerate(t.columns[1:-1])]
    results = [r for r in t.rows if r not in (RECEIVED, CARRIED_IN, CARRIED_OUT)]
    for n, row in enumerate(t.rows, 3):
        if row in results:
            if row == results[0]:
                cells.append(Cell(n, 0, RESULTS, rows=len(results)))
            cells.append(Cell(n, 1, row_label(row), item=row not in GROUPS and row != TOTAL))
        else:
            cells.append(Cell(n, 0, row_label(row), cols=2))
        cells += _numbers(t, row, n, 2)
    return Grid("requests", TITLES[2], 3 + len(t.rows), (8, 40, *(7,) * len(t.columns)), tuple(cells))


def reviews_grid(report: AnnualReport) -> Grid:
    """Table 四: one row of fifteen numbers under 行政复议 | 行政诉讼 (未经复议直接起诉, 复议后起诉)."""
    t = report.reviews
    width = len(t.columns)
    cells = [Cell(0, 0, REVIEW_KINDS[t.rows[0]], rows=2, cols=width, head=True),
             Cell(0, width, "行政诉讼", cols=2 * width, head=True)]
    for i, kind in enumerate(t.rows):
        if i:
            cells.append(Cell(1, i * width, REVIEW_KINDS[kind], cols=width, head=True))
        cells += [Cell(2, i * width + j, OUTCOMES[c], head=True) for j, c in enumerate(t.columns)]
        cells += _numbers(t, kind, 3, i * width)
    return Grid("reviews", TITLES[3], 4, (6,) * (len(t.rows) * width), tuple(cells))


def proactive_grid(report: AnnualReport) -> Grid:
    """Table 二: the documents counted from the log; the other systems' figures as the year's annual-report item
    states them, signed (blank where it states none)."""
    docs, stats = report.documents, report.statistics
    made = ("本年制发件数", "本年废止件数", "现行有效件数")
    parts = (("第二十条第（一）项", made, (("规章", "rule"), ("行政规范性文件", "normative"))),
             ("第二十条第（五）项", ("本年处理决定数量",), (("行政许可", "licensing"),)),
             ("第二十条第（六）项", ("本年处理决定数量",), (("行政处罚", "penalties"), ("行政强制", "coercion"))),
             ("第二十条第（八）项", ("本年收费金额（单位：万元）",), (("行政事业性收费", "fees"),)))
    cells: list[Cell] = []
    n = 0
    for article, heads, rows in parts:
        span = 3 // len(heads)
        cells += [Cell(n, 0, article, cols=4, head=True), Cell(n + 1, 0, "信息内容", head=True)]
        cells += [Cell(n + 1, 1 + i * span, h, cols=span, head=True) for i, h in enumerate(heads)]
        for at, (label, key) in enumerate(rows, n + 2):
            cells.append(Cell(at, 0, label))
            if len(heads) == 3:
                cells += [Cell(at, 1 + i, str(docs.value(key, c)), key=(key, c)) for i, c in enumerate(docs.columns)]
            else:
                cells.append(Cell(at, 1, str(stats.get(key, "")), cols=span))
        n += 2 + len(rows)
    return Grid("proactive", TITLES[1], n, (12,) * 4, tuple(cells))


def _numbers(t: Table, row: str, at: int, first: int) -> list[Cell]:
    return [Cell(at, first + i, str(t.value(row, c)), key=(row, c)) for i, c in enumerate(t.columns)]


def identity_line(report: AnnualReport) -> str:
    """The format's check, with its four numbers and whether it holds."""
    received, carried_in, total, carried_out = report.identity
    return ("勾稽关系（本年新收＋上年结转＝办理结果总计＋结转下年度）："
            f"{received}＋{carried_in}＝{received + carried_in}，{total}＋{carried_out}＝{total + carried_out}，"
            f"{'成立' if report.balanced else '不成立'}。")


def digest_line(report: AnnualReport) -> str:
    return (f"本报告依据本单位签名日志至登记簿根摘要 {report.digest} 所封存的记录统计（本单位链第 {report.sealed_at} "
            "号事件为止），可据此复核。")


def check_texts(unit_name: str, texts: Mapping[str, str]) -> None:
    """Refuse a section no text goes in, and text no printed report can hold (control characters, direction
    overrides): before anything is counted or written."""
    if NOT_PRINTABLE.search(unit_name) or "\n" in unit_name or "\t" in unit_name:
        raise InvalidInput("the unit's name holds characters a printed report cannot")
    for section, text in texts.items():
        if section not in WRITTEN:
            raise InvalidInput("no section '{section}' of the report takes text; these do: {sections}",
                               section=section, sections=", ".join(WRITTEN))
        if not isinstance(text, str) or NOT_PRINTABLE.search(text):
            raise InvalidInput("the text of section '{section}' holds characters a printed report cannot (control "
                               "characters or direction overrides)", section=section)


def blocks(report: AnnualReport, unit_name: str, texts: Mapping[str, str]) -> Iterator[Para | Grid]:
    """The report from its title to its digest line, in order."""
    check_texts(unit_name, texts)
    written = {WRITTEN[k][0]: v for k, v in texts.items()}
    placeholders = dict(WRITTEN.values())
    yield Para(title_of(report, unit_name), "title")
    for n, title in enumerate(TITLES):
        yield Para(title, "heading")
        if n in placeholders:
            lines = [line.strip() for line in written.get(n, "").splitlines() if line.strip()]
            yield from (Para(line) for line in lines or [placeholders[n]])
        elif n == 1:
            yield proactive_grid(report)
            yield Para(STATED.format(item=report.statistics_item) if report.statistics_item else UNSTATED, "note")
        elif n == 2:
            yield requests_grid(report)
            yield Para(identity_line(report))
        else:
            yield reviews_grid(report)
    yield Para(digest_line(report))


def title_of(report: AnnualReport, unit_name: str) -> str:
    return f"{unit_name}{report.year}年政府信息公开工作年度报告"


# -- XLSX ----------------------------------------------------------------------------------------------------------


def to_xlsx(report: AnnualReport, unit_name: str) -> bytes:
    """A sheet of what was counted and the format's check, a sheet for each of tables 三 and 四, and a sheet of
    every case each number counts (table, row, column, case) so that an auditor can recount."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    from workflow.letters.render import without_times

    check_texts(unit_name, {})
    wb = Workbook()
    info = wb.active
    info.title = SHEET_INFO
    received, carried_in, total, carried_out = report.identity
    for line in ((title_of(report, unit_name),), ("单位", unit_name), ("单位编号", report.unit),
                 ("年度", report.year), ("根摘要", report.digest), ("统计至本单位链事件", report.sealed_at),
                 ("本年新收", received), ("上年结转", carried_in), ("办理结果总计", total), ("结转下年度", carried_out),
                 ("勾稽关系", "成立" if report.balanced else "不成立"), (identity_line(report),),
                 (digest_line(report),)):
        info.append(line)
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 20, 80
    for grid in (proactive_grid(report), requests_grid(report), reviews_grid(report)):
        _sheet(wb.create_sheet(f"表{grid.title[0]}"), grid, f"{unit_name}{report.year}年 {grid.title}")
    cases = wb.create_sheet(SHEET_CASES)
    cases.append(("表", "行", "列", "案件"))
    for case in counted(report):
        cases.append(case)
    for column, width in zip("ABCD", (8, 60, 24, 30), strict=True):
        cases.column_dimensions[column].width = width
    for sheet in wb.worksheets:  # no text of ours is a formula, whatever it begins with (a unit named "=HYPERLINK(")
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    wb.properties.creator, wb.properties.title = unit_name, title_of(report, unit_name)
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    out = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)).save()  # save_workbook stamps the time
    return without_times(out.getvalue())


def counted(report: AnnualReport) -> Iterator[tuple[str, str, str, str]]:
    """Every case each cell counts: its table, row and column in the format's words, and the case."""
    t = report.documents
    for row in t.rows:
        for column in t.columns:
            for case in t.cases.get((row, column), ()):
                yield "表二", DOC_TYPES[row], DOCUMENT_WORDS[column], case
    t = report.requests
    for row in t.rows:
        for column in t.columns:
            for case in t.cases.get((row, column), ()):
                yield "表三", row_label(row), APPLICANTS[column], case
    t = report.reviews
    for kind in t.rows:
        said = REVIEW_KINDS[kind] if kind == t.rows[0] else f"行政诉讼（{REVIEW_KINDS[kind]}）"
        for column in t.columns:
            for case in t.cases.get((kind, column), ()):
                yield "表四", said, OUTCOMES[column], case


def _sheet(ws: Any, grid: Grid, title: str) -> None:
    from openpyxl.styles import Alignment, Border, Side
    from openpyxl.utils import get_column_letter

    ws.append((title,))
    top = 3  # a blank row under the title
    line = Side(style="thin")
    for r in range(grid.height):
        for c in range(grid.width):
            ws.cell(top + r, 1 + c).border = Border(left=line, right=line, top=line, bottom=line)
    for cell in grid.cells:
        at = ws.cell(top + cell.row, 1 + cell.col)
        at.value = int(cell.text) if cell.key else cell.text
        centred = cell.head or cell.key is not None or cell.rows > 1
        at.alignment = Alignment(horizontal="center" if centred else "left", vertical="center", wrap_text=True,
                                 indent=2 if cell.item else 0)
        if cell.rows > 1 or cell.cols > 1:
            ws.merge_cells(start_row=top + cell.row, start_column=1 + cell.col, end_row=top + cell.row + cell.rows - 1,
                           end_column=1 + cell.col + cell.cols - 1)
    for c, width in enumerate(grid.widths, 1):
        ws.column_dimensions[get_column_letter(c)].width = 1.6 * width


# -- DOCX ----------------------------------------------------------------------------------------------------------

HEADING_FONT = "黑体"
TABLE_SIZE = 9  # 小五: fifteen columns fit the A4 text width


def to_docx(report: AnnualReport, unit_name: str, texts: Mapping[str, str]) -> bytes:
    """The report as a .docx: GB/T 9704's page, the title in 2号 小标宋, the section titles in 3号 黑体, the text in
    3号 仿宋, tables 二 to 四 as Word tables in the format's layout."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    from workflow.letters.render import TITLE_FONT, font, new_document, saved

    doc = new_document()
    for block in blocks(report, unit_name, texts):
        if isinstance(block, Grid):
            _table(doc, block)
            continue
        p = doc.add_paragraph()
        run = p.add_run(block.text)
        if block.kind == "title":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.line_spacing = Pt(36)
            font(run, TITLE_FONT, 22)
        elif block.kind == "heading":
            font(run, HEADING_FONT, 16)
        elif block.kind == "note":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            p.paragraph_format.first_line_indent = Pt(32)  # two characters of 3号
    return saved(doc, title_of(report, unit_name), unit_name)


def _table(doc: Document, grid: Grid) -> None:
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    from workflow.letters.render import BODY_FONT, TEXT_WIDTH_MM, font

    table = doc.add_table(rows=grid.height, cols=grid.width)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, grid.widths, strict=True):
        column.width = Mm(TEXT_WIDTH_MM * width / sum(grid.widths))
        for cell in column.cells:  # Word reads each cell's width, LibreOffice the column's
            cell.width = column.width
    for cell in grid.cells:
        at = table.cell(cell.row, cell.col)
        if cell.rows > 1 or cell.cols > 1:
            at = at.merge(table.cell(cell.row + cell.rows - 1, cell.col + cell.cols - 1))
        at.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        p = at.paragraphs[0]
        p.paragraph_format.line_spacing = 1.0
        centred = cell.head or cell.key is not None or cell.rows > 1
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.LEFT
        if cell.item:
            p.paragraph_format.left_indent = Pt(2 * TABLE_SIZE)
        font(p.add_run(cell.text), BODY_FONT, TABLE_SIZE)


# -- HTML ----------------------------------------------------------------------------------------------------------

_CSS = """
h2 { font-family: "黑体", SimHei, "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
     sans-serif; font-size: 16pt; font-weight: normal; margin: 7pt 0 0; break-after: avoid; }
p { margin: 0; text-indent: 2em; white-space: pre-wrap; overflow-wrap: anywhere; }
p.note { text-indent: 0; text-align: center; }
table { border-collapse: collapse; table-layout: fixed; width: 100%; margin: 7pt 0; font-size: 9pt;
        line-height: 1.4; }
th, td { border: 0.75pt solid #000; padding: 2pt 3pt; text-align: center; vertical-align: middle; font-weight: normal;
         overflow-wrap: anywhere; }
td.label { text-align: left; }
td.item { text-align: left; padding-left: 2em; }
tr { break-inside: avoid; }
"""


def to_html(report: AnnualReport, unit_name: str, texts: Mapping[str, str]) -> str:
    """The report as one self-contained HTML page that prints on A4, every text escaped; each number's cell names
    the report's cell it shows (data-row, data-column)."""
    from workflow.letters.render import PAGE_CSS

    parts = ["<!DOCTYPE html>", '<html lang="zh-CN">', '<head><meta charset="utf-8">',
             f"<title>{escape(title_of(report, unit_name))}</title>",
             f"<style>\n{PAGE_CSS}\n{_CSS.strip()}\n</style></head>", '<body><article class="report">']
    for block in blocks(report, unit_name, texts):
        if isinstance(block, Grid):
            parts.append(_html_table(block))
        elif block.kind == "title":
            parts.append(f"<h1>{escape(block.text)}</h1>")
        elif block.kind == "heading":
            parts.append(f"<h2>{escape(block.text)}</h2>")
        else:
            parts.append(f'<p class="{block.kind}">{escape(block.text)}</p>')
    return "\n".join([*parts, "</article></body></html>", ""])


def _html_table(grid: Grid) -> str:
    columns = "".join(f'<col style="width: {100 * w / sum(grid.widths):.2f}%">' for w in grid.widths)
    rows: list[list[str]] = [[] for _ in range(grid.height)]
    for cell in sorted(grid.cells, key=lambda c: (c.row, c.col)):
        spans = (f' rowspan="{cell.rows}"' if cell.rows > 1 else "") + (f' colspan="{cell.cols}"' if cell.cols > 1
                                                                          else "")
        if cell.head:
            rows[cell.row].append(f"<th{spans}>{escape(cell.text)}</th>")
            continue
        if cell.key is not None:
            spans += f' data-row="{escape(cell.key[0])}" data-column="{escape(cell.key[1])}"'
        elif cell.rows == 1:
            spans += ' class="item"' if cell.item else ' class="label"'
        rows[cell.row].append(f"<td{spans}>{escape(cell.text)}</td>")
    body = "\n".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    return f'<table id="{grid.id}"><colgroup>{columns}</colgroup>\n{body}\n</table>'
