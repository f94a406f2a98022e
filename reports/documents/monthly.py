"""月度分析: the digest's sections over a calendar month, plus the monthly analysis: the trend
of the last 12 months, and the rankings of towns and handling units by the three rates (三率)
with the assessment flags (analysis.rankings, as the 排名 page and `minqing rankings`)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis import metrics
from analysis.rankings import FLAG_LABELS, RANKING_MIN_CASES, rankings
from reports import formats

from . import model, periods, sections, sentences
from .context import Context

TITLE = "群众诉求月度分析"


def document(ctx: Context, warnings: Sequence[sections.EarlyWarning] | None = None) -> model.Document:
    return sections.briefing(ctx, TITLE, "群众诉求分析", warnings, analysis)


def analysis(ctx: Context) -> list:
    """四、月度分析: trend, then rankings of towns and units with their flags."""
    months = sections.trend_months(ctx)  # 12 months, fewer when the data start later
    out: list = [model.Heading("四、月度分析"), model.Heading(f"（一）近{len(months)}个月走势", 2)]
    if len(months) >= 2:
        last, before = months.iloc[-1], months.iloc[-2]
        peak = months.loc[months["received"].idxmax()]
        change = metrics.relative_change(last["received"], before["received"])
        compared = sentences.count_change(change, f"较{int(before.month[5:])}月", last["received"])
        out.append(model.Paragraph(
            f"近{len(months)}个月共受理诉求{sentences.n(months['received'].sum())}件，月均{sentences.n(months['received'].mean())}件；"
            f"受理最多的是{periods.cn_month(peak['month'])}（{sentences.n(peak['received'])}件）；"
            f"{periods.cn_month(last['month'])}受理{sentences.n(last['received'])}件，{compared}。"))
    out.append(sections.trend_chart(ctx, 2, months))
    out.append(model.Table(["月份", "受理", "办结", "办结率"],
                           [[r.month, formats.count(r.received), formats.count(r.closed), formats.rate(r.closure_rate)]
                            for r in months.itertuples()], f"表4 近{len(months)}个月受理与办结"))
    # a town's or village's own analysis ranks its handling units only (one town is no ranking)
    groups = (("town", "乡镇(街道)"), ("unit", "承办单位")) if not ctx.flt.area_prefix else (("unit", "承办单位"),)
    for i, (by, unit) in enumerate(groups):
        out.append(model.Heading(f"（{'二三'[i]}）{unit}三率排名", 2))
        out += _ranking(ctx, by, unit, 5 + i)
    return [b for b in out if b is not None]


def _ranking(ctx: Context, by: str, unit: str, table_no: int) -> list:
    df = rankings(ctx.con, ctx.flt, by)
    name = "name" if by == "town" else "handling_unit"
    if ctx.visible and by == "town":
        df = df[df["code"].str.startswith(ctx.visible)]
    ranked = df[df["ranked"]]
    flagged = ranked[ranked["flags"] != ""]
    text = f"参与排名的{unit}{len(ranked)}个（本期受理诉求不少于{RANKING_MIN_CASES}件）"
    if len(ranked):
        best = ranked.iloc[0]
        text += f"，综合得分最高的是{best[name]}（{best['score']:.1f}分）"
    if len(flagged):
        text += "；有考核标记的：" + "、".join(f"{r[name]}（{r['flags']}）" for _, r in flagged.head(6).iterrows())
    else:
        text += "；均无考核标记"
    rows = [["" if pd.isna(r["rank"]) else str(r["rank"]), str(r[name]),
             formats.count(r["received"]), formats.rate(r["response_rate"]), formats.rate(r["resolution_rate"]),
             formats.rate(r["satisfaction_rate"]), f"{r['score']:.1f}" if r["score"] == r["score"] else formats.DASH,
             r["flags"] or ""] for _, r in df.head(15).iterrows()]
    return [model.Paragraph(text + "。"),
            model.Table(["名次", unit, "受理", "响应率", "办结率", "满意率", "得分", "考核标记"], rows,
                        f"表{table_no} {unit}三率排名（{'、'.join(FLAG_LABELS.values())}）")]
