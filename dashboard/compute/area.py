"""区域档案: where the area sits, its cases per 1,000 households against the district's, its hot
spot and 五必去 summaries, the trend lines, and the rows of its tables and map, from what
dashboard.data returns (the cards' changes in words: dashboard.compute.changes)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from analysis.filters import DOMAIN_LABELS, CaseFilter
from dashboard.compute import must_visit
from dashboard.compute.hotspots import HOT
from geo.getis_ord import CLASS_LABELS
from geo.moran import LISA_LABELS

LEVEL_NAMES = {"district": "区(县)", "town": "乡镇(街道)", "village": "村(社区)"}


@dataclass(frozen=True)
class Place:
    """The area a filter points at: level ('district', 'town', 'village'), code ('' the district),
    name, the district's code and name, the breadcrumb (code, label) from the district down, and
    what it contains (towns of the district or villages of the town, code -> name)."""
    level: str
    code: str
    name: str
    district_code: str
    district_name: str
    trail: tuple[tuple[str, str], ...]
    children: dict[str, str]

    def caption(self, filters_text: str) -> str:
        """The line under the header: level, code, what it contains, the filters."""
        unit = {"district": "个乡镇(街道)", "town": "个村(社区)"}.get(self.level)
        parts = [LEVEL_NAMES[self.level], f"区划代码 {self.code or self.district_code}",
                 f"下辖 {len(self.children)} {unit}" if unit else "", filters_text]
        return " · ".join(p for p in parts if p)


def place(flt: CaseFilter, meta: dict, towns: dict[str, str], town_villages: dict[str, str]) -> Place:
    """The Place of the filter's area; `town_villages`: the villages of the filter's town ({} without one)."""
    level = "village" if flt.village else "town" if flt.town else "district"
    code = flt.area_prefix
    district_name = meta.get("district_name", "") or "全区"
    name = {"district": district_name, "town": towns.get(flt.town or "", code),
            "village": town_villages.get(flt.village or "", code)}[level]
    trail = [("", district_name)] + ([(flt.town, towns.get(flt.town, flt.town))] if flt.town else []) \
        + ([(flt.village, name)] if flt.village else [])
    children = {"district": towns, "town": town_villages, "village": {}}[level]
    return Place(level, code, name, meta.get("district_code", ""), district_name, tuple(trail), children)


def picker(here: Place, near: pd.DataFrame | None) -> tuple[dict[str, str], str, str]:
    """(options code -> label, label, placeholder) of the picker: the towns of the district, the
    villages of a town, or a village's neighbours (`near`: data.area_neighbours, named with their town)."""
    if here.level == "village":
        options = dict(zip(near["code"], near["name"] + near["town"].map(lambda t: f" ({t})" if t else "")))
        return options, "切换到相邻村(社区)", "选择相邻村(社区)" if options else "没有相邻村(社区)的边界数据"
    if here.level == "district":
        return here.children, "查看下辖乡镇(街道)", "选择乡镇(街道)"
    return here.children, "查看下辖村(社区)", "选择村(社区)"


# ---------------------------------------------------------------------------- figures

def per_1000(rows: pd.DataFrame, level: str) -> tuple[float | None, float | None]:
    """(the area's, the district's) cases per 1,000 households, read from the comparison rows
    (data.area_comparison): the area's own row or, for the district, its total row; the
    district's from its total or average row (both are the district's rate). None without households."""
    def rate(role: str) -> float | None:
        row = rows[rows["role"] == role]
        return None if row.empty or pd.isna(row["per_1000"].iloc[0]) else float(row["per_1000"].iloc[0])

    district = rate("district_total" if level == "district" else "district_mean")
    return (district if level == "district" else rate("self")), district


# ---------------------------------------------------------------------------- hot spots and 五必去

def hot_spots(villages: pd.DataFrame, towns: pd.DataFrame, here: Place) -> dict:
    """What the hot-spot cards show, from data.area_hotspots of the villages and (but for a
    village) the towns: villages (inside the area) and hot_villages (Gi* hot at 90% or more);
    for a village its class and lisa; for a town its class; for the district hot_towns."""
    inside = villages[villages["area_code"].str.startswith(here.code)]
    out = {"villages": len(inside), "hot_villages": int(inside["class"].isin(HOT).sum())}
    if here.level == "village":
        me = inside[inside["area_code"] == here.code]
        out["class"] = me["class"].iloc[0] if len(me) else None
        out["lisa"] = me["lisa"].iloc[0] if len(me) and "lisa" in me else None
    elif here.level == "town":
        me = towns[towns["area_code"] == here.code]
        out["class"] = me["class"].iloc[0] if len(me) else None
    else:
        out["hot_towns"] = int(towns["class"].isin(HOT).sum()) if len(towns) else None
    return out


def class_label(cls) -> str:
    return CLASS_LABELS.get(cls, "无数据")


def lisa_label(cls) -> str:
    return LISA_LABELS.get(cls, "无数据")


def village_flags(mv: pd.DataFrame, code: str, labels: dict[str, str]) -> pd.DataFrame:
    """The village's 五必去 flags (标记) with their reasons (原因), from analysis.must_visit's rows."""
    me = mv[mv["area_code"] == code] if not mv.empty else mv
    flags = list(me["flags"].iloc[0]) if len(me) else []
    reasons = list(me["reasons"].iloc[0]) if len(me) else []
    return pd.DataFrame({"标记": [labels.get(f, f) for f in flags], "原因": reasons})


