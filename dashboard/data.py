"""The dashboard's only door to the warehouse: one read-only DuckDB connection per
process and cached queries keyed by their filters. Pages call these functions and
never open connections or write SQL themselves."""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from etl import metrics, settings
from etl.db import REPO_ROOT, connect


class NoWarehouse(RuntimeError):
    """The warehouse file named by MINQING_DB does not exist or is not a warehouse."""


def db_path() -> Path:
    return Path(os.environ.get("MINQING_DB") or REPO_ROOT / str(settings.get("db")))


def _version() -> tuple[str, float]:
    """Cache key of the warehouse: its path and modification time (a load swaps the file)."""
    p = db_path()
    if not p.exists():
        raise NoWarehouse(f"找不到数据仓库 {p}。请先运行 `make run`(自动生成演示数据) 或 `minqing --db {p} init --district 代码`。")
    return str(p), p.stat().st_mtime


class _Holder:
    """The process's one read-only connection, reopened when a load swaps the file in.

    DuckDB shares one instance per file in a process, so the old connection is closed
    before the new one opens (otherwise the new one would see the old file)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[str, float] | None = None
        self.con = None

    def get(self, path: str, mtime: float):
        with self.lock:
            if self.key != (path, mtime):
                if self.con is not None:
                    self.con.close()
                    self.con = None
                self.con = connect(path, read_only=True)
                self.key = (path, mtime)
            return self.con.cursor()  # a cursor per query: safe across Streamlit's threads


@st.cache_resource
def _holder() -> _Holder:
    return _Holder()


def _con():
    path, mtime = _version()
    try:
        return _holder().get(path, mtime)
    except Exception as e:  # a damaged or foreign file
        raise NoWarehouse(f"无法打开数据仓库 {path}: {e}") from None


@st.cache_data(show_spinner=False)
def _meta(path: str, mtime: float) -> dict:
    return dict(_con().execute("SELECT key, value FROM meta").fetchall())


def meta() -> dict:
    return _meta(*_version())


def is_demo() -> bool:
    return meta().get("demo") == "true"


@st.cache_data(show_spinner=False)
def _period(path: str, mtime: float):
    return metrics.case_period(_con())


def case_period() -> tuple[dt.date, dt.date] | None:
    return _period(*_version())


@st.cache_data(show_spinner=False)
def _kpis(path: str, mtime: float, start: dt.date, end: dt.date, prefix: str) -> dict:
    return metrics.case_kpis(_con(), start, end, prefix)


def kpis(start: dt.date, end: dt.date, prefix: str = "") -> dict:
    return _kpis(*_version(), start, end, prefix)


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before [start, end]."""
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


@st.cache_data(show_spinner=False)
def _village_cases(path: str, mtime: float, start: dt.date, end: dt.date) -> pd.DataFrame:
    rows = metrics.cases_by_village(_con(), start, end)
    return pd.DataFrame(rows, columns=["code", "cases", "open"])


def village_cases(start: dt.date, end: dt.date) -> pd.DataFrame:
    return _village_cases(*_version(), start, end)


@st.cache_data(show_spinner=False)
def _village_shapes(path: str, mtime: float) -> gpd.GeoDataFrame:
    """Village outlines simplified as one coverage, so neighbours keep shared borders."""
    df = _con().execute("""
        SELECT v.code, v.name, t.name AS town, ST_AsWKB(v.geom) AS wkb
        FROM areas v LEFT JOIN areas t ON t.code = v.parent_code
        WHERE v.level = 'village' AND v.geom IS NOT NULL ORDER BY v.code""").df()
    geoms = shapely.from_wkb(df.pop("wkb").map(bytes))
    if len(geoms):
        geoms = shapely.coverage_simplify(geoms, tolerance=0.0004)
    return gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4326")


def village_map_data(start: dt.date, end: dt.date) -> gpd.GeoDataFrame:
    """Village shapes with case counts (text not escaped: dashboard.maps escapes what it renders)."""
    shapes = _village_shapes(*_version())
    return shapes.merge(village_cases(start, end), on="code", how="left").fillna({"cases": 0, "open": 0})


@st.cache_data(show_spinner=False)
def _town_level_cases(path: str, mtime: float, start: dt.date, end: dt.date) -> int:
    return _con().execute(
        """SELECT count(*) FROM cases c JOIN areas a ON a.code = c.area_code
           WHERE a.level <> 'village' AND c.received_at::DATE BETWEEN ? AND ?""", [start, end]).fetchone()[0]


