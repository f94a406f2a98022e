"""An XLSX worksheet as Arrow string columns, read by calamine (Rust) instead of openpyxl.

python-calamine parses the whole sheet into a Rust range first (it has no row-by-row reader:
python-calamine#42, calamine#27), so memory still grows with the sheet, but far less CPU is spent
than by openpyxl. Rows are taken from that range and turned into Arrow in chunks of `CHUNK` rows,
so Python objects never hold more than one chunk. Cells
are turned into text by the readers' one rule (`readers._cell_text`), with what openpyxl
(the reader this replaced) gave kept where calamine differs:
- error cells (#N/A, #DIV/0! ...) come back from python-calamine as empty strings, and
  integers of 16 digits or more (a case number or ID a script wrote as a number) as floats
  without their last digits, so the sheet's XML is scanned (streamed, only decompressed) for
  such cells and their text is put back as written;
- openpyxl read every row as wide as the sheet's <dimension> and from column A, so columns
  left of the data and styled but empty columns right of it are empty columns here too;
- a header cell holding a date reads as openpyxl's datetime ("2024-01-01 00:00:00") and an
  integral number as an integer ("2024").
`_line` is the row's number as Excel shows it (header = row 1).
Not put back: an error cell or long integer in XML that gives its cells no position (`r=`
omitted, which some streaming writers do) reads as calamine gives it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import posixpath
import re
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree

import pyarrow as pa

from .encodings import ReadError

CHUNK = 10_000  # rows per Arrow batch: Python holds at most this many rows of cells
_SCAN_BLOCK = 1 << 22

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref=["\'][A-Z]*\d*:?([A-Z]*)\d*["\']')
_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\b([^>]*?)\st=["\']e["\']([^>]*?)(/?)>')
_CELL_END = re.compile(rb"</(?:\w+:)?c>")
_REF = re.compile(rb'\br=["\']([A-Z]+)(\d+)["\']')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</")
# a number written with more digits than a double keeps (an 18-digit case number or ID written
# by a script): calamine gives it as a float, its last digits lost
_LONG_NUMBER = re.compile(rb"<(?:\w+:)?v>(-?\d{16,})</")
_TYPE = re.compile(rb'\st=["\']([A-Za-z]+)["\']')
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def read_sheet(path: Path, sheet: str | None, cell_text, unique) -> tuple[list[str], pa.Table]:
    """(the header row as text, the data rows as string columns named by `unique(headers)`
    plus `_line`). Fully blank rows are skipped. ReadError for a damaged file, an unknown
    sheet or a first row without headers."""
    with _workbook(path) as wb:
        names, data = wb.sheet_names, _data_sheets(wb)
        if sheet is not None and sheet not in names:
            raise ReadError(f"{path}: 没有名为 {sheet!r} 的工作表; 现有工作表: {'、'.join(names)}")
        if sheet is None:
            if not data:
                raise ReadError(f"{path}: 工作簿中没有数据工作表")
            sheet = data[0]
        elif sheet not in data:
            raise ReadError(f"{path}: 工作表 {sheet!r} 是图表或宏表, 没有可导入的数据")
        index = names.index(sheet)
        try:
            ws = wb.get_sheet_by_index(index)
        except Exception as e:
            raise ReadError(f"{path}: 不是可读取的 XLSX 工作簿 ({e})") from None
        dim_cols, errors = _scan_sheet(path, sheet)
        return _rows_to_arrow(path, sheet, ws, dim_cols, errors, cell_text, unique)


def worksheet_names(path: Path) -> list[str]:
    """The names of the workbook's data sheets, in order (chart and macro sheets left out), as
    read_sheet can read them. ReadError for a damaged file or one without a data sheet."""
    with _workbook(path) as wb:
        names = _data_sheets(wb)
    if not names:
        raise ReadError(f"{path}: 工作簿中没有数据工作表")
    return names


@contextlib.contextmanager
def _workbook(path: Path):
    """The workbook open in calamine (closed after); ReadError for a damaged or foreign file."""
    import python_calamine

    try:
        wb = python_calamine.CalamineWorkbook.from_path(path)
    except Exception as e:  # calamine raises its own error types for a damaged or foreign file
        raise ReadError(f"{path}: 不是可读取的 XLSX 工作簿 ({e})") from None
    try:
        yield wb
    finally:
        wb.close()


def _data_sheets(wb) -> list[str]:
    """The names of the worksheets, in order: not chart or macro sheets."""
    import python_calamine

    work = python_calamine.SheetTypeEnum.WorkSheet
    return [m.name for m in wb.sheets_metadata if m.typ == work]


def _rows_to_arrow(path, title, ws, dim_cols, errors, cell_text, unique) -> tuple[list[str], pa.Table]:
    start = ws.start
    if start is None or start[0] != 0:  # nothing in the sheet, or row 1 is empty
        raise ReadError(f"{path}: 工作表 {title!r} 第 1 行没有表头")
    top, lead = start
    width = max(lead + ws.width, dim_cols or 0)
    trail = width - lead - ws.width
    rows = ws.iter_rows()
    first = _patched(next(rows), top, lead, errors)
    headers = [""] * lead + [_header_text(v) for v in first] + [""] * trail
    if not any(headers):
        raise ReadError(f"{path}: 工作表 {title!r} 第 1 行没有表头")
    names = unique(headers)
    schema = pa.schema([(n, pa.string()) for n in names] + [("_line", pa.int32())])
    batches = []
    kept: list[list] = []
    lines: list[int] = []
    for i, row in enumerate(rows, start=top + 1):
        if i in errors:
            row = _patched(row, i, lead, errors)
        if _blank(row):
            continue  # fully blank rows are not data
        kept.append(row)
        lines.append(i + 1)
        if len(kept) == CHUNK:
            batches.append(_batch(kept, lines, lead, trail, cell_text, schema))
            kept, lines = [], []
    if kept:
        batches.append(_batch(kept, lines, lead, trail, cell_text, schema))
    return headers, pa.Table.from_batches(batches, schema=schema)


def _batch(rows: list[list], lines: list[int], lead: int, trail: int, cell_text, schema) -> pa.RecordBatch:
    n = len(rows)
    cols: list[pa.Array] = [pa.repeat("", n)] * lead
    for col in zip(*rows):
        if set(map(type, col)) == {str}:
            cols.append(pa.array(col, pa.string()))
        else:
            cols.append(pa.array([cell_text(v) for v in col], pa.string()))
    cols += [pa.repeat("", n)] * trail
    cols.append(pa.array(lines, pa.int32()))
    return pa.RecordBatch.from_arrays(cols, schema=schema)


def _blank(row: list) -> bool:
    """Whether every cell is empty or only whitespace (calamine gives "" for an empty cell;
    a number, date or boolean is never blank)."""
    for v in row:
        if type(v) is not str or v.strip():
            return False
    return True


def _patched(row: list, r: int, lead: int, errors: dict[int, dict[int, str]]) -> list:
    """The row with the text calamine lost put back (#N/A ..., long integers); `r` is the 0-based sheet row."""
    for c, text in errors.get(r, {}).items():
        if 0 <= c - lead < len(row):
            row[c - lead] = text
    return row


def _header_text(v: object) -> str:
    """A header cell as openpyxl's `str(value)` gave it (integers as integers, dates as datetimes)."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return str(dt.datetime.combine(v, dt.time()))
    return str(v)


def _scan_sheet(path: Path, title: str) -> tuple[int | None, dict[int, dict[int, str]]]:
    """(the number of columns the sheet's <dimension> spans, {row: {column: text calamine loses}},
    0-based), from the sheet's XML streamed out of the archive. (None, {}) when the part
    cannot be found; calamine has read the file by then, so it is not damaged."""
    try:
        with zipfile.ZipFile(path) as zf:
            part = _sheet_part(zf, title)
            if part is None:
                return None, {}
            with zf.open(part) as f:
                return _scan_xml(f)
    except (OSError, KeyError, ValueError, RuntimeError, NotImplementedError, zipfile.BadZipFile, zlib.error,
            ElementTree.ParseError):  # an odd archive: its error cells read as calamine gives them (empty)
        return None, {}


def _scan_xml(f) -> tuple[int | None, dict[int, dict[int, str]]]:
    dim_cols = None
    errors: dict[int, dict[int, str]] = {}
    tail = b""
    first = True
    while True:
        block = f.read(_SCAN_BLOCK)
        if not block:
            break
        buf = tail + block
        if first:
            m = _DIMENSION.search(buf, 0, buf.find(b"sheetData") if b"sheetData" in buf else len(buf))
            if m and m.group(1):
                dim_cols = _column_number(m.group(1))
            first = False
        cut = buf.rfind(b"row>") + 4  # after a row's tag: no cell straddles the cut
        if cut < 4:
            tail = buf
            continue
        _lost_in(buf[:cut], errors)
        tail = buf[cut:]
    _lost_in(tail, errors)
    return dim_cols, errors


def _lost_in(xml: bytes, cells: dict[int, dict[int, str]]) -> None:
    """The cells of `xml` whose text calamine loses, as written: error cells and long integers."""
    if b'"e"' in xml or b"'e'" in xml:
        _errors_in(xml, cells)
    if _LONG_NUMBER.search(xml):
        _long_numbers_in(xml, cells)


def _long_numbers_in(xml: bytes, cells: dict[int, dict[int, str]]) -> None:
    """Numeric cells holding an integer of 16 digits or more keep their digits (openpyxl read them
    as exact integers): two 18-digit case numbers must not become one."""
    for m in _LONG_NUMBER.finditer(xml):
        at = max(xml.rfind(b"<c ", 0, m.start()), xml.rfind(b":c ", 0, m.start()))
        if at < 0:
            continue
        tag = xml[at:xml.find(b">", at)]
        kind = _TYPE.search(tag)
        ref = _REF.search(tag)
        if ref is None or (kind is not None and kind.group(1) != b"n"):  # text, shared string, error, boolean
            continue
        row, col = int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1
        cells.setdefault(row, {})[col] = m.group(1).decode("ascii")


def _errors_in(xml: bytes, errors: dict[int, dict[int, str]]) -> None:
    for m in _ERROR_CELL.finditer(xml):
        ref = _REF.search(m.group(1) + b" " + m.group(2))
        if ref is None or m.group(3):  # no position (cannot be placed) or no value
            continue
        end = _CELL_END.search(xml, m.end())
        value = _VALUE.search(xml, m.end(), end.start() if end else len(xml))
        if value is None:
            continue
        row, col = int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1
        errors.setdefault(row, {})[col] = html.unescape(value.group(1).decode("utf-8", "replace"))


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _sheet_part(zf: zipfile.ZipFile, title: str) -> str | None:
    """The archive path of the worksheet named `title` (workbook.xml -> its relationships)."""
    book = "xl/workbook.xml"
    try:
        for rel in ElementTree.fromstring(zf.read("_rels/.rels")):
            if rel.get("Type", "").endswith("/officeDocument"):
                book = rel.get("Target", book).lstrip("/")
    except KeyError:
        pass
    rid = None
    for el in ElementTree.fromstring(zf.read(book)).iter():
        if el.tag.endswith("}sheet") and el.get("name") == title:
            rid = el.get(_REL)
            break
    if rid is None:
        return None
    folder, name = posixpath.split(book)
    for rel in ElementTree.fromstring(zf.read(posixpath.join(folder, "_rels", name + ".rels"))):
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
    return None
