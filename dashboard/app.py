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
]

st.navigation(PAGES).run()
