"""排名: towns and handling units ranked by response, resolution and satisfaction rates (三率)."""

from __future__ import annotations

import streamlit as st

from dashboard import data, filters
from dashboard.compute import rankings as view
from dashboard.ui import case_page, downloads, table as show_table
from analysis import rankings as rk
from analysis.metrics import LABELS
from analysis.rankings import FLAG_LABELS

flt = case_page("排名 · 乡镇(街道)与承办单位")
start, end = flt.start, flt.end
filters.note_unused(flt, {"status"}, ": 三率按单位受理的全部诉求计算")

by = st.radio("排名对象", ["town", "unit"], format_func={"town": "乡镇(街道)", "unit": "承办单位"}.get,
              horizontal=True, key="rank_by")
df = data.rankings(flt, by)
name_col = view.unit_label(by)
table = view.ranking_table(df, by)

n = view.counts(df)
c = st.columns(4)
c[0].metric("参与排名", f"{n['ranked']:,}", help=f"受理诉求不少于 {rk.RANKING_MIN_CASES} 件的{name_col}")
c[1].metric("未达最少件数", f"{n['not_ranked']:,}")
c[2].metric("有标记", f"{n['flagged']:,}", help="、".join(FLAG_LABELS.values()))
c[3].metric(f"满意率低于{rk.SATISFACTION_WARN:.0%}", f"{n['below_warn']:,}")

score = LABELS["score"]
formats = {score: st.column_config.NumberColumn(format="%.1f")}
flagged = view.flagged_table(df, by)
if flagged.empty:
    st.success(f"参与排名的{name_col}均无考核标记。")
else:
    st.subheader(f"有考核标记的{name_col} ({len(flagged):,})")
    show_table(flagged, height=38 + 35 * len(flagged), column_config=formats)
st.subheader(f"全部{name_col}")
show_table(table, height=min(38 + 35 * len(table), 720), column_config=formats)
st.caption(f"{score} = {'、'.join(view.RATE_COLUMNS)}的加权平均 × 100 (缺少某项比率时按其余各项计)。"
           f"标记: {'、'.join(FLAG_LABELS.values())}。{filters.describe(flt)}。")
downloads(table, f"排名_{name_col}_{start}_{end}", "rank")
