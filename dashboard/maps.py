"""folium maps for the dashboard, drawn with no base map and no CDN (intranet-ready).

Colours are a property of each feature read by the layer's style in the browser, and
legends are plain HTML (a branca colormap would pull d3 from the internet; see
dashboard/offline.py). Text put into tooltips is HTML-escaped here (folium inserts it
unescaped).

Large or ledger-derived text (a layer's GeoJSON, legends) goes into the page through `Raw`:
branca wraps every rendered script in a Jinja template and compiles it again, which costs
about 40 ms for a district's villages and would evaluate '{{ ... }}' inside a name.
"""

from __future__ import annotations

import html

import branca.element
import folium
import folium.plugins
from folium.utilities import get_obj_in_upper_tree
from folium.template import Template
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from etl import settings
from geo.datum import wgs84_to_gcj02

from . import classes
from .offline import localize

BASEMAPS = ("none", "osm", "tianditu", "amap")

# Sequential palette (ColorBrewer YlOrRd, 6 classes) for counts, lightest to darkest. With fewer
# classes the colours are spread over it (`class_colours`), so the top class is always the darkest.
PALETTE = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"]
NO_DATA = "#f0f0f0"


def choropleth(gdf: gpd.GeoDataFrame, value: str, label: str, bounds, tooltip: dict[str, str],
               caption: str = "") -> folium.Map:
    """Areas coloured by `value` in quantile classes (dashboard/classes.py), with a legend and tooltips.

    `tooltip` maps column -> Chinese label. `bounds` is [[south, west], [north, east]].
    """
    values = gdf[value].to_numpy(dtype=float)
    d = classes.decimals(values)
    breaks = classes.class_breaks(values)
    fills = [_colour(v, breaks, d) for v in values]
    m = _filled_map(gdf, fills, label, tooltip)
    pos = classes.rounded(values, d)
    smallest = float(pos[pos > 0].min()) if (pos > 0).any() else None
    m.get_root().html.add_child(Raw(legend_html(label, breaks, caption, d, smallest)))
    fit(m, bounds)
    return localize(m)


class_breaks = classes.class_breaks


def class_colours(k: int) -> list[str]:
    """Colours of `k` classes, lowest first: spread evenly over PALETTE from its lightest to its
    darkest, so the highest class always gets the darkest (most saturated) colour."""
    last = len(PALETTE) - 1
    return [PALETTE[round(i * last / (k - 1)) if k > 1 else last] for i in range(k)]


def legend_html(title: str, breaks: list[float], caption: str = "", decimals: int | None = None,
                smallest: float | None = None) -> str:
    """Legend rows for the classes of `class_breaks`: 0, then each class (classes.labels), in
    the colours of class_colours."""
    names = classes.labels(breaks, decimals, smallest)
    rows = [f'<div><span style="background:{NO_DATA}"></span>{names[0]}</div>']
    for name, colour in zip(names[1:], class_colours(len(names) - 1)):
        rows.append(f'<div><span style="background:{colour}"></span>{name}</div>')
    return _legend(title, "".join(rows), caption)


def _colour(v: float, breaks: list[float], d: int | None = None) -> str:
    i = classes.class_of(v, breaks, classes.MAX_DECIMALS if d is None else d)
    return NO_DATA if i is None else class_colours(len(breaks))[min(i, len(breaks) - 1)]


def _legend(title: str, body: str, caption: str) -> str:
    """The legend box in the map's corner around `body` (rows of HTML); title and caption escaped."""
    cap = f'<div class="cap">{html.escape(caption)}</div>' if caption else ""
    return (
        '<style>.mq-legend{position:absolute;bottom:24px;right:12px;z-index:1000;background:#fff;padding:8px 10px;'
        'border:1px solid #bbb;border-radius:4px;font:12px/1.5 "Noto Sans CJK SC","Microsoft YaHei",sans-serif}'
        '.mq-legend span{display:inline-block;width:14px;height:12px;margin-right:6px;border:1px solid #999;vertical-align:middle}'
        '.mq-legend .cap{color:#b00;margin-top:4px}</style>'
        f'<div class="mq-legend"><b>{html.escape(title)}</b>{body}{cap}</div>'
    )


