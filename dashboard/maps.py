"""folium maps for the dashboard, drawn with no base map and no CDN (intranet-ready).

Colours come from `style_function` and legends are plain HTML (a branca colormap
would pull d3 from the internet; see dashboard/offline.py). Text put into
tooltips is HTML-escaped here (folium inserts it unescaped).
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import numpy as np

from .offline import localize

# Sequential palette (ColorBrewer YlOrRd, 6 classes) for counts.
PALETTE = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"]
NO_DATA = "#f0f0f0"


def choropleth(gdf: gpd.GeoDataFrame, value: str, label: str, bounds, tooltip: dict[str, str],
               caption: str = "") -> folium.Map:
    """Areas coloured by `value` in quantile classes, with a legend and tooltips.

    `tooltip` maps column -> Chinese label. `bounds` is [[south, west], [north, east]].
    """
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, zoom_snap=0.25)
    breaks = class_breaks(gdf[value].to_numpy(dtype=float))
    gdf = gdf.assign(_fill=[_colour(v, breaks) for v in gdf[value].to_numpy(dtype=float)])
    for col in tooltip:  # folium inserts tooltip text unescaped: escape every text field here
        if gdf[col].dtype == object or str(gdf[col].dtype).startswith("str"):
            gdf[col] = gdf[col].fillna("").astype(str).map(html.escape)
    folium.GeoJson(
        gdf[[*tooltip, "_fill", "geometry"]].to_json(drop_id=True),
        name=label,
        style_function=_style,
        highlight_function=lambda f: {"weight": 2.5, "color": "#08306b"},
        tooltip=folium.GeoJsonTooltip(fields=list(tooltip), aliases=list(tooltip.values()), localize=True, sticky=True),
    ).add_to(m)
    m.get_root().html.add_child(folium.Element(legend_html(label, breaks, caption)))
    if bounds:
        m.fit_bounds(bounds)
    return localize(m)


def class_breaks(values: np.ndarray, k: int = 6) -> list[float]:
    """Upper bounds of up to `k` quantile classes of the positive values (zeros form their own class)."""
    pos = values[values > 0]
    if len(pos) == 0:
        return []
    qs = np.unique(np.quantile(pos, np.linspace(0, 1, k + 1)[1:], method="higher"))
    return [float(q) for q in qs]


def legend_html(title: str, breaks: list[float], caption: str = "") -> str:
    """Legend rows for the classes of `class_breaks`: 0, then (previous, upper] for each class."""
    rows = [f'<div><span style="background:{NO_DATA}"></span>0</div>']
    lo = 0.0
    integral = all(float(b).is_integer() for b in breaks)
    for i, hi in enumerate(breaks):
        colour = PALETTE[min(i, len(PALETTE) - 1)]
        if integral:
            first = lo + 1
            label = _fmt(hi) if first == hi else f"{_fmt(first)}–{_fmt(hi)}"
        else:
            label = f"{_fmt(lo)}–{_fmt(hi)}"
        rows.append(f'<div><span style="background:{colour}"></span>{label}</div>')
        lo = hi
    cap = f'<div class="cap">{html.escape(caption)}</div>' if caption else ""
    return (
        '<style>.mq-legend{position:absolute;bottom:24px;right:12px;z-index:1000;background:#fff;padding:8px 10px;'
        'border:1px solid #bbb;border-radius:4px;font:12px/1.5 "Noto Sans CJK SC","Microsoft YaHei",sans-serif}'
        '.mq-legend span{display:inline-block;width:14px;height:12px;margin-right:6px;border:1px solid #999;vertical-align:middle}'
        '.mq-legend .cap{color:#b00;margin-top:4px}</style>'
        f'<div class="mq-legend"><b>{html.escape(title)}</b>{"".join(rows)}{cap}</div>'
    )


def _colour(v: float, breaks: list[float]) -> str:
    if not v or v <= 0 or not breaks:
        return NO_DATA
    for i, hi in enumerate(breaks):
        if v <= hi:
            return PALETTE[min(i, len(PALETTE) - 1)]
    return PALETTE[-1]


def _style(feature: dict) -> dict:
    return {"fillColor": feature["properties"]["_fill"], "fillOpacity": 0.8, "color": "#555", "weight": 0.6}


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 or float(x).is_integer() else f"{x:.1f}"
