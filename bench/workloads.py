"""The measured workloads, each run in a child process by bench.run so that its peak
memory is its own: `python -m bench.workloads NAME '{"arg": ...}'` prints one JSON line.

- geopandas_load: the usual pandas + geopandas pipeline on the hotline CSV (read_csv,
  GCJ-02 -> WGS84 with the product's geo.datum, sjoin to the villages, write GeoParquet).
- filter: a dashboard filter change (analysis.metrics.case_summary + case_metrics_by by
  village) against the bare DuckDB aggregate it needs; and what each case page really asks on a
  filter change (bench.pages), whole province and one town, against bare aggregates of the same figures.
- maps: bytes of the folium map the dashboard sends, at town and village level.
- gi_star: Gi* on every village (Queen weights, esda), and the whole area_hotspots call.
- emerging: emerging hot spots on 36 monthly bins.
The product's own load is the `minqing load cases` command itself (see bench.run).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import time

PERIOD = (dt.date(2025, 11, 1), dt.date(2026, 10, 31))  # the last 12 months of the generated cases
EMERGING_PERIOD = (dt.date(2023, 11, 1), dt.date(2026, 10, 31))  # all 36 monthly bins
CATEGORIES = ["道路", "饮水", "物业管理", "低保", "医疗"]
MAP_TOLERANCE = 0.0004  # what dashboard/data.py passes to shapely.coverage_simplify
MAP_TOOLTIP_VILLAGE = {"name": "村(社区)", "town": "乡镇(街道)", "cases": "诉求件数", "open": "未办结"}
MAP_TOOLTIP_AREA = {"name": "名称", "cases": "诉求件数", "open": "未办结"}
MAP_LIMIT = 5 * 1024 * 1024


def geopandas_load(csv: str, villages: str, out: str) -> dict:
    """The straightforward pipeline a GIS analyst would write, timed step by step."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from geo.datum import gcj02_to_wgs84

    t = _Timer()
    df = pd.read_csv(csv, encoding="gb18030", dtype=str, keep_default_na=False)
    t.lap("read_csv")
    lon = pd.to_numeric(df["经度"], errors="coerce").to_numpy()
    lat = pd.to_numeric(df["纬度"], errors="coerce").to_numpy()
    x, y = gcj02_to_wgs84(lon, lat)
    pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
    t.lap("datum")
    vg = gpd.read_parquet(villages, columns=["code", "level", "geometry"])
    vg = vg[vg["level"] == "village"][["code", "geometry"]]
    joined = gpd.sjoin(pts, vg, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]  # a point on a shared border: one village
    area = joined["code"].where(joined["code"].notna(), joined["区划代码"].replace("", np.nan))
    joined = joined.drop(columns=["index_right", "code"]).assign(area_code=area)
    t.lap("sjoin")
    joined.to_parquet(out)
    t.lap("write")
    return {"rows": int(len(joined)), "placed": int(joined["area_code"].notna().sum()), "steps_s": t.steps}


