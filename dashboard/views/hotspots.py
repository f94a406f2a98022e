"""热点地图: where cases cluster — Gi* hot and cold spots, LISA clusters and emerging hot spots
per village, Gi* month by month (a slider), Gi* on an H3 hexagon grid, and a heat map of the
cases' points."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import data, filters, maps
from dashboard.compute import hotspots as view
from reports import formats
from dashboard.ui import CHOOSE_TOWN, NO_SHAPES, case_page, downloads, map_villages, show_map, table as show_table
from analysis.filters import CaseFilter
from geo.emerging import CATEGORY_LABELS
from geo.getis_ord import CLASS_LABELS
from geo.moran import LISA_LABELS

MODES = {"gi": "热点/冷点 (Gi*)", "lisa": "聚集与异常 (LISA)", "emerging": "时空热点趋势", "month": "逐月热点",
         "hex": "六边形格网 (H3)", "heat": "热力图"}
GI_CLASSES = {k: (CLASS_LABELS[k], maps.GI_COLOURS[k]) for k in CLASS_LABELS}
HEX_RES = {7: "7 级 (粗)", 8: "8 级 (细)"}
HEX_SIZE = {7: "每格约 5.2 平方公里, 边长约 1.4 公里", 8: "每格约 0.74 平方公里, 边长约 530 米"}
CELL_M = 100  # heat map: cases summed on a grid of about 100 m (no single case's point is sent)
NO_POINTS = ("所选条件下没有带坐标(经纬度)的诉求, 无法绘制{what}。诉求台账含经度/纬度列时, 用 "
             "`minqing load cases 台账.csv --crs wgs84` (高德/腾讯坐标用 gcj02, 百度用 bd09) 导入即可。")
NO_CASES = "所选条件下没有诉求, 无法{what}。请放宽筛选条件或选择其他时段。"
AREA_NOTE = ": 热点分析在全区所有村(社区)上计算, 地图缩放到所选区域"
WHOLE_DISTRICT = " 热点分析仍在全区所有村(社区)上计算; 选定乡镇(街道)后地图只画其村(社区), 分类即全区计算的结果。"


def no_points(flt: CaseFilter, what: str) -> None:
    """Explain why there is nothing to draw: no case at all under the filters, or none with a point."""
    cov = data.point_coverage(flt)
    total = int(cov["cases"].sum())
    if total == 0:
        st.info(NO_CASES.format(what=f"绘制{what}"))
    else:
        st.info(NO_POINTS.format(what=what) + f" (所选条件下共 {total:,} 件诉求, 都没有坐标。)")


def village_modes(flt: CaseFilter, shapes: gpd.GeoDataFrame, mode: str) -> None:
    """Gi*, LISA or emerging hot spots per village: map, then the significant villages with downloads."""
    try:
        hs = data.area_hotspots(flt, lisa=mode == "lisa")
        gdf, tested = view.village_frame(shapes, hs, lisa=mode == "lisa")
    except Exception as e:  # noqa: BLE001 - an analysis failure is a message, not a traceback
        st.error(f"热点分析未能完成: {e}")
        return
    if not hs["cases"].sum():  # no case in the analysis (the map may show one town of it)
        st.info(NO_CASES.format(what="做热点分析"))
        return
    tooltip = {"name": "村(社区)", "town": "乡镇(街道)", "cases": "诉求件数", "rate_eb": "每千户诉求(平滑)", "label": "分类"}
    bounds, caption = data.bounds(flt.area_prefix), data.demo_caption()
    if mode == "gi":
        gdf = view.labelled(gdf, mode)
        m = maps.categorical(gdf, "class", GI_CLASSES, "Gi* 热点分析", bounds, tooltip, caption)
        help_text = (f"Getis-Ord Gi*: 以{tested}为值, 与相邻村(社区)一起看是否显著偏高(热点)或偏低(冷点), "
                     "已按错误发现率(FDR)校正。")
    elif mode == "lisa":
        gdf = view.labelled(gdf, mode)
        classes = {k: (LISA_LABELS[k], maps.LISA_COLOURS[k]) for k in LISA_LABELS}
        m = maps.categorical(gdf, "lisa", classes, "LISA 聚集", bounds, tooltip, caption)
        help_text = (f"局部 Moran's I (以{tested}为值): 高-高/低-低为聚集, 高-低/低-高为与周边反差大的异常村(社区)。"
                     "显著性用条件随机化的解析检验 (Sokal 等 1998 的期望与方差, 正态近似), 已按错误发现率(FDR)校正。")
    else:
        try:
            em, _bins = data.emerging(flt)
        except Exception as e:  # noqa: BLE001
            st.info(f"所选时段无法做时空热点趋势分析({e})。请选择跨越多个月的时段。")
            return
        if em.empty:
            st.info(NO_CASES.format(what="做时空热点趋势分析"))
            return
        gdf = view.labelled(gdf, mode, em)
        classes = {k: (CATEGORY_LABELS[k], maps.EMERGING_COLOURS[k]) for k in CATEGORY_LABELS}
        m = maps.categorical(gdf, "category", classes, "时空热点趋势", bounds, tooltip, caption)
        help_text = ("按月统计各村(社区)诉求, 逐月做 Gi* 热点分析(见「逐月热点」), 再按各月显著性和趋势(Mann-Kendall)"
                     "归入新增、连续、加剧、持续等类型。")

    st.caption(f"{help_text} 时段: {flt.start} 至 {flt.end}。")
    show_map(m, f"hs_map_{mode}", height=600)
    filters.note_unused(flt, {"area"}, AREA_NOTE)

    table = view.significant_villages(gdf, mode)
    st.subheader(f"{'热点' if mode != 'lisa' else '高值'}村(社区): {len(table):,} 个")
    if table.empty:
        st.caption("所选时段内没有显著的热点。")
        return
    show_table(table)
    name = {"gi": "Gi热点村社区", "lisa": "LISA高值村社区", "emerging": "时空热点村社区"}[mode]
    downloads(table, f"{name}_{flt.start}_{flt.end}", f"hs_dl_{mode}",
              caption=filters.describe(flt.without_area()))


def month_mode(flt: CaseFilter, shapes: gpd.GeoDataFrame | None, n_villages: int) -> None:
    """Gi* per village for one month at a time: a slider over the months of the period (the map
    when `shapes` are given; None: too many villages to draw, level of detail)."""
    try:
        _cats, bins = data.emerging(flt)
    except Exception as e:  # noqa: BLE001
        st.error(f"逐月热点分析未能完成: {e}")
        return
    if bins.empty:
        st.info(NO_CASES.format(what="逐月做热点分析"))
        return
    st.caption("每月分别对各村(社区)当月诉求件数做 Gi* 热点分析(显著性 95%, 已按错误发现率校正); "
               "拖动滑块逐月查看。首尾两个月只含所选时段内的日子。「时空热点趋势」即由这些逐月结果归类而来。")
    st.bar_chart(view.month_counts(bins),
                 color=[maps.GI_COLOURS["hot_95"], maps.GI_COLOURS["cold_95"]], height=260,
                 x_label="月份", y_label="村(社区)数", stack=False)
    if shapes is None:
        st.info(CHOOSE_TOWN.format(n=n_villages) + WHOLE_DISTRICT)
        return
    month_view(flt, shapes, bins)
    filters.note_unused(flt, {"area"}, AREA_NOTE)


@st.fragment
def month_view(flt: CaseFilter, shapes: gpd.GeoDataFrame, bins: pd.DataFrame) -> None:
    """The month slider and its map (a fragment: moving the slider reruns only this part)."""
    months = sorted(bins["bin"].astype(str).unique())
    if len(months) > 1:
        month = st.select_slider("月份", months, value=months[-1], key="hs_month")
    else:
        month = months[0]
        st.caption(f"所选时段只含一个月: {month}。")
    gdf = view.month_frame(shapes, bins, month)
    classes = {k: GI_CLASSES[k] for k in view.MONTH_CLASS.values()}
    tooltip = {"name": "村(社区)", "town": "乡镇(街道)", "value": "当月诉求件数", "Zs": "Gi* z 值", "label": "分类"}
    m = maps.categorical(gdf, "gi", classes, f"{month} Gi* 热点", data.bounds(flt.area_prefix), tooltip,
                         data.demo_caption())
    n_hot, n_cold = int((gdf["gi"] == "hot_95").sum()), int((gdf["gi"] == "cold_95").sum())
    st.subheader(f"{month}: 热点村(社区) {n_hot:,} 个, 冷点 {n_cold:,} 个")
    show_map(m, "hs_map_month", height=560)
    table = view.month_table(gdf, month)
    if table.empty:
        st.caption("这个月没有显著的热点或冷点。")
        return
    show_table(table)
    downloads(table, f"逐月热点_{month}", "hs_dl_month", caption=filters.describe(flt.without_area()))


def hex_mode(flt: CaseFilter) -> None:
    """Gi* on counts of geocoded cases in H3 hexagons over the whole district."""
    res = st.radio("格网大小 (H3 分辨率)", list(HEX_RES), format_func=HEX_RES.get, horizontal=True, key="hs_hex_res",
                   bind="query-params", help="; ".join(f"{HEX_RES[r]}: {HEX_SIZE[r]}" for r in HEX_RES))
    try:
        hx = data.hex_hotspots(flt, int(res))
    except Exception as e:  # noqa: BLE001
        st.error(f"六边形格网热点分析未能完成: {e}")
        return
    if hx.empty or not hx["value"].sum():
        no_points(flt.without_area(), "六边形格网")
        return
    gdf = view.hex_frame(hx)
    towns = data.area_shapes("town")
    tooltip = {"value": "有坐标的诉求件数", "z": "Gi* z 值", "label": "分类"}
    m = maps.categorical(gdf, "class", GI_CLASSES, f"H3 {res}级格网 Gi*", data.bounds(flt.area_prefix), tooltip,
                         data.demo_caption(), outlines=towns)
    n_points, n_blank = int(hx["value"].sum()), len(hx) - len(gdf)
    st.caption(f"覆盖全区的 H3 六边形格网 ({len(hx):,} 格, {HEX_SIZE[res]}): 对每格内有坐标的诉求件数({n_points:,} 件)做 Getis-Ord Gi*, "
               "已按错误发现率(FDR)校正。检验的是原始件数, 没有户数作分母: 人口稠密的城区天然偏热, "
               "按人口比较请看「热点/冷点 (Gi*)」(村社区每千户诉求率)。只按村名或乡镇定位、没有经纬度的诉求不在格网中。"
               + (f" 另有 {n_blank:,} 格没有诉求且不显著, 留白未画。" if n_blank else ""))
    show_map(m, f"hs_map_hex_{res}", height=600, drill=False)
    filters.note_unused(flt, {"area"}, ": 格网热点在全区计算, 地图缩放到所选区域")

    sig = gdf[gdf["class"] != "not_significant"]
    n_hot = int(sig["class"].isin(view.HOT).sum())
    st.subheader(f"显著的格网: 热点 {n_hot:,} 格, 冷点 {len(sig) - n_hot:,} 格")
    if sig.empty:
        st.caption("所选条件下没有显著的热点或冷点格网。")
        return
    table = view.hex_table(gdf, data.cell_centres(tuple(sig["h3"])))
    show_table(table)
    downloads(table, f"H3格网热点_{res}级_{flt.start}_{flt.end}", "hs_dl_hex", caption=filters.describe(flt.without_area()))


def heat_mode(flt: CaseFilter) -> None:
    """Heat map of the filtered cases' points, summed on a ~100 m grid, and how many cases have a point."""
    cov = data.point_coverage(flt)
    pts = data.case_points(flt, CELL_M)
    total, with_point = int(cov["cases"].sum()), int(cov["with_point"].sum())
    if pts.empty:
        no_points(flt, "热力图")
    else:
        outlines = data.area_shapes("village", flt.town) if flt.town else data.area_shapes("town")
        m = maps.heat(pts, data.bounds(flt.area_prefix), "诉求热力图", data.demo_caption(), outlines=outlines)
        share = f", 占所选 {total:,} 件的 {formats.rate(with_point / total)}" if total else ""
        st.caption(f"热力图含 {with_point:,} 件有坐标(经纬度)的诉求{share}; 为保护隐私并减轻页面, 先按约 {CELL_M} 米的格网汇总"
                   f"({len(pts):,} 格), 按件数加权。颜色表示相对密度(相对于当前视野中最密处), 不是统计检验; "
                   "显著性请看「六边形格网 (H3)」或村(社区)的 Gi*。只按村名或乡镇定位的诉求没有坐标, 不在图中。")
        show_map(m, "hs_map_heat", height=600, drill=False)
    st.subheader("各乡镇(街道)诉求的坐标覆盖")
    table = view.coverage_table(cov)
    if table.empty:
        st.caption("所选条件下没有诉求。")
        return
    show_table(table)
    downloads(table, f"诉求坐标覆盖_{flt.start}_{flt.end}", "hs_dl_heat",
              caption="有坐标占比低的乡镇(街道)在热力图和六边形格网中被低估。 " + filters.describe(flt))


flt = case_page("热点地图")
# Level of detail (the pages' one rule): the district's villages while within map_max_villages, else
# the chosen town's, else none (asked for a town); the statistics stay district-wide either way.
shapes, n_villages = map_villages(flt.town or "", whole_district=True)
mode = st.radio("分析方法", list(MODES), format_func=MODES.get, horizontal=True, key="hs_mode", bind="query-params")
if mode in ("hex", "heat"):
    (hex_mode if mode == "hex" else heat_mode)(flt)
elif shapes is None and mode != "month":
    st.info(CHOOSE_TOWN.format(n=n_villages) + WHOLE_DISTRICT)
elif shapes is not None and shapes.empty:
    st.info(NO_SHAPES)
elif mode == "month":
    month_mode(flt, shapes, n_villages)
else:
    village_modes(flt, shapes, mode)
