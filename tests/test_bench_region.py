"""`minqing init --region`: a warehouse for a whole city or province (used by the benchmark)."""

from __future__ import annotations

import pytest
import shapely
from click.testing import CliRunner

from etl import divisions
from cli import main
from etl.db import connect


def test_init_region_creates_every_town_and_village_of_the_city(tmp_path):
    db = tmp_path / "baoding.duckdb"
    r = CliRunner().invoke(main, ["--db", str(db), "init", "--region", "保定市"])
    assert r.exit_code == 0, r.output
    assert "河北省保定市 (1306)" in r.output
    con = connect(db, read_only=True)
    n = dict(con.execute("SELECT level, count(*) FROM areas GROUP BY 1").fetchall())
    assert n == {"district": 1, "town": len(divisions.towns_within("1306")), "village": len(divisions.villages_within("1306"))}
    assert n["village"] > 6000
    # towns hang from the root, villages from their town; the root carries the union of the county outlines
    assert con.execute("""SELECT count(*) FROM areas v JOIN areas t ON t.code = v.parent_code
                          WHERE v.level = 'village' AND t.level = 'town'""").fetchone()[0] == n["village"]
    assert con.execute("SELECT count(*) FROM areas WHERE level = 'town' AND parent_code = '1306'").fetchone()[0] == n["town"]
    root = shapely.from_wkb(con.execute("SELECT ST_AsWKB(geom) FROM areas WHERE level = 'district'").fetchone()[0])
    assert root.area == pytest.approx(divisions.region_outline("1306").area, rel=1e-9)
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    assert (meta["district_code"], meta["district_name"], meta["region_level"]) == ("1306", "保定市", "city")


@pytest.mark.parametrize("query, code, level", [("13", "13", "province"), ("河北省", "13", "province"),
                                                 ("1301", "1301", "city"), ("河北省石家庄市", "1301", "city"),
                                                 ("610902", "610902", "county"), ("汉滨区", "610902", "county")])
def test_resolve_region(query, code, level):
    r = divisions.resolve_region(query)
    assert (r.code, r.level) == (code, level)


@pytest.mark.parametrize("query, words", [("99", "99"), ("1399", "1399"), ("朝阳区", "110105"), ("不存在的地方", "不存在的地方")])
def test_unknown_or_ambiguous_regions_are_named(query, words):
    with pytest.raises(ValueError, match=words):
        divisions.resolve_region(query)


def test_init_needs_exactly_one_of_district_and_region(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "w.duckdb")
    for args in ([], ["--district", "610902", "--region", "13"]):
        r = runner.invoke(main, ["--db", db, "init", *args])
        assert r.exit_code == 2 and "--district" in r.output and "--region" in r.output
    r = runner.invoke(main, ["--db", db, "init", "--region", "1399"])
    assert r.exit_code == 2 and "1399" in r.output


def test_villages_and_towns_within_a_province_match_the_source():
    towns, villages = divisions.towns_within("13"), divisions.villages_within("13")
    assert (len(towns), len(villages)) == (2365, 54145)
    assert villages["town_code"].isin(towns["code"]).all()
    counties = divisions.counties_within("13")
    assert (len(counties), int(counties["has_outline"].sum())) == (190, 167)
