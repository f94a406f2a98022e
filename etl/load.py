"""Load a user's file into the warehouse: raw -> staging -> placement -> merge.

Every input row ends in exactly one outcome: loaded (new key), updated (known key,
new content), duplicate (identical to what is stored, or repeated in the file) or
rejected into `rejected_rows` with a reason code, its line and the original row
(personal fields masked). One load is one transaction on a copy of the warehouse
that replaces the original only when everything succeeded (see etl.db.writing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from . import fields as F
from . import settings, vocab
from .db import run_sql_file
from .views import create_views, record_data_date
from .warehouse import upgrade_schema
from .readers import READER_COLUMNS, RawTable, read_file
from geo.datum import DATUMS, to_wgs84

PLACED_KINDS = {"cases", "households", "buildings", "stations", "cadres", "visits"}
POINT_CRS = DATUMS


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
) -> LoadResult:
    """Load one file of `kind` into the open warehouse `con` (caller owns the transaction).

    `hash_key` (etl.keys) is needed for kinds with personal data (cases, households, cadres).
    `mapping` maps a header of the file to a canonical field (name or Chinese label) for
    headers the built-in aliases do not know. `progress(step)` is told each step. `as_of`: the
    day the file was exported (load --as-of), kept with the load; the warehouse's 'today' is
    the later of it and the latest time in its case records (etl.views.as_of).
    """
    step = progress or (lambda name: None)
    spec = F.kind(kind)
    path = Path(path)
    overrides = _check_mapping(spec, mapping or {}, path)
    step("读取文件")
    if crs not in POINT_CRS and kind in PLACED_KINDS:
        raise LoadError(f"--crs {crs!r} 不适用于 {kind} 的坐标点; 可选: {', '.join(POINT_CRS)}")
    if kind in F.GEOMETRY_KINDS and crs in ("gcj02", "bd09"):
        raise LoadError(f"--crs {crs} 只用于坐标点; 边界文件请给出 EPSG 代码 (如 EPSG:4490) 或随文件提供 .prj")
    raw = read_file(path, sheet=sheet)
    columns = F.match_headers(spec, raw.headers, overrides)
    missing = [f for f in spec.fields if f.required and f.name not in columns]
    if missing:
        need = "; ".join(f"{f.label} (或 {'/'.join(f.aliases[:4]) or f.name})" for f in missing)
        raise LoadError(f"{path}: 缺少必填字段 {need}; 文件中的表头: {', '.join(raw.headers)}")
    if kind in F.GEOMETRY_KINDS and "_wkb" not in raw.table.column_names:
        raise LoadError(f"{path}: {kind} 需要带几何图形的文件 (GeoJSON, Shapefile, GeoPackage)")

    now = now or dt.datetime.now().replace(microsecond=0)
    batch_id = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM load_batches").fetchone()[0]
    result = LoadResult(kind, str(path), batch_id, rows_read=raw.table.num_rows, encoding=raw.encoding)
    step("校验")
    _prepare(con)
    _stage_raw(con, spec, raw, columns, crs)
    run_sql_file(con, f"stg_{kind}", **_params(kind, hash_key, now))
    staged = f"stg_{kind}"
    step("定位")
    if kind in PLACED_KINDS:
        con.execute(f"CREATE OR REPLACE TEMP VIEW to_place AS SELECT _line, town, village, area_code_in, lon_in, lat_in FROM {staged} WHERE _reason IS NULL")
        run_sql_file(con, "int_placement", datum=crs)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE staged AS
            SELECT s.* EXCLUDE (_reason, _field, _message, town, village, area_code_in, lon_in, lat_in),
                   p.area_code, p.lon, p.lat, p.placement,
                   coalesce(s._reason, p._reason) AS _reason,
                   coalesce(s._field, p._field) AS _field,
                   coalesce(s._message, p._message) AS _message
            FROM {staged} s LEFT JOIN placed p USING (_line)""")
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE staged AS SELECT * FROM {staged}")
    con.execute("""
        UPDATE staged SET _reason = r._error_reason, _message = r._error,
            _field = CASE WHEN r._error_reason = 'bad_geometry' THEN 'geometry' END
        FROM raw_rows r WHERE r._line = staged._line AND r._error_reason IS NOT NULL""")
    if kind == "cadres":  # cadres of district departments belong to no village or town
        con.execute("UPDATE staged SET _reason = NULL, _field = NULL, _message = NULL, placement = 'none' WHERE _reason = 'unplaced'")
    step("入库")
    counts = _merge(con, spec, batch_id, synthetic=synthetic, now=now)
    result.loaded, result.updated, result.duplicates = counts
    if kind == "areas":
        result.notes = _area_notes(con, raw)
    if kind == "cases":
        record_data_date(con, as_of)
    rej = con.execute("SELECT _reason, count(*) FROM staged WHERE _reason IS NOT NULL GROUP BY 1 ORDER BY 1").fetchall()
    result.reasons = {r: n for r, n in rej}
    result.rejected = sum(result.reasons.values())
    con.execute(
        f"""INSERT INTO rejected_rows
            SELECT ?, s._line, s._reason, s._field, s._message, {_raw_json(spec, raw, columns)}
            FROM staged s JOIN raw_src r ON r._line = s._line
            WHERE s._reason IS NOT NULL ORDER BY s._line""",
        [batch_id],
    )
    create_views(con)  # refresh the stored views with this version's definitions
    total = result.loaded + result.updated + result.duplicates + result.rejected
    if total != result.rows_read:  # an invariant of the loader, not a user error
        raise AssertionError(f"outcomes {total} do not add up to rows_read {result.rows_read}")
    con.execute(
        "INSERT INTO load_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [batch_id, kind, path.name, _sha256(path), now, result.rows_read, result.loaded, result.updated,
         result.duplicates, result.rejected, json.dumps({"crs": crs, "sheet": sheet, "encoding": raw.encoding, "as_of": as_of and str(as_of),
                                                         "synthetic": synthetic}, ensure_ascii=False)],
    )
    return result


