"""未办结: the backlog by area, how long it has been overdue, the overdue list (masked), the
resolution tier and escalation level, and closed cases that broke 三不结案."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard import data, filters
from dashboard.compute import open_cases as view
from dashboard.texts import help_text
from reports import formats
from dashboard.ui import case_page, downloads, style_chart, table as show_table

flt = case_page("未办结 · 积压与超期")
start, end = flt.start, flt.end
s = data.summary(flt)
c = st.columns(5)
c[0].metric("未办结", f"{s['open']:,}", help=f"截至 {end} 受理、目前仍在受理/交办/办理中的件数")
c[1].metric("超期未办结", f"{s['overdue']:,}", help=help_text("overdue"))
c[2].metric("超期占比", view.overdue_share(s))
c[3].metric("违反三不结案", f"{s['violations']:,}",
            help="所选时段内受理、已办结但缺办理意见、回访记录或签字之一的件数")
c[4].metric("三不结案违规率", formats.rate(s["violation_rate"]),
            help="违反三不结案 ÷ 已办结")
st.caption(f"{filters.describe(flt)}。未办结、超期按截至 {end} 受理的全部积压计, 不限时段起点。")

level = "village" if flt.town else "town"
unit = "村(社区)" if flt.town else "乡镇(街道)"
areas = data.metrics_by(flt, level, view.area_measures())  # one query for both tables of areas
table = view.backlog_table(areas, unit)

left, right = st.columns([3, 2])
with left:
    st.subheader(f"各{unit}未办结件数")
    if table.empty:
        st.info("截至所选时段末没有未办结的诉求。")
    else:
        shown = table.head(40)
        fig = go.Figure([go.Bar(y=shown[unit], x=shown["超期未办结"], name="超期未办结", orientation="h", marker_color="#d7301f"),
                         go.Bar(y=shown[unit], x=shown["未办结"] - shown["超期未办结"], name="按期办理中", orientation="h",
                                marker_color="#9ecae1")])
        fig.update_layout(barmode="stack", height=max(300, 26 * len(shown) + 80), margin=dict(l=0, r=10, t=10, b=0),
                          yaxis=dict(autorange="reversed"), xaxis_title="件数", legend=dict(orientation="h"))
        st.plotly_chart(style_chart(fig), width="stretch", key="open_bar")
        if len(table) > len(shown):
            st.caption(f"图中为未办结最多的 {len(shown)} 个{unit}, 全部见下表。")
with right:
    st.subheader("超期时长")
    ages = view.ages(s)
    fig = go.Figure(go.Bar(x=ages["超期时长"], y=ages["件数"], marker_color="#d7301f", text=ages["件数"],
                           textposition="outside", cliponaxis=False))
    fig.update_layout(height=320, margin=dict(l=0, r=10, t=10, b=0), yaxis_title="件数")
    st.plotly_chart(style_chart(fig), width="stretch", key="age_bar")
    st.caption("超期天数 = 截至数据日期已超过办理时限的天数。")

st.subheader(f"各{unit}积压明细")
st.dataframe(table, hide_index=True, width="stretch")
downloads(table, f"未办结_{unit}_{end}", "open_table")

st.subheader("分级化解与问题库层级")
tl, el = st.columns(2)
for col, by, title in ((tl, "tier", "化解层级"), (el, "escalation", "问题库层级")):
    t = view.group_table(data.metrics_by(flt, by, ("received", "closed", "closure_rate", "open", "overdue")), by, title)
    with col:
        show_table(t)
        downloads(t, f"{title}_{start}_{end}", f"open_{by}")

st.subheader("超期未办结清单")
overdue = data.overdue_cases(flt)
if overdue.empty:
    st.info("没有超期未办结的诉求。")
else:
    listing = view.overdue_listing(overdue)
    show_table(listing, height=420,
                 column_config={"诉求内容": st.column_config.TextColumn(width="large")})
    downloads(listing, f"超期未办结清单_{end}", "overdue_list",
              f"共 {len(listing):,} 件, 超期最久的在前。诉求人姓名与电话已脱敏。")

st.subheader("违反\"三不结案\"")
vt = view.violations_table(areas, unit)
show_table(vt)
downloads(vt, f"三不结案_{unit}_{start}_{end}", "violations",
          "三不结案: 办结须有明确的办理意见、回访记录以及经办人和单位负责人签字; 一件可同时缺多项。")
