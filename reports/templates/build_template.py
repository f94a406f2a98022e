"""Build reports/templates/briefing.docx, the Word template of the generated documents.

    python reports/templates/build_template.py            # writes briefing.docx beside this file

The writer (reports/documents/docx_writer.py) uses only the template's page set-up and its
styles, by name; an office restyles a copy in Word (its own masthead colour, fonts, sizes)
and points the setting report_template at it. Styles (GB/T 9704-2012 where it says):

  MQ Marking      内部资料 / 演示数据 at the top left: 黑体 三号 (16 pt)
  MQ Masthead     the briefing's name (十日信息摘报): 方正小标宋简体, red
  MQ Issue        第N期: 仿宋 三号, centred
  MQ Header Line  issuing office and date on one line, with the red rule under it
  MQ Title        the document's title: 方正小标宋简体 二号 (22 pt), centred
  MQ Note         period, data date, filters under the title: 楷体 四号 (14 pt), centred
  Heading 1       一、 headings: 黑体 三号
  Heading 2       (一) headings: 楷体 三号
  MQ Body         body text: 仿宋 三号, first line indented by two characters, 22 lines a page
  MQ Blank        lines for the office to fill in (as MQ Body)
  MQ Caption      table and figure titles: 黑体 四号, centred
  MQ Table Text   text in tables: 仿宋 五号 (10.5 pt)
  MQ Table        the table style (grid)
  MQ Recipients   报/送/发 at the end: 仿宋 四号, between rules

Page: A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; page numbers "— 1 —" at
the foot. A font missing on the reader's machine is replaced by the nearest one it has
(Word, WPS and LibreOffice all do), so the names are the standard ones.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

HERE = Path(__file__).resolve().parent
OUT = HERE / "briefing.docx"

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋"
H1_FONT = "黑体"
H2_FONT = "楷体"
LATIN_FONT = "Times New Roman"
RED = RGBColor(0xC0, 0x00, 0x00)
LINE = Pt(29)  # 22 lines on the 225 mm type area of an A4 page (GB/T 9704: 22 lines x 28 characters)


def set_fonts(style, east_asia: str, size: float, *, bold: bool = False, color: RGBColor | None = None) -> None:
    """The style's fonts: the East Asian font through w:eastAsia (what Chinese text uses), Latin
    letters and digits in LATIN_FONT; theme fonts removed so these names win."""
    font = style.font
    font.name = LATIN_FONT
    font.size = Pt(size)
    font.bold = bold
    font.italic = False
    font.color.rgb = color or RGBColor(0, 0, 0)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr, name in (("w:ascii", LATIN_FONT), ("w:hAnsi", LATIN_FONT), ("w:eastAsia", east_asia), ("w:cs", east_asia)):
        fonts.set(qn(attr), name)
    color_el = rpr.find(qn("w:color"))
    if color_el is not None:
        color_el.attrib.pop(qn("w:themeColor"), None)
    chinese(rpr)


def chinese(rpr) -> None:
    """Mark East Asian text of a run-properties element as Chinese (zh-CN): spell checking,
    line breaking and punctuation rules follow Chinese, not the default's English."""
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), lang.get(qn("w:val")) or "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


def paragraph_style(doc, name: str, east_asia: str, size: float, *, align=None, indent_chars: float = 0,
                    line: Pt | None = LINE, before: float = 0, after: float = 0, bold: bool = False,
                    color: RGBColor | None = None, base: str | None = None, outline: int | None = None):
    styles = doc.styles
    style = styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if base:
        style.base_style = styles[base]
    set_fonts(style, east_asia, size, bold=bold, color=color)
    pf = style.paragraph_format
    if align is not None:
        pf.alignment = align
    pf.first_line_indent = Pt(size * indent_chars) if indent_chars else Pt(0)
    pf.left_indent = Pt(0)
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    if line is None:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = line
    pf.keep_with_next = outline is not None
    pf.widow_control = True
    if outline is not None:  # shows in Word's navigation pane
        ppr = style.element.get_or_add_pPr()
        for old in ppr.findall(qn("w:outlineLvl")):
            ppr.remove(old)
        lvl = OxmlElement("w:outlineLvl")
        lvl.set(qn("w:val"), str(outline))
        ppr.insert_element_before(lvl, *_after("w:outlineLvl"))
    return style


