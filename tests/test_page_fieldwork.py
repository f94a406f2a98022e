"""驻点走访 in AppTest: its first line names the must-visit village planted without visits, its
cards equal direct SQL over the raw tables, a town account sees its town, and partial
warehouses say what to load."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from conftest import ensure_account
from streamlit.testing.v1 import AppTest

from cli import main
from dashboard.session import ACCOUNT_KEY
from etl.db import connect

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def _page(monkeypatch, db, account=None, page="views/fieldwork.py") -> AppTest:
    monkeypatch.setenv("MINQING_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=240)
    if account is not None:
        at.session_state[ACCOUNT_KEY] = account
    at.switch_page(page)
    return at.run()


def _period(at: AppTest) -> tuple[str, str]:
    caption = next(c.value for c in at.caption if c.value.startswith("走访时段"))
    return tuple(re.search(r"走访时段 (\S+) 至 (\S+);", caption).groups())


def test_the_first_line_names_the_planted_village_and_the_cards_equal_sql(monkeypatch, demo_db, demo_truth):
    at = _page(monkeypatch, demo_db)
    assert not at.exception, [e.value for e in at.exception]
    planted = demo_truth["fieldwork"]["unvisited_must_visit"]
    start, end = _period(at)
    with connect(demo_db, read_only=True) as con:
        names = [n for (n,) in con.execute("SELECT name FROM areas WHERE code IN (SELECT unnest(?))", [planted]).fetchall()]
        stations = con.execute("SELECT count(*) FROM stations").fetchone()[0]
        households, visited = con.execute("""
            SELECT count(*), count(*) FILTER (h.household_id IN (SELECT household_id FROM visits
                                                                 WHERE visited_at BETWEEN ?::DATE AND ?::DATE))
            FROM households h""", [start, end]).fetchone()
        gaps = con.execute("SELECT count(*) FROM areas WHERE level = 'village'").fetchone()[0]
    first = next(w.value for w in at.warning if "演示数据" not in w.value)  # the page's first line after the banner
    assert first.startswith("五必去村(社区)时段内无干部走访") and all(n in first for n in names)
    idle = demo_truth["fieldwork"]["idle_town"]
    with connect(demo_db, read_only=True) as con:
        idle_name = con.execute("SELECT name FROM areas WHERE code = ?", [idle]).fetchone()[0]
    assert any(w.value.startswith("走访中断") and idle_name in w.value for w in at.warning)  # the first screen
    cards = {m.label: m for m in at.metric}
    assert cards["工作站"].value == f"{stations:,}"
    assert cards["走访覆盖户"].delta == f"{visited:,} / {households:,} 户"
    assert 0 < int(cards["五必去村无人走访"].value.replace(",", "")) <= gaps


def test_a_town_account_sees_its_towns_stations_and_cadres(monkeypatch, demo_db, demo_truth):
    town = demo_truth["fieldwork"]["idle_town"]
    with connect(demo_db, read_only=True) as con:
        name = con.execute("SELECT name FROM areas WHERE code = ?", [town]).fetchone()[0]
        stations = con.execute("SELECT count(*) FROM stations WHERE starts_with(area_code, ?)", [town]).fetchone()[0]
    at = _page(monkeypatch, demo_db, ensure_account(demo_db, "fw_town", "town", (town, name)))
    assert not at.exception, [e.value for e in at.exception]
    assert {m.label: m.value for m in at.metric}["工作站"] == f"{stations:,}"
    towns = set()
    for df in (d.value for d in at.dataframe):
        if "乡镇(街道)" in df.columns:
            towns |= set(df["乡镇(街道)"].dropna())
    assert towns <= {name}, towns


def test_partial_warehouses_say_what_to_load(monkeypatch, wh, tmp_path):
    at = _page(monkeypatch, wh)
    assert not at.exception and any("minqing load visits" in i.value for i in at.info)
    csv = tmp_path / "stations.csv"
    csv.write_text("工作站编号,工作站名称,所属乡镇,坐班日\nS1,新城工作站,新城街道,\"5,15,25\"\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["--db", str(wh), "load", "stations", str(csv)]).exit_code == 0
    at = _page(monkeypatch, wh)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert {m.label: m.value for m in at.metric}["工作站"] == "1"
    assert any("尚未导入" in c.value and "走访记录" in c.value for c in at.caption)
    visits = tmp_path / "visits.csv"
    visits.write_text("走访编号,干部编号,走访日期,所属乡镇\nV1,C1,2026-10-05,新城街道\nV2,C1,2026-10-15,新城街道\n",
                      encoding="utf-8")
    assert CliRunner().invoke(main, ["--db", str(wh), "load", "visits", str(visits)]).exit_code == 0
    at = _page(monkeypatch, wh)  # visits, but no households or cadres yet
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("尚未导入" in c.value and "民情数据库" in c.value for c in at.caption)


def test_an_area_profile_shows_its_stations_cadres_and_coverage(monkeypatch, demo_db, demo_truth):
    town = demo_truth["fieldwork"]["idle_town"]
    with connect(demo_db, read_only=True) as con:
        name = con.execute("SELECT name FROM areas WHERE code = ?", [town]).fetchone()[0]
        stations = con.execute("SELECT count(*) FROM stations WHERE starts_with(area_code, ?)", [town]).fetchone()[0]
    monkeypatch.setenv("MINQING_DB", str(demo_db))
    at = AppTest.from_file(APP, default_timeout=240)
    at.switch_page("views/area.py")
    at.query_params["town"] = name
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "驻点走访" in [s.value for s in at.subheader]
    assert {m.label: m.value for m in at.metric}["工作站"] == f"{stations:,}"
