"""总览: headline case figures and a village map coloured by case count."""

from __future__ import annotations

import datetime as dt

import streamlit as st
from streamlit_folium import st_folium

from dashboard import data, maps
from dashboard.ui import NO_CASES, fmt_change, fmt_rate, page_start, period_filter

meta = page_start("民情地图 · 总览")
period = data.case_period()
if period is None:
    st.info(NO_CASES)
    st.stop()
start, end = period_filter(*period)
prev = data.previous_period(start, end)

k = data.kpis(start, end)
p = data.kpis(*prev)
cols = st.columns(5)
cols[0].metric("受理诉求", f"{k['received']:,}", fmt_change(k["received"], p["received"]), delta_color="off",
               help="所选时段内受理的诉求件数; 变化为与上一等长时段相比")
cols[1].metric("已办结", f"{k['closed']:,}", fmt_change(k["closed"], p["closed"]), delta_color="off",
               help="所选时段内受理、目前已办结(含已回访、已归档)的件数")
cols[2].metric("办结率", fmt_rate(k["closure_rate"]),
               None if k["closure_rate"] is None or p["closure_rate"] is None
               else f"{(k['closure_rate'] - p['closure_rate']) * 100:+.1f} 个百分点",
               help="已办结 ÷ 受理诉求")
cols[3].metric("未办结", f"{k['open']:,}", help="截至时段末受理、目前仍在受理/交办/办理中的件数")
cols[4].metric("超期未办结", f"{k['overdue']:,}", help="未办结且已超过办理时限(一般问题7天, 重大疑难14天)")

st.subheader("各村(社区)诉求分布")
gdf = data.village_map_data(start, end)
if gdf.empty:
    st.info("还没有村(社区)边界。用 `minqing load areas 边界.geojson` 导入边界后即可显示地图。")
else:
    caption = "边界为演示数据" if data.is_demo() else ""
    m = maps.choropleth(gdf, "cases", "诉求件数", data.district_bounds(),
                        {"name": "村(社区)", "town": "乡镇(街道)", "cases": "诉求件数", "open": "未办结"}, caption)
    st_folium(m, height=560, use_container_width=True, returned_objects=[], key="overview_map")
    town_only = data.town_level_cases(start, end)
    if town_only:
        st.caption(f"另有 {town_only:,} 件诉求只定位到乡镇(街道), 未画在村级地图上。")
