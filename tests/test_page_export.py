"""导出 and 五必去 pages in AppTest: the preview equals a direct query for the chosen level,
metrics and filters, every download holds exactly the preview, the printable plan lists
every planned village, and both pages explain an empty warehouse."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from cli import main
from test_export import assert_csv_shows
from dashboard import pages
from etl.db import REPO_ROOT, connect

APP = str(REPO_ROOT / "dashboard" / "app.py")
CLOSED = ("办结", "已回访", "已归档")


@pytest.fixture
def downloads(monkeypatch):
    """Every st.download_button call of the run: key -> (data, file_name)."""
    seen: dict[str, tuple] = {}
    original = DeltaGenerator.download_button

    def spy(self, label, data, file_name=None, *args, **kwargs):
        # a download built on click: what the click would send
        seen[kwargs.get("key") or label] = (data() if callable(data) else data, file_name)
        return original(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", spy)
    return seen


def _run(monkeypatch, db, page) -> AppTest:
    monkeypatch.setenv("MINQING_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page(page)
    return at.run()


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _busiest_town(db) -> tuple[str, str]:
    con = connect(db, read_only=True)
    try:
        return con.execute("""SELECT a.code, a.name FROM cases c JOIN areas a ON a.code = left(c.area_code, 9)
                              GROUP BY ALL ORDER BY count(*) DESC LIMIT 1""").fetchone()
    finally:
        con.close()


def _direct(db, town: str, start, end, categories) -> pd.DataFrame:
    con = connect(db, read_only=True)
    try:
        return con.execute(f"""
            SELECT a.code AS 区划代码, a.name AS "村(社区)",
              (SELECT count(*) FROM cases c WHERE c.area_code = a.code AND CAST(c.received_at AS DATE) BETWEEN $s AND $e
                 AND list_contains($cats, c.category)) AS 受理诉求,
              (SELECT count(*) FROM cases c WHERE c.area_code = a.code AND CAST(c.received_at AS DATE) BETWEEN $s AND $e
                 AND list_contains($cats, c.category) AND c.status IN {CLOSED}) AS 已办结,
              (SELECT count(*) FROM households h WHERE h.area_code = a.code) AS 户数
            FROM areas a WHERE a.level = 'village' AND starts_with(a.code, $t) ORDER BY a.code""",
                           {"s": start, "e": end, "t": town, "cats": list(categories)}).df()
    finally:
        con.close()


def test_preview_equals_a_direct_query_and_downloads_hold_exactly_it(monkeypatch, demo_db, downloads, tmp_path):
    town, town_name = _busiest_town(demo_db)
    at = _run(monkeypatch, demo_db, pages.page("export").file)
    _ok(at)
    assert any("演示数据" in w.value for w in at.warning)
    at.selectbox(key="town").set_value(town)
    cats = at.multiselect(key="category").options[:2]
    at.multiselect(key="category").set_value(cats)
    at.button_group(key="ex_level").set_value("village")
    at.multiselect(key="ex_metrics").set_value(["received", "closed", "closure_rate", "households"])
    downloads.clear()
    at.run()
    _ok(at)
    start, end = at.date_input(key="period").value
    shown = at.dataframe[0].value
    want = _direct(demo_db, town, start, end, cats)
    assert list(shown.columns) == ["区划代码", "村(社区)", "乡镇(街道)", "受理诉求", "已办结", "办结率", "户数"]
    assert list(shown["区划代码"]) == list(want["区划代码"]) and len(want) > 1
    assert set(shown["乡镇(街道)"]) == {town_name}
    for col in ("村(社区)", "受理诉求", "已办结", "户数"):
        assert list(shown[col]) == list(want[col]), col
    assert want["受理诉求"].sum() > 0
    rate = want["已办结"] / want["受理诉求"].where(want["受理诉求"] > 0)
    pd.testing.assert_series_equal(shown["办结率"], rate, check_names=False)
    assert any(town_name in c.value and "、".join(cats) in c.value for c in at.caption)  # the filters in words

    # every download: the same rows, columns and values; named after level, period, area, demo
    assert set(downloads) == {"ex_csv", "ex_xlsx", "ex_geojson", "ex_gpkg"}
    for data, name in downloads.values():
        assert name.startswith(f"区域汇总_村(社区)_{start}至{end}_{town_name}_演示数据.")
    csv_data, _ = downloads["ex_csv"]
    assert csv_data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(csv_data), encoding="utf-8-sig", dtype={"区划代码": str})
    assert_csv_shows(back, shown)
    wb = openpyxl.load_workbook(io.BytesIO(downloads["ex_xlsx"][0]))
    rows = list(wb["区域汇总"].iter_rows(values_only=True))
    assert list(rows[0]) == list(shown.columns) and [r[0] for r in rows[1:]] == list(shown["区划代码"])
    notes = dict(list(wb["说明"].iter_rows(values_only=True))[1:])
    assert town_name in notes["筛选条件"] and "、".join(cats) in notes["筛选条件"]
    assert notes["数据截至"] == "2026-10-31" and "演示数据" in notes["数据性质"]
    for kind in ("ex_geojson", "ex_gpkg"):
        path = tmp_path / downloads[kind][1]
        path.write_bytes(downloads[kind][0])
        gdf = pyogrio.read_dataframe(path)
        pd.testing.assert_frame_equal(pd.DataFrame(gdf.drop(columns="geometry")), shown, check_dtype=False)
        assert gdf.geometry.notna().all() and gdf.geometry.is_valid.all()


def test_town_level_lists_every_town_with_every_case(monkeypatch, demo_db):
    at = _run(monkeypatch, demo_db, pages.page("export").file)
    at.multiselect(key="ex_metrics").set_value(["received"])
    at.run()
    _ok(at)
    start, end = at.date_input(key="period").value
    shown = at.dataframe[0].value
    con = connect(demo_db, read_only=True)
    try:
        towns = [c for (c,) in con.execute("SELECT code FROM areas WHERE level = 'town' ORDER BY code").fetchall()]
        total = con.execute("SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) BETWEEN ? AND ?",
                            [start, end]).fetchone()[0]
    finally:
        con.close()
    assert list(shown.columns) == ["区划代码", "乡镇(街道)", "受理诉求"]
    assert list(shown["区划代码"]) == towns and int(shown["受理诉求"].sum()) == total


def test_must_visit_page_offers_a_printable_plan_with_every_row(monkeypatch, demo_db, downloads):
    at = _run(monkeypatch, demo_db, pages.page("must_visit").file)
    _ok(at)
    plan = at.dataframe[0].value
    assert len(plan) > 0
    assert "mv_html" in downloads
    doc, name = downloads["mv_html"]
    assert name.endswith(".html") and "五必去走访计划" in name
    text = doc.decode("utf-8")
    srcdoc = at.get("iframe")[0].proto.srcdoc  # the inline preview is the same document
    assert srcdoc == text
    assert "演示数据" in text and "走访干部" in text and "签字" in text and "数据截至 2026-10-31" in text
    from html import escape
    pos = [text.index(escape(v)) for v in plan["村(社区)"]]
    assert pos == sorted(pos)  # every village, in the plan's order
    for reason in plan["原因"]:
        assert escape(reason) in text
    # one criterion: the printable page follows the table
    at.multiselect(key="mv_flags").set_value(["disaster"]).run()
    _ok(at)
    names = set(at.dataframe[0].value["村(社区)"])
    text = downloads["mv_html"][0].decode("utf-8")
    assert "标记条件: 受自然灾害影响" in text
    assert text.count("<tr>") == len(names) + 1
    for n in set(plan["村(社区)"]) - names:
        assert f"<td>{escape(n)}</td>" not in text


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("page_export_empty") / "empty.duckdb"
    assert CliRunner().invoke(main, ["--db", str(db), "init", "--district", "610902"]).exit_code == 0
    return db


@pytest.mark.parametrize("page", [pages.page("export").file, pages.page("must_visit").file])
def test_pages_explain_an_empty_warehouse(monkeypatch, empty_db, page):
    at = _run(monkeypatch, empty_db, page)
    _ok(at)
    assert any("minqing load" in i.value for i in at.info)
    assert not at.download_button
