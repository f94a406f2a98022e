"""报告 page (AppTest): the chosen document is generated and downloaded (audited), its totals
are the sidebar's filter's; a town account gets its own town only, whatever the URL asks."""

from __future__ import annotations

import datetime as dt
import io

from conftest import ensure_account, spy_downloads
from docx import Document
from streamlit.testing.v1 import AppTest

from access import store
from dashboard import pages
from dashboard.compute import report as view
from dashboard.session import ACCOUNT_KEY
from etl.db import REPO_ROOT, connect

APP = str(REPO_ROOT / "dashboard" / "app.py")


def _page(monkeypatch, db, account=None, query: dict | None = None) -> AppTest:
    monkeypatch.setenv("MINQING_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=300)
    if account is not None:
        at.session_state[ACCOUNT_KEY] = account
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(pages.page("report").file)
    return at.run()


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])


def _towns(db):
    with connect(db, read_only=True) as con:
        return con.execute("""SELECT a.code, a.name FROM cases c JOIN areas a ON a.code = left(c.area_code, 9)
                              GROUP BY ALL ORDER BY count(*) DESC, 1""").fetchall()


def test_periods_offered_and_the_request():
    from access.roles import ROLES

    assert [r for r in ROLES if pages.page("report") in pages.pages_for(ROLES[r])] == ["leader", "planner", "town"]
    options = view.period_options("digest", dt.date(2026, 10, 31))
    assert list(options)[:2] == ["2026年10月下旬", "2026年10月中旬"] and len(options) == view.CHOICES
    assert list(view.period_options("monthly", dt.date(2026, 10, 30)))[0] == "2026年9月"
    from analysis.filters import CaseFilter

    side = CaseFilter(dt.date(2025, 1, 1), dt.date(2025, 12, 31), ("道路",), area_prefix="610902001")
    req = view.request("digest", side, options["2026年10月下旬"])
    assert (req.start, req.end, req.category, req.area_prefix) == (dt.date(2026, 10, 21), dt.date(2026, 10, 31), ("道路",), "610902001")
    assert view.request("area", side, None) == side and view.missing_area("area", CaseFilter())


def test_a_planner_generates_and_downloads_the_digest(monkeypatch, demo_db):
    seen = spy_downloads(monkeypatch)
    at = _page(monkeypatch, demo_db)
    _ok(at)
    assert at.selectbox(key="report_period_digest").value == "2026年10月下旬"
    at.selectbox(key="report_period_digest").set_value("2026年10月中旬")
    at.button(key="report_make").click().run()
    _ok(at)
    before = len(store.audit_entries(demo_db, limit=1000, action="download"))
    data = seen["report_docx"]()
    text = _text(data)
    assert "十日信息摘报" in text and "2026年第29期" in text and "演示数据" in text
    with connect(demo_db, read_only=True) as con:
        n = con.execute("SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) BETWEEN '2026-10-11' AND '2026-10-20'").fetchone()[0]
    assert f"本期共受理群众诉求{n:,}件" in text
    entries = store.audit_entries(demo_db, limit=1000, action="download")
    assert len(entries) == before + 1 and entries[0]["target"].startswith("十日信息摘报_2026年第29期")


def test_a_town_account_gets_its_own_town_only(monkeypatch, demo_db):
    (town, name), (other, other_name) = _towns(demo_db)[:2]
    account = ensure_account(demo_db, "report_town", "town", (town, name))
    seen = spy_downloads(monkeypatch)
    at = _page(monkeypatch, demo_db, account, {"town": other})  # a link to another town
    _ok(at)
    at.segmented_control(key="report_kind").set_value("area").run()
    at.button(key="report_make").click().run()
    _ok(at)
    text = _text(seen["report_docx"]())
    assert f"区域 {name}" in text and other_name not in text
    with connect(demo_db, read_only=True) as con:
        towns = [n for (n,) in con.execute("SELECT name FROM areas WHERE level = 'town' AND code <> ?", [town]).fetchall()]
    assert [t for t in towns if t in text] == []  # no other town, not even as a neighbour compared
    # its digest is its own town's, by village
    at.segmented_control(key="report_kind").set_value("digest").run()
    at.button(key="report_make").click().run()
    _ok(at)
    text = _text(seen["report_docx"]())
    assert f"区域 {name}" in text and "三、分区域情况" in text and [t for t in towns if t in text] == []
