"""排名: towns and handling units ranked by response, resolution and satisfaction rates (三率)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, filters
from dashboard.ui import case_page, downloads
from analysis import rankings as rk
from analysis.rankings import FLAG_LABELS

flt = case_page("排名 · 乡镇(街道)与承办单位")
start, end = flt.start, flt.end
filters.note_unused(flt, {"status"}, ": 三率按单位受理的全部诉求计算")

by = st.radio("排名对象", ["town", "unit"], format_func={"town": "乡镇(街道)", "unit": "承办单位"}.get,
              horizontal=True, key="rank_by")
df = data.rankings(flt, by)
not_ranked = f"未达最少件数({rk.RANKING_MIN_CASES}件), 不排名"
name_col = "乡镇(街道)" if by == "town" else "承办单位"
table = pd.DataFrame({
    "排名": [str(int(r)) if ok else "—" for r, ok in zip(df["rank"], df["ranked"])],
    name_col: (df["name"] if by == "town" else df["handling_unit"]).to_numpy(),
    "受理诉求": df["received"].to_numpy(),
    "响应率": (df["response_rate"] * 100).round(1).to_numpy(),
    "解决率": (df["resolution_rate"] * 100).round(1).to_numpy(),
    "满意率": (df["satisfaction_rate"] * 100).round(1).to_numpy(),
    "综合得分": df["score"].round(1).to_numpy(),
    "标记": [f if r else not_ranked for f, r in zip(df["flags"], df["ranked"])],
})

ranked = int(df["ranked"].sum())
flagged = int((df["ranked"] & (df["flags"] != "")).sum())
c = st.columns(4)
c[0].metric("参与排名", f"{ranked:,}", help=f"受理诉求不少于 {rk.RANKING_MIN_CASES} 件的{name_col}")
c[1].metric("未达最少件数", f"{len(df) - ranked:,}")
c[2].metric("有标记", f"{flagged:,}", help="、".join(FLAG_LABELS.values()))
c[3].metric(f"满意率低于{rk.SATISFACTION_WARN:.0%}", f"{int(df['flag_satisfaction_warn'].sum()):,}")

st.dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 720),
             column_config={k: st.column_config.NumberColumn(format="%.1f%%") for k in ("响应率", "解决率", "满意率")}
             | {"综合得分": st.column_config.NumberColumn(format="%.1f")})
st.caption(f"综合得分 = 响应率、解决率、满意率的加权平均 × 100 (缺少某项比率时按其余各项计)。"
           f"标记: {'、'.join(FLAG_LABELS.values())}。{filters.describe(flt)}。")
downloads(table, f"排名_{name_col}_{start}_{end}", "rank")
