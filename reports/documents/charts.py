"""The documents' charts as PNG, drawn by matplotlib without a screen, a browser or a network
(Agg, through matplotlib's object API rather than pyplot, so that two documents built at once
by the dashboard's threads do not share a current figure or changed rcParams): the period's
cases per village as a map, and the monthly trend. Chinese labels need a CJK font: the first
one matplotlib finds of CJK_FONTS; without any the chart is still drawn (labels may show as
boxes) rather than failing the document."""

from __future__ import annotations

import functools
import io
import warnings

import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

# Preferred fonts, Simplified Chinese first; matplotlib reads the first face of a .ttc file, so a
# Noto CJK collection may be listed under its JP name and still carries every Chinese glyph.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "Source Han Serif SC",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "FangSong", "SimSun",
             "Noto Sans CJK JP", "Noto Serif CJK JP", "AR PL UMing CN", "AR PL UKai CN")


def cjk_font() -> str | None:
    """The first CJK_FONTS family matplotlib knows, or None."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in CJK_FONTS if f in known), None)


@functools.lru_cache(maxsize=4)
def _props(size: float, font: str | None) -> font_manager.FontProperties:
    return font_manager.FontProperties(family=[font, "DejaVu Sans"] if font else ["DejaVu Sans"], size=size)


def _font(size: float = 9) -> font_manager.FontProperties:
    return _props(size, cjk_font())


def _figure(width: float, height: float):
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _png(fig) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():  # a missing glyph warns; the chart is still worth having
        warnings.simplefilter("ignore")
        fig.savefig(buf, format="png", dpi=150, bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def _numbers(small: bool):
    """Tick labels with thousands separators ('1,200'), one decimal for small values (rates per 1,000);
    '-' for negatives (never the Unicode minus a CJK font may lack)."""
    return FuncFormatter(lambda v, _: f"{v:,.1f}" if small else f"{v:,.0f}")


def trend(months: pd.DataFrame, title: str, series: dict[str, str] | None = None) -> bytes:
    """Lines per month: `months` has a column `month` (YYYY-MM) and the columns named by `series`
    (column -> label; default received 受理 and closed 办结)."""
    series = series or {"received": "受理", "closed": "办结"}
    fig, ax = _figure(6.4, 2.9)
    x = list(range(len(months)))
    for (col, label), marker in zip(series.items(), ("o", "s", "^", "d")):
        ax.plot(x, months[col].astype(float), marker=marker, markersize=3, linewidth=1.6, label=label)
    ax.set_xticks(x, [m[2:] if isinstance(m, str) else str(m) for m in months["month"]], rotation=45)
    for tick in ax.get_xticklabels() + ax.get_yticklabels():
        tick.set_fontproperties(_font(8))
    ax.set_title(title, fontproperties=_font(11))
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, prop=_font(9), ncols=len(series))
    small = float(months[list(series)].max().max() or 0) < 20  # rates per 1,000 households: one decimal
    ax.yaxis.set_major_formatter(_numbers(small))
    return _png(fig)


def village_map(shapes, values: pd.Series, title: str, legend: str = "诉求件数") -> bytes | None:
    """A choropleth of `values` (indexed by area code) over `shapes` (a GeoDataFrame with `code`);
    None when there are no outlines."""
    if shapes is None or len(shapes) == 0:
        return None
    gdf = shapes.copy()
    gdf["value"] = gdf["code"].map(values).fillna(0).astype(float)
    fig, ax = _figure(6.4, 5.2)
    gdf.plot(column="value", ax=ax, cmap="OrRd", linewidth=0.2, edgecolor="#888888", legend=True,
             legend_kwds={"shrink": 0.6})
    ax.set_axis_off()
    ax.set_title(title, fontproperties=_font(11))
    bar = fig.axes[-1]  # the colour bar geopandas added
    bar.set_ylabel(legend, fontproperties=_font(9))
    bar.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: whole numbers
    bar.yaxis.set_major_formatter(_numbers(False))
    return _png(fig)


