"""总览: headline figures with their change, the monthly trend, categories and channels, and a
map of the villages by a chosen figure."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard import area_data, data, filters, maps
from dashboard.compute import overview as view
from dashboard.compute.changes import change_text, fmt_rate
from dashboard.texts import help_text
from analysis.filters import DOMAIN_LABELS
from analysis.metrics import LABELS
from dashboard.ui import MANY_VILLAGES, NO_SHAPES, NO_VILLAGE_SHAPES, case_page, downloads, show_map, style_chart

flt = case_page("民情地图 · 总览")
s = data.summary(flt, compare=True)
ch = s["changes"]


def pop(key: str, rate: bool = False) -> str | None:
    return change_text(ch[key], rate)


cols = st.columns(6)
cols[0].metric(LABELS["received"], f"{s['received']:,}", pop("received"), delta_color="off",
               help="所选时段内受理的诉求件数; 环比为与上一等长时段相比")
cols[1].metric(LABELS["closed"], f"{s['closed']:,}", pop("closed"), delta_color="off",
               help="所选时段内受理、目前已办结(含已回访、已归档)的件数")
cols[2].metric(LABELS["closure_rate"], fmt_rate(s["closure_rate"]), pop("closure_rate", True), help="已办结 ÷ 受理诉求")
cols[3].metric(LABELS["satisfaction_rate"], fmt_rate(s["satisfaction_rate"]), pop("satisfaction_rate", True),
               help="满意与基本满意 ÷ 已评价")
cols[4].metric(LABELS["open"], f"{s['open']:,}", help="截至时段末受理、目前仍在受理/交办/办理中的件数")
cols[5].metric(LABELS["overdue"], f"{s['overdue']:,}", help=help_text("overdue"))
st.caption(f"{filters.describe(flt)}。")

left, right = st.columns([3, 2])
with left:
    st.subheader("按月趋势")
    months = view.months(data.metrics_by(flt, "month", ("received", "closed")), flt.start, flt.end)
    if not months["received"].any():
        st.info("所选条件下没有诉求。")
    else:
        fig = go.Figure([go.Scatter(x=months["month"], y=months[k], name=label, mode="lines+markers", line_color=colour)
                         for k, label, colour in (("received", "受理", "#3182bd"), ("closed", "已办结", "#31a354"))])
        fig.update_layout(height=320, margin=dict(l=0, r=10, t=10, b=0), xaxis_title="受理月份", yaxis_title="件数",
                          legend=dict(orientation="h"))
        st.plotly_chart(style_chart(fig, months=True), width="stretch", key="trend")
@st.fragment
def groups_chart() -> None:
    """Categories or channels: the toggle reruns only this chart."""
    st.subheader("问题类别与诉求来源")
    by = st.segmented_control("分组", ["category", "channel"], default="category", key="ov_by",
                              format_func=DOMAIN_LABELS.get,
                              label_visibility="collapsed") or "category"
    groups = view.groups(data.metrics_by(flt, by, ("received", "closed", "open", "overdue")), by)
    if not groups.empty:
        fig = go.Figure(go.Bar(x=groups["received"], y=groups[by], orientation="h", marker_color="#3182bd"))
        fig.update_layout(height=320, margin=dict(l=0, r=10, t=10, b=0), yaxis=dict(autorange="reversed"),
                          xaxis_title="受理诉求")
        st.plotly_chart(style_chart(fig), width="stretch", key="groups")
        downloads(view.groups_table(groups, by), f"总览_{DOMAIN_LABELS[by]}_{flt.start}_{flt.end}", "ov_groups")


with right:
    groups_chart()

@st.fragment
def village_map() -> None:
    """The village map and its table (the towns' when only towns have outlines): choosing the
    figure reruns only this part."""
    prefix = flt.town or ""
    outlined = data.outlined_count("village", prefix)
    level = view.map_level(outlined, data.outlined_count("town", ""))
    shapes = data.area_shapes(level, prefix if level == "village" else "")
    unit = view.LEVEL_NAMES[level]
    st.subheader(f"各{unit}分布")
    figure = st.selectbox("地图指标", list(view.MAP_FIGURES), format_func=view.MAP_FIGURES.get, key="ov_figure")
    if shapes.empty:
        st.info(NO_SHAPES)
        return
    if level == "town":
        st.info(MANY_VILLAGES.format(n=outlined) if outlined else NO_VILLAGE_SHAPES)
    gdf = view.village_map(shapes, area_data.area_figures(flt, level), figure)
    tooltip = view.tooltip(figure, level)
    m = maps.choropleth(gdf, figure, view.MAP_FIGURES[figure], data.bounds(flt.area_prefix), tooltip, data.demo_caption())
    show_map(m, "overview_map")
    st.caption(f"点击地图上的{unit}即选中它(粗线勾出), 地图上方随即给出其区域档案的链接。" + (f"比率在没有诉求的{unit}记为 0。" if figure.endswith("rate") else ""))
    town_only = data.town_level_cases(flt) if level == "village" else 0
    if town_only:
        st.caption(f"另有 {town_only:,} 件诉求只定位到乡镇(街道), 未画在村级地图上。")
    table = view.village_table(gdf, level)
    with st.expander(f"各{unit}数据表"):
        st.dataframe(table, hide_index=True, width="stretch")
        downloads(table, f"总览_{unit}_{flt.start}_{flt.end}", "ov_table")

village_map()
