"""The embedded demo: real divisions, sound synthetic topology, planted truth, determinism."""

from __future__ import annotations

import hashlib
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from etl import divisions
from etl.demo import build_demo

EQUAL_AREA = "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +ellps=GRS80"  # Albers for China


@pytest.fixture(scope="module")
def shapes(con):
    df = con.execute("SELECT code, level, parent_code, ST_AsWKB(geom) AS wkb FROM areas ORDER BY code").df()
    g = gpd.GeoDataFrame(df.drop(columns="wkb"), geometry=shapely.from_wkb(df["wkb"].map(bytes)), crs="EPSG:4326")
    return g.to_crs(EQUAL_AREA)


def test_every_nbs_town_and_village_has_geometry(shapes):
    assert (shapes["level"] == "town").sum() == 28
    assert (shapes["level"] == "village").sum() == 529
    assert shapes.geometry.notna().all() and (~shapes.geometry.is_empty).all()


@pytest.mark.parametrize("level", ["town", "village"])
def test_parts_are_valid_single_polygons(shapes, level):
    parts = shapes[shapes["level"] == level]
    assert parts.geometry.is_valid.all()
    assert (parts.geom_type == "Polygon").all(), parts[parts.geom_type != "Polygon"]["code"].tolist()


@pytest.mark.parametrize("level", ["town", "village"])
def test_parts_tile_the_real_outline(shapes, level):
    outline = shapes[shapes["level"] == "district"].geometry.iloc[0]
    parts = shapes[shapes["level"] == level].geometry
    union = shapely.union_all(parts.to_numpy())
    # no gaps: the union covers the real outline within 0.5% of its area
    assert abs(union.area - outline.area) / outline.area < 0.005
    assert shapely.symmetric_difference(union, outline).area / outline.area < 0.005
    # no overlaps: the areas add up to the union's
    assert parts.area.sum() == pytest.approx(union.area, rel=1e-6)


def test_no_two_villages_overlap(shapes):
    v = shapes[shapes["level"] == "village"].reset_index(drop=True)
    left, right = v.sindex.query(v.geometry, predicate="intersects")
    pairs = [(a, b) for a, b in zip(left, right) if a < b]
    overlap = sum(v.geometry[a].intersection(v.geometry[b]).area for a, b in pairs)
    assert overlap < 1.0  # square metres, over all pairs of neighbours (~1,500 m² before conform())


def test_every_village_lies_inside_its_own_town(shapes):
    towns = shapes[shapes["level"] == "town"].set_index("code").geometry
    for row in shapes[shapes["level"] == "village"].itertuples():
        inside = row.geometry.intersection(towns[row.parent_code]).area / row.geometry.area
        assert inside > 0.9999, row.code


def test_urban_streets_are_small_and_around_the_city_centre(shapes):
    towns = shapes[shapes["level"] == "town"].set_index("code")
    urban = towns.loc[["610902001", "610902002", "610902003", "610902004"]]
    rural = towns.drop(urban.index)
    assert urban.area.max() < rural.area.min()
    centre = gpd.GeoSeries([shapely.Point(109.02, 32.68)], crs="EPSG:4326").to_crs(EQUAL_AREA).iloc[0]
    assert (urban.geometry.distance(centre) < 1).all() or (urban.geometry.distance(centre) < 5000).all()
    urban_villages = shapes[(shapes["level"] == "village") & shapes["parent_code"].isin(urban.index)]
    rural_villages = shapes[(shapes["level"] == "village") & ~shapes["parent_code"].isin(urban.index)]
    assert urban_villages.area.median() * 5 < rural_villages.area.median()  # dense communities


def test_demo_is_labelled_and_synthetic_geometry_flagged(con):
    assert con.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()[0] == "true"
    flags = dict(con.execute("SELECT level, bool_and(synthetic_geom) FROM areas GROUP BY 1").fetchall())
    assert flags == {"district": False, "town": True, "village": True}


