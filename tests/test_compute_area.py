"""What 区域档案 computes (dashboard.compute.area, .changes, .households, .must_visit), without
AppTest: on the small demo's analyses, checked against direct SQL over the raw tables and
against hand-made inputs."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from analysis import areas, households
from analysis.filters import CaseFilter
from analysis.hotspots import area_hotspots
from analysis.must_visit import FLAG_LABELS, must_visit
from dashboard.compute import area as view
from dashboard.compute import changes
from dashboard.compute import households as homes_view
from geo.getis_ord import CLASS_LABELS

START, END = dt.date(2025, 11, 1), dt.date(2026, 10, 31)
FLT = CaseFilter(START, END)


def _village(con) -> str:
    return con.execute("SELECT area_code FROM cases WHERE length(area_code) = 12 GROUP BY 1 "
                       "ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]


def _count(con, sql: str, *params) -> int:
    return con.execute(sql, list(params)).fetchone()[0]


def _per_1000(con, prefix: str, flt: CaseFilter = FLT) -> float | None:
    """Cases received per 1,000 households of the area, straight from the raw tables."""
    n = _count(con, "SELECT count(*) FROM cases WHERE starts_with(area_code, ?) AND CAST(received_at AS DATE) BETWEEN ? AND ?",
               prefix, flt.start, flt.end)
    homes = _count(con, "SELECT count(*) FROM households WHERE starts_with(area_code, ?)", prefix)
    return n / homes * 1000 if homes else None


def _place(con, code: str) -> view.Place:
    towns = dict(con.execute("SELECT code, name FROM areas WHERE level = 'town' ORDER BY code").fetchall())
    town = code[:9] if code else None
    villages = dict(con.execute("SELECT code, name FROM areas WHERE level = 'village' AND starts_with(code, ?) ORDER BY code",
                                [town]).fetchall()) if town else {}
    return view.place(CaseFilter(START, END, area_prefix=code), {"district_code": "610902", "district_name": "汉滨区"},
                      towns, villages)


def test_place_names_the_area_its_trail_and_children(con):
    village = _village(con)
    names = dict(con.execute("SELECT code, name FROM areas").fetchall())
    here = _place(con, village)
    assert (here.level, here.code, here.name) == ("village", village, names[village])
    assert here.trail == (("", "汉滨区"), (village[:9], names[village[:9]]), (village, names[village]))
    assert here.caption("筛选") == f"村(社区) · 区划代码 {village} · 筛选"
    town = _place(con, village[:9])
    n = _count(con, "SELECT count(*) FROM areas WHERE level = 'village' AND starts_with(code, ?)", village[:9])
    assert town.level == "town" and len(town.children) == n and f"下辖 {n} 个村(社区)" in town.caption("")
    district = _place(con, "")
    assert district.level == "district" and district.name == "汉滨区" and district.trail == (("", "汉滨区"),)
    assert district.caption("") == "区(县) · 区划代码 610902 · 下辖 28 个乡镇(街道)"


def test_picker_offers_children_or_neighbours_named_with_their_town(con):
    village = _village(con)
    near = areas.neighbours(con, village)
    options, label, _ = view.picker(_place(con, village), near)
    towns = dict(con.execute("SELECT code, name FROM areas WHERE level = 'town'").fetchall())
    names = dict(con.execute("SELECT code, name FROM areas").fetchall())
    assert label == "切换到相邻村(社区)" and set(options) == set(near["code"])
    assert all(options[c] == f"{names[c]} ({towns[c[:9]]})" for c in options)
    options, label, _ = view.picker(_place(con, ""), None)
    assert label == "查看下辖乡镇(街道)" and options == towns


@pytest.mark.parametrize("level", ["district", "town", "village"])
def test_per_1000_of_the_card_is_the_areas_and_the_districts_rate(con, level):
    village = _village(con)
    code = {"district": "", "town": village[:9], "village": village}[level]
    area_rate, district_rate = view.per_1000(areas.comparison(con, code, FLT), level)
    assert area_rate == pytest.approx(_per_1000(con, code))
    assert district_rate == pytest.approx(_per_1000(con, ""))


def test_per_1000_is_none_without_households():
    rows = pd.DataFrame({"role": ["self", "district_mean"], "per_1000": [float("nan"), 3.0]})
    assert view.per_1000(rows, "village") == (None, 3.0)


def test_changes_in_words():
    up = {"previous": 10, "pop_change": 5, "pop_pct": 0.5, "last_year": 20, "yoy_change": -5, "yoy_pct": -0.25}
    rate = {"previous": 0.9, "pop_change": 0.0004, "pop_pct": None, "last_year": None, "yoy_change": None, "yoy_pct": None}
    assert changes.change_text(up, False) == "+50.0% 环比"
    assert changes.change_text(rate, True) == "+0.0 个百分点 环比" and changes.unchanged(rate, True)
    assert not changes.unchanged(up, False) and changes.unchanged({**up, "pop_change": 0}, False)
    assert changes.last_year_text(up, False) == "去年同期 20, 同比 -25.0%"
    assert changes.last_year_text(rate, True) == "去年同期无数据"
    assert changes.value_text(1234, False) == "1,234" and changes.value_text(0.98765, True) == "98.8%"
    assert changes.fmt_rate(None) == "—"


def test_change_table_has_a_row_per_figure_with_its_periods(con):
    from analysis import metrics

    s = metrics.case_summary(con, CaseFilter(START, END), compare=True)
    table = changes.change_table(s)
    assert list(table["指标"]) == [metrics.LABELS[k] for k, _ in changes.CHANGE_ROWS]
    received = _count(con, "SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) BETWEEN ? AND ?", START, END)
    before = _count(con, "SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) BETWEEN ? AND ?",
                    dt.date(2024, 11, 1), dt.date(2025, 10, 31))
    row = table.iloc[0]
    assert row[f"本期 ({START}~{END})"] == f"{received:,}"
    assert row["同比"] == f"{(received - before) / before * 100:+.1f}%"


def test_household_summary_counts_the_area(con):
    village = _village(con)
    t = {k: f(con, "town", area_prefix=village[:9]) for k, f in (("categories", households.category_counts),
                                                                   ("pairing", households.pairing_coverage),
                                                                   ("must_see", households.must_see_counts))}
    got = homes_view.summary(t["categories"], t["pairing"], t["must_see"])
    homes, key, paired, poor = con.execute("""
        SELECT count(*), count(*) FILTER (category = '连心户'),
               count(*) FILTER (category = '连心户' AND nullif(trim(paired_cadre_id), '') IS NOT NULL),
               count(*) FILTER (poor) FROM households WHERE starts_with(area_code, ?)""", [village[:9]]).fetchone()
    assert got["households"] == homes and got["key_households"] == key and got["paired"] == paired
    assert dict((t_, n) for t_, n, _ in got["kinds"])["连心户"] == key
    assert got["coverage"] == pytest.approx(paired / key) and got["must_see"]["贫困户"] == poor


def test_hot_spot_figures_count_the_areas_inside(con):
    village = _village(con)
    vil = area_hotspots(con, "village", FLT, lisa=True)
    towns = area_hotspots(con, "town", FLT, lisa=False)
    hot = {"hot_99", "hot_95", "hot_90"}
    inside = [c for c, k in zip(vil["area_code"], vil["class"]) if c.startswith(village[:9])]
    town = view.hot_spots(vil, towns, _place(con, village[:9]))
    assert town["villages"] == len(inside)
    assert town["hot_villages"] == sum(1 for c, k in zip(vil["area_code"], vil["class"]) if c.startswith(village[:9]) and k in hot)
    assert town["class"] == dict(zip(towns["area_code"], towns["class"]))[village[:9]]
    me = view.hot_spots(vil, towns, _place(con, village))
    assert (me["class"], me["lisa"]) == tuple(vil.loc[vil["area_code"] == village, ["class", "lisa"]].iloc[0])
    assert view.hot_spots(vil, towns, _place(con, ""))["hot_towns"] == sum(k in hot for k in towns["class"])


def test_visit_list_and_flags_follow_must_visit(con):
    mv = must_visit(con)
    village = mv.loc[mv["flags"].map(len) > 0, "area_code"].iloc[0]
    town = village[:9]
    visit = view.visit_list(mv, town, FLAG_LABELS)
    want = [(n, s) for c, n, f, s in zip(mv["area_code"], mv["name"], mv["flags"], mv["score"]) if f and c.startswith(town)]
    assert list(zip(visit["村(社区)"], visit["优先得分"])) == want
    flags = view.village_flags(mv, village, FLAG_LABELS)
    me = mv[mv["area_code"] == village].iloc[0]
    assert list(flags["标记"]) == [FLAG_LABELS[f] for f in me["flags"]] and list(flags["原因"]) == list(me["reasons"])
    assert view.village_flags(mv, "610902999999", FLAG_LABELS).empty


def test_trend_lines_are_per_1000_households_of_the_area_and_the_district(con):
    village = _village(con)
    monthly = areas.monthly(con, village, FLT)
    here = _place(con, village)
    assert view.can_compare_per_1000(monthly, "village") and not view.can_compare_per_1000(monthly, "district")
    lines = view.trend_lines(monthly, here, "per_1000")
    assert [ln["name"] for ln in lines] == [f"{here.name} 受理", f"{here.name} 已办结", "全区(汉滨区) 受理", "全区(汉滨区) 已办结"]
    homes = _count(con, "SELECT count(*) FROM households WHERE starts_with(area_code, ?)", village)
    n = dict(con.execute("""SELECT strftime(received_at, '%Y-%m'), count(*) FROM cases WHERE area_code = ?
                            AND CAST(received_at AS DATE) BETWEEN ? AND ? GROUP BY 1""", [village, START, END]).fetchall())
    assert list(lines[0]["y"]) == [round(n.get(m, 0) / homes * 1000, 2) for m in lines[0]["x"]]
    assert [ln["name"] for ln in view.trend_lines(monthly, here, "count")] == [f"{here.name} 受理", f"{here.name} 已办结"]


def test_map_frame_shows_per_1000_or_a_dash(con):
    village = _village(con)
    figs = areas.figures(con, FLT, "village")
    shapes = con.execute("SELECT code, name, ST_AsWKB(geom) AS wkb FROM areas WHERE level = 'village' AND starts_with(code, ?)",
                         [village[:9]]).df()
    gdf = gpd.GeoDataFrame(shapes.drop(columns="wkb"), geometry=shapely.from_wkb(shapes["wkb"].map(bytes)), crs="EPSG:4326")
    frame, tooltip = view.map_frame(gdf, figs, "town")
    for code, shown in zip(frame["code"], frame["per_1000_show"]):
        want = _per_1000(con, code)
        assert shown == ("—" if want is None else f"{want:.1f}")
    assert list(tooltip) == ["name", "town", "received", "households", "per_1000_show"]


def test_figures_table_rounds_average_rows_and_names_roles(con):
    village = _village(con)
    rows = areas.comparison(con, village, FLT)
    hot = area_hotspots(con, "village", FLT, lisa=False)
    out = view.figures_table(rows, "village", "village", hot)
    assert list(out["类型"]) == ["本村(社区)"] + ["相邻"] * (len(rows) - 3) + ["所属乡镇平均", "全区平均"]
    mean = out.iloc[-1]
    n = _count(con, "SELECT count(*) FROM areas WHERE level = 'village'")
    received = _count(con, "SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) BETWEEN ? AND ?", START, END)
    assert mean["受理诉求"] == round(received / n, 1) and mean["每千户诉求排名"] == "—" and mean["热点分类"] == ""
    me = out.iloc[0]
    assert me["每千户诉求排名"] == f"{int(rows['per_1000_rank'].iloc[0])}/{int(rows['ranked'].iloc[0])}"
    assert me["热点分类"] == CLASS_LABELS[dict(zip(hot["area_code"], hot["class"]))[village]]
    assert "热点分类" not in view.figures_table(rows, "village", "village", pd.DataFrame()).columns
