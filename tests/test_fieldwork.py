"""驻点走访 (analysis/fieldwork.py, `minqing fieldwork`): every figure against an independent count
over the raw tables (visits, cadres, stations, households, cases, buildings) of the small demo,
the demo's planted patterns, and warehouses that lack some of the field-work data."""

from __future__ import annotations

import datetime as dt
import json
import math
import re

import pytest
from click.testing import CliRunner

from analysis import fieldwork as fw
from analysis.filters import CaseFilter
from cli import main

START, END = dt.date(2025, 11, 1), dt.date(2026, 10, 31)
FLT = CaseFilter(START, END)
P = {"s": START, "e": END}


def _q(con, sql, params=None):
    return con.execute(sql, params or {}).fetchall()


# ---------------------------------------------------------------------------- stations

def test_station_cases_proxy_petitions_and_presence_equal_raw_counts(con):
    got = fw.stations(con, FLT).set_index("station_id")
    assert len(got) == _q(con, "SELECT count(*) FROM stations")[0][0]
    cases = dict((s, (n, p)) for s, n, p in _q(con, """
        SELECT s.station_id, count(c.case_id), count(c.case_id) FILTER (c.channel = '代理信访')
        FROM stations s LEFT JOIN cases c ON c.area_code LIKE s.area_code || '%'
             AND CAST(c.received_at AS DATE) BETWEEN $s AND $e GROUP BY 1""", P))
    assert {s: (r.cases, r.proxy_petitions) for s, r in got.iterrows()} == cases
    assert got["proxy_petitions"].sum() > 0
    visit_days: dict[str, set] = {}
    for area, day in _q(con, "SELECT DISTINCT area_code, visited_at FROM visits WHERE visited_at BETWEEN $s AND $e", P):
        visit_days.setdefault(area, set()).add(day)
    days = [START + dt.timedelta(d) for d in range((END - START).days + 1)]
    for sid, area, written in _q(con, "SELECT station_id, area_code, reception_days FROM stations"):
        numbers = {int(x) for x in re.findall(r"\d+", written or "")}
        mine = [d for d in days if d.day in numbers]
        present = [d for d in mine if any(d in v for a, v in visit_days.items() if a.startswith(area))]
        r = got.loc[sid]
        assert (r.reception_days_in_period, r.days_with_visits) == (len(mine), len(present)), sid
        assert r.reception_days == ",".join(str(n) for n in sorted(numbers))
    assert got["days_with_visits"].sum() > 0


def test_villages_without_station_and_buildings_with_a_station(con):
    want = {c for (c,) in _q(con, """SELECT code FROM areas WHERE level = 'village'
                                      AND code NOT IN (SELECT area_code FROM stations)""")}
    assert set(fw.villages_without_station(con, FLT)["area_code"]) == want
    b = fw.buildings(con, FLT).set_index("building_id")
    flagged = {i for (i,) in _q(con, """SELECT building_id FROM buildings WHERE has_station
                                         OR building_id IN (SELECT building_id FROM stations)""")}
    assert set(b.index[b["has_station"]]) == flagged
    assert set(b["kind"]) <= {"商务楼宇", "非公企业", "商业街区"}


def test_cases_count_at_the_nearest_building_within_the_radius(con, monkeypatch):
    monkeypatch.setenv("MINQING_FIELDWORK_BUILDING_RADIUS_M", "400")
    got = fw.buildings(con, FLT).set_index("building_id")["cases"].to_dict()
    blds = _q(con, "SELECT building_id, lon, lat FROM buildings")
    want = {b: 0 for b, _, _ in blds}
    for lon, lat in _q(con, """SELECT lon, lat FROM cases WHERE lon IS NOT NULL
                               AND CAST(received_at AS DATE) BETWEEN $s AND $e""", P):
        d, b = min((_haversine(lon, lat, blon, blat), b) for b, blon, blat in blds)
        if d <= 400:
            want[b] += 1
    assert got == want and sum(want.values()) > 0


