"""Rankings (考核排名): towns or handling units by the three rates (三率), with flags.

- Units: towns (乡镇/街道; a case placed at a village counts for its town) or handling units
  (承办单位; cases without one are left out).
- Rates, as analysis/metrics.py defines them over the filter's cases of every status (a
  status filter does not apply): response rate, resolution rate (= closure_rate) and
  satisfaction rate.
- score = 100 x weighted mean of the three (weights RANKING_WEIGHTS, equal by default; a
  rate that is None is left out and the other weights rescaled). Units with fewer than
  RANKING_MIN_CASES (30) cases received are listed but neither ranked nor flagged. Rank 1
  is the highest score; ties share a rank.
- Flags (考核), on ranked units only: satisfaction below SATISFACTION_WARN (90%) and below
  SATISFACTION_ALARM (70%), score below SCORE_ALARM (60), last rank (when at least two
  units are ranked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import duckdb
import pandas as pd

from etl import settings

from .filters import CaseFilter
from .metrics import case_metrics_by

# Thresholds of the rankings: settings of etl/settings.py (their meaning is there), read once at import.
RANKING_MIN_CASES = settings.get("ranking_min_cases")
RANKING_WEIGHTS = settings.get("ranking_weights")
SATISFACTION_WARN = settings.get("ranking_satisfaction_warn")
SATISFACTION_ALARM = settings.get("ranking_satisfaction_alarm")
SCORE_ALARM = settings.get("ranking_score_alarm")

FLAG_LABELS = {
    "flag_satisfaction_warn": f"满意率低于{SATISFACTION_WARN:.0%}",
    "flag_satisfaction_alarm": f"满意率低于{SATISFACTION_ALARM:.0%}",
    "flag_score_alarm": f"综合得分低于{SCORE_ALARM:g}分",
    "flag_last": "排名末位",
}


def rankings(con: duckdb.DuckDBPyConnection, flt: CaseFilter, by: str = "town", *,
             weights: Mapping[str, float] | None = None, min_cases: int = RANKING_MIN_CASES) -> pd.DataFrame:
    """Towns (`by='town'`) or handling units (`by='unit'`) ranked by the three rates (三率).

    Columns: code and name (towns) or handling_unit, received, response_rate, resolution_rate,
    satisfaction_rate, rated, score (0-100), ranked (received >= min_cases), rank (1 = best,
    NA when not ranked), the flag_* columns and `flags` (the raised flags in Chinese).
    `weights` maps response / resolution / satisfaction to a weight (missing keys: 0).
    The filter's statuses are ignored: the rates are over every case the unit received.
    """
    if by not in ("town", "unit"):
        raise ValueError(f"rankings are by 'town' or 'unit', not {by!r}")
    w = dict(RANKING_WEIGHTS if weights is None else weights)
    unknown = set(w) - set(RANKING_WEIGHTS)
    if unknown or any(v < 0 for v in w.values()) or not sum(w.values()):
        raise ValueError(f"weights must map {sorted(RANKING_WEIGHTS)} to non-negative numbers, not all 0: {w}")
    df = case_metrics_by(con, replace(flt, status=()), by,
                         measures=["received", "response_rate", "closure_rate", "satisfaction_rate"])
    keep = (["code", "name"] if by == "town" else ["handling_unit"]) + [
        "received", "responded_on_time", "closed", "rated", "satisfied", "response_rate", "closure_rate",
        "satisfaction_rate"]
    df = df[keep].rename(columns={"closure_rate": "resolution_rate"})
    rates = pd.DataFrame({k: df[f"{k}_rate"] for k in RANKING_WEIGHTS})
    wts = pd.Series({k: float(w.get(k, 0.0)) for k in RANKING_WEIGHTS})
    present = rates.notna().mul(wts, axis=1)
    denom = present.sum(axis=1)
    df["score"] = 100 * rates.fillna(0).mul(wts, axis=1).sum(axis=1) / denom.where(denom > 0)
    df["ranked"] = (df["received"] >= min_cases) & df["score"].notna()
    df["rank"] = df["score"].where(df["ranked"]).rank(ascending=False, method="min").astype("Int64")
    ranked, sat = df["ranked"], df["satisfaction_rate"]
    df["flag_satisfaction_warn"] = ranked & (sat < SATISFACTION_WARN)
    df["flag_satisfaction_alarm"] = ranked & (sat < SATISFACTION_ALARM)
    df["flag_score_alarm"] = ranked & (df["score"] < SCORE_ALARM)
    last = (df["rank"] == df["rank"].max()) & (ranked.sum() >= 2)  # one ranked unit is not "last"
    df["flag_last"] = (ranked & last).fillna(False).astype(bool)
    flag_cols = list(FLAG_LABELS)
    df["flags"] = df[flag_cols].apply(lambda r: "、".join(FLAG_LABELS[c] for c in flag_cols if r[c]), axis=1) \
        if len(df) else pd.Series(dtype=str)
    df = df.sort_values(["ranked", "rank", "received"], ascending=[False, True, False], na_position="last")
    return df.reset_index(drop=True)
