"""Load a user's file into the warehouse: raw -> staging -> placement -> merge.

Every input row ends in exactly one outcome: loaded (new key), updated (known key,
new content), duplicate (identical to what is stored, or repeated in the file) or
rejected into `rejected_rows` with a reason code, its line and the original row
(personal fields masked). One load is one transaction on a copy of the warehouse
that replaces the original only when everything succeeded (see etl.db.writing).
The steps live in etl/staging.py, etl/placement.py and etl/merge.py; what differs
between kinds is declared in etl/kinds.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from .backup_verify import sha256  # a file's SHA-256, one home for loads and backups
from .fields import match_headers, normalise_header
from .kinds import Kind, MergeContext, kind as kind_of
from .merge import merge
from .placement import place
from .privacy import mask_text
from .readers import CSV_SUFFIXES, XLSX_SUFFIXES, RawTable, ReadError, check_type, read_file
from .terms import kept_fields, load_report
from .staging import record_rejects, reject_unreadable_rows, stage
from .views import create_views
from geo.datum import DATUMS


# What a load did besides loading rows (LoadResult.notes), as the CLI and the dashboard say it.
NOTE_LABELS = {"repaired_geometry": "几何图形无效、已自动修复的要素", "derived_outlines": "由下属村(社区)边界合并生成的乡镇(街道)/区县边界"}


# the steps a load tells its `progress`, in order (the CLI's and the import page's progress bars)
STEPS = ("读取文件", "校验", "定位", "入库")


class LoadError(ValueError):
    """The file as a whole cannot be loaded (missing field, unreadable); nothing was written."""


@dataclass
class LoadResult:
    kind: str
    file: str
    batch_id: int
    rows_read: int = 0
    loaded: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    encoding: str | None = None
    # what was done besides loading: repaired_geometry (features made valid), derived_outlines
    # (towns or the district given the union of their villages' outlines)
    notes: dict[str, int] = field(default_factory=dict)
    # terms of the file the vocabulary did not know as written (etl.terms.load_report):
    # {domain, term, mapped_to, how: 'containment' | 'unmapped', count}
    terms: list[dict] = field(default_factory=list)
    # wall and CPU seconds (all threads) of each step (read, stage, place, merge, rejects, views):
    # the load's own profile, in `minqing load --json` and the benchmark (bench/)
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def load(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    path: str | Path,
    *,
    sheet: str | None = None,
    crs: str = "wgs84",
    synthetic: bool = False,
    now: dt.datetime | None = None,
    hash_key: str | None = None,
    mapping: dict[str, str] | None = None,
    progress=None,
    as_of: dt.date | None = None,
    refresh_views: bool = True,
) -> LoadResult:
    """Load one file of `kind` into the open warehouse `con` (caller owns the transaction).

    `hash_key` (etl.keys) is needed for kinds with personal data (cases, households, cadres).
    `mapping` maps a header of the file to a canonical field (name or Chinese label) for
    headers the built-in aliases do not know. `progress(step)` is told each step. `as_of`: the
    day the file was exported (load --as-of), kept with the load; the warehouse's 'today' is
    the later of it and the latest time in its case records (etl.views.as_of). `refresh_views`:
    rebuild the views and the tables they read (etl.views.create_views) after the merge; a caller
    loading several files in one transaction (load_files) does it once after the last.
    """
    step = progress or (lambda name: None)
    clock = _Clock()
    spec = kind_of(kind)
    path = Path(path)
    overrides = _check_mapping(spec, mapping or {}, path)
    step(STEPS[0])
    _check_crs(spec, crs)
    raw = read_file(path, sheet=sheet)
    columns = _check_columns(spec, raw, overrides, path)
    clock.lap("read")
    now = now or dt.datetime.now().replace(microsecond=0)
    params = _staging_params(spec, hash_key, now)
    batch_id = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM load_batches").fetchone()[0]
    result = LoadResult(kind, str(path), batch_id, rows_read=raw.table.num_rows, encoding=raw.encoding)
    step(STEPS[1])
    shapes = "_wkb" in raw.table.column_names
    geom_source = _source_crs(raw.crs if crs in ("wgs84", "cgcs2000") else crs) if shapes else None
    stage(con, spec, raw, columns, geom_source, params, hash_key)
    clock.lap("stage")
    step(STEPS[2])
    place(con, spec, crs)
    reject_unreadable_rows(con)
    clock.lap("place")
    step(STEPS[3])
    ctx = MergeContext(batch_id, now, as_of, tuple(raw.repaired))
    (result.loaded, result.updated, result.duplicates), result.notes = merge(con, spec, ctx, synthetic=synthetic)
    clock.lap("merge")
    result.reasons = record_rejects(con, spec, raw, columns, batch_id, hash_key)
    result.rejected = sum(result.reasons.values())
    result.terms = load_report(con, kept_fields(spec))
    clock.lap("rejects")
    if refresh_views:
        create_views(con)  # refresh the stored views with this version's definitions
        clock.lap("views")
    total = result.loaded + result.updated + result.duplicates + result.rejected
    if total != result.rows_read:  # an invariant of the loader, not a user error
        raise AssertionError(f"outcomes {total} do not add up to rows_read {result.rows_read}")
    con.execute(
        "INSERT INTO load_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [batch_id, kind, mask_text(path.name), sha256(path), now, result.rows_read, result.loaded, result.updated,
         result.duplicates, result.rejected, json.dumps({"crs": crs, "sheet": mask_text(sheet), "encoding": raw.encoding, "as_of": as_of and str(as_of),
                                                         "synthetic": synthetic}, ensure_ascii=False)],
    )
    result.seconds, result.cpu_seconds = clock.steps, clock.cpu
    return result


class _Clock:
    """Wall and process CPU seconds per named step, each from the end of the previous one."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._t, self._c = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.steps[name] = round(self.steps.get(name, 0.0) + now - self._t, 3)
        self.cpu[name] = round(self.cpu.get(name, 0.0) + cpu - self._c, 3)
        self._t, self._c = now, cpu


