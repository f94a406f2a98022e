"""The one masker of personal data in stored text: every text cell of every kind goes through it
before anything is stored (etl/staging.py), and so do the rows kept in rejected_rows and the
file name kept in load_batches.

What `mask_text` masks, and how (the rule, defined only here):

- Numbers are found after full-width digits and marks (０-９, ＋, －, ．, （）) are read as ASCII,
  with any of space, -, ., ·, _, en/em dash (up to three in a row) between digits and with
  digit lookarounds instead of word boundaries, so letters, underscores or Chinese text right
  beside a number do not hide it:
  - ID numbers of 18 characters (a birth date 19xx/20xx in the middle, the last may be X) and the
    old 15 digits -> only the last four kept: ************1234;
  - mobile phones 1[3-9] + 9 digits, also after +86 / 86 / 0086 -> 139****0004 (prefix dropped);
  - landlines with an area code and a separator, 0915-3212345 or (0915)3212345 -> 0915-***2345;
  - other runs of 16 to 19 digits (bank cards, an ID number with an impossible birth date) ->
    only the last four kept.
  Masking repeats until nothing changes, so digits kept by one mask never form a number with
  the digits after it on a second pass.
  A run that starts with a date (2025-10-13 2025-10-14, a date range) is not an ID or a card,
  nor is a 12-digit area code with a sequence number (610902001001-003, a household id).
- Names: the row's own names (`names`: the petitioner, household head or cadre of the row, two
  characters or more) wherever they occur, and a common surname (the ~120 commonest, compound
  ones like 欧阳 first) followed by one or two Han characters right before a word that follows a
  person (反映, 来电, 来访, 投诉, 称, 要求, 家, ...): 王小明反映 -> 王**反映. Left alone: names
  already anonymised (王某, 王某某), honorifics (王先生, 李老师), role words (村民, 群众, 业主, ...),
  place names ending in 村/镇/乡/街/区/县/市/组/社区 and a few common words (严格要求, 安全要求).
- A masked name keeps its first character (王**); masked output never matches again:
  mask_text(mask_text(x)) == mask_text(x).

`mask_array` applies the same rule to a pyarrow column with exactly mask_text's result
(tests/test_privacy_arrays.py): an RE2 prefilter (pyarrow.compute.match_substring_regex) derived
from the patterns below picks, among the column's distinct cells, those that can hold something
to mask, a vectorised search (DuckDB `contains`) the cells holding their row's own name
(`RowNames`: split once per file), and only those go through the Python rule, each distinct
text once. `pseudonymise` replaces an identifier (a field ending in
`_id`) that holds a phone or ID number by a stable keyed pseudonym, so the same value links
across files and different ones stay apart.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def mask_text(text: str | None, names: Iterable[str] = ()) -> str | None:
    """`text` with phone, ID and bank-card numbers and personal names masked (module docstring)."""
    if not text:
        return text
    return _mask_surnamed(_mask_own_names(_mask_all_numbers(text), names))


def mask_array(values: pa.Array | pa.ChunkedArray,
               names: RowNames | Sequence[pa.Array | pa.ChunkedArray] = ()) -> pa.Array:
    """mask_text over a string column; `names`: the columns (of the same length) with each row's
    names, or their RowNames (split once for all the columns of a file).
    The same result as mask_text cell by cell, faster: only the cells the RE2 prefilter picks
    (`_may_change`) or that contain their row's own name reach Python, and each distinct text
    among them is masked once."""
    arr = _strings(values)
    if len(arr) == 0:
        return arr
    names = names if isinstance(names, RowNames) else RowNames(names)
    row_names = names.columns
    own = names.found_in(arr)
    idx = np.flatnonzero(_may_change(arr) | own)
    if not len(idx):
        return arr
    take = pa.array(idx)
    enc = arr.take(take).dictionary_encode()
    codes = enc.indices.to_numpy(zero_copy_only=False)
    distinct = enc.dictionary.to_pylist()
    numbered = [_mask_all_numbers(t) for t in distinct]
    plain = [_mask_surnamed(n) for n in numbered]  # the result when none of the row's names is in the text
    renumbered = np.array([n != t for n, t in zip(numbered, distinct)], dtype=bool)
    # a row's names matter where the text holds one, or may after its numbers were masked
    with_names = np.flatnonzero(own[idx] | renumbered[codes])
    masked = [plain[c] for c in codes]
    if len(with_names):
        sub = pa.array(idx[with_names])
        cell_names = list(zip(*(c.take(sub).to_pylist() for c in row_names))) if row_names else [()] * len(with_names)
        for k, ns in zip(with_names, cell_names):
            masked[k] = _mask_surnamed(_mask_own_names(numbered[codes[k]], [n for n in ns if n]))
    changed = np.flatnonzero(np.array([a != b for a, b in zip((distinct[c] for c in codes), masked)], dtype=bool))
    if not len(changed):
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[idx[changed]] = True
    return pc.replace_with_mask(arr, pa.array(mask), pa.array([masked[k] for k in changed], pa.string()))


class RowNames:
    """Each row's own names as mask_text splits them (pieces of two characters or more), split
    once per distinct names cell and kept as (row, piece) pairs for a vectorised search."""

    def __init__(self, columns: Sequence[pa.Array | pa.ChunkedArray]):
        self.columns = [_strings(c) for c in columns]
        rows, pieces = [], []
        for col in self.columns:
            enc = col.dictionary_encode()
            distinct = enc.dictionary
            # most cells hold one name and nothing the split or strip could act on
            whole = pc.invert(pc.match_substring_regex(distinct, _RE2_SPLIT_CHARS)).to_numpy(zero_copy_only=False)
            short = pc.less(pc.utf8_length(distinct), 2).to_numpy(zero_copy_only=False)
            keep = np.flatnonzero(whole & ~short)  # one piece: the cell itself
            odd = np.flatnonzero(~whole)
            odd_pieces = [[p for p in _NAME_SPLIT.split(u.strip()) if len(p) >= 2]
                          for u in distinct.take(pa.array(odd, pa.int64())).to_pylist()]
            owner = np.concatenate((keep, np.repeat(odd, [len(ps) for ps in odd_pieces]).astype(np.int64)))
            values = pa.concat_arrays([distinct.take(pa.array(keep, pa.int64())),
                                       pa.array([p for ps in odd_pieces for p in ps], pa.string())])
            order = np.argsort(owner, kind="stable")
            offsets = np.concatenate(([0], np.cumsum(np.bincount(owner, minlength=len(distinct)))))
            split = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values.take(pa.array(order)))
            per_row = split.take(enc.indices)
            rows.append(pc.list_parent_indices(per_row).to_numpy(zero_copy_only=False))
            pieces.append(pc.list_flatten(per_row))
        self.rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        self.pieces = pa.concat_arrays(pieces) if pieces else pa.array([], pa.string())

    def found_in(self, texts: pa.Array) -> np.ndarray:
        """Per row: the text contains one of the row's names, in DuckDB's vectorised `contains`
        (a Python loop over a million rows would take longer than the masking)."""
        own = np.zeros(len(texts), dtype=bool)
        if not len(self.rows):
            return own
        con = _duckdb()
        try:
            con.register("pairs", pa.table({"t": texts.take(pa.array(self.rows)), "p": self.pieces}))
            got = con.execute("SELECT coalesce(contains(t, p), false) AS c FROM pairs").fetchnumpy()["c"]
        finally:
            con.close()
        own[self.rows[np.asarray(got, dtype=bool)]] = True
        return own


def pseudonymise(value: str | None, key: str | None) -> str | None:
    """An identifier as written, unless mask_text would change it (a phone or ID number used as
    the id): then 'ID' + 13 letters of a keyed hash (HMAC-SHA256 with the warehouse's key) of
    the value, stable across files. Without a key (a preview) the masked text instead."""
    if value is None or mask_text(value) == value:
        return value
    if not key:
        return mask_text(value)
    digest = hmac.new(key.encode(), _id_form(value).encode(), hashlib.sha256).digest()
    return "ID" + "".join(_LETTERS[b % len(_LETTERS)] for b in digest[:13])


def pseudonymise_array(values: pa.Array | pa.ChunkedArray, key: str | None) -> pa.Array:
    """pseudonymise over a string column, with mask_array's prefilter; each distinct value once."""
    arr = _strings(values)
    if len(arr) == 0:
        return arr
    idx = np.flatnonzero(_may_change(arr))
    if not len(idx):
        return arr
    enc = arr.take(pa.array(idx)).dictionary_encode()
    distinct = enc.dictionary.to_pylist()
    done = [pseudonymise(v, key) for v in distinct]
    moved = np.array([a != b for a, b in zip(distinct, done)], dtype=bool)
    codes = enc.indices.to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(moved[codes])
    if not len(rows):
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[idx[rows]] = True
    return pc.replace_with_mask(arr, pa.array(mask), pa.array([done[c] for c in codes[rows]], pa.string()))


def is_identifier(field_name: str) -> bool:
    """Fields pseudonymised instead of masked: the ids (case_id, household_id, cadre_id, ...)."""
    return field_name.endswith("_id")


def mask_name(name: str) -> str:
    """A name in text: its first character kept, one '*' for each other character."""
    return name[0] + "*" * (len(name) - 1)


# ---------------------------------------------------------------- helpers

# Read one for one as ASCII before matching (positions stay): full-width digits and marks, and the
# invisible or look-alike spaces and dashes that copying from web pages and PDFs leaves between digits.
_WIDE, _NARROW = "０１２３４５６７８９＋－．（）　", "0123456789+-.() "
_LOOKALIKE_SPACES = "\u200b\u200c\u200d\u2060\ufeff\u202f\u2009\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u200a"
_LOOKALIKE_DASHES = "\u00ad\u2011\u2212\u2015\u2043\ufe63\uff5e\u301c"
_FULL_WIDTH = str.maketrans(_WIDE + _LOOKALIKE_SPACES + _LOOKALIKE_DASHES,
                            _NARROW + " " * len(_LOOKALIKE_SPACES) + "-" * len(_LOOKALIKE_DASHES))
_ANY_FULL_WIDTH = re.compile("[" + re.escape("".join(map(chr, _FULL_WIDTH))) + "]")
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_SEP = r"[ \t\u00a0\u3000\-._·/()\u2013\u2014\u2012\u2010]{0,3}"
_D = "[0-9]"

_S = _SEP
_BIRTH = rf"(?:1{_S}9|2{_S}0)(?:{_S}{_D}){{2}}{_S}[01]{_S}{_D}{_S}[0-3]{_S}{_D}"  # 19xx/20xx, month, day
_NUMBER = re.compile("|".join((
    rf"(?P<id18>(?<![0-9]){_D}(?:{_S}{_D}){{5}}{_S}{_BIRTH}(?:{_S}{_D}){{3}}{_S}[0-9Xx](?![0-9]))",
    rf"(?P<mobile>(?<![0-9])(?:(?:\+|00){_S}86{_S}|86{_S}|0{_S})?(?P<m>1{_S}[3-9](?:{_S}{_D}){{9}})(?![0-9]))",
    rf"(?P<landline>(?<![0-9])(?:\((?P<a1>0[1-9][0-9]{{1,2}})\){_S}|(?P<a2>0[1-9][0-9]{{1,2}})[ \-\u2013\u2014]{{1,3}})"
    rf"(?P<sub>[2-8](?:{_S}{_D}){{6,7}})(?![0-9]))",
    rf"(?P<long>(?<![0-9]){_D}(?:{_S}{_D}){{14,17}}{_S}[0-9Xx](?![0-9]))",
    rf"(?P<id15>(?<![0-9]){_D}(?:{_S}{_D}){{14}}(?![0-9]))",
)))
_ANY_RUN = re.compile(r"[0-9](?:[ \t\u00a0\u3000\-._·/\u2010-\u2014()]{0,3}[0-9]){9}")  # the shortest number masked: 029-8888888
_AREA_SEQUENCE = re.compile(r"[0-9]{12}[-_][0-9]{3}")  # a village code and a number: 610902001001-003
_DATE_START = re.compile(r"(?:19|20)[0-9]{2}([-./])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12][0-9]|3[01])(?![0-9])")

# The commonest surnames, compound ones first so 欧阳 wins over a single character.
_COMPOUND = "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 司徒 夏侯 长孙 宇文 独孤".split()
_SINGLE = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
           "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
           "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申耿关兰焦俞左柳甘祝包宁尚")
