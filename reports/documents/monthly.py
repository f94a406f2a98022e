"""月度分析: the digest's sections over a calendar month, plus the monthly analysis: the trend
of the last 12 months, and the rankings of towns and handling units by the three rates (三率)
with the assessment flags (analysis.rankings, as the 排名 page and `minqing rankings`)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis import metrics
from analysis.rankings import FLAG_LABELS, rankings
from reports import formats

from . import model, periods, sections, sentences
from .context import Context, header, notes, recipients

TITLE = "群众诉求月度分析"


def document(ctx: Context, warnings: Sequence[sections.EarlyWarning] | None = None) -> model.Document:
    summary = metrics.case_summary(ctx.con, ctx.flt)
    doc = model.Document(header(ctx, TITLE, "monthly"),
                         f"{ctx.where}{periods.label(ctx.start, ctx.end)}群众诉求分析", notes(ctx),
                         recipients=recipients())
    doc.add(*sections.overall(ctx, summary))
    doc.add(*sections.categories(ctx))
    doc.add(*sections.areas(ctx))
    doc.add(sections.village_map(ctx, 1))
    doc.add(*analysis(ctx))
    blocks, facts = sections.attention(ctx, summary, warnings, "五、需关注事项", table_no=7)
    doc.add(*blocks)
    doc.add(*sections.suggestions(ctx, summary, facts, "六、下一步工作建议"))
    return doc


def analysis(ctx: Context) -> list:
    """四、月度分析: trend, then rankings of towns and units with their flags."""
    out: list = [model.Heading("四、月度分析"), model.Heading("（一）近12个月走势", 2)]
    months = sections.trend_months(ctx)
    if len(months) >= 2:
        last, before = months.iloc[-1], months.iloc[-2]
        peak = months.loc[months["received"].idxmax()]
        change = (last["received"] - before["received"]) / before["received"] if before["received"] else None
        out.append(model.Paragraph(
            f"近{len(months)}个月共受理诉求{sentences.n(months['received'].sum())}件，月均{sentences.n(months['received'].mean())}件；"
            f"受理最多的是{peak['month']}（{sentences.n(peak['received'])}件）；{last['month']}受理{sentences.n(last['received'])}件，"
            f"{sentences.count_change(change, f'较{before.month}')}。"))
    out.append(sections.trend_chart(ctx, 2))
    out.append(model.Table(["月份", "受理", "办结", "办结率"],
                           [[r.month, formats.count(r.received), formats.count(r.closed), formats.rate(r.closure_rate)]
                            for r in months.itertuples()], "表4 近12个月受理与办结"))
    for i, (by, unit) in enumerate((("town", "乡镇(街道)"), ("unit", "承办单位"))):
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
    text = f"参与排名的{unit}{len(ranked)}个（受理诉求不少于规定件数）"
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
