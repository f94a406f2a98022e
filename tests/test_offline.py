"""The folium maps load every script and stylesheet from the app, none from a CDN."""

from __future__ import annotations

import re
from pathlib import Path

import branca.colormap
import folium
import folium.plugins
import pytest
import streamlit_folium

from dashboard import offline
from dashboard.offline import LOCAL_ASSETS, VENDOR_DIR, VENDOR_URL, asset_links, localize

FEATURES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "城关镇", "count": 12},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[116.30, 39.90], [116.40, 39.90], [116.40, 39.96],
                                 [116.30, 39.96], [116.30, 39.90]]],
            },
        },
        {
            "type": "Feature",
            "properties": {"name": "新华街道", "count": 7},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[116.42, 39.88], [116.50, 39.88], [116.50, 39.94],
                                 [116.42, 39.94], [116.42, 39.88]]],
            },
        },
    ],
}


def full_map() -> folium.Map:
    """A map with every folium feature the dashboard uses."""
    m = folium.Map(location=[39.92, 116.40], zoom_start=11, tiles=None)
    folium.GeoJson(
        FEATURES,
        name="街道",
        style_function=lambda f: {"fillColor": "#3388ff", "weight": 1},
        tooltip=folium.GeoJsonTooltip(["name", "count"], aliases=["名称", "诉求数"]),
        popup=folium.GeoJsonPopup(["name"]),
    ).add_to(m)
    cluster = folium.plugins.MarkerCluster(name="诉求点").add_to(m)
    folium.Marker(
        [39.93, 116.35],
        tooltip=folium.Tooltip("诉求 1"),
        popup=folium.Popup("<b>诉求</b> 1"),
    ).add_to(cluster)
    folium.Marker(
        [39.91, 116.45], icon=folium.Icon(color="red", prefix="fa", icon="home")
    ).add_to(cluster)
    folium.CircleMarker([39.92, 116.40], radius=5, popup="点").add_to(m)
    folium.plugins.HeatMap([[39.93, 116.35, 3], [39.91, 116.45, 1]], name="热力图").add_to(m)
    folium.LayerControl().add_to(m)
    return m


def links_sent_by_st_folium(m, monkeypatch) -> tuple[list[str], list[str]]:
    """What the real st_folium hands to its iframe (component call captured)."""
    sent: dict = {}
    monkeypatch.setattr(
        streamlit_folium, "_component_func", lambda **kwargs: sent.update(kwargs)
    )
    streamlit_folium.st_folium(m)
    return sent["css_links"], sent["js_links"]


def vendored_file(link: str) -> Path:
    assert link.startswith(VENDOR_URL + "/"), f"not a local vendor link: {link}"
    return VENDOR_DIR / link[len(VENDOR_URL) + 1:]


def remote_links(html: str) -> list[str]:
    """src/href of <script>/<link> tags that point off this server."""
    found = re.findall(r"<script\b[^>]*\bsrc\s*=\s*[\"']([^\"']*)", html, re.I)
    found += re.findall(r"<link\b[^>]*\bhref\s*=\s*[\"']([^\"']*)", html, re.I)
    return [u for u in found if re.match(r"^(https?:)?//", u, re.I)]


def test_localized_links_are_vendored_files():
    css, js = asset_links(localize(full_map()))
    assert css and js
    for link in css + js:
        path = vendored_file(link)
        assert path.is_file(), f"{link} -> {path} missing"
        assert path.stat().st_size > 0, f"{path} is empty"
    assert f"{VENDOR_URL}/leaflet-1.9.3/leaflet.js" == js[0]
    assert f"{VENDOR_URL}/jquery-3.7.1/jquery.min.js" in js  # folium.Popup uses $()
    assert f"{VENDOR_URL}/leaflet.markercluster-1.1.0/leaflet.markercluster.js" in js
    assert f"{VENDOR_URL}/leaflet.heat-folium-0.20.0/leaflet_heat.min.js" in js  # folium.plugins.HeatMap
    assert f"{VENDOR_URL}/leaflet-1.9.3/leaflet.css" in css
    assert f"{VENDOR_URL}/leaflet.markercluster-1.1.0/MarkerCluster.Default.css" in css


