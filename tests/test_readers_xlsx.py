"""Reading an office's XLSX ledger: every kind of cell an office file holds becomes the text a
person sees (phones typed as numbers stay whole, Excel dates stay dates, #N/A stays #N/A), blank
rows are skipped, `_line` is the row number Excel shows, and bad workbooks get a Chinese message.

The expected table is written out here by hand, as openpyxl (the reader before calamine) read the
workbook and the readers' cell rules turned it into text; it is not computed by the code under test."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import openpyxl
import pytest
from openpyxl.styles import Font

from etl import xlsx_stream
from etl.encodings import ReadError
from etl.readers import read_file


def _office_workbook(path):
    """A ledger as offices keep them: phones and ID numbers typed as numbers, Excel dates, times and
    durations, booleans, formulas with cached values (numbers, text, errors), typed error values,
    blank and whitespace-only rows, a merged cell, a styled empty column past the data, a second sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["受理编号", "联系电话", "身份证号", "受理时间", "办结日期", "接访时刻", "满意度分", "重大疑难", "反映人数",
               "合计", "备注", "备注", None, 2024, dt.datetime(2024, 1, 1)])
    ws.append(["A1", 13800138000, "110101199001011234", dt.datetime(2024, 3, 5, 8, 30), dt.date(2024, 3, 12),
               dt.time(9, 15), 4.5, True, 3, None, "  有空格  ", "x"])
    ws.append(["A2", 13912345678.0, "11010119900101123X", dt.datetime(2024, 3, 6), dt.datetime(2024, 3, 7, 0, 0, 1),
               dt.time(0, 0), 0.1, False, 0, None, None, None, "表头外"])
    ws.append([])  # a blank row
    ws.append(["A3", 1e20, 110101199001011234, dt.datetime(1999, 12, 31, 23, 59, 59), dt.date(1900, 3, 1),
               dt.time(23, 59, 59), -2.0, None, 1.0, None, "#N/A", "#DIV/0!"])
    ws.append([None] * 10 + ["   ", "\u3000"])  # only spaces: blank too
    ws.append(["A4", 0, 1.5e-7, dt.datetime(2024, 2, 29, 12, 0), dt.date(2024, 1, 1), dt.time(12, 0, 30),
               3.14159265358979, True, 1234567.0, None, "换行\n文本", ""])
    ws.append(["A5", -5, 12.25, "2024-03-05", "不详", "上午", "很满意", "是", "三", None, 0, None])
    ws.append(["A6", 15012345678, None, 45000.1234567, 45000, 0.99999999, dt.timedelta(hours=30), None, None, None,
               "合并的单元格", None])
    ws.append([])
    ws.append([])
    ws.append([None] * 15 + ["只有表头外的列"])
    ws.append(["A7", None, None, None, None, None, None, None, None, None, "末行"])
    for r in range(2, 14):
        ws[f"D{r}"].number_format = "yyyy-mm-dd hh:mm:ss"
        ws[f"E{r}"].number_format = "yyyy-mm-dd"
    ws["F9"].number_format = "hh:mm:ss"
    ws["J2"], ws["J3"], ws["J5"], ws["J7"] = "=I2*2", "=I3*2", '=K2&"x"', "=1/0"
    ws["J8"] = "=TODAY()"  # never calculated: no cached value
    ws.merge_cells("K9:L9")
    ws["Q5"].font = Font(bold=True)  # styled, holding nothing: the sheet's dimension reaches Q
    ws2 = wb.create_sheet("第二页")
    ws2.append(["编号", "内容"])
    ws2.append([1, "第二页的数据"])
    tmp = path.with_suffix(".tmp")
    wb.save(tmp)
    cached = {"J2": ("n", "6"), "J3": ("n", "0"), "J5": ("str", "  有空格  x"), "J7": ("e", "#DIV/0!")}
    with zipfile.ZipFile(tmp) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":  # openpyxl writes no cached values: add them
                text = data.decode()
                for ref, (t, v) in cached.items():
                    text, n = re.subn(rf'<c r="{ref}"([^>]*?)( t="\w+")?><f>(.*?)</f><v\s*/?>(</v>)?</c>',
                                      lambda m: f'<c r="{ref}"{m.group(1)} t="{t}"><f>{m.group(3)}</f><v>{v}</v></c>', text)
                    assert n == 1, ref
                data = text.encode()
            zout.writestr(item, data)
    tmp.unlink()
    return path


