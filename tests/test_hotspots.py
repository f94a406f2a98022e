"""Hot spots: PySAL called correctly (checked against textbook formulas and published values),
and the planted hot spots of the demo found with few false alarms."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pytest
from click.testing import CliRunner
from libpysal.examples import get_path
from libpysal.weights import Queen

from cli import main
from analysis.filters import CaseFilter
from analysis.hotspots import area_hotspots, hex_hotspots
from geo.fdr import benjamini_hochberg, significance
from geo.getis_ord import classify, gi_star
from geo.moran import local_moran
from geo.rates import eb_rate, standardised_rate


def gi_classes(y, w):
    g = gi_star(y, w)
    return classify(g["Zs"], g["p"])


def test_fdr_threshold_reproduces_benjamini_hochberg_1995():
    # The 15 p-values of Benjamini & Hochberg (1995), section 4: at q = 0.05 the first four are rejected.
    p = np.array([0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
                  0.4262, 0.5719, 0.6528, 0.7590, 1.0000])
    assert benjamini_hochberg(p, 0.05) == 0.0095
    assert significance(p, 0.05)[0].tolist() == [True] * 4 + [False] * 11


def test_fdr_rejects_a_p_value_on_the_line_as_published():
    # p_(k) <= k/m * alpha: with m = 4 and alpha = 0.5 the line is 0.125 k (exact in binary), so
    # p_(3) = 0.375 is on it and the first three are rejected (esda.fdr's strict "<" rejects none).
    p = np.array([0.375, 0.125, 0.9, 0.25])
    sig, cutoff = significance(p, 0.5)
    assert sig.tolist() == [True, True, False, True] and cutoff == 0.375
    assert significance(p, 0.125, fdr=False)[0].tolist() == [False, True, False, False]  # p <= alpha


def test_gi_star_equals_the_textbook_formula_on_columbus():
    df = gpd.read_file(get_path("columbus.shp"))
    w = Queen.from_dataframe(df, use_index=False)
    x = df["CRIME"].to_numpy(dtype=float)
    got = gi_star(x, w)["Zs"].to_numpy()
    # Ord & Getis (1995) G*_i with binary weights including i itself.
    n = len(x)
    wm = np.zeros((n, n))
    for i, nb in w.neighbors.items():
        wm[i, nb] = 1.0
    np.fill_diagonal(wm, 1.0)
    xbar, s = x.mean(), np.sqrt((x ** 2).mean() - x.mean() ** 2)
    wi = wm.sum(axis=1)
    z = (wm @ x - xbar * wi) / (s * np.sqrt((n * (wm ** 2).sum(axis=1) - wi ** 2) / (n - 1)))
    assert np.allclose(got, z, atol=1e-8)


def test_gi_star_of_values_around_zero_keeps_its_sign():
    """Standardised rates sum to about zero; esda's ratio form would flip the sign of Zs when the
    sum is negative. The Ord-Getis z is shift-invariant: the same z for x and x - mean - 0.5."""
    df = gpd.read_file(get_path("columbus.shp"))
    w = Queen.from_dataframe(df, use_index=False)
    x = df["CRIME"].to_numpy(dtype=float)
    z = gi_star(x, w)["Zs"].to_numpy()
    shifted = gi_star(x - x.mean() - 0.5, w)["Zs"].to_numpy()
    assert np.allclose(z, shifted, atol=1e-8)
    assert np.corrcoef(z, x)[0, 1] > 0


def test_esri_classes_from_z_and_p():
    z = np.array([3.0, 2.0, 1.7, -2.0, 0.5])
    p = np.array([0.002, 0.04, 0.09, 0.04, 0.6])  # two-sided
    assert classify(z, p, fdr=False).tolist() == ["hot_99", "hot_95", "hot_90", "cold_95", "not_significant"]


def test_empirical_bayes_equals_marshall_1991():
    e = np.array([3, 10, 0, 25, 7], dtype=float)
    b = np.array([40, 800, 300, 1200, 500], dtype=float)
    theta = e.sum() / b.sum()
    p = e / b
    var = max((b * (p - theta) ** 2).sum() / b.sum() - theta / b.mean(), 0.0)
    shrink = var / (var + theta / b)
    expected = (theta + shrink * (p - theta)) * 1000
    got = eb_rate(e, b)
    assert np.allclose(got, expected)
    # the 40-household village with 3 cases is pulled furthest towards the district's rate
    pull = np.abs(got / 1000 - p) / np.abs(p - theta)
    assert pull.argmax() == 0


def test_assuncao_reis_rates_equal_the_published_formula():
    # Assuncao & Reis (1999): z_i = (p_i - b) / sqrt(a + b / n_i), with b = sum(e)/sum(n) and
    # a = s2 - b / mean(n), s2 = sum(n_i (p_i - b)^2) / sum(n)
    e = np.array([3, 10, 0, 25, 7], dtype=float)
    n = np.array([40, 800, 300, 1200, 500], dtype=float)
    p = e / n
    b = e.sum() / n.sum()
    a = (n * (p - b) ** 2).sum() / n.sum() - b / n.mean()
    expected = (p - b) / np.sqrt(a + b / n)
    assert np.allclose(standardised_rate(e, n), expected)


def test_no_pattern_rarely_gives_a_hot_spot():
    """Simulated cases with no spatial pattern on the Columbus map: after FDR, runs with any
    hot or cold area stay rare (a review measured over half with Gi* on EB-smoothed rates)."""
    df = gpd.read_file(get_path("columbus.shp"))
    w = Queen.from_dataframe(df, use_index=False)
    rng = np.random.default_rng(1)
    pop = rng.integers(50, 3000, len(df)).astype(float)
    runs = 100
    flagged = 0
    for _ in range(runs):
        cases = rng.poisson(pop * 0.05)
        y = standardised_rate(cases, pop)
        flagged += (gi_classes(y, w) != "not_significant").any()
    assert flagged / runs <= 0.2, flagged


def test_an_island_is_never_a_lisa_cluster():
    from libpysal.weights import W

    neighbours = {0: [1], 1: [0, 2], 2: [1, 3], 3: [2], 4: []}  # 4 is an island
    w = W(neighbours, silence_warnings=True)
    y = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    for permutations in (0, 99):
        got = local_moran(y, w, permutations=permutations, seed=0, fdr=False)
        assert got["cluster"].iloc[4] == "not_significant" and got["p"].iloc[4] == 1.0


def test_lisa_z_and_p_equal_full_enumeration_of_the_conditional_randomisation():
    """Under conditional randomisation the k neighbours of i are a random k of the other n - 1
    values. On a 4 x 4 rook lattice every such choice can be listed: the exact mean and variance
    of Anselin's I_i = z_i / m2 * mean(z of the neighbours) over all of them give the z-score,
    and the two-sided normal tail its p-value (Anselin 1995; Sokal et al. 1998)."""
    import itertools
    import math

    from libpysal.weights import lat2W

    w = lat2W(4, 4, rook=True)
    y = np.array([9.0, 7, 1, 8, 6, 2, 3, 0.5, 4, 12, 5, 5.5, 2.5, 1, 7.5, 3])
    got = local_moran(y, w, fdr=False)
    n = len(y)
    z = (y - y.mean()) / y.std()
    m2 = (z ** 2).mean()
    for i in range(n):
        nb = w.neighbors[i]
        others = [j for j in range(n) if j != i]
        draws = np.array([z[i] * z[list(c)].mean() / m2 for c in itertools.combinations(others, len(nb))])
        zi = (z[i] * z[nb].mean() / m2 - draws.mean()) / draws.std()
        assert got["z"].iloc[i] == pytest.approx(zi, abs=1e-9)
        assert got["p"].iloc[i] == pytest.approx(math.erfc(abs(zi) / math.sqrt(2)), rel=1e-9, abs=1e-15)


def test_lisa_p_passes_fdr_where_permutations_cannot():
    """A planted 3 x 3 block of high values on a 23 x 23 queen lattice (529 cells, the demo's
    village count): with 999 permutations no p can reach Benjamini-Hochberg's 0.05 / 529, the
    analytical test finds the block as High-High and nothing far from it."""
    from libpysal.weights import lat2W

    rng = np.random.default_rng(5)
    y = rng.normal(0.0, 1.0, 529)
    block = [r * 23 + c for r in range(10, 13) for c in range(10, 13)]
    y[block] += 4.0
    w = lat2W(23, 23, rook=False)
    got = local_moran(y, w, permutations=999, seed=0)
    assert got["p_sim"].min() >= 0.001 > 0.05 / 529
    hh = set(np.flatnonzero(got["cluster"] == "HH"))
    assert len(hh & set(block)) >= 5, got.loc[block, ["z", "p"]]
    ring = {r * 23 + c for r in range(8, 15) for c in range(8, 15)}
    assert set(np.flatnonzero(got["cluster"] != "not_significant")) <= ring


def test_no_pattern_rarely_gives_a_lisa_cluster():
    """As for Gi*: cases with no spatial pattern on the Columbus map; after FDR, runs with any
    LISA cluster stay rare (measured: 3.5% of 200 runs with seeds 1-3; nominal 5%)."""
    df = gpd.read_file(get_path("columbus.shp"))
    w = Queen.from_dataframe(df, use_index=False)
    rng = np.random.default_rng(1)
    pop = rng.integers(50, 3000, len(df)).astype(float)
    runs = 100
    flagged = sum((local_moran(standardised_rate(rng.poisson(pop * 0.05), pop), w)["cluster"] != "not_significant").any()
                  for _ in range(runs))
    assert flagged / runs <= 0.1, flagged


def test_flat_values_are_not_significant_anywhere():
    df = gpd.read_file(get_path("columbus.shp"))
    w = Queen.from_dataframe(df, use_index=False)
    assert set(gi_classes(np.ones(len(df)), w)) == {"not_significant"}


def _planted(truth, kind):
    return [v for h in truth["hotspots"][kind] for v in h["villages"]]


def _neighbourhood(con, codes):
    rows = con.execute(f"""SELECT DISTINCT b.code FROM areas a JOIN areas b ON b.level = 'village'
                           AND ST_Intersects(a.geom, b.geom) WHERE a.code IN ({','.join('?' * len(codes))})""", codes).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("kind, start, end", [
    ("persistent", dt.date(2024, 1, 1), dt.date(2026, 10, 31)),
    ("emerging", dt.date(2026, 1, 1), dt.date(2026, 10, 31)),
    ("diminishing", dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
])
def test_planted_hotspots_are_found_in_their_period(full_demo, kind, start, end):
    con, truth = full_demo
    df = area_hotspots(con, "village", CaseFilter(start, end)).set_index("area_code")
    planted = _planted(truth, kind)
    hot = df["class"].str.startswith("hot")
    found = hot.loc[planted].mean()
    assert found >= 0.8, df.loc[planted, ["cases", "rate_eb", "z", "class"]]
    # false alarms: hot villages that are neither planted (any kind) nor next to a planted one
    all_planted = [v for k in ("persistent", "emerging", "diminishing") for v in _planted(truth, k)]
    near = _neighbourhood(con, all_planted)
    false_alarms = set(df.index[hot]) - near
    assert len(false_alarms) <= 3, sorted(false_alarms)


@pytest.mark.parametrize("kind, start, end", [
    ("persistent", dt.date(2024, 1, 1), dt.date(2026, 10, 31)),
    ("emerging", dt.date(2026, 1, 1), dt.date(2026, 10, 31)),
    ("diminishing", dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
])
def test_lisa_finds_the_planted_hot_spots_as_high_high_under_fdr(con, demo_truth, kind, start, end):
    """The small demo (all 529 villages): with FDR over all of them, each planted cluster has
    High-High villages in its period (measured: 2-5 of 5), and High-High villages away from the
    plants and their neighbours are rare (measured: 0). With 999 permutations there were none."""
    df = area_hotspots(con, "village", CaseFilter(start, end)).set_index("area_code")
    assert len(df) == 529
    hh = set(df.index[df["lisa"] == "HH"])
    for h in demo_truth["hotspots"][kind]:
        assert len(hh & set(h["villages"])) >= 2, df.loc[h["villages"], ["rate_eb", "lisa_z", "lisa_p", "lisa"]]
    all_planted = [v for k in ("persistent", "emerging", "diminishing") for v in _planted(demo_truth, k)]
    assert len(hh - _neighbourhood(con, all_planted)) <= 1, sorted(hh - set(all_planted))
    sig = df["lisa"] != "not_significant"  # Benjamini-Hochberg: k rejected, each at most k/m * alpha
    assert (df.loc[sig, "lisa_p"] <= 0.05 * sig.sum() / len(df)).all()


def test_hexagons_cover_the_district_and_light_up_where_the_cases_are(full_demo):
    con, truth = full_demo
    df = hex_hotspots(con, 7)
    assert len(df) > 500 and (df["value"] == 0).any()  # empty cells count as zeros
    hot = df[df["class"].str.startswith("hot")]
    # Gi* judges a neighbourhood, so a quiet cell inside a busy area can be hot; on average
    # hot cells hold several times the cases of the others
    assert len(hot) > 0 and hot["value"].mean() > 3 * df.loc[~df.index.isin(hot.index), "value"].mean()


def test_cli_prints_one_object_per_area_with_the_documented_keys(full_demo_dir):
    db = str(full_demo_dir / "demo.duckdb")
    r = CliRunner().invoke(main, ["--db", db, "hotspots", "--level", "town", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 28 and {"area_code", "value", "z", "p", "class"} <= set(rows[0])
    r = CliRunner().invoke(main, ["--db", db, "hotspots", "--level", "hex", "--json", "--from", "2026-01-01"])
    rows = json.loads(r.stdout)
    assert {"h3", "value", "z", "p", "class"} <= set(rows[0])
    r = CliRunner().invoke(main, ["--db", db, "hotspots", "--channel", "飞鸽"])
    assert r.exit_code == 2 and "飞鸽" in r.output


def test_remembered_gi_star_weights_are_shared_and_left_intact():
    from geo.weights import contiguity

    df = gpd.read_file(get_path("columbus.shp"))
    ids = [f"c{i}" for i in range(len(df))]
    x = df["CRIME"].to_numpy(dtype=float)
    star = contiguity(df.geometry, ids, star=True)
    assert contiguity(df.geometry, ids, star=True) is star  # a dashboard rerun builds nothing
    for permutations in (0, 9, 0):  # esda's permutations zero the diagonal of the W they get: not this one
        got = gi_star(x, star, permutations=permutations, seed=1)
        plain = gi_star(x, contiguity(df.geometry, ids), permutations=permutations, seed=1)
        np.testing.assert_allclose(got[["Zs", "p_sim"]].to_numpy(), plain[["Zs", "p_sim"]].to_numpy())
        assert (star.sparse.diagonal() == 1).all()
