"""民情分类: 放心户 / 关心户 / 连心户 by area, pairing coverage of 连心户, the five must-see groups (五必访).
Aggregates only: no individual household is shown."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard import data, filters, maps
from dashboard.compute import households as view
from dashboard.ui import (CHOOSE_TOWN, area_page, downloads, household_cards, map_villages, show_map, style_chart,
                          table as show_table)
from analysis import households as hh

flt = area_page("民情分类 · 放心户 / 关心户 / 连心户")
filters.note_unused(flt, {"period", "category", "channel", "status"}, ": 户情为最新建档状态, 与诉求无关")
# a town (or nothing) chosen: its villages (or the towns); a village chosen: that village
level = "village" if flt.town else "town"
unit = "村(社区)" if flt.town else "乡镇(街道)"
towns = data.households(level, flt.area_prefix)
cats = towns["categories"]
if cats.empty or int(cats["households"].sum()) == 0:
    st.info("还没有户籍与民情分类数据。用 `minqing load households 民情台账.xlsx` 导入后刷新本页。")
    st.stop()

totals = view.summary(cats, towns["pairing"])
household_cards(st.columns(len(totals["kinds"]) + 2), totals)

st.subheader(f"各{unit}分类构成")
kinds = hh.categories()
fig = go.Figure()
for k in kinds:
    fig.add_bar(name=k["term"], y=cats["name"], x=cats[k["key"]], orientation="h", marker_color=k.get("color"))
fig.update_layout(barmode="stack", height=28 * len(cats) + 120, margin=dict(l=10, r=10, t=10, b=10),
                  legend=dict(orientation="h"), xaxis_title="户数", yaxis=dict(autorange="reversed"))
st.plotly_chart(style_chart(fig), width="stretch")

out = view.area_table(towns, unit)
show_table(out)
downloads(out, f"民情分类_{data.area_name(flt.area_prefix) if flt.area_prefix else '全区'}", "hh_table")

st.subheader("各村(社区)连心户占比")
shapes, n_villages = map_villages(flt.town or "")
if shapes is None:
    st.info(CHOOSE_TOWN.format(n=n_villages))
elif shapes.empty:
    st.info("还没有村(社区)边界, 无法画图。")
else:
    gdf = view.share_map_frame(shapes, data.households("village", flt.town or "")["categories"])
    m = maps.choropleth(gdf, "share_pct", "连心户占比 (%)", data.bounds(flt.area_prefix),
                        {"name": "村(社区)", "town": "乡镇(街道)", "households": "户数", "key_assistance": "连心户",
                         "share_text": "连心户占比"}, data.demo_caption())
    show_map(m, "hh_map", height=520)