def test_asset_links_is_what_st_folium_sends(monkeypatch):
    for localized in (False, True):
        m = full_map()
        if localized:
            localize(m)
        expected = asset_links(m)
        assert links_sent_by_st_folium(m, monkeypatch) == expected
    # including the d3 links it adds for a branca colormap
    m = folium.Map(tiles=None)
    branca.colormap.LinearColormap(["white", "red"], vmin=0, vmax=1).add_to(m)
    css, js = asset_links(m)
    assert js[:2] == [
        "https://d3js.org/d3.v4.min.js",
        "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js",
    ]
    assert links_sent_by_st_folium(m, monkeypatch) == (css, js)


def test_st_folium_sends_only_local_links(monkeypatch):
    css, js = links_sent_by_st_folium(localize(full_map()), monkeypatch)
    for link in css + js:
        assert vendored_file(link).is_file()


def test_standalone_html_has_no_remote_script_or_stylesheet():
    html = localize(full_map()).get_root().render()
    assert remote_links(html) == []
    assert f'src="{VENDOR_URL}/leaflet-1.9.3/leaflet.js"' in html


def test_localize_after_render_drops_the_cdn_links_already_in_the_header():
    m = full_map()
    assert remote_links(m.get_root().render())  # folium's defaults
    html = localize(m).get_root().render()
    assert remote_links(html) == []


def test_localize_twice_is_harmless():
    m = localize(localize(full_map()))
    css, js = asset_links(m)
    assert all(link.startswith(VENDOR_URL + "/") for link in css + js)


def test_localize_sets_instance_attributes_only():
    before_js, before_css = list(folium.Map.default_js), list(folium.Map.default_css)
    before_mc = list(folium.plugins.MarkerCluster.default_js)
    before_heat = list(folium.plugins.HeatMap.default_js)
    localize(full_map())
    assert folium.Map.default_js == before_js
    assert folium.Map.default_css == before_css
    assert folium.plugins.MarkerCluster.default_js == before_mc
    assert folium.plugins.HeatMap.default_js == before_heat
    assert asset_links(full_map())[1][0].startswith("https://")


def test_url_prefix_for_a_base_url_path():
    css, js = asset_links(localize(full_map(), url_prefix="/minqing/app/static/vendor"))
    assert all(link.startswith("/minqing/app/static/vendor/") for link in css + js)


def test_leaflet_image_path_is_set_before_any_marker(monkeypatch):
    line = f'L.Icon.Default.imagePath = "{VENDOR_URL}/leaflet-1.9.3/images/";'
    assert (VENDOR_DIR / "leaflet-1.9.3/images/marker-icon.png").is_file()
    m = localize(full_map())
    html = m.get_root().render()
    assert line in html and html.index(line) < html.index("L.marker(")
    # the script st_folium's iframe evaluates
    sent: dict = {}
    monkeypatch.setattr(
        streamlit_folium, "_component_func", lambda **kwargs: sent.update(kwargs)
    )
    streamlit_folium.st_folium(localize(full_map()))
    script = sent["script"]
    assert line in script and script.index(line) < script.index("L.marker(")


def test_unknown_asset_raises_naming_the_url():
    m = full_map()
    folium.plugins.Fullscreen().add_to(m)
    url = folium.plugins.Fullscreen.default_js[0][1]
    with pytest.raises(ValueError, match=re.escape(repr(url))):
        localize(m)
    assert "default_js" not in vars(m)  # nothing was half-localized


