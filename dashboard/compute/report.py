"""报告: what the page offers and asks for, without streamlit: the kinds, the periods to choose
from (the last complete ten-day periods or months up to the data's date), and the filter a
request becomes (the sidebar's filters with the chosen period)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from analysis.filters import CaseFilter
from reports.documents import periods
from reports.documents import KINDS

HELP = {
    "digest": "十日信息摘报: 总体情况 (环比、同比)、分领域、分区域、需关注事项、下一步工作建议, 附分布图和走势图。",
    "monthly": "月度分析: 摘报各部分按整月统计, 另加近 12 个月走势和三率排名与考核标记。",
    "area": "一区一报: 所选乡镇(街道)或村(社区)在侧栏受理时段内的情况, 乡镇按村一村一行, 与相邻区域比较。",
}
CHOICES = 12  # periods offered


def period_options(kind: str, as_of: dt.date, first: dt.date | None = None) -> dict[str, tuple[dt.date, dt.date]]:
    """Label -> (start, end) of the periods a kind offers, latest first, none ending before
    `first` (the first case); {} for the area report (it takes the sidebar's period)."""
    if kind == "digest":
        return {periods.label(s, e): (s, e) for s, e in periods.recent_ten_days(as_of, CHOICES, first)}
    if kind == "monthly":
        return {periods.label(s, e): (s, e) for s, e in periods.recent_months(as_of, CHOICES, first)}
    return {}


def error_message(e: Exception) -> str | None:
    """The Chinese message of a report's own refusal (no cases, a period without data, a template
    that cannot be opened); None for anything else (a fault: logged, and a general message shown)."""
    from reports.documents.build import REFUSALS

    return f"报告未能生成: {e}" if isinstance(e, REFUSALS) else None


def request(kind: str, flt: CaseFilter, chosen: tuple[dt.date, dt.date] | None) -> CaseFilter:
    """The filter of a report: the sidebar's (area, categories, channels, statuses) with the chosen
    period for a digest or monthly analysis, the sidebar's period for an area report."""
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}")
    if kind == "area" or chosen is None:
        return flt
    return dataclasses.replace(flt, start=chosen[0], end=chosen[1])


def missing_area(kind: str, flt: CaseFilter) -> bool:
    """An area report needs a town or village."""
    return kind == "area" and not flt.area_prefix
