"""The documents' charts as PNG, drawn by matplotlib without a screen, a browser or a network
(Agg backend): the period's cases per village as a map, and the monthly trend. Chinese labels
need a CJK font: the first one matplotlib finds of CJK_FONTS; without any the chart is still
drawn (labels may show as boxes) rather than failing the document."""

from __future__ import annotations

import io
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402

# Preferred fonts, Simplified Chinese first; matplotlib reads the first face of a .ttc file, so a
# Noto CJK collection may be listed under its JP name and still carries every Chinese glyph.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "Source Han Serif SC",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "FangSong", "SimSun",
             "Noto Sans CJK JP", "Noto Serif CJK JP", "AR PL UMing CN", "AR PL UKai CN")


def cjk_font() -> str | None:
    """The first CJK_FONTS family matplotlib knows, or None."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in CJK_FONTS if f in known), None)


def _style() -> dict:
    font = cjk_font()
    rc = {"axes.unicode_minus": False, "font.size": 10}
    if font:
        rc["font.family"] = [font, "DejaVu Sans"]
    return rc


def _png(fig) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():  # a missing glyph warns; the chart is still worth having
        warnings.simplefilter("ignore")
        fig.savefig(buf, format="png", dpi=150, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buf.getvalue()


def trend(months: pd.DataFrame, title: str, series: dict[str, str] | None = None) -> bytes:
    """Lines per month: `months` has a column `month` (YYYY-MM) and the columns named by `series`
    (column -> label; default received 受理 and closed 办结)."""
    series = series or {"received": "受理", "closed": "办结"}
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(6.4, 2.9))
        x = list(range(len(months)))
        for (col, label), marker in zip(series.items(), ("o", "s", "^", "d")):
            ax.plot(x, months[col].astype(float), marker=marker, markersize=3, linewidth=1.6, label=label)
        ax.set_xticks(x, [m[2:] if isinstance(m, str) else str(m) for m in months["month"]], rotation=45, fontsize=8)
        ax.set_title(title, fontsize=11)
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False, fontsize=9, ncols=len(series))
        small = float(months[list(series)].max().max() or 0) < 20  # rates per 1,000 households: one decimal
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.1f}" if small else f"{v:,.0f}"))
        return _png(fig)


def village_map(shapes, values: pd.Series, title: str, legend: str = "诉求件数") -> bytes | None:
    """A choropleth of `values` (indexed by area code) over `shapes` (a GeoDataFrame with `code`);
    None when there are no outlines."""
    if shapes is None or len(shapes) == 0:
        return None
    gdf = shapes.copy()
    gdf["value"] = gdf["code"].map(values).fillna(0).astype(float)
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(6.4, 5.2))
        gdf.plot(column="value", ax=ax, cmap="OrRd", linewidth=0.2, edgecolor="#888888", legend=True,
                 legend_kwds={"label": legend, "shrink": 0.6})
        ax.set_axis_off()
        ax.set_title(title, fontsize=11)
        return _png(fig)
