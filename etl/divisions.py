"""Lookups in the shipped administrative divisions and county outlines.

Reads the two reference files built by ``data/build_reference.py``:

* ``data/divisions.parquet``: NBS 2023 statistical division codes, five levels
  (province, city, county, town, village), sorted by code;
* ``data/county_outlines.parquet``: county outlines, GeoParquet, EPSG:4490.

Both are read once per process with pyarrow (``ParquetFile.read``, about
0.1 s for the 665k divisions; DuckDB took 0.2-0.3 s plus a slower conversion to
pandas) and kept in ``functools.lru_cache``. Nothing here imports streamlit.

Codes are strings: 2 (province), 4 (city), 6 (county), 9 (town) and 12
(village) digits, exactly as in the source. Sorting by code as strings puts
every unit directly before its descendants, and within one level string order
is numeric order, which the range lookups below rely on.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from shapely.geometry.base import BaseGeometry

from .codes import LEVEL_DIGITS

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DIVISIONS_PATH = DATA_DIR / "divisions.parquet"
OUTLINES_PATH = DATA_DIR / "county_outlines.parquet"

#: City-level names in the source that are placeholders, not real cities
#: (districts/counties of municipalities, county-level units directly under a
#: province). They are left out of `District.full_name`.
PLACEHOLDER_CITY_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})

_MAX_SUGGESTIONS = 5


@dataclass(frozen=True)
class District:
    """A county-level division (区/县/县级市/旗, and NBS county-level zones).

    `city_name` is the city-level name as in the source, which may be a
    placeholder such as ``市辖区``; `full_name` skips placeholders and a city
    named like the county itself (``北京市东城区``, ``湖北省仙桃市``,
    ``广东省东莞市``).
    """

    code: str
    name: str
    city_name: str
    province_name: str
    full_name: str


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _LevelSlice:
    rows: np.ndarray  # positions of this level's rows in the full table, ascending
    codes: np.ndarray  # their codes as int64 (ascending too), for binary search


@dataclass(frozen=True)
class _Divisions:
    table: pa.Table
    levels: dict[str, _LevelSlice]

    def take(self, level: str, lo: int = 0, hi: int | None = None) -> pa.Table:
        return self.table.take(self.levels[level].rows[lo:hi])


@lru_cache(maxsize=1)
def _divisions() -> _Divisions:
    if not DIVISIONS_PATH.exists():
        raise FileNotFoundError(f"{DIVISIONS_PATH} is missing; run data/build_reference.py")
    table = pq.ParquetFile(DIVISIONS_PATH).read().combine_chunks()
    # Work on the dictionary indices of `level` and on integer codes: casting
    # or filtering the 665k strings would cost several times the read itself.
    level = table["level"].chunk(0)
    indices = level.indices.to_numpy()
    all_codes = table["code"].cast(pa.int64()).to_numpy()
    levels = {}
    for i, name in enumerate(level.dictionary.to_pylist()):
        rows = np.flatnonzero(indices == i)
        levels[name] = _LevelSlice(rows, all_codes[rows])
    return _Divisions(table, levels)


@dataclass(frozen=True)
class _CountyIndex:
    districts: dict[str, District]  # by 6-digit code
    keys: dict[str, tuple[str, ...]]  # normalised name form -> county codes
    cities: dict[str, tuple[str, ...]]  # city name -> its county codes
    provinces: dict[str, tuple[str, ...]]  # province name -> its county codes


def _normalise(text: str) -> str:
    """NFKC (full-width digits and spaces to ASCII) and drop all whitespace."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


