"""区域档案 page (AppTest): the district, a town and a village show the figures of direct SQL over
the raw tables, the neighbour table lists exactly the areas whose outlines touch (shapely), the
breadcrumb and the picker move up and down, and empty or household-less warehouses are explained."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from cli import main
from dashboard import pages
from etl.db import REPO_ROOT, connect

APP = str(REPO_ROOT / "dashboard" / "app.py")
AS_OF = dt.datetime(2026, 10, 31, 23, 59, 59)  # the small demo's 'today'
OPEN = ("受理", "交办", "办理中")


def _run(monkeypatch, db) -> AppTest:
    monkeypatch.setenv("MINQING_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page(pages.page("area").file)
    return at.run()


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _pct(n: int, d: int) -> str:
    return f"{n / d * 100:.1f}%" if d else "—"


def _direct(db, prefix: str, start: dt.date, end: dt.date, categories=()) -> dict[str, str]:
    """The headline cards as the page should show them, from the raw cases and households tables."""
    con = connect(db, read_only=True)
    cat = f"AND category IN ({', '.join(repr(c) for c in categories)})" if categories else ""

    def q(cond: str, *p) -> int:
        return con.execute(f"SELECT count(*) FROM cases WHERE starts_with(area_code, ?) {cat} AND {cond}",
                           [prefix, *p]).fetchone()[0]

    period = "CAST(received_at AS DATE) BETWEEN ? AND ?"
    received = q(period, start, end)
    closed = q(f"{period} AND status NOT IN {OPEN}", start, end)
    rated = q(f"{period} AND satisfaction IS NOT NULL", start, end)
    satisfied = q(f"{period} AND satisfaction IN ('满意', '基本满意')", start, end)
    open_ = q(f"CAST(received_at AS DATE) <= ? AND status IN {OPEN}", end)
    overdue = q(f"CAST(received_at AS DATE) <= ? AND status IN {OPEN} AND deadline < ?", end, AS_OF)
    homes, key = con.execute("SELECT count(*), count(*) FILTER (category = '连心户') FROM households "
                             "WHERE starts_with(area_code, ?)", [prefix]).fetchone()
    con.close()
    return {"受理诉求": f"{received:,}", "已办结": f"{closed:,}", "办结率": _pct(closed, received),
            "满意率": _pct(satisfied, rated), "未办结": f"{open_:,}", "超期未办结": f"{overdue:,}",
            "每千户诉求": f"{received / homes * 1000:.1f}" if homes else "—", "建档户数": f"{homes:,}",
            "连心户": f"{key:,}"}


def _num(v, unit: str = "") -> str:
    return "—" if pd.isna(v) else f"{v:.1f}{unit}"


def _shown(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _table(at) -> pd.DataFrame:
    """The comparison table (the one with a 类型 column)."""
    tables = [d.value for d in at.dataframe if "类型" in d.value.columns]
    assert len(tables) == 1
    return tables[0]


def _touching(db, code: str) -> set[str]:
    """Independent neighbours: shapely intersects on the raw outlines of the same level."""
    con = connect(db, read_only=True)
    level = "town" if len(code) == 9 else "village"
    rows = con.execute("SELECT code, ST_AsWKB(geom) FROM areas WHERE level = ? AND geom IS NOT NULL", [level]).fetchall()
    con.close()
    geoms = {c: shapely.from_wkb(bytes(w)) for c, w in rows}
    return {c for c, g in geoms.items() if c != code and g.intersects(geoms[code])}


def _busy(db) -> tuple[str, str]:
    """(town, village) with the most cases, and a village with a neighbour in another town."""
    con = connect(db, read_only=True)
    village = con.execute("SELECT area_code FROM cases WHERE length(area_code) = 12 GROUP BY 1 "
                          "ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
    con.close()
    return village[:9], village


def _subset(shown: dict, want: dict) -> dict:
    return {k: shown.get(k) for k in want}


def test_the_district_profile_matches_sql(monkeypatch, demo_db):
    at = _run(monkeypatch, demo_db)
    _ok(at)
    assert any("演示数据" in w.value for w in at.warning)
    assert at.header[0].value == "汉滨区"
    start, end = at.date_input(key="period").value
    want = _direct(demo_db, "", start, end)
    assert _subset(_shown(at), want) == want
    table = _table(at)
    con = connect(demo_db, read_only=True)
    towns = con.execute("SELECT code, name FROM areas WHERE level = 'town' ORDER BY code").fetchall()
    con.close()
    rows = table[table["类型"] == "下辖"]
    assert list(rows["区划代码"]) == [c for c, _ in towns] and list(rows["乡镇(街道)"]) == [n for _, n in towns]
    for code, got in zip(rows["区划代码"], rows["受理诉求"]):
        assert f"{int(got):,}" == _direct(demo_db, code, start, end)["受理诉求"]
    total = table[table["类型"] == "全区合计"].iloc[0]
    assert f"{int(total['受理诉求']):,}" == want["受理诉求"] and f"{total['每千户诉求']:.1f}" == want["每千户诉求"]
    # the child picker lists the towns and opens the chosen one
    assert at.selectbox(key="area_pick").options == [n for _, n in towns]
    at.selectbox(key="area_pick").set_value(towns[3][0]).run()
    _ok(at)
    assert at.selectbox(key="town").value == towns[3][0] and at.header[0].value == towns[3][1]


def test_a_town_profile_follows_the_sidebar_and_lists_its_neighbours(monkeypatch, demo_db):
    town, _village = _busy(demo_db)
    at = _run(monkeypatch, demo_db)
    start, end = at.date_input(key="period").value
    at.selectbox(key="town").set_value(town).run()
    at.multiselect(key="category").set_value(["道路", "饮水", "土地宅基地纠纷"]).run()
    _ok(at)
    want = _direct(demo_db, town, start, end, ["道路", "饮水", "土地宅基地纠纷"])
    assert _subset(_shown(at), want) == want
    assert want["受理诉求"] != _direct(demo_db, town, start, end)["受理诉求"]  # the category filter counts
    table = _table(at)
    near = table[table["类型"] == "相邻"]
    assert set(near["区划代码"]) == _touching(demo_db, town) and len(near) == len(set(near["区划代码"]))
    me = table[table["类型"].str.startswith("本")].iloc[0]
    assert me["区划代码"] == town and f"{int(me['受理诉求']):,}" == want["受理诉求"]
    for code, got in zip(near["区划代码"], near["受理诉求"]):
        assert f"{int(got):,}" == _direct(demo_db, code, start, end, ["道路", "饮水", "土地宅基地纠纷"])["受理诉求"]
    assert list(table["类型"].iloc[-1:]) == ["全区平均"]
    # the town's own villages, each with its figures
    villages = [d.value for d in at.dataframe if "每千户诉求排名" in d.value.columns and "类型" not in d.value.columns]
    assert len(villages) == 1
    con = connect(demo_db, read_only=True)
    codes = [c for (c,) in con.execute("SELECT code FROM areas WHERE level = 'village' AND starts_with(code, ?) ORDER BY code",
                                       [town]).fetchall()]
    con.close()
    assert list(villages[0]["区划代码"]) == codes
    for code, got in zip(villages[0]["区划代码"], villages[0]["受理诉求"]):
        assert f"{int(got):,}" == _direct(demo_db, code, start, end, ["道路", "饮水", "土地宅基地纠纷"])["受理诉求"]


def test_a_village_profile_matches_sql_and_lists_exactly_its_neighbours(monkeypatch, demo_db):
    town, village = _busy(demo_db)
    at = _run(monkeypatch, demo_db)
    start, end = at.date_input(key="period").value
    at.selectbox(key="town").set_value(town).run()
    at.selectbox(key="village").set_value(village).run()
    _ok(at)
    want = _direct(demo_db, village, start, end)
    assert _subset(_shown(at), want) == want
    table = _table(at)
    expected = _touching(demo_db, village)
    assert len(expected) >= 2
    near = table[table["类型"] == "相邻"]
    assert set(near["区划代码"]) == expected and len(near) == len(expected)
    for row in near.to_dict("records"):
        d = _direct(demo_db, row["区划代码"], start, end)
        assert f"{int(row['受理诉求']):,}" == d["受理诉求"] and f"{int(row['户数']):,}" == d["建档户数"]
        assert _num(row["每千户诉求"]) == d["每千户诉求"] and _num(row["办结率"] * 100, "%") == d["办结率"]
    assert list(table["类型"].iloc[-2:]) == ["所属乡镇平均", "全区平均"]
    # the neighbour picker offers the same villages
    assert len(at.selectbox(key="area_pick").options) == len(expected)


def test_breadcrumb_goes_up_and_the_picker_goes_down(monkeypatch, demo_db):
    town, village = _busy(demo_db)
    at = _run(monkeypatch, demo_db)
    at.selectbox(key="town").set_value(town).run()
    at.selectbox(key="village").set_value(village).run()
    con = connect(demo_db, read_only=True)
    town_name = con.execute("SELECT name FROM areas WHERE code = ?", [town]).fetchone()[0]
    con.close()
    at.button(key="area_crumb_1").click().run()  # 区 > 镇 > 村: the town
    _ok(at)
    assert at.selectbox(key="town").value == town and at.selectbox(key="village").value is None
    assert at.header[0].value == town_name
    at.selectbox(key="area_pick").set_value(village).run()
    _ok(at)
    assert at.selectbox(key="village").value == village
    at.button(key="area_crumb_0").click().run()  # the district
    _ok(at)
    assert at.selectbox(key="town").value is None and at.header[0].value == "汉滨区"


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("area_empty") / "empty.duckdb"
    assert CliRunner().invoke(main, ["--db", str(db), "init", "--district", "610902"]).exit_code == 0
    return db


def test_an_empty_warehouse_says_what_to_load(monkeypatch, empty_db):
    at = _run(monkeypatch, empty_db)
    _ok(at)
    infos = " ".join(i.value for i in at.info)
    assert "minqing load cases" in infos and "minqing load households" in infos
    con = connect(empty_db, read_only=True)
    village = con.execute("SELECT min(code) FROM areas WHERE level = 'village'").fetchone()[0]
    con.close()
    at.selectbox(key="town").set_value(village[:9]).run()
    at.selectbox(key="village").set_value(village).run()
    _ok(at)
    assert "minqing load areas" in " ".join(i.value for i in at.info)
    table = _table(at)
    assert list(table["类型"]) == ["本村(社区)", "所属乡镇平均", "全区平均"]
    assert table["每千户诉求"].isna().all()


def test_a_village_without_households_shows_no_rates(monkeypatch, demo_db, tmp_path):
    town, village = _busy(demo_db)
    db = tmp_path / "no_homes.duckdb"
    shutil.copy(demo_db, db)
    con = connect(db)
    con.execute("DELETE FROM households WHERE area_code = ?", [village])
    con.close()
    at = _run(monkeypatch, db)
    at.selectbox(key="town").set_value(town).run()
    at.selectbox(key="village").set_value(village).run()
    _ok(at)
    shown = _shown(at)
    assert shown["每千户诉求"] == "—" and shown["受理诉求"] != "0"
    assert any("minqing load households" in i.value for i in at.info)
    me = _table(at).iloc[0]
    assert me["区划代码"] == village and pd.isna(me["每千户诉求"]) and me["每千户诉求排名"] == "—"


def test_per_1000_is_one_figure_on_the_card_the_comparison_table_and_the_overview_map(monkeypatch, demo_db):
    """Cases per 1,000 households of an area under a filter: the 区域档案 card, its comparison table,
    the 总览 village table and direct SQL agree; so do the district's card, its 全区合计 row, the
    全区 figure beside a village's card and the 全区平均 row of the village's table."""
    town, village = _busy(demo_db)
    con = connect(demo_db, read_only=True)
    cats = [c for (c,) in con.execute("SELECT category FROM cases WHERE area_code = ? GROUP BY 1 ORDER BY count(*) DESC, 1 "
                                      "LIMIT 2", [village]).fetchall()]
    con.close()

    def run(page: str, area: tuple[str, ...] = ()) -> AppTest:
        at = _run(monkeypatch, demo_db)
        if page != "area":
            at.switch_page(pages.page(page).file).run()
        at.multiselect(key="category").set_value(cats).run()
        for key, code in zip(("town", "village"), area):
            at.selectbox(key=key).set_value(code).run()
        _ok(at)
        return at

    def per_1000(at, prefix: str) -> str:
        start, end = at.date_input(key="period").value
        return _direct(demo_db, prefix, start, end, cats)["每千户诉求"]

    at = run("area")
    district = per_1000(at, "")
    total = _table(at).query("类型 == '全区合计'").iloc[0]
    assert _shown(at)["每千户诉求"] == f"{total['每千户诉求']:.1f}" == district

    at = run("area", (town, village))
    want = per_1000(at, village)
    assert want not in ("—", "0.0")
    card = next(m for m in at.metric if m.label == "每千户诉求")
    table = _table(at)
    me, mean = table[table["区划代码"] == village].iloc[0], table.query("类型 == '全区平均'").iloc[0]
    town_mean = table.query("类型 == '所属乡镇平均'").iloc[0]
    assert card.value == f"{me['每千户诉求']:.1f}" == want
    assert card.delta == f"全区 {mean['每千户诉求']:.1f}" == f"全区 {district}"
    # the town's average row is the town's own figure (its cases placed only at town level included)
    assert f"{town_mean['每千户诉求']:.1f}" == per_1000(at, town)

    at = run("overview", (town, village))
    villages = next(d.value for d in at.dataframe if "每千户诉求" in d.value.columns)
    assert f"{villages.loc[villages['区划代码'] == village, '每千户诉求'].iloc[0]:.1f}" == want
