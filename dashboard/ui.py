"""Small interface helpers shared by pages: banners, filters, number formats."""

from __future__ import annotations

import datetime as dt

import streamlit as st


def demo_banner(meta: dict) -> None:
    name = meta.get("district_full_name", "")
    if meta.get("demo") == "true":
        st.warning(f"演示数据: {name} 的区划代码、名称和区界真实; 其下的乡镇、村边界及全部户、干部、诉求记录均为合成的演示数据。")
    else:
        st.caption(f"{name} ({meta.get('district_code', '')})")


def period_filter(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """Sidebar date range, default: the last 12 calendar months with data (this month and 11 before)."""
    y, m = divmod(last.year * 12 + last.month - 1 - 11, 12)
    default_start = max(first, dt.date(y, m + 1, 1))
    value = st.sidebar.date_input("受理时段", (default_start, last), min_value=first, max_value=last,
                                  format="YYYY-MM-DD", key="period")
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    start = value[0] if isinstance(value, (tuple, list)) and value else default_start
    return start, start  # a range being picked: show its first day until the second is chosen


def fmt_rate(r: float | None) -> str:
    return "—" if r is None else f"{r * 100:.1f}%"


def fmt_change(now: int, before: int) -> str | None:
    if not before:
        return None
    return f"{(now - before) / before * 100:+.1f}% 环比"


def page_start(title: str) -> dict:
    """Page title, then the warehouse's meta and the demo banner; a missing warehouse stops the page with an error."""
    from dashboard import data

    st.title(title)
    try:
        meta = data.meta()
    except data.NoWarehouse as e:
        st.error(str(e))
        st.stop()
    demo_banner(meta)
    return meta


NO_CASES = "数据仓库中还没有诉求记录。用 `minqing load cases 台账.csv` 导入后刷新本页。"
NO_SHAPES = "还没有村(社区)边界。用 `minqing load areas 边界.geojson` 导入边界后即可显示地图。"


def csv_bytes(df) -> bytes:
    """CSV in UTF-8 with a byte-order mark, so Excel on a Chinese Windows desktop opens it correctly."""
    return df.to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(df, sheet: str = "Sheet1") -> bytes:
    """One-sheet XLSX built in memory, column widths fitted to the (CJK) text."""
    import io

    import pandas as pd

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        df.to_excel(xw, sheet_name=sheet, index=False)
        ws = xw.sheets[sheet]
        for i, col in enumerate(df.columns, start=1):
            texts = [str(col), *(str(v) for v in df[col].head(500))]
            width = max(sum(2 if ord(ch) > 127 else 1 for ch in t) for t in texts)
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(max(width + 2, 8), 80)
        ws.freeze_panes = "A2"
    return buf.getvalue()