_TRIGGERS = "反映 反应 来电 来访 来信 投诉 举报 咨询 诉称 声称 称 要求 表示 家 等人 夫妇 一家".split()
_HAN = "\u4e00-\u9fff"
# after the name: a trigger word (perhaps after a space or 同志), or a phone number (masked first)
_AFTER_NAME = (rf"(?:[ \u3000{_LOOKALIKE_SPACES}]{{0,2}}(?:同志)?(?:{'|'.join(_TRIGGERS)})"
               rf"|[ :：\u3000{_LOOKALIKE_SPACES}]{{0,2}}1[3-9][0-9](?:\*{{4}}|[0-9]{{4}})[0-9]{{4}})")
_NAME_PATTERN = re.compile(
    rf"(?P<surname>{'|'.join(_COMPOUND)}|[{_SINGLE}])(?P<given>[{_HAN}]{{1,2}}?)(?={_AFTER_NAME})")
_NAME_SPLIT = re.compile(r"[、,，;；/\s]+|和|及")
_ANY_TRIGGER = re.compile("|".join(_TRIGGERS))
_ROLE_WORDS = frozenset(
    "村民 群众 居民 业主 网民 市民 农户 住户 户主 租户 商户 村组 组长 村长 书记 主任 老人 学生 职工 员工 工人 家属 本人 "
    "当事人 申请人 反映人 来电人 来访人 诉求人 投诉人 举报人 信访人 同志 部门 单位 领导 干部 社区 政府 村委 街道".split())
