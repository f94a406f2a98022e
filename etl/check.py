"""`minqing check`: is a warehouse whole? Its schema, its tables and columns, its row counts against
the record of its loads (load_batches), its key, and its accounts store.

Every finding is a sentence in Chinese naming the table, batch or file; `check` returns the problems
(anything found means the warehouse should be restored from a backup or looked at) and notes.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def expected_schema() -> dict[str, set[str]]:
    """Tables and views (name -> columns) of a warehouse freshly made by this code."""
    from .db import connect, run_sql_file
    from .views import create_views

    con = connect(None)
    try:
        run_sql_file(con, "schema")
        create_views(con)
        return _columns(con)
    finally:
        con.close()


def check(db: str | os.PathLike) -> Report:
    from .backup import access_store_path
    from .db import connect
    from .keys import KeyError_, read_key
    from .migrations import SchemaError, latest, table_counts, version_of

    db, r = Path(db), Report()
    try:
        con = connect(db, read_only=True)
    except SchemaError as e:
        r.problems.append(str(e))
        return r
    except Exception as e:
        r.problems.append(f"无法打开数据仓库 {db}: {e}")
        return r
    try:
        v = version_of(con)
        if v is None:
            r.problems.append(f"{db} 没有 meta.schema_version: 不是民情地图的数据仓库, 或其 meta 表已损坏")
            return r
        counts = table_counts(con)
        if v < latest():
            r.problems.append(f"数据仓库的结构版本为 {v}, 本程序为 {latest()}: 请先运行 minqing --db {db} upgrade 再检查")
        else:
            _check_schema(con, r)
        r.notes.append(f"结构版本 {v}; " + ", ".join(f"{t} {n}" for t, n in counts.items()))
        if {"load_batches", "rejected_rows"} <= set(counts):
            _check_batches(con, counts, r)
        fp = dict(con.execute("SELECT key, value FROM meta").fetchall()).get("key_fingerprint")
    finally:
        con.close()
    if not fp:
        r.problems.append(f"{db} 的 meta 表没有 key_fingerprint, 无法核对密钥")
    else:
        try:
            read_key(db, fp)
        except KeyError_ as e:
            r.problems.append(str(e))
    store = access_store_path(db)
    if store.exists():
        try:
            with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as s:
                result = s.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                r.problems.append(f"账号与审计库 {store} 已损坏: {result}")
        except sqlite3.Error as e:
            r.problems.append(f"账号与审计库 {store} 无法读取: {e}")
    else:
        r.notes.append(f"还没有账号与审计库 ({store.name}): 尚未建立任何账号")
    return r


def _columns(con) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for t, c in con.execute("""SELECT table_name, column_name FROM duckdb_columns()
                               WHERE schema_name = 'main' AND NOT internal""").fetchall():
        out.setdefault(t, set()).add(c)
    return out


def _check_schema(con, r: Report) -> None:
    have = _columns(con)
    for name, cols in sorted(expected_schema().items()):
        if name not in have:
            r.problems.append(f"缺少表或视图 {name}")
        elif cols - have[name]:
            r.problems.append(f"表 {name} 缺少列 {', '.join(sorted(cols - have[name]))}")


def _check_batches(con, counts: dict[str, int], r: Report) -> None:
    """The accounting of docs/warehouse.md: loaded + updated + duplicates + rejected = rows_read for each
    load, its rejected rows kept in rejected_rows, and each kind's table holding the rows its loads added."""
    from .kinds import KINDS

    for b, kind, f, n, lo, up, du, rj in con.execute(
            """SELECT batch_id, kind, source_file, rows_read, loaded, updated, duplicates, rejected
               FROM load_batches WHERE loaded + updated + duplicates + rejected IS DISTINCT FROM rows_read
               ORDER BY batch_id""").fetchall():
        r.problems.append(f"第 {b} 批导入 ({kind} {f}) 行数不平: 新增 {lo} + 更新 {up} + 重复 {du} + 拒收 {rj} ≠ 读入 {n}")
    for b, want, got in con.execute(
            """SELECT b.batch_id, b.rejected, count(x.batch_id) FROM load_batches b
               LEFT JOIN rejected_rows x USING (batch_id) GROUP BY ALL HAVING b.rejected <> count(x.batch_id)
               ORDER BY 1""").fetchall():
        r.problems.append(f"第 {b} 批导入记录拒收 {want} 行, rejected_rows 中却有 {got} 行")
    added = dict(con.execute("SELECT kind, sum(loaded) FROM load_batches GROUP BY kind").fetchall())
    for kind in KINDS:
        if kind == "areas" or kind not in counts:  # areas come from init; loads only give them outlines
            continue
        if counts[kind] != (added.get(kind) or 0):
            r.problems.append(f"表 {kind} 有 {counts[kind]} 行, 而各批导入共新增 {added.get(kind) or 0} 行: 有记录丢失或来历不明")
        orphans = con.execute(f"""SELECT count(*) FROM "{kind}" t WHERE t.batch_id IS NOT NULL
                                  AND t.batch_id NOT IN (SELECT batch_id FROM load_batches)""").fetchone()[0]
        if orphans:
            r.problems.append(f"表 {kind} 有 {orphans} 行指向不存在的导入批次")