def town_level_cases(start: dt.date, end: dt.date) -> int:
    """Cases placed only at town level (no usable point or village): on no village of the map."""
    return _town_level_cases(*_version(), start, end)


@st.cache_data(show_spinner=False)
def _district_bounds(path: str, mtime: float) -> list[list[float]] | None:
    row = _con().execute("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM areas WHERE level = 'district'").fetchone()
    if not row or row[0] is None:
        return None
    return [[row[1], row[0]], [row[3], row[2]]]


def district_bounds() -> list[list[float]] | None:
    return _district_bounds(*_version())


# ---------------------------------------------------------------------------- analysis pages

def village_shapes() -> gpd.GeoDataFrame:
    """Village outlines (code, name, town, geometry), simplified and cached."""
    return _village_shapes(*_version())


@st.cache_data(show_spinner=False)
def _must_visit(path: str, mtime: float) -> pd.DataFrame:
    from etl.must_visit import must_visit as mv

    return mv(_con())


def must_visit() -> pd.DataFrame:
    """五必去: one row per village with flags (list of keys), reasons (list), score (etl.must_visit)."""
    return _must_visit(*_version()).copy()


def must_visit_labels() -> dict[str, str]:
    from etl.must_visit import FLAG_LABELS

    return dict(FLAG_LABELS)


@st.cache_data(show_spinner=False)
def _area_hotspots(path: str, mtime: float, start: dt.date, end: dt.date, level: str) -> pd.DataFrame:
    from etl.hotspots import CaseFilter, area_hotspots

    return area_hotspots(_con(), level, CaseFilter(start, end))


def area_hotspots(start: dt.date, end: dt.date, level: str = "village") -> pd.DataFrame:
    """Gi* class and LISA cluster per area for the cases received in [start, end] (etl.hotspots)."""
    return _area_hotspots(*_version(), start, end, level)


@st.cache_data(show_spinner=False)
def _emerging(path: str, mtime: float, start: dt.date, end: dt.date, level: str) -> pd.DataFrame:
    from etl.hotspots import CaseFilter, emerging

    cats, _bins = emerging(_con(), CaseFilter(start, end), level=level)
    return cats


def emerging(start: dt.date, end: dt.date, level: str = "village") -> pd.DataFrame:
    """Emerging hot-spot category per area over the monthly bins of [start, end]."""
    return _emerging(*_version(), start, end, level)


@st.cache_data(show_spinner=False)
def _rankings(path: str, mtime: float, start: dt.date, end: dt.date, by: str) -> pd.DataFrame:
    return metrics.rankings(_con(), start, end, by)


def rankings(start: dt.date, end: dt.date, by: str = "town") -> pd.DataFrame:
    """Towns or handling units ranked by the three rates, with score and flags (etl.metrics.rankings)."""
    return _rankings(*_version(), start, end, by)


@st.cache_data(show_spinner=False)
def _metrics_by(path: str, mtime: float, start: dt.date, end: dt.date, by: str) -> pd.DataFrame:
    return metrics.case_metrics_by(_con(), start, end, by)


def metrics_by(start: dt.date, end: dt.date, by: str = "town") -> pd.DataFrame:
    """Case figures per town / village / unit / ... (etl.metrics.case_metrics_by)."""
    return _metrics_by(*_version(), start, end, by)


@st.cache_data(show_spinner=False)
def _summary(path: str, mtime: float, start: dt.date, end: dt.date) -> dict:
    return metrics.case_summary(_con(), start, end, compare=False)


def summary(start: dt.date, end: dt.date) -> dict:
    """Every headline figure of [start, end], including overdue_buckets (etl.metrics.case_summary)."""
    return _summary(*_version(), start, end)


@st.cache_data(show_spinner=False)
def _households(path: str, mtime: float, level: str) -> dict[str, pd.DataFrame]:
    from etl import households as hh

    con = _con()
    return {"categories": hh.category_counts(con, level), "pairing": hh.pairing_coverage(con, level),
            "must_see": hh.must_see_counts(con, level)}


def households(level: str = "town") -> dict[str, pd.DataFrame]:
    """Aggregates only: categories with shares, pairing coverage of 连心户, 五必访 groups per area."""
    return _households(*_version(), level)
