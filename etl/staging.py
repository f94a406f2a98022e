"""The first steps of a load: the file as read (raw_src), one text column per canonical field
(raw_rows), the kind's staging SQL (stg_<kind>: cast, parse, validate) and, at the end, the
rejected rows with their original content masked."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from . import terms, vocab
from .db import run_sql_file
from .fields import normalise_header
from .kinds import Kind
from .readers import READER_COLUMNS, RawTable
from .warehouse import upgrade_schema
from geo.datum import to_wgs84


def stage(con: duckdb.DuckDBPyConnection, spec: Kind, raw: RawTable, columns: dict[str, int],
          geom_source: str | None, params: dict) -> None:
    """Run the kind's staging SQL on the file: TEMP TABLE stg_<kind>, one row per input row with
    _reason/_field/_message set on rejects. `columns`: canonical field -> column of the file;
    `geom_source`: the CRS of a geometry file's shapes (None: lon/lat); `params`: the SQL's."""
    _prepare(con, spec)
    _stage_raw(con, spec, raw, columns, geom_source)
    terms.stage_resolution(con, terms.kept_fields(spec))
    run_sql_file(con, spec.staging, **params)


def reject_unreadable_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Rows the reader rejected (too many cells, an unclosed quote, a geometry it could not build)
    keep the reader's reason, whatever staging made of them."""
    con.execute("""
        UPDATE staged SET _reason = r._error_reason, _message = r._error,
            _field = CASE WHEN r._error_reason = 'bad_geometry' THEN 'geometry' END
        FROM raw_rows r WHERE r._line = staged._line AND r._error_reason IS NOT NULL""")


def record_rejects(con: duckdb.DuckDBPyConnection, spec: Kind, raw: RawTable, columns: dict[str, int],
                   batch_id: int) -> dict[str, int]:
    """Copy the rejected rows of `staged` into rejected_rows; return the count per reason."""
    con.execute(
        f"""INSERT INTO rejected_rows
            SELECT ?, s._line, s._reason, s._field, s._message, {_raw_json(spec, raw, columns)}
            FROM staged s JOIN raw_src r ON r._line = s._line
            WHERE s._reason IS NOT NULL ORDER BY s._line""",
        [batch_id],
    )
    rej = con.execute("SELECT _reason, count(*) FROM staged WHERE _reason IS NOT NULL GROUP BY 1 ORDER BY 1").fetchall()
    return {r: n for r, n in rej}


def _prepare(con: duckdb.DuckDBPyConnection, spec: Kind) -> None:
    """Columns added since the warehouse was created, the helper macros, the datum functions and
    the vocabularies of the kind's fields (vocab_terms)."""
    upgrade_schema(con)
    run_sql_file(con, "macros")
    _register_datum_functions(con)
    domains = dict.fromkeys(f.vocab for f in spec.fields if f.vocab)
    rows = [(d, spelling, t) for d in domains for spelling, t in vocab.synonym_map(d).items()]  # spellings come normalised
    con.execute("CREATE OR REPLACE TEMP TABLE vocab_terms (domain VARCHAR, spelling VARCHAR, term VARCHAR)")
    if rows:
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


def _stage_raw(con: duckdb.DuckDBPyConnection, spec: Kind, raw: RawTable, columns: dict[str, int],
               geom_source: str | None) -> None:
    """raw_src: the file as read; raw_rows: one VARCHAR column per canonical field (NULL if
    absent), _line, the reader's _error_reason and _error and, for geometry files, _geom."""
    t = raw.table
    names = _data_columns(raw)
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
        select.append(_geom_expr(geom_source))
    con.execute(f"CREATE OR REPLACE TEMP TABLE raw_rows AS SELECT {', '.join(select)} FROM raw_src")


def _data_columns(raw: RawTable) -> list[str]:
    return [n for n in raw.table.column_names if n not in READER_COLUMNS]


def _geom_expr(source: str | None) -> str:
    """Geometry in lon/lat from the file's CRS (`source`; None when already lon/lat)."""
    base = "TRY(ST_GeomFromWKB(_wkb))"
    if source is None:
        return f"ST_MakeValid({base}) AS _geom"
    return f"ST_MakeValid(ST_Transform({base}, '{_q_lit(source)}', 'EPSG:4326', always_xy := true)) AS _geom"


def _raw_json(spec: Kind, raw: RawTable, columns: dict[str, int]) -> str:
    """SQL for the original row as JSON (the file's own headers), every personal value masked."""
    names = _data_columns(raw)
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
    h = normalise_header(header)
    return any(w in h for w in _PERSONAL_HEADERS)


def _q(name: str) -> str:
    return name.replace('"', '""')


def _q_lit(name: str) -> str:
    return name.replace("'", "''")


def masked_preview(spec: Kind, raw: RawTable, columns: dict[str, int], limit: int = 20) -> list[dict]:
    """The first `limit` rows of the file as rejected_rows would keep them: the file's own
    headers, every personal value masked (for a preview before loading)."""
    from .db import connect

    con = connect()
    try:
        run_sql_file(con, "macros")
        con.register("raw_src", raw.table.slice(0, limit).drop_columns(
            [c for c in ("_wkb",) if c in raw.table.column_names]))
        rows = con.execute(f"SELECT {_raw_json(spec, raw, columns)} FROM raw_src r ORDER BY r._line").fetchall()
    finally:
        con.close()
    import json

    return [json.loads(r) for (r,) in rows]
