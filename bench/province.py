"""Synthetic town and village geometry for a whole province, on its real NBS codes.

Made the way the demo makes 汉滨区 (etl/demo/geography.py): each county's real outline is
cut into its real towns and each town into its real villages (geo.partition), the
villages made conformal (geo.coverage) and each town redrawn as the union of its villages.
NBS development zones (经济开发区, 高新区, ...) ship no outline; each takes a piece of the
largest county of its city. Work is done in a transverse Mercator centred on the
province (metres) and converted to lon/lat (EPSG:4326) at the end. Everything below the
county is synthetic (演示数据).
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from etl import divisions
from geo.coverage import conform
from geo.partition import partition

LONLAT = "EPSG:4326"


def build_province(code: str = "13", *, seed: int = 20241, progress=None) -> gpd.GeoDataFrame:
    """Towns and villages of province (or city) `code` with synthetic geometry, in lon/lat.

    Columns: code, name, level ('town' or 'village'), parent_code (a town's county, a
    village's town), urban (villages: a 居委会/社区), geometry. Deterministic for `seed`.
    """
    say = progress or (lambda msg: None)
    rng = np.random.default_rng(seed)
    counties = divisions.counties_within(code)
    towns = divisions.towns_within(code)
    villages = divisions.villages_within(code)
    metric = metric_crs(divisions.region_outline(code))
    to_metric = Transformer.from_crs(LONLAT, metric, always_xy=True)
    outlines = _county_shapes(counties, to_metric, rng)
    say(f"{len(counties)} counties ({int((~counties['has_outline']).sum())} development zones carved), "
        f"{len(towns)} towns, {len(villages)} villages")

    t0 = time.monotonic()
    town_rows, village_rows = [], []
    by_county = towns.groupby(towns["code"].str[:6])
    by_town = villages.groupby("town_code")
    for i, (county, ctowns) in enumerate(by_county):
        parts = partition(outlines[county], len(ctowns), seed=int(rng.integers(1 << 31)), iterations=10,
                          samples=max(4000, 80 * len(ctowns)))
        for (tcode, tname), tgeom in zip(zip(ctowns["code"], ctowns["name"]), parts):
            town_rows.append((tcode, tname, county, tgeom))
            if tcode not in by_town.groups:
                continue
            tv = by_town.get_group(tcode)
            vparts = partition(tgeom, len(tv), seed=int(rng.integers(1 << 31)), iterations=8,
                               samples=max(2000, 40 * len(tv)))
            village_rows += list(zip(tv["code"], tv["name"], tv["town_code"], vparts))
        if (i + 1) % 20 == 0:
            say(f"  {i + 1}/{len(by_county)} counties cut ({time.monotonic() - t0:.0f} s)")
    vg = gpd.GeoDataFrame(village_rows, columns=["code", "name", "parent_code", "geometry"], crs=metric)
    say(f"conforming {len(vg)} villages")
    vg["geometry"] = conform(list(vg.geometry), tolerance=0.01)
    vg["level"] = "village"
    vg["urban"] = vg["name"].str.contains("居民委员会|居委会|社区", regex=True)
    tg = gpd.GeoDataFrame(town_rows, columns=["code", "name", "parent_code", "geometry"], crs=metric)
    members = vg.groupby("parent_code").geometry.apply(lambda g: shapely.union_all(g.to_numpy()))
    tg["geometry"] = [members.get(c, g) for c, g in zip(tg["code"], tg.geometry)]
    tg["level"] = "town"
    tg["urban"] = tg["code"].isin(vg.loc[vg["urban"], "parent_code"])
    out = pd.concat([tg, vg], ignore_index=True)[["code", "name", "level", "parent_code", "urban", "geometry"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=metric).to_crs(LONLAT)


def metric_crs(outline) -> str:
    """A transverse Mercator on the region's central meridian (metres; fine across 6-7 degrees)."""
    lon0 = round((outline.bounds[0] + outline.bounds[2]) / 2, 1)
    return f"+proj=tmerc +lat_0=0 +lon_0={lon0} +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"


def load_or_build(code: str, path: Path, *, seed: int = 20241, progress=None) -> gpd.GeoDataFrame:
    """The province geometry cached as GeoParquet at `path` (built once, ~10 minutes for 河北省)."""
    if path.exists():
        return gpd.read_parquet(path)
    gdf = build_province(code, seed=seed, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    gdf.to_parquet(tmp)
    tmp.replace(path)
    return gdf


def _county_shapes(counties: pd.DataFrame, to_metric: Transformer, rng: np.random.Generator) -> dict:
    """County code -> outline in metres; development zones carved out of their city's largest county."""
    shapes = {c: _project(divisions.county_outline(c), to_metric)
              for c, has in zip(counties["code"], counties["has_outline"]) if has}
    zones = counties.loc[~counties["has_outline"], "code"]
    for city, zcodes in zones.groupby(zones.str[:4]):
        hosts = [c for c in shapes if c.startswith(city)]
        if not hosts:
            raise ValueError(f"city {city} has development zones but no county with an outline to carve them from")
        host = max(hosts, key=lambda c: shapes[c].area)
        parts = partition(shapes[host], len(zcodes) + 3, seed=int(rng.integers(1 << 31)), iterations=10)
        parts.sort(key=lambda g: -g.area)  # the zones take the smaller pieces
        for z, g in zip(zcodes, parts[3:]):
            shapes[z] = g
        shapes[host] = shapely.union_all(parts[:3])
    return shapes


def _project(g, t: Transformer):
    return shapely.transform(g, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
