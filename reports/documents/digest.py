"""十日信息摘报 (the ten-day information digest): header, 一、总体情况 with 环比/同比, 二、分领域,
三、分区域, 四、需关注事项, 五、下一步工作建议, a village map of the period's cases and the
trend. `document(ctx)` gathers it as a model.Document."""

from __future__ import annotations

from collections.abc import Sequence

from analysis import metrics

from . import model, periods, sections
from .context import Context, header, notes, recipients

TITLE = "十日信息摘报"


def document(ctx: Context, warnings: Sequence[sections.EarlyWarning] | None = None) -> model.Document:
    summary = metrics.case_summary(ctx.con, ctx.flt)
    doc = model.Document(header(ctx, TITLE, "digest"),
                         f"{ctx.where}{periods.label(ctx.start, ctx.end)}群众诉求情况", notes(ctx),
                         recipients=recipients())
    doc.add(*sections.overall(ctx, summary))
    doc.add(sections.trend_chart(ctx, 1))
    doc.add(*sections.categories(ctx))
    doc.add(*sections.areas(ctx))
    doc.add(sections.village_map(ctx, 2))
    blocks, facts = sections.attention(ctx, summary, warnings)
    doc.add(*blocks)
    doc.add(*sections.suggestions(ctx, summary, facts))
    return doc
