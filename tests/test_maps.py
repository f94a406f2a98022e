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
    assert maps._colour(0, breaks) == maps.NO_DATA and maps._colour(100, breaks) == maps.PALETTE[len(breaks) - 1]


def test_no_cases_anywhere_gives_an_all_grey_map_with_a_legend():
    assert maps.class_breaks(np.zeros(5)) == []
    assert "0" in maps.legend_html("诉求件数", [])


def test_categorical_map_colours_by_class_escapes_text_and_lists_present_classes():
    from geo.hotspots import CLASS_LABELS

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
    from geo.hotspots import CLASS_LABELS, LISA_LABELS

    assert set(maps.GI_COLOURS) == set(CLASS_LABELS)
    assert set(maps.LISA_COLOURS) == set(LISA_LABELS)
    assert set(maps.EMERGING_COLOURS) == set(CATEGORY_LABELS)
    assert maps.GI_COLOURS["hot_99"] != maps.GI_COLOURS["cold_99"]