# The children of a paragraph's properties (w:pPr) in the order of the OOXML schema (CT_PPrBase,
# then CT_PPr's own): Word refuses a file whose elements are out of this order.
PPR_ORDER = ("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl", "w:numPr",
             "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
             "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
             "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
             "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
             "w:rPr", "w:sectPr", "w:pPrChange")


def _after(tag: str) -> tuple[str, ...]:
    """The pPr children that come after `tag` (PPR_ORDER)."""
    return PPR_ORDER[PPR_ORDER.index(tag) + 1:]


def border(style, side: str, color: str = "C00000", size: int = 12) -> None:
    """A rule on one side of every paragraph of `style` (the red line under the header)."""
    ppr = style.element.get_or_add_pPr()
    bdr = ppr.find(qn("w:pBdr"))
    if bdr is None:
        bdr = OxmlElement("w:pBdr")
        ppr.insert_element_before(bdr, *_after("w:pBdr"))
    el = OxmlElement(f"w:{side}")
    for k, v in (("w:val", "single"), ("w:sz", str(size)), ("w:space", "4"), ("w:color", color)):
        el.set(qn(k), v)
    bdr.append(el)


def page_numbers(section) -> None:
    """— 1 — centred at the foot of every page (a PAGE field)."""
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("— ")
    run = p.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    p.add_run(" —")
    for r in p.runs:
        r.font.size = Pt(14)
        r.font.name = LATIN_FONT


def build(path: Path = OUT) -> Path:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(20)
    page_numbers(section)
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    chinese(defaults)

    center, left, just = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph_style(doc, "Normal", BODY_FONT, 16, align=just)
    paragraph_style(doc, "MQ Marking", H1_FONT, 16, align=left, line=None)
    paragraph_style(doc, "MQ Masthead", TITLE_FONT, 36, align=center, line=None, before=12, after=6, color=RED)
    paragraph_style(doc, "MQ Issue", BODY_FONT, 16, align=center, line=None, after=6)
    header_line = paragraph_style(doc, "MQ Header Line", BODY_FONT, 16, align=left, line=None, after=18)
    border(header_line, "bottom", size=18)
    header_line.paragraph_format.tab_stops.add_tab_stop(Mm(156), alignment=2)  # right tab at the type area's edge
    paragraph_style(doc, "MQ Title", TITLE_FONT, 22, align=center, line=Pt(36), before=12, after=6)
    paragraph_style(doc, "MQ Note", H2_FONT, 14, align=center, line=None, after=12)
    paragraph_style(doc, "Heading 1", H1_FONT, 16, align=just, indent_chars=2, outline=0)
    paragraph_style(doc, "Heading 2", H2_FONT, 16, align=just, indent_chars=2, outline=1)
    paragraph_style(doc, "MQ Body", BODY_FONT, 16, align=just, indent_chars=2)
    paragraph_style(doc, "MQ Blank", BODY_FONT, 16, align=just, indent_chars=2)
    paragraph_style(doc, "MQ Caption", H1_FONT, 14, align=center, line=None, before=6, after=4)
    paragraph_style(doc, "MQ Table Text", BODY_FONT, 10.5, align=center, line=None)
    recipients = paragraph_style(doc, "MQ Recipients", BODY_FONT, 14, align=left, line=Pt(24))
    recipients.paragraph_format.left_indent = Pt(14)
    border(recipients, "top", color="000000", size=6)
    border(recipients, "bottom", color="000000", size=6)

    table = doc.styles.add_style("MQ Table", WD_STYLE_TYPE.TABLE)
    table.base_style = doc.styles["Table Grid"]
    set_fonts(table, BODY_FONT, 10.5)

    body = doc.element.body  # an empty body: the writer adds everything
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    doc.core_properties.title = "民情地图报告模板"
    doc.core_properties.author = "民情地图"
    doc.save(path)
    return path


if __name__ == "__main__":  # pragma: no cover
    print(build())
