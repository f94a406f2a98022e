"""Every page runs on the demo; the numbers equal a direct SQL query; empty data is explained."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from cli import main
from dashboard import pages
from etl.db import REPO_ROOT, connect

APP = str(REPO_ROOT / "dashboard" / "app.py")
PAGES = [p.file for p in pages.PAGES]


def _run(monkeypatch, db, page=None) -> AppTest:
    monkeypatch.setenv("MINQING_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=120)
    if page:
        at.switch_page(page)
    return at.run()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_exception(monkeypatch, demo_db, page):
    at = _run(monkeypatch, demo_db, page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("演示数据" in w.value for w in at.warning)  # the demo says what it is


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    assert CliRunner().invoke(main, ["--db", str(db), "init", "--district", "610902"]).exit_code == 0
    return db


@pytest.mark.parametrize("page", [p.file for p in pages.PAGES if p.name != "access"])  # 账号与审计 shows no data
def test_every_page_explains_an_empty_warehouse(monkeypatch, empty_db, page):
    at = _run(monkeypatch, empty_db, page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.info and any("minqing load" in i.value for i in at.info)


def _independent_kpis(db, start: dt.date, end: dt.date, prefix: str = "", categories=(), channels=()) -> dict:
    """The overview's headline figures by plain SQL over the raw cases table."""
    con = connect(db, read_only=True)
    now = dt.datetime(2026, 10, 31, 23, 59, 59)
    cond = "starts_with(area_code, ?)"
    params: list = [prefix]
    for col, terms in (("category", categories), ("channel", channels)):
        if terms:
            cond += f" AND {col} IN ({', '.join('?' * len(terms))})"
            params += list(terms)
    q = lambda sql, *p: con.execute(sql, [*p, *params]).fetchone()[0]  # noqa: E731
    period = "CAST(received_at AS DATE) >= ? AND CAST(received_at AS DATE) <= ?"
    received = q(f"SELECT count(*) FROM cases WHERE {period} AND {cond}", start, end)
    closed = q(f"""SELECT count(*) FROM cases WHERE {period} AND status IN ('办结', '已回访', '已归档') AND {cond}""", start, end)
    open_ = q(f"SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) <= ? AND status IN ('受理', '交办', '办理中') AND {cond}", end)
    overdue = q(f"""SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) <= ? AND status IN ('受理', '交办', '办理中')
                   AND deadline < ? AND {cond}""", end, now)
    con.close()
    return {"受理诉求": f"{received:,}", "已办结": f"{closed:,}", "办结率": f"{closed / received * 100:.1f}%" if received else "—",
            "未办结": f"{open_:,}", "超期未办结": f"{overdue:,}"}


def _kpis_shown(at) -> dict:
    return {m.label: m.value for m in at.metric if m.label in ("受理诉求", "已办结", "办结率", "未办结", "超期未办结")}


def test_kpis_follow_the_period_filter_and_match_sql(monkeypatch, demo_db):
    at = _run(monkeypatch, demo_db)
    start, end = at.date_input(key="period").value
    assert _kpis_shown(at) == _independent_kpis(demo_db, start, end)
    at.date_input(key="period").set_value((dt.date(2024, 1, 1), dt.date(2024, 12, 31))).run()
    assert not at.exception
    assert _kpis_shown(at) == _independent_kpis(demo_db, dt.date(2024, 1, 1), dt.date(2024, 12, 31))


def _town(db) -> tuple[str, str]:
    con = connect(db, read_only=True)
    code, name = con.execute("""SELECT t.code, t.name FROM areas t JOIN cases c ON left(c.area_code, 9) = t.code
                                WHERE t.level = 'town' GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1""").fetchone()
    con.close()
    return code, name


