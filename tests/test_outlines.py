"""Boundary files as districts have them: village outlines only, some features broken.
Each bad feature is rejected alone with its reason; towns get outlines from their villages."""

from __future__ import annotations

import json

import shapely
from click.testing import CliRunner
from shapely.geometry import box, mapping

from cli import main
from etl.db import connect

TOWN = "610902001"
A, B, C, D, E, F = (f"{TOWN}{s}" for s in ("003", "004", "005", "007", "008", "009"))


def _feature(code, geometry):
    return {"type": "Feature", "properties": {"区划代码": code}, "geometry": geometry}


def _load(db, path, *extra):
    r = CliRunner().invoke(main, ["--db", str(db), "load", "areas", str(path), "--json", *extra])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _district(db):
    con = connect(db, read_only=True)
    g = shapely.from_wkb(con.execute("SELECT ST_AsWKB(geom) FROM areas WHERE level = 'district'").fetchone()[0])
    con.close()
    return g


def test_each_broken_feature_is_rejected_alone_and_towns_come_from_villages(wh, tmp_path):
    a = box(109.02, 32.68, 109.03, 32.69)
    bowtie = {"type": "Polygon", "coordinates": [[[109.03, 32.68], [109.04, 32.69], [109.04, 32.68], [109.03, 32.69], [109.03, 32.68]]]}
    unclosed = {"type": "Polygon", "coordinates": [[[109.05, 32.68], [109.06, 32.68], [109.06, 32.69], [109.05, 32.69]]]}
    half_china = mapping(box(80, 20, 125, 50))
    metres = mapping(box(500000, 3600000, 501000, 3601000))  # projected, given without a CRS
    whole_district = mapping(_district(wh).buffer(-0.01))
    path = tmp_path / "村界.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature(A, mapping(a)), _feature(B, bowtie), _feature(C, unclosed), _feature(D, half_china),
        _feature(E, metres), _feature(F, whole_district)]}), encoding="utf-8")
    out = _load(wh, path)
    assert (out["rows_read"], out["updated"], out["rejected"]) == (6, 2, 4)
    assert out["notes"] == {"repaired_geometry": 1, "derived_outlines": 1}
    con = connect(wh, read_only=True)
    got = dict((line, (reason, field)) for line, reason, field in
               con.execute("SELECT line_no, reason, field FROM rejected_rows").fetchall())
    assert got == {3: ("bad_geometry", "geometry"), 4: ("outside_district", "geometry"),
                   5: ("bad_coordinates", "geometry"), 6: ("too_large", "geometry")}
    message = con.execute("SELECT message FROM rejected_rows WHERE line_no = 3").fetchone()[0]
    assert "未闭合" in message
    town_wkb, derived = con.execute(f"SELECT ST_AsWKB(geom), derived_geom FROM areas WHERE code = '{TOWN}'").fetchone()
    villages = shapely.from_wkb([w for (w,) in con.execute(
        f"SELECT ST_AsWKB(geom) FROM areas WHERE parent_code = '{TOWN}' AND geom IS NOT NULL").fetchall()])
    assert len(villages) == 2 and derived is True
    assert shapely.from_wkb(town_wkb).symmetric_difference(shapely.union_all(villages)).area < 1e-12
    # no other town got an outline out of nothing
    assert con.execute("SELECT count(*) FROM areas WHERE level = 'town' AND geom IS NOT NULL").fetchone()[0] == 1


def test_a_towns_own_outline_replaces_the_derived_one_and_is_kept(wh, tmp_path):
    villages = tmp_path / "村界.geojson"
    villages.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature(A, mapping(box(109.02, 32.68, 109.03, 32.69)))]}), encoding="utf-8")
    _load(wh, villages)
    own = box(109.015, 32.675, 109.05, 32.70)
    towns = tmp_path / "镇界.geojson"
    towns.write_text(json.dumps({"type": "FeatureCollection", "features": [_feature(TOWN, mapping(own))]}), encoding="utf-8")
    assert _load(wh, towns)["notes"] == {}
    villages.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature(A, mapping(box(109.02, 32.68, 109.031, 32.69)))]}), encoding="utf-8")
    _load(wh, villages)  # villages again: the town's own outline stays
    con = connect(wh, read_only=True)
    wkb, derived = con.execute(f"SELECT ST_AsWKB(geom), derived_geom FROM areas WHERE code = '{TOWN}'").fetchone()
    assert derived is False and shapely.from_wkb(wkb).equals(own)


def test_a_village_mostly_outside_its_towns_own_outline_is_rejected(wh, tmp_path):
    towns = tmp_path / "镇界.geojson"
    towns.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature(TOWN, mapping(box(109.02, 32.68, 109.03, 32.69)))]}), encoding="utf-8")
    _load(wh, towns)
    villages = tmp_path / "村界.geojson"
    villages.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature(A, mapping(box(109.025, 32.68, 109.045, 32.69)))]}), encoding="utf-8")  # 25% inside
    out = _load(wh, villages)
    assert out["rejected"] == 1
    con = connect(wh, read_only=True)
    reason, message = con.execute("SELECT reason, message FROM rejected_rows WHERE batch_id = 2").fetchone()
    assert reason == "outside_town" and "25.0%" in message


def test_land_survey_field_names_are_understood(wh, tmp_path):
    # boundary data from land surveys names its fields by the national standard (CJQYDM, CJQYMC)
    path = tmp_path / "村级调查区.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"CJQYDM": A, "CJQYMC": "西大街社区居委会"},
         "geometry": mapping(box(109.02, 32.68, 109.03, 32.69))}]}), encoding="utf-8")
    out = _load(wh, path)
    assert (out["updated"], out["rejected"]) == (1, 0)
