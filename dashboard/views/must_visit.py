"""五必去: villages a cadre must visit, ranked by priority, with reasons, a map and a visit plan to download."""

from __future__ import annotations

import streamlit as st

from dashboard import data, filters, maps
from dashboard.compute import must_visit as view
from dashboard.texts import help_text, must_visit_criteria, settings_table
from dashboard.ui import CHOOSE_TOWN, NO_SHAPES, XLSX_MIME, area_page, audited, map_villages, show_map
from reports.tables import csv_bytes, xlsx_bytes
from reports.visit_plan import visit_plan_html

flt = area_page("五必去 · 干部必去的村(社区)")
filters.note_unused(flt, {"period", "category", "channel", "status"}, help_text("must_visit_unused"))
labels = data.must_visit_labels()
try:
    mv = data.must_visit()
except Exception as e:  # noqa: BLE001 - an analysis failure is a message, not a traceback
    st.error(f"五必去分析未能完成: {e}")
    st.stop()
flagged = view.flagged(mv)
if flagged.empty:
    st.info("目前没有村(社区)被标记为五必去。标记依据户情(连心户占比)、村委会与乡镇驻地的距离、近期诉求、"
            "办理情况和灾情: 用 `minqing load households`、`minqing load cases`、`minqing load disasters` "
            "导入台账(以及 `minqing load areas` 导入村界和驻地)后刷新本页。")
    st.stop()

chosen = st.multiselect("标记条件(满足任一所选条件即列出)", list(labels), default=list(labels),
                        format_func=labels.get, key="mv_flags")
rows = view.flagged(flagged, chosen, flt.area_prefix)

cols = st.columns(len(labels) + 1)
cols[0].metric("列出的村(社区)", f"{len(rows):,}", help="满足所选任一条件的村(社区)数; 全区共 "
               f"{len(flagged):,} 个村(社区)至少满足一项")
for c, (label, n) in zip(cols[1:], view.flag_counts(rows, labels).items()):
    c.metric(label, f"{n:,}")

plan = view.visit_plan(rows, labels)
criteria = must_visit_criteria([k for k in labels if k in chosen], labels)

st.subheader("走访优先顺序", help=help_text("must_visit_order"))
st.caption("按优先得分从高到低; 同分时按超期未办结件数、每千户诉求从多到少, 再按区划代码。")
st.dataframe(plan, hide_index=True, width="stretch", height=min(38 + 35 * len(plan), 460),
             column_config={"原因": st.column_config.TextColumn(width="large"),
                            "优先得分": st.column_config.NumberColumn(format="%.2f", help=help_text("must_visit_order"))})
district = data.meta().get("district_name", "")
place = f"{district} · {data.area_name(flt.area_prefix)}" if flt.area_prefix else district
as_of = data.as_of().at.date()
print_title = f"{place} 五必去走访计划 · {as_of}"
print_doc = visit_plan_html(
    plan[["序号", "乡镇(街道)", "村(社区)", "五必去标记", "原因", "优先得分"]], print_title,
    f"数据截至 {as_of} · 共 {len(plan):,} 个村(社区), 按优先得分排序", data.is_demo(),
    notes=[f"标记条件: {'、'.join(labels[k] for k in labels if k in chosen) or '无'} (满足任一即列出)",
           f"区域: {data.area_name(flt.area_prefix) if flt.area_prefix else '全区'}",
           help_text("must_visit_basis"), help_text("must_visit_order")],
    criteria=criteria)
stem = f"五必去走访计划_{data.area_name(flt.area_prefix).replace(' · ', '_') if flt.area_prefix else district}_{as_of}"
b = st.columns([3, 2, 2, 5])
b[0].download_button("下载走访计划 (XLSX)", audited(lambda: xlsx_bytes(plan, "五必去走访计划"), f"{stem}.xlsx", len(plan), filters.describe(flt)), file_name=f"{stem}.xlsx",
                     mime=XLSX_MIME, key="mv_xlsx", help="内容与上表完全一致(当前筛选条件下的村)", on_click="ignore")
b[1].download_button("下载 CSV", audited(lambda: csv_bytes(plan), f"{stem}.csv", len(plan), filters.describe(flt)), file_name=f"{stem}.csv", mime="text/csv", key="mv_csv",
                     help="UTF-8 (带BOM) 编码, Excel 可直接打开; 内容与上表一致", on_click="ignore")
b[2].download_button("打印版 (HTML)", audited(lambda: print_doc.encode("utf-8"), f"{stem}.html", len(plan), filters.describe(flt)), file_name=f"{stem}.html", mime="text/html",
                     key="mv_html", help="A4 横向打印页: 上表的村(社区)与原因, 留有走访干部、走访日期、签字栏; "
                     "用浏览器打开后打印 (Ctrl+P)", on_click="ignore")
with st.expander("打印预览"):
    st.iframe(print_doc, height=620)

st.subheader("地图")
shapes, n_villages = map_villages(flt.town or "")
if shapes is None:
    st.info(CHOOSE_TOWN.format(n=n_villages))
elif shapes.empty:
    st.info(NO_SHAPES)
else:
    gdf = view.plan_map_frame(shapes, plan)
    m = maps.choropleth(gdf, "score", "五必去优先得分", data.bounds(flt.area_prefix),
                        {"name": "村(社区)", "town": "乡镇(街道)", "score": "优先得分", "flags": "五必去标记"},
                        data.demo_caption())
    show_map(m, "mv_map")
    st.caption("灰色: 未列出的村(社区)。颜色越深, 优先得分越高 (满足的条件越多、权重越高、超出阈值越多); "
               "得分最高的一档颜色最深。")

with st.expander("五必去判定标准与阈值"):
    st.markdown("\n".join(f"- {c}" for c in must_visit_criteria(list(labels), labels)))
    st.dataframe(settings_table("must_visit_"), hide_index=True, width="stretch")
    st.caption("阈值可由管理员用环境变量 MINQING_<设置名大写> 或 MINQING_CONFIG 指定的 TOML 文件修改 (重启看板后生效); "
               "命令行 `minqing must-visit --config 文件` 可按文件中的阈值另行计算。")