@lru_cache(maxsize=1)
def _county_index() -> _CountyIndex:
    def pairs(level: str) -> dict[str, str]:
        t = _divisions().take(level)
        return dict(zip(t["code"].to_pylist(), t["name"].to_pylist()))

    provinces = pairs("province")
    cities = pairs("city")
    counties = pairs("county")

    districts: dict[str, District] = {}
    keys: dict[str, list[str]] = {}
    by_city: dict[str, list[str]] = {}
    by_province: dict[str, list[str]] = {}
    for code, name in counties.items():
        province = provinces[code[:2]]
        city = cities[code[:4]]
        real_city = city not in PLACEHOLDER_CITY_NAMES and city != name
        full = province + (city if real_city else "") + name
        districts[code] = District(code, name, city, province, full)

        forms = {name, province + name, full, province + city + name}
        if real_city:
            forms.add(city + name)
        for form in forms:
            keys.setdefault(_normalise(form), []).append(code)
        if city not in PLACEHOLDER_CITY_NAMES:
            by_city.setdefault(city, []).append(code)
        by_province.setdefault(province, []).append(code)

    def freeze(d: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
        return {k: tuple(sorted(v)) for k, v in d.items()}

    return _CountyIndex(districts, freeze(keys), freeze(by_city), freeze(by_province))


# --------------------------------------------------------------------------
# Name resolution
# --------------------------------------------------------------------------


def _describe(district: District) -> str:
    return f"{district.code} {district.full_name}"


def resolve_district(query: str) -> District:
    """Find a county-level division by code or name.

    Accepts a 6-digit code (``610902``), a bare name (``汉滨区``), a name with
    its city (``安康市汉滨区``) or with province and city (``陕西省安康市汉滨区``);
    whitespace and full-width characters are tolerated.

    Raises `ValueError` for an unknown query (with close names suggested) and
    for a name several counties share (listing them with codes).
    """
    index = _county_index()
    q = _normalise(query)
    if not q:
        raise ValueError("区县名称或代码为空")

    if q.isdigit():
        if q in index.districts:
            return index.districts[q]
        if len(q) != 6:
            raise ValueError(f"“{query}”不是区县代码：区县代码为 6 位数字（例如 610902）")
        raise ValueError(f"未找到区县代码“{query}”（2023 年统计用区划代码中没有该代码）")

    codes = index.keys.get(q)
    if codes and len(codes) == 1:
        return index.districts[codes[0]]
    if codes:
        listed = "；".join(_describe(index.districts[c]) for c in codes)
        raise ValueError(
            f"“{query}”对应 {len(codes)} 个区县，请加上所属省、市，或直接使用区县代码：{listed}"
        )

    for label, groups in (("地级", index.cities), ("省级", index.provinces)):
        if q in groups:
            members = [index.districts[c].name for c in groups[q]]
            shown = "、".join(members[:8]) + ("等" if len(members) > 8 else "")
            raise ValueError(f"“{query}”是{label}行政区划，不是区县；请指定其下的区县，例如：{shown}")

    raise ValueError(f"未找到区县“{query}”。" + _suggest(q, index))


def _suggest(q: str, index: _CountyIndex) -> str:
    matches = difflib.get_close_matches(q, list(index.keys), n=20, cutoff=0.6)
    seen: list[str] = []
    for key in matches:
        for code in index.keys[key]:
            if code not in seen:
                seen.append(code)
    if not seen:
        return "请检查名称，或使用 6 位区县代码。"
    shown = "；".join(_describe(index.districts[c]) for c in seen[:_MAX_SUGGESTIONS])
    return f"您是不是要找：{shown}"


def _county_code(district_code: str) -> str:
    code = _normalise(district_code)
    if code not in _county_index().districts:
        raise ValueError(f"“{district_code}”不是已知的区县代码（6 位数字，例如 610902）")
    return code


# --------------------------------------------------------------------------
# Towns and villages
# --------------------------------------------------------------------------


# Digits of a code at the levels from the county down (etl.codes).
_DIGITS = {"county": LEVEL_DIGITS["district"], "town": LEVEL_DIGITS["town"], "village": LEVEL_DIGITS["village"]}


def _children(level: str, code: str, columns: dict[str, str]) -> pd.DataFrame:
    """The divisions of `level` under `code` (their codes begin with it)."""
    width = _DIGITS[level] - len(code)
    divisions = _divisions()
    codes = divisions.levels[level].codes
    lo = int(np.searchsorted(codes, int(code) * 10**width, side="left"))
    hi = int(np.searchsorted(codes, (int(code) + 1) * 10**width, side="left"))
    rows = divisions.take(level, lo, hi).select(list(columns))
    return rows.rename_columns(list(columns.values())).to_pandas()


def towns(district_code: str) -> pd.DataFrame:
    """Towns and streets (乡镇/街道) of a county: columns ``code``, ``name``, sorted by code."""
    code = _county_code(district_code)
    return _children("town", code, {"code": "code", "name": "name"})


def villages(district_code: str) -> pd.DataFrame:
    """Villages and communities (村/居委会) of a county.

    Columns ``code``, ``name``, ``town_code``, sorted by code.
    """
    code = _county_code(district_code)
    return _children("village", code, {"code": "code", "name": "name", "parent_code": "town_code"})


def towns_within(region_code: str) -> pd.DataFrame:
    """Towns and streets under a province (2 digits), city (4) or county (6): ``code``, ``name``, sorted."""
    code = _region_code(region_code)
    return _children("town", code, {"code": "code", "name": "name"})


def villages_within(region_code: str) -> pd.DataFrame:
    """Villages and communities under a province, city or county: ``code``, ``name``, ``town_code``."""
    code = _region_code(region_code)
    return _children("village", code, {"code": "code", "name": "name", "parent_code": "town_code"})


def counties_within(region_code: str) -> pd.DataFrame:
    """County-level divisions under a province or city: ``code``, ``name``, ``has_outline``
    (False for NBS development zones, which ship no outline), sorted by code."""
    code = _region_code(region_code)
    out = _children("county", code, {"code": "code", "name": "name"})
    rows, _ = _outlines()
    out["has_outline"] = out["code"].isin(rows)
    return out


# --------------------------------------------------------------------------
# Provinces and cities (a warehouse for more than one district)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    """A province (2-digit code), city (4) or county (6) as the root of a warehouse."""

    code: str
    name: str
    level: str  # province, city or county
    full_name: str


def resolve_region(query: str) -> Region:
    """Find a province or city by code (``13``, ``1301``) or name (``河北省``, ``石家庄市``,
    ``河北省石家庄市``); a county query resolves as `resolve_district` does.

    Raises `ValueError` naming the query when nothing or several places match.
    """
    q = _normalise(query)
    if not q:
        raise ValueError("省、市或区县名称/代码为空")
    divisions = _divisions()
    provinces = dict(zip(*(divisions.take("province")[c].to_pylist() for c in ("code", "name"))))
    cities = dict(zip(*(divisions.take("city")[c].to_pylist() for c in ("code", "name"))))
    if q.isdigit() and len(q) == 2:
        if q not in provinces:
            raise ValueError(f"未找到省级区划代码“{query}”")
        return Region(q, provinces[q], "province", provinces[q])
    if q.isdigit() and len(q) == 4:
        if q not in cities or cities[q] in PLACEHOLDER_CITY_NAMES:
            raise ValueError(f"“{query}”不是地级区划代码（4 位数字，例如 1301）")
        return Region(q, cities[q], "city", provinces[q[:2]] + cities[q])
    if not q.isdigit():
        hits = [Region(c, n, "province", n) for c, n in provinces.items() if q == n]
        hits += [Region(c, n, "city", provinces[c[:2]] + n) for c, n in cities.items()
                 if n not in PLACEHOLDER_CITY_NAMES and q in (n, provinces[c[:2]] + n)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            listed = "；".join(f"{h.code} {h.full_name}" for h in hits)
            raise ValueError(f"“{query}”对应 {len(hits)} 个地区，请加上所属省，或直接使用代码：{listed}")
    d = resolve_district(query)  # a county, or its error message (unknown code or name)
    return Region(d.code, d.name, "county", d.full_name)


def region_outline(region_code: str) -> BaseGeometry:
    """Outline of a province, city or county: the union of its counties' outlines
    (development zones without an outline lie inside them)."""
    code = _region_code(region_code)
    if len(code) == LEVEL_DIGITS["district"]:
        return county_outline(code)
    codes = [c for c, has in zip(*counties_within(code)[["code", "has_outline"]].T.to_numpy()) if has]
    if not codes:
        raise ValueError(f"{code} 下没有随附边界数据的区县（data/county_outlines.parquet）")
    return shapely.union_all([_outline(c) for c in codes])


def _region_code(region_code: str) -> str:
    code = _normalise(region_code)
    if len(code) == LEVEL_DIGITS["district"]:
        return _county_code(code)
    if not (code.isdigit() and len(code) in (2, 4)):
        raise ValueError(f"“{region_code}”不是省（2 位）、市（4 位）或区县（6 位）区划代码")
    level = "province" if len(code) == 2 else "city"
    codes = _divisions().levels[level].codes
    i = int(np.searchsorted(codes, int(code)))
    if i >= len(codes) or codes[i] != int(code):
        raise ValueError(f"未找到区划代码“{region_code}”（2023 年统计用区划代码中没有该代码）")
    return code


# --------------------------------------------------------------------------
# Outlines
# --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _outlines() -> tuple[dict[str, int], pa.Array]:
    if not OUTLINES_PATH.exists():
        raise FileNotFoundError(f"{OUTLINES_PATH} is missing; run data/build_reference.py")
    table = pq.ParquetFile(OUTLINES_PATH).read(columns=["code", "geometry"]).combine_chunks()
    rows = {code: i for i, code in enumerate(table["code"].to_pylist())}
    return rows, table["geometry"].chunk(0)


@lru_cache(maxsize=512)
def _outline(code: str) -> BaseGeometry:
    rows, wkb = _outlines()
    geom = shapely.from_wkb(wkb[rows[code]].as_py())
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom


def county_outline(district_code: str) -> BaseGeometry:
    """Outline of a county as a valid (Multi)Polygon in EPSG:4490 (lon, lat).

    Raises `ValueError` when no outline ships for the code (e.g. NBS
    development zones, which have no legal boundary).
    """
    code = _normalise(district_code)
    rows, _ = _outlines()
    if code not in rows:
        district = _county_index().districts.get(code)
        what = f"{code}（{district.full_name}）" if district else f"“{district_code}”"
        raise ValueError(f"区县 {what} 没有随附的边界数据（data/county_outlines.parquet）")
    return _outline(code)


__all__ = [
    "DATA_DIR",
    "District",
    "Region",
    "counties_within",
    "county_outline",
    "region_outline",
    "resolve_district",
    "resolve_region",
    "towns",
    "towns_within",
    "villages",
    "villages_within",
]