def test_sidebar_filters_drive_the_numbers(monkeypatch, demo_db):
    code, _name = _town(demo_db)
    at = _run(monkeypatch, demo_db)
    start, end = at.date_input(key="period").value
    at.selectbox(key="town").set_value(code).run()
    at.multiselect(key="channel").set_value(["群工热线", "网上信访"]).run()
    assert not at.exception
    want = _independent_kpis(demo_db, start, end, code, channels=["群工热线", "网上信访"])
    assert _kpis_shown(at) == want
    assert want != _independent_kpis(demo_db, start, end)  # the filter made a difference
    # the village list follows the town, and choosing one narrows the figures to it
    villages = at.selectbox(key="village").options
    con = connect(demo_db, read_only=True)
    n = con.execute("SELECT count(*) FROM areas WHERE level = 'village' AND starts_with(code, ?)", [code]).fetchone()[0]
    con.close()
    assert len(villages) == n
    at.selectbox(key="village").select_index(0).run()
    village = at.selectbox(key="village").value
    assert village.startswith(code) and len(village) == 12
    assert _kpis_shown(at) == _independent_kpis(demo_db, start, end, village, channels=["群工热线", "网上信访"])
    at.button(key="reset_filters").click().run()
    assert at.selectbox(key="town").value is None and at.multiselect(key="channel").value == []
    assert _kpis_shown(at) == _independent_kpis(demo_db, start, end)


def test_a_link_with_filters_in_its_query_string_reproduces_the_view(monkeypatch, demo_db):
    code, name = _town(demo_db)
    monkeypatch.setenv("MINQING_DB", str(demo_db))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["town"] = name  # the URL carries the names users read
    at.query_params["category"] = ["道路", "饮水"]
    at.query_params["period"] = ["2025-01-01", "2025-12-31"]
    at.run()
    assert not at.exception
    assert at.selectbox(key="town").value == code
    assert at.date_input(key="period").value == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert _kpis_shown(at) == _independent_kpis(demo_db, dt.date(2025, 1, 1), dt.date(2025, 12, 31), code,
                                                 categories=["道路", "饮水"])


def test_a_click_on_an_area_drills_into_its_profile(monkeypatch, demo_db):
    code, _name = _town(demo_db)
    con = connect(demo_db, read_only=True)
    village = con.execute("SELECT min(code) FROM areas WHERE level = 'village' AND starts_with(code, ?)", [code]).fetchone()[0]
    con.close()
    at = _run(monkeypatch, demo_db)
    at.session_state["_drill_to"] = village  # what dashboard.filters.drill leaves for the next run
    at.run()
    assert not at.exception
    assert at.selectbox(key="town").value == code and at.selectbox(key="village").value == village


def test_an_empty_warehouse_explains_what_to_do(monkeypatch, tmp_path):
    db = tmp_path / "empty.duckdb"
    assert CliRunner().invoke(main, ["--db", str(db), "init", "--district", "610902"]).exit_code == 0
    at = _run(monkeypatch, db)
    assert not at.exception
    assert any("minqing load cases" in i.value for i in at.info)


def test_a_missing_warehouse_is_an_error_message_not_a_traceback(monkeypatch, tmp_path):
    at = _run(monkeypatch, tmp_path / "nowhere.duckdb")
    assert not at.exception
    assert any("找不到数据仓库" in e.value for e in at.error)


def _flagged(db):
    from analysis.must_visit import must_visit

    con = connect(db, read_only=True)
    mv = must_visit(con)
    con.close()
    return mv[mv["flags"].map(len) > 0]


def test_must_visit_lists_every_flagged_village_and_filters_by_criterion(monkeypatch, demo_db):
    flagged = _flagged(demo_db)
    assert len(flagged) > 0
    at = _run(monkeypatch, demo_db, pages.page("must_visit").file)
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["列出的村(社区)"] == f"{len(flagged):,}"
    plan = at.dataframe[0].value
    assert list(plan["区划代码"]) == list(flagged["area_code"])  # ranked as must_visit() ranks them
    assert plan["优先得分"].is_monotonic_decreasing
    # one criterion only: the count is that criterion's villages
    at.multiselect(key="mv_flags").set_value(["disaster"]).run()
    assert not at.exception
    want = flagged[flagged["flags"].map(lambda fs: "disaster" in fs)]
    assert {m.label: m.value for m in at.metric}["列出的村(社区)"] == f"{len(want):,}"
    assert set(at.dataframe[0].value["区划代码"]) == set(want["area_code"])
    assert all("受自然灾害影响" in f for f in at.dataframe[0].value["五必去标记"])


