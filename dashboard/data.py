"""The dashboard's only door to the warehouse: one read-only DuckDB connection per
process and cached queries keyed by the warehouse version and their arguments. Pages call
these functions and never open connections or write SQL themselves.

A query is a function `f(con, *args)` decorated with `@query`; pages call it as `f(*args)`.
Arguments are usually an `analysis.filters.CaseFilter` (hashable) and plain values. Results are
cached per (warehouse file, its modification time, the hour, function, arguments): a load swaps
the file, so the next call sees the new data. `@query(whole_district=True)` marks an analysis
of the whole district: its filters lose their area before the call, so it is cached once per
filter whatever area a page shows.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import inspect
import os
import threading
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from analysis import metrics

from etl import settings, views
from etl.codes import sql_town_code, sql_village_code, town_of, village_of
from etl.db import REPO_ROOT, connect, cursor
from access.roles import ROLES
from analysis import filters
from analysis.filters import CaseFilter
from dashboard import session
from dashboard.compute import scope as scope_rules

# Simplification tolerance (degrees) per level: about 40 m for villages, 100 m for towns.
TOLERANCE = {"village": 0.0004, "town": 0.001, "district": 0.001}


class NoWarehouse(RuntimeError):
    """The warehouse file named by MINQING_DB does not exist or is not a warehouse."""


def db_path() -> Path:
    return Path(os.environ.get("MINQING_DB") or REPO_ROOT / str(settings.get("db")))


# ---------------------------------------------------------------------------- connection and cache

def existing_db() -> Path:
    """The warehouse's path; NoWarehouse (saying how to make one) when there is no file."""
    p = db_path()
    if not p.exists():
        raise NoWarehouse(f"找不到数据仓库 {p}。请先运行 `make run`(自动生成演示数据) 或 `minqing --db {p} init --district 代码`。")
    return p


def _version() -> tuple[str, float]:
    """Cache key of the warehouse: its path and modification time (a load swaps the file)."""
    p = existing_db()
    return str(p), p.stat().st_mtime


