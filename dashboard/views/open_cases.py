"""未办结: the backlog by area, how long it has been overdue, the overdue list (masked), the
resolution tier and escalation level, and closed cases that broke 三不结案."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, filters
from dashboard.texts import help_text
from dashboard.ui import case_page, downloads
from analysis import metrics
from analysis.case_lists import OVERDUE_COLUMNS

flt = case_page("未办结 · 积压与超期")
start, end = flt.start, flt.end
s = data.summary(flt)
c = st.columns(5)
c[0].metric("未办结", f"{s['open']:,}", help=f"截至 {end} 受理、目前仍在受理/交办/办理中的件数")
c[1].metric("超期未办结", f"{s['overdue']:,}", help=help_text("overdue"))
c[2].metric("超期占比", "—" if not s["open"] else f"{s['overdue'] / s['open'] * 100:.1f}%")
c[3].metric("违反三不结案", f"{s['violations']:,}",
            help="所选时段内受理、已办结但缺办理意见、回访记录或签字之一的件数")
c[4].metric("三不结案违规率", "—" if s["violation_rate"] is None else f"{s['violation_rate'] * 100:.1f}%",
            help="违反三不结案 ÷ 已办结")
st.caption(f"{filters.describe(flt)}。未办结、超期按截至 {end} 受理的全部积压计, 不限时段起点。")

buckets = metrics.overdue_bucket_labels()
level = "village" if flt.town else "town"
unit = "村(社区)" if flt.town else "乡镇(街道)"
# one query for both tables of areas (backlog and 三不结案)
AREA_MEASURES = ("open", "overdue", *(f"overdue_{b}" for b in buckets), "closed", "violations", "violations_opinion",
                 "violations_followup", "violations_signature", "violation_rate")
areas = data.metrics_by(flt, level, AREA_MEASURES)
table = pd.DataFrame({
    unit: areas["name"],
    "未办结": areas["open"],
    "超期未办结": areas["overdue"],
    **{f"超期{b}": areas[f"overdue_{b}"] for b in buckets},
}).sort_values(["超期未办结", "未办结"], ascending=False)
table = table[table["未办结"] > 0]

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
        st.plotly_chart(fig, width="stretch", key="open_bar")
        if len(table) > len(shown):
            st.caption(f"图中为未办结最多的 {len(shown)} 个{unit}, 全部见下表。")
with right:
    st.subheader("超期时长")
    ages = pd.DataFrame({"超期时长": buckets, "件数": [s["overdue_buckets"][b] for b in buckets]})
    fig = go.Figure(go.Bar(x=ages["超期时长"], y=ages["件数"], marker_color="#d7301f", text=ages["件数"],
                           textposition="outside", cliponaxis=False))
    fig.update_layout(height=320, margin=dict(l=0, r=10, t=10, b=0), yaxis_title="件数")
    st.plotly_chart(fig, width="stretch", key="age_bar")
    st.caption("超期天数 = 截至数据日期已超过办理时限的天数。")

st.subheader(f"各{unit}积压明细")
st.dataframe(table, hide_index=True, width="stretch")
downloads(table, f"未办结_{unit}_{end}", "open_table")

TIERS = {1: "一级: 驻点干部当场化解", 2: "二级: 街道/社区限时化解", 3: "三级: 区领导牵头部门会商", 4: "四级: 每月25日调度会"}
LEVELS = {"village": "村级问题库", "town": "镇级问题库", "district": "区级问题库"}
st.subheader("分级化解与问题库层级")
tl, el = st.columns(2)
for col, by, names, title in ((tl, "tier", TIERS, "化解层级"), (el, "escalation", LEVELS, "问题库层级")):
    g = data.metrics_by(flt, by, ("received", "closed", "closure_rate", "open", "overdue"))
    key = "escalation_level" if by == "escalation" else by
    t = pd.DataFrame({title: g[key].map(lambda v, n=names: n.get(v, str(v))), "受理诉求": g["received"],
                      "已办结": g["closed"], "办结率": (g["closure_rate"] * 100).round(1), "未办结": g["open"],
                      "超期未办结": g["overdue"]})
    with col:
        st.dataframe(t, hide_index=True, width="stretch",
                     column_config={"办结率": st.column_config.NumberColumn(format="%.1f%%")})
        downloads(t, f"{title}_{start}_{end}", f"open_{by}")

st.subheader("超期未办结清单")
overdue = data.overdue_cases(flt)
if overdue.empty:
    st.info("没有超期未办结的诉求。")
else:
    listing = overdue.rename(columns=OVERDUE_COLUMNS)[list(OVERDUE_COLUMNS.values())]
    listing["化解层级"] = overdue["tier"].map(TIERS).fillna("")
    listing["升级层级"] = overdue["escalation_level"].map(LEVELS).fillna("")
    st.dataframe(listing, hide_index=True, width="stretch", height=420,
                 column_config={"诉求内容": st.column_config.TextColumn(width="large")})
    downloads(listing, f"超期未办结清单_{end}", "overdue_list",
              f"共 {len(listing):,} 件, 超期最久的在前。诉求人姓名与电话已脱敏。")

st.subheader("违反\"三不结案\"")
v = data.metrics_by(flt, level, AREA_MEASURES)
vt = pd.DataFrame({unit: v["name"], "已办结": v["closed"], "违反三不结案": v["violations"],
                   "无办理意见": v["violations_opinion"], "无回访记录": v["violations_followup"],
                   "缺签字": v["violations_signature"], "违规率": (v["violation_rate"] * 100).round(1)})
vt = vt[vt["已办结"] > 0].sort_values("违反三不结案", ascending=False)
st.dataframe(vt, hide_index=True, width="stretch", column_config={"违规率": st.column_config.NumberColumn(format="%.1f%%")})
downloads(vt, f"三不结案_{unit}_{start}_{end}", "violations",
          "三不结案: 办结须有明确的办理意见、回访记录以及经办人和单位负责人签字; 一件可同时缺多项。")
