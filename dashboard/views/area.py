"""区域档案 (being built)."""
from dashboard.ui import area_page

flt = area_page("区域档案")