class _Holder:
    """The process's one read-only connection, reopened when a load swaps the file in.

    DuckDB shares one instance per file in a process, so the old connection is closed
    before the new one opens (otherwise the new one would see the old file)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[str, float] | None = None
        self.con = None

    def get(self, version):
        """A cursor of the connection to the warehouse `version()` names ((path, mtime)), opened
        anew when it changed; once more on a fresh connection when that fails (the file may have
        been swapped meanwhile), then the error is raised."""
        with self.lock:
            try:
                return self._cursor(version())
            except Exception:
                self._close()
            return self._cursor(version())

    def _cursor(self, key: tuple[str, float]):
        if self.key != key:
            self._close()
            self.con = connect(key[0], read_only=True)
            self.key = key
        return cursor(self.con)  # a cursor per query: safe across Streamlit's threads

    def _close(self) -> None:
        """No connection and no key: the next call opens one (also when closing fails)."""
        con, self.con, self.key = self.con, None, None
        if con is not None:
            with contextlib.suppress(Exception):
                con.close()


@st.cache_resource
def _holder() -> _Holder:
    return _Holder()


def _con() -> duckdb.DuckDBPyConnection:
    try:
        return _holder().get(_version)
    except NoWarehouse:
        raise
    except Exception as e:  # a damaged or foreign file
        raise NoWarehouse(f"无法打开数据仓库 {db_path()}: {e}") from None


_QUERIES: dict[str, object] = {}
_NESTED = contextvars.ContextVar("minqing_query_nested", default=False)


def query(fn=None, *, whole_district: bool = False, areas: tuple[str, ...] = (), compare: tuple[str, ...] = (),
          needs: str | None = "data", restrict=None):
    """Make `fn(con, *args)` a cached query called as `fn(*args)`, within the signed-in account's
    rights and scope (dashboard.session, dashboard.compute.scope):

    - `needs`: the role's right the query needs ('data', 'load', 'audit'; None: anyone signed in);
    - every CaseFilter argument is clamped into the account's town; with `whole_district` it loses
      its area instead (the statistic needs every area) and the result is cut to the town;
    - `areas`: arguments naming an area, clamped into the town ('' the district becomes the town);
      `compare`: the same, but '' (the district, as a comparison) is allowed;
    - the result loses every row of an area outside the town (`restrict(con, result, scope)`
      replaces the generic cut where rows carry no area code).
    A query called from inside another query runs unscoped: the outer one scopes its result."""
    if fn is None:
        return functools.partial(query, whole_district=whole_district, areas=areas, compare=compare,
                                 needs=needs, restrict=restrict)
    _QUERIES[fn.__name__] = (fn, restrict, whole_district)
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if _NESTED.get():
            return _cached(fn.__name__, *_version(), _hour(), "", *args, **kwargs)
        account = session.current_account()
        if account is not None and needs and not getattr(ROLES[account.role], needs):
            raise PermissionError(f"{ROLES[account.role].label}账号无权查看此内容")
        scope = account.scope if account else ""
        bound = signature.bind(None, *args, **kwargs)
        for name, value in list(bound.arguments.items()):
            if isinstance(value, CaseFilter):
                bound.arguments[name] = value.without_area() if whole_district else scope_rules.clamp_filter(value, scope)
            elif name in areas or name in compare:
                bound.arguments[name] = scope_rules.clamp_area(value, scope, district_ok=name in compare)
        return _cached(fn.__name__, *_version(), _hour(), scope, *bound.args[1:], **bound.kwargs)

    return call


def _hour() -> str:
    """Part of every cache key: figures that depend on 'now' (overdue, 五必去) are recomputed
    at least hourly on a real warehouse, not frozen at the first page view."""
    return dt.datetime.now().strftime("%Y-%m-%d %H")


# A filter is keyed by its repr (a frozen dataclass of dates and tuples of strings: the repr is
# the value); Streamlit's generic hashing of it took 0.5 ms per call, a tenth of a rerun's budget.
@st.cache_data(show_spinner=False, max_entries=1024, hash_funcs={CaseFilter: repr})
def _cached(name: str, path: str, mtime: float, hour: str, scope: str, *args, **kwargs):
    fn, restrict, whole = _QUERIES[name]
    con = _con()
    token = _NESTED.set(True)
    try:
        out = fn(con, *args, **kwargs)
        if not scope:
            return out
        return restrict(con, out, scope) if restrict else scope_rules.restrict(out, scope, strict=whole)
    finally:
        _NESTED.reset(token)
        con.close()


# ---------------------------------------------------------------------------- warehouse and areas

@query(needs=None)
def meta(con) -> dict:
    return dict(con.execute("SELECT key, value FROM meta").fetchall())


def is_demo() -> bool:
    return meta().get("demo") == "true"


def demo_caption() -> str:
    return "边界为演示数据" if is_demo() else ""


@query
def case_period(con):
    """First and last day with a received case, or None when there are no cases."""
    return metrics.case_period(con)


@query
def terms_in_use(con, domain: str) -> list[str]:
    """The filter's options for a domain (category, channel, status): the vocabulary's terms in
    their order, then the warehouse's own (kept as written when no vocabulary knew them)."""
    return filters.terms_in_use(con, domain)


@query
def default_period(con):
    """The period shown when none is chosen (analysis.metrics.default_period, as the CLI's)."""
    return metrics.default_period(con)


@query
def _area_names(con) -> dict[str, tuple[str, str]]:
    return {c: (n, lv) for c, n, lv in con.execute("SELECT code, name, level FROM areas ORDER BY code").fetchall()}


def towns() -> dict[str, str]:
    """Town code -> name, in code order."""
    return {c: n for c, (n, lv) in _area_names().items() if lv == "town"}


def villages(town: str) -> dict[str, str]:
    """Village code -> name for the villages of `town`."""
    return {c: n for c, (n, lv) in _area_names().items() if lv == "village" and c.startswith(town)}


def area_name(code: str) -> str:
    """The area's name with its town for a village (e.g. '五里镇 · 新村'); the code when unknown."""
    names = _area_names()
    if code not in names:
        return code
    if village_of(code) and town_of(code) in names:
        return f"{names[town_of(code)][0]} · {names[code][0]}"
    return names[code][0]


