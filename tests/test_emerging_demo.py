"""Emerging hot spots on the demo: the planted patterns get Esri's categories, few false alarms."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import main
from analysis.hotspots import emerging

EXPECTED = {
    "persistent": {"persistent_hot", "intensifying_hot"},
    "emerging": {"new_hot", "consecutive_hot", "intensifying_hot"},
    "diminishing": {"diminishing_hot"},
}


@pytest.fixture(scope="module")
def categories(full_demo):
    con, truth = full_demo
    cats, bins = emerging(con)
    return cats.set_index("area_code"), bins, truth


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_planted_cluster_gets_its_category(categories, kind):
    cats, _, truth = categories
    for h in truth["hotspots"][kind]:
        got = cats.loc[h["villages"], "category"]
        # Monthly Gi* on 5-15 cases per village-month is noisy: at least 2 of the 5 villages of
        # each cluster must carry the planted category (measured on seed 20241: 2-5 of 5).
        assert got.isin(EXPECTED[kind]).sum() >= 2, got.tolist()


def test_few_false_alarms_away_from_the_planted_clusters(categories, full_demo):
    cats, _, truth = categories
    con, _ = full_demo
    planted = [v for k in EXPECTED for h in truth["hotspots"][k] for v in h["villages"]]
    near = {r[0] for r in con.execute(f"""
        SELECT DISTINCT b.code FROM areas a JOIN areas b ON b.level = 'village' AND ST_Intersects(a.geom, b.geom)
        WHERE a.code IN ({','.join('?' * len(planted))})""", planted).fetchall()}
    alarms = cats[(cats["category"] != "no_pattern") & ~cats.index.isin(near)]
    # measured on seed 20241: a handful of sporadic hot spots among ~480 villages far from any plant
    assert len(alarms) <= 12, alarms["category"].value_counts().to_dict()
    assert not alarms["category"].isin({"persistent_hot", "intensifying_hot", "diminishing_hot"}).any()


def test_every_month_is_a_bin(categories):
    cats, bins, _ = categories
    assert bins["bin"].nunique() == 34  # 2024-01 .. 2026-10
    assert (cats["n_bins"] == 34).all()


def test_cli_json(full_demo_dir):
    r = CliRunner().invoke(main, ["--db", str(full_demo_dir / "demo.duckdb"), "emerging", "--level", "town", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 28 and {"area_code", "category", "label_zh", "trend"} <= set(rows[0])
