"""热点地图: every method draws on the demo with local scripts only; the heat map, the hexagon grid
and the month slider show what a direct query or analysis of the warehouse gives; no data is said."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import pages
from etl.db import REPO_ROOT, connect
from analysis.filters import CaseFilter
from geo.getis_ord import CLASS_LABELS

APP = str(REPO_ROOT / "dashboard" / "app.py")
PAGE = pages.page("hotspots").file
MODES = ["gi", "lisa", "emerging", "month", "hex", "heat"]


def _page(monkeypatch, db, mode: str | None = None) -> AppTest:
    monkeypatch.setenv("MINQING_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page(PAGE)
    at.run()
    if mode:
        at.radio(key="hs_mode").set_value(mode).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _maps(at: AppTest) -> list[dict]:
    """The arguments st_folium sent to the browser, one dict per map on the page."""
    return [json.loads(c.proto.json_args) for c in at.get("component_instance")
            if c.proto.component_name.endswith("st_folium")]


def _legend(args: dict) -> dict[str, int]:
    """Legend rows 'label (count)' of a map, as {label: count}."""
    box = args["html"].split('class="mq-legend"', 1)[1]
    return {label: int(n.replace(",", "")) for label, n in re.findall(r"</span>([^<]+?) \(([\d,]+)\)</div>", box)}


def _period(at: AppTest) -> tuple[dt.date, dt.date]:
    start, end = at.date_input(key="period").value
    return start, end


@pytest.mark.parametrize("mode", MODES)
def test_every_method_draws_a_map_with_a_legend_and_local_scripts_only(monkeypatch, demo_db, mode):
    at = _page(monkeypatch, demo_db, mode)
    maps = _maps(at)
    assert len(maps) == 1
    args = maps[0]
    assert 'class="mq-legend"' in args["html"]
    links = args["js_links"] + args["css_links"]
    assert links and all(u.startswith("/app/static/vendor/") for u in links), links
    assert not re.search(r"https?://", args["script"] + args["header"])  # no CDN, no tiles (no base map by default)
    # every table on the page has its two download buttons
    assert len(at.get("download_button")) == 2 * len(at.dataframe)
    if mode == "heat":
        assert "/app/static/vendor/leaflet.heat-folium-0.20.0/leaflet_heat.min.js" in args["js_links"]


def _heat_points(args: dict) -> list[list[float]]:
    m = re.search(r"L\.heatLayer\(\s*(\[\[.*?\]\])\s*,", args["script"], re.S)
    assert m, "no heat layer on the map"
    return json.loads(m.group(1))


def _geocoded(db, flt: CaseFilter) -> tuple[int, int]:
    """(filtered cases, those with a point), straight from the cases table."""
    con = connect(db, read_only=True)
    sql = """SELECT count(*), count(*) FILTER (lon IS NOT NULL AND lat IS NOT NULL) FROM cases
             WHERE CAST(received_at AS DATE) BETWEEN ? AND ?"""
    params: list = [flt.start, flt.end]
    if flt.category:
        sql += " AND category IN (SELECT unnest(?))"
        params.append(list(flt.category))
    if flt.area_prefix:
        sql += " AND area_code LIKE ? || '%'"
        params.append(flt.area_prefix)
    total, geo = con.execute(sql, params).fetchone()
    con.close()
    return total, geo


def test_heat_map_weighs_every_geocoded_filtered_case_once(monkeypatch, demo_db):
    at = _page(monkeypatch, demo_db, "heat")
    start, end = _period(at)
    total, geo = _geocoded(demo_db, CaseFilter(start, end))
    assert 0 < geo < total  # the demo has cases placed by name only
    points = _heat_points(_maps(at)[0])
    assert sum(p[2] for p in points) == geo
    assert len(points) < geo  # aggregated: fewer points than cases
    table = at.dataframe[0].value
    assert int(table["诉求件数"].sum()) == total and int(table["有坐标"].sum()) == geo
    assert any(f"{geo:,} 件有坐标" in c.value for c in at.caption)
    # the category and the area filters apply to the heat map
    cat = "低保"
    at.multiselect(key="category").set_value([cat]).run()
    con = connect(demo_db, read_only=True)
    town_code = con.execute("SELECT min(area_code)[:9] FROM cases WHERE lon IS NOT NULL AND length(area_code) = 12").fetchone()[0]
    con.close()
    at.selectbox(key="town").set_value(town_code).run()
    assert not at.exception
    _, geo_f = _geocoded(demo_db, CaseFilter(start, end, category=(cat,), area_prefix=town_code))
    maps = _maps(at)
    if geo_f:
        assert sum(p[2] for p in _heat_points(maps[0])) == geo_f
    else:
        assert not maps and at.info


def test_hexagon_classes_are_those_of_hex_hotspots(monkeypatch, demo_db):
    from analysis.hotspots import hex_hotspots

    at = _page(monkeypatch, demo_db, "hex")
    start, end = _period(at)
    con = connect(demo_db, read_only=True)
    for res in (7, 8):
        if res != 7:
            at.radio(key="hs_hex_res").set_value(res).run()
            assert not at.exception
        want = hex_hotspots(con, res, CaseFilter(start, end))
        counts = want["class"].value_counts()
        legend = _legend(_maps(at)[0])
        sig = {CLASS_LABELS[k]: int(n) for k, n in counts.items() if k != "not_significant"}
        assert {k: v for k, v in legend.items() if k != CLASS_LABELS["not_significant"]} == sig
        assert sig, "the demo's planted clusters give significant cells"
        # not significant: drawn ones in the legend, the empty rest said in the caption
        blank = int(((want["value"] == 0) & (want["class"] == "not_significant")).sum())
        assert legend.get(CLASS_LABELS["not_significant"], 0) + blank == int(counts.get("not_significant", 0))
        assert any(f"另有 {blank:,} 格" in c.value for c in at.caption)
        n_hot = int(want["class"].str.startswith("hot").sum())
        assert any(s.value.startswith(f"显著的格网: 热点 {n_hot:,} 格") for s in at.subheader)
        assert len(at.dataframe[0].value) == len(want[want["class"] != "not_significant"])
        assert any("没有户数作分母" in c.value for c in at.caption)
    con.close()


def test_month_slider_shows_that_months_gi_classes(monkeypatch, demo_db):
    from analysis.hotspots import emerging

    at = _page(monkeypatch, demo_db, "month")
    start, end = _period(at)
    con = connect(demo_db, read_only=True)
    _, bins = emerging(con, CaseFilter(start, end))
    con.close()
    hot = bins[bins["class"] == "hot"].groupby("bin").size()
    months = sorted(bins["bin"].unique())
    slider = at.select_slider(key="hs_month")
    assert list(slider.options) == months and slider.value == months[-1]

    def shown(month):
        n = int(hot.get(month, 0))
        assert any(s.value.startswith(f"{month}: 热点村(社区) {n:,} 个") for s in at.subheader), [s.value for s in at.subheader]
        legend = _legend(_maps(at)[0])
        assert legend.get(CLASS_LABELS["hot_95"], 0) == n
        assert f"{month} Gi* 热点" in _maps(at)[0]["html"]

    shown(months[-1])
    other = max((m for m in months if m != months[-1]), key=lambda m: abs(int(hot.get(m, 0)) - int(hot.get(months[-1], 0))))
    at.select_slider(key="hs_month").set_value(other).run()
    assert not at.exception
    shown(other)


def _empty_filter_day(db) -> tuple[dt.date, str]:
    """A day and a category with no case at all (the filters then select nothing)."""
    con = connect(db, read_only=True)
    day, cat = con.execute("""
        WITH d AS (SELECT DISTINCT CAST(received_at AS DATE) AS day FROM cases),
             k AS (SELECT DISTINCT category FROM cases)
        SELECT day, category FROM d, k
        WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE CAST(c.received_at AS DATE) = day AND c.category = k.category)
        ORDER BY day DESC, category LIMIT 1""").fetchone()
    con.close()
    return day, cat


@pytest.mark.parametrize("mode", MODES)
def test_filters_selecting_no_case_are_said_not_drawn(monkeypatch, demo_db, mode):
    day, cat = _empty_filter_day(demo_db)
    at = _page(monkeypatch, demo_db, mode)
    at.date_input(key="period").set_value((day, day))
    at.multiselect(key="category").set_value([cat]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert not _maps(at)
    assert any("没有诉求" in i.value for i in at.info), [i.value for i in at.info]


@pytest.fixture(scope="module")
def no_points_db(demo_db, tmp_path_factory):
    """The demo with every case's point removed (a ledger placed by village names only)."""
    db = tmp_path_factory.mktemp("no_points") / "no_points.duckdb"
    shutil.copy(demo_db, db)
    con = connect(db)
    con.execute("UPDATE cases SET lon = NULL, lat = NULL")
    con.close()
    return db


