"""`minqing report`: the documents offices send, as Word files (reports/documents): the
ten-day digest (digest), the monthly analysis (monthly) and one area's report (area)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from .access import audit
from .analysis import _area_code, _bad, _open

_TEMPLATE_HELP = "版式取自设置 report_template 指定的 Word 模板 (默认 reports/templates/briefing.docx), 编发单位与报送对象取自设置 report_*。"


@click.group(epilog=_TEMPLATE_HELP)
def report() -> None:
    """生成 Word 报告 (.docx): 十日信息摘报、月度分析、一区一报。"""


def _dates(f):
    f = click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="统计时段的最后一天 (YYYY-MM-DD)。")(f)
    f = click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="统计时段的第一天 (YYYY-MM-DD)。")(f)
    return f


_output = click.option("-o", "--output", type=click.Path(dir_okay=False),
                       help="输出文件 (.docx); 默认在当前目录按报告名、期数和时段命名。")


def _run(ctx: click.Context, kind: str, flt, output: str | None) -> None:
    from reports.documents import KINDS
    from reports.documents.build import REFUSALS, build, file_name

    con = _open(ctx)
    try:
        data, doc = build(con, kind, flt)
    except REFUSALS as e:
        raise click.UsageError(str(e)) from None
    path = Path(output) if output else Path(file_name(kind, doc))
    try:
        path.write_bytes(data)
    except OSError as e:
        raise _bad("-o", f"无法写入 {path}: {e}") from None
    period = doc.notes[0]
    audit(ctx.obj["db"], "export", target=f"{KINDS[kind]} {path.name}",
          detail={"filter": "; ".join(doc.notes[:2])})
    click.echo(f"已写出 {path}: {KINDS[kind]}, {period}" + ("; 演示数据" if doc.header.demo else ""))


def _period(start, end):
    if start and end and start > end:
        raise _bad("--from", f"--from {start:%Y-%m-%d} 晚于 --to {end:%Y-%m-%d}")
    return (start.date() if start else None), (end.date() if end else None)


_area_option = click.option("--area", "area", default="", help="只统计此乡镇(街道)或村(社区) (名称或区划代码); 默认: 全区。")


def _area(ctx, area: str) -> str:
    return _area_code(_open(ctx), area)[0] if area else ""


@report.command(epilog=_TEMPLATE_HELP)
@_dates
@_area_option
@_output
@click.pass_context
def digest(ctx, start, end, area, output):
    """十日信息摘报: 总体情况 (环比、同比)、分领域、分区域、需关注事项、下一步工作建议, 附分布图和走势图。

    默认时段为截至数据日期的最近一个完整的旬 (上旬 1-10 日, 中旬 11-20 日, 下旬 21 日至月末);
    只给 --from 或 --to 时为该日所在的旬。期数为该旬在当年的序号 (1-36), 不是整旬的时段不编期数;
    环比与上一旬比较。尚未结束的旬统计到数据日期并注明, 不编期数。"""
    from analysis.filters import CaseFilter

    s, e = _period(start, end)
    _run(ctx, "digest", CaseFilter(s, e, area_prefix=_area(ctx, area)), output)


@report.command(epilog=_TEMPLATE_HELP)
@click.option("--month", "month", help="月份 (YYYY-MM, 如 2026-10); 默认: 截至数据日期的最近一个完整月份。")
@_area_option
@_output
@click.pass_context
def monthly(ctx, month, area, output):
    """月度分析: 十日信息摘报的各部分按整月统计 (环比与上月比较), 另加近 12 个月走势和乡镇、承办单位的三率排名与考核标记。

    尚未结束的月份统计到数据日期并注明, 不编期数。"""
    from analysis.filters import CaseFilter
    from reports.documents import periods

    s = e = None
    if month is not None:
        try:
            s, e = periods.month(month)
        except ValueError as err:
            raise _bad("--month", str(err)) from None
    _run(ctx, "monthly", CaseFilter(s, e, area_prefix=_area(ctx, area)), output)


@report.command(epilog=_TEMPLATE_HELP)
@click.option("--area", required=True, help="乡镇(街道)或村(社区)的名称或区划代码, 如 大河镇。")
@_dates
@_output
@click.pass_context
def area(ctx, area, start, end, output):
    """一区一报: 一个乡镇或村的主要指标、与全区对比的走势、分领域、未办结与超期清单 (不含诉求人信息)、
    民情分类、五必去与走访、与相邻区域比较; 乡镇按村(社区)一村一行。

    默认时段与仪表盘相同: 截至数据日期的最近 12 个月。"""
    from analysis.filters import CaseFilter

    s, e = _period(start, end)
    code, _label = _area_code(_open(ctx), area)
    if not code:
        raise _bad("--area", f"{area!r} 是全区; 一区一报请指定乡镇(街道)或村(社区)")
    _run(ctx, "area", dataclasses.replace(CaseFilter(s, e), area_prefix=code), output)


COMMANDS = (report,)
