"""Level-skipping (越级访苗头): cases of the last `alert_window_days` days received at a higher level
whose village (or town, for a case placed only in a town) had no lower-level case on the matter
in the `alert_level_skip_days` days before. A village's case is matched by its own village's cases
and by its town's cases placed only in the town; a town-only case by every case of its town.

Higher level is the warehouse's rule for 越级访 (the SQL macro mq_higher_level, etl/views.py, which
case_facts uses too): received at city level (受理层级 市/省), or at district level in person
(接访日); the district's hotline, mailbox and online channels serve everyone and skip nothing. Lower level: received at village or town level
(受理层级 村/镇). "On the matter": the same category, or a near-duplicate text (clusters.vectors
at `alert_similarity`). Unlike the warehouse's 越级访 figure, which needs the same keyed petitioner,
this looks at the area: nobody brought the matter to the village or town first.

Cases without a receiving level are unknown, never level-skipping. Warnings are grouped per area
and category, most cases first, city level before district.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from etl import settings

from . import clusters


def candidates(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(higher-level cases of the alert window, lower-level cases of the look-back before them)."""
    w = int(settings.get("alert_window_days"))
    back = int(settings.get("alert_level_skip_days"))
    start = as_of - dt.timedelta(days=w - 1)
    cols = """f.case_id, f.received_at, coalesce(f.village_code, f.town_code, f.area_code) AS place, f.village_code,
              f.town_code, f.category, f.channel, f.received_level, coalesce(c.content, '') AS content"""
    high = con.execute(f"""
        SELECT {cols} FROM case_facts f JOIN cases c USING (case_id)
        WHERE f.received_date >= ? AND f.received_date <= ?
          AND mq_higher_level(f.received_level, f.channel)
        ORDER BY f.received_at, f.case_id""", [start, as_of]).df()
    low = con.execute(f"""
        SELECT {cols} FROM case_facts f JOIN cases c USING (case_id)
        WHERE f.received_date >= ? AND f.received_date <= ? AND f.received_level IN ('village', 'town')
        ORDER BY f.received_at, f.case_id""", [start - dt.timedelta(days=back), as_of]).df()
    return high, low


def skipping(high: pd.DataFrame, low: pd.DataFrame, back_days: int | None = None,
             threshold: float | None = None) -> pd.Series:
    """Per higher-level case (index of `high`): True when no lower-level case of its place in the
    `back_days` before it (earlier received_at) has its category or a near-duplicate text."""
    back = pd.Timedelta(days=int(back_days or settings.get("alert_level_skip_days")))
    threshold = float(threshold if threshold is not None else settings.get("alert_similarity"))
    out = pd.Series(True, index=high.index, dtype=bool)
    if high.empty or low.empty:
        return out
    # one vocabulary and idf for all texts (as the groups of near-duplicates have over theirs)
    x = clusters.vectors([*high["content"].astype(str), *low["content"].astype(str)])
    xh, xl = x[:len(high)], x[len(high):]
    low = low.reset_index(drop=True)
    areas = _Areas(low)
    for pos, (i, r) in enumerate(high.iterrows()):
        rows = areas.of(r)
        if not len(rows):
            continue
        when = low["received_at"].to_numpy()[rows]
        rows = rows[(when < r["received_at"]) & (when >= r["received_at"] - back)]
        if not len(rows):
            continue
        same = (low["category"].to_numpy()[rows] == r["category"]).any()
        near = x.shape[1] > 0 and (xl[rows] @ xh[pos].T).toarray().max() >= threshold - 1e-9
        out[i] = not (same or near)
    return out


class _Areas:
    """Positions of `low`'s cases by village, by town (all) and by town for cases placed only in a town."""

    def __init__(self, low: pd.DataFrame):
        none = pd.Series(None, index=low.index, dtype=object)
        village = low["village_code"] if "village_code" in low else none
        town = low["town_code"] if "town_code" in low else none
        # positions in the whole of `low` (a Series' groupby leaves out missing keys)
        self.place = low.groupby("place").indices
        self.village = village.groupby(village).indices
        self.town = town.groupby(town).indices
        only = town.where(village.isna())
        self.town_only = only.groupby(only).indices

    def of(self, case: pd.Series) -> np.ndarray:
        """Positions of the cases of `case`'s area: for a village's case, the village's cases and its
        town's cases placed only in the town; for a case placed only in a town, every case of the
        town; otherwise (a district's case) the cases of the same place."""
        empty = np.zeros(0, dtype=int)
        village, town = case.get("village_code"), case.get("town_code")
        if pd.notna(village):
            own = self.village.get(village, empty)
            return np.union1d(own, self.town_only.get(town, empty)) if pd.notna(town) else own
        if pd.notna(town):
            return self.town.get(town, empty)
        return self.place.get(case["place"], empty)


def level_skips(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """Level-skipping warnings per place and category: place, category, n, city (cases at city
    level), case_ids, first, last; most cases first, then most at city level, then the latest."""
    cols = ["place", "category", "n", "city", "case_ids", "first", "last"]
    high, low = candidates(con, as_of)
    if high.empty:
        return pd.DataFrame(columns=cols)
    flagged = high[skipping(high, low)]
    if flagged.empty:
        return pd.DataFrame(columns=cols)
    out = flagged.groupby(["place", "category"], as_index=False).agg(
        n=("case_id", "size"), city=("received_level", lambda s: int((s == "city").sum())),
        case_ids=("case_id", list), first=("received_at", "min"), last=("received_at", "max"))
    return out.sort_values(["n", "city", "last", "place"], ascending=[False, False, False, True]).reset_index(drop=True)[cols]
