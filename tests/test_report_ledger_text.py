"""Text from the ledgers reaches the Word documents as Word can hold it: a control character
typed into a spreadsheet cell (a vertical tab in a unit's name) does not break the document."""

from __future__ import annotations

import datetime as dt
import io

from docx import Document

from analysis.filters import CaseFilter
from etl.db import connect
from etl.load import load_file
from reports.documents import build as reports

HEADER = "受理编号,受理时间,诉求来源,问题类别,诉求内容,所属乡镇,所属村(社区),办理状态,办结时间,承办单位"
ROWS = [
    "H001,2025-03-02 09:00,12345,物业,反映物业乱收费,老城街道,西大街社区,办理中,,区住建\x0b局",
    "H002,2025-03-03 10:00,来信,低保,申请低保,老城街道,西大街社区,已办结,2025-03-04 10:00,区民政\x0c局",
    "H003,2025-03-04 11:00,12345,物业,反映停水,老城街道,西大街社区,办理中,,区住建\x0b局",
]


def test_a_control_character_in_a_unit_name_from_the_ledger_does_not_break_the_document(wh, tmp_path):
    ledger = tmp_path / "台账.csv"
    ledger.write_bytes(("\n".join([HEADER, *ROWS]) + "\n").encode("gb18030"))
    load_file(wh, "cases", ledger)
    with connect(wh, read_only=True) as con:
        units = {u for (u,) in con.execute("SELECT DISTINCT handling_unit FROM cases").fetchall()}
        assert "区住建\x0b局" in units  # the ledger's text is kept as it was typed
        for kind, flt in (("digest", CaseFilter(dt.date(2025, 3, 1), dt.date(2025, 3, 10))),
                          ("monthly", CaseFilter(dt.date(2025, 3, 1), dt.date(2025, 3, 31)))):
            data, _ = reports.build(con, kind, flt)
            doc = Document(io.BytesIO(data))
            cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
            assert not any(ch in c for c in cells for ch in "\x0b\x0c")
        assert "区住建 局" in cells  # the monthly analysis ranks every handling unit
