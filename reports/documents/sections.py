"""The sections the digest and the monthly analysis share, each from the analyses' one
definition of its figures (analysis.metrics, analysis.hotspots, analysis.fieldwork_reach):
一、总体情况, 二、分领域, 三、分区域, 四、需关注事项 and 五、下一步工作建议."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analysis import metrics
from etl.codes import level_of
from reports import formats

from . import charts, model, periods, sentences
from .attention import early_warnings, hot_spots, hot_window, must_visit_unvisited, overdue_by_unit, window_months
from .context import Context, header, notes, recipients, shapes

TOP = 5  # leading items named in a sentence
TABLE_ROWS = 10


@dataclass(frozen=True)
class EarlyWarning:
    """An early-warning item (预警) for 四、需关注事项: a title and why it is raised. Without items
    passed to `build(..., warnings=[...])`, the document lists analysis.alerts' warnings at the
    period's end (attention.early_warnings)."""
    title: str
    why: str


def previous(ctx: Context):
    """The filter over the period 环比 compares with (Context.previous)."""
    return ctx.shifted(*ctx.previous)


def briefing(ctx: Context, title: str, subject: str, warnings: Sequence[EarlyWarning] | None,
             analysis=None) -> model.Document:
    """The digest and the monthly analysis: header, 一、总体情况, 二、分领域, 三、分区域 and the
    village map, then `analysis(ctx)`'s blocks when given (the monthly's 四、月度分析; the digest
    has the trend chart under 一 instead), 需关注事项 and 下一步工作建议."""
    summary = metrics.case_summary(ctx.con, ctx.flt, previous=ctx.previous)
    doc = model.Document(header(ctx, title, ctx.kind), f"{ctx.where}{ctx.label}{subject}", notes(ctx),
                         recipients=recipients())
    doc.add(*overall(ctx, summary))
    if analysis is None:
        doc.add(trend_chart(ctx, 1))
    doc.add(*categories(ctx, summary))
    doc.add(*areas(ctx, summary))
    doc.add(village_map(ctx, 2 if analysis is None else 1))
    numerals = ("四", "五") if analysis is None else ("五", "六")
    if analysis is not None:
        doc.add(*analysis(ctx))
    blocks, facts = attention(ctx, summary, warnings, f"{numerals[0]}、需关注事项", table_no=4 if analysis is None else 7)
    doc.add(*blocks)
    doc.add(*suggestions(ctx, summary, facts, f"{numerals[1]}、下一步工作建议"))
    return doc


def with_change(ctx: Context, by: str, measures: list[str], key: str) -> pd.DataFrame:
    """case_metrics_by(`by`) of the period with the previous period's received (`received_prev`)
    and the relative change (`received_pct`, None when nothing was received before)."""
    cur = metrics.case_metrics_by(ctx.con, ctx.flt, by, measures=measures)
    prev = metrics.case_metrics_by(ctx.con, previous(ctx), by, measures=["received"])[[key, "received"]]
    df = cur.merge(prev.rename(columns={"received": "received_prev"}), on=key, how="left")
    df["received_prev"] = df["received_prev"].fillna(0).astype("int64")
    df["received_pct"] = [metrics.relative_change(c, p) for c, p in zip(df["received"], df["received_prev"])]
    return df


def overall(ctx: Context, summary: dict, title: str = "一、总体情况") -> list:
    ch = summary["changes"]
    rows = []
    for key, label in (("received", "受理诉求"), ("closed", "办结"), ("closure_rate", "办结率"),
                       ("on_time_rate", "按期办结率"), ("satisfaction_rate", "满意率")):
        is_rate = key.endswith("_rate")
        fmt = formats.rate if is_rate else formats.count
        c = ch[key]
        pop = formats.points(c["pop_change"]) if is_rate else formats.change_pct(c["pop_pct"])
        yoy = formats.points(c["yoy_change"]) if is_rate else formats.change_pct(c["yoy_pct"])
        rows.append([label, fmt(summary[key]), fmt(c["previous"]), pop, fmt(c["last_year"]), yoy])
    rows.append(["未办结(截至数据日期)", formats.count(summary["open"]), "—", "—", "—", "—"])
    rows.append(["其中超期", formats.count(summary["overdue"]), "—", "—", "—", "—"])
    return [model.Heading(title), model.Paragraph(sentences.overall(summary)),
            model.Table(["指标", "本期", "上期", "环比", "去年同期", "同比"], rows, "表1 主要指标")]


def categories(ctx: Context, summary: dict, title: str = "二、分领域情况", table_no: int = 2) -> list:
    df = with_change(ctx, "category", ["received", "closed", "closure_rate", "overdue"], "category")
    df = df[(df["received"] > 0) | (df["overdue"] > 0)].sort_values(["received", "category"], ascending=[False, True])
    total = int(summary["received"])
    lead = [(r.category, int(r.received), r.received_pct) for r in df.head(3).itertuples() if r.received]
    rows = [[r.category, formats.count(r.received), formats.change_pct(r.received_pct), formats.count(r.closed),
             formats.rate(r.closure_rate), formats.count(r.overdue)] for r in df.head(TABLE_ROWS).itertuples()]
    out = [model.Heading(title), model.Paragraph(sentences.leading(lead, total, "问题类别"))]
    if rows:
        out.append(model.Table(["问题类别", "受理", "环比", "办结", "办结率", "超期"], rows,
                               f"表{table_no} 受理量居前的问题类别"))
    return out