def test_visit_plan_xlsx_holds_exactly_the_filtered_rows():
    import io

    import pandas as pd

    from reports.tables import xlsx_bytes

    plan = pd.DataFrame({"村(社区)": ["甲村", "<b>乙村</b>", "=HYPERLINK(\"http://x\")"], "优先得分": [3.0, 1.5, 1.0]})
    back = pd.read_excel(io.BytesIO(xlsx_bytes(plan, "五必去走访计划")), sheet_name="五必去走访计划")
    pd.testing.assert_frame_equal(back, plan)


def test_csv_download_has_a_bom_for_excel():
    import pandas as pd

    from reports.tables import csv_bytes

    raw = csv_bytes(pd.DataFrame({"乡镇(街道)": ["大河镇"]}))
    assert raw.startswith(b"\xef\xbb\xbf") and "大河镇" in raw.decode("utf-8-sig")


def test_rankings_page_shows_the_towns_rankings_ranks(monkeypatch, demo_db):
    from analysis.filters import CaseFilter
    from analysis.rankings import rankings

    at = _run(monkeypatch, demo_db, pages.page("rankings").file)
    assert not at.exception
    start, end = at.date_input(key="period").value
    con = connect(demo_db, read_only=True)
    want = rankings(con, CaseFilter(start, end), "town")
    n_towns = con.execute("SELECT count(*) FROM areas WHERE level = 'town'").fetchone()[0]
    con.close()
    table = at.dataframe[-1].value  # the whole ranking, after the flagged towns
    assert len(table) == len(want) == n_towns
    assert list(table["乡镇(街道)"]) == list(want["name"])
    shown = {m.label: m.value for m in at.metric}
    assert shown["参与排名"] == f"{int(want['ranked'].sum()):,}"
    ranked = table[table["排名"] != "—"]
    assert [int(r) for r in ranked["排名"]] == sorted(int(r) for r in ranked["排名"])
    assert all("不排名" in f for f in table.loc[table["排名"] == "—", "标记"])
    at.radio(key="rank_by").set_value("unit").run()
    assert not at.exception
    con = connect(demo_db, read_only=True)
    units = rankings(con, CaseFilter(start, end), "unit")
    con.close()
    assert list(at.dataframe[-1].value["承办单位"]) == list(units["handling_unit"])


def test_rankings_list_the_flagged_units_first_with_their_flags(monkeypatch, demo_db):
    from analysis.filters import CaseFilter
    from analysis.rankings import SATISFACTION_WARN, SCORE_ALARM, rankings

    at = _run(monkeypatch, demo_db, pages.page("rankings").file)
    start, end = at.date_input(key="period").value
    con = connect(demo_db, read_only=True)
    df = rankings(con, CaseFilter(start, end), "town")
    con.close()
    ranked = df[df["ranked"]]
    # under the alarm lines or last: the units the county report names
    worst = ranked["rank"] == ranked["rank"].max()
    want = ranked[(ranked["satisfaction_rate"] < SATISFACTION_WARN) | (ranked["score"] < SCORE_ALARM) | worst]
    assert len(want)  # the demo has some
    first = at.dataframe[0].value
    assert len(at.dataframe) == 2 and len(first) == len(want)
    assert set(first["乡镇(街道)"]) == set(want["name"])
    assert list(first["综合得分"]) == sorted(first["综合得分"])  # the lowest score first
    last = first.loc[first["排名"] == str(int(ranked["rank"].max())), "标记"]
    assert all("排名末位" in f for f in last) and all(f for f in first["标记"])


def test_rankings_name_each_figure_as_the_overview_and_the_exports_do(monkeypatch, demo_db):
    from reports.export import case_metric_labels

    ranking = _run(monkeypatch, demo_db, pages.page("rankings").file)
    columns = list(ranking.dataframe[-1].value.columns)
    overview = {m.label for m in _run(monkeypatch, demo_db).metric}
    exports = case_metric_labels()
    for key in ("received", "closure_rate", "satisfaction_rate"):
        assert exports[key] in overview and exports[key] in columns, key
    assert exports["response_rate"] in columns
    assert "办结率" in columns and "解决率" not in columns
    assert not any("解决率" in c.value for c in ranking.caption)