_HONORIFICS = ("先生", "女士", "师傅", "老师", "大爷", "大妈", "阿姨", "大姐", "大哥", "老板", "医生", "同学", "总", "某", "氏")
_PLACE_ENDS = ("村", "镇", "乡", "街", "区", "县", "市", "组", "社区", "路", "巷", "楼", "院", "厂", "店", "局", "所", "站")
_COMMON_WORDS = frozenset(
    "严格 高度 安全 方面 方式 金额 文件 程序 程度 任何 许多 周边 周围 马上 施工 孙子 孙女 万元 于是 关于 常常 向上 "
    "白天 石头 江边 林地 田地 黄金 温度 康复 齐全 易于 乔迁 左右 包括 宁愿 尚未 毛病 龙头 史上 陶瓷 付款 戴上 余额 范围 "
    "钱款 钟点 甘心 兰州 关心 关注 章程 鲁莽 申请 申报 申诉 耿直 焦急 包干 包片 方便 段落 雷雨 曾经 邓小平 江西 苏州 "
    "程序上 文明 安置 安排 常年 常住 夏季 夏天 石材 严重 高层 高楼 高考 高温 韩国 金融 向我 向其 向他 向她 向你".split())



def _mask_all_numbers(text: str) -> str:
    """mask_text's first step: numbers masked, repeated to a fixed point (digits kept by one mask
    may start a number with the next)."""
    norm = text.translate(_FULL_WIDTH) if _ANY_FULL_WIDTH.search(text) else text  # one for one: positions stay
    for _ in range(4):
        if not _ANY_RUN.search(norm):
            break
        masked = _mask_numbers(text, norm)
        if masked == text:
            break
        text = masked
        norm = text.translate(_FULL_WIDTH) if _ANY_FULL_WIDTH.search(text) else text
    return text


