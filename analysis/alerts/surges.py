"""Surges (异常增多): a village's or town's count of one category in the last
`alert_window_days` days up to the data's own date, improbably high against that place's own
history and the district's trend for the category.

Method: the exact conditional test of two Poisson rates (Przyborowski & Wilenski 1940,
"Homogeneity of results in testing samples from Poisson series", Biometrika 31: 313-323;
the "C-test" of Krishnamoorthy & Thomson 2004, J. Stat. Plan. Inference 119: 23-35), one per
place x category cell, with the false discovery rate controlled over all cells by
Benjamini-Hochberg (geo.fdr; the use of FDR over many surveillance series follows Noufaily et
al. 2013, Stat. Med. 32: 1206-1222, and Farrington et al. 1996, JRSS A 159: 547-563, for the
idea of a place's own baseline corrected for trend).

For a cell: x cases in the window (W days), b cases in the baseline (the `alert_baseline_weeks`
weeks before the window, k = 7 * weeks / W windows long). Under "no surge" the cell's rate in
the window is its baseline rate times the district's trend R for the category, so, given the
n = x + b cases of the cell, x ~ Binomial(n, R / (k + R)) and the upper-tail p-value is
P(X >= x). Conditioning on n makes the test exact whatever the cell's unknown rate, so a
village with no history is not flagged for its first case (the plug-in Poisson test with a
baseline of 0 would call any case a surge). The expected count shown is R * b / k.

The trend R is the district's window-to-baseline ratio of the category without the cell itself
(its own surge would otherwise raise the expectation it is tested against), with one case
added to each side so that a category the district rarely sees has R near 1:
R = (D_w - x + 1) / ((D_b - b) / k + 1).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from etl import settings
from geo import fdr

def windows(as_of: dt.date, window_days: int | None = None, baseline_weeks: int | None = None) -> tuple[dt.date, dt.date]:
    """(first day of the alert window, first day of the baseline) for the data's date `as_of`;
    the window ends at `as_of` inclusive, the baseline ends the day before the window."""
    w = int(window_days or settings.get("alert_window_days"))
    weeks = int(baseline_weeks or settings.get("alert_baseline_weeks"))
    start = as_of - dt.timedelta(days=w - 1)
    return start, start - dt.timedelta(days=7 * weeks)


def cell_counts(con: duckdb.DuckDBPyConnection, as_of: dt.date, window_days: int | None = None,
                baseline_weeks: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells, district): per village and town x category the window count `observed` and the
    baseline count `baseline` (cells with a case in either); per category the district's."""
    start, base = windows(as_of, window_days, baseline_weeks)
    params = {"start": start, "base": base, "end": as_of}
    cells = con.execute("""
        WITH c AS (SELECT village_code, town_code, category, received_date >= $start AS in_window
                   FROM case_facts WHERE received_date >= $base AND received_date <= $end)
        SELECT 'village' AS level, village_code AS area_code, category,
               count(*) FILTER (in_window) AS observed, count(*) FILTER (NOT in_window) AS baseline
        FROM c WHERE village_code IS NOT NULL GROUP BY ALL
        UNION ALL
        SELECT 'town', town_code, category, count(*) FILTER (in_window), count(*) FILTER (NOT in_window)
        FROM c WHERE town_code IS NOT NULL GROUP BY ALL
        ORDER BY 1, 2, 3""", params).df()
    district = con.execute("""
        SELECT category, count(*) FILTER (received_date >= $start) AS observed,
               count(*) FILTER (received_date < $start) AS baseline
        FROM case_facts WHERE received_date >= $base AND received_date <= $end GROUP BY ALL""", params).df()
    return cells, district


def score(cells: pd.DataFrame, district: pd.DataFrame, k: float, q: float | None = None) -> pd.DataFrame:
    """`cells` (observed, baseline, category) with trend, expected, p, q and `surge` (q <= the
    alert_q setting or `q`); `district`: per category observed and baseline; `k`: baseline
    length in windows. Pure: the no-pattern simulation in the tests calls it directly."""
    alpha = float(q if q is not None else settings.get("alert_q"))
    out = cells.copy()
    if out.empty:
        return out.assign(trend=[], expected=[], p=[], q=[], surge=[])
    d = district.set_index("category")
    dw = out["category"].map(d["observed"]).fillna(0).to_numpy(float)
    db = out["category"].map(d["baseline"]).fillna(0).to_numpy(float)
    x = out["observed"].to_numpy(float)
    b = out["baseline"].to_numpy(float)
    trend = (np.maximum(dw - x, 0) + 1) / (np.maximum(db - b, 0) / k + 1)
    out["trend"] = trend
    out["expected"] = trend * b / k
    p0 = trend / (k + trend)
    out["p"] = np.where(x > 0, stats.binom.sf(x - 1, x + b, p0), 1.0)
    out["q"] = fdr.q_values(out["p"].to_numpy())
    out["surge"] = fdr.significance(out["p"].to_numpy(), alpha)[0] & (x > out["expected"])
    return out


def surges(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """The flagged cells, most improbable first: level, area_code, area_name, town_code,
    category, observed, baseline, expected, trend, p, q, case_ids (the window's cases)."""
    w = int(settings.get("alert_window_days"))
    weeks = int(settings.get("alert_baseline_weeks"))
    cells, district = cell_counts(con, as_of, w, weeks)
    scored = score(cells, district, 7 * weeks / w)
    hits = scored[scored["surge"]].copy() if not scored.empty else scored
    cols = ["level", "area_code", "area_name", "town_code", "category", "observed", "baseline", "expected",
            "trend", "p", "q", "case_ids"]
    if hits.empty:
        return pd.DataFrame(columns=cols)
    hits["excess"] = hits["observed"] - hits["expected"]
    hits["_town"] = hits["level"] == "town"
    hits = hits.sort_values(["p", "excess", "_town", "area_code"], ascending=[True, False, True, True]).reset_index(drop=True)
    start, _ = windows(as_of, w, weeks)
    cases = con.execute("""
        SELECT case_id, village_code, town_code, category FROM case_facts
        WHERE received_date >= ? AND received_date <= ? ORDER BY received_at, case_id""", [start, as_of]).df()
    ids = []
    for r in hits.itertuples():
        col = "village_code" if r.level == "village" else "town_code"
        ids.append(cases.loc[(cases[col] == r.area_code) & (cases["category"] == r.category), "case_id"].tolist())
    hits["case_ids"] = ids
    hits = hits[~_explained(hits)].reset_index(drop=True)
    names = dict(con.execute("SELECT code, name FROM areas").fetchall())
    hits["area_name"] = hits["area_code"].map(names).fillna(hits["area_code"])
    hits["town_code"] = hits["area_code"].str[:9]
    return hits[cols]


def _explained(hits: pd.DataFrame) -> pd.Series:
    """Town cells whose window cases of the category all lie in flagged villages of that town:
    the villages' warnings say it already."""
    in_villages: dict[str, set[str]] = {}
    for r in hits[hits["level"] == "village"].itertuples():
        in_villages.setdefault(r.category, set()).update(r.case_ids)
    return pd.Series([r.level == "town" and set(r.case_ids) <= in_villages.get(r.category, set())
                      for r in hits.itertuples()], index=hits.index)
