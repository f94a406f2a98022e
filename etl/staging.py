"""The first steps of a load: one text column per canonical field (raw_rows, every text cell
already masked by etl/privacy.py), the kind's staging SQL (stg_<kind>: cast, parse, validate)
and, at the end, the rejected rows with their original content masked.

Which rule masks a cell (`_cell_rules`, the one place deciding it): the personal fields
(petitioner, phone, id_number, head, name) keep their raw value only inside the TEMP tables,
for their dedicated masks and keyed hashes in the staging SQL (macros mask_name, mask_phone,
mask_id, keyed_hash); an id field (`*_id`) holding a phone or ID number is pseudonymised; every
other text cell, and every cell kept in rejected_rows.raw, goes through privacy.mask_text with
the row's own names. Typed fields (dates, numbers, coordinates, flags) are staged as written.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from . import privacy, terms, vocab
from .db import run_sql_file
from .fields import normalise_header
from .kinds import Kind
from .readers import READER_COLUMNS, RawTable
from .warehouse import upgrade_schema
from geo.datum import to_wgs84


def stage(con: duckdb.DuckDBPyConnection, spec: Kind, raw: RawTable, columns: dict[str, int],
          geom_source: str | None, params: dict, key: str | None = None) -> None:
    """Run the kind's staging SQL on the file: TEMP TABLE stg_<kind>, one row per input row with
    _reason/_field/_message set on rejects. `columns`: canonical field -> column of the file;
    `geom_source`: the CRS of a geometry file's shapes (None: lon/lat); `params`: the SQL's;
    `key`: the warehouse's hash key, for the pseudonyms of ids."""
    _prepare(con, spec)
    _stage_raw(con, spec, raw, columns, geom_source, key)
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
                   batch_id: int, key: str | None = None) -> dict[str, int]:
    """Copy the rejected rows of `staged` into rejected_rows, each with its original row masked;
    return the count per reason."""
    import pyarrow.compute as pc

    lines = con.execute("SELECT _line FROM staged WHERE _reason IS NOT NULL").fetchnumpy()["_line"]
    t = raw.table
    rejected = t.filter(pc.is_in(t.column("_line"), pa.array(np.asarray(lines), t.schema.field("_line").type)))
    con.register("raw_kept", _kept_source(spec, rejected, columns, key))
    try:
        con.execute(
            f"""INSERT INTO rejected_rows
                SELECT ?, s._line, s._reason, s._field, s._message, {_raw_json(spec, raw, columns)}
                FROM staged s JOIN raw_kept r ON r._line = s._line
                WHERE s._reason IS NOT NULL ORDER BY s._line""",
            [batch_id],
        )
    finally:
        con.unregister("raw_kept")
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
               geom_source: str | None, key: str | None) -> None:
    """raw_rows: one VARCHAR column per canonical field (NULL if absent), masked by its rule
    (`_cell_rules`), _line, the reader's _error_reason and _error and, for geometry files, _geom."""
    t = raw.table
    names = _data_columns(raw)
    rules = _cell_rules(spec, names, columns)
    own = _row_names(spec, t, names, columns)
    cols = {c: t.column(c) for c in ("_line", "_error_reason", "_error")}
    for f in spec.fields:
        if f.name in columns:
            col = names[columns[f.name]]
            cols[f.name] = _masked(t.column(col), rules[col], own, key)
        else:
            cols[f.name] = pa.nulls(t.num_rows, pa.string())
    if "_wkb" in t.column_names:
        cols["_wkb"] = t.column("_wkb")
    con.register("raw_arrow", pa.table(cols))
    try:
        select = [f'"{_q(c)}"' for c in cols if c != "_wkb"]
        if "_wkb" in cols:
            select.append(_geom_expr(geom_source))
        con.execute(f"CREATE OR REPLACE TEMP TABLE raw_rows AS SELECT {', '.join(select)} FROM raw_arrow")
    finally:
        con.unregister("raw_arrow")


