"""The one entry point of the CLI (`minqing report`) and the dashboard's 报告 page: a kind, a
filter (its period closed by `period` when open), the area it covers, and out come the .docx
bytes and the model.Document they were written from."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import duckdb

from analysis import metrics
from analysis.filters import CaseFilter
from etl import views
from reports.export import safe_name

from . import KINDS, area, digest, docx_writer, model, monthly, periods
from .context import context
from .sections import EarlyWarning


class NoCases(ValueError):
    """The warehouse has no case records: there is nothing to report."""


class BadPeriod(ValueError):
    """A period the warehouse has nothing for: its start after its end, after the data's date,
    or its end before the first case."""


# a report's own refusals, each with its Chinese message (anything else is a fault)
REFUSALS = (NoCases, BadPeriod, docx_writer.TemplateError)


def period(con: duckdb.DuckDBPyConnection, kind: str, start: dt.date | None = None,
           end: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The period of a kind with its open ends closed, up to the data's own date (etl.views.as_of):
    a digest the 旬 of the one end given, else the last complete 旬; a monthly analysis likewise by
    calendar month; an area report as the dashboard's (analysis.metrics.resolve_period)."""
    if metrics.case_period(con) is None:
        raise NoCases("数据仓库中还没有诉求记录, 无法生成报告")
    if start is not None and end is not None:
        return start, end
    if kind == "area":
        return metrics.resolve_period(con, CaseFilter(start, end))
    if start is None and end is None:
        as_of = views.as_of(con).at.date()
        if kind == "digest":
            return periods.last_complete_ten_days(as_of)
        return periods.recent_months(as_of, 1)[0]
    return periods.of_kind(kind, start or end)


def _checked(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period cut at the data's date, or BadPeriod (in Chinese) when there is nothing to report."""
    first = metrics.case_period(con)[0]
    as_of = views.as_of(con).at.date()
    if start > as_of:
        raise BadPeriod(f"统计时段的第一天 {start} 晚于数据日期 {as_of}: 这一时段还没有数据")
    if end < first:
        raise BadPeriod(f"统计时段 {start} 至 {end} 早于第一条诉求记录 ({first}): 这一时段没有数据")
    if start > end:
        raise BadPeriod(f"统计时段的第一天 {start} 晚于最后一天 {end}")
    return start, min(end, as_of)


def build(con: duckdb.DuckDBPyConnection, kind: str, flt: CaseFilter, *, visible: str = "",
          warnings: Sequence[EarlyWarning] | None = None, template=None) -> tuple[bytes, model.Document]:
    """The document of `kind` over `flt` (open ends closed by `period`; a period running past the
    data's date is cut there and marked as not over; its area is the document's area). `visible`:
    an area prefix outside which no area's rows are shown (a town account's scope). `warnings`:
    early-warning items for 需关注事项 (None: the hook's placeholder)."""
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}; expected one of {list(KINDS)}")
    start, full_end = period(con, kind, flt.start, flt.end)
    start, end = _checked(con, start, full_end)
    flt = dataclasses.replace(flt, start=start, end=end)
    ctx = context(con, flt, visible, kind=kind, full_end=full_end)
    if kind == "digest":
        doc = digest.document(ctx, warnings)
    elif kind == "monthly":
        doc = monthly.document(ctx, warnings)
    else:
        doc = area.document(ctx)
    return docx_writer.write(doc, template), doc


def file_name(kind: str, doc: model.Document) -> str:
    """E.g. 十日信息摘报_2026年第30期_汉滨区2026年10月下旬群众诉求情况_演示数据.docx (no path separators)."""
    h = doc.header
    parts = [KINDS[kind]] + ([f"{h.year}年第{h.issue}期"] if h.issue else []) + [doc.subtitle]
    if h.demo:
        parts.append("演示数据")
    return safe_name("_".join(parts), also="（）() ") + ".docx"
