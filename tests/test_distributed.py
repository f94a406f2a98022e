"""Beyond one machine (docs/scaling.md): the product's placement and aggregation rerun on
dask-geopandas over a dask.distributed LocalCluster, from the GeoParquet the warehouse
exports, give exactly the product's results."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest

pytest.importorskip("dask_geopandas")
from distributed import Client, LocalCluster  # noqa: E402

from bench.distributed import compare_with_warehouse, export_geoparquet, place_and_count  # noqa: E402


@pytest.fixture(scope="module")
def exported(con, tmp_path_factory):
    return export_geoparquet(con, tmp_path_factory.mktemp("geoparquet"), row_group_size=500, files=3)


@pytest.fixture(scope="module")
def client():
    # In-process workers: starts in well under a second; the same code runs on a real cluster.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as c:
        yield c


def test_the_export_is_geoparquet_with_every_village_and_case(con, exported):
    villages = gpd.read_parquet(exported["villages"])
    assert villages.crs is not None and villages.crs.equals("OGC:CRS84")
    assert len(villages) == con.execute("SELECT count(*) FROM areas WHERE level = 'village'").fetchone()[0]
    cases = gpd.read_parquet(exported["cases"])
    assert len(cases) == con.execute("SELECT count(*) FROM cases").fetchone()[0]
    assert cases["case_id"].is_unique
    assert cases.geometry.notna().sum() == con.execute("SELECT count(*) FROM cases WHERE lon IS NOT NULL").fetchone()[0]
    assert len(list(exported["cases"].glob("part-*.parquet"))) == 3


@pytest.mark.parametrize("period", [(dt.date(2024, 1, 1), dt.date(2026, 10, 31)), (dt.date(2025, 3, 1), dt.date(2025, 8, 31))])
def test_distributed_placement_and_counts_equal_the_product(con, exported, client, period):
    placements, counts = place_and_count(exported["cases"], exported["villages"], client)
    diff = compare_with_warehouse(con, placements, counts, *period)
    assert diff["cases_with_point"] > 500 and diff["villages"] > 500
    assert diff["placement_differences"] == 0
    assert diff["count_differences"] == 0
    received = con.execute("SELECT count(*) FROM cases WHERE length(area_code) = 12 AND received_at::DATE BETWEEN ? AND ?",
                           list(period)).fetchone()[0]
    assert diff["cases_counted"] == received > 0


def test_a_moved_point_is_placed_where_it_now_lies(con, exported, client, tmp_path):
    """The distributed side really places points (it does not copy the product's answer)."""
    cases = gpd.read_parquet(exported["cases"])
    villages = gpd.read_parquet(exported["villages"])
    i = cases.index[cases.geometry.notna()][0]
    other = villages[villages["code"] != cases.at[i, "area_code"]].iloc[0]
    cases.loc[i, "geometry"] = other.geometry.representative_point()
    (tmp_path / "cases").mkdir()
    cases.to_parquet(tmp_path / "cases" / "part-000.parquet")
    placements, _ = place_and_count(tmp_path / "cases", exported["villages"], client)
    got = placements.set_index("case_id")["area_code"]
    assert got[cases.at[i, "case_id"]] == other["code"] != cases.at[i, "area_code"]
