"""Synthetic geometry for the demo (演示数据): the district's real outline cut into its
real towns/streets and villages/communities, plus a Han River line and disaster footprints.

The four urban streets of 汉滨区 are small and dense around the city centre on the Han
River; rural towns share the rest. All work is done in UTM zone 49N (metres) and
converted to lon/lat at the end; shared borders stay shared.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from geo.coverage import conform
from geo.partition import partition

METRIC = "EPSG:32649"
LONLAT = "EPSG:4326"
CITY_CENTRE = (109.02, 32.68)  # Ankang city centre on the Han River
# An approximate course of the Han River across the district, west to east (synthetic, 演示数据).
HAN_RIVER = [(108.50, 32.80), (108.66, 32.74), (108.80, 32.66), (108.92, 32.62), (108.97, 32.645),
             (109.02, 32.685), (109.08, 32.70), (109.16, 32.72), (109.26, 32.77), (109.39, 32.83)]
# Urban streets of 610902 and where their seeds sit relative to the centre (metres east, north).
URBAN_OFFSETS = {"610902001": (0, -600), "610902002": (3800, -300), "610902003": (300, 2600), "610902004": (-3900, -500)}


@dataclass
class Geography:
    towns: gpd.GeoDataFrame  # code, name, urban, seat_x, seat_y, geometry (metric)
    villages: gpd.GeoDataFrame  # code, name, town_code, urban, geometry (metric)
    river: BaseGeometry  # metric
    to_lonlat: Transformer
    to_metric: Transformer

    def lonlat(self, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return gdf.to_crs(LONLAT)


def build_geography(outline_lonlat: BaseGeometry, towns: pd.DataFrame, villages: pd.DataFrame,
                    rng: np.random.Generator) -> Geography:
    """Partition the outline into towns, each town into its villages."""
    to_metric = Transformer.from_crs(LONLAT, METRIC, always_xy=True)
    to_lonlat = Transformer.from_crs(METRIC, LONLAT, always_xy=True)
    outline = _project(outline_lonlat, to_metric)
    cx, cy = to_metric.transform(*CITY_CENTRE)

    urban_codes = [c for c in towns["code"] if c in URBAN_OFFSETS]
    rural = towns[~towns["code"].isin(urban_codes)].reset_index(drop=True)
    core = shapely.intersection(affinity.scale(Point(cx, cy).buffer(1.0, 64), 7500, 4200), outline)
    urban_seeds = np.array([(cx + URBAN_OFFSETS[c][0], cy + URBAN_OFFSETS[c][1]) for c in urban_codes])
    urban_parts = partition(core, len(urban_codes), seeds=urban_seeds) if urban_codes else []
    rest = shapely.difference(outline, core) if urban_codes else outline
    rural_parts = partition(rest, len(rural), seed=int(rng.integers(1 << 31)), iterations=12, samples=12000)
    town_geoms = dict(zip(urban_codes, urban_parts)) | dict(zip(rural["code"], rural_parts))
    town_rows = []
    for code, name in zip(towns["code"], towns["name"]):
        g = town_geoms[code]
        seat = g.representative_point()
        town_rows.append({"code": code, "name": name, "urban": code in URBAN_OFFSETS,
                          "seat_x": seat.x, "seat_y": seat.y, "geometry": g})
    tg = gpd.GeoDataFrame(town_rows, geometry="geometry", crs=METRIC)

    vrows = []
    for t in tg.itertuples():
        vs = villages[villages["town_code"] == t.code].reset_index(drop=True)
        parts = partition(t.geometry, len(vs), seed=int(rng.integers(1 << 31)), iterations=10,
                          samples=max(3000, 60 * len(vs)))
        for (code, name), g in zip(zip(vs["code"], vs["name"]), parts):
            vrows.append({"code": code, "name": name, "town_code": t.code, "urban": t.urban, "geometry": g})
    vg = gpd.GeoDataFrame(vrows, geometry="geometry", crs=METRIC)
    vg["geometry"] = conform(list(vg.geometry), tolerance=0.01)
    # towns are exactly the union of their villages, so villages lie inside their own town
    tg["geometry"] = [shapely.union_all(vg.geometry[vg["town_code"] == c].to_numpy()) for c in tg["code"]]
    river = _project(LineString(HAN_RIVER), to_metric)
    return Geography(tg, vg, river, to_lonlat, to_metric)


def place_remote_seats(geo: Geography, n_towns: int, rng: np.random.Generator) -> list[dict]:
    """Move the seat of the `n_towns` largest rural towns to their edge nearest the city, so
    their far villages are remote (边远村). Returns the moved towns; `remote_villages` lists
    the villages that end up far from their seat."""
    cx, cy = geo.to_metric.transform(*CITY_CENTRE)
    centre = Point(cx, cy)
    rural = geo.towns[~geo.towns["urban"]].copy()
    rural["area"] = rural.geometry.area
    planted = []
    for idx in rural.sort_values("area", ascending=False).index[:n_towns]:
        town = geo.towns.loc[idx]
        g = town.geometry
        near = nearest_points(g, centre)[0] if not g.contains(centre) else centre
        inner = g.representative_point()
        seat = LineString([near, inner]).interpolate(0.03, normalized=True)
        if not g.contains(seat):
            seat = inner
        geo.towns.loc[idx, ["seat_x", "seat_y"]] = [seat.x, seat.y]
        planted.append(town["code"])
    return planted


def remote_villages(geo: Geography, km: float) -> list[dict]:
    """Villages whose seat (representative point) is at least `km` from their town's seat."""
    seats = geo.towns.set_index("code")[["seat_x", "seat_y"]]
    pts = geo.villages.geometry.representative_point()
    tx = geo.villages["town_code"].map(seats["seat_x"]).to_numpy()
    ty = geo.villages["town_code"].map(seats["seat_y"]).to_numpy()
    d = np.hypot(pts.x.to_numpy() - tx, pts.y.to_numpy() - ty) / 1000
    return [{"area_code": c, "name": n, "town_code": t, "distance_km": round(float(x), 1)}
            for c, n, t, x in zip(geo.villages["code"], geo.villages["name"], geo.villages["town_code"], d) if x >= km]


def disasters(geo: Geography, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """A 2025 flood along the Han River and a 2026 mountain torrent in one rural town (metric)."""
    cx, _ = geo.to_metric.transform(*CITY_CENTRE)
    flood_line = shapely.intersection(geo.river, shapely.box(cx - 25000, -1e9, cx + 22000, 1e9))
    flood = shapely.intersection(flood_line.buffer(900, quad_segs=8), shapely.union_all(geo.towns.geometry))
    rural = geo.towns[~geo.towns["urban"]]
    far = rural.geometry.representative_point().distance(Point(cx, _)).sort_values().index
    town = rural.loc[far[len(far) // 2]]
    p = town.geometry.representative_point()
    torrent = shapely.intersection(affinity.scale(p.buffer(1.0, 32), 2600, 1600), town.geometry)
    return gpd.GeoDataFrame([
        {"disaster_id": "D2025-01", "kind": "洪涝", "name": "2025年汉江秋汛(演示数据)",
         "started_at": "2025-09-12", "ended_at": "2025-09-21", "geometry": flood},
        {"disaster_id": "D2026-01", "kind": "山洪", "name": f"2026年{town['name']}山洪(演示数据)",
         "started_at": "2026-07-18", "ended_at": "2026-07-20", "geometry": torrent},
    ], geometry="geometry", crs=METRIC)


def _project(g: BaseGeometry, t: Transformer) -> BaseGeometry:
    return shapely.transform(g, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
