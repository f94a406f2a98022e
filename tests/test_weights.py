"""Queen contiguity (geo.weights) finds exactly libpysal's `Queen` neighbours: on the demo's
villages and towns, and on outlines with a hole, an island, a corner-only touch and a
multipolygon."""

from __future__ import annotations

import warnings

import geopandas as gpd
import shapely
from libpysal.weights import Queen

from geo.weights import _queen_neighbours, contiguity


def _libpysal(geoms, ids):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Queen.from_dataframe(gpd.GeoDataFrame({"id": ids}, geometry=list(geoms)), ids=ids, use_index=False)
    return {k: set(v) for k, v in w.neighbors.items()}


def _ours(geoms, ids):
    return {k: set(v) for k, v in _queen_neighbours(geoms, ids).items()}


def test_same_neighbours_as_libpysal_on_the_demo(con):
    for level in ("village", "town"):
        rows = con.execute("SELECT code, ST_AsWKB(geom) FROM areas WHERE level = ? AND geom IS NOT NULL ORDER BY code",
                           [level]).fetchall()
        ids = [r[0] for r in rows]
        geoms = shapely.from_wkb([bytes(r[1]) for r in rows])
        ours = _ours(geoms, ids)
        assert ours == _libpysal(geoms, ids), level
        assert sum(len(v) for v in ours.values()) > 2 * len(ids)  # a real lattice, not islands


def test_holes_islands_corners_and_multipolygons():
    box = shapely.box
    ring = box(0, 0, 3, 3).difference(box(1, 1, 2, 2))  # a hole
    geoms = [
        ring,
        box(1, 1, 2, 2),  # fills the hole: neighbour through the inner ring
        box(3, 3, 4, 4),  # touches the ring at one corner only (Queen, not Rook)
        shapely.MultiPolygon([box(10, 10, 11, 11), box(4, 0, 5, 1)]),  # shares no vertex with anything
        box(20, 20, 21, 21),  # an island
        box(5, 0, 6, 1),  # shares an edge with the multipolygon's second part
    ]
    ids = ["a", "b", "c", "d", "e", "f"]
    ours = _ours(geoms, ids)
    assert ours == _libpysal(geoms, ids)
    assert ours["a"] == {"b", "c"} and ours["e"] == set() and ours["d"] == {"f"}
    assert contiguity(geoms, ids).neighbors["c"] == ["a"]


def test_outlines_that_touch_nowhere_are_all_islands():
    box = shapely.box
    for geoms in ([box(0, 0, 1, 1)], [box(0, 0, 1, 1), box(1.0001, 0, 2, 1)], [box(0, 0, 1, 1), box(5, 5, 6, 6), box(9, 0, 10, 1)]):
        ids = [f"v{i}" for i in range(len(geoms))]
        ours = _ours(geoms, ids)
        assert ours == _libpysal(geoms, ids) == {i: set() for i in ids}
