"""导出 (being built)."""
from dashboard.ui import case_page

flt = case_page("导出")