def _check_mapping(spec: F.Kind, mapping: dict[str, str], path: Path) -> dict[str, str]:
    """User header -> canonical field name; the target may be a field name or its Chinese label."""
    by_label = {F.normalise_header(f.label): f.name for f in spec.fields} | {f.name: f.name for f in spec.fields}
    out = {}
    for header, target in mapping.items():
        name = by_label.get(F.normalise_header(target))
        if name is None:
            raise LoadError(f"--mapping: {header!r} = {target!r}: {spec.name} 没有字段 {target!r}; "
                            f"可用字段: {', '.join(f.name + '/' + f.label for f in spec.fields)}")
        out[header] = name
    return out


def _area_notes(con: duckdb.DuckDBPyConnection, raw: RawTable) -> dict[str, int]:
    """Derive the outlines a boundary file lacks (etl/sql/int_area_outlines.sql) and say what was done."""
    run_sql_file(con, "int_area_outlines")
    derived = con.execute("SELECT count(*) FROM derived_outlines").fetchone()[0]
    repaired = con.execute("SELECT count(*) FROM staged WHERE _reason IS NULL AND list_contains(?, _line)",
                           [raw.repaired]).fetchone()[0]
    return {k: v for k, v in (("repaired_geometry", repaired), ("derived_outlines", derived)) if v}


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    upgrade_schema(con)
    run_sql_file(con, "macros")
    _register_datum_functions(con)
    rows = [(d, vocab._norm(s), t) for d in ("channel", "category", "status", "satisfaction", "household_category", "building_kind")
            for s, t in vocab.synonym_map(d).items()]
    con.execute("CREATE OR REPLACE TEMP TABLE vocab_terms (domain VARCHAR, spelling VARCHAR, term VARCHAR)")
    con.executemany("INSERT INTO vocab_terms VALUES (?, ?, ?)", rows)


