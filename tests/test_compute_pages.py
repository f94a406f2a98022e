"""What 总览, 热点地图, 民情分类, 未办结, 五必去 and 排名 compute (dashboard.compute), without AppTest:
on the small demo's analyses, checked against direct SQL over the raw tables or shapely; the
page list; the one definition of cases per 1,000 households (mq_per_1000)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from analysis import areas, households, metrics
from analysis.case_lists import overdue_cases
from analysis.filters import CaseFilter
from analysis.hotspots import area_hotspots, cell_centres, emerging, hex_hotspots, point_coverage
from analysis.must_visit import FLAG_LABELS, must_visit
from analysis.rankings import RANKING_MIN_CASES, rankings as rank_units
from dashboard import pages
from dashboard.compute import hotspots, must_visit as visits, open_cases, overview, rankings
from dashboard.compute import households as homes_view
from etl.db import REPO_ROOT
from etl.views import ensure_views

START, END = dt.date(2025, 11, 1), dt.date(2026, 10, 31)
FLT = CaseFilter(START, END)
OPEN = ("受理", "交办", "办理中")


def _shapes(con, prefix: str = "") -> gpd.GeoDataFrame:
    """Raw village outlines with their town's name, as data.area_shapes gives them (unsimplified)."""
    df = con.execute("""SELECT v.code, v.name, t.name AS town, ST_AsWKB(v.geom) AS wkb FROM areas v
                        JOIN areas t ON t.code = left(v.code, 9) WHERE v.level = 'village' AND starts_with(v.code, ?)
                        ORDER BY v.code""", [prefix]).df()
    return gpd.GeoDataFrame(df.drop(columns="wkb"), geometry=shapely.from_wkb(df["wkb"].map(bytes)), crs="EPSG:4326")


