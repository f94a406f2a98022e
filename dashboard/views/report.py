"""报告: the documents offices send (十日信息摘报, 月度分析, 一区一报) as Word files, for the area
and filters of the sidebar; a town account gets its own town only (dashboard.report_data)."""

from __future__ import annotations

import logging

import streamlit as st

from dashboard import data, filters, report_data
from dashboard.compute import report as view
from dashboard.ui import audited, case_page
from reports.documents import KINDS

log = logging.getLogger(__name__)
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

flt = case_page("报告 · Word 文档")
kind = st.segmented_control("报告类型", list(KINDS), default="digest", required=True, format_func=KINDS.get,
                            key="report_kind")
st.caption(view.HELP[kind])
period = data.case_period()
options = view.period_options(kind, data.as_of().at.date(), period[0] if period else None)
chosen = None
if options:
    label = st.selectbox("期次" if kind == "digest" else "月份", list(options), key=f"report_period_{kind}")
    chosen = options[label]
    st.caption("侧栏的受理时段不用于本报告; 区域与类别、来源、状态筛选照常适用。")
else:
    st.caption("统计时段为侧栏的受理时段。")
if view.missing_area(kind, flt):
    st.info("一区一报需要一个区域: 请在侧栏选择乡镇(街道), 需要时再选村(社区)。")
    st.stop()
request = view.request(kind, flt, chosen)
where = filters.describe(request)
st.caption(f"{data.area_name(request.area_prefix) if request.area_prefix else data.meta().get('district_name', '全区')} · {where}")

key = (kind, repr(request))
if st.button("生成报告", key="report_make", type="primary", icon=":material/description:"):
    st.session_state["report_ready"] = key
if st.session_state.get("report_ready") == key:
    try:
        with st.spinner("正在生成报告 (热点与五必去分析需要十几秒) ..."):
            doc, name = report_data.report_file(kind, request, "")  # "" is clamped to a town account's town
    except Exception as e:  # noqa: BLE001 - a failed document is a message, not a traceback
        message = view.error_message(e)
        if message is None:
            log.exception("report %s failed", kind)
            message = "报告未能生成: 程序出错, 已记入日志, 请联系管理员。"
        st.error(message)
        st.stop()
    row = st.container(horizontal=True)
    row.download_button(f"下载 {name}", audited(lambda: doc, name, None, where), file_name=name, mime=DOCX_MIME,
                       key="report_docx", icon=":material/download:", on_click="ignore")
    st.caption("Word 文档的版式来自模板 (设置 report_template), 可在 Word 中修改后另存为模板。"
               + (" 演示数据: 文档页眉和报头已注明。" if data.is_demo() else ""))
