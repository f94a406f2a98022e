"""CSV and XLSX downloads hold ledger text as written, even with Word's control characters."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.exceptions import IllegalCharacterError

from reports.tables import csv_bytes, xlsx_bytes

WORD_TEXT = "张*反映:\x0b路灯不亮\x01已三个月\x0c请尽快修复"


def test_plain_openpyxl_refuses_such_text():
    # what the downloads did before: the file could not be written at all
    ws = openpyxl.Workbook().active
    with pytest.raises(IllegalCharacterError):
        ws.cell(row=1, column=1, value=WORD_TEXT)


def test_xlsx_keeps_every_row_and_turns_word_breaks_into_line_breaks():
    df = pd.DataFrame({"诉求内容\x01": [WORD_TEXT, "正常"], "件数": [1, 2]})
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(df, "未办结", notes=[("筛选\x0b", "全区\x02")])))
    rows = list(wb["未办结"].iter_rows(values_only=True))
    assert rows[0] == ("诉求内容", "件数")
    assert rows[1] == ("张*反映:\n路灯不亮已三个月\n请尽快修复", 1)
    assert rows[2] == ("正常", 2)
    assert list(wb["说明"].iter_rows(values_only=True))[1] == ("筛选\n", "全区")


def test_csv_drops_the_same_control_characters():
    text = csv_bytes(pd.DataFrame({"诉求内容": [WORD_TEXT]})).decode("utf-8-sig")
    assert "\x01" not in text and "\x0b" not in text
    assert pd.read_csv(io.StringIO(text))["诉求内容"][0] == "张*反映:\n路灯不亮已三个月\n请尽快修复"


def test_csv_opens_codes_as_text_and_rates_and_dates_as_the_page_shows_them():
    df = pd.DataFrame({"区划代码": ["610902001001", "610902001002"], "村(社区)": ["甲村", "乙村"],
                       "受理诉求": [17, 0], "办结率": [0.12352941176470589, None], "连心户占比": [0.5, 0.0],
                       "受理日期": pd.to_datetime(["2025-11-03", "2025-12-01"])})
    text = csv_bytes(df).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[1] == '"=""610902001001""",甲村,17,12.4%,50.0%,2025-11-03'
    assert lines[2] == '"=""610902001002""",乙村,0,,0.0%,2025-12-01'
    assert "00:00:00" not in text and "0.1235" not in text and "E+" not in text
    back = pd.read_csv(io.StringIO(text), dtype=str)
    assert list(back["区划代码"].str.removeprefix('="').str.removesuffix('"')) == list(df["区划代码"])


def test_xlsx_keeps_codes_as_text_rates_in_percent_and_dates_without_time():
    df = pd.DataFrame({"区划代码": ["610902001001"], "满意率": [0.9619], "受理日期": pd.to_datetime(["2025-11-03"])})
    ws = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(df, "t"))).active
    code, rate, day = (ws.cell(row=2, column=i) for i in (1, 2, 3))
    assert code.value == "610902001001" and code.data_type == "s"
    assert rate.value == pytest.approx(0.9619) and rate.number_format == "0.0%"
    assert "h" not in day.number_format.lower() and day.value.date().isoformat() == "2025-11-03"
