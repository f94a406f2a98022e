"""Schema versions of the warehouse, and the steps that bring an older warehouse up to date.

`meta.schema_version` says which schema a warehouse has. `etl/sql/schema.sql` always creates the
newest one (`latest()`); a warehouse written by an earlier release is brought up to it one step at a
time by the modules of this package, one per version: `mNNNN_<what>.py` with `upgrade(con)`, taking
a warehouse of version NNNN-1 to NNNN (docs/warehouse.md, "Changing the schema").

The steps run on the first write after an upgrade of the product (etl.db.writing, on its private
copy of the warehouse, swapped in atomically under the writer's lock) or on `minqing upgrade`, in one
transaction, and every table that existed before must keep its number of rows. A warehouse with a
newer schema than this code knows is refused, for reading and writing alike (`check_readable`).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:
    import duckdb

BASE_VERSION = 1  # the schema of the first release (v0.1.0): no step leads to it
_MODULE = re.compile(r"m(\d{4})_[a-z0-9_]+")


class SchemaError(RuntimeError):
    """A warehouse's schema cannot be read or upgraded by this code (the message is for the user)."""


@dataclass(frozen=True)
class Step:
    version: int  # the schema version this step produces
    name: str
    upgrade: Callable[["duckdb.DuckDBPyConnection"], None]


def discover() -> tuple[Step, ...]:
    """The steps of this package, by version; they must run 2, 3, ... without a gap."""
    steps = []
    for info in pkgutil.iter_modules(__path__):
        m = _MODULE.fullmatch(info.name)
        if m is None:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        steps.append(Step(int(m.group(1)), info.name, module.upgrade))
    return check_steps(steps)


def check_steps(steps: Sequence[Step]) -> tuple[Step, ...]:
    steps = tuple(sorted(steps, key=lambda s: s.version))
    expected = list(range(BASE_VERSION + 1, BASE_VERSION + 1 + len(steps)))
    if [s.version for s in steps] != expected:
        raise RuntimeError(f"migration versions {[s.name for s in steps]} must be {expected} without gaps or repeats")
    return steps


STEPS: tuple[Step, ...] = discover()


def latest(steps: Sequence[Step] | None = None) -> int:
    """The newest schema version this code knows (what `init` writes)."""
    steps = STEPS if steps is None else steps
    return max((s.version for s in steps), default=BASE_VERSION)


def version_of(con: "duckdb.DuckDBPyConnection") -> int | None:
    """The warehouse's `meta.schema_version`; None for a database that is not (yet) a warehouse."""
    has_meta = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'meta'").fetchone()[0]
    if not has_meta:
        return None
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return None
    try:
        return int(str(row[0]).strip())
    except ValueError:
        raise SchemaError(f"数据仓库的结构版本 meta.schema_version = {row[0]!r} 无法识别 (应为整数)") from None


def check_readable(con: "duckdb.DuckDBPyConnection", where: object = "", steps: Sequence[Step] | None = None) -> int | None:
    """The warehouse's schema version; SchemaError when it is newer than this code knows."""
    v = version_of(con)
    known = latest(steps)
    if v is not None and v > known:
        raise SchemaError(
            f"数据仓库 {where} 的结构版本为 {v}, 而本程序 (民情地图 {product_version()}) 只支持到版本 {known}: "
            f"它由更新版本的民情地图写成。为免损坏数据, 本程序既不读取也不写入它; 请安装与之相符的 (或更新的) 版本后再使用")
    return v


def table_counts(con: "duckdb.DuckDBPyConnection") -> dict[str, int]:
    """Rows of every table of the warehouse (views excluded), by name."""
    tables = [t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary ORDER BY 1").fetchall()]
    return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def migrate(con: "duckdb.DuckDBPyConnection", steps: Sequence[Step] | None = None, where: object = "") -> tuple[int, int] | None:
    """Bring the warehouse open on `con` (a private, writable copy) up to `latest()`; returns
    (from, to), or None for a database that is not a warehouse. All steps run in one transaction
    and every table that existed before keeps its number of rows, else nothing is changed (SchemaError)."""
    steps = check_steps(STEPS if steps is None else steps)
    v = check_readable(con, where, steps)
    if v is None:
        return None
    target = latest(steps)
    if v == target:
        return v, v
    before = table_counts(con)
    con.execute("BEGIN TRANSACTION")
    try:
        for step in steps:
            if v < step.version <= target:
                try:
                    step.upgrade(con)
                except Exception as e:
                    raise SchemaError(f"升级数据仓库 {where} 到结构版本 {step.version} ({step.name}) 失败: {e}; 原文件未改动") from e
                con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(step.version)])
        after = table_counts(con)
        lost = [f"{t} ({before[t]} → {after.get(t, '表已不存在')})" for t in before if after.get(t) != before[t]]
        if lost:
            raise SchemaError(f"升级数据仓库 {where} 到结构版本 {target} 会改变这些表的行数: {', '.join(lost)}; 已放弃升级, 原文件未改动")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return v, target


def product_version() -> str:
    """The installed product's version (pyproject's), or 'dev' when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version("minqing")
    except metadata.PackageNotFoundError:
        return "dev"
