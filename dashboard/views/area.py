"""区域档案: everything about one area (the district, a town or a village, from the sidebar's
area filter): where it sits and how to move up or down, its headline figures with 环比/同比,
households and visits, hot-spot class and 五必去, its monthly trend against the district per
1,000 households, its categories and channels, and how it compares with its neighbours."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import area_data, data, fieldwork_data as fd, filters, maps
from dashboard.compute import area as view
from dashboard.compute import changes
from dashboard.compute import fieldwork as fieldwork_view
from dashboard.pages import page as page_of
from dashboard.compute import households as homes_view
from dashboard.texts import help_text
from dashboard.ui import NO_CASES, NO_SHAPES, area_page, downloads, household_cards, show_map, style_chart
from dashboard.ui import table as ui_table
from etl.codes import town_of, village_of
from analysis import metrics

FIELDWORK_PAGE = page_of("fieldwork")

NO_HOUSEHOLDS = "还没有户籍与民情分类数据, 每千户诉求、连心户占比等比率显示为 —。用 `minqing load households 民情台账.xlsx` 导入后刷新本页。"


# ---------------------------------------------------------------------------- navigation

def _go(target: str) -> None:
    """Callback: show `target` ('' = the district) by setting the sidebar's area filters."""
    st.session_state["town"] = town_of(target)
    st.session_state["village"] = village_of(target)


def _picked(key: str) -> None:
    """Callback of a picker selectbox: open the chosen area and clear the picker."""
    target = st.session_state.get(key)
    st.session_state[key] = None
    if target:
        _go(target)


flt = area_page("区域档案")
here = view.place(flt, data.meta(), data.towns(), data.villages(flt.town) if flt.town else {})
level, code, name = here.level, here.code, here.name
has_cases = flt.start is not None

nav, pick = st.columns([3, 2], vertical_alignment="bottom")
with nav:
    crumbs = st.container(horizontal=True, vertical_alignment="center", gap="small")
    for i, (c, label) in enumerate(here.trail):
        if i:
            crumbs.markdown("›")
        if i < len(here.trail) - 1:
            crumbs.button(label, key=f"area_crumb_{i}", type="tertiary", on_click=_go, args=(c,),
                          help=f"返回{label}的区域档案")
        else:
            crumbs.markdown(f"**{label}**")
with pick:
    options, label, placeholder = view.picker(here, area_data.area_neighbours(code) if level == "village" else None)
    st.selectbox(label, list(options), index=None, format_func=lambda c: options.get(c, c), placeholder=placeholder,
                 key="area_pick", on_change=_picked, args=("area_pick",), disabled=not options)

st.header(name)
st.caption(here.caption(filters.describe(flt)))

# ---------------------------------------------------------------------------- headline figures

homes = data.households(level, code)
household = homes_view.summary(homes["categories"], homes["pairing"], homes["must_see"])
n_homes = household["households"]
table_rows = area_data.area_comparison(code, flt)

if not has_cases:
    st.info(NO_CASES)
else:
    s = data.summary(flt, compare=True)
    ch = s["changes"]

    def card(col, key: str, rate: bool = False, help: str = "", colour: str = "off") -> None:
        c = ch[key]
        flat = changes.unchanged(c, rate)
        previous = changes.value_text(c["previous"], rate) if c["previous"] is not None else "—"
        col.metric(metrics.LABELS[key], changes.value_text(s[key], rate),
                   "环比持平" if flat else changes.change_text(c, rate),
                   delta_color="off" if flat else colour, delta_arrow="off" if flat else "auto",
                   help=f"{help} 上期 {previous}; {changes.last_year_text(c, rate)}。")

    row = st.columns(6)
    card(row[0], "received", help="所选时段内受理的诉求件数。")
    card(row[1], "closed", help="所选时段内受理、目前已办结(含已回访、已归档)的件数。")
    card(row[2], "closure_rate", True, "已办结 ÷ 受理诉求。", "normal")
    card(row[3], "satisfaction_rate", True, "满意与基本满意 ÷ 已评价。", "normal")
    row[4].metric("未办结", f"{s['open']:,}", help="截至时段末受理、目前仍在受理/交办/办理中的件数")
    row[5].metric("超期未办结", f"{s['overdue']:,}", help=help_text("overdue"))

    row = st.columns(6)
    area_rate, dist_rate = view.per_1000(table_rows, level)
    row[0].metric("每千户诉求", "—" if area_rate is None else f"{area_rate:.1f}",
                  None if level == "district" or dist_rate is None else f"全区 {dist_rate:.1f}",
                  delta_color="off", delta_arrow="off",
                  help="受理诉求 ÷ 建档户数 × 1000 (户数为最新民情台账), 便于不同规模的区域相互比较")
    card(row[1], "on_time_rate", True, "按期办结 ÷ 已办结。", "normal")
    card(row[2], "repeat", help=help_text("repeat"), colour="inverse")
    card(row[3], "level_skipping", help="到市级, 或未经村镇直接到区接访反映。", colour="inverse")
    card(row[4], "multichannel", help=help_text("multichannel"), colour="inverse")
    card(row[5], "group_petitions", help=help_text("group_petitions"), colour="inverse")

    with st.expander("本期与上期(环比)、去年同期(同比)对比"):
        compare = changes.change_table(s)
        st.dataframe(compare, hide_index=True, width="stretch")
        downloads(compare, f"区域档案_{name}_环比同比_{flt.start}_{flt.end}", "area_compare", filters.describe(flt))

