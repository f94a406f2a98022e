"""Tables as files people open in Excel: CSV (UTF-8 with BOM) and XLSX, both safe for ledger text.

Ledger text comes from citizens and from Word: a cell may start with "=" (Excel would run it as a
formula) or hold control characters such as \x0b (Word's manual line break) or \x01, which the
XLSX format cannot store (openpyxl raises IllegalCharacterError and the download would fail).
Both writers keep such text readable: formulas stay text, vertical tab and form feed become line
breaks, other control characters are dropped.

Both hold the table as the page shows it (reports/formats.py): rates in percent with one decimal
(CSV: the text "12.4%"; XLSX: the fraction in the number format 0.0%), dates without a time of
day, and codes made of digits as text (CSV: ="610902001001", which Excel opens as text; XLSX: a
text cell).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence

import pandas as pd

from . import formats

NOTES_SHEET = "说明"

# What XLSX cannot hold (the XML 1.0 control characters; tab, newline and carriage return are fine).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a byte-order mark (Excel on a Chinese Windows desktop reads it), holding
    what the page shows (formats.shown: rates as "12.4%", dates as YYYY-MM-DD). Text starting
    with = + - @ (which Excel would run as a formula: ledger text comes from citizens) gets a
    leading apostrophe; a code made only of digits is written ="610902001001" so that Excel
    opens it as text (formats.excel_text); numbers are untouched."""
    out = _clean_frame(formats.shown(df))
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: formats.excel_text("'" + v if isinstance(v, str) and v[:1] in _FORMULA_START
                                                                 else v)).astype(object)
    return out.to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(df: pd.DataFrame, sheet: str = "Sheet1", *, notes: Sequence[tuple[str, str]] = (),
               percent_columns: Iterable[str] = ()) -> bytes:
    """One table as XLSX built in memory: column widths fitted to the (CJK) text, header frozen,
    the rate columns (formats.rate_columns, and `percent_columns`) shown as 0.0%, dates without a
    time of day, text never read as a formula (a name may start with "="), and `notes` (item,
    text) on a second sheet 说明."""
    buf = io.BytesIO()
    percent = set(percent_columns) | set(formats.rate_columns(df))
    df = _clean_frame(formats.as_dates(df))
    notes = [(clean_text(k), clean_text(v)) for k, v in notes]
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        df.to_excel(xw, sheet_name=sheet, index=False)
        ws = xw.sheets[sheet]
        for i, col in enumerate(df.columns, start=1):
            letter = ws.cell(row=1, column=i).column_letter
            ws.column_dimensions[letter].width = min(max(_width([col, *df[col].head(500)]) + 2, 8), 60)
            if col in percent:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = formats.XLSX_RATE_FORMAT
        for row in ws.iter_rows(min_row=2):  # a name like "=..." is text, never a formula
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
        ws.freeze_panes = "A2"
        if notes:
            pd.DataFrame(list(notes), columns=["项目", "内容"]).to_excel(xw, sheet_name=NOTES_SHEET, index=False)
            ns = xw.sheets[NOTES_SHEET]
            ns.column_dimensions["A"].width = 14
            ns.column_dimensions["B"].width = min(max(_width([v for _, v in notes]) + 2, 20), 100)
    return buf.getvalue()


def clean_text(v):
    """`v` with the control characters XLSX cannot store removed (vertical tab and form feed,
    Word's line and page breaks, become newlines); anything but a string is returned as it is."""
    if not isinstance(v, str):
        return v
    return _CONTROL.sub(lambda m: "\n" if m.group() in "\x0b\x0c" else "", v)


def _clean_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [clean_text(str(c)) if isinstance(c, str) else c for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(clean_text)
    return out


def _width(values) -> int:
    return max(sum(2 if ord(ch) > 127 else 1 for ch in str(v)) for v in values)
