"""导出: area summaries per town or village with chosen figures, as CSV, XLSX, GeoJSON and
GeoPackage; every file holds exactly the preview (the current filters)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, filters
from dashboard.ui import NO_CASES, area_page, audited
from dashboard.ui import table as show_table
from reports import export

flt = area_page("导出 · 区域汇总")
has_cases = flt.start is not None
case_labels = export.case_metric_labels() if has_cases else {}
hh_labels = export.household_metric_labels()
has_households = int(data.households("town")["categories"]["households"].sum()) > 0
if not has_cases and not has_households:
    st.info("数据仓库中还没有诉求记录和户情数据, 暂无可导出的汇总。用 `minqing load cases 台账.csv` 和 "
            "`minqing load households 民情台账.xlsx` 导入后刷新本页。")
    st.stop()
if not has_cases:
    st.info(NO_CASES + " 在此之前只能导出户情指标。")
elif not has_households:
    st.caption("还没有户情数据 (`minqing load households 民情台账.xlsx`): 户情指标暂不可选。")
    hh_labels = {}

labels = case_labels | hh_labels
level = st.segmented_control("汇总层级", list(export.LEVELS), default="town", required=True,
                               format_func=export.LEVELS.get, key="ex_level")
chosen = st.multiselect("指标", list(labels), default=[k for k in export.DEFAULT_METRICS if k in labels],
                           format_func=labels.get, key="ex_metrics", placeholder="选择要导出的指标",
                           help="诉求指标按侧栏的全部筛选条件统计; 户情指标为最新建档状态, 只按区域筛选。")
keys = tuple(chosen)

try:
    gdf = data.export_summary(flt, level, keys)
except Exception as e:  # noqa: BLE001 - a failed query is a message, not a traceback
    st.error(f"汇总未能完成: {e}")
    st.stop()
if gdf.empty:
    st.info(f"数据仓库中没有{export.LEVELS[level]}。用 `minqing load areas 边界.geojson` 导入区划与边界后刷新本页。")
    st.stop()

unit = export.LEVELS[level]
where = filters.describe(flt)
st.caption(f"{len(gdf):,} 个{unit} · {where}" + ("" if keys else " · 未选指标: 只导出区域列表"))
if flt.village and level == "town":
    st.caption(f"已选村(社区) {data.area_name(flt.village)}: 乡镇(街道)一行只统计该村(社区)。")
if level == "village" and has_cases and any(k in case_labels for k in keys):
    n_town = data.town_level_cases(flt)
    if n_town:
        st.caption(f"另有 {n_town:,} 件诉求只定位到乡镇(街道), 不计入任何村(社区); 按乡镇(街道)汇总时计入。")
if any(k in hh_labels for k in keys):
    st.caption("户情指标为最新建档状态, 只按区域筛选 (不受受理时段、问题类别、诉求来源、办理状态影响)。")

table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
show_table(table, height=min(38 + 35 * len(table), 520),
           column_config={c: st.column_config.NumberColumn(format="%.1f") for c in table.columns if "小时" in c})

missing = int(gdf.geometry.isna().sum())
demo = data.is_demo()
period = (flt.start, flt.end) if has_cases else None
area = data.area_name(flt.area_prefix) if flt.area_prefix else data.meta().get("district_name", "全区")
st.subheader("下载")
buttons = [("csv", "CSV", "UTF-8 (带BOM) 编码, Excel 可直接打开; 不含边界"),
           ("xlsx", "XLSX", "第一张表为上表; 第二张表「说明」写明筛选条件、数据截至日期" + ("和演示数据标记" if demo else "")),
           ("geojson", "GeoJSON", "上表各列 + 区域边界 (WGS-84, 未简化)"),
           ("gpkg", "GeoPackage", "上表各列 + 区域边界 (WGS-84, 未简化), 可直接拖入 QGIS / ArcGIS")]
cols = st.columns(len(buttons))
for c, (kind, label, why) in zip(cols, buttons):
    # built when clicked (a filter change does not write four files nobody asked for yet), from
    # the cached summary shown above, so the file holds exactly the preview
    c.download_button(f"下载 {label}", audited(lambda kind=kind: data.export_file(flt, level, keys, kind, where),
                              export.file_name(level, period, area, kind, demo), len(gdf), where),
                      file_name=export.file_name(level, period, area, kind, demo),
                      mime=export.FORMATS[kind], key=f"ex_{kind}", help=why, icon=":material/download:",
                      on_click="ignore", width="stretch")
if missing == len(gdf):
    st.caption(f"还没有{unit}边界: GeoJSON / GeoPackage 中各行几何为空。用 `minqing load areas 边界.geojson` 导入边界。")
elif missing:
    st.caption(f"{missing:,} 个{unit}没有边界: GeoJSON / GeoPackage 中保留这些行, 几何为空。")
st.caption("文件内容与上表完全一致 (同样的行、列和数值), 随侧栏筛选与所选指标变化。"
           + (" 数据为演示数据, 文件名与说明中已注明。" if demo else ""))