# ---------------------------------------------------------------------------- households, hot spot, 五必去

st.subheader("户情与重点关注")
if not n_homes:
    st.info(NO_HOUSEHOLDS)
else:
    row = st.columns(len(household["kinds"]) + 3)
    household_cards(row, household)
    row[-1].metric("五必访户", f"{household['any_must_see']:,}",
                   help="属于五必访任一类(贫困户、五保户、老党员、两代一委、村组干部)的户数; 一户可属多类")
    st.caption("五必访: " + ", ".join(f"{k} {v:,} 户" for k, v in household["must_see"].items())
               + "。户情为最新建档状态, 不受受理时段等诉求筛选影响。")

hot_col, visit_col = st.columns([2, 3])
with hot_col:
    try:
        hs_village = data.area_hotspots(flt, "village", lisa=level == "village") if has_cases else pd.DataFrame()
        hs_town = data.area_hotspots(flt, "town") if has_cases and level != "village" else pd.DataFrame()
    except Exception as e:  # noqa: BLE001 - an analysis failure is a message, not a traceback
        st.error(f"热点分析未能完成: {e}")
        hs_village = hs_town = pd.DataFrame()
    if not has_cases:
        st.caption("热点分析: 导入诉求后显示。")
    elif hs_village.empty or "class" not in hs_village:
        st.info("还没有村(社区)边界, 无法做热点分析。" + NO_SHAPES)
    else:
        hot = view.hot_spots(hs_village, hs_town, here)
        a, b = st.columns(2)
        if level == "village":
            a.metric("热点分析 (Gi*)", view.class_label(hot["class"]),
                     help="Getis-Ord Gi*: 本村与相邻村一起的每千户诉求是否显著偏高(热点)或偏低(冷点), 已做FDR校正; 全区村级计算")
            b.metric("聚集分析 (LISA)", view.lisa_label(hot["lisa"]), help="局部 Moran's I: 高-高/低-低聚集, 高-低/低-高异常")
        else:
            if level == "town":
                a.metric("本乡镇热点分析 (Gi*)", view.class_label(hot["class"]),
                         help="乡镇级 Gi*: 本乡镇与相邻乡镇一起的每千户诉求是否显著偏高或偏低")
            else:
                a.metric("热点乡镇(街道)", "—" if hot["hot_towns"] is None else f"{hot['hot_towns']:,}",
                         help="乡镇级 Gi* 热点(90%及以上置信)的乡镇(街道)数")
            b.metric("热点村(社区)", f"{hot['hot_villages']:,}", f"共 {hot['villages']:,} 个村(社区)", delta_color="off",
                     delta_arrow="off", help="村级 Gi* 热点(90%及以上置信)的村(社区)数; 热点地图页可看分布")
        st.caption(f"热点分析按所选时段、问题类别、诉求来源和办理状态在全区计算 ({flt.start} 至 {flt.end})。")

