"""未办结: the backlog per area, the aging of overdue cases, the tier and escalation tables, the
overdue list and 三不结案, from what dashboard.data returns (analysis.metrics, analysis.case_lists)."""

from __future__ import annotations

import pandas as pd

from analysis import metrics
from analysis.case_lists import OVERDUE_COLUMNS
from reports import formats

TIERS = {1: "一级: 驻点干部当场化解", 2: "二级: 街道/社区限时化解", 3: "三级: 区领导牵头部门会商", 4: "四级: 每月25日调度会"}
LEVELS = {"village": "村级问题库", "town": "镇级问题库", "district": "区级问题库"}


def area_measures() -> tuple[str, ...]:
    """The figures per area both area tables need (one data.metrics_by for the two)."""
    return ("open", "overdue", *(f"overdue_{b}" for b in metrics.overdue_bucket_labels()), "closed", "violations",
            "violations_opinion", "violations_followup", "violations_signature", "violation_rate")


def overdue_share(s: dict) -> str:
    """Overdue among open cases of a case_summary, in percent ('—' with nothing open)."""
    return formats.rate(s["overdue"] / s["open"] if s["open"] else None)


def backlog_table(areas: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Areas with open cases: open, overdue and overdue per aging bucket, most overdue first."""
    table = pd.DataFrame({
        unit: areas["name"], "未办结": areas["open"], "超期未办结": areas["overdue"],
        **{f"超期{b}": areas[f"overdue_{b}"] for b in metrics.overdue_bucket_labels()},
    }).sort_values(["超期未办结", "未办结"], ascending=False)
    return table[table["未办结"] > 0]


def ages(s: dict) -> pd.DataFrame:
    """Overdue cases per aging bucket (超期时长, 件数) of a case_summary."""
    buckets = metrics.overdue_bucket_labels()
    return pd.DataFrame({"超期时长": buckets, "件数": [s["overdue_buckets"][b] for b in buckets]})


def group_table(g: pd.DataFrame, by: str, title: str) -> pd.DataFrame:
    """data.metrics_by(..., 'tier' or 'escalation') with the tier or level named (TIERS, LEVELS)."""
    names = TIERS if by == "tier" else LEVELS
    key = "escalation_level" if by == "escalation" else by
    return pd.DataFrame({title: g[key].map(lambda v: names.get(v, str(v))), "受理诉求": g["received"],
                         "已办结": g["closed"], "办结率": g["closure_rate"], "未办结": g["open"],
                         "超期未办结": g["overdue"]})


def overdue_listing(overdue: pd.DataFrame) -> pd.DataFrame:
    """analysis.case_lists.overdue_cases with Chinese headers and the tier and level named (the
    columns a role does not see are absent from `overdue`, and from the listing)."""
    listing = overdue.rename(columns=OVERDUE_COLUMNS)[[v for k, v in OVERDUE_COLUMNS.items() if k in overdue.columns]]
    listing["化解层级"] = overdue["tier"].map(TIERS).fillna("")
    listing["升级层级"] = overdue["escalation_level"].map(LEVELS).fillna("")
    return listing


def violations_table(v: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Areas with closed cases: 三不结案 violations by kind and their rate (a fraction), most first."""
    vt = pd.DataFrame({unit: v["name"], "已办结": v["closed"], "违反三不结案": v["violations"],
                       "无办理意见": v["violations_opinion"], "无回访记录": v["violations_followup"],
                       "缺签字": v["violations_signature"], "违规率": v["violation_rate"]})
    return vt[vt["已办结"] > 0].sort_values("违反三不结案", ascending=False)
