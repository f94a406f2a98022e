"""The global filters in the sidebar, kept in the URL query string so a link reproduces the view.

Every page calls `sidebar()` first: period (受理时段), town -> village, categories, channels
and statuses. Each widget is bound to a query parameter (`bind="query-params"`), so the
URL carries the view across pages and into a shared link. Clicking an area on a map calls
`drill(code)`, which selects the area; the map then outlines it and offers its 区域档案
(`selected_area`, `profile_link`, used by dashboard.ui.show_map).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from etl.codes import town_of, village_of
from analysis.filters import DOMAIN_LABELS, CaseFilter
from dashboard.compute.scope import clamp_filter
from dashboard.pages import page

AREA_PAGE = page("area")
_DRILL = "_drill_to"
CURRENT_PAGE = "_current_page"
FILTER_TEXT = "_minqing_filter_text"
_SELECTED = "_selected_area"


def sidebar() -> CaseFilter:
    """Draw the filters and return them (period None..None when the warehouse has no cases)."""
    from dashboard import data

    _apply_drill()
    period, default = data.case_period(), data.default_period()
    side = st.sidebar
    side.header("筛选")
    start = end = None
    if period is not None:
        start, end = _period(side, period[0], *default)
    towns = data.towns()  # a town account's own town only (the data layer's scope)
    scope = _scope()
    if scope:  # a town account: its town, whatever the URL or a click asked for
        st.session_state["town"] = town_of(scope)
        if st.session_state.get("village") and not str(st.session_state["village"]).startswith(scope):
            st.session_state["village"] = None
    town = side.selectbox("乡镇(街道)", list(towns), index=None, placeholder="全区", key="town",
                          format_func=_unique_labels(towns), bind="query-params", on_change=_town_changed,
                          disabled=bool(scope))
    villages = data.villages(town) if town else {}
    village = side.selectbox("村(社区)", list(villages), index=None, placeholder="全部村(社区)" if town else "先选乡镇(街道)",
                             key="village", format_func=_unique_labels(villages), bind="query-params",
                             disabled=not town)
    chosen = {d: tuple(side.multiselect(label, data.terms_in_use(d), key=d, placeholder="全部", bind="query-params"))
              for d, label in DOMAIN_LABELS.items()}
    area = (village if village in villages else None) or town
    side.button("清除筛选", on_click=_reset, key="reset_filters", width="stretch")
    side.caption("筛选条件保存在网址中: 复制浏览器地址栏即可分享当前视图。")
    flt = clamp_filter(CaseFilter(start, end, chosen["category"], chosen["channel"], chosen["status"], area or ""), scope)
    st.session_state[_SELECTED] = flt.area_prefix
    st.session_state[FILTER_TEXT] = describe(flt)  # what the audit log records with a download
    return flt


def selected_area() -> str:
    """The code of the area the filters select (a town or village; '' for the whole district)."""
    return st.session_state.get(_SELECTED, "")


def profile_link(code: str) -> None:
    """A prominent link to the 区域档案 of `code`, in the main area (none on 区域档案 itself).
    The filters bound to the URL travel along."""
    from dashboard import data

    if code and not _on_area_page():
        st.container(border=True).page_link(AREA_PAGE.file, label=f"查看 {data.area_name(code)} 的区域档案",
                                            icon=":material/location_on:", width="stretch")


def _scope() -> str:
    """The signed-in account's area-code prefix ('' for the whole warehouse)."""
    from dashboard import session

    account = session.current_account()
    return account.scope if account else ""


def drill(code: str) -> None:
    """Select the area `code` (a town or village) in the filters: the page reruns zoomed to it,
    the map outlines it and `profile_link` offers its 区域档案.

    (st.switch_page would clear the URL, and with it every filter bound to it; st.page_link
    keeps them.)"""
    st.session_state[_DRILL] = code
    st.rerun()


def note_unused(flt: CaseFilter, unused: set[str], why: str = "") -> None:
    """A caption naming the filters that are set but do not apply to this page."""
    names = {"period": "受理时段", "area": "区域", **DOMAIN_LABELS}
    active = [k for k in unused if (k == "area" and flt.area_prefix) or (k in DOMAIN_LABELS and getattr(flt, k))
              or k == "period" and flt.start is not None]
    if active:
        st.caption(f"本页不按{'、'.join(names[k] for k in sorted(active, key=list(names).index))}筛选{why}。")


def describe(flt: CaseFilter) -> str:
    """The filters in words, for captions and the header of exports."""
    from dashboard import data

    return flt.describe(data.area_name(flt.area_prefix) if flt.area_prefix else "")


def _period(side, first: dt.date, default_start: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """Date range from the first case to the data's own date; default: analysis.metrics.default_period
    (the CLI's default too)."""
    value = side.date_input("受理时段", (default_start, last), min_value=first, max_value=last,
                            format="YYYY-MM-DD", key="period", bind="query-params")
    st.session_state["_period_default"] = (default_start, last)  # what 清除筛选 goes back to
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return min(value), max(value)  # a link may carry the dates the wrong way round
    start = value[0] if isinstance(value, (tuple, list)) and value else default_start
    return start, start  # a range being picked: show its first day until the second is chosen


def _unique_labels(names: dict[str, str]):
    """format_func showing the name, with the code's tail where two areas share a name (the URL
    carries the label, so labels must be unique)."""
    counts: dict[str, int] = {}
    for n in names.values():
        counts[n] = counts.get(n, 0) + 1
    return lambda code: names.get(code, code) if counts.get(names.get(code), 0) <= 1 else f"{names[code]} ({code[-3:]})"


def _apply_drill() -> None:
    code = st.session_state.pop(_DRILL, None)
    if code:
        st.session_state["town"] = town_of(code)
        st.session_state["village"] = village_of(code)


def _on_area_page() -> bool:
    return st.session_state.get(CURRENT_PAGE) == AREA_PAGE.url_path  # set by app.py from st.navigation


def _town_changed() -> None:
    st.session_state["village"] = None


def _reset() -> None:
    for k in ("town", "village", *DOMAIN_LABELS):
        st.session_state[k] = [] if k in DOMAIN_LABELS else None
    if "_period_default" in st.session_state:
        st.session_state["period"] = st.session_state["_period_default"]
