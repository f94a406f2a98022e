"""Area summaries for export (导出): one row per town or village with chosen figures, written
as CSV (UTF-8 with BOM), XLSX, GeoJSON or GeoPackage. Shared by the dashboard's 导出 page and
`minqing export`, so a file holds the same rows and numbers wherever it was made.

- Rows: every area of the level inside the filter's area (a town filter at village level: its
  villages); an area containing the filter's area is kept too (a village filter at town level:
  its town, counting only that village), as `analysis.metrics.case_metrics_by` lists them. Areas
  without cases or households have zeros (rates empty).
- Case figures: `analysis.metrics.case_metrics_by` over the filter (period, area, category,
  channel, status). An open period end is the first / last day with a case
  (`analysis.metrics.resolve_period`). Cases placed only at town level (no village) are in
  their town's row and in no village's.
- Household figures (`analysis.households`): the latest classification, by area only (households
  are not cases: the period, category, channel and status filters do not apply).
- Columns: 区划代码, the name (乡镇(街道) or 村(社区)), for villages their town, then the
  figures with their Chinese labels; geometry: the warehouse's outlines, not simplified, in
  WGS-84 (EPSG:4326); an area without an outline keeps its row with an empty geometry.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

import duckdb
import geopandas as gpd
import pandas as pd
import shapely

from analysis import households as hh
from analysis import metrics
from analysis.filters import CaseFilter
from etl import views
from etl.codes import sql_town_code, town_of, village_of

from . import formats
from .tables import csv_bytes, xlsx_bytes

LEVELS = {"town": "乡镇(街道)", "village": "村(社区)"}
FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3"}
CODE_COL, TOWN_COL = "区划代码", "乡镇(街道)"
SHEET, LAYER = "区域汇总", "区域汇总"

_NOT_AREA_FIGURES = {"resolution_rate", "score", "rank"}  # rankings only


def _bucket_keys() -> list[str]:
    return [f"overdue_{label}" for label in metrics.overdue_bucket_labels()]


def case_metric_labels() -> dict[str, str]:
    """Case figures per area (keys of case_metrics_by's columns) -> Chinese label, in display order."""
    out: dict[str, str] = {}
    for k, label in metrics.LABELS.items():
        if k in _NOT_AREA_FIGURES:
            continue
        out[k] = label
        if k == "overdue":
            out.update({b: f"超期{b.removeprefix('overdue_')}" for b in _bucket_keys()})
    return out


def household_metric_labels() -> dict[str, str]:
    """Household figures per area -> Chinese label: households, the categories (counts and
    shares) and pairing coverage of 连心户."""
    lab = hh.labels()
    cats = [t["key"] for t in hh.categories()]
    keys = ["households", *cats, *[f"{c}_share" for c in cats], "paired", "unpaired", "coverage"]
    return {k: lab[k] for k in keys}


def metric_labels() -> dict[str, str]:
    """Every figure an export can hold -> its Chinese label (case figures first)."""
    return case_metric_labels() | household_metric_labels()


def rate_labels() -> set[str]:
    """Labels of the figures that are fractions (shown as percentages: reports.formats.is_rate_column)."""
    return {label for label in metric_labels().values() if formats.is_rate_column(label)}


DEFAULT_METRICS = ("received", "closed", "closure_rate", "open", "overdue", "satisfaction_rate", "households",
                   "key_assistance_share", "coverage")


class UnknownMetric(ValueError):
    def __init__(self, item: str, expected: list[str]):
        super().__init__(f"unknown metric {item!r}; expected one of {expected}")
        self.item = item


def parse_metrics(items: Iterable[str]) -> list[str]:
    """Metric keys from keys or Chinese labels (e.g. 'received' or '受理诉求'); an unknown one
    raises ValueError naming it."""
    labels = metric_labels()
    by_label = {v: k for k, v in labels.items()}
    out: list[str] = []
    for raw in items:
        item = str(raw).strip()
        if not item:
            continue
        key = item if item in labels else by_label.get(item)
        if key is None:
            raise UnknownMetric(item, list(labels))
        if key not in out:
            out.append(key)
    return out


def _check(level: str, keys: Sequence[str]) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {list(LEVELS)}")
    labels = metric_labels()
    unknown = [k for k in keys if k not in labels]
    if unknown:
        raise ValueError(f"unknown metric {unknown[0]!r}; expected one of {list(labels)}")


def area_summary(con: duckdb.DuckDBPyConnection, flt: CaseFilter, level: str,
                 metric_keys: Sequence[str], *, household_tables: tuple[pd.DataFrame, pd.DataFrame] | None = None
                 ) -> gpd.GeoDataFrame:
    """One row per area of `level` ('town' or 'village') inside the filter's area, in code order:
    区划代码, name, (town,) the chosen figures under their Chinese labels, and the unsimplified
    outline (EPSG:4326; None where the warehouse has none).

    `household_tables`: analysis.households' category_counts and pairing_coverage for this level and
    area when the caller already has them (they do not depend on the case filters)."""
    keys = list(dict.fromkeys(metric_keys))
    _check(level, keys)
    prefix = flt.area_prefix or ""
    base = con.execute(f"""
        SELECT a.code, a.name, coalesce(t.name, '') AS town, ST_AsWKB(a.geom) AS wkb
        FROM areas a LEFT JOIN areas t ON t.level = 'town' AND t.code = {sql_town_code('a.code')}
        WHERE a.level = ? AND (starts_with(a.code, ?) OR starts_with(?, a.code))
        ORDER BY a.code""", [level, prefix, prefix]).df()
    wkb = base.pop("wkb")
    geoms = shapely.from_wkb([None if w is None or w is pd.NA else bytes(w) for w in wkb])
    df = base

    case_keys = [k for k in keys if k in case_metric_labels()]
    if case_keys:
        period = metrics.resolve_period(con, flt)
        if period is None:  # no cases at all: every figure is zero (rates empty)
            day = views.as_of(con).at.date()
            period = (day, day)
        figures = metrics.case_metrics_by(con, replace(flt, start=period[0], end=period[1]), level, measures=case_keys)
        df = df.merge(figures[["code", *case_keys]], on="code", how="left")
    hh_keys = [k for k in keys if k in household_metric_labels()]
    if hh_keys:
        cats, pair = household_tables or (hh.category_counts(con, level, area_prefix=prefix),
                                          hh.pairing_coverage(con, level, area_prefix=prefix))
        both = cats.merge(pair.drop(columns=["name"]), on="code", how="outer")
        df = df.merge(both[["code", *hh_keys]], on="code", how="left")

    labels = metric_labels()
    cols = {"code": CODE_COL, "name": LEVELS[level]}
    if level == "village":
        cols["town"] = TOWN_COL
    out = df[[*cols, *keys]].rename(columns=cols | {k: labels[k] for k in keys})
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=out.index), crs="EPSG:4326")


