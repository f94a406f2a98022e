"""排名: the ranking table, its flagged units and its counts, from analysis.rankings; the
figures carry the labels every page and export uses (analysis.metrics.LABELS)."""

from __future__ import annotations

import pandas as pd

from analysis import rankings as rk
from analysis.metrics import LABELS

RATES = ("response_rate", "resolution_rate", "satisfaction_rate")
RATE_COLUMNS = tuple(LABELS[k] for k in RATES)  # shown in percent
FLAGS = "标记"


def ranking_table(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """The ranked towns (`by` 'town') or handling units ('unit') as shown: rank ('—' when not
    ranked), the three rates (fractions, shown in percent) and the score to one decimal, the flags (or why not ranked)."""
    not_ranked = f"未达最少件数({rk.RANKING_MIN_CASES}件), 不排名"
    return pd.DataFrame({
        LABELS["rank"]: [str(int(r)) if ok else "—" for r, ok in zip(df["rank"], df["ranked"])],
        unit_label(by): (df["name"] if by == "town" else df["handling_unit"]).to_numpy(),
        LABELS["received"]: df["received"].to_numpy(),
        **{LABELS[k]: df[k].to_numpy() for k in RATES},
        LABELS["score"]: df["score"].round(1).to_numpy(),
        FLAGS: [f if r else not_ranked for f, r in zip(df["flags"], df["ranked"])],
    })


def flagged_table(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """The ranked units with a flag, lowest score first: rank, name, score and their flags."""
    rows = df[df["ranked"] & (df["flags"] != "")].sort_values("score", kind="stable")
    return ranking_table(rows, by)[[LABELS["rank"], unit_label(by), LABELS["score"], FLAGS]]


def unit_label(by: str) -> str:
    return "乡镇(街道)" if by == "town" else "承办单位"


def counts(df: pd.DataFrame) -> dict[str, int]:
    """ranked, not_ranked, flagged (ranked with a flag) and below_warn (satisfaction under the warning line)."""
    ranked = int(df["ranked"].sum())
    return {"ranked": ranked, "not_ranked": len(df) - ranked, "flagged": int((df["ranked"] & (df["flags"] != "")).sum()),
            "below_warn": int(df["flag_satisfaction_warn"].sum())}
