"""数据导入: load a ledger or boundary file from the browser through the same loader as
`minqing load` (one atomic swap under the writer's lock), see the header mapping and a masked
preview first, then the outcome, the rejected rows to fix and reload, and the load history."""

from __future__ import annotations

import streamlit as st

from dashboard import data, import_data
from dashboard.compute import imports
from dashboard.ui import downloads, page_start, record, require
from etl.db import Busy
from etl.keys import KeyError_
from etl.load import NOTE_LABELS, LoadError, load_file
from etl import vocab
from etl.readers import ReadError
from etl.privacy import mask_text
from etl.terms import DOMAIN_LABELS, map_term_in

page_start("数据导入")
require("load")
st.caption("选择台账类型并上传文件: 先核对表头对应和前几行 (姓名、电话、身份证号已脱敏), 再导入。"
           "同一文件重复导入不会重复入库; 有问题的行被拒收并注明原因, 可下载修改后重新导入。")

if data.case_period() is None:
    st.info("数据仓库中还没有诉求记录: 在本页上传诉求台账即可导入 (命令行: `minqing load cases 台账.csv`)。")

kinds = imports.kind_labels()
kind = st.selectbox("台账类型", list(kinds), format_func=kinds.get, key="im_kind",
                    index=list(kinds).index("cases"))  # the ledger loaded most often
upload = st.file_uploader("上传文件", type=list(imports.SUFFIXES), key="im_file",
                          help="CSV、XLSX、GeoJSON、GeoPackage, 或打包成 .zip 的 Shapefile (含 .shp .dbf .shx .prj)")


def _saved_path(up):
    """The upload as a temporary file, written once per uploaded file."""
    saved = st.session_state.get("_im_saved")
    if not saved or saved[0] != up.file_id:
        saved = (up.file_id, str(imports.save_upload(up.name, up.getvalue(), replaces=saved and saved[1])))
        st.session_state["_im_saved"] = saved
    return saved[1]


def _options(path: str):
    """Sheet, coordinate system and export date as the user picks them."""
    sheet = None
    if path.lower().endswith((".xlsx", ".xlsm")):
        try:
            sheets = imports.xlsx_sheets(path)
        except ReadError as e:  # a damaged workbook, or one without a data sheet
            st.error(mask_text(str(e)))
            st.stop()
        sheet = st.selectbox("工作表", sheets, key="im_sheet") if len(sheets) > 1 else sheets[0]
    cols = st.columns(2)
    datums = imports.crs_options(kind)
    if datums is None:
        crs = cols[0].text_input("坐标系 (EPSG 代码)", key="im_epsg", placeholder="如 EPSG:4545; 不填则用文件自带的坐标系",
                                 help="Shapefile 的 .prj 或 GeoJSON 自带坐标系时可不填").strip() or "wgs84"
    else:
        crs = cols[0].selectbox("坐标点的坐标系", datums, format_func=lambda d: imports.DATUM_LABELS.get(d, d),
                                key="im_crs", help="从高德、腾讯地图取的点选 GCJ-02; 从百度地图取的选 BD-09")
    as_of = cols[1].date_input("数据截至 (导出日期)", value=None, key="im_as_of", format="YYYY-MM-DD",
                               help="超期等按这一天计算; 不填则取记录中最晚的时间")
    return sheet, crs, as_of


def _inspect(path: str, sheet):
    """The file read as the loader reads it, once per (file, kind, sheet): every widget on the page
    reruns it, and a ledger of a million rows takes seconds to read."""
    memo = st.session_state.get("_im_inspection")
    if not memo or memo[0] != (path, kind, sheet):
        try:
            memo = ((path, kind, sheet), imports.inspect(kind, path, sheet))
        except ReadError as e:
            st.error(mask_text(str(e)))
            st.stop()
        st.session_state["_im_inspection"] = memo
    ins = memo[1]
    st.subheader("表头对应")
    st.dataframe(ins.mapping, hide_index=True, key="im_mapping")
    if ins.ignored:
        st.caption("未使用的列 (不导入): " + "、".join(mask_text(h) for h in ins.ignored))
    if ins.missing:
        st.error("缺少必填字段: " + "、".join(ins.missing) + "。请在文件中补上这些列 (或改用标准表头: `minqing template` 生成模板) 后重新上传。")
    st.subheader(f"前 {len(ins.preview)} 行 (共 {ins.rows:,} 行)")
    st.dataframe(ins.preview, hide_index=True, key="im_preview")
    return ins


