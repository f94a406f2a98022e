"""A model.Document as a .docx, written with the named styles of the template (setting
report_template; reports/templates/build_template.py lists them). Only style names are used
here, never fonts or sizes, so an office restyles its documents by editing the template. A
style the office's template lacks falls back to the template's Normal style."""

from __future__ import annotations

import io
import re
from pathlib import Path

from docx import Document as open_docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm

from etl import settings
from etl.db import REPO_ROOT

from . import model

STYLES = {  # role -> style name in the template
    "marking": "MQ Marking", "masthead": "MQ Masthead", "issue": "MQ Issue", "header_line": "MQ Header Line",
    "title": "MQ Title", "note": "MQ Note", "h1": "Heading 1", "h2": "Heading 2", "body": "MQ Body",
    "blank": "MQ Blank", "caption": "MQ Caption", "table_text": "MQ Table Text", "table": "MQ Table",
    "recipients": "MQ Recipients",
}
DEMO_MARK = "演示数据"
_NOT_XML = re.compile("[\x00-\x08\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot hold
_BREAKS = re.compile("[\x0b\x0c]")  # vertical tab, form feed: spacing typed in a spreadsheet cell


def _xml_text(text) -> str:
    """`text` as a Word document can hold it: control characters from the ledgers removed (a
    vertical tab or form feed becomes a space), so one odd cell does not break the document."""
    return _NOT_XML.sub("", _BREAKS.sub(" ", str(text)))


class TemplateError(ValueError):
    """The template file cannot be opened as a Word document."""


def template_path() -> Path:
    """The template named by the setting report_template (relative paths from the repository)."""
    p = Path(str(settings.get("report_template")))
    return p if p.is_absolute() else REPO_ROOT / p


def write(doc: model.Document, template: Path | None = None) -> bytes:
    """The document as .docx bytes."""
    path = template or template_path()
    try:
        word = open_docx(str(path))
    except Exception as e:  # noqa: BLE001 - a missing or damaged file is the office's to fix
        raise TemplateError(f"报告模板 {path} 无法打开 ({e}); 请检查设置 report_template") from None
    body = word.element.body
    for child in list(body):  # keep the section properties (page set-up), drop any sample text
        if child.tag.endswith("}p") or child.tag.endswith("}tbl"):
            body.remove(child)
    names = {s.name for s in word.styles}

    def style(role: str) -> str:
        return STYLES[role] if STYLES[role] in names else "Normal"

    def para(text: str, role: str):
        return word.add_paragraph(_xml_text(text), style=style(role))

    _header(word, doc, para)
    para(doc.subtitle, "title")
    for note in doc.notes:
        para(note, "note")
    for block in doc.blocks:
        if isinstance(block, model.Heading):
            para(block.text, "h1" if block.level == 1 else "h2")
        elif isinstance(block, model.Paragraph):
            para(block.text, "blank" if block.style == "blank" else "note" if block.style == "note" else "body")
        elif isinstance(block, model.Table):
            _table(word, block, style, para)
        elif isinstance(block, model.Image):
            p = para("", "caption")
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.add_run().add_picture(io.BytesIO(block.png), width=Mm(block.width_mm))
            if block.caption:
                para(block.caption, "caption")
    if doc.recipients:
        lines = [f"{k}：{v}" for k, v in doc.recipients.items() if v]
        p = para(lines[0] if lines else "", "recipients")
        for line in lines[1:]:
            p.add_run().add_break()
            p.add_run(_xml_text(line))
    if doc.header.demo:
        for section in word.sections:
            section.header.paragraphs[0].text = _xml_text(f"{DEMO_MARK} · 非真实记录")
            section.header.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    word.core_properties.title = _xml_text(doc.subtitle)
    word.core_properties.subject = _xml_text(doc.header.title + (f" ({DEMO_MARK})" if doc.header.demo else ""))
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _header(word, doc: model.Document, para) -> None:
    h = doc.header
    para(h.marking + (f"    {DEMO_MARK}" if h.demo else ""), "marking")
    para(h.title, "masthead")
    if h.issue is not None:
        para(f"{h.year}年第{h.issue}期" if h.year else f"第{h.issue}期", "issue")
    para(f"{h.office}\t{h.date}", "header_line")


def _table(word, block: model.Table, style, para) -> None:
    if block.caption:
        para(block.caption, "caption")
    t = word.add_table(rows=1, cols=len(block.columns))
    t.style = word.styles[style("table")] if style("table") != "Normal" else None
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    text_style = word.styles[style("table_text")]  # the object: looking a style up by name costs 5 ms a cell
    for cell, text in zip(t.rows[0].cells, block.columns):
        _cell(cell, text, text_style, bold=True)
    for row in block.rows:
        cells = t.add_row().cells
        for cell, text in zip(cells, row):
            _cell(cell, text, text_style)
    _repeat_header(t.rows[0])
    _widths(word, t, block)
    para("", "note")  # a little air after the table


def _text_width(text: str) -> int:
    """Width of a cell's text in half-characters: a Chinese character counts 2, a Latin one 1."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(text))


def _widths(word, t, block: model.Table) -> None:
    """Columns as wide as their longest text (at least four characters), sharing the type area."""
    section = word.sections[-1]
    area = section.page_width - section.left_margin - section.right_margin
    need = [max([_text_width(block.columns[i])] + [_text_width(r[i]) for r in block.rows]) for i in range(len(block.columns))]
    need = [max(8, min(n, 40)) for n in need]
    total = sum(need)
    for i, n in enumerate(need):
        width = int(area * n / total)
        t.columns[i].width = width
        for cell in t.columns[i].cells:
            cell.width = width


def _cell(cell, text: str, style, bold: bool = False) -> None:
    p = cell.paragraphs[0]
    p.style = style
    run = p.add_run(_xml_text(text))
    if bold:
        run.bold = True


def _repeat_header(row) -> None:
    """The header row repeats on every page a long table runs over."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)