with visit_col:
    labels = data.must_visit_labels()
    try:
        mv = data.must_visit()
    except Exception as e:  # noqa: BLE001
        st.error(f"五必去分析未能完成: {e}")
        mv = pd.DataFrame()
    if not has_cases and not n_homes:
        st.caption("五必去: 导入户情、诉求(以及村界与驻地、灾情)后显示。")
    elif level == "village":
        flags = view.village_flags(mv, code, labels)
        st.metric("五必去标记", "、".join(flags["标记"]) if len(flags) else "未标记",
                  help=help_text("must_visit_flags"))
        if len(flags):
            st.dataframe(flags, hide_index=True, width="stretch")
    else:
        visit = view.visit_list(mv, code, labels)
        st.metric("五必去村(社区)", f"{len(visit):,}", help="至少满足一项五必去条件的村(社区)数")
        if len(visit):
            with st.expander(f"五必去村(社区)名单 ({len(visit):,} 个)"):
                st.dataframe(visit, hide_index=True, width="stretch")
                downloads(visit, f"区域档案_{name}_五必去", "area_visit")
    if has_cases or n_homes:
        st.caption("五必去按固定的近期窗口判定, 不受受理时段等筛选影响。")

# ---------------------------------------------------------------------------- field work

if {"stations", "visits", "buildings"} - set(fd.missing()):  # something of the field work is loaded
    st.subheader("驻点走访")
    fw = fieldwork_view.area_figures(fd.stations(flt), fd.cadre_visits(flt), fd.village_coverage(flt), fd.buildings(flt))
    cols = st.columns(4)
    cols[0].metric("工作站", f"{len(fw['stations']):,}")
    cols[1].metric("干部走访达标", f"{fw['meeting']:,} / {fw['cadres']:,} 人")
    cols[2].metric("走访覆盖户", changes.fmt_rate(fw["coverage"]),
                   f"{fw['visited']:,} / {fw['households']:,} 户", delta_color="off", delta_arrow="off")
    cols[3].metric("楼宇、企业、街区", f"{len(fw['buildings']):,}")
    if fw["stations"]:
        st.caption("工作站: " + "; ".join(fw["stations"][:12]) + (" 等" if len(fw["stations"]) > 12 else ""))
    if fw["buildings"]:
        st.caption("楼宇、企业、街区: " + "; ".join(fw["buildings"][:12]) + (" 等" if len(fw["buildings"]) > 12 else ""))
    st.page_link(FIELDWORK_PAGE.file, label="驻点走访页: 工作站、干部走访与结对明细", icon=":material/directions_walk:")

# ---------------------------------------------------------------------------- trend and breakdown

if has_cases:
    left, right = st.columns([3, 2])
    with left:
        st.subheader("按月趋势")
        monthly = area_data.area_monthly(code, flt)
        per_k = view.can_compare_per_1000(monthly, level)
        unit = st.segmented_control("口径", ["per_1000", "count"], default="per_1000" if per_k else "count",
                                    key="area_trend_unit", format_func={"per_1000": "每千户", "count": "件数"}.get,
                                    label_visibility="collapsed", disabled=not per_k) or "count"
        unit = unit if per_k else "count"
        fig = go.Figure()
        for line in view.trend_lines(monthly, here, unit):
            fig.add_scatter(x=line["x"], y=line["y"], name=line["name"], mode="lines+markers",
                            line=dict(color=line["colour"], dash=line["dash"], width=line["width"]),
                            marker=dict(size=line["width"] + 3))
        fig.update_layout(height=340, margin=dict(l=0, r=10, t=10, b=0), xaxis_title="受理月份",
                          yaxis_title="每千户件数" if unit == "per_1000" else "件数", legend=dict(orientation="h", y=-0.25))
        st.plotly_chart(style_chart(fig, months=True), width="stretch", key="area_trend")
        if level == "district":
            st.caption("全区各月受理与办结件数。")
        elif per_k:
            st.caption("每千户 = 当月件数 ÷ 建档户数 × 1000; 虚线为全区, 实线为本区域, 规模不同也可直接比较。")
        else:
            st.caption("本区域或全区还没有户数, 只能按件数显示、无法与全区比较。")
    with right:
        st.subheader("问题类别与诉求来源")
        by = st.segmented_control("分组", ["category", "channel"], default="category", key="area_by",
                                  format_func=view.BREAKDOWN_LABELS.get, label_visibility="collapsed") or "category"
        groups = area_data.area_breakdown(code, flt, by)
        if groups.empty:
            st.info("所选条件下没有诉求。")
        else:
            fig = go.Figure()
            fig.add_bar(y=groups[by], x=(groups["share"] * 100).round(1), orientation="h", name=name,
                        marker_color="#3182bd", customdata=groups["received"],
                        hovertemplate="%{y}: %{x}% (%{customdata} 件)<extra></extra>")
            if level != "district":
                fig.add_bar(y=groups[by], x=(groups["district_share"] * 100).round(1), orientation="h", name="全区",
                            marker_color="#bdbdbd", hovertemplate="%{y}: 全区 %{x}%<extra></extra>")
            fig.update_layout(barmode="group", height=max(320, 13 * len(groups) * (2 if level != "district" else 1) + 110),
                              margin=dict(l=0, r=10, t=10, b=0), xaxis_title="占本区域受理的百分比",
                              yaxis=dict(autorange="reversed"), legend=dict(orientation="h", y=-0.15))
            st.plotly_chart(style_chart(fig), width="stretch", key="area_groups")
            label = view.BREAKDOWN_LABELS[by]
            with st.expander(f"{label}明细"):
                breakdown = view.breakdown_table(groups, by)
                ui_table(breakdown, placeholder="—")
                downloads(breakdown, f"区域档案_{name}_{label}_{flt.start}_{flt.end}", f"area_{by}")

