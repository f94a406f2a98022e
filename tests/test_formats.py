"""One way of showing a figure: a rate reads the same on 总览, 区域档案, 导出 and their files;
charts, file names and the CLI speak Chinese."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import plotly.graph_objects as go
from click.testing import CliRunner

from analysis import areas, metrics
from analysis.filters import CaseFilter
from cli import main
from dashboard.compute import area as area_view
from dashboard.compute import changes, overview
from reports import export

START, END = dt.date(2025, 11, 1), dt.date(2026, 10, 31)


def _busy_village(con) -> str:
    return con.execute("""SELECT area_code FROM cases WHERE CAST(received_at AS DATE) BETWEEN ? AND ?
                          AND length(area_code) = 12 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1""", [START, END]).fetchone()[0]


def test_a_rate_reads_the_same_on_every_page_and_in_every_file(con):
    village = _busy_village(con)
    flt = CaseFilter(START, END, area_prefix=village)
    closed, received = con.execute(
        f"SELECT count(*) FILTER (status NOT IN ('受理', '交办', '办理中')), count(*) FROM cases "
        f"WHERE area_code = ? AND CAST(received_at AS DATE) BETWEEN ? AND ?", [village, START, END]).fetchone()
    want = f"{closed / received * 100:.1f}%"  # one decimal and a percent sign
    s = metrics.case_summary(con, flt)
    assert changes.fmt_rate(s["closure_rate"]) == want  # 总览's and 区域档案's cards
    assert changes.value_text(s["closure_rate"], True) == want
    gdf = export.area_summary(con, flt, "village", ["received", "closure_rate"])
    csv = pd.read_csv(io.BytesIO(export.to_bytes(gdf, "csv")), encoding="utf-8-sig", dtype=str)
    assert list(csv["办结率"]) == [want]  # 导出's CSV
    rows = areas.comparison(con, village, flt)
    table = area_view.figures_table(rows, "village", "village", None)
    me = table[table["区划代码"] == village]
    assert f"{me['办结率'].iloc[0] * 100:.1f}%" == want  # 区域档案's table holds the fraction it shows in percent


def test_changes_of_rates_are_in_points_and_of_counts_in_percent():
    c = {"pop_change": 0.0123, "pop_pct": None, "previous": 0.9, "last_year": None, "yoy_change": None, "yoy_pct": None}
    assert changes.change_text(c, True) == "+1.2 个百分点 环比"
    c = {"pop_change": 17, "pop_pct": 0.034, "previous": 500, "last_year": 480, "yoy_change": 37, "yoy_pct": 0.077}
    assert changes.change_text(c, False) == "+3.4% 环比"
    assert changes.last_year_text(c, False) == "去年同期 480, 同比 +7.7%"


def test_charts_show_months_as_numbers_and_counts_in_full():
    from dashboard.ui import style_chart

    fig = style_chart(go.Figure(go.Scatter(x=["2025-11", "2025-12"], y=[12000, 15000])), months=True)
    assert fig.layout.xaxis.tickformat == "%Y-%m" and fig.layout.xaxis.hoverformat == "%Y-%m"  # not "Nov 2025"
    assert fig.layout.yaxis.exponentformat == "none" and fig.layout.yaxis.separatethousands  # 12,000, not 12k
    assert fig.layout.separators == ".,"
    bars = style_chart(go.Figure(go.Bar(x=[12000], y=["道路"], orientation="h")))
    assert bars.layout.xaxis.exponentformat == "none" and bars.layout.xaxis.tickformat is None


def test_overview_map_tooltip_shows_the_rate_as_text(con):
    tip = overview.tooltip("closure_rate", "village")
    assert tip["closure_rate_text"] == "办结率" and "closure_rate" not in tip


def test_cli_names_an_unknown_category_in_chinese(demo_db):
    for cmd in (["metrics"], ["hotspots"], ["export", "-o", "-"]):
        res = CliRunner().invoke(main, ["--db", str(demo_db), *cmd, "--category", "不存在的类别"])
        assert res.exit_code == 2, res.output
        assert "不存在的类别" in res.output and "问题类别" in res.output and "道路" in res.output
        assert "unknown" not in res.output and "expected one of" not in res.output and "Invalid value" not in res.output


def test_cli_tables_are_in_chinese_with_rates_in_percent(demo_db):
    res = CliRunner().invoke(main, ["--db", str(demo_db), "metrics", "--from", "2025-11-01", "--to", "2026-10-31"])
    assert res.exit_code == 0, res.output
    line = next(l for l in res.output.splitlines() if l.strip().startswith("办结率:"))
    assert line.strip().endswith("%") and "0." not in line.split(":")[1][:3]
    res = CliRunner().invoke(main, ["--db", str(demo_db), "rankings"])
    assert res.exit_code == 0, res.output
    assert "满意率" in res.output and "satisfaction_rate" not in res.output and "%" in res.output
    res = CliRunner().invoke(main, ["--db", str(demo_db), "households"])
    assert res.exit_code == 0, res.output
    assert "[民情分类]" in res.output and "[categories]" not in res.output and "户数" in res.output
    res = CliRunner().invoke(main, ["--db", str(demo_db), "emerging"])
    assert res.exit_code == 0, res.output
    assert "趋势 up" not in res.output and "趋势 none" not in res.output and "趋势 down" not in res.output
