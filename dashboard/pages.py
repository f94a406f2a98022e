"""The dashboard's pages, listed once: app.py builds its navigation from them, and the tests and
the benchmark open them from here. Importable without streamlit."""

from __future__ import annotations

from typing import NamedTuple


class Page(NamedTuple):
    file: str      # script path relative to dashboard/app.py (what AppTest.switch_page takes)
    title: str     # the navigation's label
    url_path: str  # the page's URL path; "" for the default page, served at the app's root
    has_map: bool  # draws a map of areas when opened
    right: str = "data"  # the role's right needed to open it (access.roles.Role)

    @property
    def name(self) -> str:
        """The script's name: 'area' for views/area.py."""
        return self.file.removeprefix("views/").removesuffix(".py")


PAGES: tuple[Page, ...] = (
    Page("views/overview.py", "总览", "", True),
    Page("views/hotspots.py", "热点地图", "hotspots", True),
    Page("views/households.py", "民情分类", "households", True),
    Page("views/open_cases.py", "未办结", "open_cases", False),
    Page("views/must_visit.py", "五必去", "must_visit", True),
    Page("views/alerts.py", "预警", "alerts", True),
    Page("views/fieldwork.py", "驻点走访", "fieldwork", True),
    Page("views/area.py", "区域档案", "area", True),
    Page("views/rankings.py", "排名", "rankings", False),
    Page("views/export.py", "导出", "export", False),
    Page("views/report.py", "报告", "report", False),
    Page("views/import.py", "数据导入", "import", False, right="load"),
    Page("views/access.py", "账号与审计", "access", False, right="audit"),
)


def pages_for(role) -> tuple[Page, ...]:
    """The pages an account of `role` (access.roles.Role) may open, in the navigation's order."""
    return tuple(p for p in PAGES if getattr(role, p.right))


def page(name: str) -> Page:
    """The page whose script is views/<name>.py, e.g. page("area")."""
    for p in PAGES:
        if p.name == name:
            return p
    raise KeyError(f"no page views/{name}.py; pages: {[p.file for p in PAGES]}")