def notes(con: duckdb.DuckDBPyConnection, flt: CaseFilter, level: str, gdf: gpd.GeoDataFrame,
          filters_text: str | None = None) -> list[tuple[str, str]]:
    """The header of an export (XLSX sheet 说明, GeoPackage/GeoJSON description): what, which
    filters, as of when, demo or not."""
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    period = metrics.resolve_period(con, flt)
    if filters_text is None:
        filters_text = describe(con, flt)
    missing = int(gdf.geometry.isna().sum()) if len(gdf) else 0
    rows = [
        ("内容", f"{meta.get('district_full_name', '')} 按{LEVELS[level]}汇总, {len(gdf)} 个区域"),
        ("筛选条件", filters_text),
        ("诉求统计时段", f"{period[0]} 至 {period[1]}" if period else "无诉求记录"),
        ("户情指标", "最新建档状态, 只按区域筛选 (不受时段、类别、来源、状态筛选影响)"),
        ("数据截至", str(views.as_of(con).at.date())),
        ("数据性质", "演示数据 (合成, 非真实记录)" if meta.get("demo") == "true" else "实际台账数据"),
        ("边界", "统计用区划代码 2023; 坐标 WGS-84 (EPSG:4326), 未简化"
                 + (f"; {missing} 个区域无边界 (几何为空)" if missing else "")),
        ("生成时间", dt.datetime.now().strftime("%Y-%m-%d %H:%M")),
    ]
    if level == "village":
        rows.insert(3, ("说明", "仅定位到乡镇(街道)的诉求不计入任何村(社区)"))
    return rows


