"""未办结: the backlog by town — open and overdue cases and how long they have been overdue."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import data
from dashboard.ui import NO_CASES, csv_bytes, page_start, period_filter
from etl import metrics

page_start("未办结 · 积压与超期")
period = data.case_period()
if period is None:
    st.info(NO_CASES)
    st.stop()
start, end = period_filter(*period)

s = data.summary(start, end)
c = st.columns(3)
c[0].metric("未办结", f"{s['open']:,}", help=f"截至 {end} 受理、目前仍在受理/交办/办理中的件数")
c[1].metric("超期未办结", f"{s['overdue']:,}", help="未办结且已超过办理时限(一般问题7天, 重大疑难14天)")
c[2].metric("超期占比", "—" if not s["open"] else f"{s['overdue'] / s['open'] * 100:.1f}%")

buckets = metrics.overdue_bucket_labels()
towns = data.metrics_by(start, end, "town")
table = pd.DataFrame({
    "乡镇(街道)": towns["name"],
    "未办结": towns["open"],
    "超期未办结": towns["overdue"],
    **{f"超期{b}": towns[f"overdue_{b}"] for b in buckets},
}).sort_values(["超期未办结", "未办结"], ascending=False)
table = table[table["未办结"] > 0]

left, right = st.columns([3, 2])
with left:
    st.subheader("各乡镇(街道)未办结件数")
    if table.empty:
        st.info("截至所选时段末没有未办结的诉求。")
    else:
        long = table.assign(按期办理中=table["未办结"] - table["超期未办结"]).melt(
            id_vars="乡镇(街道)", value_vars=["超期未办结", "按期办理中"], var_name="状态", value_name="件数")
        fig = px.bar(long, x="件数", y="乡镇(街道)", color="状态", orientation="h",
                     color_discrete_map={"超期未办结": "#d7301f", "按期办理中": "#9ecae1"},
                     category_orders={"乡镇(街道)": table["乡镇(街道)"].tolist(), "状态": ["超期未办结", "按期办理中"]})
        fig.update_layout(height=max(300, 26 * len(table) + 80), margin=dict(l=0, r=10, t=10, b=0), legend_title_text="")
        st.plotly_chart(fig, width="stretch", key="open_bar")
with right:
    st.subheader("超期时长")
    ages = pd.DataFrame({"超期时长": buckets, "件数": [s["overdue_buckets"][b] for b in buckets]})
    fig = px.bar(ages, x="超期时长", y="件数", color_discrete_sequence=["#d7301f"], text="件数")
    fig.update_traces(textposition="outside", cliponaxis=False)
    fig.update_layout(height=320, margin=dict(l=0, r=10, t=10, b=0))
    st.plotly_chart(fig, width="stretch", key="age_bar")
    st.caption("超期天数 = 截至数据日期已超过办理时限的天数。")

st.subheader("明细")
st.dataframe(table, hide_index=True, width="stretch")
st.download_button("下载 (CSV)", csv_bytes(table), file_name=f"未办结_{end}.csv", mime="text/csv", key="open_csv",
                   help="UTF-8 (带BOM) 编码, Excel 可直接打开; 内容与上表一致")