def base_map(basemap: str | None = None) -> folium.Map:
    """An empty map on the configured base map (setting `map_basemap`): none (a plain
    background, works without internet), osm, tianditu (needs `map_tianditu_key`) or amap.
    For amap, whose tiles are in GCJ-02, draw data through `to_basemap` so it lines up."""
    basemap = basemap or str(settings.get("map_basemap"))
    if basemap not in BASEMAPS:
        raise ValueError(f"unknown base map {basemap!r}; expected one of {', '.join(BASEMAPS)}")
    m = folium.Map(tiles=None, control_scale=False, prefer_canvas=False, zoom_snap=0.25, maxZoom=18)
    _MapControls().add_to(m)
    if basemap == "osm":
        folium.TileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", attr="© OpenStreetMap contributors",
                         name="OpenStreetMap", max_zoom=18).add_to(m)
    elif basemap == "tianditu":
        key = str(settings.get("map_tianditu_key"))
        if not key:
            raise ValueError("map_basemap=tianditu needs a key: set MINQING_MAP_TIANDITU_KEY")
        for layer in ("vec", "cva"):  # roads and places, then their Chinese labels
            folium.TileLayer(
                f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
                f"&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}",
                attr="天地图 © 国家地理信息公共服务平台", name=f"天地图 {layer}", subdomains="01234567", max_zoom=18,
                overlay=layer == "cva").add_to(m)
    elif basemap == "amap":
        folium.TileLayer("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                         attr="© 高德地图 AutoNavi", name="高德地图", subdomains="1234", max_zoom=18).add_to(m)
    return m


ATTRIBUTION = "区划: 国家统计局统计用区划代码"


class _MapControls(branca.element.MacroElement):
    """A metric-only scale bar (Leaflet's default adds miles and feet) and an attribution naming
    the data source only (without Leaflet's prefix: its flag and link)."""

    _template = Template("""{% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {{ this._parent.get_name() }}.attributionControl.setPrefix(false);
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
    {% endmacro %}""")

    def __init__(self, text: str = ATTRIBUTION) -> None:
        super().__init__()
        self._name = "MapControls"
        self.text = text


def to_basemap(obj, basemap: str | None = None):
    """Shift WGS-84 geometries (a GeoDataFrame, a shapely geometry) or [[lat, lon], ...] bounds
    to the base map's datum: GCJ-02 for amap, unchanged otherwise."""
    if (basemap or str(settings.get("map_basemap"))) != "amap" or obj is None:
        return obj
    if isinstance(obj, list):
        lon, lat = wgs84_to_gcj02(np.array([p[1] for p in obj]), np.array([p[0] for p in obj]))
        return [[float(a), float(o)] for a, o in zip(lat, lon)]

    def shift(xy):
        x, y = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    if isinstance(obj, gpd.GeoDataFrame):
        return obj.set_geometry(shapely.transform(obj.geometry.to_numpy(), shift))
    return shapely.transform(obj, shift)


def fit(m: folium.Map, bounds) -> None:
    """Zoom the map to [[south, west], [north, east]] (in WGS-84), shifted like the data."""
    if bounds:
        m.fit_bounds(to_basemap(bounds))


def _filled_map(gdf: gpd.GeoDataFrame, fills: list[str], name: str, tooltip: dict[str, str]) -> folium.Map:
    """A folium map (see `base_map`) with the areas filled in `fills` and escaped tooltips;
    each feature carries its `code` so a click can drill into the area."""
    m = base_map()
    if len(gdf) > int(settings.get("map_max_villages_tooltip")):
        tooltip = {}  # a province's villages: the tooltip text would outweigh the shapes
    gdf = _escape(to_basemap(gdf).assign(_fill=fills), tooltip)
    props = [*tooltip, "_fill", *(["code"] if "code" in gdf.columns and "code" not in tooltip else [])]
    _GeoJson(
        feature_collection(gdf, props),
        props,
        bounds=_bounds(gdf),
        name=name,
        tooltip=folium.GeoJsonTooltip(fields=list(tooltip), aliases=list(tooltip.values()), localize=True, sticky=True)
        if tooltip else None,
    ).add_to(m)
    return m


class Raw(branca.element.Element):
    """Text put into the page as it is (branca's Element compiles its text as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


# Styles evaluated in the browser for each feature: the fill colour is the feature's `_fill`.
_STYLE_JS = '{"fillColor": feature.properties._fill, "fillOpacity": 0.8, "color": "#555", "weight": 0.6}'
_HIGHLIGHT_JS = '{"weight": 2.5, "color": "#08306b"}'
_TOJSON = Template("{{ this|tojson }}")  # the data as folium's template writes it


class _GeoJson(folium.GeoJson):
    """folium.GeoJson for a FeatureCollection given as HTML-safe JSON text (see `feature_collection`),
    styled by the `_fill` property in the browser, with its bounds given.

    folium would parse the text, call a Python style function per feature, write a switch over
    every feature id into the page, walk every coordinate for the bounds (st_folium asks on
    every run), dump the data again and compile the script as a template: together about
    two thirds of a filter change on the village map."""

    def __init__(self, text: str, props: list[str], *, bounds=None, **kwargs):
        # folium sees one empty feature with the properties (its tooltip checks their names);
        # the script gets the real features in its place (st_folium calls the script macro itself)
        stub = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {p: "" for p in props}, "geometry": None}]}
        super().__init__(stub, style_function=_style, highlight_function=_style, **kwargs)
        self.geojson = text
        self._template = _ScriptWithData(type(self)._template, _TOJSON.render(this=stub), text)
        self._known_bounds = bounds

    def _get_self_bounds(self):
        return self._known_bounds

    def render(self, **kwargs):
        # folium.GeoJson.render, folium's Layer.render and branca's MacroElement.render in one,
        # with the styles as JavaScript and the script put in as text
        self.parent_map = get_obj_in_upper_tree(self, folium.Map)
        self.style_map, self.highlight_map = {"default": _STYLE_JS}, {"default": _HIGHLIGHT_JS}
        if self.show:
            self.add_child(folium.map.ElementAddToElement(element_name=self.get_name(),
                                                          element_parent_name=self._parent.get_name()),
                           name=self.get_name() + "_add")
        self.get_root().script.add_child(Raw(self._template.module.script(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class _ScriptWithData:
    """Stands in for a layer's template: its `module.script(this, kwargs)` is folium's with the
    placeholder data replaced by the real GeoJSON text."""

    def __init__(self, template, placeholder: str, text: str) -> None:
        self.template, self.placeholder, self.text = template, placeholder, text
        self.module = self

    def script(self, this, kwargs=None) -> str:
        out = self.template.module.script(this, kwargs or {})
        if self.placeholder not in out:
            raise RuntimeError("folium's GeoJson template changed: the data placeholder is missing")
        return out.replace(self.placeholder, self.text, 1)


def feature_collection(gdf: gpd.GeoDataFrame, props: list[str]) -> str:
    """The GeoJSON FeatureCollection of `gdf` with the columns `props` as properties, as text safe
    inside a <script> (<, >, & and ' escaped as in Jinja's tojson), built with shapely's
    vectorised GeoJSON writer (geopandas' to_json walks the rows in Python)."""
    import json

    geoms = shapely.to_geojson(gdf.geometry.to_numpy())
    columns = [[None if _missing(v) else v for v in gdf[p].to_numpy(dtype=object)] for p in props]
    features = ",".join(
        f'{{"type":"Feature","properties":{json.dumps(dict(zip(props, values)), ensure_ascii=False, default=_plain)},'
        f'"geometry":{g}}}' for values, g in zip(zip(*columns), geoms))
    text = f'{{"type":"FeatureCollection","features":[{features}]}}'
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")


def _missing(v) -> bool:
    """None, NaN, pd.NA or NaT: written as null."""
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)


def _plain(v):
    """numpy scalars and the like, for json.dumps."""
    return v.item() if hasattr(v, "item") else str(v)


def _bounds(gdf: gpd.GeoDataFrame):
    """[[south, west], [north, east]] of the (non-empty) geometries, None when there are none."""
    if gdf.empty or gdf.geometry.is_empty.all():
        return None
    x0, y0, x1, y1 = gdf.total_bounds
    return [[float(y0), float(x0)], [float(y1), float(x1)]]


def _style(feature: dict) -> dict:
    return {"fillColor": feature["properties"]["_fill"], "fillOpacity": 0.8, "color": "#555", "weight": 0.6}


def categorical(gdf: gpd.GeoDataFrame, column: str, classes: dict[str, tuple[str, str]], title: str, bounds,
                tooltip: dict[str, str], caption: str = "", other: tuple[str, str] = ("无数据", NO_DATA),
                outlines: gpd.GeoDataFrame | None = None) -> folium.Map:
    """Areas coloured by the class in `column`, with a legend listing the classes present.

    `classes` maps class key -> (Chinese label, colour), in legend order; keys not in it
    are drawn with `other`. `tooltip` maps column -> Chinese label (text is HTML-escaped).
    `outlines` (e.g. towns) are drawn on top as thin lines, for orientation.
    """
    keys = gdf[column].astype(object).where(gdf[column].notna(), None)
    fills = [classes.get(k, other)[1] if isinstance(k, str) else other[1] for k in keys]
    m = _filled_map(gdf, fills, title, tooltip)
    if outlines is not None and len(outlines):
        add_outlines(m, outlines)
    present = set(k for k in keys if isinstance(k, str))
    rows = [(label, colour, int((keys == k).sum())) for k, (label, colour) in classes.items() if k in present]
    n_other = int(sum(1 for k in keys if k not in classes))
    if n_other:
        rows.append((other[0], other[1], n_other))
    m.get_root().html.add_child(Raw(category_legend_html(title, rows, caption)))
    fit(m, bounds)
    return localize(m)


def category_legend_html(title: str, rows: list[tuple[str, str, int]], caption: str = "") -> str:
    """Legend of (label, colour, count) rows; labels are escaped."""
    body = "".join(f'<div><span style="background:{html.escape(c)}"></span>{html.escape(label)} ({n:,})</div>'
                   for label, c, n in rows)
    return _legend(title, body, caption)


def _escape(gdf: gpd.GeoDataFrame, tooltip: dict[str, str]) -> gpd.GeoDataFrame:
    """Escape every text column shown in a tooltip (folium inserts tooltip text unescaped)."""
    gdf = gdf.copy()
    for col in tooltip:
        if gdf[col].dtype == object or str(gdf[col].dtype).startswith("str"):
            gdf[col] = gdf[col].fillna("").astype(str).map(html.escape)
    return gdf


def add_outlines(m: folium.Map, gdf: gpd.GeoDataFrame, name: str = "乡镇(街道)界") -> None:
    """Draw the outlines (geometry only) of `gdf` as thin dark lines with no fill and no
    tooltip, so they neither hide nor catch the clicks of the layer below."""
    gdf = to_basemap(gdf)
    folium.GeoJson(
        gdf[["geometry"]].to_json(drop_id=True),
        name=name,
        style_function=lambda f: {"fill": False, "color": "#333", "weight": 1.2, "opacity": 0.7},
        interactive=False,
        control=False,
    ).add_to(m)


SELECTED_CLASS = "mq-selected"  # the class of the selected area's outline paths (with mq-area-<code>)


def highlight(m: folium.Map, gdf: gpd.GeoDataFrame, name: str = "所选区域") -> None:
    """Outline the selected area(s) of `gdf` (code, geometry) thick and dark on top, with no fill
    and not clickable (clicks reach the layer below)."""
    if gdf.empty:
        return
    classes = " ".join([SELECTED_CLASS, *(f"mq-area-{c}" for c in gdf["code"])])
    folium.GeoJson(to_basemap(gdf)[["geometry"]].to_json(drop_id=True), name=name, interactive=False, control=False,
                   className=classes,  # Leaflet gives each path the GeoJSON layer's options
                   style_function=lambda f: {"fill": False, "color": "#08306b", "weight": 4, "opacity": 1}).add_to(m)


# Leaflet.heat's default gradient (folium.plugins.HeatMap), drawn in the legend too.
HEAT_GRADIENT = {0.4: "blue", 0.6: "cyan", 0.7: "lime", 0.8: "yellow", 1.0: "red"}


def heat(points, bounds, title: str, caption: str = "", outlines: gpd.GeoDataFrame | None = None,
         radius: int = 9, blur: int = 12) -> folium.Map:
    """A heat map of weighted points (a DataFrame with `lat`, `lon` in WGS-84 and `weight`),
    with optional outlines for orientation and a legend explaining the colours.

    Leaflet.heat sums the weights of the points near each pixel and scales the colours to the
    densest place in view, so colours are relative: the legend says so."""
    m = base_map()
    if outlines is not None and len(outlines):
        add_outlines(m, outlines)
    lat = points["lat"].to_numpy(dtype=float)
    lon = points["lon"].to_numpy(dtype=float)
    if str(settings.get("map_basemap")) == "amap":
        lon, lat = wgs84_to_gcj02(lon, lat)
    data = np.column_stack([np.round(lat, 6), np.round(lon, 6), points["weight"].to_numpy(dtype=float)])
    folium.plugins.HeatMap(data.tolist(), name=title, radius=radius, blur=blur, min_opacity=0.35,
                           gradient=HEAT_GRADIENT, control=False).add_to(m)
    m.get_root().html.add_child(Raw(heat_legend_html(title, caption)))
    fit(m, bounds)
    return localize(m)


def heat_legend_html(title: str, caption: str = "") -> str:
    """Legend of the heat map: its colour ramp from sparse to dense (relative to the view)."""
    stops = ", ".join(f"{c} {int(k * 100)}%" for k, c in sorted(HEAT_GRADIENT.items()))
    body = (f'<div style="width:150px;height:10px;margin:4px 0 2px;background:linear-gradient(to right, '
            f'rgba(0,0,255,0.25) 0%, {stops})"></div>'
            '<div style="display:flex;justify-content:space-between;width:150px"><small>稀</small><small>密</small></div>'
            '<div><small>颜色相对于当前视野中最密处</small></div>')
    return _legend(title, body, caption)


def hex_polygons(cells) -> np.ndarray:
    """Shapely polygons (lon/lat, WGS-84, coordinates to 1e-6 degree) of H3 cells (hex strings, h3 4.x),
    built in batches of equal vertex count (a cell across an icosahedron edge has more than 6)."""
    import h3

    rings = [h3.cell_to_boundary(c) for c in cells]  # ((lat, lng), ...)
    out = np.empty(len(rings), dtype=object)
    by_size: dict[int, list[int]] = {}
    for i, ring in enumerate(rings):
        by_size.setdefault(len(ring), []).append(i)
    for idx in by_size.values():
        latlng = np.array([rings[i] for i in idx], dtype=float)
        out[idx] = shapely.polygons(latlng[:, :, ::-1].round(6))
    return out


# Gi* classes: hot reds, cold blues, not significant grey (ColorBrewer RdBu).
GI_COLOURS = {"hot_99": "#b2182b", "hot_95": "#ef8a62", "hot_90": "#fddbc7",
              "cold_99": "#2166ac", "cold_95": "#67a9cf", "cold_90": "#d1e5f0", "not_significant": "#e0e0e0"}
LISA_COLOURS = {"HH": "#d7191c", "LL": "#2c7bb6", "HL": "#fdae61", "LH": "#abd9e9", "not_significant": "#e0e0e0"}
EMERGING_COLOURS = {
    "new_hot": "#67000d", "consecutive_hot": "#a50f15", "intensifying_hot": "#cb181d", "persistent_hot": "#ef3b2c",
    "diminishing_hot": "#fb6a4a", "sporadic_hot": "#fc9272", "oscillating_hot": "#fcbba1", "historical_hot": "#fee0d2",
    "new_cold": "#08306b", "consecutive_cold": "#08519c", "intensifying_cold": "#2171b5", "persistent_cold": "#4292c6",
    "diminishing_cold": "#6baed6", "sporadic_cold": "#9ecae1", "oscillating_cold": "#c6dbef", "historical_cold": "#deebf7",
    "no_pattern": "#e0e0e0",
}
