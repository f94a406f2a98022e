"""Serve every script and stylesheet a folium map needs from the app itself.

folium links Leaflet, jQuery, Bootstrap, Font Awesome, ... from public CDNs
(``default_js`` / ``default_css`` on ``folium.Map`` and on every element that
mixes in ``folium.elements.JSCSSMixin``). ``streamlit_folium.st_folium``
collects those links from the map tree and its iframe loads them, so on an
intranet without internet the map would never draw.

``localize(m)`` rewrites those links, per element instance, to the copies
vendored under ``dashboard/static/vendor/`` that Streamlit serves at
``/app/static/vendor/...`` (``server.enableStaticServing`` in
``.streamlit/config.toml``). Every CDN URL must be listed in ``LOCAL_ASSETS``:
either with its local file or explicitly as ``NOT_NEEDED``; an unknown URL is
an error, never silently passed through.

To support a new folium feature (say a plugin): vendor its files under
``dashboard/static/vendor/<package>-<version>/`` (see the README there), add
its CDN URLs to ``LOCAL_ASSETS`` and extend ``tests/test_offline.py``.

Rules for our maps that follow from this:

* no branca colormap anywhere in the tree (``folium.Choropleth`` adds one):
  it makes streamlit-folium inject d3 from a CDN. Colour polygons with
  ``folium.GeoJson(style_function=...)`` and draw legends as plain HTML;
* ``folium.Icon`` only with ``prefix="fa"`` (the Bootstrap 3 glyphicons font
  is not vendored) and without ``angle``;
* base tiles must come from the intranet too (or ``tiles=None``): tile URLs
  are not scripts, this module does not touch them;
* with ``tiles=None`` the map has no maximum zoom, which MarkerCluster
  requires ("Map has no maxZoom specified", the map script stops): create
  such a map as ``folium.Map(tiles=None, maxZoom=18)`` (camelCase: folium's
  own ``max_zoom`` only reaches the tile layer).

This module must not import streamlit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import branca.colormap
import branca.element
import folium
import folium.elements
import folium.features
import folium.plugins
from folium.template import Template

#: Folder holding the vendored files (served at ``VENDOR_URL``).
VENDOR_DIR: Path = Path(__file__).resolve().parent / "static" / "vendor"

#: URL path under which Streamlit serves ``VENDOR_DIR`` (``dashboard/static``
#: is served at ``/app/static``). Behind a proxy with ``server.baseUrlPath``
#: set, pass ``url_prefix=f"/{base}/app/static/vendor"`` to ``localize``.
VENDOR_URL: str = "/app/static/vendor"

#: Marks a CDN asset that none of our maps needs: it is dropped from the map.
NOT_NEEDED: None = None

#: Every CDN URL our maps may reference -> file under ``VENDOR_DIR``, or
#: ``NOT_NEEDED`` (with the reason in a comment).
LOCAL_ASSETS: dict[str, str | None] = {
    # --- folium.Map -------------------------------------------------------
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js":
        "leaflet-1.9.3/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css":
        "leaflet-1.9.3/leaflet.css",
    # folium.Popup's template builds its content with $(...).
    "https://code.jquery.com/jquery-3.7.1.min.js":
        "jquery-3.7.1/jquery.min.js",
    # folium.Icon (coloured pins) needs awesome-markers + an icon font.
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js":
        "leaflet.awesome-markers-2.0.2/leaflet.awesome-markers.js",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css":
        "leaflet.awesome-markers-2.0.2/leaflet.awesome-markers.css",
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css":
        "fontawesome-free-6.2.0/css/all.min.css",
    # Bootstrap: no folium template we use relies on it (popups, tooltips,
    # layer control and marker clusters are styled by Leaflet's own CSS);
    # inside the map iframe it would only restyle the page.
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js":
        NOT_NEEDED,
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css":
        NOT_NEEDED,
    # Bootstrap 3 glyphicons: only for folium.Icon(prefix="glyphicon"); our
    # maps use prefix="fa" (Font Awesome, vendored above).
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css":
        NOT_NEEDED,
    # Only for folium.Icon(angle=...), which our maps do not use.
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css":
        NOT_NEEDED,
    # --- folium.plugins.MarkerCluster --------------------------------------
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js":
        "leaflet.markercluster-1.1.0/leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css":
        "leaflet.markercluster-1.1.0/MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css":
        "leaflet.markercluster-1.1.0/MarkerCluster.Default.css",
    # --- folium.plugins.HeatMap (Leaflet.heat + simpleheat, as folium ships it) ---
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js":
        "leaflet.heat-folium-0.20.0/leaflet_heat.min.js",
}

#: Leaflet's marker images (``L.Icon.Default``), under ``VENDOR_DIR``.
LEAFLET_IMAGES: str = "leaflet-1.9.3/images/"

# Elements that put CDN links into the page at render time, outside
# default_js/default_css, so they cannot be localized. A branca ColorMap is
# also what makes streamlit-folium add its two d3 links.
_CDN_AT_RENDER: tuple[type, ...] = (
    branca.colormap.ColorMap,
    folium.features.VegaLite,
)


class LeafletImagePath(branca.element.MacroElement):
    """Tell Leaflet where its default marker images are.

    Leaflet 1.9.3 finds them through leaflet.css; streamlit-folium's iframe
    runs the map script before that stylesheet has loaded, and Leaflet's
    fallback then builds ``.../leaflet-1.9.3marker-icon.png`` (404). So
    ``localize`` puts this first among the map's children: its line runs
    right after the map is created, before any marker.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.Icon.Default.imagePath = {{ this.image_path|tojson }};
        {% endmacro %}
        """
    )

    def __init__(self, image_path: str):
        super().__init__()
        self._name = "LeafletImagePath"
        self.image_path = image_path


def walk(fig: Any) -> Iterator[Any]:
    """Yield the elements of ``fig``'s tree whose assets streamlit-folium loads.

    The same walk as ``streamlit_folium.st_folium`` (0.27.4): branca
    colormaps, both maps of a DualMap, and every ``JSCSSMixin``.
    """
    if isinstance(fig, branca.colormap.ColorMap):
        yield fig
    if isinstance(fig, folium.plugins.DualMap):
        yield from walk(fig.m1)
        yield from walk(fig.m2)
    if isinstance(fig, folium.elements.JSCSSMixin):
        yield fig
    if hasattr(fig, "_children"):
        for child in fig._children.values():
            yield from walk(child)


def _all_elements(fig: Any) -> Iterator[Any]:
    yield fig
    if isinstance(fig, folium.plugins.DualMap):
        yield from _all_elements(fig.m1)
        yield from _all_elements(fig.m2)
    for child in getattr(fig, "_children", {}).values():
        yield from _all_elements(child)


def local_url(url: str, url_prefix: str = VENDOR_URL) -> str | None:
    """The local URL for a CDN ``url``, or None if it is listed as not needed.

    A URL that is already local (under ``url_prefix``) is returned unchanged,
    so ``localize`` can be applied twice. Raises ``ValueError`` for a URL
    that ``LOCAL_ASSETS`` does not know, ``FileNotFoundError`` if the
    vendored file is missing.
    """
    prefix = url_prefix.rstrip("/") + "/"
    if url.startswith(prefix) and url[len(prefix):] in LOCAL_ASSETS.values():
        return url
    if url not in LOCAL_ASSETS:
        raise ValueError(
            f"no local copy of {url!r}: the dashboard must work without "
            "internet. Vendor the file under dashboard/static/vendor/ and map "
            "the URL to it in dashboard.offline.LOCAL_ASSETS (or list it there "
            "as NOT_NEEDED if our maps do not need it)."
        )
    rel = LOCAL_ASSETS[url]
    if rel is NOT_NEEDED:
        return None
    path = VENDOR_DIR / rel
    if not path.is_file():
        raise FileNotFoundError(f"vendored file {path} for {url!r} is missing")
    return prefix + rel


def _localized(links: list[tuple[str, str]], url_prefix: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, url in links:
        local = local_url(url, url_prefix)
        if local is not None:
            out.append((name, local))
    return out


def localize(m: folium.Map, url_prefix: str = VENDOR_URL) -> folium.Map:
    """Point every script/stylesheet link of ``m``'s tree at the vendored copy.

    Sets ``default_js``/``default_css`` on each element instance (the folium
    classes are left untouched), gives each ``folium.Map`` a first child
    ``LeafletImagePath`` (see there) and returns ``m``. Call it after the last
    element has been added, right before ``st_folium(m, ...)``.

    Raises ``ValueError`` for an asset without a local copy, and for a
    branca colormap (or another element that links a CDN at render time).
    """
    for elem in _all_elements(m):
        if isinstance(elem, _CDN_AT_RENDER):
            what = type(elem).__name__
            if isinstance(elem, branca.colormap.ColorMap):
                why = (
                    "streamlit-folium then loads d3 from "
                    "https://d3js.org/d3.v4.min.js and "
                    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js. "
                    "Draw the legend as plain HTML and colour with "
                    "folium.GeoJson(style_function=...) instead of folium.Choropleth."
                )
            else:
                why = "it links its scripts from a CDN when rendered."
            raise ValueError(
                f"a {what} cannot be shown without internet: {why}"
            )
    elems = list(walk(m))
    # Resolve everything first, so an unknown URL leaves the map untouched.
    new_links = [
        (
            elem,
            _localized(list(elem.default_js), url_prefix),
            _localized(list(elem.default_css), url_prefix),
        )
        for elem in elems
        if isinstance(elem, folium.elements.JSCSSMixin)
    ]
    for elem, js, css in new_links:
        elem.default_js = js
        elem.default_css = css
    prefix = url_prefix.rstrip("/") + "/"
    for elem in elems:
        if isinstance(elem, folium.Map):
            elem.add_child(
                LeafletImagePath(prefix + LEAFLET_IMAGES),
                name="leaflet_image_path",
                index=0,
            )
    # If the map was rendered before, its figure's header still holds the CDN
    # links (rendering only adds them); drop them, the next render adds the
    # local ones. (st_folium strips these tags, a standalone HTML keeps them.)
    root = m.get_root()
    if isinstance(root, branca.element.Figure):
        header = root.header._children
        for name, child in list(header.items()):
            if (
                isinstance(child, branca.element.Link)
                and getattr(child, "url", None) in LOCAL_ASSETS
            ):
                del header[name]
    return m


def asset_links(fig: Any, render: bool = True) -> tuple[list[str], list[str]]:
    """The ``(css_links, js_links)`` that ``st_folium(fig, render=render)`` sends.

    A faithful copy of streamlit-folium 0.27.4's logic: it renders the map
    first (rendering may add elements), walks the tree, puts d3 first for
    each branca colormap, and de-duplicates keeping order.
    """
    folium_map = fig
    if render:
        if isinstance(fig, folium.plugins.DualMap):
            folium_map.render()
        else:
            folium_map.get_root().render()
    if not isinstance(fig, (folium.Map, folium.plugins.DualMap)):
        folium_map = next(iter(fig._children.values()))
    folium_map.render()

    css_links: list[str] = []
    js_links: list[str] = []
    for elem in walk(folium_map):
        if isinstance(elem, branca.colormap.ColorMap):
            js_links.insert(
                0, "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js"
            )
            js_links.insert(0, "https://d3js.org/d3.v4.min.js")
        css_links.extend([href for _, href in getattr(elem, "default_css", [])])
        js_links.extend([src for _, src in getattr(elem, "default_js", [])])

    css_links = list(dict.fromkeys(css_links))
    js_links = list(dict.fromkeys(js_links))
    return css_links, js_links