def filter_change(db: str, repeats: int = 1) -> dict:
    """Server time of a filter change on the dashboard: the two data functions it calls
    (headline figures, then figures per village for the map/table), for a category
    filter over the whole province and for a town filter, against the bare aggregate."""
    from analysis import metrics
    from analysis.filters import CaseFilter
    from etl import vocab
    from etl.db import connect

    con = connect(db, read_only=True)
    start, end = PERIOD
    towns = [r[0] for r in con.execute("""SELECT left(area_code, 9) FROM cases GROUP BY 1 ORDER BY count(*) DESC LIMIT 5""").fetchall()]
    open_statuses = list(vocab.open_statuses())
    t = _Timer()
    metrics.case_summary(con, CaseFilter(start, end), compare=False)  # first call: views, file pages into the OS cache
    metrics.case_metrics_by(con, CaseFilter(start, end), "village")
    t.lap("warm_up")
    changes = [("category", "", c) for c in CATEGORIES] + [("town", p, None) for p in towns]
    rows = []
    for kind, prefix, cat in changes:
        for _ in range(repeats):
            flt = CaseFilter.of(start, end, area_prefix=prefix, category=cat)
            t0 = time.perf_counter()
            s = metrics.case_summary(con, flt, compare=False)
            t1 = time.perf_counter()
            by = metrics.case_metrics_by(con, flt, "village")
            t2 = time.perf_counter()
            bare_sum = _bare(con, start, end, prefix, cat, open_statuses)
            t3 = time.perf_counter()
            bare_counts = _bare_by(con, start, end, prefix, cat)
            t4 = time.perf_counter()
            assert s["received"] == bare_sum[0], (s["received"], bare_sum)
            assert int(by["received"].sum()) == sum(n for c, n in bare_counts if len(c) == 12), "per-village counts differ"
            rows.append({"kind": kind, "prefix": prefix, "category": cat, "received": s["received"],
                         "summary_ms": (t1 - t0) * 1e3, "by_village_ms": (t2 - t1) * 1e3,
                         "bare_summary_ms": (t3 - t2) * 1e3, "bare_by_village_ms": (t4 - t3) * 1e3})
    for r in rows:
        r["product_ms"] = r["summary_ms"] + r["by_village_ms"]
        r["bare_ms"] = r["bare_summary_ms"] + r["bare_by_village_ms"]
    t0 = time.perf_counter()  # the overview map's counts (no filter)
    metrics.case_metrics_by(con, CaseFilter(start, end), "village", measures=["received", "open"])
    by_village_map_ms = (time.perf_counter() - t0) * 1e3

    def med(key, kind=None):
        return round(statistics.median(r[key] for r in rows if kind in (None, r["kind"])), 1)

    pages = page_changes(con, [(kind, prefix, cat) for kind, prefix, cat in changes], repeats)
    return {
        "cases": con.execute("SELECT count(*) FROM cases").fetchone()[0],
        **pages.pop("summary"), "pages": pages,
        "filter_ms": med("product_ms"), "bare_ms": med("bare_ms"),
        "overhead_ratio": round(med("product_ms") / med("bare_ms"), 2),
        "filter_ms_category": med("product_ms", "category"), "filter_ms_town": med("product_ms", "town"),
        "summary_ms": med("summary_ms"), "by_village_ms": med("by_village_ms"),
        "overview_map_counts_ms": round(by_village_map_ms, 1),
        "warm_up_s": round(t.steps["warm_up"], 2), "changes": rows,
    }


def page_changes(con, changes, repeats: int = 1) -> dict:
    """Each case page's server time on a filter change (bench.pages: the data calls the page
    makes, with the measures it asks for), per change; the bare DuckDB aggregates of the same
    figures over the same rows (bench.pages.bare_page); the medians per page and area
    ('whole' = the province with a category filter, 'town' = one town), and the worst page."""
    from bench import pages as pg

    start, end = PERIOD
    out: dict = {}
    for name in pg.PAGES:
        rows = []
        for kind, prefix, cat in changes:
            flt = _filter_of(start, end, prefix, cat)
            calls = pg.recorded(con, name, flt)  # the first call also warms this page's queries
            bad = pg.differences(calls, pg.bare_page(con, calls))
            assert not bad, bad  # the bare aggregates compute the same figures
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                pg.PAGES[name](con, flt)
                t1, c1 = time.perf_counter(), time.process_time()
                pg.bare_page(con, calls)
                t2 = time.perf_counter()
                rows.append({"kind": kind, "ms": (t1 - t0) * 1e3, "cpu_ms": (c1 - c0) * 1e3, "bare_ms": (t2 - t1) * 1e3})

        def med(key, kind=None):
            return round(statistics.median(r[key] for r in rows if kind in (None, r["kind"])), 1)

        out[name] = {"ms": med("ms"), "ms_whole": med("ms", "category"), "ms_town": med("ms", "town"),
                     "cpu_ms": med("cpu_ms"), "bare_ms": med("bare_ms"), "overhead_ratio": round(med("ms") / med("bare_ms"), 2),
                     "calls": [c.describe() for c in pg.recorded(con, name, _filter_of(start, end, "", None))]}
    worst = max(out, key=lambda n: out[n]["ms"])
    out["summary"] = {
        "filter_ms_pages": round(statistics.median(p["ms"] for p in out.values()), 1),
        "filter_ms_worst": out[worst]["ms"], "filter_worst_page": worst,
        "filter_ms_worst_whole": max(p["ms_whole"] for p in out.values()),
        "filter_ms_worst_town": max(p["ms_town"] for p in out.values()),
        "overhead_ratio_worst": out[worst]["overhead_ratio"],
    }
    return out