def _cell_rules(spec: Kind, names: list[str], columns: dict[str, int]) -> dict[str, str]:
    """Column of the file -> how its cells are masked: 'phone', 'id_number', 'name' (the personal
    fields and unmatched columns whose header looks personal: the SQL masks, on the raw value),
    'id' (pseudonymised), 'typed' (staged as written), 'text' (privacy.mask_text; unmatched
    columns too). In rejected_rows.raw, 'typed' cells are masked as text as well."""
    field_of = {names[i]: spec.field(f) for f, i in columns.items()}
    rules = {}
    for n in names:
        f = field_of.get(n)
        if f is None:
            rules[n] = "name" if _looks_personal(n) else "text"
        elif f.personal:
            rules[n] = f.name if f.name in ("phone", "id_number") else "name"
        elif f.type != "text":
            rules[n] = "typed"
        elif privacy.is_identifier(f.name):
            rules[n] = "id"
        else:
            rules[n] = "text"
    return rules


def _row_names(spec: Kind, t: pa.Table, names: list[str], columns: dict[str, int]) -> privacy.RowNames:
    """The row's own names (petitioner, household head, cadre), masked wherever they appear;
    split once for every column of the file."""
    return privacy.RowNames([t.column(names[columns[f.name]]) for f in spec.fields
                             if f.personal and f.name not in ("phone", "id_number") and f.name in columns])


def _masked(col, rule: str, own: privacy.RowNames, key: str | None):
    if rule == "id":
        return privacy.pseudonymise_array(col, key)
    if rule == "text":
        return privacy.mask_array(col, own)
    return col  # personal (masked by the staging SQL) or typed


def _kept_source(spec: Kind, t: pa.Table, columns: dict[str, int], key: str | None) -> pa.Table:
    """Rows of the file as rejected_rows keeps them: every cell masked (the personal ones by the
    SQL in _raw_json), ids pseudonymised, typed cells masked as text."""
    names = [n for n in t.column_names if n not in READER_COLUMNS]
    rules = _cell_rules(spec, names, columns)
    own = _row_names(spec, t, names, columns)
    out = {"_line": t.column("_line")}
    for n in names:
        rule = rules[n]
        out[n] = _masked(t.column(n), "text" if rule == "typed" else rule, own, key)
    return pa.table(out)


def _data_columns(raw: RawTable) -> list[str]:
    return [n for n in raw.table.column_names if n not in READER_COLUMNS]


def _geom_expr(source: str | None) -> str:
    """Geometry in lon/lat from the file's CRS (`source`; None when already lon/lat)."""
    base = "TRY(ST_GeomFromWKB(_wkb))"
    if source is None:
        return f"ST_MakeValid({base}) AS _geom"
    return f"ST_MakeValid(ST_Transform({base}, '{_q_lit(source)}', 'EPSG:4326', always_xy := true)) AS _geom"


def _raw_json(spec: Kind, raw: RawTable, columns: dict[str, int]) -> str:
    """SQL for the original row as JSON (the file's own headers) from `_kept_source`'s table `r`:
    the personal values masked here, every other cell already masked there."""
    names = _data_columns(raw)
    sql_mask = {"phone": "mask_phone", "id_number": "mask_id", "name": "mask_name"}
    parts = []
    for n, rule in _cell_rules(spec, names, columns).items():
        col = f'r."{_q(n)}"'
        expr = f"{sql_mask[rule]}({col})" if rule in sql_mask else col
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
    headers, every cell masked (for a preview before loading; without the warehouse's key an id
    holding a phone or ID number shows masked instead of pseudonymised)."""
    from .db import connect

    con = connect()
    try:
        run_sql_file(con, "macros")
        con.register("raw_kept", _kept_source(spec, raw.table.slice(0, limit), columns, None))
        rows = con.execute(f"SELECT {_raw_json(spec, raw, columns)} FROM raw_kept r ORDER BY r._line").fetchall()
    finally:
        con.close()
    import json

    return [json.loads(r) for (r,) in rows]