def _mask_own_names(text: str, names: Iterable[str]) -> str:
    """mask_text's second step: the row's own names, wherever they occur."""
    for cell in names:
        for name in _NAME_SPLIT.split((cell or "").strip()):  # a cell may hold several: 王小明、李四
            if len(name) >= 2 and name in text:
                text = text.replace(name, mask_name(name))
    return text


def _mask_surnamed(text: str) -> str:
    """mask_text's last step: surname-shaped names before a trigger word or a phone number."""
    if _ANY_TRIGGER.search(text) or "****" in text:
        text = _NAME_PATTERN.sub(_name_replacement, text)
    return text


def _mask_numbers(text: str, norm: str) -> str:
    """Numbers found in `norm` (the text with ASCII digits) replaced in `text`."""
    out, pos, at = [], 0, 0
    while True:
        run = _ANY_RUN.search(norm, at)  # cheap: where the next candidate starts
        m = run and _NUMBER.search(norm, max(at, run.start() - 4))  # 4: room for a +86 / (0915) prefix
        if m is None:
            break
        replacement = _number_replacement(m, norm)
        if replacement is None:  # a date range, not a number: look again one character on
            at = m.start() + 1
            continue
        out.append(text[pos:m.start()])
        out.append(replacement)
        pos = at = m.end()
    out.append(text[pos:])
    return "".join(out)


def _number_replacement(m: re.Match, norm: str) -> str | None:
    kind = next(g for g in ("id18", "mobile", "landline", "long", "id15") if m.group(g) is not None)
    if kind == "mobile":
        d = _digits(m.group("m"))
        return d[:3] + "****" + d[-4:]
    if kind == "landline":
        sub = _digits(m.group("sub"))
        return (m.group("a1") or m.group("a2")) + "-" + "*" * (len(sub) - 4) + sub[-4:]
    if _DATE_START.match(norm, m.start()) or _AREA_SEQUENCE.fullmatch(m.group(0)):
        return None
    chars = re.sub(r"[^0-9Xx]", "", m.group(0)).upper()
    return "*" * (len(chars) - 4) + chars[-4:]


def _digits(s: str) -> str:
    return re.sub(r"[^0-9]", "", s)


