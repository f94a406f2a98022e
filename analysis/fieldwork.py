"""驻点走访 (field work): stations and their reception days, cadres' visits against the monthly
target, pairing load, and cases at buildings, enterprises and commercial streets. The households
reached and the villages' visit coverage are in analysis/fieldwork_reach.py (re-exported here).

Every function takes a connection and a CaseFilter. Its period (`period`) is read on the visits'
dates and on the cases' received dates; its area_prefix keeps the rows in that area (stations,
buildings, villages by their own area; cadres by their own area or a visit in the area). A frame
whose rows are areas has a column `area_code`. A function returns an empty frame (with its
columns) when the warehouse lacks what it needs (no stations, no visits, ...): `missing` names
what to load. Cadres appear only by their masked name (name_masked).

Definitions
- Period: the filter's dates; an open end as analysis.metrics.resolve_period closes it, and on a
  warehouse without cases the last `period_default_months` months up to the data's own date.
- Months of the period: each calendar month it touches counts the share of its days inside the
  period (a whole month 1, 1-15 June 0.5); visits_per_month = visits / months.
- Station: 坐班日 are the day numbers written in reception_days ('5,15,25', '每月5日、15日').
  Cases have no station column: a station's cases are the cases (all of the filter's terms)
  whose area lies in the station's area (its village), and its proxy petitions (代理信访) those
  of them whose channel is the vocabulary's `proxy` term; two stations in one village share
  them. Staff present on a reception day: a visit is logged on that date in the station's area.
- Cadres: a cadre meets the target when visits_per_month >= `fieldwork_visits_per_month`.
  Visits by a cadre id the roster lacks are listed too (in_roster false, no name).
- Pairing: households with a paired cadre id (连心户 or not) per cadre, against
  `fieldwork_pairs_min` .. `fieldwork_pairs_max`.
- Buildings: the ledger has no building id; a case counts at the nearest building whose point
  is within `fieldwork_building_radius_m` metres (great-circle) of the case's point.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import pandas as pd

from etl import codes, settings, vocab
from etl.views import as_of, ensure_views

from . import metrics
from .filters import CaseFilter

NO_TOWN = "区直单位及其他"  # the town of cadres who belong to no town (district departments)
LOAD_LABELS = {"under": "结对不足", "ok": "适中", "over": "结对过多"}
NEEDS = {"stations": "群众工作站", "visits": "走访记录", "cadres": "干部名册", "households": "民情数据库 (户)",
         "buildings": "商务楼宇、非公企业、商业街区", "cases": "诉求台账", "areas": "区划边界"}

STATION_COLUMNS = ["station_id", "name", "area_code", "town_code", "town", "village", "building_id", "staff",
                   "reception_days", "reception_days_in_period", "days_with_visits", "presence_share",
                   "cases", "proxy_petitions", "lon", "lat"]
VILLAGE_COLUMNS = ["area_code", "name", "town_code", "town"]
CADRE_COLUMNS = ["cadre_id", "name_masked", "unit", "role", "area_code", "town_code", "town", "in_roster",
                 "visits", "months", "visits_per_month", "target", "meets_target"]
SUMMARY_COLUMNS = {"town": ["area_code", "town"], "unit": ["unit"]}
PAIRING_COLUMNS = ["cadre_id", "name_masked", "unit", "role", "area_code", "town", "in_roster", "households",
                   "key_households", "load", "load_label"]
BUILDING_COLUMNS = ["building_id", "kind", "name", "area_code", "town_code", "town", "village", "lon", "lat", "units",
                    "has_station", "cases", "radius_m"]


def stations(con: duckdb.DuckDBPyConnection, flt: CaseFilter) -> pd.DataFrame:
    """Per station: where it is, its 坐班日, the reception days in the period and those with a
    visit logged in its area, presence_share (of the two), cases and proxy petitions (module
    docstring). Ordered by presence_share (lowest first, no reception day last), then area."""
    if not _has(con, "stations"):
        return _empty(STATION_COLUMNS)
    flt = closed(con, flt)
    start, end = flt.start, flt.end
    sw, sp = _area(flt, "s")
    vw, vp = _visits_in(flt.without_area())
    cw, cp = flt.without_area().where("c")
    df = con.execute(f"""
        WITH s AS (
            SELECT s.*, list_filter(list_transform(regexp_extract_all(coalesce(s.reception_days, ''), '[0-9]+'),
                                                   x -> TRY_CAST(x AS INTEGER)), d -> d BETWEEN 1 AND 31) AS days
            FROM stations s WHERE {sw}),
        cal AS (SELECT CAST(d AS DATE) AS day FROM generate_series($p_start::TIMESTAMP, $p_end::TIMESTAMP, INTERVAL 1 DAY) t(d)),
        sd AS (SELECT s.station_id, s.area_code, cal.day FROM s JOIN cal ON list_contains(s.days, day(cal.day))),
        vd AS (SELECT DISTINCT v.area_code, v.received_at AS day FROM {_VISITS} v WHERE {vw}),
        present AS (SELECT sd.station_id, count(DISTINCT sd.day) AS n FROM sd JOIN vd ON vd.day = sd.day
                    AND starts_with(vd.area_code, sd.area_code) GROUP BY 1),
        cal_n AS (SELECT station_id, count(*) AS n FROM sd GROUP BY 1),
        ca AS (SELECT c.area_code, count(*) AS n, count(*) FILTER (c.channel = $proxy) AS proxy
               FROM cases c WHERE {cw} GROUP BY 1),
        cs AS (SELECT s.station_id, sum(ca.n) AS n, sum(ca.proxy) AS proxy FROM s JOIN ca
               ON starts_with(ca.area_code, s.area_code) GROUP BY 1)
        SELECT s.station_id, s.name, s.area_code, {codes.sql_town_code('s.area_code')} AS town_code, t.name AS town,
               CASE WHEN length(s.area_code) = 12 THEN a.name END AS village, s.building_id, s.staff,
               array_to_string(list_sort(list_distinct(s.days)), ',') AS reception_days,
               coalesce(cal_n.n, 0) AS reception_days_in_period, coalesce(present.n, 0) AS days_with_visits,
               coalesce(present.n, 0) / nullif(cal_n.n, 0) AS presence_share,
               coalesce(cs.n, 0) AS cases, coalesce(cs.proxy, 0) AS proxy_petitions, s.lon, s.lat
        FROM s LEFT JOIN areas a ON a.code = s.area_code
        LEFT JOIN areas t ON t.code = {codes.sql_town_code('s.area_code')}
        LEFT JOIN cal_n USING (station_id) LEFT JOIN present USING (station_id) LEFT JOIN cs USING (station_id)
        ORDER BY presence_share NULLS LAST, s.area_code, s.station_id
        """,
        sp | vp | cp | {"p_start": start, "p_end": end, "proxy": vocab.term("channel", "proxy")}).df()
    return _ints(df, ["reception_days_in_period", "days_with_visits", "cases", "proxy_petitions"])


def villages_without_station(con: duckdb.DuckDBPyConnection, flt: CaseFilter) -> pd.DataFrame:
    """Villages (村/社区) in the area without a station placed in them; empty when no station
    is loaded at all (nothing to compare with)."""
    if not _has(con, "stations"):
        return _empty(VILLAGE_COLUMNS)
    aw, ap = _area(flt, "a")
    return con.execute(f"""
        SELECT a.area_code, a.name, a.parent_code AS town_code, t.name AS town
        FROM (SELECT *, code AS area_code FROM areas) a LEFT JOIN areas t ON t.code = a.parent_code
        WHERE a.level = 'village' AND {aw}
          AND NOT EXISTS (SELECT 1 FROM stations s WHERE s.area_code = a.code)
        ORDER BY a.code""", ap).df()


def cadre_visits(con: duckdb.DuckDBPyConnection, flt: CaseFilter) -> pd.DataFrame:
    """Per cadre: visits in the period, months of the period, visits_per_month, the target
    (`fieldwork_visits_per_month`) and meets_target; cadres of the area (by their own area or a
    visit in the area) with no visit have 0. Fewest visits per month first."""
    if not _has(con, "visits") and not _has(con, "cadres"):
        return _empty(CADRE_COLUMNS)
    flt = closed(con, flt)
    vw, vp = _visits_in(flt)
    cw, cp = _area(flt, "c")
    target = float(settings.get("fieldwork_visits_per_month"))
    months = months_in(flt.start, flt.end)
    df = con.execute(f"""
        WITH v AS (SELECT v.cadre_id, count(*) AS visits FROM {_VISITS} v WHERE {vw} GROUP BY 1),
        cd AS (SELECT c.* FROM cadres c WHERE {cw} OR c.cadre_id IN (SELECT cadre_id FROM v))
        SELECT coalesce(cd.cadre_id, v.cadre_id) AS cadre_id, cd.name_masked, cd.unit, cd.role, cd.area_code,
               {codes.sql_town_code('cd.area_code')} AS town_code, t.name AS town,
               cd.cadre_id IS NOT NULL AS in_roster, coalesce(v.visits, 0) AS visits
        FROM cd FULL JOIN v ON v.cadre_id = cd.cadre_id
        LEFT JOIN areas t ON t.code = {codes.sql_town_code('cd.area_code')}
        ORDER BY 1""", vp | cp).df()
    df = _ints(df, ["visits"])
    df["months"] = round(months, 4)
    df["visits_per_month"] = df["visits"] / months if months > 0 else float("nan")
    df["target"] = target
    df["meets_target"] = df["visits_per_month"] >= target
    return df.sort_values(["visits_per_month", "cadre_id"], kind="stable").reset_index(drop=True)[CADRE_COLUMNS]


def cadre_summary(con: duckdb.DuckDBPyConnection, flt: CaseFilter, by: str = "town") -> pd.DataFrame:
    """Cadres (in the roster) per town (`area_code`, town; cadres of no town under NO_TOWN) or per
    unit: cadres, meeting the target, share meeting it, cadres without a visit, visits. Lowest share
    first, then the largest share of cadres without a visit."""
    if by not in SUMMARY_COLUMNS:
        raise ValueError(f"unknown grouping {by!r}; expected one of {list(SUMMARY_COLUMNS)}")
    keys = SUMMARY_COLUMNS[by]
    cols = keys + ["cadres", "meeting", "share", "without_visits", "visits"]
    df = cadre_visits(con, flt)
    df = df[df["in_roster"].astype(bool)].copy()
    if by == "town":
        df["area_code"] = df["town_code"]
        df["town"] = df["town"].fillna(NO_TOWN)
    else:
        df["unit"] = df["unit"].fillna("未填单位")
    if df.empty:
        return _empty(cols)
    out = (df.assign(no_visit=df["visits"] == 0)
             .groupby(keys, dropna=False, sort=False)
             .agg(cadres=("cadre_id", "size"), meeting=("meets_target", "sum"), without_visits=("no_visit", "sum"),
                  visits=("visits", "sum"))
             .reset_index())
    out["share"] = out["meeting"] / out["cadres"]
    out = _ints(out, ["cadres", "meeting", "without_visits", "visits"])
    out["idle"] = out["without_visits"] / out["cadres"]
    out["no_town"] = out[keys[0]].isna()  # NO_TOWN (or no unit) last
    return out.sort_values(["no_town", "share", "idle", keys[-1]], ascending=[True, True, False, True]) \
        .reset_index(drop=True)[cols]


def cadres_without_visits(con: duckdb.DuckDBPyConnection, flt: CaseFilter) -> pd.DataFrame:
    """Cadres of the roster (of the area) who logged no visit in the period."""
    return without_visits(cadre_visits(con, flt))


def without_visits(cadres: pd.DataFrame) -> pd.DataFrame:
    """The rows of `cadre_visits` of roster cadres with no visit, by town and cadre."""
    return cadres[(cadres["in_roster"] & (cadres["visits"] == 0)).astype(bool)] \
        .sort_values(["town_code", "cadre_id"], na_position="last").reset_index(drop=True)


def pairing_load(con: duckdb.DuckDBPyConnection, flt: CaseFilter | None = None) -> pd.DataFrame:
    """Per pairing cadre (a cadre id some household is paired with): households paired with the
    cadre (all of them, wherever they live), of which 连心户, and the load against
    `fieldwork_pairs_min` .. `fieldwork_pairs_max` (under / ok / over). With an area, the cadres
    with at least one paired household in it. Over-loaded first, then under-loaded."""
    if not _has(con, "households"):
        return _empty(PAIRING_COLUMNS)
    ensure_views(con)
    hw, hp = _area(flt or CaseFilter(), "f")
    lo, hi = int(settings.get("fieldwork_pairs_min")), int(settings.get("fieldwork_pairs_max"))
    df = con.execute(f"""
        WITH p AS (SELECT f.paired_cadre_id AS cadre_id, count(*) AS households,
                          count(*) FILTER (f.needs_pairing) AS key_households, count(*) FILTER ({hw}) AS in_area
                   FROM household_facts f WHERE f.paired_cadre_id IS NOT NULL GROUP BY 1)
        SELECT p.cadre_id, c.name_masked, c.unit, c.role, c.area_code, t.name AS town, c.cadre_id IS NOT NULL AS in_roster,
               p.households, p.key_households,
               CASE WHEN p.households > $hi THEN 'over' WHEN p.households < $lo THEN 'under' ELSE 'ok' END AS load
        FROM p LEFT JOIN cadres c USING (cadre_id)
        LEFT JOIN areas t ON t.code = {codes.sql_town_code('c.area_code')}
        WHERE p.in_area > 0
        ORDER BY CASE load WHEN 'over' THEN 0 WHEN 'under' THEN 1 ELSE 2 END, p.households DESC, p.cadre_id""",
        hp | {"lo": lo, "hi": hi}).df()
    df = _ints(df, ["households", "key_households"])
    df["load_label"] = df["load"].map(LOAD_LABELS)
    return df[PAIRING_COLUMNS]


def buildings(con: duckdb.DuckDBPyConnection, flt: CaseFilter) -> pd.DataFrame:
    """Per building, enterprise or commercial street (kind: the building_kind term): whether it
    has a station (its flag, or a station naming its id) and the cases of the filter (any area)
    whose point is within `fieldwork_building_radius_m` of it and nearer to it than to any other."""
    if not _has(con, "buildings"):
        return _empty(BUILDING_COLUMNS)
    radius = float(settings.get("fieldwork_building_radius_m"))
    flt = closed(con, flt)
    bw, bp = _area(flt, "b")
    cw, cp = flt.without_area().where("c")
    df = con.execute(f"""
        WITH c AS (SELECT c.case_id, c.lon, c.lat FROM cases c WHERE {cw} AND c.lon IS NOT NULL AND c.lat IS NOT NULL),
        near AS (
            SELECT c.case_id, arg_min(b.building_id, ST_Distance_Sphere(ST_Point(c.lat, c.lon), ST_Point(b.lat, b.lon)))
                       AS building_id
            FROM c JOIN buildings b ON b.lat IS NOT NULL AND abs(c.lat - b.lat) <= $deg
                 AND abs(c.lon - b.lon) <= $deg / cos(radians(b.lat))
                 AND ST_Distance_Sphere(ST_Point(c.lat, c.lon), ST_Point(b.lat, b.lon)) <= $radius
            GROUP BY 1),
        n AS (SELECT building_id, count(*) AS cases FROM near GROUP BY 1)
        SELECT b.building_id, b.kind, b.name, b.area_code, {codes.sql_town_code('b.area_code')} AS town_code, t.name AS town,
               CASE WHEN length(b.area_code) = 12 THEN a.name END AS village, b.lon, b.lat, b.units,
               b.has_station OR EXISTS (SELECT 1 FROM stations s WHERE s.building_id = b.building_id) AS has_station,
               coalesce(n.cases, 0) AS cases, $radius AS radius_m
        FROM buildings b LEFT JOIN n USING (building_id) LEFT JOIN areas a ON a.code = b.area_code
        LEFT JOIN areas t ON t.code = {codes.sql_town_code('b.area_code')}
        WHERE {bw}
        ORDER BY cases DESC, b.building_id""",
        bp | cp | {"radius": radius, "deg": radius / 111_000 * 1.01}).df()
    return _ints(df, ["cases"])[BUILDING_COLUMNS]


def period(con: duckdb.DuckDBPyConnection, flt: CaseFilter) -> tuple[dt.date, dt.date]:
    """The filter's period, closed (module docstring)."""
    if flt.start is not None and flt.end is not None:
        return flt.start, flt.end
    resolved = metrics.resolve_period(con, flt)
    if resolved is not None:
        return resolved
    end = flt.end or as_of(con).at.date()
    n = int(settings.get("period_default_months"))
    y, m = divmod(end.year * 12 + end.month - 1 - (n - 1), 12)
    return flt.start or dt.date(y, m + 1, 1), end


