"""Read a user's file into an Arrow table of strings, one row per data line.

Every reader returns all cells as text (nothing is cast here: staging does that)
plus `_line`, the row's line number in the file as a person would count it
(header = line 1), and for geometry formats `_wkb`. CSV encodings are detected:
BOM (UTF-8, UTF-16), then strict UTF-8, then GB18030 (a superset of GBK and
GB2312, so a GBK export never garbles silently).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import mmap
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from . import csv_stream
from .encodings import ReadError, line_at, detect_encoding
from .geometry import check_geometries


@dataclass
class RawTable:
    table: pa.Table  # all string columns named by the file's headers, plus _line (and _wkb)
    headers: list[str]
    encoding: str | None
    crs: str | None = None
    repaired: list[int] = field(default_factory=list)  # features whose invalid geometry was made valid


# Columns a reader adds to the file's own: line number, the reader's verdict, geometry.
READER_COLUMNS = ("_line", "_error_reason", "_error", "_wkb")

GEO_SUFFIXES = {".geojson", ".json", ".shp", ".gpkg", ".zip"}
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")


def read_file(path: str | Path, *, sheet: str | None = None, encoding: str | None = None) -> RawTable:
    """Dispatch on the file's suffix."""
    path = Path(path)
    if not path.exists():
        raise ReadError(f"{path}: 文件不存在")
    check_type(path)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv(path, encoding=encoding)
    if suffix in XLSX_SUFFIXES:
        return read_xlsx(path, sheet=sheet)
    return read_geo(path, encoding=encoding)


