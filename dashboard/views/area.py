"""区域档案: everything about one area (the district, a town or a village, from the sidebar's
area filter): where it sits and how to move up or down, its headline figures with 环比/同比,
households and visits, hot-spot class and 五必去, its monthly trend against the district per
1,000 households, its categories and channels, and how it compares with its neighbours."""

from __future__ import annotations

import folium
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, filters, maps
from dashboard.texts import help_text
from dashboard.ui import NO_CASES, NO_SHAPES, area_page, downloads, fmt_rate, show_map
from etl.codes import town_of, village_of
from analysis import households as hh
from analysis import metrics
from geo.getis_ord import CLASS_LABELS
from geo.moran import LISA_LABELS

NO_HOUSEHOLDS = "还没有户籍与民情分类数据, 每千户诉求、连心户占比等比率显示为 —。用 `minqing load households 民情台账.xlsx` 导入后刷新本页。"
LEVEL_NAMES = {"district": "区(县)", "town": "乡镇(街道)", "village": "村(社区)"}


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
meta = data.meta()
code = flt.area_prefix
level = "village" if flt.village else "town" if flt.town else "district"
district_code, district_name = meta.get("district_code", ""), meta.get("district_name", "") or "全区"
towns = data.towns()
town_villages = data.villages(flt.town) if flt.town else {}
name = {"district": district_name, "town": towns.get(flt.town or "", code),
        "village": town_villages.get(flt.village or "", code)}[level]
has_cases = flt.start is not None

nav, pick = st.columns([3, 2], vertical_alignment="bottom")
with nav:
    crumbs = st.container(horizontal=True, vertical_alignment="center", gap="small")
    trail = [("", district_name)] + ([(flt.town, towns.get(flt.town, flt.town))] if flt.town else []) \
        + ([(flt.village, name)] if flt.village else [])
    for i, (c, label) in enumerate(trail):
        if i:
            crumbs.markdown("›")
        if i < len(trail) - 1:
            crumbs.button(label, key=f"area_crumb_{i}", type="tertiary", on_click=_go, args=(c,),
                          help=f"返回{label}的区域档案")
        else:
            crumbs.markdown(f"**{label}**")
with pick:
    if level == "village":
        near = data.area_neighbours(code)
        options = dict(zip(near["code"], near["name"] + near["town"].map(lambda t: f" ({t})" if t else "")))
        label, placeholder = "切换到相邻村(社区)", "选择相邻村(社区)" if options else "没有相邻村(社区)的边界数据"
    else:
        options = towns if level == "district" else town_villages
        label, placeholder = ("查看下辖乡镇(街道)", "选择乡镇(街道)") if level == "district" else ("查看下辖村(社区)", "选择村(社区)")
    st.selectbox(label, list(options), index=None, format_func=lambda c: options.get(c, c), placeholder=placeholder,
                 key="area_pick", on_change=_picked, args=("area_pick",), disabled=not options)

st.header(name)
children = {"district": f"下辖 {len(towns)} 个乡镇(街道)", "town": f"下辖 {len(town_villages)} 个村(社区)", "village": ""}[level]
st.caption(" · ".join(p for p in [LEVEL_NAMES[level], f"区划代码 {code or district_code}", children,
                                  f"{filters.describe(flt)}"] if p))

# ---------------------------------------------------------------------------- headline figures

homes = data.households(level, code)
cats, pairing, must_see = homes["categories"], homes["pairing"], homes["must_see"]
n_homes = int(cats["households"].sum()) if not cats.empty else 0
monthly = data.area_monthly(code, flt) if has_cases else pd.DataFrame()


def _pop(c: dict, rate: bool) -> str | None:
    if c["pop_change"] is None:
        return None
    if rate:
        return f"{c['pop_change'] * 100:+.1f} 个百分点 环比"
    return None if c["pop_pct"] is None else f"{c['pop_pct'] * 100:+.1f}% 环比"


