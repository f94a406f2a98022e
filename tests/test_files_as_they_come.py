"""Files as offices really send them: a quote left open, a huge cell, two encodings in one file.
Every physical record is accounted for, and the reason names the real problem."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import main
from etl.db import connect

HEADER = "受理编号,受理时间,诉求来源,问题类别,诉求内容,所属乡镇,所属村(社区),办理状态"


def _load(db, path):
    r = CliRunner().invoke(main, ["--db", str(db), "load", "cases", str(path), "--json"])
    return r


def _rows(i: int) -> str:
    return f"K{i:03d},2025-03-{i % 28 + 1:02d},12345,道路,路灯不亮,老城街道,西大街社区,受理"


def test_an_unclosed_quote_rejects_its_own_line_only(wh, tmp_path):
    lines = [HEADER, _rows(1), 'K002,2025-03-02,12345,道路,"路灯不亮,已反映三次,老城街道,西大街社区,受理',
             *[_rows(i) for i in range(3, 9)]]
    path = tmp_path / "热线导出.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    r = _load(wh, path)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["rows_read"], out["loaded"], out["rejected"]) == (8, 7, 1)
    con = connect(wh, read_only=True)
    line, reason, message = con.execute("SELECT line_no, reason, message FROM rejected_rows").fetchone()
    assert (line, reason) == (3, "unclosed_quote") and "引号" in message
    assert sorted(i for (i,) in con.execute("SELECT case_id FROM cases").fetchall()) == \
        ["K001", *[f"K{i:03d}" for i in range(3, 9)]]


def test_a_quoted_cell_on_several_lines_is_still_one_cell(wh, tmp_path):
    lines = [HEADER, 'K001,2025-03-01,12345,道路,"第一行', '第二行, 还有逗号', '第三行",老城街道,西大街社区,受理', _rows(2)]
    path = tmp_path / "多行.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = json.loads(_load(wh, path).stdout)
    assert (out["rows_read"], out["loaded"], out["rejected"]) == (2, 2, 0)
    con = connect(wh, read_only=True)
    assert con.execute("SELECT content FROM cases WHERE case_id = 'K001'").fetchone()[0] == "第一行\n第二行, 还有逗号\n第三行"


def test_a_cell_over_the_csv_modules_128_kib_limit_is_read(wh, tmp_path):
    long_text = "长" * 150_000  # 450 KB in UTF-8
    lines = [HEADER, f'K001,2025-03-01,12345,道路,"{long_text}\n续",老城街道,西大街社区,受理', _rows(2)]
    path = tmp_path / "长文本.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = _load(wh, path)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["rows_read"], out["loaded"]) == (2, 2)
    con = connect(wh, read_only=True)
    assert len(con.execute("SELECT content FROM cases WHERE case_id = 'K001'").fetchone()[0]) == 150_002


@pytest.mark.parametrize("first, second", [("utf-8", "gb18030"), ("gb18030", "utf-8")])
def test_a_file_mixing_encodings_names_the_line_where_they_change(wh, tmp_path, first, second):
    head = "\n".join([HEADER, _rows(1), _rows(2)]) + "\n"
    tail = "\n".join([_rows(3), _rows(4)]) + "\n"
    path = tmp_path / "拼接.csv"
    path.write_bytes(head.encode(first) + tail.encode(second))
    r = _load(wh, path)
    assert r.exit_code != 0
    assert "第 4 行" in r.output and "编码" in r.output and "Traceback" not in r.output
    con = connect(wh, read_only=True)
    assert con.execute("SELECT count(*) FROM cases").fetchone()[0] == 0
