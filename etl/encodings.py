"""Which encoding a CSV file is in, decided from its bytes piece by piece (never one string of
the whole file): BOM (UTF-8, UTF-16), then strict UTF-8, then GB18030 (a superset of GBK and
GB2312, so a GBK export never garbles silently). A file mixing UTF-8 and GB18030 is an error
naming the line where the bytes change."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from . import csv_stream


class ReadError(ValueError):
    """A file that cannot be read at all; the message names the file and the place."""


def detect_encoding(data, path: Path | None = None) -> str:
    """BOM first, then strict UTF-8, then GB18030 (never GB2312: it would garble rare characters).
    A file mixing UTF-8 and GB18030 text is an error naming the first line where the bytes change.
    `data`: bytes or a memory map; it is decoded piece by piece, never as one string."""
    where = f"{path}: " if path else ""
    head = bytes(data[:4096])
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if head and head.count(b"\x00") > len(head) // 4:  # UTF-16 without BOM
        return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
    bad = _first_undecodable(data, "utf-8")
    if bad is None:
        return "utf-8"
    offset, cjk_before = bad
    if cjk_before >= 3:  # Chinese in UTF-8 before it
        raise ReadError(f"{where}第 {line_at(data, offset)} 行: 编码与前面的行不同 (前面是 UTF-8, "
                        f"这里不是, 可能混入了 GBK/GB18030 文本); 请把整个文件另存为 UTF-8 CSV 后重新导入")
    # The first block decides; the streaming reader decodes the rest and names a bad line there.
    bad = _first_undecodable(data, "gb18030", limit=csv_stream.BLOCK)
    if bad is not None:
        raise ReadError(f"{where}第 {line_at(data, bad[0])} 行: 既不是 UTF-8、UTF-16, 也不是 GBK/GB18030 "
                        f"编码; 请另存为 UTF-8 CSV 后重新导入")
    line = _utf8_line_in_gb18030(data)
    if line:
        raise ReadError(f"{where}第 {line} 行: 编码与前面的行不同 (前面是 GBK/GB18030, 这一行是 UTF-8); "
                        f"请把整个文件另存为同一种编码 (建议 UTF-8 CSV) 后重新导入")
    return "gb18030"


_CJK = re.compile("[\u4e00-\u9fff]")
_CJK3 = re.compile("[\u4e00-\u9fff](?:.*?[\u4e00-\u9fff]){2}", re.S)


def _first_undecodable(data, encoding: str, limit: int | None = None) -> tuple[int, int] | None:
    """(offset of the first byte `encoding` cannot decode, Chinese characters before it: 0..3),
    or None; decoded in blocks that end on a line break (LF is never inside a character)."""
    cjk = 0
    for at, piece in csv_stream.blocks(data):
        if limit is not None and at >= limit:
            return None
        try:
            text = piece.decode(encoding)
        except UnicodeDecodeError as e:
            if cjk < 3:
                cjk += _cjk3(piece[: e.start].decode(encoding, errors="ignore"))
            return at + e.start, min(cjk, 3)
        if cjk < 3:
            cjk += _cjk3(text)
    return None


def _cjk3(text: str) -> int:
    """Chinese characters in `text`, counted up to 3."""
    return 3 if _CJK3.search(text) else len(_CJK.findall(text))


def _utf8_line_in_gb18030(data, checks: int = 200) -> int | None:
    """The first line of a GB18030 file that is Chinese written in UTF-8, if any: of the first
    `checks` lines holding three Chinese characters in a row as UTF-8 bytes (GB18030 text almost
    never looks like this), the first that decodes as UTF-8 with three Chinese characters."""
    for lo, hi in csv_stream.utf8_cjk_lines(data, checks):
        try:
            text = data[lo:hi].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if _cjk(text) >= 3:
            return line_at(data, lo)
    return None


def line_at(data, offset: int) -> int:
    return bytes(data[:offset]).count(b"\n") + 1


def _cjk(text: str) -> int:
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text)