def _fmt(v, rate: bool) -> str:
    return fmt_rate(v) if rate else f"{v:,}"


def _yoy(c: dict, rate: bool) -> str:
    if c["last_year"] is None:
        return "去年同期无数据"
    if rate:
        change = "" if c["yoy_change"] is None else f", 同比 {c['yoy_change'] * 100:+.1f} 个百分点"
    else:
        change = "" if c["yoy_pct"] is None else f", 同比 {c['yoy_pct'] * 100:+.1f}%"
    return f"去年同期 {_fmt(c['last_year'], rate)}{change}"


if not has_cases:
    st.info(NO_CASES)
else:
    s = data.summary(flt, compare=True)
    ch = s["changes"]

    def card(col, key: str, rate: bool = False, help: str = "", colour: str = "off") -> None:
        c = ch[key]
        flat = c["pop_change"] is not None and abs(c["pop_change"]) < (0.0005 if rate else 0.5)
        col.metric(metrics.LABELS[key], _fmt(s[key], rate), "环比持平" if flat else _pop(c, rate),
                   delta_color="off" if flat else colour, delta_arrow="off" if flat else "auto",
                   help=f"{help} 上期 {_fmt(c['previous'], rate) if c['previous'] is not None else '—'}; {_yoy(c, rate)}。")

    row = st.columns(6)
    card(row[0], "received", help="所选时段内受理的诉求件数。")
    card(row[1], "closed", help="所选时段内受理、目前已办结(含已回访、已归档)的件数。")
    card(row[2], "closure_rate", True, "已办结 ÷ 受理诉求。", "normal")
    card(row[3], "satisfaction_rate", True, "满意与基本满意 ÷ 已评价。", "normal")
    row[4].metric("未办结", f"{s['open']:,}", help="截至时段末受理、目前仍在受理/交办/办理中的件数")
    row[5].metric("超期未办结", f"{s['overdue']:,}", help=help_text("overdue"))

    row = st.columns(6)
    area_rate = s["received"] / n_homes * 1000 if n_homes else None
    dist = monthly[monthly["scope"] == "district"]
    d_homes = int(dist["households"].iloc[0]) if len(dist) else 0
    dist_rate = dist["received"].sum() / d_homes * 1000 if d_homes else None
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
        keys = [("received", False), ("closed", False), ("closure_rate", True), ("on_time_rate", True),
                ("response_rate", True), ("satisfaction_rate", True), ("followup_rate", True), ("violations", False),
                ("repeat", False), ("level_skipping", False), ("multichannel", False), ("group_petitions", False)]
        p = s["periods"]
        compare = pd.DataFrame([{
            "指标": metrics.LABELS[k], f"本期 ({p['current'][0]}~{p['current'][1]})": _fmt(s[k], r),
            f"上期 ({p['previous'][0]}~{p['previous'][1]})": _fmt(ch[k]["previous"], r),
            "环比": (_pop(ch[k], r) or "—").replace(" 环比", ""),
            f"去年同期 ({p['last_year'][0]}~{p['last_year'][1]})": _fmt(ch[k]["last_year"], r),
            "同比": "—" if ch[k]["yoy_change"] is None or (not r and ch[k]["yoy_pct"] is None) else
                    (f"{ch[k]['yoy_change'] * 100:+.1f} 个百分点" if r else f"{ch[k]['yoy_pct'] * 100:+.1f}%"),
        } for k, r in keys])
        st.dataframe(compare, hide_index=True, width="stretch")
        downloads(compare, f"区域档案_{name}_环比同比_{flt.start}_{flt.end}", "area_compare", filters.describe(flt))

# ---------------------------------------------------------------------------- households, hot spot, 五必去

st.subheader("户情与重点关注")
if not n_homes:
    st.info(NO_HOUSEHOLDS)
