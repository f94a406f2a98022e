"""Blank ledgers (台账模板) with the canonical Chinese headers and a sheet explaining each column."""

from __future__ import annotations

from pathlib import Path

from . import fields as F
from . import settings, vocab

# Which vocabulary lists the accepted values of a field, per kind.
_VOCAB_OF = {"channel": "channel", "category": "category", "status": "status", "satisfaction": "satisfaction"}
_KIND_VOCAB = {("households", "category"): "household_category", ("buildings", "kind"): "building_kind"}
_FLAG_FIELDS = {"major", "signed_handler", "signed_leader", "poor", "wubao", "old_party_member", "deputy",
                "village_cadre", "has_station", "official_poor"}
_DATE_FIELDS = {"received_at", "assigned_at", "closed_at", "followup_at", "category_since", "visited_at",
                "started_at", "ended_at"}


def write_template(kind: str, path: str | Path) -> Path:
    """An XLSX with one sheet of headers (台账) and one explaining them (填写说明)."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill

    spec = F.kind(kind)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append([f.label for f in spec.fields])
    for i, f in enumerate(spec.fields, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True, color="B00000" if f.required else "000000")
        cell.fill = PatternFill("solid", fgColor="FCE4D6" if f.required else "EDEDED")
        ws.column_dimensions[cell.column_letter].width = max(10, 2 * len(f.label) + 4)
    ws.freeze_panes = "A2"
    if kind in ("areas", "disasters"):
        ws.cell(row=3, column=1, value="边界与灾害范围须为带几何图形的文件 (GeoJSON、Shapefile、GeoPackage), 本表仅列出属性字段")
    doc = wb.create_sheet("填写说明")
    doc.append(["列名", "是否必填", "说明", "可接受的值", "也可用的列名"])
    for f in spec.fields:
        doc.append([f.label, "必填" if f.required else "选填", _help(f), accepted_values(kind, f.name), "、".join(f.aliases)])
    for col, width in zip("ABCDE", (16, 8, 40, 60, 40)):
        doc.column_dimensions[col].width = width
    for row in doc.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in doc[1]:
        cell.font = Font(bold=True)
    path = Path(path)
    wb.save(path)
    return path


def accepted_values(kind: str, field: str) -> str:
    domain = _KIND_VOCAB.get((kind, field)) or (_VOCAB_OF.get(field) if kind == "cases" else None)
    if domain:
        return "; ".join(f"{t['term']} (或 {'、'.join(t.get('synonyms', [])[:4])})" if t.get("synonyms") else t["term"]
                         for t in vocab.vocab(domain))
    if field in _FLAG_FIELDS:
        return "是 / 否"
    if field in _DATE_FIELDS:
        return "2025-03-05、2025/3/5、2025.3.5、2025年3月5日、2025-03-05 14:30 或 Excel 日期"
    if field in ("lon", "lat"):
        return "十进制度, 如 109.0283 / 32.6847; 高德/腾讯坐标加 --crs gcj02, 百度坐标加 --crs bd09"
    return ""


def _help(f: F.Field) -> str:
    personal = " (个人信息: 入库时只保存打码形式和加密哈希)" if f.personal else ""
    return settings.fill(f.help) + personal