@query(areas=("prefix",))
def area_shapes(con, level: str = "village", prefix: str = "") -> gpd.GeoDataFrame:
    """Outlines of one level (code, name, town, geometry) inside `prefix`, simplified as one
    coverage so neighbours keep their shared borders (the whole level is simplified, then cut)."""
    gdf = _outlines(con, level)
    return gdf[gdf["code"].str.startswith(prefix)].reset_index(drop=True) if prefix else gdf


@query
def town_village_shapes(con, towns: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Outlines of the villages of `towns` only (code, name, town, geometry), simplified as one
    coverage: a map of a few towns (预警) without reading every village of a large warehouse."""
    return _outlines(con, "village", f"list_contains(?, {sql_town_code('v.code')})", [list(towns)])


def _outlines(con, level: str, where: str = "true", params: list | None = None) -> gpd.GeoDataFrame:
    df = con.execute(f"""
        SELECT v.code, v.name, coalesce(t.name, '') AS town, ST_AsWKB(v.geom) AS wkb
        FROM areas v LEFT JOIN areas t ON t.code = {sql_town_code('v.code')} AND t.level = 'town'
        WHERE v.level = ? AND v.geom IS NOT NULL AND {where} ORDER BY v.code""", [level, *(params or [])]).df()
    geoms = shapely.from_wkb(df.pop("wkb").map(bytes))
    if len(geoms):
        geoms = shapely.coverage_simplify(geoms, tolerance=TOLERANCE.get(level, 0.0004))
    return gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4326")


@query(areas=("prefix",))
def outlined_count(con, level: str, prefix: str = "") -> int:
    """How many areas of `level` inside `prefix` have an outline (what a map of them would draw)."""
    return con.execute("SELECT count(*) FROM areas WHERE level = ? AND geom IS NOT NULL AND starts_with(code, ?)",
                       [level, prefix]).fetchone()[0]


def village_shapes(prefix: str = "") -> gpd.GeoDataFrame:
    return area_shapes("village", prefix)


@query(areas=("code",))
def bounds(con, code: str = "") -> list[list[float]] | None:
    """[[south, west], [north, east]] of an area (the district when `code` is empty)."""
    where, params = ("code = ?", [code]) if code else ("level = 'district'", [])
    row = con.execute(f"SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM areas WHERE {where}",
                      params).fetchone()
    if not row or row[0] is None:
        return None
    return [[row[1], row[0]], [row[3], row[2]]]


# ---------------------------------------------------------------------------- case figures

@query
def summary(con, flt: CaseFilter, compare: bool = False) -> dict:
    """Every headline figure of the filtered cases (analysis.metrics.case_summary), with 环比/同比 if `compare`."""
    return metrics.case_summary(con, flt, compare=compare)


@query
def metrics_by(con, flt: CaseFilter, by: str = "town", measures: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Case figures per town / village / unit / category / channel / month ... (analysis.metrics.case_metrics_by):
    the `measures` named (a page asks for what it shows), every figure when None."""
    return metrics.case_metrics_by(con, flt, by, measures=measures)


@query
def town_level_cases(con, flt: CaseFilter) -> int:
    """Cases placed only at town level (no usable point or village): on no village of the map."""
    where, params = flt.where("c")
    return con.execute(f"SELECT count(*) FROM cases c WHERE {sql_village_code('c.area_code')} IS NULL AND {where}",
                       params).fetchone()[0]


@query
def rankings(con, flt: CaseFilter, by: str = "town") -> pd.DataFrame:
    """Towns or handling units ranked by the three rates, with score and flags (analysis.rankings)."""
    from analysis.rankings import rankings as rk

    return rk(con, flt, by)


@query
def _overdue_cases(con, flt: CaseFilter) -> pd.DataFrame:
    from analysis.case_lists import overdue_cases as oc

    return oc(con, flt)


def overdue_cases(flt: CaseFilter) -> pd.DataFrame:
    """The overdue list (masked identifiers only), most overdue first (analysis.case_lists); without
    the petitioner and phone columns for a role that does not see them (access.roles)."""
    return session.without_people(_overdue_cases(flt), ("petitioner_masked", "phone_masked"))


# ---------------------------------------------------------------------------- analyses

@query
def must_visit(con) -> pd.DataFrame:
    """五必去: one row per village with flags (list of keys), reasons (list), score (analysis.must_visit)."""
    from analysis.must_visit import must_visit as mv

    return mv(con)


def must_visit_labels() -> dict[str, str]:
    from analysis.must_visit import FLAG_LABELS

    return dict(FLAG_LABELS)


@query(whole_district=True)
def area_hotspots(con, flt: CaseFilter, level: str = "village", lisa: bool = False) -> pd.DataFrame:
    """Gi* class (and with `lisa` the LISA cluster, analytical: milliseconds)
    per area for the filtered cases of the whole district (analysis.hotspots)."""
    from analysis.hotspots import area_hotspots as ah

    return ah(con, level, flt, lisa=lisa)


@query(whole_district=True)
def emerging(con, flt: CaseFilter, level: str = "village") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(emerging hot-spot category per area, Gi* per area and month) over the monthly bins of the
    filter, for the whole district (analysis.hotspots)."""
    from analysis.hotspots import emerging as em

    return em(con, flt, level=level)


@query(areas=("prefix",))
def households(con, level: str = "town", prefix: str = "") -> dict[str, pd.DataFrame]:
    """Aggregates only: categories with shares, pairing coverage of 连心户, 五必访 groups per area."""
    from analysis import households as hh

    return {"categories": hh.category_counts(con, level, area_prefix=prefix),
            "pairing": hh.pairing_coverage(con, level, area_prefix=prefix),
            "must_see": hh.must_see_counts(con, level, area_prefix=prefix)}


# ---------------------------------------------------------------------------- 热点地图

@query
def case_points(con, flt: CaseFilter, cell_m: float = 100.0) -> pd.DataFrame:
    """Geocoded filtered cases counted on a grid of about `cell_m` metres: lat, lon (cell centre), weight."""
    from analysis.hotspots import case_points as cp

    return cp(con, flt, cell_m)


@query
def point_coverage(con, flt: CaseFilter) -> pd.DataFrame:
    """Per town: the filtered cases and those with a point (code, name, cases, with_point)."""
    from analysis.hotspots import point_coverage as pc

    return pc(con, flt)


@query(whole_district=True, restrict=scope_rules.hexagons_in_scope)
def hex_hotspots(con, flt: CaseFilter, resolution: int = 7) -> pd.DataFrame:
    """Gi* on counts of geocoded filtered cases in H3 cells over the whole district (h3, value, z, p, class)."""
    from analysis.hotspots import hex_hotspots as hh

    return hh(con, resolution, flt)


@query
def cell_centres(con, cells: tuple[str, ...]) -> pd.DataFrame:
    """Centres of H3 cells with the town each lies in (h3, lat, lon, town; analysis.hotspots)."""
    from analysis.hotspots import cell_centres as cc

    return cc(con, list(cells))


# ---------------------------------------------------------------------------- 导出

@query
def export_summary(con, flt: CaseFilter, level: str, metric_keys: tuple[str, ...]) -> gpd.GeoDataFrame:
    """One row per town or village inside the filter's area with the chosen figures under their
    Chinese labels and the unsimplified outlines (reports.export.area_summary)."""
    from reports import export

    hh = households(level, flt.area_prefix or "")  # cached: the household figures ignore the case filters
    return export.area_summary(con, flt, level, list(metric_keys), household_tables=(hh["categories"], hh["pairing"]))


@query
def export_file(con, flt: CaseFilter, level: str, metric_keys: tuple[str, ...], fmt: str, filters_text: str) -> bytes:
    """The same summary as a csv / xlsx / geojson / gpkg file, its notes stating `filters_text`."""
    from reports import export

    gdf = export_summary(flt, level, metric_keys)  # the cached summary: computed once for every format
    return export.to_bytes(gdf, fmt, export.notes(con, flt, level, gdf, filters_text))


@query(needs=None)
def as_of(con) -> views.AsOf:
    """The warehouse's 'today': the data's own date (etl.views.as_of)."""
    return views.as_of(con)


def forget_warehouse() -> None:
    """After a load from the dashboard: drop every cached query result. The cache keys on the
    file's modification time already, so this only frees the old results at once."""
    _cached.clear()