def _name_replacement(m: re.Match) -> str:
    surname, given = m.group("surname"), m.group("given")
    whole = surname + given
    if ("某" in given or given in _ROLE_WORDS or whole in _ROLE_WORDS or whole in _COMMON_WORDS
            or given.startswith(_HONORIFICS) or given.endswith(_PLACE_ENDS)
            or any(w in whole for w in _ROLE_WORDS)):
        return whole
    return surname + "*" * len(given)


def _id_form(value: str) -> str:
    """An identifier as compared for its pseudonym: trimmed, ASCII digits, upper case."""
    return value.translate(_FULL_WIDTH).strip().upper()


def _strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return arr.cast(pa.string())


# ---------------------------------------------------------------- the prefilter of the arrays
# Derived from the patterns above, never written twice, and conservative: a cell the prefilter
# leaves out is one mask_text returns unchanged. A number is masked only where _NUMBER matches
# the text with ASCII digits (`norm`), and a surname-shaped name only where _NAME_PATTERN matches;
# RE2 (pyarrow) has no lookarounds, so the prefilter drops the digit lookarounds and reads the
# trailing lookahead as part of the match: each can only match where the original can.


# Constructs whose RE2 meaning is narrower than Python's (\d, \s, \w are ASCII-only in RE2) or
# that RE2 lacks (back references): a pattern using one cannot be turned into a safe prefilter.
_NOT_RE2_SAFE = re.compile(r"\\[dDwWsSbBZA1-9]")


def _re2_superset(compiled: re.Pattern) -> str:
    """`compiled` (Python re) as an RE2 pattern matching wherever it matches (and perhaps more)."""
    pattern = compiled.pattern
    if compiled.flags != re.UNICODE or _NOT_RE2_SAFE.search(pattern.replace("\\\\", "")):
        raise ValueError(f"no safe RE2 prefilter for {pattern!r}: use explicit classes and no flags")
    out = pattern.replace("(?<![0-9])", "").replace("(?![0-9])", "")
    if "(?=" in out:  # a lookahead is accepted only as the pattern's last group
        start = out.index("(?=")
        end = _group_end(out, start)
        if end != len(out) - 1:
            raise ValueError(f"lookahead not at the end of {pattern!r}")
        out = out[:start] + "(?:" + out[start + 3:]
    for look in ("(?=", "(?!", "(?<=", "(?<!"):
        if look in out:
            raise ValueError(f"RE2 has no {look}: {pattern!r}")
    return re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", out)


def _group_end(pattern: str, start: int) -> int:
    """Index of the ')' closing the group opened at `start`: escapes and [...] classes skipped."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":  # a ']' first in a class is a character
                i += 1
        elif c in "()":
            depth += 1 if c == "(" else -1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced group in {pattern!r}")


_RE2_NUMBER = _re2_superset(_NUMBER)
_RE2_NAME = _re2_superset(_NAME_PATTERN)
# a names cell without these is one piece as it stands: _NAME_SPLIT's separators and every
# character str.strip() and \s take for whitespace (all below U+3001)
_RE2_SPLIT_CHARS = ("[、,，;；/和及" + "".join(f"\\x{{{c:04x}}}" for c in range(0x3001) if chr(c).isspace()) + "]")
_RE2_FULL_WIDTH = "[" + "".join(f"\\x{{{c:04x}}}" for c in _FULL_WIDTH) + "]"


def _may_change(arr: pa.Array) -> np.ndarray:
    """Per cell: mask_text(cell) (without the row's names) may differ from the cell; each
    distinct cell looked at once."""
    enc = arr.dictionary_encode()
    hit = _may_change_distinct(enc.dictionary)
    return pc.fill_null(pc.take(pa.array(hit), enc.indices), False).to_numpy(zero_copy_only=False).copy()


def _may_change_distinct(arr: pa.Array) -> np.ndarray:
    norm = arr
    full = pc.fill_null(pc.match_substring_regex(arr, _RE2_FULL_WIDTH), False)
    if pc.any(full).as_py():  # the digits and marks as ASCII, as mask_text reads them
        for wide, ascii_ in ((chr(c), chr(a)) for c, a in _FULL_WIDTH.items()):
            norm = pc.replace_substring(norm, wide, ascii_)
    hit = pc.or_(pc.match_substring_regex(norm, _RE2_NUMBER), pc.match_substring_regex(arr, _RE2_NAME))
    return pc.fill_null(hit, False).to_numpy(zero_copy_only=False).copy()


_DUCKDB: list = []  # one in-memory DuckDB for the name searches, a cursor for each


def _duckdb():
    import duckdb

    if not _DUCKDB:
        _DUCKDB.append(duckdb.connect())
    return _DUCKDB[0].cursor()
