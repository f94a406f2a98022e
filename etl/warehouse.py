"""Create a warehouse for one district (or a whole province or city) from the shipped NBS codes and county outlines."""

from __future__ import annotations

import datetime as dt
import duckdb
import pyarrow as pa

from . import divisions
from .db import run_sql_file
from .keys import fingerprint_of
from .migrations import latest as latest_schema


def init_warehouse(con: duckdb.DuckDBPyConnection, district: str, *, key: str, demo: bool = False) -> divisions.District:
    """Create every table and fill `areas` with the district, its towns and villages (real codes and names).

    `key` is the warehouse's hash key (etl.keys.new_warehouse). The district carries its real outline; towns and villages get geometry when a boundary
    file is loaded (`minqing load areas`) or, in the demo, synthetic geometry.
    """
    d = divisions.resolve_district(district)
    _create(con, d.code, d.name, d.full_name, divisions.county_outline(d.code),
            divisions.towns(d.code), divisions.villages(d.code), key=key, demo=demo)
    return d


def init_region_warehouse(con: duckdb.DuckDBPyConnection, region: str, *, key: str) -> divisions.Region:
    """Like `init_warehouse` for a whole province or city (`region`: code or name, see
    divisions.resolve_region): every town and village under it.

    The root area (level 'district' in `areas`, the outline boundary files are checked
    against) is the province or city itself, with the union of its counties' outlines;
    counties are not rows of `areas` (a town's first 6 digits are its county).
    `meta.region_level` says which (province, city or county).
    """
    r = divisions.resolve_region(region)
    _create(con, r.code, r.name, r.full_name, divisions.region_outline(r.code),
            divisions.towns_within(r.code), divisions.villages_within(r.code), key=key, demo=False,
            extra={"region_level": r.level})
    return r


def _create(con: duckdb.DuckDBPyConnection, code: str, name: str, full_name: str, outline, towns, villages, *,
            key: str, demo: bool, extra: dict[str, str] | None = None) -> None:
    run_sql_file(con, "schema")
    con.execute(
        "INSERT INTO areas (code, name, level, parent_code, geom) VALUES (?, ?, 'district', NULL, ST_GeomFromWKB(?))",
        [code, name, outline.wkb],
    )
    # Town parents are the root (a county code under a province or city is not an area row).
    rows = pa.table({
        "code": pa.array([*towns["code"], *villages["code"]], pa.string()),
        "name": pa.array([*towns["name"], *villages["name"]], pa.string()),
        "level": pa.array(["town"] * len(towns) + ["village"] * len(villages), pa.string()),
        "parent_code": pa.array([code] * len(towns) + list(villages["town_code"]), pa.string()),
    })
    con.register("_init_areas", rows)  # one bulk insert: executemany takes seconds per 10,000 rows
    con.execute("INSERT INTO areas (code, name, level, parent_code) SELECT * FROM _init_areas")
    con.unregister("_init_areas")
    meta = {
        "schema_version": str(latest_schema()),  # schema.sql is always the newest schema (etl/migrations)
        "district_code": code,
        "district_name": name,
        "district_full_name": full_name,
        "created_at": dt.datetime.now().replace(microsecond=0).isoformat(),
        "demo": "true" if demo else "false",
        # The key itself lives beside the warehouse (etl.keys), only its fingerprint here.
        "key_fingerprint": fingerprint_of(key),
        **(extra or {}),
    }
    con.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
    from .views import create_views

    create_views(con)  # case_facts, household_facts: the metric definitions, for SQL users


def meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM meta").fetchall())


def upgrade_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Columns added since a warehouse was created (old files keep working after an upgrade)."""
    con.execute("ALTER TABLE areas ADD COLUMN IF NOT EXISTS derived_geom BOOLEAN DEFAULT false")
    # the terms as written (etl/terms.py); older cases were stored under vocabulary terms only
    for d in ("channel", "category", "status", "satisfaction"):
        con.execute(f"ALTER TABLE cases ADD COLUMN IF NOT EXISTS {d}_raw VARCHAR")
        con.execute(f"UPDATE cases SET {d}_raw = {d} WHERE {d}_raw IS NULL AND {d} IS NOT NULL")
    con.execute("""CREATE TABLE IF NOT EXISTS vocab_map (domain VARCHAR NOT NULL, term VARCHAR NOT NULL,
                   mapped_to VARCHAR NOT NULL, mapped_at TIMESTAMP NOT NULL, PRIMARY KEY (domain, term))""")