def test_open_cases_page_totals_match_sql(monkeypatch, demo_db):
    at = _run(monkeypatch, demo_db, pages.page("open_cases").file)
    assert not at.exception
    start, end = at.date_input(key="period").value
    want = _independent_kpis(demo_db, start, end)
    shown = {m.label: m.value for m in at.metric}
    assert shown["未办结"] == want["未办结"] and shown["超期未办结"] == want["超期未办结"]
    table = at.dataframe[0].value
    assert f"{int(table['未办结'].sum()):,}" == want["未办结"]
    listing = next(d.value for d in at.dataframe if "诉求编号" in d.value.columns)
    assert f"{len(listing):,}" == want["超期未办结"]
    assert listing["超期天数"].is_monotonic_decreasing
    assert not listing["诉求人"].dropna().map(lambda n: len(n) > 1 and set(n[1:]) != {"*"}).any()  # masked


@pytest.mark.parametrize("mode", ["gi", "lisa", "emerging"])
def test_hotspot_page_runs_every_method(monkeypatch, demo_db, mode):
    at = _run(monkeypatch, demo_db, pages.page("hotspots").file)
    at.radio(key="hs_mode").set_value(mode).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_hotspot_page_counts_the_gi_hot_spots_of_the_period(monkeypatch, demo_db):
    from analysis.filters import CaseFilter
    from analysis.hotspots import area_hotspots

    at = _run(monkeypatch, demo_db, pages.page("hotspots").file)
    assert not at.exception and not at.error
    start, end = at.date_input(key="period").value
    con = connect(demo_db, read_only=True)
    hs = area_hotspots(con, "village", CaseFilter(start, end))
    con.close()
    n_hot = int(hs["class"].isin(["hot_99", "hot_95", "hot_90"]).sum())
    assert any(s.value == f"热点村(社区): {n_hot:,} 个" for s in at.subheader), [s.value for s in at.subheader]


def test_hotspot_page_lists_the_lisa_high_values_of_the_period(monkeypatch, demo_db):
    """聚集与异常 (LISA) once showed 0 villages on every period: its permutation p-values could not
    pass the FDR correction. The page now lists the High-High and High-Low villages that the
    analysis (and `minqing hotspots`) finds, and there are some."""
    from analysis.filters import CaseFilter
    from analysis.hotspots import area_hotspots

    at = _run(monkeypatch, demo_db, pages.page("hotspots").file)
    at.radio(key="hs_mode").set_value("lisa").run()
    assert not at.exception and not at.error
    start, end = at.date_input(key="period").value
    con = connect(demo_db, read_only=True)
    hs = area_hotspots(con, "village", CaseFilter(start, end))
    con.close()
    n_high = int(hs["lisa"].isin(["HH", "HL"]).sum())
    assert n_high > 0
    assert any(s.value == f"高值村(社区): {n_high:,} 个" for s in at.subheader), [s.value for s in at.subheader]
    assert set(at.dataframe[0].value["区划代码"]) == set(hs.loc[hs["lisa"].isin(["HH", "HL"]), "area_code"])


def test_household_page_shows_the_shares_of_a_direct_query(monkeypatch, demo_db):
    at = _run(monkeypatch, demo_db, pages.page("households").file)
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    con = connect(demo_db, read_only=True)
    total, key = con.execute("SELECT count(*), count(*) FILTER (category = '连心户') FROM households").fetchone()
    paired = con.execute("SELECT count(*) FROM households WHERE category = '连心户' AND paired_cadre_id IS NOT NULL").fetchone()[0]
    con.close()
    assert shown["建档户数"] == f"{total:,}" and shown["连心户"] == f"{key:,}"
    assert shown["连心户结对覆盖率"] == f"{paired / key:.1%}"


