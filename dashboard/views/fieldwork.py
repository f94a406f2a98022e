"""驻点走访: must-visit villages no cadre visited, stations and their reception days, cadres'
visits against the monthly target, pairing load, households reached, the villages' visit
coverage and the cases at buildings (analysis.fieldwork; figures in dashboard.compute.fieldwork)."""

from __future__ import annotations

import streamlit as st

from dashboard import data, fieldwork_data as fd, filters, maps, session
from dashboard.compute import fieldwork as view
from dashboard.compute.changes import fmt_rate
from dashboard.ui import CHOOSE_TOWN, NO_SHAPES, area_page, downloads, map_villages, show_map, table as show_table
from dashboard.point_layers import add_points
from analysis.fieldwork import without_visits
from etl import settings

flt = area_page("驻点走访 · 工作站、干部走访与结对")
filters.note_unused(flt, {"category", "channel", "status"}, ": 走访按走访日期与区域统计; 工作站受理诉求按全部问题类别")
missing = fd.missing()
if {"stations", "visits", "households"} <= set(missing):
    st.info(f"还没有驻点走访数据。用 `minqing load stations 工作站.xlsx`、`minqing load cadres 干部名册.xlsx`、"
            f"`minqing load visits 走访记录.xlsx` 导入 (或在「数据导入」页上传) 后刷新本页。尚缺: {view.missing_text(missing)}。")
    st.stop()
start, end = fd.period(flt)
where = filters.describe(flt)

gaps = fd.must_visit_unvisited(flt)
if len(gaps):
    st.warning(f"五必去村(社区)时段内无干部走访 {len(gaps):,} 个: {view.gaps_line(gaps)}", icon=":material/priority_high:")
elif "visits" not in missing:
    st.success("时段内每个五必去村(社区)都有干部走访。")
idle = fd.idle_towns(flt)
if len(idle):
    days = int(settings.get("fieldwork_idle_days"))
    st.warning(f"走访中断: {len(idle):,} 个乡镇(街道)此前有走访, 但 {end} 前 {days} 天内没有任何走访记录: "
               + "、".join(f"{t} (最近 {d:%Y-%m-%d})" for t, d in zip(idle["town"], idle["last_visit"])),
               icon=":material/pause_circle:")
if missing:
    st.caption(f"尚未导入: {view.missing_text(missing)} (相应部分暂无数据)。")

stations, no_station = fd.stations(flt), fd.villages_without_station(flt)
cadres, reached = fd.cadre_visits(flt), fd.households_reached(flt)
unvisited = fd.unvisited_key_households(flt)
h = view.headline(stations, no_station, cadres, reached, unvisited, gaps)
target = int(settings.get("fieldwork_visits_per_month"))
c = st.columns(5)
c[0].metric("工作站", f"{h['stations']:,}", f"无站村(社区) {h['villages_without_station']:,}", delta_color="off",
            delta_arrow="off")
c[1].metric("干部走访达标率", fmt_rate(h["meeting_share"]),
            f"{h['meeting']:,} / {h['cadres']:,} 人", delta_color="off", delta_arrow="off",
            help=f"时段内月均走访不少于 {target} 户的干部 ÷ 干部名册中的干部")
c[2].metric("走访覆盖户", fmt_rate(h["visited_share"]),
            f"{h['visited']:,} / {h['households']:,} 户", delta_color="off", delta_arrow="off",
            help="时段内有走访记录的户 ÷ 建档户数")
c[3].metric("连心户久未走访", f"{h['key_unvisited']:,}",
            help=f"{int(settings.get('fieldwork_key_unvisited_days'))} 天内无走访记录的连心户")
c[4].metric("五必去村无人走访", f"{h['must_visit_unvisited']:,}")
st.caption(f"走访时段 {start} 至 {end}; {where}。")

if len(gaps):
    st.subheader("五必去村(社区)无人走访")
    t = view.gaps_table(gaps)
    show_table(t)
    downloads(t, f"五必去无人走访_{start}_{end}", "fw_gaps", where)