HEADERS = ["受理编号", "联系电话", "身份证号", "受理时间", "办结日期", "接访时刻", "满意度分", "重大疑难", "反映人数",
           "合计", "备注", "备注", "", "2024", "2024-01-01 00:00:00", "", ""]
COLUMNS = ["受理编号", "联系电话", "身份证号", "受理时间", "办结日期", "接访时刻", "满意度分", "重大疑难", "反映人数",
           "合计", "备注", "备注.2", "第13列", "2024", "2024-01-01 00:00:00", "第16列", "第17列"]
_ = ""
# (line, cells): one entry per data row, the cells in COLUMNS order
EXPECTED = [
    (2, ["A1", "13800138000", "110101199001011234", "2024-03-05 08:30:00", "2024-03-12", "09:15:00", "4.5", "True", "3",
         "6", "  有空格  ", "x", _, _, _, _, _]),
    (3, ["A2", "13912345678", "11010119900101123X", "2024-03-06", "2024-03-07 00:00:01", "00:00:00", "0.1", "False", "0",
         "0", _, _, "表头外", _, _, _, _]),
    (5, ["A3", "100000000000000000000", "110101199001011200", "1999-12-31 23:59:59", "1900-03-01", "23:59:59", "-2", _, "1",
         "  有空格  x", "#N/A", "#DIV/0!", _, _, _, _, _]),
    (7, ["A4", "0", "1.5e-07", "2024-02-29 12:00:00", "2024-01-01", "12:00:30", "3.14159265358979", "True", "1234567",
         "#DIV/0!", "换行\n文本", _, _, _, _, _, _]),
    (8, ["A5", "-5", "12.25", "2024-03-05", "不详", "上午", "很满意", "是", "三", _, "0", _, _, _, _, _, _]),
    (9, ["A6", "15012345678", _, "2023-03-15 02:57:46", "2023-03-15", "23:59:59.999000", "1 day, 6:00:00", _, _, _,
         "合并的单元格", _, _, _, _, _, _]),
    (12, [_] * 15 + ["只有表头外的列", _]),
    (13, ["A7", _, _, _, _, _, _, _, _, _, "末行", _, _, _, _, _, _]),
]


def _rows(raw) -> list[tuple[int, list[str]]]:
    t = raw.table
    return [(r["_line"], [r[c] for c in COLUMNS]) for r in t.to_pylist()]


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_every_kind_of_cell_reads_as_the_text_a_person_sees(tmp_path, suffix):
    raw = read_file(_office_workbook(tmp_path / f"台账{suffix}"))
    assert raw.headers == HEADERS
    assert raw.table.column_names == [*COLUMNS, "_line", "_error_reason", "_error"]
    assert _rows(raw) == EXPECTED
    assert raw.table.column("_error").null_count == len(EXPECTED)


def test_rows_split_into_chunks_read_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_stream, "CHUNK", 3)
    raw = read_file(_office_workbook(tmp_path / "台账.xlsx"))
    assert _rows(raw) == EXPECTED


def test_a_sheet_chosen_by_name(tmp_path):
    raw = read_file(_office_workbook(tmp_path / "台账.xlsx"), sheet="第二页")
    assert raw.headers == ["编号", "内容"]
    assert [(r["_line"], r["编号"], r["内容"]) for r in raw.table.to_pylist()] == [(2, "1", "第二页的数据")]


def test_an_unknown_sheet_lists_the_sheets_there_are(tmp_path):
    path = _office_workbook(tmp_path / "台账.xlsx")
    with pytest.raises(ReadError) as e:
        read_file(path, sheet="汇总")
    assert str(e.value) == f"{path}: 没有名为 '汇总' 的工作表; 现有工作表: 台账、第二页"