def areas(ctx: Context, summary: dict, title: str = "三、分区域情况", table_no: int = 3) -> list:
    """By town (a district document) or by village (a town's): counts, change, closure, overdue."""
    level = "village" if level_of(ctx.flt.area_prefix) == "town" else "town"
    if level_of(ctx.flt.area_prefix) == "village":
        return [model.Heading(title), model.Paragraph(f"本报告只涉及{ctx.area_name}，不再分区域统计。")]
    unit = "村(社区)" if level == "village" else "乡镇(街道)"
    df = with_change(ctx, level, ["received", "closed", "closure_rate", "overdue"], "code")
    df = df.sort_values(["received", "code"], ascending=[False, True])
    total = int(summary["received"])  # cases placed at the district itself are in no town, but in the total
    lead = [(r.name, int(r.received), r.received_pct) for r in df.head(3).itertuples() if r.received]
    text = sentences.leading(lead, total, unit)
    overdue = df[df["overdue"] > 0].sort_values(["overdue", "code"], ascending=[False, True]).head(3)
    if len(overdue):
        text += "超期未办结较多的是" + "、".join(f"{r.name}（{sentences.n(r.overdue)}件）" for r in overdue.itertuples()) + "。"
    shown = df if level == "town" else df.head(TABLE_ROWS * 2)
    rows = [[r.name, formats.count(r.received), formats.change_pct(r.received_pct), formats.count(r.closed),
             formats.rate(r.closure_rate), formats.count(r.overdue)] for r in shown.itertuples()]
    out = [model.Heading(title), model.Paragraph(text),
           model.Table([unit, "受理", "环比", "办结", "办结率", "超期"], rows, f"表{table_no} 各{unit}诉求情况")]
    return out


def village_map(ctx: Context, figure_no: int = 1) -> model.Image | None:
    """The period's received cases per village of the document's area, as a map."""
    by = metrics.case_metrics_by(ctx.con, ctx.flt, "village", measures=["received"])
    outlines = shapes(ctx.con, "village", ctx.flt.area_prefix)
    png = charts.village_map(outlines, by.set_index("code")["received"], f"{ctx.where}各村(社区)受理诉求件数")
    return model.Image(png, f"图{figure_no} 本期各村(社区)受理诉求分布") if png else None


def trend_months(ctx: Context, months: int = 12) -> pd.DataFrame:
    """received, closed and closure_rate per month (every month listed, zeros included) over the
    `months` months up to the period's end, from the first case at the earliest; empty when the
    period ends before the first case."""
    first = max(metrics.case_period(ctx.con)[0].replace(day=1), metrics.months_back(ctx.end, months))
    if first > ctx.end:
        return pd.DataFrame({"month": pd.Series(dtype=str), "received": pd.Series(dtype="int64"),
                             "closed": pd.Series(dtype="int64"), "closure_rate": pd.Series(dtype=float)})
    df = metrics.case_metrics_by(ctx.con, ctx.shifted(first, ctx.end), "month",
                                 measures=["received", "closed", "closure_rate"])
    # the grouping also lists months of the backlog before the period (with nothing received)
    names = pd.DataFrame({"month": pd.period_range(first, ctx.end, freq="M").strftime("%Y-%m")})
    df = names.merge(df[["month", "received", "closed", "closure_rate"]], on="month", how="left")
    df[["received", "closed"]] = df[["received", "closed"]].fillna(0).astype("int64")
    return df


def trend_chart(ctx: Context, figure_no: int = 2, df: pd.DataFrame | None = None) -> model.Image | None:
    """The chart of `df` (trend_months(ctx) when not given: a caller that has them passes them)."""
    df = trend_months(ctx) if df is None else df
    if df.empty:
        return None
    return model.Image(charts.trend(df, f"{ctx.where}近{len(df)}个月受理与办结"),
                       f"图{figure_no} 近{len(df)}个月诉求走势（按受理月份）", width_mm=150)


