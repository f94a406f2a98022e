"""总览: the trend's months, the categories or channels chart, and the village map with its table."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd

from analysis import metrics
from analysis.filters import DOMAIN_LABELS
from etl import settings
from reports import formats

MAP_FIGURES = {"received": "受理诉求", "per_1000": "每千户诉求", "open": "未办结", "overdue": "超期未办结",
               "closure_rate": "办结率(%)", "satisfaction_rate": "满意率(%)"}


def months(by_month: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Received and closed per month of [start, end] (data.metrics_by(..., "month")), every month of
    the period listed, empty ones as 0 (the backlog's earlier months are left out)."""
    period = pd.period_range(start, end, freq="M").strftime("%Y-%m")
    return (by_month.set_index("month").reindex(period).fillna({"received": 0, "closed": 0})
            .rename_axis("month").reset_index())


def groups(by_group: pd.DataFrame, by: str) -> pd.DataFrame:
    """The categories or channels (`by`) with a case received, most first."""
    df = by_group.sort_values("received", ascending=False)
    return df[df["received"] > 0]


def tooltip(figure: str, level: str) -> dict[str, str]:
    """The map's tooltip fields (column -> label): the area, its town, received, open and the
    chosen figure (a rate as text, as every page shows it)."""
    unit = LEVEL_NAMES[level]
    shown = f"{figure}_text" if figure.endswith("_rate") else figure
    out = {"name": unit, "town": "乡镇(街道)", "received": "受理诉求", "open": "未办结",
           shown: MAP_FIGURES[figure].removesuffix("(%)")}
    if level == "town":
        out.pop("town")
    return out


def groups_table(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """`groups` as the download shows them: the group, received, closed, open, overdue in Chinese."""
    return rows[[by, "received", "closed", "open", "overdue"]].rename(
        columns=metrics.LABELS | {by: DOMAIN_LABELS[by]})


LEVEL_NAMES = {"village": "村(社区)", "town": "乡镇(街道)"}


def map_level(villages: int, towns: int, limit: int | None = None) -> str:
    """The level the map draws, from the number of outlined villages and towns in the area on
    screen: the villages; the towns when only towns have outlines (the map still works, one
    level up) or when there are more villages than `limit` (setting map_max_villages: level of
    detail, so a province opens on its towns and shows a town's villages once it is chosen)."""
    return "town" if towns and (villages == 0 or too_many_villages(villages, limit)) else "village"


def too_many_villages(villages: int, limit: int | None = None) -> bool:
    """Whether a map of `villages` areas would be too heavy for one page (setting map_max_villages);
    pages that only draw villages then ask for a town first."""
    return villages > (int(settings.get("map_max_villages")) if limit is None else limit)


def village_map(shapes: gpd.GeoDataFrame, figs: pd.DataFrame, figure: str) -> gpd.GeoDataFrame:
    """Village outlines with their figures (data.area_figures of the villages): per_1000 to one
    decimal, the rates in percent to one decimal (the colour) and as text ('96.2%', <rate>_text: the
    tooltip), and `figure` (a key of MAP_FIGURES) 0 where missing."""
    keep = ["code", "received", "closed", "open", "overdue", "closure_rate", "satisfaction_rate", "households", "per_1000"]
    gdf = shapes.merge(figs[keep], on="code", how="left")
    gdf["per_1000"] = gdf["per_1000"].round(1)
    for r in ("closure_rate", "satisfaction_rate"):
        gdf[f"{r}_text"] = gdf[r].map(formats.rate)
        gdf[r] = (gdf[r] * 100).round(1)
    gdf[figure] = gdf[figure].fillna(0)
    return gdf


def village_table(gdf: gpd.GeoDataFrame, level: str = "village") -> pd.DataFrame:
    """The map's areas as a table: town and village (or the town alone at `level` town), code, the
    four counts, per 1,000 households."""
    places = {"乡镇(街道)": gdf["name"]} if level == "town" else {"乡镇(街道)": gdf["town"], "村(社区)": gdf["name"]}
    return pd.DataFrame({**places, "区划代码": gdf["code"],
                         **{metrics.LABELS[k]: gdf[k] for k in ("received", "closed", "open", "overdue")},
                         "每千户诉求": gdf["per_1000"]})