def load_file(db: str | Path, kind: str, path: str | Path, *, sheet: str | None = None, crs: str = "wgs84",
              mapping: dict[str, str] | None = None, as_of: dt.date | None = None, progress=None) -> LoadResult:
    """Load `path` into the warehouse file `db` with its hash key, as one atomic swap under the
    writer's lock (etl.db.writing): what `minqing load` and the dashboard's 数据导入 page call.
    Raises LoadError, ReadError, KeyError_ (etl.keys) or Busy (etl.db); then nothing was written."""
    db = _existing(db)
    with _writing_with_key(db) as (con, key):
        return load(con, kind, path, sheet=sheet, crs=crs, hash_key=key, mapping=mapping, as_of=as_of,
                    progress=progress)


# What a folder given to `minqing load` contributes: its ledger files, in name order.
FOLDER_SUFFIXES = (*CSV_SUFFIXES, *XLSX_SUFFIXES, ".xls")  # what a single file may be (an .xls is refused by name)


def folder_files(folder: str | Path) -> list[Path]:
    """The ledger files of `folder` (not its subfolders), by name; Excel's lock files (~$...) and
    hidden files are left out. No such file -> LoadError."""
    folder = Path(folder)
    found = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FOLDER_SUFFIXES
                    and not p.name.startswith(("~$", "."))), key=lambda p: p.name)
    if not found:
        raise LoadError(f"文件夹 {folder} 中没有可导入的台账文件 ({'、'.join(FOLDER_SUFFIXES)})")
    return found


def load_files(db: str | Path, kind: str, paths: list[str | Path], *, sheet: str | None = None, crs: str = "wgs84",
               mapping: dict[str, str] | None = None, as_of: dt.date | None = None, progress=None) -> list[LoadResult]:
    """Load several files of `kind` into the warehouse file `db` in ONE transaction (one copy of
    the warehouse, one swap, under the writer's lock): each file in the order given, exactly as
    if loaded one after another (its own batch, rejected rows, counts), but all or nothing. A
    file that cannot be loaded as a whole (missing, unreadable, not this kind) refuses them all
    and nothing is written; the error names the file. `sheet` applies to the Excel files;
    `progress(path, step)` is told each file's steps."""
    db, paths = _existing(db), [Path(p) for p in paths]
    if not paths:
        raise LoadError("没有要导入的文件")
    for p in paths:  # what can be told without reading: before the warehouse is copied
        _check_file(p)
    step = progress or (lambda path, name: None)
    with _writing_with_key(db) as (con, key):
        results = []
        for p in paths:
            try:
                results.append(load(con, kind, p, sheet=sheet if p.suffix.lower() in XLSX_SUFFIXES else None,
                                    crs=crs, hash_key=key, mapping=mapping, as_of=as_of, refresh_views=False,
                                    progress=lambda name, p=p: step(p, name)))
            except (LoadError, ReadError) as e:
                raise type(e)(_refused(p, str(e), len(paths))) from None
        clock = _Clock()
        create_views(con)  # once for all the files: case_history is rebuilt from every stored case
        clock.lap("views")
        results[-1].seconds.update(clock.steps)
        results[-1].cpu_seconds.update(clock.cpu)
        return results


