"""Every page runs on the demo; the numbers equal a direct SQL query; empty data is explained."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from etl.cli import main
from etl.db import REPO_ROOT, connect

APP = str(REPO_ROOT / "dashboard" / "app.py")
PAGES = ["views/overview.py"]


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
    assert any("演示数据" in w.value for w in at.warning)  # the demo says what it is


def _independent_kpis(db, start: dt.date, end: dt.date) -> dict:
    con = connect(db, read_only=True)
    now = dt.datetime(2026, 10, 31, 23, 59, 59)
    q = lambda sql, *p: con.execute(sql, list(p)).fetchone()[0]  # noqa: E731
    received = q("SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) >= ? AND CAST(received_at AS DATE) <= ?", start, end)
    closed = q("""SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) >= ? AND CAST(received_at AS DATE) <= ?
                  AND status IN ('办结', '已回访', '已归档')""", start, end)
    open_ = q("SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) <= ? AND status IN ('受理', '交办', '办理中')", end)
    overdue = q("""SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) <= ? AND status IN ('受理', '交办', '办理中')
                   AND deadline < ?""", end, now)
    con.close()
    return {"受理诉求": f"{received:,}", "已办结": f"{closed:,}", "办结率": f"{closed / received * 100:.1f}%",
            "未办结": f"{open_:,}", "超期未办结": f"{overdue:,}"}


def test_kpis_follow_the_period_filter_and_match_sql(monkeypatch, demo_db):
    at = _run(monkeypatch, demo_db)
    shown = {m.label: m.value for m in at.metric}
    start, end = at.date_input(key="period").value
    assert shown == _independent_kpis(demo_db, start, end)
    at.date_input(key="period").set_value((dt.date(2024, 1, 1), dt.date(2024, 12, 31))).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric} == _independent_kpis(demo_db, dt.date(2024, 1, 1), dt.date(2024, 12, 31))


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
