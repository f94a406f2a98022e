"""四、需关注事项's figures: new and intensifying hot spots (analysis.hotspots.emerging over the
complete months up to the period's end, as many as the setting period_default_months, from the
first case at the earliest: a ten-day period is too short for monthly bins), open and
overdue cases by handling unit (analysis.metrics), 五必去 villages without a visit in the
period (analysis.fieldwork_reach), and the early warnings at the period's end (analysis.alerts,
as the 预警 page lists them). District-wide statistics are computed over the whole district and
cut to the document's area."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from analysis import metrics
from analysis.alerts import current_alerts
from analysis.fieldwork import missing
from analysis.fieldwork_reach import must_visit_unvisited as unvisited
from analysis.hotspots import emerging
from geo.emerging import CATEGORY_LABELS

from . import periods
from .context import Context

HOT = ("new_hot", "consecutive_hot", "intensifying_hot")  # emerging hot spots: new, recent runs, intensifying


def hot_window(ctx: Context) -> tuple[dt.date, dt.date] | None:
    """The months the hot spot analysis covers: the default period's length (setting
    period_default_months) of complete months up to the period's end, from the first case at
    the earliest; None before the first complete month."""
    end = periods.recent_months(ctx.end, 1)[0][1]
    window = metrics.default_period(ctx.con, end)
    return window if window and window[0] <= window[1] else None


def window_months(window: tuple[dt.date, dt.date]) -> int:
    """How many calendar months a window touches."""
    return (window[1].year - window[0].year) * 12 + window[1].month - window[0].month + 1


def hot_spots(ctx: Context, window: tuple[dt.date, dt.date] | None) -> dict[str, list[str]]:
    """{'新增热点': ['大河镇新村', ...], '加剧热点': [...]} of villages in the document's area, over
    `window` (hot_window(ctx))."""
    if window is None:
        return {}
    flt = dataclasses.replace(ctx.flt.without_area(), start=window[0], end=window[1])
    cats, _bins = emerging(ctx.con, flt, level="village")
    if cats.empty:
        return {}
    prefix = ctx.flt.area_prefix or ctx.visible
    cats = cats[cats["area_code"].str.startswith(prefix) & cats["category"].isin(HOT)]
    towns = dict(ctx.con.execute("SELECT code, name FROM areas WHERE level = 'town'").fetchall())
    out = {}
    for key in HOT:
        rows = cats[cats["category"] == key].sort_values("area_code")
        if len(rows):
            out[CATEGORY_LABELS[key]] = [f"{towns.get(c[:9], '')}{n}" for c, n in zip(rows["area_code"], rows["name"])]
    return out


def overdue_by_unit(ctx: Context) -> pd.DataFrame:
    """Handling units with overdue cases at the period's end: handling_unit, open, overdue; most overdue first."""
    df = metrics.case_metrics_by(ctx.con, ctx.flt, "unit", measures=["open", "overdue"])
    df = df[df["overdue"] > 0]
    return df.sort_values(["overdue", "open", "handling_unit"], ascending=[False, False, True]).reset_index(drop=True)


def must_visit_unvisited(ctx: Context) -> pd.DataFrame | None:
    """五必去 villages of the area without a visit in the period; None when no visits are loaded."""
    if "visits" in missing(ctx.con):
        return None
    return unvisited(ctx.con, ctx.flt)


WARNINGS_LISTED = 10  # warnings named one by one; the rest are counted and left to the 预警 page


def early_warnings(ctx: Context) -> tuple[list[tuple[str, str]], int]:
    """The warnings at the period's end in the document's area, ranked as the 预警 page ranks
    them: ([(title, why), ...] of the first WARNINGS_LISTED, how many there are in all)."""
    items = current_alerts(ctx.con, ctx.flt.area_prefix or ctx.visible, as_of=ctx.end)
    return [(f"【{a.kind_label}】{a.title}", a.why) for a in items[:WARNINGS_LISTED]], len(items)
