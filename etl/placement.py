"""Placement: the area of each staged row of a placed kind (etl/sql/int_placement.sql), giving
the table `staged` that the merge reads."""

from __future__ import annotations

import duckdb

from .db import run_sql_file
from .kinds import Kind

_INPUT = ("town", "village", "area_code_in", "lon_in", "lat_in")  # what staging gives placement


def place(con: duckdb.DuckDBPyConnection, spec: Kind, datum: str) -> None:
    """TEMP TABLE staged: stg_<kind> with area_code, lon, lat and placement for a placed kind (points
    in `datum`), a placement reject on rows no area fits unless the kind keeps them; else as staged."""
    if not spec.placed:
        con.execute(f"CREATE OR REPLACE TEMP TABLE staged AS SELECT * FROM {spec.staging}")
        return
    con.execute(f"""CREATE OR REPLACE TEMP VIEW to_place AS SELECT _line, {', '.join(_INPUT)}
                    FROM {spec.staging} WHERE _reason IS NULL""")
    run_sql_file(con, "int_placement", datum=datum)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE staged AS
        SELECT s.* EXCLUDE (_reason, _field, _message, {', '.join(_INPUT)}),
               p.area_code, p.lon, p.lat, p.placement,
               coalesce(s._reason, p._reason) AS _reason,
               coalesce(s._field, p._field) AS _field,
               coalesce(s._message, p._message) AS _message
        FROM {spec.staging} s LEFT JOIN placed p USING (_line)""")
    if spec.unplaced_ok:
        con.execute("UPDATE staged SET _reason = NULL, _field = NULL, _message = NULL, placement = 'none' WHERE _reason = 'unplaced'")
