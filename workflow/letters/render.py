"""A composed letter as a Word document or as print-ready HTML, laid out as GB/T 9704 lays out official documents:
A4, margins 37/26/35/28 mm, the title in 2号 小标宋, the text in 3号 仿宋 with a first-line indent of two characters,
the office, date and seal at the right.

The same letter gives the same bytes (a document is stored once, by the hash of its bytes): the .docx carries no
time of its making.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from html import escape

import docx
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from workflow.letters.compose import Composed

BODY_FONT = "仿宋"
TITLE_FONT = "方正小标宋简体"
TEXT_WIDTH_MM = 210 - 28 - 26
_FIXED_TIME = datetime(2000, 1, 1)  # what the .docx says of when it was made (see the module's docstring)


def to_docx(composed: Composed, addressee: str | None = None) -> bytes:
    """The letter as a .docx; `addressee` (the applicant's name and address, one line) replaces "申请人" when it is
    printed, and is never given for the copy that is stored."""
    title, reference, to, *rest = composed.lines(addressee)
    body, sign = rest[:-3], rest[-3:]
    doc = new_document()

    def add(text: str, *, align: WD_ALIGN_PARAGRAPH | None = None, indent: bool = False) -> Paragraph:
        p = doc.add_paragraph()
        p.add_run(text)
        if align is not None:
            p.alignment = align
        if indent:
            p.paragraph_format.first_line_indent = Pt(32)  # two characters of 3号
        return p

    heading = add(title, align=WD_ALIGN_PARAGRAPH.CENTER)
    heading.paragraph_format.line_spacing = Pt(36)
    font(heading.runs[0], TITLE_FONT, 22)
    add(reference, align=WD_ALIGN_PARAGRAPH.RIGHT)
    add(to)
    for text in body:
        add(text, indent=True)
    add("")
    for text in sign:
        add(text, align=WD_ALIGN_PARAGRAPH.RIGHT).paragraph_format.right_indent = Pt(64)
    return saved(doc, composed.title, composed.office)


def new_document() -> Document:
    """An empty A4 document with GB/T 9704's margins, its text in 3号 仿宋 on a 28 pt line."""
    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)  # TEXT_WIDTH_MM between them
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    normal.paragraph_format.line_spacing = Pt(28)
    normal.paragraph_format.space_after = Pt(0)
    return doc


def font(run: Run, name: str, size: float) -> None:
    """Set a run's font, its Chinese characters' (w:eastAsia) too, and its size in points."""
    run.font.size = Pt(size)
    run.font.name = name
    run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def saved(doc: Document, title: str, author: str) -> bytes:
    """The document's bytes, the same for the same content (see the module's docstring)."""
    props = doc.core_properties
    props.title, props.author, props.last_modified_by, props.revision = title, author, "", 1
    props.created = props.modified = _FIXED_TIME
    out = io.BytesIO()
    doc.save(out)
    return without_times(out.getvalue())


def without_times(package: bytes) -> bytes:
    """The same zip with each member's time fixed (zipfile stamps the time of writing)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(zipfile.ZipInfo(info.filename, _FIXED_TIME.timetuple()[:6]), source.read(info),
                            zipfile.ZIP_DEFLATED)
    return out.getvalue()


# The page and the title, as the .docx lays them out (the report's preview shares them).
PAGE_CSS = """
@page { size: A4; margin: 37mm 26mm 35mm 28mm; }
html { font-family: "仿宋", "仿宋_GB2312", FangSong, STFangsong, "Noto Serif CJK SC", "Source Han Serif SC",
       "Songti SC", SimSun, serif; font-size: 16pt; line-height: 28pt; color: #000; background: #fff; }
body { margin: 0; }
h1 { font-family: "方正小标宋简体", "FZXiaoBiaoSong-B05S", "Noto Serif CJK SC", "Source Han Serif SC", "Songti SC",
     SimSun, serif; font-size: 22pt; line-height: 36pt; font-weight: normal; text-align: center; margin: 0 0 14pt; }
@media screen { body { max-width: 156mm; margin: 2em auto; padding: 0 1em; } }
""".strip()
_CSS = PAGE_CSS + """
p { margin: 0; text-indent: 2em; white-space: pre-wrap; overflow-wrap: anywhere; }
p.reference { text-align: right; text-indent: 0; }
p.to { text-indent: 0; }
.sign { margin-top: 28pt; text-align: right; padding-right: 4em; break-inside: avoid; }
.sign p { text-indent: 0; }
"""


def to_html(composed: Composed, addressee: str | None = None) -> str:
    """The letter as one self-contained HTML page that prints on A4 (every text escaped); `addressee` as in
    `to_docx`."""
    title, reference, to, *rest = composed.lines(addressee)
    body, sign = rest[:-3], rest[-3:]
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        '<head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        f"<style>\n{_CSS}\n</style></head>",
        '<body><article class="letter">',
        f"<h1>{escape(title)}</h1>",
        _p(reference, "reference"),
        _p(to, "to"),
        *(_p(text) for text in body),
        '<div class="sign">',
        *(_p(text) for text in sign),
        "</div>",
        "</article></body></html>",
        "",
    ])


def _p(text: str, cls: str = "") -> str:
    attribute = f' class="{cls}"' if cls else ""
    return f"<p{attribute}>{escape(text)}</p>"