def closed(con: duckdb.DuckDBPyConnection, flt: CaseFilter) -> CaseFilter:
    """The filter with its period closed (`period`)."""
    start, end = period(con, flt)
    return dataclasses.replace(flt, start=start, end=end)


def months_in(start: dt.date, end: dt.date) -> float:
    """Months of the period [start, end]: each calendar month counts the share of its days inside."""
    total, day = 0.0, dt.date(start.year, start.month, 1)
    while day <= end:
        nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        inside = (min(end, nxt - dt.timedelta(days=1)) - max(start, day)).days + 1
        total += inside / (nxt - day).days
        day = nxt
    return total


IDLE_COLUMNS = ["area_code", "town", "visits_before", "last_visit"]


def idle_towns(con: duckdb.DuckDBPyConnection, flt: CaseFilter, days: int | None = None) -> pd.DataFrame:
    """Towns of the area with visits placed in them earlier in the period but none in the last
    `days` (default `fieldwork_idle_days`) up to its end (走访中断): area_code, town,
    visits_before, last_visit; the most visits before first."""
    if not _has(con, "visits"):
        return _empty(IDLE_COLUMNS)
    flt = closed(con, flt)
    days = int(settings.get("fieldwork_idle_days")) if days is None else int(days)
    cutoff = flt.end - dt.timedelta(days=days)
    vw, vp = _visits_in(flt)
    town = codes.sql_town_code("v.area_code")
    df = con.execute(f"""
        SELECT {town} AS area_code, t.name AS town,
               count(*) FILTER (v.received_at::DATE <= $cutoff) AS visits_before, max(v.received_at)::DATE AS last_visit
        FROM {_VISITS} v LEFT JOIN areas t ON t.code = {town}
        WHERE {vw} AND {town} IS NOT NULL
        GROUP BY 1, 2 HAVING count(*) FILTER (v.received_at::DATE > $cutoff) = 0 AND visits_before > 0
        ORDER BY visits_before DESC, 1""", vp | {"cutoff": cutoff}).df()
    return _ints(df, ["visits_before"])