def check_type(path: Path) -> None:
    """ReadError unless the file's suffix is one the readers know."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ReadError(f"{path}: 不支持旧版 Excel (.xls); 请在 Excel 中另存为 .xlsx 后再导入")
    if suffix not in (*CSV_SUFFIXES, *XLSX_SUFFIXES, *GEO_SUFFIXES):
        raise ReadError(f"{path}: 不支持的文件类型 {suffix!r}; 可导入 .csv、.xlsx、.geojson、.shp (或打包的 .zip) 和 .gpkg")


def read_csv(path: Path, encoding: str | None = None) -> RawTable:
    """A CSV as text cells. Fast path: pyarrow's streaming reader over the memory-mapped file
    (etl/csv_stream.py), when every line is one well-formed row. Otherwise Python's csv module,
    which knows each row's physical line and keeps rows with too many cells or an unclosed quote
    (marked in `_error_reason`/`_error`, to be rejected) instead of failing the file."""
    f, data = csv_stream.open_mapped(path)
    try:
        enc = encoding or detect_encoding(data, path)
        if enc.startswith("utf-16"):
            return _read_csv_text(path, bytes(data), enc)
        start = len(codecs.BOM_UTF8) if data[:3] == codecs.BOM_UTF8 else 0
        first = _first_line(data, start, enc, path)
        if first is None:
            raise ReadError(f"{path}: 文件是空的")
        delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(first)
        # detect_encoding checked every byte of a file it calls UTF-8; any other is decoded as it streams
        checked = encoding is None and enc == "utf-8"
        try:
            fast = csv_stream.read_stream(data, start, enc, delimiter, first, decode=not checked)
        except csv_stream.DecodeFailure as e:
            raise _undecodable(path, e.line, enc, detected=encoding is None) from None
        if fast is None:
            return _read_csv_text(path, bytes(data), enc, detected=encoding is None)
        headers, body, lines = fast
        body = body.rename_columns(_unique(headers)).append_column("_line", pa.array(lines, pa.int32()))
        return RawTable(_with_errors(body, pa.nulls(body.num_rows, pa.string()),
                                     pa.nulls(body.num_rows, pa.string())), headers, enc)
    finally:
        if isinstance(data, mmap.mmap):
            data.close()
        f.close()


def _first_line(data, start: int, enc: str, path: Path) -> str | None:
    """The first line holding something, decoded (None: the file holds only blanks)."""
    m = re.compile(rb"[^\s]").search(data, start)
    if m is None:
        return None
    lo = data.rfind(b"\n", 0, m.start()) + 1
    hi = data.find(b"\n", m.start())
    raw = data[lo: hi if hi >= 0 else len(data)]
    try:
        return raw.decode(enc).lstrip("\ufeff").rstrip("\r")
    except UnicodeDecodeError:
        raise _undecodable(path, line_at(data, lo), enc, detected=False) from None


def _undecodable(path: Path, line: int, enc: str, *, detected: bool) -> ReadError:
    """A byte at `line` that `enc` cannot decode: the one message, whichever reader found it."""
    if detected and enc == "gb18030":  # detected as GB18030 from the first bytes
        return ReadError(f"{path}: 第 {line} 行: 既不是 UTF-8、UTF-16, 也不是 GBK/GB18030 "
                         f"编码; 请另存为 UTF-8 CSV 后重新导入")
    return ReadError(f"{path}: 第 {line} 行: 无法按 {enc} 编码读取 (有无法解码的字节)")


def _read_csv_text(path: Path, data: bytes, enc: str, *, detected: bool = False) -> RawTable:
    """The whole file as one string, read by Python's csv module (UTF-16, lone CR line breaks,
    ragged rows, cells spanning lines)."""
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as e:
        raise _undecodable(path, data[: e.start].count(b"\n") + 1, enc, detected=detected) from None
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ReadError(f"{path}: 文件是空的")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(text)
    fast = _read_csv_fast(text, delimiter)
    if fast is None:
        fast = _read_csv_exact(text, delimiter)
    headers, body = fast
    return RawTable(body, headers, enc)


def _read_csv_fast(text: str, delimiter: str) -> tuple[list[str], pa.Table] | None:
    """pyarrow; None when a row is ragged or a cell spans lines (line numbers would be off)."""
    if '"' in text and _quoted_newline(text):
        return None
    bad: list[object] = []

    def on_invalid(row) -> str:
        bad.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False,
                                              invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=False, check_utf8=False,
                                                 auto_dict_encode=False),
        )
    except pa.ArrowInvalid:
        return None
    if bad or table.num_rows == 0:
        return None
    table = table.cast(pa.schema([(n, pa.string()) for n in table.column_names]))
    headers = [str(v) for v in table.slice(0, 1).to_pylist()[0].values()]
    body = table.slice(1).rename_columns(_unique(headers))
    lines = [i + 1 for i, ln in enumerate(text.split("\n")) if ln.strip()]
    if len(lines) != body.num_rows + 1:
        return None
    body = body.append_column("_line", pa.array(lines[1:], pa.int32()))
    return headers, _with_errors(body, [None] * body.num_rows, [None] * body.num_rows)


def _read_csv_exact(text: str, delimiter: str) -> tuple[list[str], pa.Table]:
    """Python's csv module over the physical lines, so every row keeps the line it starts on.

    A quote left open swallows the lines after it into one cell. A quoted cell that spans lines
    is kept only if none of the lines it swallowed is itself a whole record (as many cells as
    the header); otherwise its first line is rejected as `unclosed_quote` and reading resumes on
    the next line, so every later record is still read."""
    lines = text.split("\n")
    headers: list[str] | None = None
    rows: list[list[str]] = []
    at: list[int] = []
    reasons: list[str | None] = []
    messages: list[str | None] = []
    for start, row, reason in _records(lines, delimiter, lambda: len(headers or [])):
        if not any(c.strip() for c in row):
            continue  # blank line
        if headers is None:
            headers = row
            continue
        n = len(headers)
        message = None
        if reason == "unclosed_quote":
            message = f"第 {start} 行有未闭合的引号 (某个单元格以 \" 开始却没有结束的 \"), 本行未导入; 请补上引号后重新导入"
        elif len(row) > n and any(c.strip() for c in row[n:]):
            reason, message = "bad_column_count", f"本行有 {len(row)} 个单元格, 表头只有 {n} 列"
        rows.append((row + [""] * n)[:n])  # short rows: trailing empty cells were left out
        at.append(start)
        reasons.append(reason)
        messages.append(message)
    headers = headers or []
    names = _unique(headers)
    cols = {name: pa.array([r[j] for r in rows], pa.string()) for j, name in enumerate(names)}
    table = pa.table(cols) if cols else pa.table({})
    table = table.append_column("_line", pa.array(at, pa.int32()))
    return headers, _with_errors(table, reasons, messages)


def _records(lines: list[str], delimiter: str, width):
    """(first line number, cells, reason) per record; reason is None or 'unclosed_quote'.
    `width()` is the header's cell count once the header has been read (0 before)."""
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # a 128 KiB+ cell is a cell, not an error
    i = 0  # index in `lines` where the current reader began
    while i < len(lines):
        reader = csv.reader((lines[k] + "\n" for k in range(i, len(lines))), delimiter=delimiter)
        done = 0  # lines that reader has consumed
        for row in reader:
            start, end = i + done + 1, i + reader.line_num  # the record's physical lines, 1-based
            if end > start and _swallowed_a_record(lines[start:end], delimiter, width()):
                alone = next(csv.reader([lines[start - 1]], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])
                yield start, alone, "unclosed_quote"
                i = start  # read again from the line after the one that opened the quote
                break
            yield start, row, None
            done = reader.line_num
        else:
            return


