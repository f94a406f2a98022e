"""One area's profile (区域档案): its neighbours, how its figures compare with theirs and with
the district (or its town), and its monthly trend per 1,000 households against the district's.
Plain DataFrames from DuckDB; never imports streamlit.

Definitions:
- Level of a code: the district, a town (乡镇/街道) or a village (村/社区), from its length (etl.codes).
- Neighbours (相邻): the other areas of the same level whose outlines share at least one point
  with the area's (DuckDB spatial ST_Intersects: a shared border or a shared corner, like the
  Queen contiguity of the hot-spot analysis; overlapping outlines count too). Villages of
  other towns are neighbours when they touch. An area without an outline has none.
- Comparison rows (`comparison`): for a village, the village (本村), its neighbours, the mean
  village of its town (本镇平均) and the mean village of the district (全区平均); for a town,
  the town, its neighbouring towns and the mean town of the district; for the district, every
  town, the district total (全区合计) and the mean town. Case figures follow the filter
  (period, category, channel, status; its area is ignored) as `analysis.metrics.case_metrics_by`
  defines them; households are the latest 民情 records. An average row is its scope's totals
  (the town's or the district's own figures, cases placed only at town level included; the
  district is the sum of its towns) divided by the number of areas of the row level in the
  scope (all of them, zeros included), so its rates are the scope's own rates:
  per_1000 = received per 1,000 households (the SQL macro mq_per_1000, etl/views.py),
  closure_rate = closed / received, satisfaction_rate = satisfied / rated,
  key_share (连心户占比) = 连心户 / households.
  A rate is NaN when its denominator is 0 (no households, no cases, nothing rated).
  per_1000_rank: the area's rank by per_1000 among all areas of its level in the district
  (1 = highest; areas without households are not ranked); `ranked` how many are.
- Monthly trend (`monthly`): received and closed per month of the filter's period (every
  month listed, zeros included) for the area and for the district, each also per 1,000 of
  its households (mq_per_1000 of the latest household count: the ledgers keep no monthly
  population).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd

from etl.codes import level_of, sql_town_code, town_of, village_of
from etl.views import ensure_views

from . import households as hh
from . import metrics
from .filters import CaseFilter

# Counts summed for totals and averaged for the average rows; the rates are derived from them.
COUNTS = ("received", "closed", "open", "overdue", "rated", "satisfied", "households", "key_assistance")
# Roles of comparison rows: the area, a neighbour, a town of the district (for the district), the
# mean village of the area's town, the mean area of the district, the district's total.
ROLES = ("self", "neighbour", "child", "town_mean", "district_mean", "district_total")


def neighbours(con: duckdb.DuckDBPyConnection, code: str) -> pd.DataFrame:
    """Areas of the same level sharing a border or a corner with `code`: code, name, town_code,
    town (its town's name; '' for towns), in code order. Empty for the district, an unknown
    code or an area without an outline."""
    cols = ["code", "name", "town_code", "town"]
    if level_of(code) == "district":
        return pd.DataFrame(columns=cols)
    return con.execute(f"""
        SELECT b.code, b.name,
               CASE WHEN b.level = 'village' THEN {sql_town_code('b.code')} ELSE '' END AS town_code,
               coalesce(t.name, '') AS town
        FROM areas a
        JOIN areas b ON b.level = a.level AND b.code <> a.code AND b.geom IS NOT NULL
                    AND ST_Intersects(a.geom, b.geom)
        LEFT JOIN areas t ON t.code = {sql_town_code('b.code')} AND t.level = 'town' AND b.level = 'village'
        WHERE a.code = ? AND a.geom IS NOT NULL
        ORDER BY b.code""", [code]).df()[cols]


def figures(con: duckdb.DuckDBPyConnection, flt: CaseFilter, level: str,
            categories: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every area of `level` ('town' or 'village') in the district, zeros included: code, name,
    town, the COUNTS, per_1000, closure_rate, satisfaction_rate, key_share, per_1000_rank,
    ranked (definitions: module docstring; the filter's area is ignored). `categories`:
    analysis.households.category_counts of the level when the caller has it (it ignores the filter)."""
    keep = ["code", "name", "received", "closed", "open", "overdue", "rated", "satisfied"]
    cols = keep + ["households", "key_assistance"]
    if flt.start is None:  # no cases in the warehouse: households only
        cases = con.execute("SELECT code, name FROM areas WHERE level = ? ORDER BY code", [level]).df()
        for k in keep[2:]:
            cases[k] = 0
    else:
        cases = metrics.case_metrics_by(con, flt.without_area(), level, measures=keep[2:])[keep]
    homes = (hh.category_counts(con, level) if categories is None else categories)[["code", "households", "key_assistance"]]
    df = cases.merge(homes, on="code", how="left")
    df[["households", "key_assistance"]] = df[["households", "key_assistance"]].fillna(0).astype("int64")
    df = _with_rates(con, df[cols])
    ranked = df["per_1000"].notna()
    df["per_1000_rank"] = df["per_1000"].where(ranked).rank(ascending=False, method="min").astype("Int64")
    df["ranked"] = int(ranked.sum())
    towns = dict(con.execute("SELECT code, name FROM areas WHERE level = 'town'").fetchall())
    df.insert(2, "town", df["code"].map(lambda c: towns.get(town_of(c), "") if village_of(c) else ""))
    return df


def _with_rates(con: duckdb.DuckDBPyConnection, df: pd.DataFrame) -> pd.DataFrame:
    """`df` (rows with the COUNTS) with per_1000, closure_rate, satisfaction_rate and key_share."""
    return _computed(con, df, "mq_per_1000(received, households) AS per_1000, "
                              "closed / nullif(received, 0) AS closure_rate, satisfied / nullif(rated, 0) AS satisfaction_rate, "
                              "key_assistance / nullif(households, 0) AS key_share")


def _computed(con: duckdb.DuckDBPyConnection, df: pd.DataFrame, columns: str) -> pd.DataFrame:
    """`df` with `columns` (SQL over its numeric columns) appended, computed in DuckDB, where the
    warehouse's macros are defined (only the numbers travel: text columns are slow to scan)."""
    ensure_views(con)
    out = con.from_df(df.select_dtypes("number")).project(columns).df()
    out.index = df.index
    return pd.concat([df, out], axis=1)


def comparison(con: duckdb.DuckDBPyConnection, code: str, flt: CaseFilter,
               figures_of: Callable[[str], pd.DataFrame] | None = None) -> pd.DataFrame:
    """The area, its neighbours (or, for the district, its towns) and the average rows (module
    docstring). Columns: role (one of ROLES), code, name, town, the COUNTS, per_1000,
    closure_rate, satisfaction_rate, key_share, per_1000_rank, ranked, areas (how many areas
    a total or average row is over; NaN on the areas' own rows). `figures_of(level)`: the
    caller's `figures(con, flt, level)` when it already has them (a cache)."""
    level = level_of(code)
    row_level = "town" if level == "district" else level
    figures_of = figures_of or (lambda lv: figures(con, flt, lv))
    figs = figures_of(row_level)
    town_figs = figs if row_level == "town" else figures_of("town")
    district = con.execute("SELECT code, name FROM areas WHERE level = 'district'").fetchone() or ("", "全区")
    unit = "每村" if row_level == "village" else "每乡镇"
    whole = town_figs[list(COUNTS)].sum()  # the district: the sum of its towns

    if level == "district":
        body = figs.assign(role="child")
        extra = [_scope_row(whole, 1, len(figs), district[0], district[1], "district_total"),
                 _scope_row(whole, len(figs), len(figs), district[0], f"{district[1]} ({unit})", "district_mean")]
    else:
        near = set(neighbours(con, code)["code"])
        me = figs[figs["code"] == code].assign(role="self")
        nb = figs[figs["code"].isin(near)].assign(role="neighbour")
        nb = nb.sort_values(["per_1000", "received", "code"], ascending=[False, False, True], na_position="last")
        body = pd.concat([me, nb])
        extra = []
        if level == "village":
            town = town_figs[town_figs["code"] == town_of(code)]
            n = int(figs["code"].str.startswith(town_of(code)).sum())
            name = town["name"].iloc[0] if len(town) else town_of(code)
            extra.append(_scope_row(town[list(COUNTS)].sum(), n, n, town_of(code), f"{name} ({unit})", "town_mean"))
        extra.append(_scope_row(whole, len(figs), len(figs), district[0], f"{district[1]} ({unit})", "district_mean"))
    avg = _with_rates(con, pd.DataFrame(extra))  # the rates of the totals, then the counts averaged
    avg[list(COUNTS)] = avg[list(COUNTS)].div(avg.pop("divide_by").where(lambda n: n > 0), axis=0).fillna(0.0)
    avg["town"] = ""
    out = pd.concat([body, avg], ignore_index=True)
    cols = ["role", "code", "name", "town", *COUNTS, "per_1000", "closure_rate", "satisfaction_rate", "key_share",
            "per_1000_rank", "ranked", "areas"]
    return out[cols]


def _scope_row(totals: pd.Series, divide_by: int, areas: int, code: str, name: str, role: str) -> dict:
    """A total (`divide_by` 1) or average row of a scope over `areas` areas: its COUNTS, to be divided
    by `divide_by` once the rates are taken."""
    return {"code": code, "name": name, "role": role, "areas": areas, "divide_by": divide_by,
            **{k: float(totals[k]) for k in COUNTS}}


def _months(start: dt.date, end: dt.date) -> list[str]:
    y, m = start.year, start.month
    out = []
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


MONTHLY_COLUMNS = ["scope", "month", "received", "closed", "households", "received_per_1000", "closed_per_1000"]


def monthly_counts(con: duckdb.DuckDBPyConnection, prefix: str, flt: CaseFilter) -> pd.DataFrame:
    """One area's (`prefix`; '' the district) months of the filter's period: month (YYYY-MM),
    received, closed, households, received_per_1000, closed_per_1000 (NaN without households);
    every month listed. Empty when the period is open. The filter's own area is ignored."""
    cols = MONTHLY_COLUMNS[1:]
    if flt.start is None or flt.end is None:
        return pd.DataFrame(columns=cols)
    homes = int(con.execute("SELECT count(*) FROM households WHERE starts_with(area_code, ?)", [prefix]).fetchone()[0])
    by = metrics.case_metrics_by(con, replace(flt, area_prefix=prefix), "month",
                                 measures=["received", "closed"])[["month", "received", "closed"]]
    df = pd.DataFrame({"month": _months(flt.start, flt.end)}).merge(by, on="month", how="left")
    df[["received", "closed"]] = df[["received", "closed"]].fillna(0).astype("int64")
    df["households"] = homes
    return _computed(con, df, "mq_per_1000(received, households) AS received_per_1000, "
                              "mq_per_1000(closed, households) AS closed_per_1000")


def combine_monthly(area: pd.DataFrame | None, district: pd.DataFrame) -> pd.DataFrame:
    """`monthly_counts` of an area (None for the district itself) and of the district, one table
    with `scope` 'area' / 'district'."""
    parts = ([area.assign(scope="area")] if area is not None else []) + [district.assign(scope="district")]
    return pd.concat(parts, ignore_index=True)[MONTHLY_COLUMNS]


def monthly(con: duckdb.DuckDBPyConnection, code: str, flt: CaseFilter) -> pd.DataFrame:
    """Per month of the filter's period: scope ('area' / 'district'), month (YYYY-MM),
    received, closed, households, received_per_1000, closed_per_1000 (NaN without households).
    For the district itself only the 'district' rows. Empty when the period is open."""
    own = None if level_of(code) == "district" else monthly_counts(con, code, flt)
    return combine_monthly(own, monthly_counts(con, "", flt))


def group_counts(con: duckdb.DuckDBPyConnection, prefix: str, flt: CaseFilter, by: str) -> pd.DataFrame:
    """Received and closed cases of one area (`prefix`; '' the district) per category or channel
    (`by`). The filter's own area is ignored."""
    if by not in ("category", "channel"):
        raise ValueError(f"breakdown is by 'category' or 'channel', not {by!r}")
    if flt.start is None or flt.end is None:
        return pd.DataFrame(columns=[by, "received", "closed"])
    return metrics.case_metrics_by(con, replace(flt, area_prefix=prefix), by,
                                   measures=["received", "closed"])[[by, "received", "closed"]]


def combine_breakdown(area: pd.DataFrame, district: pd.DataFrame, by: str) -> pd.DataFrame:
    """`group_counts` of an area and of the district side by side: `by`, received, share (of the
    area's received), closed, closure_rate, district_received, district_share. Every group
    with a case in the area or the district, most received first."""
    cols = [by, "received", "share", "closed", "closure_rate", "district_received", "district_share"]
    df = area[[by, "received", "closed"]].merge(
        district[[by, "received"]].rename(columns={"received": "district_received"}), on=by, how="outer")
    if df.empty:
        return pd.DataFrame(columns=cols)
    df[["received", "closed", "district_received"]] = df[["received", "closed", "district_received"]].fillna(0).astype("int64")
    df = df[(df["received"] > 0) | (df["district_received"] > 0)].copy()
    tot, dtot = df["received"].sum(), df["district_received"].sum()
    df["share"] = df["received"] / tot if tot else np.nan
    df["district_share"] = df["district_received"] / dtot if dtot else np.nan
    df["closure_rate"] = df["closed"] / df["received"].where(df["received"] > 0)
    return df.sort_values(["received", "district_received", by], ascending=[False, False, True])[cols].reset_index(drop=True)


def breakdown(con: duckdb.DuckDBPyConnection, code: str, flt: CaseFilter, by: str) -> pd.DataFrame:
    """Cases of the area per category or channel (`by`) with the district's share alongside
    (`combine_breakdown`)."""
    prefix = "" if level_of(code) == "district" else code
    return combine_breakdown(group_counts(con, prefix, flt, by), group_counts(con, "", flt, by), by)
