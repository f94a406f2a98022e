"""Streamlit entry point: `streamlit run dashboard/app.py` (MINQING_DB names the warehouse)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT.parent) not in sys.path:  # `streamlit run dashboard/app.py` from a clone without install
    sys.path.insert(0, str(ROOT.parent))

st.set_page_config(page_title="民情地图", layout="wide")

PAGES = [
    st.Page(ROOT / "views" / "overview.py", title="总览", default=True),
    st.Page(ROOT / "views" / "hotspots.py", title="热点地图", url_path="hotspots"),
    st.Page(ROOT / "views" / "households.py", title="民情分类", url_path="households"),
    st.Page(ROOT / "views" / "open_cases.py", title="未办结", url_path="open_cases"),
    st.Page(ROOT / "views" / "must_visit.py", title="五必去", url_path="must_visit"),
    st.Page(ROOT / "views" / "area.py", title="区域档案", url_path="area"),
    st.Page(ROOT / "views" / "rankings.py", title="排名", url_path="rankings"),
    st.Page(ROOT / "views" / "export.py", title="导出", url_path="export"),
]

page = st.navigation(PAGES)
st.session_state["_current_page"] = page.url_path  # dashboard.filters links to 区域档案 from other pages
page.run()