def _load(path: str, sheet, crs: str, as_of) -> None:
    with st.status("正在导入…", expanded=True) as status:
        def progress(step: str) -> None:
            status.update(label=f"正在导入: {step}")
            status.write(step)

        try:
            r = load_file(data.db_path(), kind, path, sheet=sheet, crs=crs, as_of=as_of, progress=progress)
        except Busy:
            status.update(label="导入未开始", state="error")
            st.error("另一项导入正在进行 (命令行或其他用户)。请等它完成后再点「导入」; 数据仓库没有改动。")
            return
        except (LoadError, ReadError, KeyError_) as e:
            status.update(label="导入失败, 数据仓库没有改动", state="error")
            st.error(mask_text(str(e)))  # a message may quote the file's name or headers
            return
        status.update(label=f"导入完成: 第 {r.batch_id} 批", state="complete", expanded=False)
    record("load", kind, {"batch": r.batch_id, "loaded": r.loaded, "updated": r.updated, "rejected": r.rejected},
           rows=r.rows_read)
    data.forget_warehouse()  # every page sees the new file on its next run
    st.session_state["im_result"] = r


def _terms(terms: list[dict]) -> None:
    """Terms the vocabulary did not know: all loaded; each can be mapped to a vocabulary term here."""
    st.markdown("**词表外的用词** (这些行均已入库, 未拒收; 可在下面归入词表用词, 已入库的诉求随即更新)")
    st.dataframe(imports.terms_table(terms), hide_index=True, key="im_terms")
    pick = st.columns([2, 2, 1], vertical_alignment="bottom")
    labels = [f"{DOMAIN_LABELS[t['domain']]}: {t['term']}" for t in terms]
    chosen = pick[0].selectbox("原词", range(len(terms)), format_func=labels.__getitem__, key="im_term")
    term = terms[chosen]
    target = pick[1].selectbox("归入词表用词", vocab.terms(term["domain"]), key="im_target")
    if pick[2].button("映射", key="im_map"):
        try:
            _d, canon, changed = map_term_in(data.db_path(), term["domain"], term["term"], target)
        except Busy:
            st.error("另一项导入正在进行, 请稍后再映射; 数据仓库没有改动。")
            return
        except ValueError as e:
            st.error(str(e))
            return
        record("vocab_map", f"{DOMAIN_LABELS[term['domain']]} {term['term']} → {canon}", rows=changed)
        data.forget_warehouse()
        st.success(f"已将 {term['term']} 归入 {canon}, 更新诉求 {changed} 件; 今后导入的文件同样适用 (命令行: minqing vocab)。")


def _outcome(r) -> None:
    st.subheader(f"导入结果 · 第 {r.batch_id} 批")
    cells = st.columns(len(imports.OUTCOMES))
    for col, (key, label) in zip(cells, imports.OUTCOMES):
        col.metric(label, f"{getattr(r, key):,}")
    for note, n in r.notes.items():
        st.caption(f"{NOTE_LABELS.get(note, note)}: {n}")
    if r.terms:
        _terms(r.terms)
    if r.rejected:
        st.markdown("**拒收的行** (行号为文件中的行; 修改后可只重新导入这些行)")
        st.dataframe(imports.reasons_table(r), hide_index=True, key="im_reasons")
        rows = import_data.rejected_rows(r.batch_id)
        st.dataframe(rows, hide_index=True, key="im_rejected")
        downloads(rows, f"拒收明细_第{r.batch_id}批", key="im_rejected_dl",
                  caption="身份信息已脱敏; 命令行: minqing rejected --batch " + str(r.batch_id) + " -o 拒收明细.xlsx")


if upload is not None:
    path = _saved_path(upload)
    sheet, crs, as_of = _options(path)
    ins = _inspect(path, sheet)
    if st.button("导入", type="primary", disabled=bool(ins.missing), key="im_go"):
        _load(path, sheet, crs, as_of)

if "im_result" in st.session_state:
    _outcome(st.session_state["im_result"])

st.subheader("导入记录")
history = import_data.load_history()
if history.empty:
    st.info("还没有导入过数据。")
else:
    st.dataframe(imports.history_table(history), hide_index=True, key="im_history")
