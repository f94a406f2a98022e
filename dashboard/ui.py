"""Small interface helpers shared by pages: banners, page starts, downloads, maps."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from dashboard import filters
from analysis.filters import CaseFilter
from dashboard.texts import as_of_notice
from reports import formats
from reports.tables import csv_bytes, xlsx_bytes

if TYPE_CHECKING:
    import geopandas as gpd


def demo_banner(meta: dict) -> None:
    name = meta.get("district_full_name", "")
    if meta.get("demo") == "true":
        st.warning(f"演示数据: {name} 的区划代码、名称和区界真实; 其下的乡镇、村边界及全部户、干部、诉求记录均为合成的演示数据。")
    else:
        st.caption(f"{name} ({meta.get('district_code', '')})")


def page_start(title: str) -> dict:
    """Page title, then the warehouse's meta and the demo banner; a missing warehouse stops the page with an error."""
    from dashboard import data

    st.title(title)
    try:
        meta = data.meta()
    except data.NoWarehouse as e:
        st.error(str(e))
        st.stop()
    demo_banner(meta)
    caption, warning = as_of_notice(data.as_of())
    st.caption(caption)
    if warning:
        st.warning(warning)
    return meta


def household_cards(cols, totals: dict) -> None:
    """建档户数, each household category with its share and 连心户结对覆盖率 in cols[0], the next
    ones and the one after them (`totals`: dashboard.compute.households.summary)."""
    kinds = totals["kinds"]
    cols[0].metric("建档户数", f"{totals['households']:,}")
    for col, (term, n, share) in zip(cols[1:], kinds):
        col.metric(term, f"{n:,}", f"占 {formats.rate(share)}", delta_color="off", delta_arrow="off")
    coverage = totals["coverage"]
    cols[len(kinds) + 1].metric("连心户结对覆盖率", formats.rate(coverage),
                                f"未结对 {totals['key_households'] - totals['paired']:,} 户",
                                delta_color="off", delta_arrow="off", help="已与干部一对一结对的连心户 ÷ 连心户")


NO_CASES = "数据仓库中还没有诉求记录。用 `minqing load cases 台账.csv` 导入后刷新本页。"
NO_SHAPES = "还没有村(社区)边界。用 `minqing load areas 边界.geojson` 导入边界后即可显示地图。"
NO_VILLAGE_SHAPES = ("还没有村(社区)边界, 地图先按乡镇(街道)显示。导入村级边界 (`minqing load areas 村界.geojson` "
                     "或「数据导入」页) 后显示到村(社区)。")
CHOOSE_TOWN = ("本范围有 {n:,} 个村(社区), 一张地图画不下; 请在左侧选择一个乡镇(街道)后显示其村(社区)地图。")
MANY_VILLAGES = ("本范围有 {n:,} 个村(社区), 地图先按乡镇(街道)显示; 在左侧选择或在地图上点击一个乡镇(街道), "
                 "即显示其村(社区)。")


def map_villages(town: str = "", whole_district: bool = False) -> tuple[gpd.GeoDataFrame | None, int]:
    """Level of detail for village maps, the one rule every page follows (setting map_max_villages,
    dashboard.compute.overview.too_many_villages): (outlines, count) of the villages inside `town`
    ('' the area on screen), the outlines None when they are more than the limit (the page then
    asks for a town with CHOOSE_TOWN; 总览 draws towns instead, overview.map_level). With
    `whole_district` (pages whose statistic covers the district and whose map zooms to the town)
    the district's villages while they are within the limit, else those of `town`."""
    from dashboard import data
    from dashboard.compute.overview import too_many_villages

    if whole_district:
        n = data.outlined_count("village", "")
        if not too_many_villages(n):
            return data.village_shapes(""), n
    n = data.outlined_count("village", town)
    return (None if too_many_villages(n) else data.village_shapes(town)), n



def case_page(title: str) -> CaseFilter:
    """Title, demo banner and the sidebar filters of a page about cases; stops with an
    explanation when the warehouse has no cases yet."""
    page_start(title)
    flt = filters.sidebar()
    if flt.start is None:
        st.info(NO_CASES)
        st.stop()
    return flt


def area_page(title: str) -> CaseFilter:
    """Title, demo banner and the sidebar filters of a page that works without cases."""
    page_start(title)
    return filters.sidebar()


def table(df, **kw) -> None:
    """st.dataframe of a table as every page shows it (reports/formats.py): the rate columns (held
    as fractions) in percent with one decimal, dates without a time of day, no index, full width;
    `column_config` given is applied over these."""
    shown = formats.as_dates(df)
    config = {c: st.column_config.NumberColumn(format="percent", step=formats.RATE_STEP)
              for c in formats.rate_columns(df)}
    config |= kw.pop("column_config", None) or {}
    kw.setdefault("hide_index", True)
    kw.setdefault("width", "stretch")
    st.dataframe(shown, column_config=config, **kw)