else:
    kinds = hh.categories()
    row = st.columns(len(kinds) + 3)
    row[0].metric("建档户数", f"{n_homes:,}")
    for col, k in zip(row[1:], kinds):
        n = int(cats[k["key"]].sum())
        col.metric(k["term"], f"{n:,}", f"占 {n / n_homes:.1%}", delta_color="off", delta_arrow="off")
    key_n, paired = int(pairing["key_households"].sum()), int(pairing["paired"].sum())
    row[-2].metric("连心户结对覆盖率", f"{paired / key_n:.1%}" if key_n else "—", f"未结对 {key_n - paired:,} 户",
                   delta_color="off", delta_arrow="off", help="已与干部一对一结对的连心户 ÷ 连心户")
    groups = {label: int(must_see[k].sum()) for k, label in hh.MUST_SEE.items()}
    row[-1].metric("五必访户", f"{int(must_see['any_must_see'].sum()):,}",
                   help="属于五必访任一类(贫困户、五保户、老党员、两代一委、村组干部)的户数; 一户可属多类")
    st.caption("五必访: " + ", ".join(f"{k} {v:,} 户" for k, v in groups.items()) + "。户情为最新建档状态, 不受受理时段等诉求筛选影响。")

hot_col, visit_col = st.columns([2, 3])
with hot_col:
    try:
        hs_village = data.area_hotspots(flt.without_area(), "village", lisa=level == "village") if has_cases else pd.DataFrame()
        hs_town = data.area_hotspots(flt.without_area(), "town") if has_cases and level != "village" else pd.DataFrame()
    except Exception as e:  # noqa: BLE001 - an analysis failure is a message, not a traceback
        st.error(f"热点分析未能完成: {e}")
        hs_village = hs_town = pd.DataFrame()
    if not has_cases:
        st.caption("热点分析: 导入诉求后显示。")
    elif hs_village.empty or "class" not in hs_village:
        st.info("还没有村(社区)边界, 无法做热点分析。" + NO_SHAPES)
    else:
        hot_keys = ("hot_99", "hot_95", "hot_90")
        inside = hs_village[hs_village["area_code"].str.startswith(code)]
        n_hot = int(inside["class"].isin(hot_keys).sum())
        if level == "village":
            me = inside[inside["area_code"] == code]
            cls = me["class"].iloc[0] if len(me) else None
            lisa = me["lisa"].iloc[0] if len(me) else None
            a, b = st.columns(2)
            a.metric("热点分析 (Gi*)", CLASS_LABELS.get(cls, "无数据"),
                     help="Getis-Ord Gi*: 本村与相邻村一起的每千户诉求是否显著偏高(热点)或偏低(冷点), 已做FDR校正; 全区村级计算")
            b.metric("聚集分析 (LISA)", LISA_LABELS.get(lisa, "无数据"), help="局部 Moran's I: 高-高/低-低聚集, 高-低/低-高异常")
        else:
            me = hs_town[hs_town["area_code"] == code] if level == "town" else pd.DataFrame()
            a, b = st.columns(2)
            if level == "town":
                a.metric("本乡镇热点分析 (Gi*)", CLASS_LABELS.get(me["class"].iloc[0] if len(me) else None, "无数据"),
                         help="乡镇级 Gi*: 本乡镇与相邻乡镇一起的每千户诉求是否显著偏高或偏低")
            else:
                a.metric("热点乡镇(街道)", f"{int(hs_town['class'].isin(hot_keys).sum()):,}" if len(hs_town) else "—",
                         help="乡镇级 Gi* 热点(90%及以上置信)的乡镇(街道)数")
            b.metric("热点村(社区)", f"{n_hot:,}", f"共 {len(inside):,} 个村(社区)", delta_color="off", delta_arrow="off",
                     help="村级 Gi* 热点(90%及以上置信)的村(社区)数; 热点地图页可看分布")
        st.caption(f"热点分析按所选时段、问题类别、诉求来源和办理状态在全区计算 ({flt.start} 至 {flt.end})。")

