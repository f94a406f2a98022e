"""Beyond one machine: the product's placement and aggregation on dask-geopandas.

A province that outgrows one machine keeps DuckDB per warehouse for the dashboard, but
runs the heavy batch steps on an existing distributed engine: the warehouse is exported
as GeoParquet (`export_geoparquet`), and dask-geopandas on a dask.distributed cluster
places each case point in its village (a spatial join, partition by partition) and counts
cases per village (`place_and_count`). The same code runs on a LocalCluster (the test) or
on a cluster of many machines (`Client("tcp://scheduler:8786")`), reading the files from
shared storage. `compare_with_warehouse` checks the result against the product's own
placement (cases.area_code) and aggregation (analysis.metrics.case_metrics_by).
See docs/scaling.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd


def export_geoparquet(con: duckdb.DuckDBPyConnection, out_dir: str | Path, *, row_group_size: int = 100_000,
                      files: int = 4) -> dict[str, Path]:
    """Write `villages.parquet` (code, name, town_code, geometry) and `cases/part-*.parquet`
    (case_id, received_date, category, area_code, placement, geometry: the case's trusted
    WGS84 point or NULL) as GeoParquet, with DuckDB's own writer (GEOMETRY columns get the
    GeoParquet `geo` metadata). Cases are split into `files` files (at least) so workers read
    them in parallel."""
    out = Path(out_dir)
    (out / "cases").mkdir(parents=True, exist_ok=True)
    villages = out / "villages.parquet"
    con.execute(f"""COPY (SELECT code, name, parent_code AS town_code, geom AS geometry FROM areas
                         WHERE level = 'village' AND geom IS NOT NULL ORDER BY code)
                   TO '{_lit(villages)}' (FORMAT parquet)""")
    n = con.execute("SELECT count(*) FROM cases").fetchone()[0]
    per_file = max(1, -(-n // files))
    for i in range(files):
        con.execute(f"""COPY (SELECT case_id, CAST(received_at AS DATE) AS received_date, category, area_code, placement,
                                     CASE WHEN lon IS NOT NULL AND lat IS NOT NULL THEN ST_Point(lon, lat) END AS geometry
                              FROM cases ORDER BY case_id LIMIT {per_file} OFFSET {i * per_file})
                       TO '{_lit(out / "cases" / f"part-{i:03d}.parquet")}' (FORMAT parquet, ROW_GROUP_SIZE {row_group_size})""")
    return {"villages": villages, "cases": out / "cases"}


def place_and_count(cases_path: str | Path, villages_path: str | Path, client=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Place every case point in the village containing it and count cases per village.

    Runs on the dask.distributed `client` given (or the default scheduler). Returns
    (placements: case_id, area_code for the cases with a point; counts: area_code,
    received_date, cases). Cases without a point keep the area the product gave them by
    code or name (that matching is the product's, not re-implemented here). A point on a
    border shared by two villages goes to the smaller code, as in the product's placement.
    """
    import dask.dataframe as dd
    import dask_geopandas
    import geopandas as gpd

    villages = gpd.read_parquet(villages_path, columns=["code", "geometry"])  # small: sent whole to every partition
    cases = dask_geopandas.read_parquet(str(cases_path))
    has_point = ~cases.geometry.isna()
    joined = cases[has_point].sjoin(villages, how="inner", predicate="within")  # dask-geopandas: inner only
    meta = pd.DataFrame({"case_id": pd.Series(dtype="str"), "area_code": pd.Series(dtype="str"),
                         "received_date": pd.Series(dtype="object")})
    placed = joined.map_partitions(_first_village, meta=meta)
    rest = cases[~has_point][["case_id", "area_code", "received_date"]]  # no geometry column left: plain dask
    everything = dd.concat([placed, rest])
    counts = everything.groupby(["area_code", "received_date"]).size().rename("cases").reset_index()
    if client is not None:
        placements, counts = client.gather(client.compute([placed[["case_id", "area_code"]], counts]))
    else:
        placements, counts = dd.compute(placed[["case_id", "area_code"]], counts)
    return placements.reset_index(drop=True), counts.reset_index(drop=True)


def cases_per_village(counts: pd.DataFrame, start: dt.date, end: dt.date) -> pd.Series:
    """Cases received in [start, end] per village code, from `place_and_count`'s counts."""
    d = pd.to_datetime(counts["received_date"]).dt.date
    sel = counts[(d >= start) & (d <= end) & (counts["area_code"].str.len() == 12)]
    return sel.groupby("area_code")["cases"].sum().astype("int64").sort_index()


def compare_with_warehouse(con: duckdb.DuckDBPyConnection, placements: pd.DataFrame, counts: pd.DataFrame,
                           start: dt.date, end: dt.date) -> dict:
    """Differences between the distributed result and the product's own (both should be empty):
    cases placed in another village than cases.area_code, and villages whose count differs
    from analysis.metrics.case_metrics_by(con, CaseFilter(start, end), 'village')['received']."""
    from analysis import metrics
    from analysis.filters import CaseFilter

    stored = con.execute("SELECT case_id, area_code FROM cases WHERE lon IS NOT NULL").df()
    m = stored.merge(placements, on="case_id", how="outer", suffixes=("_product", "_dask"), indicator=True)
    placement_diff = m[(m["_merge"] != "both") | (m["area_code_product"] != m["area_code_dask"])]
    product = metrics.case_metrics_by(con, CaseFilter(start, end), "village").set_index("code")["received"]
    dask_counts = cases_per_village(counts, start, end).reindex(product.index, fill_value=0)
    count_diff = product[product != dask_counts]
    return {"cases_with_point": len(stored), "placement_differences": len(placement_diff),
            "villages": len(product), "count_differences": len(count_diff),
            "cases_counted": int(dask_counts.sum())}


def _first_village(df: pd.DataFrame) -> pd.DataFrame:
    """One village per case (the smallest code when a point lies on a shared border)."""
    df = df.sort_values(["case_id", "code"]).drop_duplicates("case_id")
    return pd.DataFrame({"case_id": df["case_id"].to_numpy(), "area_code": df["code"].to_numpy(),
                         "received_date": df["received_date"].to_numpy()})


def _lit(p: Path) -> str:
    return str(p).replace("'", "''")