def test_household_page_narrows_to_the_chosen_town(monkeypatch, demo_db):
    code, _name = _town(demo_db)
    at = _run(monkeypatch, demo_db, pages.page("households").file)
    at.selectbox(key="town").set_value(code).run()
    assert not at.exception
    con = connect(demo_db, read_only=True)
    total = con.execute("SELECT count(*) FROM households WHERE starts_with(area_code, ?)", [code]).fetchone()[0]
    per_village = con.execute("""SELECT a.name, count(h.household_id) FROM areas a
                                 LEFT JOIN households h ON h.area_code = a.code
                                 WHERE a.level = 'village' AND starts_with(a.code, ?) GROUP BY a.code, a.name
                                 ORDER BY a.code""", [code]).fetchall()
    con.close()
    assert {m.label: m.value for m in at.metric}["建档户数"] == f"{total:,}"
    table = at.dataframe[0].value
    assert list(zip(table["村(社区)"], table["户数"])) == per_village  # the town's villages, not the towns


def test_open_cases_follow_the_status_filter(monkeypatch, demo_db):
    at = _run(monkeypatch, demo_db, pages.page("open_cases").file)
    start, end = at.date_input(key="period").value
    at.multiselect(key="status").set_value(["办理中"]).run()
    assert not at.exception
    con = connect(demo_db, read_only=True)
    want = con.execute("""SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) <= ? AND status = '办理中'""",
                       [end]).fetchone()[0]
    con.close()
    assert {m.label: m.value for m in at.metric}["未办结"] == f"{want:,}"


def test_table_downloads_hold_exactly_the_table(monkeypatch, demo_db):
    import io

    import pandas as pd
    from conftest import spy_downloads

    seen = spy_downloads(monkeypatch)
    at = _run(monkeypatch, demo_db, pages.page("rankings").file)
    table = at.dataframe[-1].value
    raw = seen["rank_csv"]() if callable(seen["rank_csv"]) else seen["rank_csv"]  # built on click
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype={"排名": str})
    assert list(back.columns) == list(table.columns) and len(back) == len(table)
    assert list(back.iloc[:, 1]) == list(table.iloc[:, 1])
    xlsx = seen["rank_xlsx"]() if callable(seen["rank_xlsx"]) else seen["rank_xlsx"]
    assert len(pd.read_excel(io.BytesIO(xlsx))) == len(table)


def test_a_reversed_period_in_a_link_is_read_the_right_way_round_and_reset_restores_the_default(monkeypatch, demo_db):
    monkeypatch.setenv("MINQING_DB", str(demo_db))
    at = AppTest.from_file(APP, default_timeout=120)
    default = at.run().date_input(key="period").value
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["period"] = ["2025-12-31", "2025-01-01"]
    at.run()
    assert not at.exception
    assert _kpis_shown(at) == _independent_kpis(demo_db, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    at.button(key="reset_filters").click().run()
    assert tuple(at.date_input(key="period").value) == tuple(default)


def test_a_chosen_village_still_shows_its_whole_town_with_figures(monkeypatch, demo_db):
    code, _name = _town(demo_db)
    at = _run(monkeypatch, demo_db)
    at.selectbox(key="town").set_value(code).run()
    at.selectbox(key="village").select_index(0).run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "区划代码" in d.value.columns)
    con = connect(demo_db, read_only=True)
    start, end = at.date_input(key="period").value
    want = dict(con.execute("""SELECT a.code, count(c.case_id) FROM areas a LEFT JOIN cases c ON c.area_code = a.code
                                 AND CAST(c.received_at AS DATE) BETWEEN ? AND ?
                               WHERE a.level = 'village' AND starts_with(a.code, ?) GROUP BY 1""", [start, end, code]).fetchall())
    con.close()
    assert dict(zip(table["区划代码"], table["受理诉求"])) == want


def test_csv_keeps_formula_like_ledger_text_as_text():
    import pandas as pd

    from reports.tables import csv_bytes

    raw = csv_bytes(pd.DataFrame({"诉求内容": ["=HYPERLINK(\"http://x\")", "正常", "+86 电话"], "件数": [-1, 2, 3]}))
    text = raw.decode("utf-8-sig").splitlines()
    assert text[1].startswith("\"'=HYPERLINK") and text[3].startswith("'+86") and text[1].endswith(",-1")
