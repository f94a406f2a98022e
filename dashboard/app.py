"""Streamlit entry point: `streamlit run dashboard/app.py` (MINQING_DB names the warehouse).

Nothing is drawn before the sign-in gate (dashboard/auth.py) has an account; the navigation
then offers only the pages of the account's role (dashboard.pages.pages_for)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT.parent) not in sys.path:  # `streamlit run dashboard/app.py` from a clone without install
    sys.path.insert(0, str(ROOT.parent))

from access.roles import ROLES  # noqa: E402 - after the path is set
from dashboard import auth  # noqa: E402
from dashboard.pages import PAGES, pages_for  # noqa: E402

st.set_page_config(page_title="民情地图", layout="wide")



def navigation(pages, position: str = "sidebar"):
    return st.navigation([st.Page(ROOT / p.file, title=p.title, url_path=p.url_path or None, default=p is pages[0])
                          for p in pages], position=position, expanded=True)  # every page listed: no English "View more"


# Signed out, the hidden navigation only tells which page the link asked for: after the sign-in
# the user lands there, with the link's filters.
account = auth.gate(lambda: navigation(PAGES, "hidden").url_path)
allowed = pages_for(ROLES[account.role])
page = navigation(allowed)
back = auth.return_to()
if back is not None:
    target = next((p for p in allowed if p.url_path == back[0]), None)
    if target is not None and target is not allowed[0]:
        st.switch_page(target.file, query_params=back[1])
st.session_state["_current_page"] = page.url_path  # dashboard.filters links to 区域档案 from other pages
page.run()
