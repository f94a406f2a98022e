"""预警 (抓苗头): the current warnings ranked, each with why, where (map) and the cases behind it;
category suggestions for unmapped terms (accepted by an account that maps vocabulary)."""

from __future__ import annotations

import streamlit as st

from dashboard import alerts_data as view
from dashboard import data, maps, session
from dashboard.ui import NO_CASES, NO_SHAPES, downloads, page_start, record, show_map
from etl import settings
from etl.db import Busy
from etl.terms import map_term_in

page_start("预警 · 抓苗头")
try:
    method = settings.fill(
        "诉求异常增多: 各村(社区)、乡镇每类诉求近{alert_window_days}天的件数, 与本地此前{alert_baseline_weeks}周的基线"
        "(按全区同类诉求的升降调整)比较, 用两个泊松率的精确条件检验 (Przyborowski & Wilenski 1940) 计算 p 值, "
        "对全部 地点×类别 用 Benjamini-Hochberg 方法控制错误发现率, q ≤ {alert_q} 即预警。"
        "集体访苗头: 近{alert_cluster_days}天相同或相邻村(社区)内容相近 (字符 2-3 元组 TF-IDF 余弦 ≥ {alert_similarity}) 的诉求"
        "达到 {alert_group_size} 件。越级访苗头: 市级受理或区级接访、而此前{alert_level_skip_days}天本地没有村、镇级受理的同类或相近诉求。"
        "疑似同一事项: 同一村(社区)内容相近、经两种以上渠道反映、没有同一身份信息可关联的诉求。")
except settings.SettingError as e:  # bad MINQING_ALERT_* value
    st.error(str(e))
    st.stop()
st.caption(method)

try:
    result = view.alerts()
except Exception as e:  # noqa: BLE001 - an analysis failure is a message, not a traceback
    st.error(f"预警分析未能完成: {e}")
    st.stop()
for problem in result["problems"]:
    st.warning(problem)
items = result["items"]

counts = view.counts_by_kind(items)
for c, (label, n) in zip(st.columns(len(counts)), counts.items()):
    c.metric(label, f"{n:,}")

if not result["has_cases"]:
    st.info(NO_CASES)
elif not items:
    st.info(settings.fill(view.NO_ALERTS))
else:
    st.subheader(f"当前预警 ({len(items):,} 项, 数据截至 {result['as_of']})")
    table = view.items_table(items)
    st.dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 420), key="al_table",
                 column_config={"原因": st.column_config.TextColumn(width="large")})
    downloads(table, f"预警_{result['as_of']}{'_演示数据' if data.is_demo() else ''}", "al_dl")

    labels = [f"{a.kind_label} {a.rank}. {a.title}" for a in items]
    chosen = st.selectbox("查看一项预警", range(len(items)), format_func=labels.__getitem__, key="al_pick")
    item = items[chosen]
    st.subheader("原因")
    st.text(f"{item.title}\n{item.why}\n区域: {item.where}\n"
            + ("首次出现 (本数据日期)" if item.new else f"此前已出现, 首次出现于数据日期 {item.first_seen}"))

    st.subheader("地图")
    shapes = data.town_village_shapes(view.map_towns(item))
    gdf = view.map_frame(shapes, item)
    if gdf.empty:
        st.info(NO_SHAPES)
    else:
        b = gdf.total_bounds
        m = maps.categorical(gdf, "cls", {"hit": ("预警所在", "#d7301f"), "other": ("所在乡镇其他村(社区)", "#f0f0f0")},
                             item.kind_label, [[b[1], b[0]], [b[3], b[2]]], tooltip={"town": "乡镇(街道)", "name": "村(社区)"})
        show_map(m, key="al_map", height=420, drill=False)

    st.subheader(f"相关诉求 ({len(item.case_ids):,} 件)")
    cases = session.without_people(view.cases_table(result["cases"], item), view.PEOPLE)
    st.dataframe(cases, hide_index=True, width="stretch", key="al_cases",
                 column_config={"诉求内容(已脱敏)": st.column_config.TextColumn(width="large")})
    downloads(cases, f"预警诉求_{result['as_of']}{'_演示数据' if data.is_demo() else ''}", "al_cases_dl")

st.subheader("问题类别建议")
role = session.current_role()
if role is not None and not role.load:
    st.caption("未映射问题类别的建议由群众工作办查看和采纳。")
    st.stop()
try:
    sugg = view.suggestions()
except Exception as e:  # noqa: BLE001
    st.error(f"类别建议未能完成: {e}")
    st.stop()
terms, per_case = view.suggestion_tables(sugg)
if terms.empty:
    st.info("没有需要建议的未映射问题类别 (台账中的类别都已在词表中或已映射, 或已分类的诉求不足以训练分类器)。")
    st.stop()
st.caption(f"分类器: 字符 2-3 元组 TF-IDF + 补集朴素贝叶斯 (ComplementNB), 用本库已分类的 {sugg['n_train']:,} 件诉求"
           f"({sugg['classes']} 类) 在本机训练; 分层 {sugg['folds']} 折交叉验证准确率 {sugg['accuracy'] or 0:.1%}"
           f" (训练用时 {sugg['seconds']:.1f} 秒)。建议不会改动台账; "
           "采纳即把原词映射为建议类别 (与「数据导入」页的词表映射相同, 记入审计, 今后导入同样适用)。")
st.dataframe(terms, hide_index=True, key="al_terms", column_config={"平均概率": st.column_config.NumberColumn(format="percent"),
                                                                    "逐件建议一致": st.column_config.NumberColumn(format="percent")})
with st.expander("逐件建议"):
    st.dataframe(per_case, hide_index=True, key="al_sugg_cases", column_config={"概率": st.column_config.NumberColumn(format="percent")})
ok = view.acceptable(terms)
if not ok:
    st.caption("各原词下的诉求建议类别不一致, 不能一次采纳; 请在「数据导入」页逐词映射。")
    st.stop()
pick = st.columns([3, 1], vertical_alignment="bottom")
i = pick[0].selectbox("采纳建议 (只列出逐件建议一致的原词)", ok, key="al_accept_term",
                      format_func=lambda k: f"{terms.iloc[k]['原词(未映射)']} → {terms.iloc[k]['建议类别']}")
if pick[1].button("采纳", key="al_accept"):
    term, target = str(terms.iloc[i]["原词(未映射)"]), str(terms.iloc[i]["建议类别"])
    try:
        _d, canon, changed = map_term_in(data.db_path(), "category", term, target)
    except Busy:
        st.error("另一项导入正在进行, 请稍后再采纳; 数据仓库没有改动。")
        st.stop()
    except ValueError as e:
        st.error(str(e))
        st.stop()
    record("vocab_map", f"问题类别 {term} → {canon} (采纳类别建议)", rows=changed)
    data.forget_warehouse()
    st.success(f"已将 {term} 归入 {canon}, 更新诉求 {changed} 件; 今后导入的文件同样适用。")
