"""The one entry point of the CLI (`minqing report`) and the dashboard's 报告 page: a kind, a
filter (its period closed by `period` when open), the area it covers, and out come the .docx
bytes and the model.Document they were written from."""

from __future__ import annotations

import dataclasses
import re
import datetime as dt
from collections.abc import Sequence

import duckdb

from analysis import metrics
from analysis.filters import CaseFilter
from etl import views

from . import area, digest, docx_writer, model, monthly, periods
from .context import context
from .sections import EarlyWarning

KINDS = {"digest": "十日信息摘报", "monthly": "月度分析", "area": "一区一报"}


class NoCases(ValueError):
    """The warehouse has no case records: there is nothing to report."""


class BadPeriod(ValueError):
    """A period whose start is after its end once the kind's default closed it."""


def period(con: duckdb.DuckDBPyConnection, kind: str) -> tuple[dt.date, dt.date]:
    """The default period of a kind, up to the data's own date (etl.views.as_of): a digest the last
    complete ten-day period, a monthly analysis the last complete month, an area report the
    dashboard's default period (analysis.metrics.default_period)."""
    if metrics.case_period(con) is None:
        raise NoCases("数据仓库中还没有诉求记录, 无法生成报告")
    as_of = views.as_of(con).at.date()
    if kind == "digest":
        return periods.last_complete_ten_days(as_of)
    if kind == "monthly":
        return periods.recent_months(as_of, 1)[0]
    return metrics.default_period(con, as_of)


def build(con: duckdb.DuckDBPyConnection, kind: str, flt: CaseFilter, *, visible: str = "",
          warnings: Sequence[EarlyWarning] | None = None, template=None) -> tuple[bytes, model.Document]:
    """The document of `kind` over `flt` (an open period gets the kind's default; its area is the
    document's area). `visible`: an area prefix outside which no area's rows are shown (a town
    account's scope). `warnings`: early-warning items for 需关注事项 (None: the hook's placeholder)."""
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}; expected one of {list(KINDS)}")
    if flt.start is None or flt.end is None:
        start, end = period(con, kind)
        start, end = flt.start or start, flt.end or end
        if start > end:
            raise BadPeriod(f"统计时段的第一天 {start} 晚于最后一天 {end} (未指定的一端按默认: {KINDS[kind]}截至数据日期)")
        flt = dataclasses.replace(flt, start=start, end=end)
    elif metrics.case_period(con) is None:
        raise NoCases("数据仓库中还没有诉求记录, 无法生成报告")
    ctx = context(con, flt, visible)
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
    name = "_".join(parts)
    for ch in '/\\:*?"<>|（）() ':
        name = name.replace(ch, "_")
    return re.sub("_+", "_", name).strip("_") + ".docx"
