"""The fast CSV path: pyarrow's streaming reader over the file, block by block.

The file is memory-mapped, never read into one Python string. It is cut into blocks that end
on a line break; a GB18030 block is decoded and re-encoded as UTF-8 (the decode names the line
of a bad byte); UTF-8 blocks go to pyarrow as they are. While pyarrow parses a block, numpy
counts its lines, notes the blank ones and whether a line has an odd number of quotes (a quoted
cell spanning lines), so each row's line number comes from the block's offsets instead of a list
of every line. `read_stream` returns None when the file needs the exact reader (a ragged row, a
cell spanning lines, lone CR line breaks): the caller falls back to it.

Both encodings are safe to cut on bytes: in UTF-8 and GB18030 the bytes of LF (0x0A), CR (0x0D)
and the double quote (0x22) never occur inside a multi-byte character.
"""

from __future__ import annotations

import codecs
import csv
import io
import mmap
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

BLOCK = 1 << 24  # 16 MiB of the file per block
_BLANK_BYTES = np.zeros(256, bool)
_BLANK_BYTES[[9, 10, 13, 32]] = True  # tab, LF, CR, space


class DecodeFailure(Exception):
    """A byte sequence the encoding cannot decode: `line` is its 1-based line number."""

    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line, self.reason = line, reason


def open_mapped(path: Path):
    """(file, buffer): the file's bytes without copying them (an empty file gives b"")."""
    f = open(path, "rb")
    try:
        return f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except ValueError:  # empty file: mmap refuses length 0
        return f, b""


def blocks(data, start: int = 0, size: int | None = None):
    """(offset, bytes) pieces of `data` from `start`, each ending just after a LF (the last may not)."""
    size = size or BLOCK
    n = len(data)
    at = start
    while at < n:
        end = min(at + size, n)
        if end < n:
            cut = data.rfind(b"\n", at, end)
            end = cut + 1 if cut >= 0 else (data.find(b"\n", end) + 1 or n)
        yield at, data[at:end]
        at = end


def utf8_cjk_lines(data, limit: int):
    """(start, end) of the first `limit` lines holding three Chinese characters in a row as UTF-8
    bytes (E4-E9 then two of 80-BF, three times), found with numpy block by block."""
    found = 0
    for at, piece in blocks(data, 0, 1 << 22):
        a = np.frombuffer(piece, np.uint8)
        if len(a) < 9:
            continue
        cont = (a >= 0x80) & (a <= 0xBF)
        char = (a[:-2] >= 0xE4) & (a[:-2] <= 0xE9) & cont[1:-1] & cont[2:]
        runs = np.flatnonzero(char[:-6] & char[3:-3] & char[6:])
        end = -1
        for i in runs:
            if i < end:
                continue  # a line already given
            lo = piece.rfind(b"\n", 0, i) + 1
            hi = piece.find(b"\n", i)
            end = hi if hi >= 0 else len(piece)
            yield at + lo, at + end
            found += 1
            if found >= limit:
                return


class _LineStats:
    """Line counts of UTF-8 blocks as they pass: blank lines (only spaces, tabs, CR) and odd quotes."""

    def __init__(self):
        self.lines = 0  # lines seen in complete blocks
        self.blank: list[np.ndarray] = []
        self.odd_quotes = False
        self.ends_open = False  # the last block did not end with LF

    def add(self, block: bytes) -> None:
        arr = np.frombuffer(block, np.uint8)
        nl = np.flatnonzero(arr == 10)
        ends = nl if len(nl) and nl[-1] == len(arr) - 1 else np.append(nl, len(arr))
        self.ends_open = not (len(nl) and nl[-1] == len(arr) - 1)
        starts = np.concatenate(([0], nl + 1))[: len(ends)]
        # blank: empty, or starting with a space/tab/CR and holding nothing else (checked one by one: rare)
        maybe = np.flatnonzero((ends == starts) | _BLANK_BYTES[arr[np.minimum(starts, len(arr) - 1)]])
        blank = np.array([k for k in maybe if not block[starts[k]:ends[k]].strip(b" \t\r")], np.int64)
        if len(blank):
            self.blank.append(blank + self.lines + 1)
        if not self.odd_quotes and 34 in block:
            quotes = np.flatnonzero(arr == 34)
            per = np.searchsorted(quotes, ends) - np.searchsorted(quotes, starts)
            self.odd_quotes = bool((per % 2).any())
        self.lines += len(ends)

    def filled_lines(self) -> np.ndarray:
        """1-based numbers of the lines that hold something, as int32."""
        every = np.arange(1, self.lines + 1, dtype=np.int32)
        if not self.blank:
            return every
        return np.delete(every, np.concatenate(self.blank) - 1)