def visit_list(mv: pd.DataFrame, code: str, labels: dict[str, str]) -> pd.DataFrame:
    """The flagged villages inside the area ('' the district), in must_visit's order of priority."""
    flagged = must_visit.flagged(mv, prefix=code)
    if flagged.empty:
        return pd.DataFrame(columns=["乡镇(街道)", "村(社区)", "五必去标记", "原因", "优先得分"])
    return pd.DataFrame({"乡镇(街道)": flagged["town"].to_numpy(), "村(社区)": flagged["name"].to_numpy(),
                         "五必去标记": flagged["flags"].map(lambda fs: must_visit.flag_text(fs, labels)).to_numpy(),
                         "原因": flagged["reasons"].map("; ".join).to_numpy(), "优先得分": flagged["score"].to_numpy()})


# ---------------------------------------------------------------------------- trend, breakdown, map, tables

def can_compare_per_1000(monthly: pd.DataFrame, level: str) -> bool:
    """The trend can be drawn per 1,000 households against the district: an area below the
    district whose households and the district's are both known (data.area_monthly)."""
    homes = monthly.groupby("scope")["households"].first()
    return level != "district" and homes.get("area", 0) > 0 and homes.get("district", 0) > 0


def trend_lines(monthly: pd.DataFrame, here: Place, unit: str) -> list[dict]:
    """The trend chart's lines (name, x, y, colour, dash, width) from data.area_monthly, per 1,000
    households (`unit` 'per_1000') or in cases ('count'); a count of the district is not drawn
    beside an area's (the area's line would be lost at the bottom)."""
    scopes = {"area": here.name, "district": f"全区({here.district_name})"} if here.level != "district" \
        else {"district": here.district_name}
    lines = []
    for scope, label in scopes.items():
        if unit == "count" and scope == "district" and here.level != "district":
            continue
        part = monthly[monthly["scope"] == scope]
        dash = "dash" if scope == "district" and here.level != "district" else "solid"
        for k, what, colour, width in (("received", "受理", "#3182bd", 4), ("closed", "已办结", "#31a354", 1.5)):
            y = part[f"{k}_per_1000"].round(2) if unit == "per_1000" else part[k]
            lines.append({"name": f"{label} {what}", "x": part["month"], "y": y, "colour": colour, "dash": dash,
                          "width": width})
    return lines


BREAKDOWN_LABELS = {d: DOMAIN_LABELS[d] for d in ("category", "channel")}


def breakdown_table(groups: pd.DataFrame, by: str) -> pd.DataFrame:
    """data.area_breakdown with Chinese headers (shares and closure rate as fractions)."""
    return pd.DataFrame({BREAKDOWN_LABELS[by]: groups[by], "受理诉求": groups["received"], "占比": groups["share"],
                         "已办结": groups["closed"], "办结率": groups["closure_rate"],
                         "全区受理": groups["district_received"], "全区占比": groups["district_share"]})


def map_frame(shapes: gpd.GeoDataFrame, figs: pd.DataFrame, level: str) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """The outlines of the map's areas with received, households and per 1,000 households from
    data.area_figures (per_1000_fill: 0 without households; per_1000_show: one decimal or '—'),
    and the tooltip's fields."""
    gdf = shapes.merge(figs.drop(columns=["name", "town"]), on="code", how="left")
    gdf["per_1000_fill"] = gdf["per_1000"].fillna(0)
    gdf["per_1000_show"] = gdf["per_1000"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}")
    gdf["received"] = gdf["received"].fillna(0).astype(int)
    gdf["households"] = gdf["households"].fillna(0).astype(int)
    head = {"name": LEVEL_NAMES["town" if level == "district" else "village"]}
    if level != "district":
        head["town"] = "乡镇(街道)"
    return gdf, {**head, "received": "受理诉求", "households": "户数", "per_1000_show": "每千户诉求"}


def role_names(level: str) -> dict[str, str]:
    """The 类型 column's words for the comparison rows' roles."""
    return {"self": f"本{'村(社区)' if level == 'village' else '乡镇(街道)'}", "neighbour": "相邻", "child": "下辖",
            "town_mean": "所属乡镇平均", "district_mean": "全区平均", "district_total": "全区合计"}


def figures_table(t: pd.DataFrame, row_level: str, level: str, hot: pd.DataFrame | None) -> pd.DataFrame:
    """Rows of data.area_figures / area_comparison as shown: Chinese headers, rates as fractions
    (shown in percent by dashboard.ui.table and the downloads),
    counts of average rows to one decimal, the Gi* class of each area from `hot`
    (data.area_hotspots of the rows' level; None or empty: no column)."""
    role = t["role"] if "role" in t else pd.Series("", index=t.index)
    is_avg = role.isin(["town_mean", "district_mean"])
    ranked = t["ranked"].fillna(0).astype(int)

    def count(col):
        return t[col].where(~is_avg, t[col].round(1))

    out = pd.DataFrame({
        **({"类型": role.map(role_names(level))} if "role" in t else {}),
        LEVEL_NAMES[row_level]: t["name"],
        **({"所属乡镇(街道)": t["town"]} if row_level == "village" else {}),
        "受理诉求": count("received"), "户数": count("households"), "每千户诉求": t["per_1000"].round(1),
        "每千户诉求排名": [f"{int(r)}/{n}" if pd.notna(r) else "—" for r, n in zip(t["per_1000_rank"], ranked)],
        "办结率": t["closure_rate"], "满意率": t["satisfaction_rate"],
        "未办结": count("open"), "超期未办结": count("overdue"), "连心户占比": t["key_share"],
    })
    if hot is not None and len(hot) and "class" in hot:
        out["热点分类"] = t["code"].map(dict(zip(hot["area_code"], hot["class"].map(CLASS_LABELS)))) \
            .where(~role.isin(["town_mean", "district_mean", "district_total"]), "").fillna("")
    out["区划代码"] = t["code"]
    return out
