"""The streaming CSV reader (etl/csv_stream.py) reads every file exactly as the whole-file
reader does: same headers, cells and line numbers, with files cut into many small blocks so
that blank lines, CRLF, quotes and bad bytes fall on block boundaries."""

from __future__ import annotations

import pytest

from etl import csv_stream, readers
from etl.readers import ReadError, read_csv

HEADER = "工单编号,受理时间,问题类别,诉求内容,区划代码\n"


def _rows(n: int) -> list[str]:
    rows = []
    for i in range(n):
        text = f'"含逗号,的诉求 {i}"' if i % 7 == 0 else f"道路积水第{i}号"
        rows.append(f"GD{i:05d},2026-0{1 + i % 9}-1{i % 10},交通出行,{text},6109021010{i % 10:02d}")
    return rows


def _whole_file(path, enc):
    """The reference: the whole file decoded as one string and read by the old fast/exact path."""
    return readers._read_csv_text(path, path.read_bytes(), enc)


def _same(a, b):
    assert a.headers == b.headers
    assert a.encoding == b.encoding
    assert a.table.column_names == b.table.column_names
    assert a.table.to_pydict() == b.table.to_pydict()


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(csv_stream, "BLOCK", 512)


@pytest.mark.parametrize("enc", ["gb18030", "utf-8", "utf-8-sig"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_streamed_equals_whole_file(tmp_path, monkeypatch, enc, newline):
    lines = _rows(300)
    for k in (5, 6, 90, 250):  # blank lines between records
        lines.insert(k, "")
    text = HEADER + "\n".join(lines) + "\n\n"
    path = tmp_path / "工单.csv"
    path.write_bytes(text.replace("\n", newline).encode(enc))
    whole = readers._read_csv_text
    monkeypatch.setattr(readers, "_read_csv_text", lambda *a: pytest.fail("fell back to the whole-file reader"))
    got = read_csv(path)
    monkeypatch.setattr(readers, "_read_csv_text", whole)
    assert got.table.num_rows == 300
    _same(got, _whole_file(path, got.encoding))
    first = got.table.slice(0, 1).to_pylist()[0]
    assert first["工单编号"] == "GD00000" and first["诉求内容"] == "含逗号,的诉求 0" and first["_line"] == 2
    last = got.table.slice(299, 1).to_pylist()[0]
    assert last["工单编号"] == "GD00299" and last["_line"] == 305  # 300 records + 4 blank lines + header


def test_whitespace_only_line_falls_back_with_the_same_rows(tmp_path):
    lines = _rows(100)
    lines.insert(40, "   ")
    path = tmp_path / "w.csv"
    path.write_bytes((HEADER + "\n".join(lines) + "\n").encode("gb18030"))
    got = read_csv(path)
    _same(got, _whole_file(path, "gb18030"))
    assert got.table.slice(40, 1).to_pylist()[0]["_line"] == 43


def test_cells_stay_text(tmp_path):
    """Codes with leading zeros and numbers stay as written (no type inference on the first block)."""
    path = tmp_path / "a.csv"
    path.write_bytes(("编号,数量\n" + "\n".join(f"00{i},{i}.50" for i in range(200)) + "\n").encode("gb18030"))
    t = read_csv(path).table
    assert t.column("编号").to_pylist()[:2] == ["000", "001"]
    assert t.column("数量").to_pylist()[1] == "1.50"


def test_quoted_line_break_late_in_file_falls_back(tmp_path):
    lines = _rows(200)
    lines[150] = 'GD00150,2026-01-10,交通出行,"第一行\n第二行",610902101000'
    path = tmp_path / "b.csv"
    path.write_bytes((HEADER + "\n".join(lines) + "\n").encode("gb18030"))
    got = read_csv(path)
    _same(got, _whole_file(path, "gb18030"))
    row = got.table.slice(150, 1).to_pylist()[0]
    assert row["诉求内容"] == "第一行\n第二行" and row["_line"] == 152
    assert got.table.slice(151, 1).to_pylist()[0]["_line"] == 154


def test_ragged_row_late_in_file_is_kept_and_marked(tmp_path):
    lines = _rows(200)
    lines[170] += ",多出来的,两格"
    path = tmp_path / "c.csv"
    path.write_bytes((HEADER + "\n".join(lines) + "\n").encode("gb18030"))
    got = read_csv(path)
    _same(got, _whole_file(path, "gb18030"))
    row = got.table.slice(170, 1).to_pylist()[0]
    assert row["_line"] == 172 and row["_error_reason"] == "bad_column_count"


def test_bad_byte_late_in_gb18030_file_names_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_stream, "BLOCK", 4096)
    lines = _rows(400)
    data = (HEADER + "\n".join(lines) + "\n").encode("gb18030")
    at = data.index("GD00350".encode())
    data = data[:at] + b"\x81\x20" + data[at:]  # a lead byte followed by a space: not GB18030
    path = tmp_path / "d.csv"
    path.write_bytes(data)
    with pytest.raises(ReadError, match=r"第 352 行: 既不是 UTF-8"):
        read_csv(path)
    with pytest.raises(ReadError, match=r"第 352 行: 无法按 gb18030 编码读取"):
        read_csv(path, encoding="gb18030")


def test_utf8_line_late_in_utf8_file(tmp_path):
    lines = _rows(300)
    lines[280] = lines[280].replace("交通出行", "交通出行").encode("utf-8").decode("utf-8")
    data = (HEADER + "\n".join(lines) + "\n").encode("utf-8")
    at = data.index("GD00280".encode())
    data = data[:at] + "道路".encode("gb18030") + data[at:]
    path = tmp_path / "e.csv"
    path.write_bytes(data)
    with pytest.raises(ReadError, match=r"第 282 行: 编码与前面的行不同 \(前面是 UTF-8"):
        read_csv(path)


def test_blank_file(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"\r\n  \n\n")
    with pytest.raises(ReadError, match="文件是空的"):
        read_csv(path)


def test_utf8_line_late_in_gb18030_file(tmp_path):
    lines = _rows(300)
    data = (HEADER + "\n".join(lines[:280])).encode("gb18030") + ("\n" + "\n".join(lines[280:]) + "\n").encode("utf-8")
    path = tmp_path / "g.csv"
    path.write_bytes(data)
    with pytest.raises(ReadError, match=r"第 282 行: 编码与前面的行不同 \(前面是 GBK/GB18030, 这一行是 UTF-8\)"):
        read_csv(path)


def test_bad_byte_in_a_file_with_a_bom_or_a_given_encoding_names_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_stream, "BLOCK", 4096)
    data = (HEADER + "\n".join(_rows(400)) + "\n").encode("utf-8")
    at = data.index("GD00350".encode())
    data = data[:at] + b"\xff" + data[at:]
    plain, bom = tmp_path / "h.csv", tmp_path / "i.csv"
    plain.write_bytes(data)
    bom.write_bytes(b"\xef\xbb\xbf" + data)
    with pytest.raises(ReadError, match=r"第 352 行: 无法按 utf-8 编码读取"):
        read_csv(plain, encoding="utf-8")
    with pytest.raises(ReadError, match=r"第 352 行: 无法按 utf-8-sig 编码读取"):
        read_csv(bom)


def test_no_row_is_lost_at_any_block_size_with_crlf_gb18030(tmp_path, monkeypatch):
    """Re-encoded GB18030 pieces are longer than a block: pyarrow must never see a short read
    (in pyarrow 26 one ending in CR before one of LF ended the file early, silently)."""
    text = HEADER + "\n".join(_rows(12)) + "\n"
    path = tmp_path / "工单.csv"
    path.write_bytes(text.replace("\n", "\r\n").encode("gb18030"))
    reference = _whole_file(path, "gb18030")
    monkeypatch.setattr(readers, "_read_csv_text", lambda *a: pytest.fail("fell back to the whole-file reader"))
    for block in range(150, 330):  # from twice the longest line (a smaller block is read whole)
        monkeypatch.setattr(csv_stream, "BLOCK", block)
        for _ in range(3):
            got = read_csv(path)
            assert got.table.num_rows == 12, block
            assert got.table.to_pydict() == reference.table.to_pydict(), block