def _haversine(lon1, lat1, lon2, lat2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371000 * math.asin(math.sqrt(a))


# ---------------------------------------------------------------------------- cadres

def test_visits_per_cadre_and_the_target_equal_raw_counts(con, monkeypatch):
    monkeypatch.setenv("MINQING_FIELDWORK_VISITS_PER_MONTH", "2")  # some cadres meet it on the small demo
    flt, p = CaseFilter(dt.date(2026, 5, 1), dt.date(2026, 6, 30)), {"s": dt.date(2026, 5, 1), "e": dt.date(2026, 6, 30)}
    got = fw.cadre_visits(con, flt).set_index("cadre_id")
    want = dict(_q(con, """SELECT c.cadre_id, count(v.visit_id) FROM cadres c LEFT JOIN visits v
                            ON v.cadre_id = c.cadre_id AND v.visited_at BETWEEN $s AND $e GROUP BY 1""", p))
    assert got["visits"].to_dict() == want
    assert set(got["months"]) == {2.0}
    assert set(got.index[got["meets_target"]]) == {c for c, n in want.items() if n >= 4} != set()
    assert set(fw.cadres_without_visits(con, flt)["cadre_id"]) == {c for c, n in want.items() if n == 0}
    by_town = fw.cadre_summary(con, flt, "town").set_index("town")
    raw = _q(con, """WITH n AS (SELECT c.cadre_id, c.area_code, count(v.visit_id) AS k FROM cadres c LEFT JOIN visits v
                                ON v.cadre_id = c.cadre_id AND v.visited_at BETWEEN $s AND $e GROUP BY 1, 2)
                     SELECT t.name, count(*), count(*) FILTER (k >= 4) FROM n JOIN areas t ON t.code = left(n.area_code, 9)
                     GROUP BY 1""", p)
    for town, cadres, meeting in raw:
        assert (by_town.loc[town, "cadres"], by_town.loc[town, "meeting"]) == (cadres, meeting), town
        assert by_town.loc[town, "share"] == pytest.approx(meeting / cadres)
    assert by_town.loc[fw.NO_TOWN, "cadres"] == _q(con, "SELECT count(*) FROM cadres WHERE area_code IS NULL")[0][0]
    by_unit = fw.cadre_summary(con, flt, "unit").set_index("unit")["cadres"].to_dict()
    assert by_unit == dict(_q(con, "SELECT coalesce(unit, '未填单位'), count(*) FROM cadres GROUP BY 1"))
    assert set(got.columns) & {"name", "name_hash"} == set()


def test_the_idle_towns_cadres_have_no_visit_in_its_last_months(con, demo_truth):
    idle = demo_truth["fieldwork"]["idle_town"]
    last3 = CaseFilter(dt.date(2026, 8, 1), END)
    raw = _q(con, """SELECT count(*) FROM visits v JOIN cadres c USING (cadre_id)
                     WHERE left(c.area_code, 9) = ? AND v.visited_at >= '2026-08-01'""", [idle])[0][0]
    assert raw == 0
    cadres = {c for (c,) in _q(con, "SELECT cadre_id FROM cadres WHERE left(area_code, 9) = ?", [idle])}
    assert cadres and cadres <= set(fw.cadres_without_visits(con, last3)["cadre_id"])
    top = fw.cadre_summary(con, last3, "town").iloc[0]
    assert top["area_code"] == idle and top["without_visits"] == top["cadres"] == len(cadres) and top["meeting"] == 0
    # the same cadres did visit earlier in the year
    assert fw.cadre_summary(con, FLT, "town").set_index("area_code").loc[idle, "visits"] > 0


def test_the_idle_town_is_named_as_an_interrupted_town_and_equals_raw_counts(con, demo_truth):
    town = demo_truth["fieldwork"]["idle_town"]
    flt = fw.closed(con, CaseFilter())
    cutoff = flt.end - dt.timedelta(days=60)
    want = {t: (before, last) for t, before, last in con.execute("""
        SELECT substr(area_code, 1, 9), count(*) FILTER (visited_at <= ?), max(visited_at) FROM visits
        WHERE visited_at BETWEEN ? AND ? AND length(area_code) >= 9 GROUP BY 1
        HAVING count(*) FILTER (visited_at > ?) = 0 AND count(*) FILTER (visited_at <= ?) > 0""",
        [cutoff, flt.start, flt.end, cutoff, cutoff]).fetchall()}
    got = fw.idle_towns(con, flt, days=60)
    assert town in set(got["area_code"])
    assert {r.area_code: (r.visits_before, r.last_visit.date()) for r in got.itertuples()} == want


def test_pairing_load_against_the_range_names_masked_cadres_only(con, monkeypatch):
    monkeypatch.setenv("MINQING_FIELDWORK_PAIRS_MAX", "4")
    monkeypatch.setenv("MINQING_FIELDWORK_PAIRS_MIN", "4")
    got = fw.pairing_load(con).set_index("cadre_id")
    want = dict(_q(con, """SELECT trim(paired_cadre_id), count(*) FROM households
                            WHERE nullif(trim(paired_cadre_id), '') IS NOT NULL GROUP BY 1"""))
    assert got["households"].to_dict() == want
    assert set(got.index[got["load"] == "over"]) == {c for c, n in want.items() if n > 4} != set()
    assert set(got.index[got["load"] == "under"]) == {c for c, n in want.items() if n < 4} != set()
    assert list(got["load"].iloc[:1]) == ["over"]
    masked = dict(_q(con, "SELECT cadre_id, name_masked FROM cadres"))
    assert all(got.loc[c, "name_masked"] == masked.get(c) for c in got.index)
    assert got["name_masked"].str.contains(r"\*").all()


# ---------------------------------------------------------------------------- households and villages

def test_households_reached_by_category_and_must_see_group_equal_raw_counts(con):
    got = fw.households_reached(con, FLT).set_index("label")
    visited = "household_id IN (SELECT household_id FROM visits WHERE visited_at BETWEEN $s AND $e)"
    for label, cond in [("放心户", "category = '放心户'"), ("关心户", "category = '关心户'"), ("连心户", "category = '连心户'"),
                        ("贫困户", "poor"), ("五保户", "wubao"), ("老党员", "old_party_member"), ("两代一委", "deputy"),
                        ("村组干部", "village_cadre")]:
        n, v = _q(con, f"SELECT count(*), count(*) FILTER ({visited}) FROM households WHERE {cond}", P)[0]
        assert (got.loc[label, "households"], got.loc[label, "visited"]) == (n, v), label
        assert got.loc[label, "share"] == pytest.approx(v / n)
    assert got.loc["连心户", "visited"] > 0


def test_key_households_without_a_recent_visit_most_overdue_first(con):
    got = fw.unvisited_key_households(con, FLT, days=365)
    want = {h for (h,) in _q(con, """SELECT household_id FROM households WHERE category = '连心户' AND household_id NOT IN
        (SELECT household_id FROM visits WHERE household_id IS NOT NULL AND visited_at > DATE '2026-10-31' - 365
         AND visited_at <= DATE '2026-10-31')""")}
    assert set(got["household_id"]) == want and 0 < len(want) < _q(con, "SELECT count(*) FROM households WHERE category = '连心户'")[0][0]
    last = got["last_visit"]
    assert last.isna().sum() == 0 or last.isna().iloc[: last.isna().sum()].all()  # never visited first
    assert last.dropna().is_monotonic_increasing
    assert len(fw.unvisited_key_households(con, FLT)) >= len(got)  # the default 90 days lists at least as many


def test_village_coverage_equals_raw_counts_and_the_unvisited_must_visit_village_is_first(con, demo_truth):
    cov = fw.village_coverage(con, FLT).set_index("area_code")
    raw = _q(con, """SELECT a.code, (SELECT count(*) FROM households h WHERE h.area_code = a.code),
                            (SELECT count(*) FROM households h WHERE h.area_code = a.code AND h.household_id IN
                                (SELECT household_id FROM visits WHERE visited_at BETWEEN $s AND $e)),
                            (SELECT count(*) FROM visits v WHERE v.area_code = a.code AND v.visited_at BETWEEN $s AND $e)
                     FROM areas a WHERE a.level = 'village'""", P)
    assert {c: (r.households, r.visited_households, r.visits) for c, r in cov.iterrows()} == {c: (h, v, n) for c, h, v, n in raw}
    planted = demo_truth["fieldwork"]["unvisited_must_visit"][0]
    assert _q(con, "SELECT count(*) FROM visits WHERE area_code = ? AND visited_at >= '2025-11-01'", [planted])[0][0] == 0
    first = fw.must_visit_unvisited(con, FLT)
    assert first.iloc[0]["area_code"] == planted and first.iloc[0]["must_visit_flags"]
    assert (first["visits"] == 0).all() and first["must_visit"].all()


def test_the_area_scope_keeps_the_towns_rows(con, demo_truth):
    town = demo_truth["fieldwork"]["idle_town"]
    scoped = CaseFilter(START, END, area_prefix=town)
    for df in (fw.stations(con, scoped), fw.village_coverage(con, scoped), fw.buildings(con, scoped)):
        assert df["area_code"].str.startswith(town).all()
    n = _q(con, "SELECT count(*) FROM households WHERE category = '连心户' AND area_code LIKE ? || '%'", [town])[0][0]
    assert fw.households_reached(con, scoped).set_index("label").loc["连心户", "households"] == n


# ---------------------------------------------------------------------------- the command

def test_the_command_prints_the_unvisited_must_visit_village_first_and_every_table_as_json(demo_db, demo_truth):
    planted = demo_truth["fieldwork"]["unvisited_must_visit"][0]
    r = CliRunner().invoke(main, ["--db", str(demo_db), "fieldwork", "--from", "2025-11-01", "--to", "2026-10-31"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[1].startswith("五必去村(社区)本时段无走访: 1 个") and planted in lines[2]
    assert "群众工作站: " in r.stdout and "连心户 90 天内无走访" in r.stdout
    j = CliRunner().invoke(main, ["--db", str(demo_db), "fieldwork", "--from", "2025-11-01", "--to", "2026-10-31", "--json"])
    doc = json.loads(j.stdout)
    assert set(doc) >= {"period", "missing", "stations", "cadres", "pairing", "households_reached", "buildings"}
    assert doc["must_visit_unvisited"][0]["area_code"] == planted and doc["missing"] == []
    assert sum(s["cases"] for s in doc["stations"]) == sum(fw.stations(_con(demo_db), FLT)["cases"])


def _con(db):
    from etl.db import connect

    return connect(db, read_only=True)


# ---------------------------------------------------------------------------- partial warehouses

def _load(db, kind, path):
    r = CliRunner().invoke(main, ["--db", str(db), "load", kind, str(path)])
    assert r.exit_code == 0, r.output


def _village(db):
    with _con(db) as c:
        return c.execute("""SELECT v.code, v.name, t.name FROM areas v JOIN areas t ON t.code = v.parent_code
                            WHERE v.level = 'village' ORDER BY v.code LIMIT 1""").fetchone()


@pytest.fixture
def cases_only(wh, tmp_path):
    code, village, town = _village(wh)
    f = tmp_path / "cases.csv"
    f.write_text("受理编号,受理时间,诉求来源,问题类别,办理状态,所属乡镇,所属村\n"
                 f"A1,2026-01-05,代理信访,道路交通,已办结,{town},{village}\n"
                 f"A2,2026-01-15,群工热线,道路交通,办理中,{town},{village}\n", encoding="utf-8")
    _load(wh, "cases", f)
    return wh


def test_a_warehouse_with_cases_only_returns_empty_tables_and_says_what_to_load(cases_only):
    with _con(cases_only) as c:
        for f in (fw.stations, fw.villages_without_station, fw.cadre_visits, fw.pairing_load, fw.buildings,
                  fw.households_reached, fw.unvisited_key_households, fw.village_coverage, fw.must_visit_unvisited):
            assert f(c, CaseFilter()).empty, f.__name__
        assert fw.missing(c) == ["stations", "cadres", "visits", "households", "buildings"]
    r = CliRunner().invoke(main, ["--db", str(cases_only), "fieldwork"])
    assert r.exit_code == 0, r.output
    assert "尚未导入: 群众工作站、干部名册、走访记录、民情数据库 (户)" in r.stdout and "minqing load stations" in r.stdout


def test_stations_without_visits_show_their_days_and_cases(cases_only, tmp_path):
    code, village, town = _village(cases_only)
    f = tmp_path / "stations.csv"
    f.write_text(f"工作站编号,工作站名称,所属乡镇,所属村(社区),坐班日\nS1,一号站,{town},{village},每月5日、15日\n", encoding="utf-8")
    _load(cases_only, "stations", f)
    with _con(cases_only) as c:
        st = fw.stations(c, CaseFilter(dt.date(2026, 1, 1), dt.date(2026, 1, 31)))
        assert st[["reception_days", "reception_days_in_period", "days_with_visits", "cases", "proxy_petitions"]] \
            .values.tolist() == [["5,15", 2, 0, 2, 1]]
        others = c.execute("SELECT count(*) FROM areas WHERE level = 'village' AND code <> ?", [code]).fetchone()[0]
        assert len(fw.villages_without_station(c, CaseFilter())) == others
        assert fw.village_coverage(c, CaseFilter()).empty and fw.cadre_visits(c, CaseFilter()).empty
    r = CliRunner().invoke(main, ["--db", str(cases_only), "fieldwork", "--from", "2026-01-01", "--to", "2026-01-31"])
    assert r.exit_code == 0, r.output
    assert "群众工作站: 1 个; 坐班日有走访记录 0/2 天" in r.stdout and "走访记录" in r.stdout


def test_visits_without_households_count_per_cadre_and_village(cases_only, tmp_path):
    code, village, town = _village(cases_only)
    f = tmp_path / "visits.csv"
    f.write_text("走访编号,干部编号,走访日期,所属乡镇,所属村(社区)\n"
                 f"V1,K1,2026-01-05,{town},{village}\nV2,K1,2026-01-20,{town},{village}\nV3,K2,2026-01-21,{town},{village}\n",
                 encoding="utf-8")
    _load(cases_only, "visits", f)
    flt = CaseFilter(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    with _con(cases_only) as c:
        cv = fw.cadre_visits(c, flt).set_index("cadre_id")
        assert cv["visits"].to_dict() == {"K1": 2, "K2": 1} and not cv["in_roster"].any()
        cov = fw.village_coverage(c, flt).set_index("area_code")
        assert cov.loc[code, "visits"] == 3 and cov["visits"].sum() == 3 and cov.loc[code, "households"] == 0
        assert fw.households_reached(c, flt).empty and fw.unvisited_key_households(c, flt).empty
    r = CliRunner().invoke(main, ["--db", str(cases_only), "fieldwork", "--from", "2026-01-01", "--to", "2026-01-31", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert "households" in doc["missing"] and len(doc["cadres"]) == 2