def _filter_of(start, end, prefix, category):
    from analysis.filters import CaseFilter

    return CaseFilter.of(start, end, area_prefix=prefix, category=category)


def _bare(con, start, end, prefix, category, open_statuses):
    """The bare aggregate behind the headline: received and open in the filter."""
    where, params = _bare_where(start, end, prefix, category)
    return con.execute(f"""SELECT count(*) FILTER (received_at >= $s), count(*) FILTER (list_contains($open, status))
                           FROM cases WHERE {where}""", params | {"open": open_statuses}).fetchone()


def _bare_by(con, start, end, prefix, category):
    where, params = _bare_where(start, end, prefix, category)
    return con.execute(f"SELECT area_code, count(*) FILTER (received_at >= $s) FROM cases WHERE {where} GROUP BY 1",
                       params).fetchall()


def _bare_where(start, end, prefix, category):
    where = "received_at < $e AND starts_with(area_code, $p)" + (" AND category = $c" if category else "")
    params = {"s": dt.datetime.combine(start, dt.time()), "e": dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
              "p": prefix}
    if category:
        params["c"] = category
    return where, params


def maps(db: str) -> dict:
    """Bytes of the folium map as the dashboard builds it, for the province at village,
    town and county level, and for the village maps of one city and one county; plus the
    level-of-detail variants that keep a page under 5 MB."""
    import shapely

    from dashboard import maps as dmaps
    from etl.db import connect

    con = connect(db, read_only=True)
    start, end = PERIOD
    t = _Timer()
    villages = _shapes(con, "village")
    t.lap("village_shapes_query")
    simplified = villages.set_geometry(shapely.coverage_simplify(villages.geometry.to_numpy(), tolerance=MAP_TOLERANCE))
    t.lap("village_coverage_simplify")
    counts = _counts(con, start, end, 12)
    t.lap("village_counts")
    bounds = _bounds(con)
    out: dict = {"tolerance_deg": MAP_TOLERANCE, "villages": len(villages)}

    def render(gdf, tooltip, key):
        t0 = time.perf_counter()
        m = dmaps.choropleth(gdf, "cases", "诉求件数", bounds, tooltip)
        n = len(m.get_root().render())
        out[key] = n
        out[key + "_render_s"] = round(time.perf_counter() - t0, 2)
        out[key + "_areas"] = len(gdf)
        return n

    village_gdf = simplified.merge(counts, on="code", how="left").fillna({"cases": 0, "open": 0})
    render(village_gdf, MAP_TOOLTIP_VILLAGE, "map_bytes_village")
    towns = _shapes(con, "town")
    towns = towns.set_geometry(shapely.coverage_simplify(towns.geometry.to_numpy(), tolerance=MAP_TOLERANCE))
    render(towns.merge(_counts(con, start, end, 9), on="code", how="left").fillna({"cases": 0, "open": 0}),
           MAP_TOOLTIP_AREA, "map_bytes_town")
    # Level of detail: counties (dissolved towns), one city's and one county's villages,
    # and the province's villages with a coarser tolerance and 5-decimal coordinates.
    counties = towns.assign(code=towns["code"].str[:6]).dissolve("code", as_index=False)[["code", "geometry"]]
    counties["name"] = counties["code"]
    counties = counties.set_geometry(shapely.coverage_simplify(counties.geometry.to_numpy(), tolerance=4 * MAP_TOLERANCE))
    render(counties.merge(_counts(con, start, end, 6), on="code", how="left").fillna({"cases": 0, "open": 0}),
           MAP_TOOLTIP_AREA, "map_bytes_county")
    city = village_gdf["code"].str[:4].value_counts().index[0]
    county = village_gdf["code"].str[:6].value_counts().index[0]
    out["lod_city"], out["lod_county"] = city, county
    render(village_gdf[village_gdf["code"].str.startswith(city)], MAP_TOOLTIP_VILLAGE, "map_bytes_village_city")
    render(village_gdf[village_gdf["code"].str.startswith(county)], MAP_TOOLTIP_VILLAGE, "map_bytes_village_county")
    coarse = villages.set_geometry(shapely.set_precision(
        shapely.coverage_simplify(villages.geometry.to_numpy(), tolerance=0.002), 1e-5))
    render(coarse.merge(counts, on="code", how="left").fillna({"cases": 0, "open": 0}), {"cases": "诉求件数"},
           "map_bytes_village_coarse")  # 0.002 degrees, 5 decimals, a count-only tooltip
    # The page a province warehouse opens on: 总览 draws the level dashboard.compute.overview.map_level
    # chooses for the whole warehouse (towns above setting map_max_villages), then one town's villages.
    from dashboard.compute.overview import map_level

    level = map_level(len(villages), len(towns))
    out["province_page_level"] = level
    out["map_bytes_province_page"] = out["map_bytes_village" if level == "village" else "map_bytes_town"]
    out["map_limit"] = MAP_LIMIT
    out["steps_s"] = t.steps
    return out