def _register_datum_functions(con: duckdb.DuckDBPyConnection) -> None:
    """datum_lon/datum_lat(lon, lat, datum): points of a Chinese map datum in WGS84 (vectorised)."""
    import pyarrow.compute as pc
    from duckdb import sqltypes

    def convert(lon: pa.Array, lat: pa.Array, datum: pa.Array, which: int) -> pa.Array:
        d = datum[0].as_py() if len(datum) else "wgs84"
        x = pc.fill_null(lon, float("nan")).to_numpy(zero_copy_only=False)
        y = pc.fill_null(lat, float("nan")).to_numpy(zero_copy_only=False)
        out = to_wgs84(x, y, d)[which]
        return pa.array(out, pa.float64(), mask=~np.isfinite(out))

    def datum_lon(lon, lat, datum):
        return convert(lon, lat, datum, 0)

    def datum_lat(lon, lat, datum):
        return convert(lon, lat, datum, 1)

    for name, fn in (("datum_lon", datum_lon), ("datum_lat", datum_lat)):
        try:
            con.remove_function(name)
        except Exception:  # not registered yet on this connection
            pass
        con.create_function(name, fn,
                            [sqltypes.DOUBLE, sqltypes.DOUBLE, sqltypes.VARCHAR], sqltypes.DOUBLE,
                            type="arrow", null_handling="special", side_effects=False)


def _stage_raw(con: duckdb.DuckDBPyConnection, spec: F.Kind, raw: RawTable, columns: dict[str, int],
               crs_override: str | None = None) -> None:
    """raw_src: the file as read; raw_rows: one VARCHAR column per canonical field (NULL if
    absent), _line, _error and, for geometry files, _geom."""
    t = raw.table
    names = [n for n in t.column_names if n not in READER_COLUMNS]
    con.register("raw_arrow", t)
    con.execute("CREATE OR REPLACE TEMP TABLE raw_src AS SELECT * FROM raw_arrow")
    con.unregister("raw_arrow")
    select = ["_line", "_error_reason", "_error"]
    for f in spec.fields:
        if f.name in columns:
            select.append(f'"{_q(names[columns[f.name]])}" AS {f.name}')
        else:
            select.append(f"CAST(NULL AS VARCHAR) AS {f.name}")
    if "_wkb" in t.column_names:
        select.append(_geom_expr(raw.crs if crs_override in (None, "wgs84", "cgcs2000") else crs_override))
    con.execute(f"CREATE OR REPLACE TEMP TABLE raw_rows AS SELECT {', '.join(select)} FROM raw_src")


def _raw_json(spec: F.Kind, raw: RawTable, columns: dict[str, int]) -> str:
    """SQL for the original row as JSON (the file's own headers), every personal value masked."""
    names = [n for n in raw.table.column_names if n not in READER_COLUMNS]
    personal = {names[i]: f for f, i in columns.items() if spec.field(f).personal}
    parts = []
    for n in names:
        col = f'r."{_q(n)}"'
        fname = personal.get(n)
        if fname == "phone":
            expr = f"mask_phone({col})"
        elif fname == "id_number":
            expr = f"mask_id({col})"
        elif fname or _looks_personal(n):
            expr = f"mask_name({col})"  # names, and columns that look personal but matched no field
        else:
            expr = f"mask_text({col})"  # a phone or ID number typed into any other cell
        parts.append(f"'{_q_lit(n)}', {expr}")
    return f"json_object({', '.join(parts)})::VARCHAR" if parts else "'{}'"


_PERSONAL_HEADERS = ("姓名", "身份证", "电话", "手机", "联系方式", "住址", "家庭住址", "证件")


def _looks_personal(header: str) -> bool:
    """Unmatched columns whose header says they hold a name, ID, phone or address."""
    h = F.normalise_header(header)
    return any(w in h for w in _PERSONAL_HEADERS)


