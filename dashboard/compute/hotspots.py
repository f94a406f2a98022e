"""热点地图: the frames drawn by each method and the tables of significant areas and cells, from
the analyses dashboard.data returns (analysis.hotspots)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from dashboard.maps import hex_polygons
from geo.emerging import CATEGORY_LABELS
from geo.getis_ord import CLASS_LABELS
from geo.moran import LISA_LABELS

HOT = ["hot_99", "hot_95", "hot_90"]
# Per village method: the column drawn, its labels, and the values listed under the map (hot or high).
METHODS = {"gi": ("class", CLASS_LABELS, HOT), "lisa": ("lisa", LISA_LABELS, ["HH", "HL"]),
           "emerging": ("category", CATEGORY_LABELS, [k for k in CATEGORY_LABELS if k.endswith("_hot")])}
# One Gi* test per month (geo.emerging): significant at 95% after FDR, or not.
MONTH_CLASS = {"hot": "hot_95", "cold": "cold_95", "none": "not_significant"}


def village_frame(shapes: gpd.GeoDataFrame, hs: pd.DataFrame, lisa: bool = False) -> tuple[gpd.GeoDataFrame, str]:
    """Village outlines with cases, households, the smoothed rate (one decimal), the Gi* class
    (and the LISA cluster) of data.area_hotspots, and what was tested, in words."""
    tested = "每千户诉求率(经标准化)" if hs.attrs.get("value", "rate") == "rate" else "诉求件数(尚未导入户数, 无法计算比率)"
    gdf = shapes.merge(hs[["area_code", "cases", "households", "rate_eb", "class", *(["lisa"] if lisa else [])]],
                       left_on="code", right_on="area_code", how="left")
    gdf["rate_eb"] = gdf["rate_eb"].round(1)
    return gdf, tested


def labelled(gdf: gpd.GeoDataFrame, method: str, emerging: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """`village_frame` with the label of the method's column (METHODS); for 'emerging' the category
    of each village joined from `emerging` (data.emerging's categories) first."""
    column, labels, _ = METHODS[method]
    if method == "emerging":
        gdf = gdf.merge(emerging[["area_code", "category"]].rename(columns={"area_code": "code"}), on="code", how="left")
    gdf["label"] = gdf[column].map(labels).fillna("无数据")
    return gdf


def significant_villages(gdf: gpd.GeoDataFrame, method: str) -> pd.DataFrame:
    """The villages of `labelled` listed for the method (hot or high, METHODS), most cases first,
    as the table under the map shows them."""
    column, _, keys = METHODS[method]
    sig = gdf[gdf[column].isin(keys)].sort_values(["cases"], ascending=False)
    return pd.DataFrame({"乡镇(街道)": sig["town"], "村(社区)": sig["name"], "区划代码": sig["code"], "分类": sig["label"],
                         "诉求件数": sig["cases"].astype("Int64"), "户数": sig["households"].astype("Int64"),
                         "每千户诉求(平滑)": sig["rate_eb"]})


def month_counts(bins: pd.DataFrame) -> pd.DataFrame:
    """Hot and cold villages per month of the monthly Gi* bins (data.emerging), Chinese headers."""
    counts = (bins.assign(n_hot=bins["class"] == "hot", n_cold=bins["class"] == "cold")
              .groupby("bin")[["n_hot", "n_cold"]].sum())
    return counts.rename(columns={"n_hot": "热点村(社区)数", "n_cold": "冷点村(社区)数"})


def month_frame(shapes: gpd.GeoDataFrame, bins: pd.DataFrame, month: str) -> gpd.GeoDataFrame:
    """Village outlines with one month's count (value), z (two decimals) and class: gi (a Gi* class
    key, MONTH_CLASS) and label."""
    b = bins[bins["bin"].astype(str) == month]
    gdf = shapes.merge(b[["location", "value", "Zs", "class"]].rename(columns={"location": "code"}), on="code", how="left")
    gdf["gi"] = gdf["class"].map(MONTH_CLASS)
    gdf["label"] = gdf["gi"].map(CLASS_LABELS).fillna("无数据")
    gdf["value"] = gdf["value"].astype("Int64")
    gdf["Zs"] = gdf["Zs"].round(2)
    return gdf


def month_table(gdf: gpd.GeoDataFrame, month: str) -> pd.DataFrame:
    """The month's hot and cold villages (hot first, most cases first)."""
    sig = gdf[gdf["gi"].isin(["hot_95", "cold_95"])].sort_values(["gi", "value"], ascending=[False, False])
    return pd.DataFrame({"月份": month, "乡镇(街道)": sig["town"], "村(社区)": sig["name"], "区划代码": sig["code"],
                         "分类": sig["label"], "当月诉求件数": sig["value"], "Gi* z 值": sig["Zs"]})


def hex_frame(hx: pd.DataFrame) -> gpd.GeoDataFrame:
    """The cells of data.hex_hotspots worth drawing (a case, or significant: empty quiet cells are
    half a grid's weight on the page) as hexagons with label, value (int) and z (two decimals)."""
    drawn = hx[(hx["value"] > 0) | (hx["class"] != "not_significant")]
    gdf = gpd.GeoDataFrame(drawn, geometry=hex_polygons(drawn["h3"]), crs="EPSG:4326")
    gdf["label"] = gdf["class"].map(CLASS_LABELS).fillna("无数据")
    gdf["value"] = gdf["value"].astype(int)
    gdf["z"] = gdf["z"].round(2)
    return gdf


def hex_table(cells: gpd.GeoDataFrame, centres: pd.DataFrame) -> pd.DataFrame:
    """The significant cells of `hex_frame` (hot first, most cases first) with their centre and its
    town (`centres`: data.cell_centres of those cells)."""
    sig = cells[cells["class"] != "not_significant"]
    sig = sig.merge(centres, on="h3", how="left").sort_values(["class", "value"], ascending=[False, False])
    return pd.DataFrame({"H3 编号": sig["h3"], "中心所在乡镇(街道)": sig["town"].fillna(""),
                         "中心纬度": sig["lat"], "中心经度": sig["lon"], "分类": sig["label"],
                         "有坐标的诉求件数": sig["value"], "Gi* z 值": sig["z"]}).reset_index(drop=True)


def coverage_table(cov: pd.DataFrame) -> pd.DataFrame:
    """data.point_coverage per town: cases, those with a point and their share (text, one decimal)."""
    return pd.DataFrame({"乡镇(街道)": cov["name"], "区划代码": cov["code"], "诉求件数": cov["cases"].astype(int),
                         "有坐标": cov["with_point"].astype(int),
                         "有坐标占比": cov["with_point"] / cov["cases"]})
