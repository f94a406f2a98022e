"""What every kind of document needs: the warehouse's meta (district, demo), the data's own
date, the closed period and the filter, the area's name, the header and the notes that state
the period, the data date and the filters, and the recipients (settings report_*)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import duckdb
import geopandas as gpd
import shapely

from analysis import metrics
from analysis.filters import CaseFilter
from etl import settings, views

from . import model, periods


@dataclass(frozen=True)
class Context:
    con: duckdb.DuckDBPyConnection
    flt: CaseFilter  # the period closed; its area the document's (a town account's: its town)
    meta: dict
    as_of: dt.date
    area_name: str  # '' for the district
    visible: str = ""  # an area-code prefix: rows of areas outside it are left out (a town account's scope)
    kind: str = ""  # digest, monthly, area (reports.documents.KINDS)
    full_end: dt.date | None = None  # the period's own end when it runs past the data's date (then end = as_of)

    @property
    def start(self) -> dt.date:
        return self.flt.start

    @property
    def end(self) -> dt.date:
        return self.flt.end

    @property
    def ongoing(self) -> bool:
        """The period runs past the data's date: its figures are not final and it gets no issue number."""
        return self.full_end is not None and self.full_end > self.end

    @property
    def previous(self) -> tuple[dt.date, dt.date]:
        """The period 环比 compares with: the previous 旬 or month of a digest or monthly analysis
        (periods.previous), else the days of the same length before (analysis.metrics)."""
        return metrics.comparison_periods(self.start, self.end,
                                          periods.previous(self.kind, self.start, self.full_end or self.end))["previous"]

    @property
    def label(self) -> str:
        """'2026年10月下旬', with '（本期截至10月25日，尚未结束）' while it runs."""
        text = periods.label(self.start, self.full_end or self.end)
        return text + (f"（本期截至{self.end.month}月{self.end.day}日，尚未结束）" if self.ongoing else "")

    @property
    def demo(self) -> bool:
        return self.meta.get("demo") == "true"

    @property
    def district(self) -> str:
        return self.meta.get("district_name", "") or "全区"

    @property
    def where(self) -> str:
        """The area in words: '汉滨区' or '汉滨区大河镇'."""
        return f"{self.district}{self.area_name}"

    def shifted(self, start: dt.date, end: dt.date) -> CaseFilter:
        return dataclasses.replace(self.flt, start=start, end=end)


def context(con: duckdb.DuckDBPyConnection, flt: CaseFilter, visible: str = "", *, kind: str = "",
            full_end: dt.date | None = None) -> Context:
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    return Context(con, flt, meta, views.as_of(con).at.date(), area_name(con, flt.area_prefix), visible, kind, full_end)


def area_name(con: duckdb.DuckDBPyConnection, code: str) -> str:
    """'大河镇' or '大河镇新村' (town then village) for an area code; '' for the district."""
    if not code:
        return ""
    rows = con.execute("SELECT code, name, level FROM areas WHERE starts_with(?, code) AND level <> 'district' ORDER BY code",
                       [code]).fetchall()
    return "".join(name for _, name, _ in rows) or code


def office(meta: dict) -> str:
    """The issuing office: the setting report_office, else '<district>群众工作办公室'."""
    return str(settings.get("report_office")) or f"{meta.get('district_name', '')}群众工作办公室"


def header(ctx: Context, title: str, kind: str) -> model.Header:
    issue = None if ctx.ongoing else periods.issue_number(kind, ctx.start, ctx.end)
    return model.Header(title=title, office=office(ctx.meta), date=periods.cn_date(ctx.as_of),
                        issue=issue, year=ctx.end.year, demo=ctx.demo)


def notes(ctx: Context) -> list[str]:
    """The period, the data's date and the filters, stated under the title."""
    out = [f"统计时段 {ctx.start:%Y-%m-%d} 至 {ctx.end:%Y-%m-%d}（按受理时间） 数据截至 {ctx.as_of:%Y-%m-%d}",
           f"筛选条件：{_filters(ctx)}", f"环比：与{periods.label(*ctx.previous)}比较"]
    if ctx.demo:
        out.append("演示数据：其下乡镇、村边界及户、干部、诉求记录均为合成数据")
    return out


def _filters(ctx: Context) -> str:
    """The filter in words without its period (stated on the line above)."""
    return dataclasses.replace(ctx.flt, start=None, end=None).describe(ctx.area_name)


def recipients() -> dict[str, str]:
    return {"报": str(settings.get("report_submit_to")), "送": str(settings.get("report_copy_to")),
            "发": str(settings.get("report_distribute_to"))}


def shapes(con: duckdb.DuckDBPyConnection, level: str, prefix: str = "") -> gpd.GeoDataFrame:
    """Outlines of `level` inside `prefix` (code, name, geometry), simplified for a page-sized map."""
    df = con.execute("""SELECT v.code, v.name, ST_AsWKB(v.geom) AS wkb FROM areas v
                         WHERE v.level = ? AND v.geom IS NOT NULL AND starts_with(v.code, ?) ORDER BY v.code""",
                     [level, prefix]).df()
    geoms = shapely.from_wkb(df.pop("wkb").map(bytes)) if len(df) else []
    if len(df):
        geoms = shapely.coverage_simplify(geoms, tolerance=0.0005)
    return gpd.GeoDataFrame(df, geometry=list(geoms), crs="EPSG:4326")


