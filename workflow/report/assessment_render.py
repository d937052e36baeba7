"""The self-assessment as a Word document (python-docx) or one self-contained HTML page that prints on A4, both from
the same blocks (headings, paragraphs, tables, the three charts), so they say the same."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import date
from html import escape
from zoneinfo import ZoneInfo

from states import builtin
from states.replies import TYPES
from workflow import catalog
from workflow.deadlines import KINDS
from workflow.report import charts
from workflow.report.assessment import Assessment, Late

BODY_FONT, HEADING_FONT = "仿宋", "黑体"
STATUS = {"met": "逾期完成", "overdue": "逾期未完成", "cancelled": "逾期后撤销"}


@dataclass(frozen=True)
class Block:
    kind: str  # title, subtitle, heading, text, table, chart
    text: str = ""
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    png: bytes = b""
    cls: str = ""  # a table's class in the HTML


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.1f}%"


def _reminded(late: Late, tz: ZoneInfo) -> str:
    """Who was reminded, and when: one entry per sending (its time, step and channel), its recipients together."""
    if not late.reminders:
        return "未提醒"
    sendings: dict[tuple[str, str, str], list[str]] = {}
    for r in late.reminders:
        sendings.setdefault((f"{r.sent_at.astimezone(tz):%Y-%m-%d %H:%M}", r.step, r.channel), []).append(r.recipient)
    return "；".join(f"{when} {step}（{channel}）：{'、'.join(who)}" for (when, step, channel), who in sendings.items())


def span(days: float | None) -> str:
    """A stay, in hours under a day, else in days."""
    if days is None:
        return "—"
    return f"{24 * days:.1f}小时" if days < 1 else f"{days:.1f}天"


def _categories(a: Assessment) -> tuple[tuple[str, str], ...]:
    """Each of the plan's six categories with everything under it, then its sub-categories that have items."""
    rows = []
    for code, name in catalog.CATEGORIES.items():
        if "." not in code:
            total = sum(n for c, n in a.by_category.items() if c.split(".")[0] == code)
            rows.append((f"{code} {name}", str(total)))
        elif a.by_category[code]:
            rows.append((f"　其中：{code} {name}", str(a.by_category[code])))
    return tuple(rows)


def title(a: Assessment, unit_name: str) -> str:
    half = "上" if a.first.month == 1 else "下"
    return f"{unit_name}{a.first.year}年{half}半年政务公开工作自评报告"


def blocks(a: Assessment, unit_name: str) -> list[Block]:
    """What the report says, in order."""
    charts_by_title = dict(charts.charts(a))
    states = {kind: {s.id: s.zh for s in builtin(kind).states} for kind in charts.CASE_NAMES}
    counted = "，".join(f"{chain} 至第{seq}号事件" for chain, seq in sorted(a.counted.items())) or "无事件"
    out = [
        Block("title", title(a, unit_name)),
        Block("subtitle", f"统计期间：{_day(a.first)}至{_day(a.last)}（逾期截至{_day(a.today)}）；计数依据：{counted}"),
        Block("heading", "一、时限按时完成情况"),
        Block("table", header=("时限类型", "本期到期", "按时完成", "按时率"),
              rows=tuple((KINDS[o.kind], str(o.due), str(o.on_time), _rate(o.rate)) for o in a.on_time)),
        Block("chart", charts.ON_TIME, png=charts_by_title[charts.ON_TIME]),
        Block("text", f"逾期事项{len(a.late)}项" + ("：" if a.late else "。")),
    ]
    if a.late:
        out.append(Block("table", header=("事项", "时限类型", "应完成日期", "状态", "完成日期", "责任人", "提醒"),
                         rows=tuple((x.title, KINDS[x.kind], x.due_on.isoformat(), STATUS[x.status],
                                     x.closed_on.isoformat() if x.closed_on else "—", x.responsible or "—",
                                     _reminded(x, ZoneInfo(a.timezone))) for x in a.late), cls="late"))
    verdict = "已完成" if a.quota_met else "尚未完成"
    out += [
        Block("heading", "二、主要负责人解读政策"),
        Block("text", f"本期发布政策解读{len(a.interpretations)}篇，其中主要负责人解读{len(a.by_head)}篇"
                      f"{'（' + '、'.join(a.by_head) + '）' if a.by_head else ''}；{a.first.year}年截至本期末主要"
                      f"负责人解读{len(a.by_head_this_year)}篇，年度要求不少于{a.quota}篇，{verdict}。"),
        Block("heading", "三、主动公开情况"),
        Block("text", f"本期公开信息{len(a.published)}条。"),
        Block("table", header=("类别", "条数"), rows=_categories(a)),
        Block("table", header=("“五公开”", "条数"),
              rows=(*((f"{name}公开", str(a.by_tag[tag])) for tag, name in catalog.TAGS.items()),
                    ("未标注", str(a.untagged)))),
        Block("heading", "四、依申请公开办理结果"),
        Block("table", header=("答复类型", "件数"),
              rows=(*((f"{t.row}{t.zh}", str(a.replies[code])) for code, t in TYPES.items()),
                    ("合计", str(sum(a.replies.values()))))),
        Block("heading", "五、各审核环节用时"),
        Block("table", header=("案件", "环节", "次数", "中位数", "90%分位数"),
              rows=tuple((charts.CASE_NAMES[s.kind], states[s.kind][s.state], str(s.stays), span(s.median),
                          span(s.p90)) for s in a.stages)),
        Block("chart", charts.STAGES, png=charts_by_title[charts.STAGES]),
        Block("heading", "六、每月签名数"),
        Block("table", header=("月份", "签名数"), rows=tuple((month, str(n)) for month, n in a.signatures)),
        Block("chart", charts.SIGNATURES, png=charts_by_title[charts.SIGNATURES]),
    ]
    return out


