"""The 预警 page and `minqing alerts`: the ranking shown is the analysis', a town account sees its
own town, a leader sees no petitioner columns, an empty warehouse says so, seen-before is kept,
and a planner's acceptance of a suggestion maps the term (audited) and survives as a mapping."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from analysis.alerts import current_alerts
from cli import main
from etl.db import REPO_ROOT, connect
from tests.conftest import sign_in_apptest

APP = str(REPO_ROOT / "dashboard" / "app.py")
AS_OF = dt.date(2026, 10, 31)


def _page(monkeypatch, db, *account) -> AppTest:
    monkeypatch.setenv("MINQING_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=180)
    if account:
        sign_in_apptest(at, db, *account)
    at.switch_page("views/alerts.py")
    return at.run()


def _table(at, column: str):
    """The page's table with this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_page_ranks_the_warnings_with_reasons_and_cases(monkeypatch, demo_db, con):
    at = _page(monkeypatch, demo_db)
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    items = current_alerts(con, as_of=AS_OF)
    table = at.dataframe[0].value
    assert table["预警"].tolist() == [a.title for a in items]
    assert table["原因"].tolist() == [a.why for a in items]
    assert table["序号"].iloc[0] == 1 and table["类型"].iloc[0] == "诉求异常增多"
    cases = at.dataframe[1].value  # the first warning's cases, masked, with the petitioner columns for a planner
    assert sorted(cases["诉求编号"]) == sorted(items[0].case_ids)
    assert {"诉求人", "联系电话"} <= set(cases.columns)
    assert all("*" in p for p in cases["诉求人"])
    assert any("演示数据" in w.value for w in at.warning)
    assert any("交叉验证准确率" in c.value for c in at.caption)


def test_a_town_account_sees_its_own_town_only(monkeypatch, demo_db, demo_truth):
    village = demo_truth["alerts"]["surge"]["village"]
    town = village[:9]
    with connect(demo_db, read_only=True) as c:
        name = c.execute("SELECT name FROM areas WHERE code = ?", [town]).fetchone()[0]
    at = _page(monkeypatch, demo_db, "town_alerts", "town", (town, name))
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    table = at.dataframe[0].value
    assert len(table) and all(w.startswith(name) for w in table["区域"])
    assert "征地拆迁补偿诉求异常增多" in table["预警"].iloc[0]
    cases = at.dataframe[1].value
    assert len(cases) == demo_truth["alerts"]["surge"]["cases"] and set(cases["乡镇(街道)"]) == {name}
    assert not any("交叉验证准确率" in c.value for c in at.caption)  # suggestions are the office's


def test_a_leader_sees_no_petitioner_columns(monkeypatch, demo_db):
    at = _page(monkeypatch, demo_db, "leader_alerts", "leader")
    assert not at.exception and not at.error
    cases = at.dataframe[1].value
    assert len(cases) and not {"诉求人", "联系电话"} & set(cases.columns)


def test_an_empty_warehouse_says_there_is_nothing(monkeypatch, wh):
    at = _page(monkeypatch, wh)
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert any("minqing load" in i.value for i in at.info)
    assert not at.dataframe or at.dataframe[0].value.empty


