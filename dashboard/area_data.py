"""The queries of 区域档案 (one area's profile): cached like every query (dashboard.data.query),
on the one connection dashboard.data owns. The parts that do not depend on the area (figures of
every town/village, the district's months and breakdowns) are cached once per filter."""

from __future__ import annotations

import pandas as pd

from analysis.filters import CaseFilter
from dashboard.compute import scope as scope_rules
from dashboard.data import households, query

# The figures of every village also draw the 总览 map.


@query(areas=("code",))
def area_neighbours(con, code: str) -> pd.DataFrame:
    """Areas of the same level sharing a border or corner with `code` (analysis.areas.neighbours)."""
    from analysis import areas

    return areas.neighbours(con, code)


@query(whole_district=True)
def area_figures(con, flt: CaseFilter, level: str) -> pd.DataFrame:
    """Case and household figures of every town or village of the district, per 1,000 households
    included (analysis.areas.figures)."""
    from analysis import areas

    return areas.figures(con, flt, level, households(level, "")["categories"])  # households: cached


@query(whole_district=True, areas=("code",))
def area_comparison(con, code: str, flt: CaseFilter) -> pd.DataFrame:
    """The area with its neighbours (the district: its towns) and the average rows (analysis.areas.comparison)."""
    from analysis import areas

    return areas.comparison(con, code, flt, lambda level: area_figures(flt, level))  # figures: cached


@query(whole_district=True, compare=("prefix",), restrict=scope_rules.one_area)
def area_months(con, prefix: str, flt: CaseFilter) -> pd.DataFrame:
    """Monthly received/closed of one area ('' the district), per 1,000 households (analysis.areas.monthly_counts)."""
    from analysis import areas

    return areas.monthly_counts(con, prefix, flt)


def area_monthly(code: str, flt: CaseFilter) -> pd.DataFrame:
    """The area's and the district's months, each cached (analysis.areas.combine_monthly)."""
    from analysis import areas

    return areas.combine_monthly(area_months(code, flt) if code else None, area_months("", flt))


@query(whole_district=True, compare=("prefix",), restrict=scope_rules.one_area)
def area_groups(con, prefix: str, flt: CaseFilter, by: str) -> pd.DataFrame:
    """One area's ('' the district) cases per category or channel (analysis.areas.group_counts)."""
    from analysis import areas

    return areas.group_counts(con, prefix, flt, by)


def area_breakdown(code: str, flt: CaseFilter, by: str) -> pd.DataFrame:
    """The area's cases per category or channel with the district's shares, each cached
    (analysis.areas.combine_breakdown)."""
    from analysis import areas

    return areas.combine_breakdown(area_groups(code, flt, by), area_groups("", flt, by), by)
