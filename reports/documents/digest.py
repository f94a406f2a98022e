"""十日信息摘报 (the ten-day information digest): header, 一、总体情况 with 环比 (against the
previous 旬) and 同比, 二、分领域, 三、分区域, 四、需关注事项, 五、下一步工作建议, a village map of
the period's cases and the trend. `document(ctx)` gathers it as a model.Document."""

from __future__ import annotations

from collections.abc import Sequence

from . import model, sections
from .context import Context

TITLE = "十日信息摘报"


def document(ctx: Context, warnings: Sequence[sections.EarlyWarning] | None = None) -> model.Document:
    return sections.briefing(ctx, TITLE, "群众诉求情况", warnings)
