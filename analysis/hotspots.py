"""Hot spots of cases in a warehouse: counts per area or H3 hexagon aggregated in DuckDB,
statistics from geo (PySAL: weights, getis_ord, moran, rates, emerging). Returns plain
DataFrames; never imports streamlit."""

from __future__ import annotations


import duckdb
import numpy as np
import pandas as pd
import shapely

from etl import views
from etl.codes import sql_town_code
from geo import weights
from geo.getis_ord import classify, gi_star
from geo.moran import local_moran
from geo.rates import eb_rate, standardised_rate
from etl.views import ensure_views

from .filters import CaseFilter

LEVELS = ("village", "town", "hex")


def area_hotspots(con: duckdb.DuckDBPyConnection, level: str = "village", flt: CaseFilter = CaseFilter(), *,
                  value: str = "rate", permutations: int = 0, seed: int = 0, fdr: bool = True,
                  lisa: bool = True) -> pd.DataFrame:
    """One row per village or town: cases, households, raw and EB-smoothed rate per 1,000
    households, Gi* (`z`, two-sided `p`, `class`) and, with `lisa`, local Moran's I (`lisa`: the
    cluster, `lisa_z`, two-sided `lisa_p`; geo.moran) on `value`: 'rate' (Assuncao-Reis standardised
    rates; counts when no households are loaded, noted in `df.attrs["value"]`) or 'count'.
    `value` column: what was tested."""
    if level not in ("village", "town"):
        raise ValueError(f"unknown level {level!r}; expected village or town")
    if value not in ("rate", "count"):
        raise ValueError(f"unknown value {value!r}; expected rate or count")
    where, params = flt.where("c")
    ensure_views(con)  # mq_per_1000
    df = con.execute(f"""
        WITH a AS (SELECT code, name, ST_AsWKB(geom) AS wkb FROM areas WHERE level = $level AND geom IS NOT NULL),
        c AS (SELECT {sql_town_code('c.area_code') if level == 'town' else 'c.area_code'} AS code, count(*) AS n
              FROM cases c WHERE {where} GROUP BY 1),
        h AS (SELECT {sql_town_code('area_code') if level == 'town' else 'area_code'} AS code, count(*) AS n
              FROM households GROUP BY 1)
        SELECT a.code AS area_code, a.name, a.wkb, coalesce(c.n, 0) AS cases, coalesce(h.n, 0) AS households,
               mq_per_1000(coalesce(c.n, 0), h.n) AS rate
        FROM a LEFT JOIN c USING (code) LEFT JOIN h USING (code) ORDER BY a.code""", {"level": level, **params}).df()
    if df.empty:
        return pd.DataFrame(columns=["area_code", "name", "cases", "households", "rate", "rate_eb", "value", "z", "p", "class", "lisa", "lisa_z", "lisa_p"])
    geoms = shapely.from_wkb(df.pop("wkb").map(bytes))
    df["rate_eb"] = eb_rate(df["cases"].to_numpy(), df["households"].to_numpy())
    if value == "rate" and df["households"].sum() == 0:
        value = "count"  # no household sheet loaded yet: rates are unknown, test the counts
    df.attrs["value"] = value
    y = (standardised_rate(df["cases"].to_numpy(), df["households"].to_numpy()) if value == "rate"
         else df["cases"].to_numpy(dtype=float))
    star = weights.contiguity(geoms, df["area_code"].tolist(), star=True)  # remembered: gi_star leaves it alone
    g = gi_star(y, star, permutations=permutations, seed=seed)
    df["value"] = y
    df["z"], df["p"], df["p_sim"] = g["Zs"].to_numpy(), g["p"].to_numpy(), g["p_sim"].to_numpy()
    df["class"] = classify(df["z"], df["p"], fdr=fdr)
    if lisa:
        w = weights.contiguity(geoms, df["area_code"].tolist())
        lm = local_moran(y, w, permutations=permutations, seed=seed, fdr=fdr)
        df["lisa"], df["lisa_z"], df["lisa_p"] = lm["cluster"].to_numpy(), lm["z"].to_numpy(), lm["p"].to_numpy()
    return df