def attention(ctx: Context, summary: dict, warnings: Sequence[EarlyWarning] | None, title: str = "四、需关注事项",
              table_no: int = 4) -> tuple[list, dict]:
    """Hot spots, overdue by unit, repeat and group petitions, 五必去 villages without a visit,
    early warnings. Returns the blocks and what the suggestions need."""
    out: list = [model.Heading(title)]
    facts: dict = {}
    window = hot_window(ctx)
    hot = hot_spots(ctx, window)
    facts["hot"] = hot
    out.append(model.Heading("（一）新出现、连续和加剧的热点", 2))
    span = f"{periods.cn_month(f'{window[0]:%Y-%m}')}至{periods.cn_month(f'{window[1]:%Y-%m}')}" if window else ""
    if hot:
        out.append(model.Paragraph(f"时空热点分析（{span}共{window_months(window)}个月逐月Gi*，按Esri分类）显示："
                                   + "；".join(f"{label}：{'、'.join(names)}" for label, names in hot.items()) + "。"))
    elif window:
        out.append(model.Paragraph(f"{span}共{window_months(window)}个月的时空热点分析中没有新增、连续或加剧的热点村(社区)。"))
    else:
        out.append(model.Paragraph("本期末之前还没有完整月份的诉求记录，暂不做时空热点分析。"))
    units = overdue_by_unit(ctx)
    facts["units"] = units
    out.append(model.Heading("（二）超期未办结诉求", 2))
    if units.empty:
        out.append(model.Paragraph(f"截至{sentences.as_of(summary)}，本期末前受理的诉求中没有超期未办结的。"))
    else:
        out.append(model.Paragraph(f"截至{sentences.as_of(summary)}，本期末前受理的诉求中超期未办结{sentences.n(summary['overdue'])}件，涉及"
                                   f"{len(units)}个承办单位，较多的是"
                                   + "、".join(f"{r.handling_unit}（{sentences.n(r.overdue)}件）" for r in units.head(3).itertuples())
                                   + "。"))
        out.append(model.Table(["承办单位", "未办结", "其中超期"],
                               [[r.handling_unit, formats.count(r.open), formats.count(r.overdue)]
                                for r in units.head(TABLE_ROWS).itertuples()], f"表{table_no} 超期未办结诉求较多的承办单位"))
    out.append(model.Heading("（三）重复访、越级访与集体访", 2))
    out.append(model.Paragraph(sentences.petitions(summary)))
    villages = must_visit_unvisited(ctx)
    facts["villages"] = villages
    out.append(model.Heading("（四）“五必去”村(社区)走访", 2))
    if villages is None:
        out.append(model.Paragraph("尚未导入走访记录，无法核对“五必去”村(社区)的走访情况。"))
    elif villages.empty:
        out.append(model.Paragraph("本期“五必去”村(社区)均有走访记录。"))
    else:
        names = "、".join(f"{r.town}{r.name}（{'、'.join(r.must_visit_flags)}）" for r in villages.head(8).itertuples())
        more = f"等{len(villages)}个" if len(villages) > 8 else ""
        out.append(model.Paragraph(f"本期尚无走访记录的“五必去”村(社区)有：{names}{more}。"))
    out.append(model.Heading("（五）预警事项", 2))
    if warnings is None:
        found, total = early_warnings(ctx)
        warnings = [EarlyWarning(title, why) for title, why in found]
    else:
        total = len(warnings)
    if not warnings:
        out.append(model.Paragraph(f"截至{periods.cn_date(ctx.end)}，没有预警事项。"))
    else:
        out.append(model.Paragraph(f"截至{periods.cn_date(ctx.end)}，预警分析（抓苗头）提示{total}项"
                                   + ("，按先后排列：" if total > 1 else "：")))
        for i, w in enumerate(warnings, 1):
            out.append(model.Paragraph(f"{i}. {w.title}：{w.why}"))
        if total > len(warnings):
            out.append(model.Paragraph(f"另有{total - len(warnings)}项，详见民情地图“预警”页面。"))
    facts["warnings"] = total
    return out, facts


def suggestions(ctx: Context, summary: dict, facts: dict, title: str = "五、下一步工作建议") -> list:
    """A short list the office completes: each line names what the figures point at and leaves
    blanks (____) for who and by when."""
    lines = []
    if summary["overdue"]:
        lines.append(f"督办超期诉求。对超期未办结的{sentences.n(summary['overdue'])}件诉求逐件督办，由____牵头，____前办结销号。")
    units = facts.get("units")
    if units is not None and not units.empty:
        lines.append(f"约谈超期较多的承办单位（{'、'.join(units['handling_unit'].head(3))}），责任人：____。")
    hot = facts.get("hot") or {}
    names = [n for v in hot.values() for n in v][:3]
    if names:
        lines.append(f"针对{'、'.join(names)}等热点村(社区)开展专题研判，____前提出化解方案。")
    villages = facts.get("villages")
    if villages is not None and not villages.empty:
        lines.append(f"落实“五必去”：安排____等干部于____前走访{'、'.join(villages['name'].head(3))}等{len(villages)}个村(社区)。")
    if facts.get("warnings"):
        lines.append(f"逐项核实{sentences.n(facts['warnings'])}项预警事项，由____负责，____前反馈核实情况，防止苗头演变为集体访、越级访。")
    if summary["group_petitions"]:
        lines.append(f"对本期{sentences.n(summary['group_petitions'])}件集体访逐件明确包案领导____，防止反复。")
    lines.append("其他：________________________________。")
    numerals = "一二三四五六七八九十"
    return [model.Heading(title)] + [model.Paragraph(f"（{numerals[i]}）{t}", "blank") for i, t in enumerate(lines)]