# -- Word ---------------------------------------------------------------------------------------------------------


def to_docx(a: Assessment, unit_name: str) -> bytes:
    """The report as a .docx on A4, the charts as pictures."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = section.left_margin = section.right_margin = Mm(25)
    for style, font, size in (("Normal", BODY_FONT, 12), ("Title", HEADING_FONT, 20), ("Heading 1", HEADING_FONT, 15)):
        s = doc.styles[style]
        s.font.size = Pt(size)
        s.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    for b in blocks(a, unit_name):
        if b.kind == "title":
            doc.add_heading(b.text, level=0).alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif b.kind == "heading":
            doc.add_heading(b.text, level=1)
        elif b.kind in ("text", "subtitle"):
            doc.add_paragraph(b.text)
        elif b.kind == "table":
            table = doc.add_table(rows=1 + len(b.rows), cols=len(b.header))
            table.style = "Table Grid"
            for r, row in enumerate((b.header, *b.rows)):
                for c, text in enumerate(row):
                    table.cell(r, c).text = text
        else:
            doc.add_picture(io.BytesIO(b.png), width=Mm(150))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            doc.add_paragraph(b.text).alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.core_properties.title = title(a, unit_name)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# -- HTML ---------------------------------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 20mm; }
html { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", SimHei, sans-serif;
       font-size: 11pt; line-height: 1.6; color: #000; background: #fff; }
body { margin: 0; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 6pt; }
h2 { font-size: 13pt; margin: 14pt 0 6pt; break-after: avoid; }
p { margin: 4pt 0; overflow-wrap: anywhere; }
p.subtitle { text-align: center; font-size: 9pt; color: #333; }
table { border-collapse: collapse; width: 100%; margin: 6pt 0; break-inside: auto; }
th, td { border: 0.5pt solid #000; padding: 2pt 4pt; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #eee; }
tr { break-inside: avoid; }
table.late td:nth-child(n+2):nth-child(-n+6), table.late th { white-space: nowrap; }
figure { margin: 8pt 0; text-align: center; break-inside: avoid; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 9pt; }
@media screen { body { max-width: 170mm; margin: 2em auto; padding: 0 1em; } }
""".strip()


def to_html(a: Assessment, unit_name: str) -> str:
    """The report as one HTML page (the charts inlined as data: URLs, every text escaped) that prints on A4."""
    parts = ["<!DOCTYPE html>", '<html lang="zh-CN">', '<head><meta charset="utf-8">',
             f"<title>{escape(title(a, unit_name))}</title>", f"<style>\n{_CSS}\n</style></head>",
             "<body><article>"]
    for b in blocks(a, unit_name):
        if b.kind == "title":
            parts.append(f"<h1>{escape(b.text)}</h1>")
        elif b.kind == "subtitle":
            parts.append(f'<p class="subtitle">{escape(b.text)}</p>')
        elif b.kind == "heading":
            parts.append(f"<h2>{escape(b.text)}</h2>")
        elif b.kind == "text":
            parts.append(f"<p>{escape(b.text)}</p>")
        elif b.kind == "table":
            head = "".join(f"<th>{escape(h)}</th>" for h in b.header)
            body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in b.rows)
            cls = f' class="{b.cls}"' if b.cls else ""
            parts.append(f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        else:
            data = base64.b64encode(b.png).decode("ascii")
            parts.append(f'<figure><img src="data:image/png;base64,{data}" alt="{escape(b.text)}">'
                         f"<figcaption>{escape(b.text)}</figcaption></figure>")
    parts += ["</article></body></html>", ""]
    return "\n".join(parts)
