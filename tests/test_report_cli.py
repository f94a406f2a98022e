"""`minqing report`: writes the .docx, records the export in the audit log, and refuses bad
input with a message in Chinese."""

from __future__ import annotations

import datetime as dt
import io

from click.testing import CliRunner
from docx import Document

from access import store
from cli import main


def test_report_digest_writes_the_document_and_audits_it(demo_db, tmp_path):
    out = tmp_path / "摘报.docx"
    r = CliRunner().invoke(main, ["--db", str(demo_db), "report", "digest", "--from", "2026-10-11", "--to", "2026-10-20",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert f"已写出 {out}" in r.output and "演示数据" in r.output
    doc = Document(io.BytesIO(out.read_bytes()))
    assert [p.text for p in doc.paragraphs][1:3] == ["十日信息摘报", "2026年第29期"]
    entry = store.audit_entries(demo_db, limit=1, action="export")[0]
    assert entry["target"] == "十日信息摘报 摘报.docx" and "2026-10-11 至 2026-10-20" in entry["detail"]["filter"]


def test_bad_month_area_and_period_are_refused_in_chinese(demo_db, tmp_path):
    run = lambda *a: CliRunner().invoke(main, ["--db", str(demo_db), "report", *a, "-o", str(tmp_path / "x.docx")])  # noqa: E731
    r = run("monthly", "--month", "2026-13")
    assert r.exit_code == 2 and "--month: 「2026-13」不是有效的月份, 应写作 YYYY-MM" in r.output
    r = run("area", "--area", "没有这个镇")
    assert r.exit_code == 2 and "--area: '没有这个镇' 不是本数据仓库中的区划代码或名称" in r.output
    r = run("digest", "--from", "2026-10-20", "--to", "2026-10-11")
    assert r.exit_code == 2 and "晚于" in r.output
    r = run("digest", "--from", "2027-01-01")  # the 旬 of 1 January 2027: after the data's date
    assert r.exit_code == 2 and "统计时段的第一天 2027-01-01 晚于数据日期 2026-10-31" in r.output
    assert not (tmp_path / "x.docx").exists()


def test_an_area_report_by_name_and_an_empty_warehouse(demo_db, wh, tmp_path):
    from etl.db import connect

    with connect(demo_db, read_only=True) as con:
        town = con.execute("SELECT name FROM areas WHERE level = 'town' ORDER BY code LIMIT 1").fetchone()[0]
    r = CliRunner().invoke(main, ["--db", str(demo_db), "report", "area", "--area", town, "-o", str(tmp_path / "a.docx")])
    assert r.exit_code == 0, r.output
    assert "一区一报" in [p.text for p in Document(str(tmp_path / "a.docx")).paragraphs][1]
    r = CliRunner().invoke(main, ["--db", str(demo_db), "report", "digest", "--area", town, "-o", str(tmp_path / "t.docx")])
    assert r.exit_code == 0, r.output
    assert f"筛选条件：区域 {town}" in [p.text for p in Document(str(tmp_path / "t.docx")).paragraphs]
    r = CliRunner().invoke(main, ["--db", str(wh), "report", "digest", "-o", str(tmp_path / "e.docx")])
    assert r.exit_code == 2 and "数据仓库中还没有诉求记录" in r.output


def test_one_end_given_closes_the_period_by_the_reports_kind(demo_db, tmp_path):
    from etl.db import connect

    run = lambda *a: CliRunner().invoke(main, ["--db", str(demo_db), "report", *a])  # noqa: E731
    r = run("digest", "--to", "2026-09-20", "-o", str(tmp_path / "d.docx"))  # the 旬 of that day: 11-20 September
    assert r.exit_code == 0, r.output
    assert [p.text for p in Document(str(tmp_path / "d.docx")).paragraphs][2] == "2026年第26期"
    assert "统计时段 2026-09-11 至 2026-09-20" in r.output
    r = run("digest", "--from", "2026-09-21", "-o", str(tmp_path / "e.docx"))  # the 旬 of that day: 21-30 September
    assert r.exit_code == 0 and "统计时段 2026-09-21 至 2026-09-30" in r.output, r.output
    with connect(demo_db, read_only=True) as con:
        town = con.execute("SELECT code FROM areas WHERE level = 'town' ORDER BY code LIMIT 1").fetchone()[0]
        first = con.execute("SELECT min(received_at)::DATE FROM cases").fetchone()[0]
    # an area report as the dashboard: the 12 months up to the end given, from the first case at the earliest
    r = run("area", "--area", town, "--to", "2025-06-30", "-o", str(tmp_path / "a.docx"))
    assert r.exit_code == 0, r.output
    assert f"统计时段 {max(first, dt.date(2024, 7, 1))} 至 2025-06-30" in r.output