with visit_col:
    labels = data.must_visit_labels()
    try:
        mv = data.must_visit()
    except Exception as e:  # noqa: BLE001
        st.error(f"五必去分析未能完成: {e}")
        mv = pd.DataFrame()
    flagged = mv[(mv["flags"].map(len) > 0) & mv["area_code"].str.startswith(code)] if not mv.empty else mv
    if not has_cases and not n_homes:
        st.caption("五必去: 导入户情、诉求(以及村界与驻地、灾情)后显示。")
    elif level == "village":
        me = mv[mv["area_code"] == code] if not mv.empty else mv
        flags = list(me["flags"].iloc[0]) if len(me) else []
        reasons = list(me["reasons"].iloc[0]) if len(me) else []
        st.metric("五必去标记", "、".join(labels.get(f, f) for f in flags) if flags else "未标记",
                  help=help_text("must_visit_flags"))
        if flags:
            st.dataframe(pd.DataFrame({"标记": [labels.get(f, f) for f in flags], "原因": reasons}),
                         hide_index=True, width="stretch")
    else:
        st.metric("五必去村(社区)", f"{len(flagged):,}", help="至少满足一项五必去条件的村(社区)数")
        if len(flagged):
            visit = pd.DataFrame({"乡镇(街道)": flagged["town"].to_numpy(), "村(社区)": flagged["name"].to_numpy(),
                                  "五必去标记": flagged["flags"].map(lambda fs: "、".join(labels.get(f, f) for f in fs)).to_numpy(),
                                  "原因": flagged["reasons"].map("; ".join).to_numpy(),
                                  "优先得分": flagged["score"].to_numpy()})
            with st.expander(f"五必去村(社区)名单 ({len(visit):,} 个)"):
                st.dataframe(visit, hide_index=True, width="stretch")
                downloads(visit, f"区域档案_{name}_五必去", "area_visit")
    if has_cases or n_homes:
        st.caption("五必去按固定的近期窗口判定, 不受受理时段等筛选影响。")

# ---------------------------------------------------------------------------- trend and breakdown

if has_cases:
    left, right = st.columns([3, 2])
    with left:
        st.subheader("按月趋势")
        per_k = level != "district" and n_homes > 0 and d_homes > 0
        unit = st.segmented_control("口径", ["per_1000", "count"], default="per_1000" if per_k else "count",
                                    key="area_trend_unit", format_func={"per_1000": "每千户", "count": "件数"}.get,
                                    label_visibility="collapsed", disabled=not per_k) or "count"
        if not per_k:
            unit = "count"
        scopes = {"area": name, "district": f"全区({district_name})"} if level != "district" else {"district": district_name}
        fig = go.Figure()
        for scope, label in scopes.items():
            if unit == "count" and scope == "district" and level != "district":
                continue  # a village's count beside the district's would be lost at the bottom
            part = monthly[monthly["scope"] == scope]
            dash = "dash" if scope == "district" and level != "district" else "solid"
            for k, what, colour, width in (("received", "受理", "#3182bd", 4), ("closed", "已办结", "#31a354", 1.5)):
                y = part[f"{k}_per_1000"].round(2) if unit == "per_1000" else part[k]
                fig.add_scatter(x=part["month"], y=y, name=f"{label} {what}", mode="lines+markers",
                                line=dict(color=colour, dash=dash, width=width), marker=dict(size=width + 3))
        fig.update_layout(height=340, margin=dict(l=0, r=10, t=10, b=0), xaxis_title="受理月份",
                          yaxis_title="每千户件数" if unit == "per_1000" else "件数", legend=dict(orientation="h", y=-0.25))
        st.plotly_chart(fig, width="stretch", key="area_trend")
        if level == "district":
            st.caption("全区各月受理与办结件数。")
        elif per_k:
            st.caption("每千户 = 当月件数 ÷ 建档户数 × 1000; 虚线为全区, 实线为本区域, 规模不同也可直接比较。")
        else:
            st.caption("本区域或全区还没有户数, 只能按件数显示、无法与全区比较。")
    with right:
        st.subheader("问题类别与诉求来源")
        by = st.segmented_control("分组", ["category", "channel"], default="category", key="area_by",
                                  format_func={"category": "问题类别", "channel": "诉求来源"}.get,
                                  label_visibility="collapsed") or "category"
        groups = data.area_breakdown(code, flt, by)
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
            st.plotly_chart(fig, width="stretch", key="area_groups")
            label = {"category": "问题类别", "channel": "诉求来源"}[by]
            table = pd.DataFrame({label: groups[by], "受理诉求": groups["received"], "占比": groups["share"],
                                  "已办结": groups["closed"], "办结率": groups["closure_rate"],
                                  "全区受理": groups["district_received"], "全区占比": groups["district_share"]})
            with st.expander(f"{label}明细"):
                st.dataframe(table, hide_index=True, width="stretch", placeholder="—",
                             column_config={c: st.column_config.NumberColumn(format="percent")
                                            for c in ("占比", "办结率", "全区占比")})
                downloads(table, f"区域档案_{name}_{label}_{flt.start}_{flt.end}", f"area_{by}")

