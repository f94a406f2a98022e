"""The printable 五必去 visit plan: every row in order, ledger text escaped, blank columns to fill
in by hand, A4 print styles and the demo label."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pandas as pd
import pytest

from reports.visit_plan import BLANK_COLUMNS, visit_plan_html


class _Table(HTMLParser):
    """Collects the text of th/td cells per row, and every tag and script seen."""

    def __init__(self):
        super().__init__()
        self.rows, self.tags, self._row, self._cell = [], [], None, None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr":
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _parse(doc: str) -> _Table:
    p = _Table()
    p.feed(doc)
    return p


def _plan() -> pd.DataFrame:
    return pd.DataFrame({
        "序号": [1, 2, 3],
        "乡镇(街道)": ["五里镇", "大竹园镇", "老城街道"],
        "村(社区)": ["<script>alert('x')</script>村", "新村", "A&B <b>社区</b>"],
        "五必去标记": ["特困村、边远村", "信访问题较多", "工作推进有难度"],
        "原因": ["连心户占比 31%, 高于阈值 25%", "<img src=x onerror=alert(1)>", "超期未办结 12 件 (阈值 10)"],
        "优先得分": [9.26, 4.0, float("nan")],
    })


def test_every_row_appears_in_order_with_blank_columns():
    plan = _plan()
    t = _parse(visit_plan_html(plan, "汉滨区 五必去走访计划", "数据截至 2026-10-31"))
    header, *rows = t.rows
    assert header == [*plan.columns, *BLANK_COLUMNS]
    assert len(rows) == len(plan)
    for got, want in zip(rows, plan.itertuples(index=False)):
        assert got[2] == want[2] and got[4] == want[4]  # names and reasons exactly as in the ledger
        assert got[-len(BLANK_COLUMNS):] == [""] * len(BLANK_COLUMNS)
    assert [r[0] for r in rows] == ["1", "2", "3"]
    assert rows[0][5] == "9.3" and rows[1][5] == "4.0"  # scores, rounded for print
    assert rows[2][5] == ""  # missing is blank, not 'nan'


def test_ledger_markup_is_escaped_never_live():
    plan = _plan()
    doc = visit_plan_html(plan, "<script>bad()</script>计划", "区域 <i>x</i>", notes=["标记条件: <b>特困村</b>"])
    assert "<script>alert" not in doc and "<img" not in doc and "<b>" not in doc and "<i>" not in doc
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;村" in doc
    assert "&lt;img src=x onerror=alert(1)&gt;" in doc
    assert "A&amp;B &lt;b&gt;社区&lt;/b&gt;" in doc
    t = _parse(doc)
    assert "img" not in t.tags and "b" not in t.tags and "i" not in t.tags
    assert t.tags.count("script") == 0  # the page itself needs no script (only an onclick print button)


def test_print_layout_fonts_title_and_demo_label():
    doc = visit_plan_html(_plan(), "汉滨区 · 五里镇 五必去走访计划", "数据截至 2026-10-31", demo=True,
                          notes=["标记条件: 特困村"], printed=dt.date(2026, 11, 2))
    assert "@page" in doc and "A4" in doc and "@media print" in doc
    assert "Noto Sans CJK SC" in doc and "Microsoft YaHei" in doc and "sans-serif" in doc
    assert "<title>汉滨区 · 五里镇 五必去走访计划</title>" in doc
    assert "数据截至 2026-10-31" in doc and "标记条件: 特困村" in doc and "2026-11-02" in doc
    assert doc.count("演示数据") >= 2  # by the title and in the footer
    assert "http://" not in doc and "https://" not in doc  # prints on an intranet: nothing fetched
    assert "演示数据" not in visit_plan_html(_plan(), "计划", "")


def test_an_empty_plan_says_so():
    t = _parse(visit_plan_html(_plan().iloc[0:0], "计划", ""))
    assert t.rows == []
    assert "没有需要走访的村(社区)" in visit_plan_html(_plan().iloc[0:0], "计划", "")


def test_criteria_are_printed_as_a_list_escaped():
    doc = visit_plan_html(_plan(), "计划", "", criteria=["边远村: 距离不低于15公里", "<b>x</b>"])
    assert "<li>边远村: 距离不低于15公里</li>" in doc and "<li>&lt;b&gt;x&lt;/b&gt;</li>" in doc


def _printed_plan(monkeypatch, db, flags=None) -> str:
    """The text of the printable plan the 五必去 page offers (its download, built on click)."""
    import re

    from conftest import spy_downloads
    from streamlit.testing.v1 import AppTest

    from dashboard import pages
    from etl.db import REPO_ROOT

    seen = spy_downloads(monkeypatch)
    monkeypatch.setenv("MINQING_DB", str(db))
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app.py"), default_timeout=120)
    at.switch_page(pages.page("must_visit").file).run()
    if flags is not None:
        at.multiselect(key="mv_flags").set_value(flags).run()
    assert not at.exception
    doc = seen["mv_html"]().decode("utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", doc.split("<body>")[1]))  # the printed text


@pytest.fixture
def fresh_queries():
    """Cached query results are keyed by the warehouse, not the settings: none computed with other
    thresholds comes in, and none computed with this test's goes out to later tests."""
    from dashboard import data

    data.forget_warehouse()
    yield
    data.forget_warehouse()


def test_the_printed_plan_states_each_criterion_in_words_with_its_threshold_and_no_file(monkeypatch, demo_db,
                                                                                      fresh_queries):
    import re

    for name, value in {"REMOTE_KM": "12", "POVERTY_SHARE": "0.3", "PETITION_RATE_RATIO": "2.5",
                        "DIFFICULT_OVERDUE": "8", "DIFFICULT_CLOSURE_RATE": "0.75", "WINDOW_MONTHS": "9"}.items():
        monkeypatch.setenv(f"MINQING_MUST_VISIT_{name}", value)
    text = _printed_plan(monkeypatch, demo_db)
    assert re.search(r"特困村: [^。]*连心户占比不低于30%", text)
    assert re.search(r"边远村: [^。]*不低于12公里", text)
    assert re.search(r"信访问题较多: 近9个月每千户诉求[^。]*全区的2.5倍", text)
    assert re.search(r"工作推进有难度: 超期未办结不少于8件[^。]*办结率低于75%", text)
    assert re.search(r"受自然灾害影响: 近9个月", text)
    assert not re.search(r"[\w.-]+\.(toml|py|duckdb|json|csv)\b|etl/|侧栏", text), text  # nothing only the office knows

    only = _printed_plan(monkeypatch, demo_db, ["remote"])
    assert "边远村: " in only and "特困村: " not in only and "受自然灾害影响: " not in only
