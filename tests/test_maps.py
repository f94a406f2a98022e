"""Maps escape ledger text, colour by quantile classes and need no internet."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from dashboard import maps
from dashboard.offline import asset_links


def _areas(names, values):
    geoms = [shapely.box(109 + i * 0.01, 32.6, 109.01 + i * 0.01, 32.61) for i in range(len(names))]
    return gpd.GeoDataFrame({"name": names, "cases": values}, geometry=geoms, crs="EPSG:4326")


def test_tooltip_text_from_ledgers_is_escaped():
    m = maps.choropleth(_areas(["<script>alert(1)</script>", "A&B村"], [3, 0]), "cases", "诉求件数",
                        [[32.6, 109], [32.61, 109.02]], {"name": "村(社区)", "cases": "诉求件数"})
    html = m.get_root().render()
    assert "<script>alert(1)</script>" not in html
    # the escaped text travels inside JSON, where folium writes "&" as \u0026
    js = html.replace("\\u0026", "&")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in js
    assert "A&amp;B" in js


def test_ledger_text_is_never_evaluated_as_a_template():
    """branca compiles rendered scripts as Jinja templates: '{{ 7*7 }}' in an area's name must
    reach the browser as written, in the page and in what st_folium sends."""
    from streamlit_folium import _get_map_string

    m = maps.choropleth(_areas(["{{ 7*7 }}村", "乙村"], [3, 1]), "cases", "{{ 6*7 }}件",
                        [[32.6, 109], [32.61, 109.02]], {"name": "村(社区)"}, caption="{{ 5*5 }}")
    page = m.get_root().render()
    script = _get_map_string(m)
    for text in (page, script):
        assert "{{ 7*7 }}村" in text and "49村" not in text
    assert "{{ 6*7 }}件" in page and "{{ 5*5 }}" in page and "42件" not in page


def test_map_links_only_local_assets():
    m = maps.choropleth(_areas(["甲村"], [1]), "cases", "诉求件数", None, {"name": "村(社区)"})
    css, js = asset_links(m)
    assert css and js
    assert all(u.startswith("/app/static/vendor/") for u in css + js)


def test_class_breaks_are_quantiles_of_positive_values():
    values = np.array([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100], dtype=float)
    breaks = maps.class_breaks(values)
    assert breaks[-1] == 100 and breaks == sorted(breaks)
    pos = values[values > 0]
    # each class holds roughly a sixth of the positive values
    counts = np.histogram(pos, bins=[0, *breaks])[0]
    assert counts.max() - counts.min() <= 2
    assert maps._colour(0, breaks) == maps.NO_DATA and maps._colour(100, breaks) == maps.PALETTE[-1]


def _luminance(colour: str) -> float:
    """WCAG relative luminance of '#rrggbb' (lower is darker)."""
    c = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _saturation(colour: str) -> float:
    """HSV saturation of '#rrggbb'."""
    c = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return (max(c) - min(c)) / max(c)


def test_the_top_class_gets_the_darkest_most_saturated_colour_whatever_the_number_of_classes():
    """Few distinct values (a score of 2, 3, 4 or 6) make few classes; the highest must still be
    the darkest and most saturated colour, and each class darker than the one below."""
    for values in ([0, 2, 2, 3, 4, 6, 6], [0, 1, 1, 2], [5, 5], list(range(0, 40))):
        breaks = maps.class_breaks(np.array(values, dtype=float))
        colours = [maps._colour(b, breaks) for b in breaks]
        lum = [_luminance(c) for c in colours]
        assert lum == sorted(lum, reverse=True) and len(set(colours)) == len(colours), (values, colours)
        top = maps._colour(max(values), breaks)
        assert top == maps.PALETTE[-1]
        assert _luminance(top) == min(_luminance(c) for c in maps.PALETTE)
        assert _saturation(top) == max(_saturation(c) for c in maps.PALETTE)
        legend = maps.legend_html("分数", breaks)
        assert legend.rindex(top) > max(legend.index(c) for c in colours[:-1]) if len(colours) > 1 else top in legend


def test_no_cases_anywhere_gives_an_all_grey_map_with_a_legend():
    assert maps.class_breaks(np.zeros(5)) == []
    assert "0" in maps.legend_html("诉求件数", [])


def test_categorical_map_colours_by_class_escapes_text_and_lists_present_classes():
    from geo.getis_ord import CLASS_LABELS

    gdf = _areas(["<img src=x onerror=alert(1)>", "乙村", "丙村"], [5, 1, 0])
    gdf["class"] = ["hot_99", "not_significant", None]
    gdf["label"] = gdf["class"].map(CLASS_LABELS).fillna("无数据")
    classes = {k: (CLASS_LABELS[k], maps.GI_COLOURS[k]) for k in CLASS_LABELS}
    m = maps.categorical(gdf, "class", classes, "Gi* 热点分析", None, {"name": "村(社区)", "label": "分类"})
    html = m.get_root().render()
    assert "<img src=x onerror=alert(1)>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html.replace("\\u0026", "&")
    # the legend lists the classes present with their counts, and the areas without data
    assert "热点 (99%置信) (1)" in html and "不显著 (1)" in html and "无数据 (1)" in html
    assert "冷点" not in html.split("mq-legend")[-1]
    assert maps.GI_COLOURS["hot_99"] in html and maps.NO_DATA in html
    css, js = asset_links(m)
    assert all(u.startswith("/app/static/vendor/") for u in css + js)


def test_every_hotspot_class_has_a_colour():
    from geo.emerging import CATEGORY_LABELS
    from geo.getis_ord import CLASS_LABELS
    from geo.moran import LISA_LABELS

    assert set(maps.GI_COLOURS) == set(CLASS_LABELS)
    assert set(maps.LISA_COLOURS) == set(LISA_LABELS)
    assert set(maps.EMERGING_COLOURS) == set(CATEGORY_LABELS)
    assert maps.GI_COLOURS["hot_99"] != maps.GI_COLOURS["cold_99"]


def _heat_data(m) -> list[list[float]]:
    import json
    import re

    found = re.search(r"L\.heatLayer\(\s*(\[\[.*?\]\])\s*,", m.get_root().render(), re.S)
    assert found
    return json.loads(found.group(1))


def test_heat_map_carries_the_weighted_points_a_legend_and_local_scripts_only():
    import pandas as pd

    pts = pd.DataFrame({"lat": [32.68, 32.69, 32.70], "lon": [109.01, 109.02, 109.03], "weight": [5, 1, 2]})
    m = maps.heat(pts, [[32.6, 108.9], [32.8, 109.1]], "诉求热力图", "边界为演示数据",
                  outlines=_areas(["<b>甲镇</b>"], [0]))
    assert _heat_data(m) == [[32.68, 109.01, 5.0], [32.69, 109.02, 1.0], [32.70, 109.03, 2.0]]
    html = m.get_root().render()
    assert "mq-legend" in html and "诉求热力图" in html and "稀" in html and "密" in html
    assert "<b>甲镇</b>" not in html  # outlines carry no text at all
    css, js = asset_links(m)
    assert "/app/static/vendor/leaflet.heat-folium-0.20.0/leaflet_heat.min.js" in js
    assert all(u.startswith("/app/static/vendor/") for u in css + js)


def test_heat_points_follow_the_amap_datum(monkeypatch):
    import pandas as pd

    from geo.datum import wgs84_to_gcj02

    pts = pd.DataFrame({"lat": [32.68], "lon": [109.01], "weight": [3]})
    monkeypatch.setenv("MINQING_MAP_BASEMAP", "amap")
    lat, lon, w = _heat_data(maps.heat(pts, None, "诉求热力图"))[0]
    x, y = wgs84_to_gcj02(np.array([109.01]), np.array([32.68]))
    assert (lat, lon, w) == (round(float(y[0]), 6), round(float(x[0]), 6), 3.0)
    assert abs(lon - 109.01) > 1e-4  # GCJ-02 is hundreds of metres off in Shaanxi


def test_hex_polygons_are_the_h3_cells():
    import h3

    cells = [h3.latlng_to_cell(32.68, 109.02, r) for r in (7, 8)] + list(h3.grid_ring(h3.latlng_to_cell(32.68, 109.02, 8), 1))
    polys = maps.hex_polygons(cells)
    assert len(polys) == len(cells)
    for cell, poly in zip(cells, polys):
        lat, lng = h3.cell_to_latlng(cell)
        assert poly.is_valid and poly.contains(shapely.Point(lng, lat))  # lon/lat order
        assert len(poly.exterior.coords) == len(h3.cell_to_boundary(cell)) + 1
    # neighbours share an edge: the grid has no gaps
    assert polys[1].intersection(polys[2]).length > 0
    assert len(maps.hex_polygons([])) == 0


def test_categorical_map_can_draw_outlines_on_top():
    from geo.getis_ord import CLASS_LABELS

    gdf = _areas(["甲村", "乙村"], [3, 1])
    gdf["class"] = ["hot_95", "not_significant"]
    classes = {k: (CLASS_LABELS[k], maps.GI_COLOURS[k]) for k in CLASS_LABELS}
    plain = maps.categorical(gdf, "class", classes, "Gi*", None, {"name": "村(社区)"}).get_root().render()
    towns = gpd.GeoDataFrame({"name": ["<i>丙镇</i>"]}, geometry=[shapely.box(109, 32.6, 109.02, 32.61)], crs="EPSG:4326")
    html = maps.categorical(gdf, "class", classes, "Gi*", None, {"name": "村(社区)"}, outlines=towns).get_root().render()
    assert html.count("L.geoJson(") == plain.count("L.geoJson(") + 1
    assert '"interactive": false' in html and "<i>丙镇</i>" not in html


def _geojson_coords(m) -> np.ndarray:
    import json

    import folium

    layer = next(c for c in m._children.values() if isinstance(c, folium.GeoJson))
    data = json.loads(layer.geojson) if hasattr(layer, "geojson") else layer.data
    ring = data["features"][0]["geometry"]["coordinates"][0]
    return np.array(ring)


def test_default_base_map_is_none_and_needs_no_tiles(monkeypatch):
    import folium

    monkeypatch.delenv("MINQING_MAP_BASEMAP", raising=False)
    m = maps.choropleth(_areas(["甲村"], [1]), "cases", "诉求件数", [[32.6, 109], [32.61, 109.02]], {"name": "村(社区)"})
    assert not any(isinstance(c, folium.TileLayer) for c in m._children.values())
    assert "tile.openstreetmap" not in m.get_root().render()


def test_amap_shifts_the_data_to_gcj02_to_match_its_tiles(monkeypatch):
    from prcoords import wgs_gcj

    gdf = _areas(["甲村"], [1])
    monkeypatch.setenv("MINQING_MAP_BASEMAP", "none")
    plain = _geojson_coords(maps.choropleth(gdf, "cases", "诉求件数", None, {"name": "村(社区)"}))
    monkeypatch.setenv("MINQING_MAP_BASEMAP", "amap")
    m = maps.choropleth(gdf, "cases", "诉求件数", [[32.6, 109], [32.61, 109.02]], {"name": "村(社区)"})
    shifted = _geojson_coords(m)
    assert "autonavi.com" in m.get_root().render()
    for (lon, lat), (x, y) in zip(plain, shifted):
        want_lat, want_lon = wgs_gcj((lat, lon))  # independent implementation of GCJ-02
        assert abs(x - want_lon) < 1e-7 and abs(y - want_lat) < 1e-7
    assert np.abs(shifted - plain).max() > 1e-3  # a few hundred metres in Shaanxi: really moved


def test_tianditu_needs_a_key_and_sends_it(monkeypatch):
    import pytest

    monkeypatch.setenv("MINQING_MAP_BASEMAP", "tianditu")
    monkeypatch.delenv("MINQING_MAP_TIANDITU_KEY", raising=False)
    with pytest.raises(ValueError, match="MINQING_MAP_TIANDITU_KEY"):
        maps.base_map()
    monkeypatch.setenv("MINQING_MAP_TIANDITU_KEY", "abc123")
    html = maps.base_map().get_root().render()
    assert "tianditu.gov.cn/vec_w" in html and "tk=abc123" in html
    with pytest.raises(ValueError, match="'google'"):
        maps.base_map("google")


def _legend_rows(values, k: int = 6) -> list[str]:
    import re

    values = np.asarray(values, dtype=float)
    d = maps.classes.decimals(values)
    breaks = maps.class_breaks(values, k)
    pos = maps.classes.rounded(values, d)
    smallest = float(pos[pos > 0].min()) if (pos > 0).any() else None
    html = maps.legend_html("x", breaks, "", d, smallest)
    return re.findall(r"</span>([^<]*)</div>", html)


def _bounds(label: str) -> tuple[float, float]:
    lo, _, hi = label.replace(",", "").partition("–")
    return float(lo), float(hi or lo)


def test_legend_classes_never_overlap_or_repeat_after_rounding():
    rng = np.random.default_rng(3)
    cases = [
        [0, 11.2, 11.3, 11.4, 11.45, 12.1, 60.0, 60.2, 5.3, 7.1],  # what leaders saw: "11–11", "60–60"
        [0, 0, 3, 11, 12, 13, 15, 16, 20, 40, 41],
        [0.01, 0.02, 0.02, 0.03, 0.5, 0.51],
        rng.gamma(2, 20, 500).round(1),
        [0, 96.19, 96.2, 96.21, 96.3, 97.0],
        [5, 5, 5, 5],
    ]
    for values in cases:
        rows = _legend_rows(values)
        assert rows[0] == "0" and all(r != "0" and not r.startswith("0–") for r in rows[1:]), rows
        assert len(set(rows)) == len(rows), rows  # nothing repeats
        spans = [_bounds(r) for r in rows[1:]]
        for lo, hi in spans:
            assert lo <= hi and (lo < hi or "–" not in rows[1 + spans.index((lo, hi))]), rows  # no "11–11"
        for (_, hi), (lo, _) in zip(spans, spans[1:]):
            assert lo > hi, rows  # the next class starts above the previous one's top


def test_integer_counts_get_integer_edges():
    rows = _legend_rows([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
    assert rows[0] == "0" and all("." not in r for r in rows)
    spans = [_bounds(r) for r in rows[1:]]
    assert spans[0][0] == 1 and spans[-1][1] == 20
    assert all(b[0] == a[1] + 1 for a, b in zip(spans, spans[1:]))  # 1–4, 5–7, ...: no gap, no overlap


def test_every_value_is_coloured_by_the_class_its_legend_row_names():
    values = np.array([0, 11.2, 11.3, 11.4, 11.45, 12.1, 60.0, 60.2, 5.3, 7.1])
    d = maps.classes.decimals(values)
    breaks = maps.class_breaks(values)
    rows = _legend_rows(values)
    for v in values:
        colour = maps._colour(v, breaks, d)
        if v == 0:
            assert colour == maps.NO_DATA
            continue
        lo, hi = _bounds(rows[1 + maps.class_colours(len(breaks)).index(colour)])
        assert lo <= round(v, d) <= hi, (v, rows)


def test_scale_bar_is_metric_only_and_attribution_names_the_source_without_leaflets_flag():
    from streamlit_folium import _get_map_string

    m = maps.choropleth(_areas(["甲村", "乙村"], [1, 2]), "cases", "诉求件数", None, {"name": "村(社区)"})
    for text in (m.get_root().render(), _get_map_string(m)):
        assert "L.control.scale({metric: true, imperial: false})" in text
        assert "L.control.scale()" not in text  # Leaflet's default: miles and feet too
        assert "attributionControl.setPrefix(false)" in text
        assert maps.ATTRIBUTION.encode("unicode_escape").decode().replace("\\\\", "\\") in text or maps.ATTRIBUTION in text