# ---------------------------------------------------------------------------- map and comparison

row_level = "village" if level == "village" else "town"
hot_rows = hs_village if row_level == "village" else hs_town
neighbour_codes = set(area_data.area_neighbours(code)["code"]) if level != "district" else set()
st.subheader({"district": "各乡镇(街道)", "town": "下辖村(社区)", "village": "本村(社区)与相邻村(社区)"}[level])
shapes = data.area_shapes("town" if level == "district" else "village", code if level == "town" else "")
if level == "village":
    shapes = shapes[shapes["code"].isin(neighbour_codes | {code})]
if shapes.empty:
    st.info(NO_SHAPES if level != "district" else "还没有乡镇(街道)边界。用 `minqing load areas 边界.geojson` 导入边界后即可显示地图。")
else:
    gdf, tooltip = view.map_frame(shapes, area_data.area_figures(flt, "town" if level == "district" else "village"), level)
    m = maps.choropleth(gdf, "per_1000_fill", "每千户诉求", data.bounds(code) if level != "village"
                        else [[gdf.total_bounds[1], gdf.total_bounds[0]], [gdf.total_bounds[3], gdf.total_bounds[2]]],
                        tooltip, data.demo_caption())
    # show_map outlines the selected area (this one) thick and not clickable
    show_map(m, f"area_map_{level}", height=480)
    st.caption(("点击地图上的区域可打开其档案。" if has_cases or n_homes else "") +
               ("粗线为本区域。" if level != "district" else "") + "颜色按每千户诉求(受理诉求 ÷ 建档户数 × 1000), 无户数的区域按 0 着色。")


def show_table(out: pd.DataFrame, **kw) -> None:
    ui_table(out, height=min(38 + 35 * len(out), 1120), placeholder="—",
          column_config={"每千户诉求": st.column_config.NumberColumn(format="%.1f")}, **kw)


if level == "town":  # the town's own villages, below their map
    with st.expander(f"下辖村(社区)数据表 ({len(here.children)} 个)"):
        vf = area_data.area_figures(flt, "village")
        villages_table = view.figures_table(vf[vf["code"].str.startswith(code)], "village", level, hs_village)
        show_table(villages_table, key="area_villages_table")
        downloads(villages_table, f"区域档案_{name}_下辖村社区_{flt.start}_{flt.end}", "area_villages",
                  "每千户诉求排名为在全区所有村(社区)中由高到低的名次。")

st.subheader("与相邻地区比较" if level != "district" else "各乡镇(街道)比较")
if level != "district" and not neighbour_codes:
    st.caption("没有找到相邻的区域(尚未导入边界, 或本区域没有边界)。")
out = view.figures_table(table_rows, row_level, level, hot_rows)
show_table(out, key="area_table")
downloads(out, f"区域档案_{name}_{'相邻比较' if level != 'district' else '各乡镇比较'}_{flt.start}_{flt.end}", "area_table",
          ("全区合计为各乡镇(街道)之和。" if level == "district" else "相邻: 边界相接(含只有一个角点相接)的同级区域。") +
          "平均行: 件数和户数为该范围的合计(含只定位到乡镇(街道)的诉求)除以其中"
          f"{'村(社区)' if row_level == 'village' else '乡镇(街道)'}的个数, 比率即该范围的比率。"
          "每千户诉求排名为在全区同级区域中由高到低的名次(无户数的不排)。比率无分母时显示为 — (下载文件中为空)。")
