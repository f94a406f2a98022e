"""Boundary files in every format and CRS, templates that load back, --mapping, a killed load."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from cli import main
from etl.db import REPO_ROOT, connect
from etl.kinds import KINDS

VILLAGES = [("610902001003", "西大街社区居委会"), ("610902001004", "培新街社区居委会"), ("610902104001", None)]


def _boundaries(crs: str) -> gpd.GeoDataFrame:
    con = connect()
    names = {c: n for c, n in VILLAGES}
    from etl.divisions import villages

    vs = villages("610902").set_index("code")
    rows = []
    for i, (code, _) in enumerate(VILLAGES):
        rows.append({"村社区代码": code, "村社区名称": vs.loc[code, "name"],
                     "geometry": shapely.box(109.0 + i * 0.01, 32.68, 109.009 + i * 0.01, 32.689)})
    con.close()
    return gpd.GeoDataFrame(rows, crs="EPSG:4326").to_crs(crs)


def _load(db, kind, path, *extra):
    r = CliRunner().invoke(main, ["--db", str(db), "load", kind, str(path), "--json", *extra])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _stored(db):
    con = connect(db, read_only=True)
    rows = con.execute("""SELECT code, ST_XMin(geom), ST_YMin(geom) FROM areas
                          WHERE level = 'village' AND geom IS NOT NULL ORDER BY code""").fetchall()
    con.close()
    return rows


@pytest.mark.parametrize("fmt, crs", [
    ("geojson", "EPSG:4326"),
    ("gpkg", "EPSG:4490"),
    ("gpkg", "EPSG:4545"),   # CGCS2000 / 3-degree Gauss-Kruger CM 108E, as surveying contractors deliver
    ("shp", "EPSG:4545"),
    ("shp-gbk-no-cpg", "EPSG:4490"),
])
def test_boundary_files_in_every_format_and_crs(wh, tmp_path, fmt, crs):
    gdf = _boundaries(crs)
    if fmt == "geojson":
        path = tmp_path / "b.geojson"
        gdf.to_file(path, driver="GeoJSON")
    elif fmt == "gpkg":
        path = tmp_path / "b.gpkg"
        gdf.to_file(path, driver="GPKG")
    else:
        path = tmp_path / "b.shp"
        if "gbk" not in fmt:  # a dBase field name holds 10 bytes: UTF-8 Chinese names do not fit
            gdf = gdf.rename(columns={"村社区代码": "CODE", "村社区名称": "NAME"})
        gdf.to_file(path, driver="ESRI Shapefile", encoding="GBK" if "gbk" in fmt else "UTF-8")
        if "no-cpg" in fmt:
            path.with_suffix(".cpg").unlink()
            raw = path.with_suffix(".dbf").read_bytes()
            assert "西大街".encode("gbk") in raw  # really a GBK attribute table
    out = _load(wh, "areas", path)
    assert (out["rows_read"], out["updated"], out["rejected"]) == (3, 3, 0), out
    got = _stored(wh)
    assert [c for c, *_ in got] == [c for c, _ in VILLAGES]
    for i, (_, x, y) in enumerate(got):  # back in lon/lat wherever it came from
        assert x == pytest.approx(109.0 + i * 0.01, abs=1e-6) and y == pytest.approx(32.68, abs=1e-6)


def test_a_boundary_with_a_code_of_another_district_or_a_wrong_name_is_rejected(wh, tmp_path):
    gdf = _boundaries("EPSG:4326")
    gdf.loc[0, "村社区代码"] = "110101001001"
    gdf.loc[1, "村社区名称"] = "不相干社区"
    path = tmp_path / "b.geojson"
    gdf.to_file(path, driver="GeoJSON")
    out = _load(wh, "areas", path)
    assert out["reasons"] == {"unknown_area_code": 1, "name_code_mismatch": 1} and out["updated"] == 1


@pytest.mark.parametrize("kind", [k.name for k in KINDS.values() if not k.geometry])  # a table, not shapes
def test_a_filled_template_loads_back(wh, tmp_path, kind):
    import openpyxl

    path = tmp_path / f"{kind}.xlsx"
    r = CliRunner().invoke(main, ["template", kind, "-o", str(path)])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(path)
    headers = [c.value for c in wb["台账"][1]]
    assert headers == [f.label for f in KINDS[kind].fields]
    explained = {row[0].value for row in wb["填写说明"].iter_rows(min_row=2)}
    assert explained == set(headers)
    sample = {"case_id": "T1", "received_at": "2025-03-05", "channel": "热线", "category": "道路", "status": "受理",
              "household_id": "H1", "category_": "连心户", "station_id": "S1", "name": "西大街群众工作站",
              "building_id": "B1", "kind": "商务楼宇", "cadre_id": "C1", "visit_id": "V1", "visited_at": "2025-03-05",
              "town": "老城街道", "village": "西大街社区"}
    row = []
    for f in KINDS[kind].fields:
        key = "category_" if (kind, f.name) == ("households", "category") else f.name
        row.append(sample.get(key))
    if kind == "buildings":
        row[[f.name for f in KINDS[kind].fields].index("name")] = "汉江大厦"
    wb["台账"].append(row)
    wb.save(path)
    out = _load(wh, kind, path)
    assert (out["loaded"], out["rejected"]) == (1, 0), out


def test_mapping_file_names_unknown_headers(wh, tmp_path):
    csv = tmp_path / "l.csv"
    csv.write_text("工单编号,来电日期,来电渠道,诉求分类,处理状态,乡镇\nW1,2025-03-05,12345,道路,受理,五里镇\n", encoding="utf-8")
    m = tmp_path / "m.toml"
    m.write_text('[columns]\n"工单编号" = "case_id"\n"来电日期" = "受理时间"\n"来电渠道" = "channel"\n'
                 '"诉求分类" = "category"\n"处理状态" = "status"\n', encoding="utf-8")
    out = _load(wh, "cases", csv, "--mapping", str(m))
    assert out["loaded"] == 1
    m.write_text('[columns]\n"工单编号" = "no_such_field"\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["--db", str(wh), "load", "cases", str(csv), "--mapping", str(m)])
    assert r.exit_code == 2 and "no_such_field" in r.output and "Traceback" not in r.output


def test_a_load_killed_part_way_leaves_the_warehouse_as_it_was(wh, tmp_path):
    header = "受理编号,受理时间,诉求来源,问题类别,所属乡镇,办理状态"
    rows = [f"K{i},2025-03-05,12345,道路,五里镇,受理" for i in range(400_000)]
    csv = tmp_path / "big.csv"
    csv.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    before = wh.read_bytes()
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-m", "cli", "--db", str(wh), "load", "cases", str(csv)],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    tmp_copy = wh.with_name(f".{wh.name}.{proc.pid}.tmp")
    while time.time() < deadline and not tmp_copy.exists():  # wait until it is writing its copy
        time.sleep(0.05)
    assert tmp_copy.exists(), "the load never started writing"
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert wh.read_bytes() == before
    con = connect(wh, read_only=True)
    assert con.execute("SELECT count(*) FROM cases").fetchone()[0] == 0
    con.close()
    # the next load cleans up the dead copy and works
    small = tmp_path / "small.csv"
    small.write_text("\n".join([header, *rows[:3]]) + "\n", encoding="utf-8")
    assert _load(wh, "cases", small)["loaded"] == 3
    assert not tmp_copy.exists()


def test_a_projected_file_without_prj_needs_crs_and_says_so(wh, tmp_path):
    gdf = _boundaries("EPSG:4545")
    path = tmp_path / "b.shp"
    gdf.to_file(path, driver="ESRI Shapefile", encoding="GBK")
    path.with_suffix(".prj").unlink()  # the contractor forgot the .prj
    out = _load(wh, "areas", path)
    assert out["reasons"] == {"bad_coordinates": 3}  # metres read as degrees: out of lon/lat range, never placed silently
    out = _load(wh, "areas", path, "--crs", "EPSG:4545")
    assert out["updated"] == 3 and out["rejected"] == 0
    assert _stored(wh)[0][1] == pytest.approx(109.0, abs=1e-6)


CASE_HEADER = "受理编号,受理时间,诉求来源,问题类别,所属乡镇,所属村(社区),经度,纬度,办理状态,满意度,重大疑难,反映人数,化解层级,问题库层级,受理层级,承办人签字"
BASE = ["R1", "2025-03-05", "12345", "道路", "五里镇", "", "", "", "受理", "", "", "", "", "", "", ""]


@pytest.mark.parametrize("column, value, reason", [
    (0, "", "missing_id"),
    (1, "", "missing_value"),
    (1, "三月五日", "bad_date"),
    (1, "1999-12-31", "date_out_of_range"),
    (2, "", "missing_value"),
    (10, "也许", "bad_flag"),
    (11, "三人", "bad_number"),
    (12, "5", "bad_number"),
    (13, "省", "bad_value"),
    (14, "乡", "bad_value"),
    (15, "签了", "bad_flag"),
    (4, "不存在镇", "unknown_area_name"),
    (6, "东经109", "bad_coordinates"),
])
def test_every_rejection_reason_for_a_case(wh, tmp_path, column, value, reason):
    row = list(BASE)
    row[column] = value
    if reason == "bad_coordinates":
        row[4] = ""  # no names to fall back on
        row[7] = "32.6"
    csv = tmp_path / "r.csv"
    csv.write_text(CASE_HEADER + "\n" + ",".join(row) + "\n", encoding="utf-8")
    out = _load(wh, "cases", csv)
    assert out["reasons"] == {reason: 1}
    con = connect(wh, read_only=True)
    line, got_reason, message = con.execute("SELECT line_no, reason, message FROM rejected_rows").fetchone()
    assert (line, got_reason) == (2, reason) and message