def _existing(db: str | Path) -> Path:
    db = Path(db)
    if not db.exists():
        raise LoadError(f"{db} 不存在; 请先创建: minqing --db {db} init --district 区县代码或名称")
    return db


@contextlib.contextmanager
def _writing_with_key(db: Path):
    """(the writable copy of the warehouse, its hash key): etl.db.writing, and the key checked
    against the fingerprint the warehouse records."""
    from .db import writing
    from .keys import read_key

    with writing(db) as con:
        fp = dict(con.execute("SELECT key, value FROM meta").fetchall()).get("key_fingerprint")
        yield con, read_key(db, fp)


def _check_file(path: Path) -> None:
    """A file given to load_files exists, is a file we can open and of a type the readers know."""
    if not path.is_file():
        raise LoadError(_refused(path, f"{path}: 文件不存在或不是文件"))
    try:
        check_type(path)
        with path.open("rb") as f:
            f.read(1)
    except ReadError as e:
        raise LoadError(_refused(path, str(e))) from None
    except OSError as e:
        raise LoadError(_refused(path, f"{path}: 无法读取 ({e.strerror})")) from None


def _refused(path: Path, message: str, n: int | None = None) -> str:
    """A whole file's error in a load of several: the file named, and that none of them was loaded."""
    named = message if str(path) in message else f"{path}: {message}"
    return named + "; 本次导入的文件均未导入, 数据仓库未改动" + (f" (共 {n} 个文件)" if n else "")


def _check_mapping(spec: Kind, mapping: dict[str, str], path: Path) -> dict[str, str]:
    """User header -> canonical field name; the target may be a field name or its Chinese label."""
    by_label = {normalise_header(f.label): f.name for f in spec.fields} | {f.name: f.name for f in spec.fields}
    out = {}
    for header, target in mapping.items():
        name = by_label.get(normalise_header(target))
        if name is None:
            raise LoadError(f"--mapping: {header!r} = {target!r}: {spec.name} 没有字段 {target!r}; "
                            f"可用字段: {', '.join(f.name + '/' + f.label for f in spec.fields)}")
        out[header] = name
    return out


def _check_crs(spec: Kind, crs: str) -> None:
    """Points take a map datum; boundary files an EPSG code or their own .prj."""
    if crs not in DATUMS and spec.placed:
        raise LoadError(f"--crs {crs!r} 不适用于 {spec.name} 的坐标点; 可选: {', '.join(DATUMS)}")
    if spec.geometry and crs in ("gcj02", "bd09"):
        raise LoadError(f"--crs {crs} 只用于坐标点; 边界文件请给出 EPSG 代码 (如 EPSG:4490) 或随文件提供 .prj")


def _check_columns(spec: Kind, raw: RawTable, overrides: dict[str, str], path: Path) -> dict[str, int]:
    """Canonical field -> column of the file; every required field present, shapes for a geometry kind."""
    columns = match_headers(spec.fields, raw.headers, overrides)
    missing = [f for f in spec.fields if f.required and f.name not in columns]
    if missing:
        need = "; ".join(f"{f.label} (或 {'/'.join(f.aliases[:4]) or f.name})" for f in missing)
        raise LoadError(f"{path}: 缺少必填字段 {need}; 文件中的表头: {', '.join(raw.headers)}")
    if spec.geometry and "_wkb" not in raw.table.column_names:
        raise LoadError(f"{path}: {spec.name} 需要带几何图形的文件 (GeoJSON, Shapefile, GeoPackage)")
    return columns


def _staging_params(spec: Kind, hash_key: str | None, now: dt.datetime) -> dict:
    """The parameters of the kind's staging SQL: the hash key for personal data, and its own."""
    p: dict = {}
    if spec.personal:
        if not hash_key:
            raise LoadError(f"loading {spec.name} needs the warehouse's hash key (etl.keys.read_key)")
        p["hash_key"] = hash_key
    if spec.params:
        p.update(spec.params(now))
    return p


def _source_crs(crs: str | None) -> str | None:
    """The CRS of a geometry file's shapes (its .prj, GeoJSON's CRS84, or --crs): None for lon/lat
    (WGS84, CGCS2000, CRS84); otherwise a definition PROJ understands."""
    if not crs:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        c = CRS.from_user_input(crs)
    except CRSError:
        raise LoadError(f"无法识别的坐标系 {crs!r}; 请用 EPSG 代码, 如 --crs EPSG:4545 (CGCS2000 3度带 108°E)") from None
    if c.is_geographic:
        return None
    code = c.to_epsg(min_confidence=70)
    return f"EPSG:{code}" if code else c.to_wkt()


