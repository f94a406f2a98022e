"""geo.partition / geo.coverage: parts tile the region exactly, for any shape (property tests)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings, strategies as st
from pyproj import Transformer

from geo.coverage import conform
from geo.partition import partition


@st.composite
def regions(draw):
    """Star-shaped polygons (often concave) of a few km, with or without a hole."""
    k = draw(st.integers(5, 14))
    radii = draw(st.lists(st.floats(0.3, 1.0), min_size=k, max_size=k))
    angles = np.linspace(0, 2 * np.pi, k, endpoint=False)
    pts = [(r * 5000 * np.cos(a), r * 5000 * np.sin(a)) for r, a in zip(radii, angles)]
    poly = shapely.make_valid(shapely.Polygon(pts))
    if draw(st.booleans()):
        poly = poly.difference(shapely.Point(0, 0).buffer(600))
    return poly


@settings(max_examples=40, deadline=None)
@given(regions(), st.integers(1, 25), st.integers(0, 2**31))
def test_parts_tile_the_region(region, n, seed):
    parts = partition(region, n, seed=seed, samples=800, iterations=3)
    assert len(parts) == n
    assert all(p.is_valid and not p.is_empty for p in parts)
    union = shapely.union_all(parts)
    assert shapely.symmetric_difference(union, region).area < 1e-6 * region.area
    assert sum(p.area for p in parts) == pytest.approx(region.area, rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_conform_closes_seams_between_separately_cut_neighbours(seed):
    """Two towns cut into villages separately meet with T-junctions; reprojected to lon/lat,
    those open slivers unless conform() makes the neighbours share their vertices."""
    west = shapely.box(295000, 3595000, 300000, 3605000)  # far from the central meridian: lines bend
    east = shapely.box(300000, 3595000, 306000, 3605000)
    parts = [*partition(west, 6, seed=seed, samples=1500), *partition(east, 7, seed=seed + 100, samples=1500)]
    t = Transformer.from_crs("EPSG:32649", "EPSG:4326", always_xy=True)

    def overlap(ps):
        ll = [shapely.transform(p, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))) for p in ps]
        assert all(p.is_valid for p in ll)
        return sum(ll[i].intersection(ll[j]).area for i in range(len(ll)) for j in range(i + 1, len(ll)))

    before, after = overlap(parts), overlap(conform(parts, tolerance=0.01))
    assert before > 0  # the seam is really there without conform()
    assert after < 1e-13  # square degrees: about a thousandth of a square metre


def test_seeds_decide_which_part_is_which():
    square = shapely.box(0, 0, 10, 10)
    parts = partition(square, 2, seeds=np.array([[2.0, 5.0], [8.0, 5.0]]))
    assert parts[0].contains(shapely.Point(1, 5)) and parts[1].contains(shapely.Point(9, 5))


def test_zero_parts_is_an_error_naming_the_value():
    with pytest.raises(ValueError, match="0"):
        partition(shapely.box(0, 0, 1, 1), 0)