def hex_hotspots(con: duckdb.DuckDBPyConnection, resolution: int = 7, flt: CaseFilter = CaseFilter(), *,
                 permutations: int = 0, seed: int = 0, fdr: bool = True) -> pd.DataFrame:
    """Gi* on case counts in H3 cells covering the district (empty cells count as 0)."""
    import h3

    counts = _cell_counts(con, resolution, flt)
    row = con.execute("SELECT ST_AsWKB(geom) FROM areas WHERE level = 'district'").fetchone()
    cells = set(counts["h3"]) if len(counts) else set()
    if row and row[0] is not None:
        outline = shapely.from_wkb(bytes(row[0]))
        cells |= set(h3.geo_to_cells(outline.__geo_interface__, resolution))
    if not cells:
        return pd.DataFrame(columns=["h3", "value", "z", "p", "class"])
    ids = sorted(cells)
    value = pd.Series(0.0, index=ids)
    if len(counts):
        value.loc[counts["h3"].to_numpy()] = counts["n"].to_numpy(dtype=float)
    g = gi_star(value.to_numpy(), weights.hex_weights(ids), permutations=permutations, seed=seed)
    return pd.DataFrame({"h3": ids, "value": value.to_numpy(), "z": g["Zs"].to_numpy(),
                         "p": g["p"].to_numpy(), "p_sim": g["p_sim"].to_numpy(), "class": classify(g["Zs"], g["p"], fdr=fdr)})


def _cell_counts(con: duckdb.DuckDBPyConnection, resolution: int, flt: CaseFilter) -> pd.DataFrame:
    """Filtered cases with a point per H3 cell (h3 as hex string, n), cells computed with h3ronpy
    on the fetched coordinates. (Not a DuckDB Python function: DuckDB keeps one for the whole
    database and calling it after the cursor that registered it was closed crashes the process.)"""
    from h3ronpy import vector

    where, params = flt.where("c")
    pts = con.execute(f"SELECT c.lat, c.lon FROM cases c WHERE c.lon IS NOT NULL AND c.lat IS NOT NULL AND {where}",
                      params).fetchnumpy()
    lat, lon = np.asarray(pts["lat"], dtype=float), np.asarray(pts["lon"], dtype=float)
    if len(lat) == 0:
        return pd.DataFrame({"h3": pd.Series(dtype=str), "n": pd.Series(dtype="int64")})
    cells = np.asarray(vector.coordinates_to_cells(lat, lon, resolution), dtype=np.uint64)
    ids, n = np.unique(cells, return_counts=True)
    return pd.DataFrame({"h3": np.char.lower(np.char.mod("%x", ids)).astype(str), "n": n})