# ---------------------------------------------------------------------------- map and comparison

row_level = "village" if level == "village" else "town"
table_rows = data.area_comparison(code, flt)
neighbour_codes = set(data.area_neighbours(code)["code"]) if level != "district" else set()
st.subheader({"district": "各乡镇(街道)", "town": "下辖村(社区)", "village": "本村(社区)与相邻村(社区)"}[level])
shapes = data.area_shapes("town" if level == "district" else "village", code if level == "town" else "")
if level == "village":
    shapes = shapes[shapes["code"].isin(neighbour_codes | {code})]
if shapes.empty:
    st.info(NO_SHAPES if level != "district" else "还没有乡镇(街道)边界。用 `minqing load areas 边界.geojson` 导入边界后即可显示地图。")
else:
    figs = data.area_figures(flt, "town" if level == "district" else "village")
    gdf = shapes.merge(figs.drop(columns=["name", "town"]), on="code", how="left")
    gdf["per_1000_fill"] = gdf["per_1000"].fillna(0)
    gdf["per_1000_show"] = gdf["per_1000"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}")
    gdf["received"] = gdf["received"].fillna(0).astype(int)
    gdf["households"] = gdf["households"].fillna(0).astype(int)
    tooltip = {"name": LEVEL_NAMES["town" if level == "district" else "village"], "received": "受理诉求",
               "households": "户数", "per_1000_show": "每千户诉求"}
    if level != "district":
        tooltip = {"name": tooltip["name"], "town": "乡镇(街道)", **{k: v for k, v in tooltip.items() if k != "name"}}
    m = maps.choropleth(gdf, "per_1000_fill", "每千户诉求", data.bounds(code) if level != "village"
                        else [[gdf.total_bounds[1], gdf.total_bounds[0]], [gdf.total_bounds[3], gdf.total_bounds[2]]],
                        tooltip, data.demo_caption())
    if level != "district":  # the area's own outline on top, drawn thick and not clickable
        own = maps.to_basemap(data.area_shapes(level, code if level == "town" else "").query("code == @code"))
        if len(own):
            folium.GeoJson(own[["geometry"]].to_json(drop_id=True), name=name, interactive=False,
                           style_function=lambda f: {"fill": False, "color": "#08306b", "weight": 3.5}).add_to(m)
    show_map(m, f"area_map_{level}", height=480)
    st.caption(("点击地图上的区域可打开其档案。" if has_cases or n_homes else "") +
               ("粗线为本区域。" if level != "district" else "") + "颜色按每千户诉求(受理诉求 ÷ 建档户数 × 1000), 无户数的区域按 0 着色。")

