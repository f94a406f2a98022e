"""Create a warehouse for one district from the shipped NBS codes and county outline."""

from __future__ import annotations

import datetime as dt
import duckdb

from . import divisions
from .db import run_sql_file
from .keys import fingerprint_of

SCHEMA_VERSION = "1"


def init_warehouse(con: duckdb.DuckDBPyConnection, district: str, *, key: str, demo: bool = False) -> divisions.District:
    """Create every table and fill `areas` with the district, its towns and villages (real codes and names).

    `key` is the warehouse's hash key (etl.keys.create_key). The district carries its real outline; towns and villages get geometry when a boundary
    file is loaded (`minqing load areas`) or, in the demo, synthetic geometry.
    """
    d = divisions.resolve_district(district)
    run_sql_file(con, "schema")
    outline = divisions.county_outline(d.code)
    towns = divisions.towns(d.code)
    villages = divisions.villages(d.code)
    con.execute(
        "INSERT INTO areas (code, name, level, parent_code, geom) VALUES (?, ?, 'district', NULL, ST_GeomFromWKB(?))",
        [d.code, d.name, outline.wkb],
    )
    con.executemany(
        "INSERT INTO areas (code, name, level, parent_code) VALUES (?, ?, 'town', ?)",
        [(c, n, d.code) for c, n in zip(towns["code"], towns["name"])],
    )
    con.executemany(
        "INSERT INTO areas (code, name, level, parent_code) VALUES (?, ?, 'village', ?)",
        [(c, n, t) for c, n, t in zip(villages["code"], villages["name"], villages["town_code"])],
    )
    meta = {
        "schema_version": SCHEMA_VERSION,
        "district_code": d.code,
        "district_name": d.name,
        "district_full_name": d.full_name,
        "created_at": dt.datetime.now().replace(microsecond=0).isoformat(),
        "demo": "true" if demo else "false",
        # The key itself lives beside the warehouse (etl.keys), only its fingerprint here.
        "key_fingerprint": fingerprint_of(key),
    }
    con.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
    from .metrics import create_views

    create_views(con)  # case_facts, household_facts: the metric definitions, for SQL users
    return d


def meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM meta").fetchall())