def emerging(con: duckdb.DuckDBPyConnection, flt: CaseFilter = CaseFilter(), *, level: str = "village",
             permutations: int = 0, seed: int = 0, fdr: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Emerging hot spots per village or town over monthly bins (geo.emerging, Esri's categories).

    Returns (per-location categories with `area_code` and `name`, per-bin Gi* table). Cases
    placed only at town level count for towns, not villages.
    """
    from geo.emerging import classify_emerging, gi_star_by_bin

    if level not in ("village", "town"):
        raise ValueError(f"unknown level {level!r}; expected village or town")
    where, params = flt.where("c")
    key = sql_town_code("c.area_code") if level == "town" else "c.area_code"
    areas = con.execute("SELECT code, name, ST_AsWKB(geom) AS wkb FROM areas WHERE level = ? AND geom IS NOT NULL ORDER BY code",
                        [level]).df()
    if areas.empty:
        return pd.DataFrame(columns=["area_code", "name", "category", "label_zh"]), pd.DataFrame()
    counts = con.execute(f"""
        SELECT {key} AS location, strftime(date_trunc('month', c.received_at), '%Y-%m') AS bin, count(*) AS value
        FROM cases c JOIN areas a ON a.code = {key} AND a.level = $level AND a.geom IS NOT NULL
        WHERE {where} GROUP BY 1, 2""", {"level": level, **params}).df()
    if counts.empty:
        return pd.DataFrame(columns=["area_code", "name", "category", "label_zh"]), pd.DataFrame()
    # the series runs to the end of the filter (or the warehouse's today), not to the last month
    # that happens to have a case: an empty final month is a final month

    first = flt.start or counts["bin"].min()
    last = flt.end or views.as_of(con).at.date()
    edge = [{"location": areas["code"].iloc[0], "bin": str(b)[:7], "value": 0} for b in (first, last)]
    counts = pd.concat([counts, pd.DataFrame(edge)], ignore_index=True).groupby(["location", "bin"], as_index=False)["value"].sum()
    w = weights.contiguity(shapely.from_wkb(areas["wkb"].map(bytes)), areas["code"].tolist())
    bins = gi_star_by_bin(counts, w, permutations=permutations, seed=seed, fdr=fdr)
    cats = classify_emerging(bins).rename(columns={"location": "area_code"})
    cats.insert(1, "name", cats["area_code"].map(dict(zip(areas["code"], areas["name"]))))
    return cats, bins


# Metres per degree of latitude (and of longitude at the equator) on the WGS-84 sphere used for the grid.
_M_PER_DEG = 111_320.0


def case_points(con: duckdb.DuckDBPyConnection, flt: CaseFilter = CaseFilter(), cell_m: float = 100.0) -> pd.DataFrame:
    """Geocoded cases of the filter counted on a grid of about `cell_m` metres, for a heat map.

    One row per grid cell holding at least one case: `lat`, `lon` (the cell's centre, WGS-84,
    so no single case's exact point leaves the warehouse) and `weight` (its number of cases),
    densest first. Rows of latitude are `cell_m` high; within a row, cells are `cell_m` wide
    at the row's central latitude. Only cases with a point (`lon`/`lat`) count: cases placed
    by village or town name have none.
    """
    if not cell_m > 0:
        raise ValueError(f"cell_m={cell_m!r}; expected a positive size in metres")
    where, params = flt.where("c")
    cell = float(cell_m)  # numbers written into the SQL: a float, never user text
    dlat = cell / _M_PER_DEG
    width = f"({cell!r} / ({_M_PER_DEG!r} * cos(radians((r + 0.5) * {dlat!r}))))"  # a cell's width in degrees in row r
    return con.execute(f"""
        WITH p AS (
            SELECT c.lon, floor(c.lat / {dlat!r}) AS r FROM cases c
            WHERE c.lon IS NOT NULL AND c.lat IS NOT NULL AND {where}),
        g AS (SELECT r, floor(lon / {width}) AS k, count(*) AS weight FROM p GROUP BY ALL)
        SELECT round((r + 0.5) * {dlat!r}, 6) AS lat, round((k + 0.5) * {width}, 6) AS lon, weight
        FROM g ORDER BY weight DESC, lat, lon""", params).df()


def point_coverage(con: duckdb.DuckDBPyConnection, flt: CaseFilter = CaseFilter()) -> pd.DataFrame:
    """Per town (in code order): the filter's cases (`cases`) and those with a point
    (`with_point`), i.e. what a point map or hexagon grid can show of each town."""
    where, params = flt.where("c")
    return con.execute(f"""
        WITH n AS (  -- a case placed at the district itself keeps the district's code
            SELECT coalesce({sql_town_code('c.area_code')}, c.area_code) AS code, count(*) AS cases,
                   count(*) FILTER (c.lon IS NOT NULL AND c.lat IS NOT NULL) AS with_point
            FROM cases c WHERE {where} GROUP BY 1)
        SELECT n.code, coalesce(t.name, n.code) AS name, n.cases, n.with_point
        FROM n LEFT JOIN areas t ON t.code = n.code AND t.level = 'town' ORDER BY n.code""", params).df()



def cell_centres(con: duckdb.DuckDBPyConnection, cells: list[str]) -> pd.DataFrame:
    """The centres of H3 cells (ids as hex strings) and the town each lies in: h3, lat, lon
    (WGS-84, rounded to 5 decimals, about a metre) and town (the name of the town whose outline
    contains the rounded centre; '' outside every town or without outlines), in the order given."""
    import h3

    centres = [h3.cell_to_latlng(c) for c in cells]
    pts = pd.DataFrame({"h3": pd.Series(list(cells), dtype=str), "lat": [round(lat, 5) for lat, _ in centres],
                        "lon": [round(lon, 5) for _, lon in centres]})
    pts["i"] = range(len(pts))
    return con.from_df(pts).query("p", """
        SELECT p.h3, p.lat, p.lon, coalesce(min(t.name), '') AS town
        FROM p LEFT JOIN areas t ON t.level = 'town' AND t.geom IS NOT NULL AND ST_Within(ST_Point(p.lon, p.lat), t.geom)
        GROUP BY p.i, p.h3, p.lat, p.lon ORDER BY p.i""").df()