def _plain(path, rows, *, at="A1"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表1"
    r0, c0 = openpyxl.utils.cell.coordinate_to_tuple(at)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            ws.cell(r0 + i, c0 + j, v)
    wb.save(path)
    return path


@pytest.mark.parametrize("rows, at", [([], "A1"), ([["受理编号"], ["A1"]], "A3"), ([[None, None], ["A1", "x"]], "A1")])
def test_a_first_row_without_headers_is_refused(tmp_path, rows, at):
    path = _plain(tmp_path / "l.xlsx", rows, at=at)
    with pytest.raises(ReadError) as e:
        read_file(path)
    assert str(e.value) == f"{path}: 工作表 '表1' 第 1 行没有表头"


def test_a_ledger_starting_in_column_c_keeps_the_empty_columns_before_it(tmp_path):
    raw = read_file(_plain(tmp_path / "l.xlsx", [["受理编号", "联系电话"], [], ["A1", 13800138000]], at="C1"))
    assert raw.headers == ["", "", "受理编号", "联系电话"]
    assert raw.table.select(["第1列", "第2列", "受理编号", "联系电话", "_line"]).to_pylist() == [
        {"第1列": "", "第2列": "", "受理编号": "A1", "联系电话": "13800138000", "_line": 3}]


def test_a_header_only_sheet_has_no_rows(tmp_path):
    raw = read_file(_plain(tmp_path / "l.xlsx", [["受理编号", "联系电话"]]))
    assert raw.headers == ["受理编号", "联系电话"] and raw.table.num_rows == 0
    assert raw.table.column_names == ["受理编号", "联系电话", "_line", "_error_reason", "_error"]


def _truncated(path):
    data = _office_workbook(path.with_name("ok.xlsx")).read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("make", [
    lambda p: p.write_bytes(b"\x00\x01 not a workbook"),
    lambda p: p.write_text("受理编号,受理时间\nA1,2025-03-01\n", encoding="utf-8"),  # a CSV renamed .xlsx
    _truncated,
    lambda p: zipfile.ZipFile(p, "w").writestr("hello.txt", "a zip, but no workbook"),
])
def test_a_damaged_or_foreign_file_is_a_read_error_in_chinese(tmp_path, make):
    path = tmp_path / "坏的.xlsx"
    make(path)
    with pytest.raises(ReadError) as e:
        read_file(path)
    assert str(e.value).startswith(f"{path}: 不是可读取的 XLSX 工作簿 (")


def test_error_cells_on_a_later_sheet_keep_their_text(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["编号"])
    ws = wb.create_sheet("查找结果")
    ws.append(["编号", "所属乡镇"])
    ws.append(["A1", "#N/A"])  # openpyxl stores it as an error value, as a failed VLOOKUP leaves it
    ws.append(["A2", "#REF!"])
    wb.save(tmp_path / "l.xlsx")
    raw = read_file(tmp_path / "l.xlsx", sheet="查找结果")
    assert [(r["_line"], r["所属乡镇"]) for r in raw.table.to_pylist()] == [(2, "#N/A"), (3, "#REF!")]


def test_a_chart_sheet_is_passed_over_or_refused(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "数据"
    wb.active.append(["编号"])
    wb.active.append(["A1"])
    wb.create_chartsheet("图表", 0)
    path = tmp_path / "l.xlsx"
    wb.save(path)
    assert [r["编号"] for r in read_file(path).table.to_pylist()] == ["A1"]  # the first worksheet
    with pytest.raises(ReadError) as e:
        read_file(path, sheet="图表")
    assert str(e.value) == f"{path}: 工作表 '图表' 是图表或宏表, 没有可导入的数据"


def _sheet_xml_workbook(path, rows_xml: str):
    """A workbook whose first sheet's XML is `rows_xml` (inside <sheetData>), as writers other than
    Excel (excelize, EPPlus, scripts) write it: numbers with every digit, inline strings."""
    wb = openpyxl.Workbook()
    wb.active.append(["x"])
    tmp = path.with_suffix(".tmp")
    wb.save(tmp)
    with zipfile.ZipFile(tmp) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<sheetData>.*</sheetData>|<sheetData\s*/>", f"<sheetData>{rows_xml}</sheetData>".encode(),
                              re.sub(rb"<dimension[^>]*/>", b"", data), flags=re.S)
            zout.writestr(item, data)
    tmp.unlink()
    return path


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


LONG_ROWS = (
    f'<row r="1">{_inline("A1", "受理编号")}{_inline("B1", "身份证号")}{_inline("C1", "备注")}</row>'
    '<row r="2"><c r="A2"><v>202503010000000001</v></c><c r="B2" t="n"><v>110101199001011234</v></c>'
    '<c r="C2"><v>12345678901234</v></c></row>'
    '<row r="3"><c r="A3"><v>202503010000000002</v></c><c r="B3"><v>-1101011990010112345</v></c>'
    f'{_inline("C3", "9999999999999999999")}</row>'
)


def test_integers_with_more_digits_than_a_double_keeps_are_read_as_written(tmp_path):
    """Two 18-digit case numbers written as numbers by a script stay two case numbers, an ID keeps
    its last digits (its keyed hash links the petitioner's cases); shorter numbers and text as before."""
    raw = read_file(_sheet_xml_workbook(tmp_path / "l.xlsx", LONG_ROWS))
    assert [(r["_line"], r["受理编号"], r["身份证号"], r["备注"]) for r in raw.table.to_pylist()] == [
        (2, "202503010000000001", "110101199001011234", "12345678901234"),
        (3, "202503010000000002", "-1101011990010112345", "9999999999999999999"),
    ]


@pytest.mark.parametrize("block", [7, 64, 333])
def test_the_sheet_is_scanned_in_blocks_without_losing_a_cell(tmp_path, monkeypatch, block):
    """Error cells and long integers are found wherever the scan's blocks cut the sheet's XML."""
    monkeypatch.setattr(xlsx_stream, "_SCAN_BLOCK", block)
    rows = LONG_ROWS + "".join(
        f'<row r="{r}"><c r="A{r}"><v>2025030100000000{r:02d}</v></c><c r="B{r}" t="e"><v>#N/A</v></c></row>'
        for r in range(4, 30))
    raw = read_file(_sheet_xml_workbook(tmp_path / "l.xlsx", rows))
    got = [(r["受理编号"], r["身份证号"]) for r in raw.table.to_pylist()]
    assert got[:2] == [("202503010000000001", "110101199001011234"), ("202503010000000002", "-1101011990010112345")]
    assert got[2:] == [(f"2025030100000000{r:02d}", "#N/A") for r in range(4, 30)]


def test_a_chinese_date_format_reads_as_a_date_and_a_carriage_return_as_itself(tmp_path):
    """What changed from the reader before (openpyxl): a cell in a built-in Chinese date format
    (numFmtId 31, yyyy"年"m"月"d"日") reads as the date a person sees, not its serial number, and
    Excel's escaped carriage return (_x000D_) as the character it stands for."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["受理时间", "诉求内容"])
    ws.append([45000, "第一行_x000D_\n第二行"])
    wb.save(tmp_path / "l.xlsx")
    with zipfile.ZipFile(tmp_path / "l.xlsx") as z:
        styles = z.read("xl/styles.xml").decode()
    # point A2 at a cell format using built-in number format 31
    styles = re.sub(r'<cellXfs count="(\d+)">(.*?)</cellXfs>',
                    lambda m: f'<cellXfs count="{int(m.group(1)) + 1}">{m.group(2)}<xf numFmtId="31" fontId="0" fillId="0" '
                              f'borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>', styles, flags=re.S)
    xf = int(re.search(r'<cellXfs count="(\d+)"', styles).group(1)) - 1
    src, out = tmp_path / "l.xlsx", tmp_path / "m.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/styles.xml":
                data = styles.encode()
            elif item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<c r="A2"( s="\d+")?( t="n")?>', f'<c r="A2" s="{xf}">'.encode(), data)
            zout.writestr(item, data)
    row = read_file(out).table.to_pylist()[0]
    assert (row["受理时间"], row["诉求内容"]) == ("2023-03-15", "第一行\r\n第二行")
