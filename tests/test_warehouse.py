"""`minqing init` creates a warehouse with exactly the NBS towns and villages and the real outline."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner

from cli import main
from etl.db import REPO_ROOT, connect


def _nbs(parent: str, level: str) -> set[tuple[str, str]]:
    """Read the shipped NBS table directly (independently of etl.divisions)."""
    t = pq.read_table(REPO_ROOT / "data" / "divisions.parquet", filters=[("level", "=", level)]).to_pandas()
    t = t[t["code"].str.startswith(parent)]
    return set(zip(t["code"], t["name"]))


@pytest.mark.parametrize("query, code, towns, villages", [
    ("610902", "610902", 28, 529),      # counts from china-division 2.7.0 streets.csv / villages.csv
    ("安康市汉滨区", "610902", 28, 529),
    ("东城区", "110101", 17, 169),
])
def test_init_holds_exactly_the_nbs_areas(tmp_path, query, code, towns, villages):
    db = tmp_path / "w.duckdb"
    r = CliRunner().invoke(main, ["--db", str(db), "init", "--district", query])
    assert r.exit_code == 0, r.output
    con = connect(db, read_only=True)
    got_towns = set(con.execute("SELECT code, name FROM areas WHERE level = 'town'").fetchall())
    got_villages = set(con.execute("SELECT code, name FROM areas WHERE level = 'village'").fetchall())
    assert len(got_towns) == towns and len(got_villages) == villages
    assert got_towns == _nbs(code, "town")
    assert got_villages == _nbs(code, "village")
    # every village's parent is a town of this district, every town's parent the district
    assert con.execute("""SELECT count(*) FROM areas v LEFT JOIN areas t ON t.code = v.parent_code
                          WHERE v.level = 'village' AND (t.level IS DISTINCT FROM 'town')""").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM areas WHERE level = 'town' AND parent_code <> ?", [code]).fetchone()[0] == 0
    assert con.execute("SELECT value FROM meta WHERE key = 'district_code'").fetchone()[0] == code


def test_district_outline_is_the_real_one(tmp_path):
    db = tmp_path / "w.duckdb"
    CliRunner().invoke(main, ["--db", str(db), "init", "--district", "610902"])
    con = connect(db, read_only=True)
    wkb = con.execute("SELECT ST_AsWKB(geom) FROM areas WHERE level = 'district'").fetchone()[0]
    g = shapely.from_wkb(bytes(wkb))
    assert g.is_valid
    # Ankang city centre (109.02 E, 32.68 N) lies in 汉滨区; Xi'an (108.94, 34.34) does not.
    assert g.contains(shapely.Point(109.02, 32.68))
    assert not g.contains(shapely.Point(108.94, 34.34))


def test_init_refuses_to_overwrite_and_explains(tmp_path):
    db = tmp_path / "w.duckdb"
    runner = CliRunner()
    assert runner.invoke(main, ["--db", str(db), "init", "--district", "610902"]).exit_code == 0
    r = runner.invoke(main, ["--db", str(db), "init", "--district", "610902"])
    assert r.exit_code == 2 and "已存在" in r.output and "--force" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("query, words", [("鼓楼区", ["350102", "320106"]), ("不存在的区", ["不存在的区"])])
def test_init_with_a_bad_district_is_a_usage_error_naming_it(tmp_path, query, words):
    r = CliRunner().invoke(main, ["--db", str(tmp_path / "w.duckdb"), "init", "--district", query])
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    for w in words:
        assert w in r.output
    assert not (tmp_path / "w.duckdb").exists()