def _geom_expr(crs: str | None) -> str:
    """Geometry in lon/lat from the file's CRS (its .prj, GeoJSON's CRS84, or --crs)."""
    base = "TRY(ST_GeomFromWKB(_wkb))"
    source = _source_crs(crs)
    if source is None:
        return f"ST_MakeValid({base}) AS _geom"
    return f"ST_MakeValid(ST_Transform({base}, '{_q_lit(source)}', 'EPSG:4326', always_xy := true)) AS _geom"


def _source_crs(crs: str | None) -> str | None:
    """None for lon/lat (WGS84, CGCS2000, CRS84); otherwise a definition PROJ understands."""
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


def _params(kind: str, hash_key: str | None, now: dt.datetime) -> dict:
    p: dict = {}
    if kind in ("cases", "households", "cadres"):
        if not hash_key:
            raise LoadError(f"loading {kind} needs the warehouse's hash key (etl.keys.read_key)")
        p["hash_key"] = hash_key
    if kind == "cases":
        p["ordinary_days"] = int(settings.get("deadline_days_ordinary"))
        p["major_days"] = int(settings.get("deadline_days_major"))
        p["latest"] = now + dt.timedelta(days=1)
    return p


def _merge(con: duckdb.DuckDBPyConnection, spec: F.Kind, batch_id: int, *, synthetic: bool, now: dt.datetime) -> tuple[int, int, int]:
    """Apply valid staged rows to the target table; return (loaded, updated, duplicates)."""
    table, key = spec.table, spec.key
    target_cols = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' ORDER BY column_index", [table]).fetchall()]
    content_cols = [c for c in target_cols if c not in ("batch_id", key, "synthetic_geom", "derived_geom")]
    if spec.name == "areas":
        content_cols = ["geom", "seat_lon", "seat_lat", "official_poor"]
    staged_cols = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'staged'").fetchall()}
    missing = [c for c in content_cols if c not in staged_cols]
    if missing:
        raise AssertionError(f"staging for {table} lacks columns {missing}")
    fp = "md5(concat_ws('\x1f', " + ", ".join(f"coalesce(CAST({c} AS VARCHAR), '\x1e')" for c in content_cols) + "))"
    fp_target = fp.replace("CAST(geom AS VARCHAR)", "ST_AsHEXWKB(geom)")
    # A key repeated in the file: the last row wins (ledgers append newer states below older
    # ones); earlier identical rows are duplicates, earlier different ones are superseded.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE keyed AS
        SELECT _line, {key} AS k, {fp_target} AS fp,
               row_number() OVER (PARTITION BY {key} ORDER BY _line DESC) AS occurrence
        FROM staged WHERE _reason IS NULL""")
    con.execute("""
        UPDATE staged SET _reason = 'superseded_in_file', _field = ?,
            _message = '同一编号在文件后面(第 ' || f._line || ' 行)有不同内容, 以后者为准'
        FROM (SELECT k.k, k._line AS this_line, f._line FROM keyed k JOIN keyed f ON f.k = k.k AND f.occurrence = 1
              WHERE k.occurrence > 1 AND k.fp <> f.fp) f
        WHERE staged._line = f.this_line""", [key])
    in_file_dupes = con.execute("SELECT count(*) FROM keyed k JOIN keyed f ON f.k = k.k AND f.occurrence = 1 WHERE k.occurrence > 1 AND k.fp = f.fp").fetchone()[0]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE incoming AS
        SELECT s.*, k.fp FROM staged s JOIN keyed k ON k._line = s._line AND k.occurrence = 1""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE outcome AS
        SELECT i._line, i.{key} AS k,
               CASE WHEN t.{key} IS NULL THEN 'loaded' WHEN i.fp = t.fp THEN 'duplicate' ELSE 'updated' END AS outcome
        FROM incoming i LEFT JOIN (SELECT {key}, {fp_target} AS fp FROM {table}) t ON t.{key} = i.{key}""")
    if spec.name == "areas":
        con.execute("UPDATE outcome SET outcome = 'updated' WHERE outcome = 'loaded'")  # areas exist from init
    if spec.name == "households":
        _household_history(con, batch_id, now)
    cols = ", ".join(content_cols)
    upd = con.execute("SELECT count(*) FROM outcome WHERE outcome = 'updated'").fetchone()[0]
    if upd:
        sets = ", ".join(f"{c} = i.{c}" for c in content_cols)
        extra = ", synthetic_geom = ?, derived_geom = false" if spec.name == "areas" else ""
        params = [batch_id, synthetic] if spec.name == "areas" else [batch_id]
        con.execute(f"""
            UPDATE {table} SET {sets}, batch_id = ?{extra}
            FROM incoming i JOIN outcome o ON o._line = i._line AND o.outcome = 'updated'
            WHERE {table}.{key} = i.{key}""", params)
    con.execute(f"""
        INSERT INTO {table} ({key}, {cols}, batch_id)
        SELECT i.{key}, {', '.join('i.' + c for c in content_cols)}, ?
        FROM incoming i JOIN outcome o ON o._line = i._line AND o.outcome = 'loaded'
        ORDER BY i._line""", [batch_id])
    if spec.name == "cases":
        _case_events(con, batch_id, now)
    loaded, updated, dup = con.execute("""
        SELECT count(*) FILTER (outcome = 'loaded'), count(*) FILTER (outcome = 'updated'),
               count(*) FILTER (outcome = 'duplicate') FROM outcome""").fetchone()
    return loaded, updated, dup + in_file_dupes


