"""Figures and their changes (环比/同比) in words, as the cards and tables of 总览 and 区域档案 show
them, from analysis.metrics.case_summary."""

from __future__ import annotations

import pandas as pd

from analysis import metrics
from reports import formats

# The 环比/同比 table of 区域档案: (figure, is a rate).
CHANGE_ROWS = (("received", False), ("closed", False), ("closure_rate", True), ("on_time_rate", True),
               ("response_rate", True), ("satisfaction_rate", True), ("followup_rate", True), ("violations", False),
               ("repeat", False), ("level_skipping", False), ("multichannel", False), ("group_petitions", False))


fmt_rate = formats.rate  # a rate as every page shows it (reports/formats.py)


def value_text(v, rate: bool) -> str:
    """A figure as shown: a rate by formats.rate, a count with separators."""
    return formats.rate(v) if rate else formats.count(v)


def change_text(c: dict, rate: bool) -> str | None:
    """The 环比 of one figure (an entry of case_summary's `changes`): percentage points for a rate,
    percent for a count; None when there is no previous value to compare with."""
    if c["pop_change"] is None:
        return None
    if rate:
        return f"{formats.points(c['pop_change'])} 环比"
    return None if c["pop_pct"] is None else f"{formats.change_pct(c['pop_pct'])} 环比"


def unchanged(c: dict, rate: bool) -> bool:
    """The figure did not move since the previous period (less than 0.05 points, or half a case)."""
    return c["pop_change"] is not None and abs(c["pop_change"]) < (0.0005 if rate else 0.5)


def last_year_text(c: dict, rate: bool) -> str:
    """'去年同期 ...' with the 同比 change, for a card's help."""
    if c["last_year"] is None:
        return "去年同期无数据"
    if rate:
        change = "" if c["yoy_change"] is None else f", 同比 {formats.points(c['yoy_change'])}"
    else:
        change = "" if c["yoy_pct"] is None else f", 同比 {formats.change_pct(c['yoy_pct'])}"
    return f"去年同期 {value_text(c['last_year'], rate)}{change}"


def change_table(s: dict) -> pd.DataFrame:
    """The 环比/同比 table of a `case_summary(..., compare=True)`: one row per CHANGE_ROWS figure."""
    p, ch = s["periods"], s["changes"]

    def yoy(c: dict, rate: bool) -> str:
        if c["yoy_change"] is None or (not rate and c["yoy_pct"] is None):
            return "—"
        return formats.points(c["yoy_change"]) if rate else formats.change_pct(c["yoy_pct"])

    return pd.DataFrame([{
        "指标": metrics.LABELS[k], f"本期 ({p['current'][0]}~{p['current'][1]})": value_text(s[k], r),
        f"上期 ({p['previous'][0]}~{p['previous'][1]})": value_text(ch[k]["previous"], r),
        "环比": (change_text(ch[k], r) or "—").replace(" 环比", ""),
        f"去年同期 ({p['last_year'][0]}~{p['last_year'][1]})": value_text(ch[k]["last_year"], r),
        "同比": yoy(ch[k], r),
    } for k, r in CHANGE_ROWS])