def _shapes(con, level: str):
    import geopandas as gpd
    import shapely

    df = con.execute("""
        SELECT v.code, v.name, t.name AS town, ST_AsWKB(v.geom) AS wkb
        FROM areas v LEFT JOIN areas t ON t.code = v.parent_code
        WHERE v.level = ? AND v.geom IS NOT NULL ORDER BY v.code""", [level]).df()
    return gpd.GeoDataFrame(df, geometry=shapely.from_wkb(df.pop("wkb").map(bytes)), crs="EPSG:4326")


def _counts(con, start, end, digits: int):
    from etl import views

    views.ensure_views(con)
    return con.execute(f"""
        SELECT left(area_code, {digits}) AS code,
               count(*) FILTER (received_date BETWEEN $s AND $e) AS cases,
               count(*) FILTER (received_date <= $e AND is_open) AS open
        FROM case_facts WHERE length(area_code) >= {digits} GROUP BY 1""", {"s": start, "e": end}).df()


def _bounds(con):
    row = con.execute("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM areas WHERE level = 'district'").fetchone()
    return [[row[1], row[0]], [row[3], row[2]]]


def gi_star(db: str) -> dict:
    """Gi* on the case counts of every village for the last 12 months: the counts query,
    Queen contiguity weights (geo.weights.contiguity: libpysal's Queen neighbours found with numpy), the statistic
    (geo.getis_ord.gi_star, esda); then the whole analysis.hotspots.area_hotspots call (with
    EB rates and LISA, analytical since LISA stopped using 999 permutations)."""
    import numpy as np
    import pandas as pd
    import shapely

    from etl.db import connect
    from analysis.filters import CaseFilter
    from analysis.hotspots import area_hotspots
    from geo.getis_ord import classify, gi_star as gi
    from geo.weights import contiguity

    t0 = time.perf_counter()
    import esda  # noqa: F401  (timed on its own: a server process pays it once, at its first hot spot analysis)
    import libpysal.weights  # noqa: F401

    import_s = round(time.perf_counter() - t0, 2)
    con = connect(db, read_only=True)
    start, end = PERIOD
    t = _Timer()
    df = con.execute("""
        WITH c AS (SELECT area_code AS code, count(*) AS n FROM cases WHERE received_at::DATE BETWEEN ? AND ? GROUP BY 1)
        SELECT a.code, ST_AsWKB(a.geom) AS wkb, coalesce(c.n, 0) AS cases
        FROM areas a LEFT JOIN c USING (code) WHERE a.level = 'village' AND a.geom IS NOT NULL ORDER BY a.code""",
                     [start, end]).df()
    geoms = shapely.from_wkb(df.pop("wkb").map(bytes))
    t.lap("query")
    w = contiguity(geoms, df["code"].tolist())
    t.lap("weights")
    g = gi(df["cases"].to_numpy(dtype=float), w)
    t.lap("gi_star")
    full = area_hotspots(con, "village", CaseFilter(start, end))
    t.lap("area_hotspots")
    classes = pd.Series(classify(g["Zs"], g["p"])).value_counts().to_dict()
    return {"villages": len(df), "islands": len(w.islands), "mean_neighbours": round(float(np.mean(list(w.cardinalities.values()))), 2),
            "gi_star_s": round(t.steps["query"] + t.steps["weights"] + t.steps["gi_star"], 2),
            "gi_star_statistic_s": round(t.steps["gi_star"], 2), "weights_s": round(t.steps["weights"], 2),
            "import_s": import_s,
            "area_hotspots_s": round(t.steps["area_hotspots"], 2), "classes": classes,
            "lisa": full["lisa"].value_counts().to_dict(), "steps_s": t.steps}