def _household_history(con: duckdb.DuckDBPyConnection, batch_id: int, now: dt.datetime) -> None:
    """Category history (SCD2): close the open record when a household's category changes."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE category_changes AS
        SELECT i.household_id, i.category, coalesce(i.category_since, CAST(? AS DATE)) AS since
        FROM incoming i JOIN outcome o ON o._line = i._line
        LEFT JOIN household_categories h ON h.household_id = i.household_id AND h.valid_to IS NULL
        WHERE o.outcome IN ('loaded', 'updated') AND (h.category IS NULL OR h.category <> i.category)""", [now.date()])
    con.execute("""
        UPDATE household_categories SET valid_to = c.since
        FROM category_changes c
        WHERE household_categories.household_id = c.household_id AND household_categories.valid_to IS NULL""")
    con.execute("INSERT INTO household_categories SELECT household_id, category, since, NULL, ? FROM category_changes", [batch_id])


def _case_events(con: duckdb.DuckDBPyConnection, batch_id: int, now: dt.datetime) -> None:
    """Append the life-cycle events a ledger row implies and the log does not have yet."""
    con.execute("""
        INSERT INTO case_events
        WITH touched AS (
            SELECT c.* FROM cases c JOIN outcome o ON o.k = c.case_id AND o.outcome IN ('loaded', 'updated')
        ),
        implied AS (
            SELECT case_id, received_at AS "at", '受理' AS status, NULL AS unit FROM touched
            UNION ALL SELECT case_id, assigned_at, '交办', handling_unit FROM touched WHERE assigned_at IS NOT NULL
            UNION ALL SELECT case_id, closed_at, '办结', handling_unit FROM touched WHERE closed_at IS NOT NULL
            UNION ALL SELECT case_id, followup_at, '已回访', NULL FROM touched WHERE followup_at IS NOT NULL
            UNION ALL SELECT case_id, CAST(? AS TIMESTAMP), status, handling_unit FROM touched
                WHERE status NOT IN ('受理')
                  AND NOT (status = '交办' AND assigned_at IS NOT NULL)
                  AND NOT (status = '办结' AND closed_at IS NOT NULL)
                  AND NOT (status = '已回访' AND followup_at IS NOT NULL)
        )
        SELECT i.case_id, i."at", i.status, i.unit, NULL, ?
        FROM implied i
        WHERE NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = i.case_id AND e.status = i.status)
        ORDER BY i.case_id, i."at"
        """, [now, batch_id])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _q(name: str) -> str:
    return name.replace('"', '""')


def _q_lit(name: str) -> str:
    return name.replace("'", "''")