def test_cli_json_lists_the_same_warnings(demo_db, con):
    r = CliRunner().invoke(main, ["--db", str(demo_db), "alerts", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    items = current_alerts(con, as_of=AS_OF)
    assert out["as_of"] == "2026-10-31" and out["label"] == "演示数据"
    assert [(a["kind"], a["rank"], a["title"], a["case_ids"]) for a in out["alerts"]] == \
        [(a.kind, a.rank, a.title, a.case_ids) for a in items]
    assert out["alerts"][0]["numbers"]["observed"] == len(items[0].case_ids)


def test_cli_text_says_new_then_seen_before(tmp_path):
    from access.seen import first_seen

    db = tmp_path / "w.duckdb"
    assert first_seen(db, ["a", "b"], "2026-10-30") == {"a": "2026-10-30", "b": "2026-10-30"}
    assert first_seen(db, ["b", "c"], "2026-10-31") == {"b": "2026-10-30", "c": "2026-10-31"}
    assert first_seen(db, ["c"], "2026-10-20") == {"c": "2026-10-20"}  # older data rebuilt: the earlier date


def test_cli_bad_town_is_a_usage_error(demo_db):
    r = CliRunner().invoke(main, ["--db", str(demo_db), "alerts", "--town", "abc"])
    assert r.exit_code == 2 and "9 位区划代码" in r.output


@pytest.fixture
def demo_copy(demo_dir, tmp_path):
    for f in demo_dir.iterdir():
        if f.name.startswith("demo.duckdb") and f.is_file() and not f.name.endswith(".lock"):
            shutil.copy(f, tmp_path / f.name)
    return tmp_path / "demo.duckdb"


def test_accepting_a_suggestion_maps_the_term_and_is_audited(monkeypatch, demo_copy, demo_truth):
    from access import store

    at = _page(monkeypatch, demo_copy)
    assert not at.exception and not at.error
    term, cat = next(iter(demo_truth["alerts"]["unmapped"]["suggested"].items()))
    n = demo_truth["alerts"]["unmapped"]["terms"][term]
    assert at.selectbox(key="al_accept_term").options == [f"{term} → {cat}"]  # the mixed 待分类 is not offered
    at.button(key="al_accept").click().run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert any(f"已将 {term} 归入 {cat}, 更新诉求 {n} 件" in s.value for s in at.success)
    at.run()  # the page reads the new file (its connection to the old one closes)
    assert term not in _table(at, "平均概率")["原词(未映射)"].tolist()
    with connect(demo_copy, read_only=True) as c:
        assert c.execute("SELECT count(*) FROM cases WHERE category = ?", [term]).fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM cases WHERE category_raw = ? AND category = ?", [term, cat]).fetchone()[0] == n
        assert c.execute("SELECT mapped_to FROM vocab_map WHERE domain = 'category' AND term = ?", [term]).fetchone()[0] == cat
    log = store.audit_entries(demo_copy, action="vocab_map")
    assert log and term in log[0]["target"] and log[0]["rows"] == n


def test_cli_a_warning_still_there_a_few_days_later_is_seen_before(demo_copy, demo_truth):
    """The same groups on a later data date (their window slid by four days) are not 新 again."""
    def run() -> dict:
        r = CliRunner().invoke(main, ["--db", str(demo_copy), "alerts", "--json"])
        assert r.exit_code == 0, r.output
        return {(a["kind"], tuple(a["area_codes"])): a for a in json.loads(r.output)["alerts"]}

    first = run()
    plants = demo_truth["alerts"]
    same = ("same_matter", (plants["same_matter"]["village"],))
    group = ("cluster", tuple(plants["cluster"]["villages"]))
    assert first[same]["new"] and first[group]["new"]
    with connect(demo_copy) as c:
        c.execute("UPDATE meta SET value = '2026-11-04' WHERE key = 'demo_as_of'")
    later = run()
    assert later[same]["case_ids"] != first[same]["case_ids"]  # the window moved past its first case
    for k in (same, group):
        assert not later[k]["new"] and later[k]["first_seen"] == "2026-10-31", k


@pytest.mark.parametrize("var, value", [("MINQING_ALERT_Q", "1.5"), ("MINQING_ALERT_WINDOW_DAYS", "0"),
                                        ("MINQING_ALERT_BASELINE_WEEKS", "0")])
def test_cli_a_setting_out_of_range_is_a_usage_error(demo_db, monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    r = CliRunner().invoke(main, ["--db", str(demo_db), "alerts"])
    assert r.exit_code == 2 and f"{var}={value!r} 无效" in r.output and "Traceback" not in r.output, r.output


def test_page_a_setting_out_of_range_is_a_message(monkeypatch, demo_db):
    monkeypatch.setenv("MINQING_ALERT_Q", "1.5")
    at = _page(monkeypatch, demo_db)
    assert not at.exception, [e.value for e in at.exception]
    assert any("MINQING_ALERT_Q='1.5' 无效" in e.value for e in at.error)


def test_cli_an_unwritable_seen_store_still_lists_the_warnings(demo_copy):
    store = demo_copy.with_name(demo_copy.name + ".access.sqlite")
    store.unlink(missing_ok=True)
    store.mkdir()  # not a database: nothing can be read or written there
    r = CliRunner().invoke(main, ["--db", str(demo_copy), "alerts"])
    assert r.exit_code == 0, r.output + r.stderr
    assert "未能读写预警的首次出现记录" in r.stderr and "诉求异常增多:" in r.output


def test_a_case_received_at_province_level_is_not_shown_as_city_level():
    """受理层级 省 is stored as city (above the district): the table says 市及以上, never just 市."""
    import pandas as pd

    from analysis.alerts import Alert
    from dashboard import alerts_data as view

    cases = pd.DataFrame([{c: "x" for c in view.CASE_COLUMNS} | {"case_id": "c1", "received_level": "city"}])
    item = Alert("level_skip", "k", 1, "t", "w", "v", ["v"], ["c1"])
    assert view.cases_table(cases, item)["受理层级"].tolist() == ["市及以上"]


def test_the_map_reads_only_the_warned_towns_outlines(monkeypatch, demo_db, con):
    """The page draws the first warning's towns from their own villages' outlines, never every village."""
    import streamlit as st

    from dashboard import data

    def every_village(*a, **k):
        raise AssertionError("every village's outline was read")
    monkeypatch.setattr(data, "area_shapes", every_village)
    read = []
    original = data._outlines
    monkeypatch.setattr(data, "_outlines", lambda *a, **k: read.append(original(*a, **k)) or read[-1])
    st.cache_data.clear()  # outlines cached by an earlier page run would not be read again
    at = _page(monkeypatch, demo_db)
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    first = current_alerts(con, as_of=AS_OF)[0]
    towns = {c[:9] for c in first.area_codes}
    want = {r[0] for r in con.execute("SELECT code FROM areas WHERE level = 'village' AND geom IS NOT NULL").fetchall()
            if r[0][:9] in towns}
    assert read and set(read[-1]["code"]) == want
    assert not any("还没有村(社区)边界" in i.value for i in at.info)
