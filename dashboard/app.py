"""Streamlit entry point: `streamlit run dashboard/app.py` (MINQING_DB names the warehouse)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT.parent) not in sys.path:  # `streamlit run dashboard/app.py` from a clone without install
    sys.path.insert(0, str(ROOT.parent))

from dashboard.pages import PAGES  # noqa: E402 - after the path is set

st.set_page_config(page_title="民情地图", layout="wide")

page = st.navigation([st.Page(ROOT / p.file, title=p.title, url_path=p.url_path or None, default=not p.url_path)
                      for p in PAGES])
st.session_state["_current_page"] = page.url_path  # dashboard.filters links to 区域档案 from other pages
page.run()
