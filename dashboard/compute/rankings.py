"""排名: the ranking table and its counts, from analysis.rankings."""

from __future__ import annotations

import pandas as pd

from analysis import rankings as rk


def ranking_table(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """The ranked towns (`by` 'town') or handling units ('unit') as shown: rank ('—' when not
    ranked), the three rates (fractions, shown in percent) and the score to one decimal, the flags (or why not ranked)."""
    not_ranked = f"未达最少件数({rk.RANKING_MIN_CASES}件), 不排名"
    return pd.DataFrame({
        "排名": [str(int(r)) if ok else "—" for r, ok in zip(df["rank"], df["ranked"])],
        unit_label(by): (df["name"] if by == "town" else df["handling_unit"]).to_numpy(),
        "受理诉求": df["received"].to_numpy(),
        "响应率": df["response_rate"].to_numpy(),
        "解决率": df["resolution_rate"].to_numpy(),
        "满意率": df["satisfaction_rate"].to_numpy(),
        "综合得分": df["score"].round(1).to_numpy(),
        "标记": [f if r else not_ranked for f, r in zip(df["flags"], df["ranked"])],
    })


def unit_label(by: str) -> str:
    return "乡镇(街道)" if by == "town" else "承办单位"


def counts(df: pd.DataFrame) -> dict[str, int]:
    """ranked, not_ranked, flagged (ranked with a flag) and below_warn (satisfaction under the warning line)."""
    ranked = int(df["ranked"].sum())
    return {"ranked": ranked, "not_ranked": len(df) - ranked, "flagged": int((df["ranked"] & (df["flags"] != "")).sum()),
            "below_warn": int(df["flag_satisfaction_warn"].sum())}