def style_chart(fig, months: bool = False):
    """A plotly figure in the interface's conventions: numbers in full with thousands separators
    (never '10k'), and with `months` the x axis in months as 2025-11 (never 'Nov 2025')."""
    fig.update_layout(separators=".,")
    fig.update_xaxes(exponentformat="none", separatethousands=True)
    fig.update_yaxes(exponentformat="none", separatethousands=True)
    if months:
        fig.update_xaxes(tickformat="%Y-%m", hoverformat="%Y-%m")
    return fig


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def downloads(df, name: str, key: str, caption: str = "") -> None:
    """CSV (UTF-8 with BOM) and XLSX buttons for exactly the table shown above them. The files
    are built when a button is clicked (not on every rerun), and a download does not rerun the page."""
    name = "".join("_" if ch in '[]:*?/\\"<>|' else ch for ch in name)  # safe as a file and sheet name
    row = st.container(horizontal=True, gap="small")
    row.download_button("下载 CSV", audited(lambda: csv_bytes(df), f"{name}.csv", len(df), caption), file_name=f"{name}.csv", mime="text/csv",
                         key=f"{key}_csv", help="UTF-8 (带BOM) 编码, Excel 可直接打开; 内容与上表一致",
                         icon=":material/download:", on_click="ignore")
    row.download_button("下载 XLSX", audited(lambda: xlsx_bytes(df, name[:31]), f"{name}.xlsx", len(df), caption), file_name=f"{name}.xlsx", mime=XLSX_MIME,
                          key=f"{key}_xlsx", help="内容与上表一致", icon=":material/download:", on_click="ignore")
    if caption:
        st.caption(caption)


def record(action: str, target: str, detail: dict | None = None, rows: int | None = None) -> None:
    """Record what the signed-in account did (a load, a vocabulary mapping) in the audit log."""
    from dashboard import data, session

    _audit(data.db_path(), session.current_account(), action, target=target, detail=detail, rows=rows)


def _audit(db, account, action: str, **entry) -> None:
    """One audit entry as `account` (None outside a server: '?')."""
    from access import store

    store.audit(db, account.name if account else "?", action, role=account.role if account else None, **entry)


def require(right: str) -> None:
    """Stop the page unless the signed-in account's role has `right` (access.roles.Role)."""
    from dashboard import session

    role = session.current_role()
    if role is not None and not getattr(role, right):
        st.error(f"{role.label}账号无权使用本页。")
        st.stop()


def audited(build, what: str, rows: int | None, filters_text: str = ""):
    """`build` (a download's data callable) run as the account signed in now, and recorded in the
    audit log (who, which file, its filter, how many rows) when the file is taken."""
    from dashboard import data, session

    account, db = session.current_account(), data.db_path()
    filters_text = filters_text or st.session_state.get(filters.FILTER_TEXT, "")
    run = session.deferred(build, db)

    def taken():
        out = run()
        # recorded before the file is given: a download the audit log cannot record is refused
        _audit(db, account, "download", target=what, detail={"filter": filters_text} if filters_text else None,
               rows=rows)
        return out

    return taken


def show_map(m, key: str, height: int = 560, drill: bool = True) -> None:
    """Render a folium map; with `drill`, a click on an area selects it (filters.drill), and
    the area the filters select is outlined on the map, with a link to its 区域档案 above it.

    Only the clicked feature travels back from the browser (returned_objects), and a click
    is acted on once (the component keeps returning its last click on later reruns)."""
    from streamlit_folium import st_folium

    if drill:
        selected = filters.selected_area()
        if selected:
            _outline(m, selected)
            filters.profile_link(selected)
    # render=False: st_folium renders the map itself again below; the first, whole-page render
    # is not needed for the parts it sends (about a third of its time on a village map)
    out = st_folium(m, height=height, use_container_width=True, key=key, render=False,
                    returned_objects=["last_active_drawing", "last_object_clicked"] if drill else [])
    if not drill or not out:
        return
    feature = out.get("last_active_drawing") or {}
    code = (feature.get("properties") or {}).get("code")
    click = (code, str(out.get("last_object_clicked")))  # where it was clicked: a second click on one area differs
    seen = f"_{key}_clicked"  # what the map returned on the previous run: it keeps returning its last click
    previous = st.session_state.get(seen, (None, "None"))
    st.session_state[seen] = click
    if code and click != previous:
        filters.drill(str(code))


def _outline(m, code: str) -> None:
    """Outline the area `code` (a town or village) on the map `m`."""
    from dashboard import data, maps
    from etl.codes import town_of, village_of

    level = "village" if village_of(code) else "town"
    shapes = data.area_shapes(level, town_of(code) if level == "village" else "")
    maps.highlight(m, shapes[shapes["code"] == code], data.area_name(code))