role_names = {"self": f"本{'村(社区)' if level == 'village' else '乡镇(街道)'}", "neighbour": "相邻", "child": "下辖",
              "town_mean": "所属乡镇平均", "district_mean": "全区平均", "district_total": "全区合计"}


def figures_table(t: pd.DataFrame, row_level: str) -> pd.DataFrame:
    """The rows of analysis.areas.figures/comparison as shown: Chinese headers, rates in percent, counts of
    average rows to one decimal, the Gi* class of each area."""
    role = t["role"] if "role" in t else pd.Series("", index=t.index)
    is_avg = role.isin(["town_mean", "district_mean"])
    ranked = t["ranked"].fillna(0).astype(int)

    def count(col):
        return t[col].where(~is_avg, t[col].round(1))

    def pct(col):
        return (t[col] * 100).round(1)

    out = pd.DataFrame({
        **({"类型": role.map(role_names)} if "role" in t else {}),
        LEVEL_NAMES[row_level]: t["name"],
        **({"所属乡镇(街道)": t["town"]} if row_level == "village" else {}),
        "受理诉求": count("received"), "户数": count("households"), "每千户诉求": t["per_1000"].round(1),
        "每千户诉求排名": [f"{int(r)}/{n}" if pd.notna(r) else "—" for r, n in zip(t["per_1000_rank"], ranked)],
        "办结率(%)": pct("closure_rate"), "满意率(%)": pct("satisfaction_rate"),
        "未办结": count("open"), "超期未办结": count("overdue"), "连心户占比(%)": pct("key_share"),
    })
    hs_rows = hs_village if row_level == "village" else hs_town
    if has_cases and len(hs_rows) and "class" in hs_rows:
        out["热点分类"] = t["code"].map(dict(zip(hs_rows["area_code"], hs_rows["class"].map(CLASS_LABELS)))) \
            .where(~role.isin(["town_mean", "district_mean", "district_total"]), "").fillna("")
    out["区划代码"] = t["code"]
    return out


def show_table(out: pd.DataFrame, **kw) -> None:
    st.dataframe(out, hide_index=True, width="stretch", height=min(38 + 35 * len(out), 1120), placeholder="—",
                 column_config={c: st.column_config.NumberColumn(format="%.1f")
                                for c in ("每千户诉求", "办结率(%)", "满意率(%)", "连心户占比(%)")}, **kw)


if level == "town":  # the town's own villages, below their map
    with st.expander(f"下辖村(社区)数据表 ({len(town_villages)} 个)"):
        vf = data.area_figures(flt, "village")
        villages_table = figures_table(vf[vf["code"].str.startswith(code)], "village")
        show_table(villages_table, key="area_villages_table")
        downloads(villages_table, f"区域档案_{name}_下辖村社区_{flt.start}_{flt.end}", "area_villages",
                  "每千户诉求排名为在全区所有村(社区)中由高到低的名次。")

st.subheader("与相邻地区比较" if level != "district" else "各乡镇(街道)比较")
if level != "district" and not neighbour_codes:
    st.caption("没有找到相邻的区域(尚未导入边界, 或本区域没有边界)。")
out = figures_table(table_rows, row_level)
show_table(out, key="area_table")
downloads(out, f"区域档案_{name}_{'相邻比较' if level != 'district' else '各乡镇比较'}_{flt.start}_{flt.end}", "area_table",
          ("全区合计为各乡镇(街道)之和。" if level == "district" else "相邻: 边界相接(含只有一个角点相接)的同级区域。") +
          "平均行: 件数和户数为该范围内每个"
          f"{'村(社区)' if row_level == 'village' else '乡镇(街道)'}的平均, 比率按该范围合计计算。"
          "每千户诉求排名为在全区同级区域中由高到低的名次(无户数的不排)。比率无分母时显示为 — (下载文件中为空)。")