def describe(con: duckdb.DuckDBPyConnection, flt: CaseFilter) -> str:
    """The filters in words (as the dashboard's sidebar describes them)."""
    area = ""
    if flt.area_prefix:  # its town, and its village if it is one
        names = dict(con.execute("SELECT code, name FROM areas WHERE starts_with(?, code)", [flt.area_prefix]).fetchall())
        area = " · ".join(names.get(c, c) for c in (town_of(flt.area_prefix), village_of(flt.area_prefix)) if c)
    return flt.describe(area)


def file_name(level: str, period: tuple[dt.date, dt.date] | None, area: str, fmt: str, demo: bool = False) -> str:
    """E.g. 区域汇总_村(社区)_2025-11-01至2026-10-31_汉滨区_演示数据.gpkg (no path separators)."""
    parts = ["区域汇总", LEVELS.get(level, level)]
    if period:
        parts.append(f"{period[0]}至{period[1]}")
    parts.append(area or "全区")
    if demo:
        parts.append("演示数据")
    return f"{safe_name('_'.join(parts))}.{fmt}"


def safe_name(name: str, also: str = "") -> str:
    """`name` fit for a file name on any system: the characters Windows refuses (and `also`)
    become '_', runs of '_' one."""
    for ch in '/\\:*?"<>|' + also:
        name = name.replace(ch, "_")
    return re.sub("_+", "_", name).strip("_")


def to_bytes(gdf: gpd.GeoDataFrame, fmt: str, notes: Sequence[tuple[str, str]] = ()) -> bytes:
    """The summary as a file: csv (UTF-8 with BOM, no geometry) and xlsx (sheet 区域汇总, notes on
    sheet 说明) as the page shows it (rates in percent, codes as text: reports/tables.py), geojson
    or gpkg (layer 区域汇总, notes as its description) with the numbers as they are (rates as fractions)."""
    if fmt == "csv":
        return csv_bytes(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
    if fmt == "xlsx":
        return _xlsx(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), notes)
    if fmt in ("geojson", "gpkg"):
        return _vector(gdf, fmt, notes)
    raise ValueError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")


def _xlsx(df: pd.DataFrame, notes: Sequence[tuple[str, str]]) -> bytes:
    return xlsx_bytes(df, SHEET, notes=notes, percent_columns=rate_labels())


def _vector(gdf: gpd.GeoDataFrame, fmt: str, notes: Sequence[tuple[str, str]]) -> bytes:
    import pyogrio

    out = gdf.to_crs("EPSG:4326") if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    if out.crs is None:
        out = out.set_crs("EPSG:4326")
    description = "; ".join(f"{k}: {v}" for k, v in notes)
    buf = io.BytesIO()
    kw: dict = {}
    if fmt == "gpkg":
        kw["layer_options"] = {"IDENTIFIER": LAYER, **({"DESCRIPTION": description[:500]} if description else {})}
    elif description:
        kw["layer_options"] = {"DESCRIPTION": description}
    pyogrio.write_dataframe(out, buf, layer=LAYER, driver="GeoJSON" if fmt == "geojson" else "GPKG",
                            promote_to_multi=True, geometry_type="MultiPolygon", **kw)
    return buf.getvalue()