@pytest.mark.parametrize("mode", ["hex", "heat"])
def test_cases_without_points_are_said_not_drawn(monkeypatch, no_points_db, mode):
    at = _page(monkeypatch, no_points_db, mode)
    assert not _maps(at)
    assert any("没有坐标" in i.value and "minqing load cases" in i.value for i in at.info), [i.value for i in at.info]


def test_cases_without_points_still_get_village_hot_spots(monkeypatch, no_points_db):
    at = _page(monkeypatch, no_points_db, "gi")
    assert len(_maps(at)) == 1



def test_case_points_sum_cases_in_cells_of_about_the_size_asked(con):
    import numpy as np

    from analysis.hotspots import case_points

    flt = CaseFilter(dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    raw = con.execute("""SELECT lat, lon FROM cases WHERE lon IS NOT NULL AND lat IS NOT NULL
                         AND CAST(received_at AS DATE) BETWEEN ? AND ?""", [flt.start, flt.end]).df()
    for cell_m in (100, 500):
        pts = case_points(con, flt, cell_m)
        assert int(pts["weight"].sum()) == len(raw) and pts["weight"].min() >= 1
        assert not pts.duplicated(["lat", "lon"]).any() and pts["weight"].is_monotonic_decreasing
        # each case lies within half a cell (plus rounding) of some cell centre, north-south and east-west
        dy = (raw["lat"].to_numpy()[:, None] - pts["lat"].to_numpy()[None, :]) * 111_320
        dx = ((raw["lon"].to_numpy()[:, None] - pts["lon"].to_numpy()[None, :]) * 111_320
              * np.cos(np.radians(raw["lat"].to_numpy()))[:, None])
        inside = (np.abs(dy) <= cell_m / 2 + 0.2) & (np.abs(dx) <= cell_m / 2 + 0.5)
        assert inside.any(axis=1).all()
        # and the cells' weights are the numbers of cases inside them
        owner = np.where(inside, np.abs(dx) + np.abs(dy), np.inf).argmin(axis=1)
        assert np.bincount(owner, minlength=len(pts)).tolist() == pts["weight"].tolist()
    assert len(case_points(con, flt, 500)) < len(case_points(con, flt, 100))
    with pytest.raises(ValueError):
        case_points(con, flt, 0)
