"""民情分类: 放心户 / 关心户 / 连心户 by area, pairing coverage of 连心户, the five must-see groups (五必访).
Aggregates only: no individual household is shown."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard import data, filters, maps
from dashboard.ui import area_page, downloads, show_map
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

kinds = hh.categories()
total = int(cats["households"].sum())
cols = st.columns(len(kinds) + 2)
cols[0].metric("建档户数", f"{total:,}")
for c, k in zip(cols[1:], kinds):
    n = int(cats[k["key"]].sum())
    c.metric(k["term"], f"{n:,}", f"占 {n / total:.1%}", delta_color="off", delta_arrow="off")
pair = towns["pairing"]
key_n, paired = int(pair["key_households"].sum()), int(pair["paired"].sum())
cols[-1].metric("连心户结对覆盖率", f"{paired / key_n:.1%}" if key_n else "—", f"未结对 {key_n - paired:,} 户",
                delta_color="off", delta_arrow="off", help="已与干部一对一结对的连心户 ÷ 连心户")

st.subheader(f"各{unit}分类构成")
fig = go.Figure()
for k in kinds:
    fig.add_bar(name=k["term"], y=cats["name"], x=cats[k["key"]], orientation="h", marker_color=k.get("color"))
fig.update_layout(barmode="stack", height=28 * len(cats) + 120, margin=dict(l=10, r=10, t=10, b=10),
                  legend=dict(orientation="h"), xaxis_title="户数", yaxis=dict(autorange="reversed"))
st.plotly_chart(fig, width="stretch")

labels = hh.labels()
table = cats.merge(pair[["code", "key_households", "paired", "coverage"]], on="code", how="left") \
            .merge(towns["must_see"].drop(columns=["name", "households"]), on="code", how="left")
show = ["name", "households", *[k["key"] for k in kinds], *[f"{k['key']}_share" for k in kinds], "paired", "coverage",
        *hh.MUST_SEE, "any_must_see"]
out = table[show].rename(columns=labels | {"name": unit})
st.dataframe(out, hide_index=True, width="stretch",
             column_config={labels[f"{k['key']}_share"]: st.column_config.NumberColumn(format="percent") for k in kinds}
             | {labels["coverage"]: st.column_config.NumberColumn(format="percent")})
downloads(out, f"民情分类_{data.area_name(flt.area_prefix) if flt.area_prefix else '全区'}", "hh_table")

st.subheader("各村(社区)连心户占比")
shapes = data.village_shapes(flt.town or "")
if shapes.empty:
    st.info("还没有村(社区)边界, 无法画图。")
else:
    vil = data.households("village", flt.town or "")["categories"][["code", "households", "key_assistance", "key_assistance_share"]]
    gdf = shapes.merge(vil, on="code", how="left").fillna({"households": 0, "key_assistance": 0, "key_assistance_share": 0})
    gdf["share_pct"] = (gdf["key_assistance_share"] * 100).round(1)
    m = maps.choropleth(gdf, "share_pct", "连心户占比 (%)", data.bounds(flt.area_prefix),
                        {"name": "村(社区)", "town": "乡镇(街道)", "households": "户数", "key_assistance": "连心户",
                         "share_pct": "连心户占比(%)"}, data.demo_caption())
    show_map(m, "hh_map", height=520)
