"""One default period: the dashboard and the CLI analyse the same months when none is chosen,
up to the data's own date, and say which; every page states 数据截至 and warns when it is old."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from analysis import metrics
from cli import main
from dashboard.texts import as_of_notice
from etl.db import REPO_ROOT, connect
from etl.views import AsOf

APP = str(REPO_ROOT / "dashboard" / "app.py")
HEADER = "受理编号,受理时间,诉求来源,问题类别,诉求内容,所属乡镇,所属村(社区),办理状态"


@pytest.fixture(scope="module")
def last_december(tmp_path_factory):
    """A district whose export ends on 2025-12-28, cases from 2024-06 on."""
    d = tmp_path_factory.mktemp("export")
    db = d / "w.duckdb"
    assert CliRunner().invoke(main, ["--db", str(db), "init", "--district", "610902"]).exit_code == 0
    rows = [f"E{i:03d},{day},12345,道路,路灯,老城街道,西大街社区,受理"
            for i, day in enumerate(["2024-06-03", "2024-12-31", "2025-01-01", "2025-06-15", "2025-12-28"])]
    (d / "导出.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="gb18030")
    r = CliRunner().invoke(main, ["--db", str(db), "load", "cases", str(d / "导出.csv")])
    assert r.exit_code == 0, r.output
    return db


def test_the_default_is_the_last_twelve_months_up_to_the_datas_date(last_december):
    con = connect(last_december, read_only=True)
    assert metrics.default_period(con) == (dt.date(2025, 1, 1), dt.date(2025, 12, 28))


def test_the_cli_uses_and_states_the_same_period(last_december):
    r = CliRunner().invoke(main, ["--db", str(last_december), "metrics", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["received"] == 3  # 2025-01-01, 2025-06-15, 2025-12-28; not the two of 2024
    assert "受理时段 2025-01-01 至 2025-12-28" in r.stderr and "数据截至 2025-12-28" in r.stderr
    r = CliRunner().invoke(main, ["--db", str(last_december), "metrics", "--json", "--from", "2024-01-01"])
    assert json.loads(r.stdout)["received"] == 5


def test_the_dashboard_opens_on_the_same_period_and_states_the_date(monkeypatch, last_december):
    monkeypatch.setenv("MINQING_DB", str(last_december))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.date_input(key="period").value == (dt.date(2025, 1, 1), dt.date(2025, 12, 28))
    assert any("数据截至 2025-12-28" in c.value for c in at.caption)
    # the export is old by today's clock: the page says so
    assert any("比今天早" in w.value for w in at.warning)


def test_the_warning_follows_the_setting_and_spares_the_demo(monkeypatch):
    at = AsOf(dt.datetime(2025, 12, 28, 23, 59, 59), "data")
    assert as_of_notice(at, dt.date(2026, 1, 20)) == ("数据截至 2025-12-28", None)  # 23 days: within 30
    caption, warning = as_of_notice(at, dt.date(2026, 2, 1))
    assert caption == "数据截至 2025-12-28" and "比今天早 35 天" in warning
    monkeypatch.setenv("MINQING_AS_OF_LAG_WARN_DAYS", "60")
    assert as_of_notice(at, dt.date(2026, 2, 1))[1] is None
    assert as_of_notice(AsOf(at.at, "demo"), dt.date(2027, 1, 1))[1] is None
