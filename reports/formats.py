"""How figures are shown: the one home of the formatting rules every page, download, export and
CLI output uses.

- A rate (办结率, 满意率, 占比, 覆盖率, ...) is kept as a fraction (0..1) in every table and shown
  with one decimal and a percent sign: 0.9619 -> "96.2%" (`rate`); no denominator -> "—".
- A change of a rate is in percentage points ("+1.2 个百分点", `points`), a change of a count in
  percent ("+3.4%", `change_pct`).
- Counts have thousands separators ("12,345", `count`).
- Dates are YYYY-MM-DD (`date`), months YYYY-MM (`month`); a date column is never shown with
  a time of day of 00:00:00.
- Which column of a table is a rate: its header (without a trailing "(%)") ends with 率 or 占比
  (`is_rate_column`); tables hold those columns as fractions.
- In a CSV file, a code made only of digits (区划代码 610902001001, a 受理编号) is written as
  ="610902001001" (`excel_text`): Excel opens it as the text 610902001001 (not 6.10902E+11, no
  leading zero lost); other readers strip it with `strip_excel_text` (or pandas:
  `df[col].str.removeprefix('="').str.removesuffix('"')`). Rates are written as the page shows
  them ("12.4%", which Excel reads as the number 0.124 shown as a percentage).
"""

from __future__ import annotations

import math
import re

import pandas as pd

DASH = "—"
RATE_DECIMALS = 1
XLSX_RATE_FORMAT = "0." + "0" * RATE_DECIMALS + "%"  # the same rule as an Excel number format, on the fraction
# Streamlit's "percent" column format shows a fraction with the decimals of its step less two
RATE_STEP = 10.0 ** -(RATE_DECIMALS + 2)
_RATE_ENDINGS = ("率", "占比")
_DIGITS = re.compile(r"\d+")


def _missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return isinstance(v, float) and math.isnan(v)
    except TypeError:
        return False


def rate(r) -> str:
    """A rate (a fraction) in percent with one decimal: 0.9619 -> '96.2%'; '—' when missing."""
    return DASH if _missing(r) else f"{float(r) * 100:.{RATE_DECIMALS}f}%"


def points(d) -> str:
    """The change of a rate in percentage points: 0.012 -> '+1.2 个百分点'; '—' when missing."""
    return DASH if _missing(d) else f"{float(d) * 100:+.{RATE_DECIMALS}f} 个百分点"


def change_pct(p) -> str:
    """The relative change of a count: 0.034 -> '+3.4%'; '—' when missing."""
    return DASH if _missing(p) else f"{float(p) * 100:+.{RATE_DECIMALS}f}%"


def is_flat(d) -> bool:
    """Whether a change (a relative change or a rate's difference, as fractions) shows as zero
    once written (change_pct, points): 持平 in a sentence exactly when its table shows ±0.0."""
    return not _missing(d) and float(f"{abs(float(d)) * 100:.{RATE_DECIMALS}f}") == 0


def count(n) -> str:
    """A count with thousands separators: 12345 -> '12,345'; '—' when missing."""
    if _missing(n):
        return DASH
    n = float(n)
    return f"{n:,.0f}" if n.is_integer() else f"{n:,.1f}"


def date(d) -> str:
    """A date (or the date of a timestamp) as YYYY-MM-DD; '' when missing."""
    if _missing(d):
        return ""
    return pd.Timestamp(d).strftime("%Y-%m-%d")


def month(d) -> str:
    """A month as YYYY-MM."""
    return pd.Timestamp(d).strftime("%Y-%m")


def is_rate_column(name) -> bool:
    """A table column holds a rate (as a fraction) when its header, without '(%)', ends with 率 or 占比."""
    return isinstance(name, str) and name.removesuffix("(%)").endswith(_RATE_ENDINGS)


def rate_columns(df: pd.DataFrame) -> list[str]:
    """The numeric rate columns of a table (see is_rate_column)."""
    return [c for c in df.columns if is_rate_column(c) and pd.api.types.is_numeric_dtype(df[c])]


def date_columns(df: pd.DataFrame) -> list[str]:
    """The datetime columns whose every value is at midnight: dates, shown without a time of day."""
    out = []
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            t = s.dropna()
            if len(t) == 0 or (t == t.dt.normalize()).all():
                out.append(c)
    return out


def as_dates(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with its date columns (date_columns) as datetime.date values: shown as YYYY-MM-DD."""
    cols = date_columns(df)
    if not cols:
        return df
    out = df.copy()
    for c in cols:
        out[c] = out[c].map(lambda v: None if _missing(v) else pd.Timestamp(v).date())
    return out


def excel_text(v):
    """A string made only of digits as ="…" (Excel opens it as text); anything else unchanged."""
    return f'="{v}"' if isinstance(v, str) and _DIGITS.fullmatch(v) else v


def strip_excel_text(v):
    """The value `excel_text` wrote, back as it was: '="610902001001"' -> '610902001001'."""
    if isinstance(v, str) and v.startswith('="') and v.endswith('"'):
        return v[2:-1]
    return v


def shown(df: pd.DataFrame) -> pd.DataFrame:
    """`df` as a page shows it, for a text file: rates as '96.2%' ('' when missing), dates as
    YYYY-MM-DD."""
    out = as_dates(df).copy()
    for c in rate_columns(df):
        out[c] = out[c].map(lambda v: "" if _missing(v) else rate(v))
    return out


def points_size(d) -> str:
    """The size of a rate's change in percentage points, without sign, as documents write it:
    -0.012 -> '1.2个百分点'; '—' when missing."""
    return DASH if _missing(d) else f"{abs(float(d)) * 100:.{RATE_DECIMALS}f}个百分点"
