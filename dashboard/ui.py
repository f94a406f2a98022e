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
