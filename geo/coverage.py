"""Make a polygon coverage conformal: neighbours share every vertex along their common edges.

Parts cut separately (e.g. villages clipped to each town) have T-junctions: a vertex of one
polygon lying on an edge of its neighbour. In one CRS they fit exactly, but any non-linear
reprojection (UTM -> lon/lat) bends the two edges differently and opens slivers. Snapping
each polygon to its neighbours' vertices inserts those vertices, so shared edges become
identical vertex sequences that stay identical in every CRS.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


def conform(polygons: list[BaseGeometry], tolerance: float) -> list[BaseGeometry]:
    """Each polygon snapped to the vertices of the polygons it touches (tolerance in CRS units)."""
    geoms = np.asarray(polygons, dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=tolerance)
    out = list(geoms)
    for i in range(len(geoms)):
        nb = right[(left == i) & (right != i)]
        if len(nb) == 0:
            continue
        pts = shapely.multipoints(shapely.get_coordinates(geoms[nb]))
        snapped = shapely.make_valid(shapely.snap(geoms[i], pts, tolerance))
        out[i] = _polygonal(snapped, geoms[i])
    return out


def _polygonal(g: BaseGeometry, fallback: BaseGeometry) -> BaseGeometry:
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return fallback
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)
