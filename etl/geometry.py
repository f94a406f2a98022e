"""Feature-by-feature checks of a boundary file's geometries, before they reach DuckDB.

One bad feature never fails the whole file: a geometry GEOS cannot even build (a polygon ring
whose first and last points differ, too few points) rejects that feature with its reason; an
invalid but readable one (a self-intersecting "bow tie", a ring touching itself) is repaired
with `shapely.make_valid` and counted, so the load report can say so. Whether a repaired or
valid outline lies in the district, in its town, or in lon/lat at all is checked after
reprojection, in etl/sql/stg_areas.sql.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely


@dataclass
class CheckedGeometries:
    wkb: list[bytes | None]  # the geometries to stage: repaired where needed, None where rejected
    reasons: list[str | None]  # 'bad_geometry' for a rejected feature
    messages: list[str | None]
    repaired: list[int] = field(default_factory=list)  # 1-based feature numbers made valid


def check_geometries(wkb: list[bytes | None]) -> CheckedGeometries:
    """Each feature's WKB parsed, repaired when invalid, or rejected with a Chinese reason."""
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    out = CheckedGeometries(list(wkb), [None] * len(wkb), [None] * len(wkb))
    for i, (raw, g) in enumerate(zip(wkb, geoms)):
        if raw is None:
            continue  # no geometry at all: staging says so (bad_geometry, 缺少几何图形)
        if g is None:
            out.wkb[i], out.reasons[i] = None, "bad_geometry"
            out.messages[i] = f"第 {i + 1} 个要素的几何图形无法构建: {_why_unreadable(raw)}; 该要素未导入"
        elif not shapely.is_valid(g):
            out.wkb[i] = shapely.to_wkb(shapely.make_valid(g))
            out.repaired.append(i + 1)
    return out


# GEOS's words for a geometry it cannot build, in the words of the people who draw them.
_UNREADABLE = {
    "closed linestring": "多边形的环未闭合 (首尾坐标不同)",
    "Invalid number of points": "环的点数太少 (多边形的环至少要 4 个点)",
    "point array must contain 0 or >1 elements": "线的点数太少",
}


def _why_unreadable(raw: bytes) -> str:
    try:
        shapely.from_wkb(raw)
    except Exception as e:  # GEOS raises GEOSException or ValueError depending on the defect
        text = str(e)
        return next((zh for en, zh in _UNREADABLE.items() if en in text), f"几何数据有误 ({text})")
    return "几何数据有误"