def missing(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The field-work kinds (KINDS names) the warehouse has no row of, in load order."""
    return [k for k in ("stations", "cadres", "visits", "households", "buildings") if not _has(con, k)]


# ---------------------------------------------------------------------------- helpers

# Visits as a relation CaseFilter.where reads: the visit's date in the filter's date column.
_VISITS = "(SELECT *, CAST(visited_at AS TIMESTAMP) AS received_at FROM visits)"


def _visits_in(flt: CaseFilter) -> tuple[str, dict]:
    """The condition on `_VISITS v` of the filter's period (closed by the caller) and area only."""
    return CaseFilter(flt.start, flt.end, area_prefix=flt.area_prefix).where("v")


def _area(flt: CaseFilter, alias: str) -> tuple[str, dict]:
    """The condition of the filter's area alone on `alias`.area_code."""
    return CaseFilter(area_prefix=flt.area_prefix).where(alias)


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _ints(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    df[cols] = df[cols].fillna(0).astype("int64")
    return df


from .fieldwork_reach import (  # noqa: E402 - re-exported: one module for the page and the CLI
    households_reached, must_visit_unvisited, unvisited_key_households, village_coverage)

__all__ = ["idle_towns", "without_visits", "stations", "villages_without_station", "cadre_visits", "cadre_summary", "cadres_without_visits",
           "pairing_load", "buildings", "households_reached", "unvisited_key_households", "village_coverage",
           "must_visit_unvisited", "period", "months_in", "missing"]