def test_demo_has_every_kind_of_record(con, demo_truth):
    for table in ("buildings", "stations", "households", "household_categories", "cadres", "visits", "disasters", "cases", "case_events"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    # a station in every village
    assert con.execute("""SELECT count(*) FROM areas a WHERE level = 'village'
                          AND NOT EXISTS (SELECT 1 FROM stations s WHERE s.area_code = a.code)""").fetchone()[0] == 0
    # every load reconciled: nothing rejected from the demo's own files
    assert con.execute("SELECT sum(rejected) FROM load_batches").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM cases").fetchone()[0] == demo_truth["counts"]["cases"]


def test_households_are_classified_and_categories_change_over_time(con):
    cats = dict(con.execute("SELECT category, count(*) FROM households GROUP BY 1").fetchall())
    assert set(cats) == {"放心户", "关心户", "连心户"}
    assert cats["放心户"] > cats["关心户"] > cats["连心户"]
    changed = con.execute("SELECT count(DISTINCT household_id) FROM household_categories WHERE valid_to IS NOT NULL").fetchone()[0]
    assert changed > 0
    # history is consistent: exactly one open record per household, matching its current category
    bad = con.execute("""SELECT count(*) FROM households h JOIN household_categories c
                         ON c.household_id = h.household_id AND c.valid_to IS NULL
                         WHERE c.category <> h.category""").fetchone()[0]
    assert bad == 0
    # 连心户 are paired with cadres (not necessarily all: coverage is a metric)
    share = con.execute("SELECT avg((paired_cadre_id IS NOT NULL)::INT) FROM households WHERE category = '连心户'").fetchone()[0]
    assert 0.6 < share < 1


def test_cases_follow_the_office_rules(con):
    # deadlines: one week ordinary, two weeks major
    rows = con.execute("SELECT major, min(deadline - received_at), max(deadline - received_at) FROM cases GROUP BY 1").fetchall()
    spans = {m: (lo.days, hi.days) for m, lo, hi in rows}
    assert spans == {False: (7, 7), True: (14, 14)}
    assert con.execute("SELECT min(received_at)::DATE, max(received_at)::DATE FROM cases").fetchone()[0].isoformat() >= "2024-01-01"
    # closed cases are closed after they were received; open ones have no closing time
    assert con.execute("SELECT count(*) FROM cases WHERE closed_at < received_at").fetchone()[0] == 0
    # personal data only masked: no 11-digit phone or 18-character ID anywhere in cases or rejected rows
    leaks = con.execute(r"""SELECT count(*) FROM cases WHERE regexp_matches(coalesce(phone_masked, ''), '\d{11}')
                            OR regexp_matches(coalesce(id_masked, ''), '\d{17}[\dX]')
                            OR regexp_matches(coalesce(petitioner_masked, ''), '^.[^*]')""").fetchone()[0]
    assert leaks == 0
    # group and repeat petitions exist
    assert con.execute("SELECT count(*) FROM cases WHERE group_size > 1").fetchone()[0] > 0
    repeats = con.execute("""SELECT count(*) FROM (SELECT petitioner_hash, category FROM cases
                             WHERE petitioner_hash IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1)""").fetchone()[0]
    assert repeats > 0


def test_truth_names_real_villages_for_every_planted_pattern(con, demo_truth):
    villages = {c for (c,) in con.execute("SELECT code FROM areas WHERE level = 'village'").fetchall()}
    for kind in ("persistent", "emerging", "diminishing"):
        assert demo_truth["hotspots"][kind], kind
        for h in demo_truth["hotspots"][kind]:
            assert set(h["villages"]) <= villages
    mv = demo_truth["must_visit"]
    assert set(mv["poverty"]["high_key_assistance_share"]) <= villages
    assert set(mv["difficult"]) <= villages
    assert {r["area_code"] for r in mv["remote"]["villages"]} <= villages
    assert mv["disaster"]["all_events"] and set(mv["disaster"]["all_events"]) <= villages


def test_planted_hotspots_show_in_the_counts(con, demo_truth):
    """Independent check: planted persistent villages have several times the district's case rate."""
    rate = dict(con.execute("""
        SELECT h.area_code, count(DISTINCT c.case_id) / count(DISTINCT h.household_id)
        FROM households h LEFT JOIN cases c ON c.area_code = h.area_code
        GROUP BY 1""").fetchall())
    base = np.median(list(rate.values()))
    for h in demo_truth["hotspots"]["persistent"]:
        assert np.median([rate[v] for v in h["villages"]]) > 2 * base


def test_disaster_footprints_lie_on_villages(con, demo_truth):
    hit = {c for (c,) in con.execute("""SELECT DISTINCT a.code FROM areas a JOIN disasters d
                                        ON ST_Intersects(a.geom, d.geom) WHERE a.level = 'village'""").fetchall()}
    assert set(demo_truth["must_visit"]["disaster"]["all_events"]) <= hit


def test_same_seed_same_demo(tmp_path):
    def digest(d):
        build_demo(d / "x.duckdb", seed=3, scale=0.01)
        h = hashlib.sha256()
        for f in sorted((d / "x_sources").iterdir()):
            h.update(f.read_bytes())
        return h.hexdigest()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_the_readme_states_the_full_demos_counts(full_demo):
    """What README.md says the demo holds is what `make run` builds (the default seed, full size)."""
    import re

    from etl.db import REPO_ROOT

    con, truth = full_demo
    text = " ".join((REPO_ROOT / "README.md").read_text(encoding="utf-8").split())
    stated = dict((what, int(n.replace(",", ""))) for n, what in re.findall(
        r"([\d,]+) (towns|villages|households|cadres|visit records|cases)\b", text.split("The embedded demo is")[1][:600]))
    n = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    assert stated == {"towns": n("SELECT count(*) FROM areas WHERE level = 'town'"),
                      "villages": n("SELECT count(*) FROM areas WHERE level = 'village'"),
                      "households": truth["counts"]["households"], "cadres": n("SELECT count(*) FROM cadres"),
                      "visit records": n("SELECT count(*) FROM visits"), "cases": n("SELECT count(*) FROM cases")}
    first, last = con.execute("SELECT strftime(min(received_at), '%Y-%m'), strftime(max(received_at), '%Y-%m') FROM cases").fetchone()
    assert f"cases ({first} to {last})" in text