def test_unknown_asset_on_a_custom_element_raises():
    class Widget(folium.elements.JSCSSMixin):
        default_css = [("widget", "https://example.invalid/widget.css")]

    m = folium.Map(tiles=None)
    m.add_child(Widget())
    with pytest.raises(ValueError, match=r"no local copy of 'https://example\.invalid/widget\.css'"):
        localize(m)


def test_branca_colormap_is_refused():
    m = full_map()
    branca.colormap.StepColormap(["#ffeeee", "#ff0000"], vmin=0, vmax=10).add_to(m)
    with pytest.raises(ValueError, match="d3"):
        localize(m)


def test_folium_choropleth_is_refused():
    # folium.Choropleth adds a branca colormap as its legend
    m = folium.Map(tiles=None)
    folium.Choropleth(
        FEATURES,
        data={"城关镇": 12, "新华街道": 7},
        key_on="feature.properties.name",
    ).add_to(m)
    with pytest.raises(ValueError, match="StepColormap"):
        localize(m)


def test_folium_defaults_of_map_and_marker_cluster_are_all_in_the_table():
    for cls in (folium.Map, folium.plugins.MarkerCluster, folium.plugins.HeatMap):
        for _, url in cls.default_js + cls.default_css:
            assert url in LOCAL_ASSETS, url


def test_every_table_entry_has_its_file():
    for url, rel in LOCAL_ASSETS.items():
        if rel is offline.NOT_NEEDED:
            continue
        path = VENDOR_DIR / rel
        assert path.is_file() and path.stat().st_size > 0, f"{url} -> {path}"


def package_dirs() -> list[Path]:
    return sorted(p for p in VENDOR_DIR.iterdir() if p.is_dir())


def test_each_vendored_package_has_licence_and_readme_entry():
    readme = (VENDOR_DIR / "README.md").read_text(encoding="utf-8")
    assert package_dirs()
    for pkg in package_dirs():
        assert list(pkg.glob("*LICEN[CS]E*")), f"{pkg.name} has no licence file"
        assert f"`{pkg.name}/`" in readme, f"{pkg.name} missing from README.md"


def test_urls_inside_vendored_css_resolve():
    """Images and fonts the stylesheets reference are vendored too.

    Font Awesome lists a .woff2 and then a .ttf fallback for each font; only
    the .woff2 files are vendored (every browser that runs Streamlit reads
    woff2), so the .ttf fallbacks are the one allowed gap.
    """
    for css in VENDOR_DIR.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", text):
            if ref.startswith(("data:", "#")):
                continue
            assert not re.match(r"^(https?:)?//", ref), f"{css}: remote {ref}"
            target = (css.parent / ref.split("?")[0].split("#")[0]).resolve()
            if target.suffix == ".ttf" and target.with_suffix(".woff2").is_file():
                continue
            assert target.is_file(), f"{css.relative_to(VENDOR_DIR)}: {ref} missing"


def test_heat_map_script_is_the_one_folium_ships():
    """The vendored heat-map script is byte for byte folium's own copy (folium links it from its
    GitHub main branch, which could change under a pinned folium)."""
    shipped = Path(folium.__file__).parent / "templates" / "leaflet_heat.min.js"
    url = folium.plugins.HeatMap.default_js[0][1]
    assert (VENDOR_DIR / LOCAL_ASSETS[url]).read_bytes() == shipped.read_bytes()
    licence = (VENDOR_DIR / LOCAL_ASSETS[url]).parent / "LICENSE"
    assert "BSD 2-Clause" in licence.read_text(encoding="utf-8") and "Agafonkin" in licence.read_text(encoding="utf-8")


def test_heat_map_renders_with_no_remote_link(monkeypatch):
    m = localize(full_map())
    assert remote_links(m.get_root().render()) == []
    css, js = links_sent_by_st_folium(m, monkeypatch)
    assert f"{VENDOR_URL}/leaflet.heat-folium-0.20.0/leaflet_heat.min.js" in js
    assert all(vendored_file(link).is_file() for link in css + js)
