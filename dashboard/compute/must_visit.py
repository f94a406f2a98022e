"""五必去 (and the 五必去 part of 区域档案): the flagged villages, the visit plan, its map, from
analysis.must_visit's rows (area_code, name, town, flags, reasons, score, households, cases, overdue,
rate_eb)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd


def flag_text(flags, labels: dict[str, str]) -> str:
    """Flags in words, e.g. '特困村、边远村' (`labels`: flag key -> label)."""
    return "、".join(labels.get(f, f) for f in flags)


def flagged(mv: pd.DataFrame, chosen=None, prefix: str = "") -> pd.DataFrame:
    """The villages with at least one flag (of `chosen`, any flag when None) inside the area
    `prefix` ('' the district), in must_visit's order of priority."""
    if mv.empty:
        return mv
    keep = mv["flags"].map(len) > 0 if chosen is None else mv["flags"].map(lambda fs: any(f in chosen for f in fs))
    return mv[keep & mv["area_code"].str.startswith(prefix)]


def flag_counts(rows: pd.DataFrame, labels: dict[str, str]) -> dict[str, int]:
    """Villages of `rows` with each flag: label -> count, in the order of `labels`."""
    return {label: int(rows["flags"].map(lambda fs, k=key: k in fs).sum()) for key, label in labels.items()}


def visit_plan(rows: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The visit plan as shown and downloaded: numbered rows in priority order with flags, reasons,
    score, then the tie-breaks (overdue cases, recent cases per 1,000 households), households and
    cases (analysis.must_visit.ORDER)."""
    return pd.DataFrame({
        "序号": range(1, len(rows) + 1),
        "乡镇(街道)": rows["town"].to_numpy(),
        "村(社区)": rows["name"].to_numpy(),
        "区划代码": rows["area_code"].to_numpy(),
        "五必去标记": rows["flags"].map(lambda fs: flag_text(fs, labels)).to_numpy(),
        "原因": rows["reasons"].map("; ".join).to_numpy(),
        "优先得分": rows["score"].to_numpy(),
        "超期未办结": rows["overdue"].to_numpy(),
        "每千户诉求(平滑)": rows["rate_eb"].round(1).to_numpy(),
        "户数": rows["households"].to_numpy(),
        "诉求件数": rows["cases"].to_numpy(),
    })


def plan_map_frame(shapes: gpd.GeoDataFrame, plan: pd.DataFrame) -> gpd.GeoDataFrame:
    """Village outlines with the plan's score and flags (0 and '' for villages not in the plan)."""
    listed = plan.set_index("区划代码")
    return shapes.assign(score=shapes["code"].map(listed["优先得分"]).fillna(0.0),
                         flags=shapes["code"].map(listed["五必去标记"]).fillna(""))
