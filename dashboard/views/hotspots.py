"""热点地图: where cases cluster — Gi* hot and cold spots, LISA clusters, emerging hot spots."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, filters, maps
from dashboard.ui import NO_SHAPES, case_page, downloads, show_map
from geo.emerging import CATEGORY_LABELS
from geo.hotspots import CLASS_LABELS, LISA_LABELS

flt = case_page("热点地图")
start, end = flt.start, flt.end
shapes = data.village_shapes()
if shapes.empty:
    st.info(NO_SHAPES)
    st.stop()

MODES = {"gi": "热点/冷点 (Gi*)", "lisa": "聚集与异常 (LISA)", "emerging": "时空热点趋势"}
mode = st.radio("分析方法", list(MODES), format_func=MODES.get, horizontal=True, key="hs_mode")

try:
    hs = data.area_hotspots(flt)
except Exception as e:  # noqa: BLE001 - an analysis failure is a message, not a traceback
    st.error(f"热点分析未能完成: {e}")
    st.stop()
tested = "每千户诉求率(经标准化)" if hs.attrs.get("value", "rate") == "rate" else "诉求件数(尚未导入户数, 无法计算比率)"
gdf = shapes.merge(hs[["area_code", "cases", "households", "rate_eb", "class", "lisa"]],
                   left_on="code", right_on="area_code", how="left")
gdf["rate_eb"] = gdf["rate_eb"].round(1)
tooltip = {"name": "村(社区)", "town": "乡镇(街道)", "cases": "诉求件数", "rate_eb": "每千户诉求(平滑)", "label": "分类"}
caption = data.demo_caption()

if mode == "gi":
    gdf["label"] = gdf["class"].map(CLASS_LABELS).fillna("无数据")
    classes = {k: (CLASS_LABELS[k], maps.GI_COLOURS[k]) for k in CLASS_LABELS}
    m = maps.categorical(gdf, "class", classes, "Gi* 热点分析", data.bounds(flt.area_prefix), tooltip, caption)
    help_text = (f"Getis-Ord Gi*: 以{tested}为值, 与相邻村(社区)一起看是否显著偏高(热点)或偏低(冷点), "
                 "已按错误发现率(FDR)校正。")
    key_col, labels, hot = "class", CLASS_LABELS, ["hot_99", "hot_95", "hot_90"]
elif mode == "lisa":
    gdf["label"] = gdf["lisa"].map(LISA_LABELS).fillna("无数据")
    classes = {k: (LISA_LABELS[k], maps.LISA_COLOURS[k]) for k in LISA_LABELS}
    m = maps.categorical(gdf, "lisa", classes, "LISA 聚集", data.bounds(flt.area_prefix), tooltip, caption)
    help_text = f"局部 Moran's I (以{tested}为值): 高-高/低-低为聚集, 高-低/低-高为与周边反差大的异常村(社区) (置换检验)。"
    key_col, labels, hot = "lisa", LISA_LABELS, ["HH", "HL"]
else:
    try:
        em, _bins = data.emerging(flt)
    except Exception as e:  # noqa: BLE001
        st.info(f"所选时段无法做时空热点趋势分析({e})。请选择跨越多个月的时段。")
        st.stop()
    gdf = gdf.merge(em[["area_code", "category"]].rename(columns={"area_code": "code"}), on="code", how="left")
    gdf["label"] = gdf["category"].map(CATEGORY_LABELS).fillna("无数据")
    classes = {k: (CATEGORY_LABELS[k], maps.EMERGING_COLOURS[k]) for k in CATEGORY_LABELS}
    m = maps.categorical(gdf, "category", classes, "时空热点趋势", data.bounds(flt.area_prefix), tooltip, caption)
    help_text = "按月统计各村(社区)诉求, 逐月做 Gi* 热点分析, 再按各月显著性和趋势(Mann-Kendall)归入新增、连续、加剧、持续等类型。"
    key_col, labels, hot = "category", CATEGORY_LABELS, [k for k in CATEGORY_LABELS if k.endswith("_hot")]

st.caption(f"{help_text} 时段: {start} 至 {end}。")
show_map(m, f"hs_map_{mode}", height=600)
filters.note_unused(flt, {"area"}, ": 热点分析在全区所有村(社区)上计算, 地图缩放到所选区域")

sig = gdf[gdf[key_col].isin(hot)].sort_values(["cases"], ascending=False)
st.subheader(f"{'热点' if mode != 'lisa' else '高值'}村(社区): {len(sig):,} 个")
if sig.empty:
    st.caption("所选时段内没有显著的热点。")
else:
    st.dataframe(pd.DataFrame({"乡镇(街道)": sig["town"], "村(社区)": sig["name"], "分类": sig["label"],
                               "诉求件数": sig["cases"].astype("Int64"), "户数": sig["households"].astype("Int64"),
                               "每千户诉求(平滑)": sig["rate_eb"]}),
                 hide_index=True, width="stretch")
