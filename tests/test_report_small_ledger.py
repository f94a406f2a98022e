"""The documents over a small ledger loaded as a user loads one (three cases, 2-4 March 2025,
the data's date 4 March 2025): text from the ledger that Word cannot hold, and periods before
the first case, after the data's date or not over yet, and shares of all cases received."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from click.testing import CliRunner
from docx import Document

from analysis.filters import CaseFilter
from cli import main
from etl.db import connect
from etl.load import load_file
from reports.documents import build as reports

D = dt.date
HEADER = "受理编号,受理时间,诉求来源,问题类别,诉求内容,所属乡镇,所属村(社区),区划代码,办理状态,办结时间,承办单位"
ROWS = [
    "H001,2025-03-02 09:00,12345,物业,反映物业乱收费,老城街道,西大街社区,,办理中,,区住建\x0b局",
    "H002,2025-03-03 10:00,来信,低保,申请低保,老城街道,西大街社区,,已办结,2025-03-04 10:00,区民政\x0c局",
    "H003,2025-03-04 11:00,12345,物业,反映停水,老城街道,西大街社区,,办理中,,区住建\x0b局",
    "H004,2025-03-03 12:00,12345,物业,反映全区问题,,,610902,办理中,,区住建局",  # placed at the district: in no town
]


@pytest.fixture(scope="module")
def ledger_db(tmp_path_factory):
    d = tmp_path_factory.mktemp("ledger")
    db = d / "w.duckdb"
    r = CliRunner().invoke(main, ["--db", str(db), "init", "--district", "610902"])
    assert r.exit_code == 0, r.output
    ledger = d / "台账.csv"
    ledger.write_bytes(("\n".join([HEADER, *ROWS]) + "\n").encode("gb18030"))
    load_file(db, "cases", ledger)
    return db


def paragraphs(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


def test_a_control_character_in_a_unit_name_from_the_ledger_does_not_break_the_document(ledger_db):
    with connect(ledger_db, read_only=True) as con:
        units = {u for (u,) in con.execute("SELECT DISTINCT handling_unit FROM cases").fetchall()}
        assert "区住建\x0b局" in units  # the ledger's text is kept as it was typed
        for kind, flt in (("digest", CaseFilter(D(2025, 3, 1), D(2025, 3, 10))),
                          ("monthly", CaseFilter(D(2025, 3, 1), D(2025, 3, 31)))):
            data, _ = reports.build(con, kind, flt)
            doc = Document(io.BytesIO(data))
            cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
            assert not any(ch in c for c in cells for ch in "\x0b\x0c")
        assert "区住建 局" in cells  # the monthly analysis ranks every handling unit


@pytest.mark.parametrize("args, message", [
    (["monthly", "--month", "2025-02"], "统计时段 2025-02-01 至 2025-02-28 早于第一条诉求记录 (2025-03-02)"),
    (["digest", "--from", "2024-12-01", "--to", "2024-12-10"], "早于第一条诉求记录 (2025-03-02)"),
    (["digest", "--from", "2025-04-01"], "统计时段的第一天 2025-04-01 晚于数据日期 2025-03-04"),
    (["monthly", "--month", "2030-01"], "统计时段的第一天 2030-01-01 晚于数据日期 2025-03-04"),
])
def test_a_period_without_data_is_refused_in_chinese(ledger_db, tmp_path, args, message):
    out = tmp_path / "x.docx"
    r = CliRunner().invoke(main, ["--db", str(ledger_db), "report", *args, "-o", str(out)])
    assert r.exit_code == 2 and message in r.output, r.output
    assert "Traceback" not in r.output and not out.exists()


def test_a_period_not_over_is_cut_at_the_data_date_marked_and_not_numbered(ledger_db):
    with connect(ledger_db, read_only=True) as con:
        for kind, flt, label in (("digest", CaseFilter(D(2025, 3, 1), D(2025, 3, 10)), "2025年3月上旬"),
                                 ("monthly", CaseFilter(D(2025, 3, 1), D(2025, 3, 31)), "2025年3月")):
            data, model = reports.build(con, kind, flt)
            text = paragraphs(data)
            assert f"汉滨区{label}（本期截至3月4日，尚未结束）群众诉求" in text[3], kind  # the title, under the header
            assert not [t for t in text if t.endswith("期") and "年第" in t]  # no 第N期 line
            assert model.header.issue is None and "年第" not in reports.file_name(kind, model)
            assert any("统计时段 2025-03-01 至 2025-03-04" in t for t in text)


def test_the_leading_towns_share_is_of_all_cases_received(ledger_db):
    with connect(ledger_db, read_only=True) as con:
        data, _ = reports.build(con, "digest", CaseFilter(D(2025, 3, 1), D(2025, 3, 10)))
    text = paragraphs(data)
    areas = text[text.index("三、分区域情况") + 1]
    assert "老城街道（3件" in areas and "合计占受理总量的75.0%" in areas, areas  # 3 of the 4 received


def test_the_trend_before_the_first_case_is_empty(ledger_db):
    from reports.documents.context import context
    from reports.documents.sections import trend_months

    with connect(ledger_db, read_only=True) as con:
        months = trend_months(context(con, CaseFilter(D(2024, 6, 1), D(2024, 6, 30)), kind="monthly"))
        assert months.empty and list(months.columns) == ["month", "received", "closed", "closure_rate"]
        months = trend_months(context(con, CaseFilter(D(2025, 3, 1), D(2025, 3, 4)), kind="monthly"))
        assert list(months["month"]) == ["2025-03"] and list(months["received"]) == [4]


def test_a_monthly_analysis_of_the_first_month_names_the_months_it_has(ledger_db):
    with connect(ledger_db, read_only=True) as con:
        data, _ = reports.build(con, "monthly", CaseFilter(D(2025, 3, 1), D(2025, 3, 31)))
    doc = Document(io.BytesIO(data))
    assert "（一）近1个月走势" in [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert "表4 近1个月受理与办结" in [p.text for p in doc.paragraphs] and "近12个月" not in "\n".join(p.text for p in doc.paragraphs)
