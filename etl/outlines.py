"""Outlines a district really has, run after every load of boundary files (etl/kinds.py):
towns (and the district) without an outline of their own get the union of their villages'
(etl/sql/int_area_outlines.sql), and the load report says how many, with how many features the
reader had to repair."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from .db import run_sql_file

if TYPE_CHECKING:
    from .kinds import MergeContext


def derive(con: duckdb.DuckDBPyConnection, ctx: MergeContext) -> dict[str, int]:
    """Derive the missing outlines; notes: repaired_geometry (loaded features made valid) and
    derived_outlines (towns or the district given their villages' union)."""
    run_sql_file(con, "int_area_outlines")
    derived = con.execute("SELECT count(*) FROM derived_outlines").fetchone()[0]
    repaired = con.execute("SELECT count(*) FROM staged WHERE _reason IS NULL AND list_contains(?, _line)",
                           [list(ctx.repaired)]).fetchone()[0]
    return {k: v for k, v in (("repaired_geometry", repaired), ("derived_outlines", derived)) if v}