def _swallowed_a_record(continuation: list[str], delimiter: str, width: int) -> bool:
    """Whether a line taken into a quoted cell is itself a whole record of the file."""
    if width < 3:
        return False
    return any(len(next(csv.reader([ln], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])) >= width
               for ln in continuation)


def _with_errors(table: pa.Table, reasons: list, messages: list) -> pa.Table:
    """The reader's verdict per row: `_error_reason` (a reason code) and `_error` (its message)."""
    def column(values):
        return values if isinstance(values, pa.Array) else pa.array(values, pa.string())

    table = table.append_column("_error_reason", column(reasons))
    return table.append_column("_error", column(messages))


def _quoted_newline(text: str) -> bool:
    """Whether a quoted cell contains a line break (cheap scan: quotes balance per line otherwise)."""
    return any(line.count('"') % 2 for line in text.split("\n"))


def read_xlsx(path: Path, sheet: str | None = None) -> RawTable:
    """The first worksheet (or the one named `sheet`), streamed by calamine (etl/xlsx_stream.py)."""
    from .xlsx_stream import read_sheet

    headers, table = read_sheet(path, sheet, _cell_text, _unique)
    nulls = pa.nulls(table.num_rows, pa.string())
    return RawTable(_with_errors(table, nulls, nulls), headers, None)


def read_geo(path: Path, encoding: str | None = None) -> RawTable:
    import pyogrio

    encoding = encoding or _shapefile_encoding(path)
    kwargs = {"encoding": encoding} if encoding else {}
    try:
        with warnings.catch_warnings():  # an unclosed ring is reported per feature below, not as a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            info = pyogrio.read_info(path, **kwargs)
            meta, geometry, _fields, values = _read_arrays(path, kwargs)
    except Exception as e:  # GDAL errors come in many types
        raise ReadError(f"{path}: 不是可读取的边界/几何文件 ({e})") from None
    headers = [str(n) for n in info["fields"]]
    names = _unique(headers)
    cols = {n: pa.array([_cell_text(v) for v in arr], pa.string()) for n, arr in zip(names, values)}
    n = len(geometry)
    table = pa.table(cols) if cols else pa.table({"_empty": pa.nulls(n, pa.string())})
    checked = check_geometries(list(geometry))
    table = table.append_column("_wkb", pa.array(checked.wkb, pa.binary()))
    table = table.append_column("_line", pa.array(range(1, n + 1), pa.int32()))
    table = _with_errors(table, checked.reasons, checked.messages)
    return RawTable(table, headers, meta.get("encoding"), crs=meta.get("crs"), repaired=checked.repaired)


def _shapefile_encoding(path: Path) -> str | None:
    """A Shapefile without a .cpg says nothing of its attribute encoding; GDAL would assume
    Latin-1 and garble Chinese. Decide from the .dbf bytes: UTF-8 if they decode, else GB18030."""
    if path.suffix.lower() != ".shp" or any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return None
    dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return None
    data = dbf.read_bytes()
    header_len = int.from_bytes(data[8:10], "little") if len(data) > 10 else 0
    body = data[header_len:]
    try:
        body.decode("utf-8")
        return None if body.isascii() else "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"


def _read_arrays(path: Path, kwargs: dict):
    import pyogrio.raw

    meta, _fids, geometry, field_data = pyogrio.raw.read(path, **kwargs)
    return meta, geometry, meta["fields"], field_data


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S") if (v.hour, v.minute, v.second) != (0, 0, 0) else v.strftime("%Y-%m-%d")
    if isinstance(v, dt.date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _unique(headers: list[str]) -> list[str]:
    """Column names made unique and non-empty: 备注, 备注 -> 备注, 备注.2 (never clashing with a real 备注.2)."""
    taken: set[str] = set()
    out = []
    for i, h in enumerate(headers):
        base = str(h).strip() or f"第{i + 1}列"
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}.{k}"
        taken.add(name)
        out.append(name)
    return out
