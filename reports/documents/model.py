"""A document as plain data: what the kinds (digest, monthly, area) produce and what
docx_writer writes. No Word here, so the figures of a document can be checked as data."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Header:
    """The briefing's header block (简报报头)."""
    title: str  # 十日信息摘报
    office: str  # 编发单位
    date: str  # 2026年10月31日
    issue: int | None = None  # 第N期 (per year)
    year: int | None = None
    marking: str = "内部资料"
    demo: bool = False  # 演示数据 on the header and in every footer


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1: 一、 (黑体), 2: (一) (楷体)


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = "body"  # body, note (small print: period, data date, filters), blank (lines to fill in)


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]  # already formatted (reports/formats.py)
    caption: str = ""


@dataclass(frozen=True)
class Image:
    png: bytes
    caption: str = ""
    width_mm: float = 150.0


@dataclass
class Document:
    header: Header
    subtitle: str  # the document's own title line under the header (e.g. 2026年10月下旬群众诉求情况)
    notes: list[str] = field(default_factory=list)  # period, data date, filters (under the title)
    blocks: list = field(default_factory=list)  # Heading | Paragraph | Table | Image
    recipients: dict[str, str] = field(default_factory=dict)  # 报 / 送 / 发 -> who

    def add(self, *blocks) -> None:
        self.blocks.extend(b for b in blocks if b is not None)

    def text(self) -> str:
        """Every word of the document (tests, previews)."""
        parts = [self.header.title, self.header.office, self.subtitle, *self.notes]
        for b in self.blocks:
            if isinstance(b, Table):
                parts += [" ".join(b.columns)] + [" ".join(r) for r in b.rows]
            elif not isinstance(b, Image):
                parts.append(b.text)
        return "\n".join(parts)