tabs = st.tabs(["村(社区)覆盖地图", "干部走访", "户走访与连心户", "工作站", "楼宇与企业"])
with tabs[0]:
    coverage = fd.village_coverage(flt)
    shapes, n_villages = map_villages(flt.town or "")
    if coverage.empty:
        st.info("还没有走访记录, 无法计算覆盖率。用 `minqing load visits 走访记录.xlsx` 导入。")
    elif shapes is None:
        st.info(CHOOSE_TOWN.format(n=n_villages))
    elif shapes.empty:
        st.info(NO_SHAPES)
    else:
        gdf = shapes.merge(coverage[["area_code", "households", "visited_households", "coverage", "visits",
                                     "must_visit_flags"]], left_on="code", right_on="area_code", how="left")
        gdf["coverage_pct"] = (gdf["coverage"].fillna(0.0) * 100).round(1)  # the legend reads percent
        m = maps.choropleth(gdf, "coverage_pct", "走访覆盖率 (%)", data.bounds(flt.area_prefix),
                            {"name": "村(社区)", "town": "乡镇(街道)", "coverage_pct": "走访覆盖率(%)", "households": "建档户数",
                             "visited_households": "走访户数", "visits": "走访次数", "must_visit_flags": "五必去标记"},
                            data.demo_caption())
        add_points(m, stations, "工作站", "#1f4e79")
        b = fd.buildings(flt)
        if len(b):
            add_points(m, view.building_points(b), "楼宇、企业、街区", "#b35900", label="label")
        show_map(m, "fw_map")
        st.caption("颜色: 时段内走访过的户 ÷ 建档户数 (无户数据的村为灰色); 蓝点: 群众工作站; "
                   "橙点: 商务楼宇、非公企业、商业街区 (悬停看类型、是否设站和附近诉求)。")
with tabs[1]:
    by = st.segmented_control("汇总", ["town", "unit"], default="town", required=True,
                              format_func={"town": "按乡镇(街道)", "unit": "按单位"}.get, key="fw_by")
    summary = view.cadre_summary_table(fd.cadre_summary(flt, by), by)
    if summary.empty:
        st.info("还没有干部名册或走访记录。")
    else:
        show_table(summary)
        downloads(summary, f"干部走访达标_{start}_{end}", "fw_cadre_sum", where)
        idle = without_visits(cadres)
        st.markdown(f"**时段内无走访记录的干部: {len(idle):,} 人** (月目标 {target} 户)")
        t = session.without_people(view.cadres_table(idle), ("姓名",))
        show_table(t, height=min(38 + 35 * len(t), 420))
        downloads(t, f"无走访干部_{start}_{end}", "fw_idle", where)
    load = fd.pairing_load(flt)
    if len(load):
        odd = load[load["load"] != "ok"]
        lo, hi = int(settings.get("fieldwork_pairs_min")), int(settings.get("fieldwork_pairs_max"))
        st.markdown(f"**结对负荷不在 {lo}-{hi} 户之间的干部: {len(odd):,} 人** (共 {len(load):,} 名结对干部)")
        t = session.without_people(view.pairing_table(odd), ("姓名",))
        show_table(t, height=min(38 + 35 * len(t), 420))
        downloads(t, "结对负荷", "fw_pairs", where)
with tabs[2]:
    if reached.empty:
        st.info("需要户籍数据 (`minqing load households`) 和走访记录 (`minqing load visits`)。")
    else:
        t = view.reached_table(reached)
        show_table(t)
        downloads(t, f"户走访覆盖_{start}_{end}", "fw_reached", where)
        days = int(settings.get("fieldwork_key_unvisited_days"))
        st.markdown(f"**{days} 天内无走访的连心户: {len(unvisited):,} 户** (截至 {end}, 久未走访的在前)")
        t = session.without_people(view.unvisited_table(unvisited), ("结对干部",))
        show_table(t, height=min(38 + 35 * len(t), 420))
        downloads(t, f"连心户久未走访_{end}", "fw_unvisited", where)
with tabs[3]:
    if stations.empty:
        st.info("还没有群众工作站。用 `minqing load stations 工作站.xlsx` 导入。")
    else:
        t = view.stations_table(stations)
        show_table(t, height=min(38 + 35 * len(t), 460))
        downloads(t, f"工作站_{start}_{end}", "fw_stations", where)
        st.caption("坐班日在岗率: 时段内的坐班日中, 工作站所在村(社区)当天有走访记录的比例; "
                   "所在村受理诉求: 工作站所在村(社区)时段内受理的诉求; 代理信访: 其中来源为代理信访的。")
        st.markdown(f"**没有工作站的村(社区): {len(no_station):,} 个**")
        t = view.villages_table(no_station)
        show_table(t, height=min(38 + 35 * len(t), 320))
        downloads(t, "无工作站村社区", "fw_no_station", where)
with tabs[4]:
    b = fd.buildings(flt)
    if b.empty:
        st.info("还没有商务楼宇、非公企业、商业街区。用 `minqing load buildings 楼宇.xlsx` 导入。")
    else:
        radius = float(settings.get("fieldwork_building_radius_m"))
        t = view.buildings_table(b.sort_values("cases", ascending=False))
        show_table(t, height=min(38 + 35 * len(t), 460))
        downloads(t, f"楼宇企业诉求_{start}_{end}", "fw_buildings", where)
        st.caption(f"附近诉求: 坐标在其 {radius:g} 米内 (且离它最近) 的诉求。")