def _town(con) -> str:
    return con.execute("SELECT left(area_code, 9) FROM cases GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]


# ---------------------------------------------------------------------------- the page list and per 1,000

def test_every_view_is_listed_once_and_the_app_builds_from_the_list():
    files = {f"views/{p.name}" for p in (REPO_ROOT / "dashboard" / "views").glob("*.py") if p.name != "__init__.py"}
    assert {p.file for p in pages.PAGES} == files and len(pages.PAGES) == len(files)
    assert [p.url_path for p in pages.PAGES].count("") == 1  # one default page
    assert len({p.url_path for p in pages.PAGES}) == len(pages.PAGES)
    assert pages.page("area").url_path == "area"
    with pytest.raises(KeyError, match="nowhere"):
        pages.page("nowhere")
    app = (REPO_ROOT / "dashboard" / "app.py").read_text(encoding="utf-8")
    assert "views/" not in app and "pages_for(" in app  # the navigation is built from the one list, per role


def test_mq_per_1000_is_null_without_households(con):
    ensure_views(con)
    got = con.execute("SELECT mq_per_1000(5, 0), mq_per_1000(5, NULL), mq_per_1000(3, 7), mq_per_1000(0, 4)").fetchone()
    assert got[:2] == (None, None) and got[2] == 3 / 7 * 1000 and got[3] == 0


def test_hot_spot_rates_are_cases_per_1000_households(con):
    hs = area_hotspots(con, "village", FLT, lisa=False).set_index("area_code")
    cases = dict(con.execute("SELECT area_code, count(*) FROM cases WHERE CAST(received_at AS DATE) BETWEEN ? AND ? GROUP BY 1",
                             [START, END]).fetchall())
    homes = dict(con.execute("SELECT area_code, count(*) FROM households GROUP BY 1").fetchall())
    for code, rate in hs["rate"].items():
        h = homes.get(code, 0)
        assert (rate != rate) if not h else rate == pytest.approx(cases.get(code, 0) / h * 1000), code


# ---------------------------------------------------------------------------- 总览

def test_overview_months_list_every_month_of_the_period(con):
    by_month = metrics.case_metrics_by(con, CaseFilter(START, END), "month", measures=["received", "closed"])
    got = overview.months(by_month, START, END)
    want = dict(con.execute("""SELECT strftime(received_at, '%Y-%m'), count(*) FROM cases
                               WHERE CAST(received_at AS DATE) BETWEEN ? AND ? GROUP BY 1""", [START, END]).fetchall())
    assert len(got) == 12 and dict(zip(got["month"], got["received"])) == {m: want.get(m, 0) for m in got["month"]}


def test_overview_groups_drop_empty_ones_most_first(con):
    by = metrics.case_metrics_by(con, CaseFilter(START, END), "category", measures=["received", "closed", "open", "overdue"])
    got = overview.groups(by, "category")
    want = con.execute("""SELECT category, count(*) FROM cases WHERE CAST(received_at AS DATE) BETWEEN ? AND ?
                          GROUP BY 1 ORDER BY 2 DESC""", [START, END]).fetchall()
    assert sorted(zip(got["category"], got["received"])) == sorted(want)
    assert list(got["received"]) == sorted(got["received"], reverse=True)
    assert list(overview.groups_table(got, "category").columns) == ["问题类别", "受理诉求", "已办结", "未办结", "超期未办结"]


def test_overview_village_map_shows_each_villages_figures(con):
    town = _town(con)
    figs = areas.figures(con, FLT, "village")
    gdf = overview.village_map(_shapes(con, town), figs, "per_1000")
    table = overview.village_table(gdf)
    homes = dict(con.execute("SELECT area_code, count(*) FROM households GROUP BY 1").fetchall())
    cases = dict(con.execute("""SELECT area_code, count(*) FROM cases WHERE CAST(received_at AS DATE) BETWEEN ? AND ?
                                GROUP BY 1""", [START, END]).fetchall())
    for code, got in zip(table["区划代码"], table["每千户诉求"]):
        h = homes.get(code, 0)
        assert got == (round(cases.get(code, 0) / h * 1000, 1) if h else 0), code
    assert list(table["受理诉求"]) == [cases.get(c, 0) for c in table["区划代码"]]


# ---------------------------------------------------------------------------- 民情分类

def test_household_table_and_map_per_village(con):
    town = _town(con)
    tables = {"categories": households.category_counts(con, "village", area_prefix=town),
              "pairing": households.pairing_coverage(con, "village", area_prefix=town),
              "must_see": households.must_see_counts(con, "village", area_prefix=town)}
    table = homes_view.area_table(tables, "村(社区)")
    want = con.execute("""SELECT a.name, count(h.household_id), count(h.household_id) FILTER (h.category = '连心户')
                          FROM areas a LEFT JOIN households h ON h.area_code = a.code
                          WHERE a.level = 'village' AND starts_with(a.code, ?) GROUP BY a.code, a.name ORDER BY a.code""",
                       [town]).fetchall()
    assert list(zip(table["村(社区)"], table["户数"], table["连心户"])) == want
    gdf = homes_view.share_map_frame(_shapes(con, town), tables["categories"])
    assert list(gdf["share_pct"]) == [round(k / n * 100, 1) if n else 0 for _, n, k in want]


# ---------------------------------------------------------------------------- 热点地图

def test_village_frame_and_significant_villages_follow_the_analysis(con):
    hs = area_hotspots(con, "village", FLT, lisa=True)
    gdf, tested = hotspots.village_frame(_shapes(con), hs, lisa=True)
    assert tested.startswith("每千户诉求率")
    for method in ("gi", "lisa"):
        table = hotspots.significant_villages(hotspots.labelled(gdf.copy(), method), method)
        column, labels, keys = hotspots.METHODS[method]
        want = hs[hs[column].isin(keys)]
        assert set(table["区划代码"]) == set(want["area_code"])
        assert list(table["诉求件数"]) == sorted(want["cases"], reverse=True)
        assert set(table["分类"]) <= {labels[k] for k in keys}


def test_month_frame_and_table_are_that_months_bins(con):
    _, bins = emerging(con, FLT)
    month = bins.loc[bins["class"] == "hot", "bin"].iloc[0]
    gdf = hotspots.month_frame(_shapes(con), bins, month)
    part = bins[bins["bin"] == month]
    assert int((gdf["gi"] == "hot_95").sum()) == int((part["class"] == "hot").sum())
    table = hotspots.month_table(gdf, month)
    assert set(table["区划代码"]) == set(part.loc[part["class"] != "none", "location"])
    counts = hotspots.month_counts(bins)
    assert counts.loc[month, "热点村(社区)数"] == int((part["class"] == "hot").sum())


def test_hex_cells_drawn_and_their_centres_towns(con):
    import h3

    hx = hex_hotspots(con, 8, FLT)
    gdf = hotspots.hex_frame(hx)
    assert len(gdf) == int(((hx["value"] > 0) | (hx["class"] != "not_significant")).sum())
    sig = gdf[gdf["class"] != "not_significant"]
    assert len(sig) > 0
    table = hotspots.hex_table(gdf, cell_centres(con, list(sig["h3"])))
    towns = con.execute("SELECT name, ST_AsWKB(geom) FROM areas WHERE level = 'town'").fetchall()
    outlines = [(n, shapely.from_wkb(bytes(w))) for n, w in towns]
    for cell, town, lat, lon in zip(table["H3 编号"], table["中心所在乡镇(街道)"], table["中心纬度"], table["中心经度"]):
        clat, clon = h3.cell_to_latlng(cell)
        assert (lat, lon) == (round(clat, 5), round(clon, 5))
        inside = [n for n, g in outlines if g.contains(shapely.Point(lon, lat))]
        assert town == (min(inside) if inside else ""), cell
    assert table["有坐标的诉求件数"].sum() == sig["value"].sum()


def test_coverage_table_counts_cases_with_a_point(con):
    table = hotspots.coverage_table(point_coverage(con, FLT))
    total, geo = con.execute("""SELECT count(*), count(*) FILTER (lon IS NOT NULL AND lat IS NOT NULL) FROM cases
                                WHERE CAST(received_at AS DATE) BETWEEN ? AND ?""", [START, END]).fetchone()
    assert table["诉求件数"].sum() == total and table["有坐标"].sum() == geo
    row = table.iloc[0]
    assert row["有坐标占比"] == row["有坐标"] / row["诉求件数"]  # a fraction: pages and files show it in percent


# ---------------------------------------------------------------------------- 未办结

def test_backlog_and_violations_tables_match_sql(con):
    areas_ = metrics.case_metrics_by(con, CaseFilter(START, END), "town", measures=list(open_cases.area_measures()))
    table = open_cases.backlog_table(areas_, "乡镇(街道)")
    want = dict(con.execute(f"""SELECT t.name, count(*) FROM cases c JOIN areas t ON t.code = left(c.area_code, 9)
                                WHERE CAST(c.received_at AS DATE) <= ? AND c.status IN {OPEN} GROUP BY 1""",
                            [END]).fetchall())
    assert dict(zip(table["乡镇(街道)"], table["未办结"])) == want
    assert list(table["超期未办结"]) == sorted(table["超期未办结"], reverse=True)
    buckets = [f"超期{b}" for b in metrics.overdue_bucket_labels()]
    assert (table[buckets].sum(axis=1) == table["超期未办结"]).all()
    vt = open_cases.violations_table(areas_, "乡镇(街道)")
    closed = dict(con.execute(f"""SELECT t.name, count(*) FROM cases c JOIN areas t ON t.code = left(c.area_code, 9)
                                  WHERE CAST(c.received_at AS DATE) BETWEEN ? AND ? AND c.status NOT IN {OPEN}
                                  GROUP BY 1""", [START, END]).fetchall())
    assert dict(zip(vt["乡镇(街道)"], vt["已办结"])) == closed


def test_overdue_share_ages_and_listing(con):
    s = metrics.case_summary(con, CaseFilter(START, END), compare=False)
    assert open_cases.overdue_share({"open": 0, "overdue": 0}) == "—"
    assert open_cases.overdue_share({"open": 8, "overdue": 2}) == "25.0%"
    assert open_cases.ages(s)["件数"].sum() == s["overdue"]
    listing = open_cases.overdue_listing(overdue_cases(con, FLT))
    assert len(listing) == s["overdue"] and set(listing["化解层级"]) <= set(open_cases.TIERS.values()) | {""}
    tiers = metrics.case_metrics_by(con, CaseFilter(START, END), "tier", measures=["received", "closed", "closure_rate", "open", "overdue"])
    t = open_cases.group_table(tiers, "tier", "化解层级")
    assert set(t["化解层级"]) <= set(open_cases.TIERS.values()) and t["受理诉求"].sum() == s["received"]


# ---------------------------------------------------------------------------- 五必去 and 排名

def test_visit_plan_and_flag_counts_follow_must_visit(con):
    mv = must_visit(con)
    town = mv.loc[mv["flags"].map(len) > 0, "area_code"].iloc[0][:9]
    rows = visits.flagged(mv, ["poverty", "disaster"], town)
    want = mv[mv["area_code"].str.startswith(town) & mv["flags"].map(lambda fs: "poverty" in fs or "disaster" in fs)]
    assert list(rows["area_code"]) == list(want["area_code"])
    plan = visits.visit_plan(rows, FLAG_LABELS)
    assert list(plan["序号"]) == list(range(1, len(want) + 1)) and list(plan["优先得分"]) == list(want["score"])
    counts = visits.flag_counts(rows, FLAG_LABELS)
    assert counts[FLAG_LABELS["disaster"]] == sum("disaster" in fs for fs in want["flags"])
    gdf = visits.plan_map_frame(_shapes(con, town), plan)
    assert set(gdf.loc[gdf["score"] > 0, "code"]) == {c for c, s in zip(want["area_code"], want["score"]) if s > 0}


def test_the_must_visit_map_draws_the_highest_scores_darkest(con):
    """五必去's map (as the page draws it): the villages with the top score get the palette's
    darkest colour, a higher score is never drawn lighter, and unlisted villages are grey."""
    import json
    import re

    from dashboard import maps

    mv = must_visit(con)
    plan = visits.visit_plan(visits.flagged(mv), FLAG_LABELS)
    gdf = visits.plan_map_frame(_shapes(con), plan)
    page = maps.choropleth(gdf, "score", "五必去优先得分", None, {"name": "村(社区)", "score": "优先得分"}).get_root().render()
    text = page.replace("\\u0026", "&").replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0027", "'")
    fills = {f["properties"]["code"]: f["properties"]["_fill"] for f in json.loads(re.search(
        r'\{"type":"FeatureCollection","features":\[\{"type":"Feature".*?\}\]\}(?=[,)])', text).group(0))["features"]}
    score = dict(zip(gdf["code"], gdf["score"]))
    assert len(fills) == len(gdf)
    top = max(score.values())
    assert {fills[c] for c, s in score.items() if s == top} == {maps.PALETTE[-1]}
    assert {fills[c] for c, s in score.items() if s == 0} == {maps.NO_DATA}
    rank = {c: i for i, c in enumerate(maps.PALETTE)}
    listed = sorted((s, rank[fills[c]]) for c, s in score.items() if s > 0)
    assert [r for _, r in listed] == sorted(r for _, r in listed)


def test_ranking_table_marks_the_unranked(con):
    df = rank_units(con, CaseFilter(START, END), "town")
    table = rankings.ranking_table(df, "town")
    small = dict(con.execute("""SELECT t.name, count(c.case_id) FROM areas t LEFT JOIN cases c ON left(c.area_code, 9) = t.code
                                AND CAST(c.received_at AS DATE) BETWEEN ? AND ? WHERE t.level = 'town' GROUP BY 1""",
                             [START, END]).fetchall())
    for name, rank, flag in zip(table["乡镇(街道)"], table["排名"], table["标记"]):
        assert (rank == "—") == (small[name] < RANKING_MIN_CASES), name
        assert ("不排名" in flag) == (rank == "—")
    n = rankings.counts(df)
    assert n["ranked"] + n["not_ranked"] == len(small) == len(table)



def test_a_province_map_shows_towns_until_a_town_is_chosen(monkeypatch):
    """Level of detail: 54,145 villages (河北省) draw as their 2,365 towns; one town's villages, a
    district's few hundred, or a city's under the limit draw as villages."""
    assert overview.map_level(54_145, 2_365) == "town"
    assert overview.map_level(31, 2_365) == "village"  # a town of the province chosen
    assert overview.map_level(421, 27) == "village"
    monkeypatch.setenv("MINQING_MAP_MAX_VILLAGES", "400")
    assert overview.map_level(421, 27) == "town"
    assert overview.map_level(421, 0) == "village"  # no town outlines to fall back on


def test_the_overview_map_falls_back_to_towns_when_only_towns_have_outlines():
    villages = gpd.GeoDataFrame({"code": [], "name": [], "town": []}, geometry=[], crs="EPSG:4326")
    towns = gpd.GeoDataFrame({"code": ["610902001"], "name": ["老城街道"], "town": [""]},
                             geometry=[shapely.box(109.0, 32.6, 109.1, 32.7)], crs="EPSG:4326")
    assert overview.map_level(len(villages), len(towns)) == "town"
    assert overview.map_level(0, 0) == "village"  # nothing at all: the village message
    figs = pd.DataFrame({"code": ["610902001"], "received": [12], "closed": [6], "open": [6], "overdue": [2],
                         "closure_rate": [0.5], "satisfaction_rate": [float("nan")], "households": [0], "per_1000": [float("nan")]})
    table = overview.village_table(overview.village_map(towns, figs, "received"), "town")
    assert list(table.columns[:2]) == ["乡镇(街道)", "区划代码"] and table.iloc[0]["受理诉求"] == 12