def emerging(db: str) -> dict:
    """Emerging hot spots of every village on the 36 monthly bins (analysis.hotspots.emerging)."""
    from etl.db import connect
    from analysis.filters import CaseFilter
    from analysis.hotspots import emerging as em

    con = connect(db, read_only=True)
    t = _Timer()
    cats, bins = em(con, CaseFilter(*EMERGING_PERIOD))
    t.lap("emerging")
    return {"emerging_s": round(t.steps["emerging"], 2), "bins": int(bins["bin"].nunique()), "locations": len(cats),
            "categories": cats["category"].value_counts().to_dict()}


def distributed(db: str, out: str) -> dict:
    """The placement and aggregation on dask-geopandas (bench.distributed) over a LocalCluster of
    two worker processes, from the warehouse's GeoParquet export; checked against the product."""
    import shutil

    from distributed import Client, LocalCluster

    from bench.distributed import compare_with_warehouse, export_geoparquet, place_and_count
    from etl.db import connect

    con = connect(db, read_only=True)
    t = _Timer()
    paths = export_geoparquet(con, out, files=8)
    t.lap("export")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        t.lap("cluster_start")
        placements, counts = place_and_count(paths["cases"], paths["villages"], client)
        t.lap("place_and_count")
    diff = compare_with_warehouse(con, placements, counts, *PERIOD)
    t.lap("compare")
    shutil.rmtree(out, ignore_errors=True)
    return {"place_and_count_s": t.steps["place_and_count"], "points_per_s": round(diff["cases_with_point"] / t.steps["place_and_count"]),
            **diff, "steps_s": t.steps}


class _Timer:
    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.steps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.steps[name] = round(now - self.t, 3)
        self.t = now


from bench.floor import load_floor  # noqa: E402 (the floor has its own module)

WORKLOADS = {"load_floor": load_floor, "geopandas_load": geopandas_load, "filter": filter_change, "maps": maps, "gi_star": gi_star,
             "emerging": emerging, "distributed": distributed}


def main(argv: list[str]) -> None:
    name, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    if name not in WORKLOADS:
        raise SystemExit(f"unknown workload {name!r}; expected one of {', '.join(WORKLOADS)}")
    result = WORKLOADS[name](**args)
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