class _Utf8Stream(io.RawIOBase):
    """A read-only file of the UTF-8 blocks, counting their lines as pyarrow reads them."""

    def __init__(self, data, start: int, encoding: str, stats: _LineStats, decode: bool):
        self._pieces = self._utf8(data, start, encoding, stats, decode)
        self._buf = memoryview(b"")
        self.failure: DecodeFailure | None = None

    @staticmethod
    def _utf8(data, start, encoding, stats, decode):
        utf8 = codecs.lookup(encoding).name == "utf-8"
        for _, raw in blocks(data, start):
            if decode:
                try:
                    text = raw.decode(encoding)
                    raw = raw if utf8 else text.encode("utf-8")
                except UnicodeDecodeError as e:
                    raise DecodeFailure(stats.lines + raw.count(b"\n", 0, e.start) + 1, e.reason) from None
            stats.add(raw)
            yield raw

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        """Fills `b` across pieces: a short read only at the end of the file (pyarrow 26's streaming
        reader can stop early, without an error, on a short read ending in CR before one of LF)."""
        filled = 0
        while filled < len(b):
            if not len(self._buf):
                try:
                    self._buf = memoryview(next(self._pieces))
                except StopIteration:
                    self.exhausted = True
                    break
                except DecodeFailure as e:
                    self.failure = e
                    raise
            n = min(len(b) - filled, len(self._buf))
            b[filled:filled + n] = self._buf[:n]
            self._buf = self._buf[n:]
            filled += n
        return filled

    exhausted = False  # the last piece was handed over: the line count covers the whole file


def read_stream(data, start: int, encoding: str, delimiter: str, first_line: str, *, decode: bool = True):
    """(headers, table with `_line`) read by pyarrow block by block, or None when the file needs the
    exact reader. `start`: offset after a BOM; `first_line`: the header line, decoded; `decode`:
    False for UTF-8 bytes already checked whole (passed to pyarrow as they are). Raises
    DecodeFailure for a byte the encoding cannot decode."""
    if re.search(rb"\r(?!\n)", data):  # lone CR line breaks: pyarrow and the line count would disagree
        return None
    width = len(next(csv.reader([first_line], delimiter=delimiter), []))
    names = [f"f{i}" for i in range(width)]
    bad: list[object] = []

    def on_invalid(row) -> str:
        bad.append(row)
        return "skip"

    stats = _LineStats()
    stream = _Utf8Stream(data, start, encoding, stats, decode)
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=names, block_size=BLOCK),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False,
                                              invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, check_utf8=False),
        )
        table = reader.read_all()
    except pa.ArrowInvalid:
        if stream.failure:
            raise stream.failure from None
        return None
    except DecodeFailure:
        raise
    except Exception:
        if stream.failure:
            raise stream.failure from None
        raise
    if bad or stats.odd_quotes or table.num_rows == 0:
        return None
    lines = stats.filled_lines()
    if not stream.exhausted or len(lines) != table.num_rows:  # pyarrow stopped early, or lines were miscounted
        return None
    headers = [str(v) for v in table.slice(0, 1).to_pylist()[0].values()]
    return headers, table.slice(1), lines[1:]
