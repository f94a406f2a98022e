"""Random points inside polygons, vectorised (rejection sampling per polygon)."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


def sample_points(polygons: list[BaseGeometry], counts: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`counts[i]` uniform points inside `polygons[i]`; returns (x, y) in polygon order."""
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    for poly, k in zip(polygons, counts):
        k = int(k)
        if k <= 0:
            continue
        x, y = _sample_one(poly, k, rng)
        xs.append(x)
        ys.append(y)
    if not xs:
        return np.empty(0), np.empty(0)
    return np.concatenate(xs), np.concatenate(ys)


def _sample_one(poly: BaseGeometry, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    fill = max(poly.area / max((maxx - minx) * (maxy - miny), 1e-12), 0.05)
    got_x: list[np.ndarray] = []
    got_y: list[np.ndarray] = []
    n = 0
    while n < k:
        m = int((k - n) / fill * 1.3) + 16
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        inside = shapely.contains_xy(poly, x, y)
        got_x.append(x[inside])
        got_y.append(y[inside])
        n += int(inside.sum())
    return np.concatenate(got_x)[:k], np.concatenate(got_y)[:k]
