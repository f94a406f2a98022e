"""Emerging hot spots computed for all bins at once (one sparse Gi* product, a vectorised
Mann-Kendall) give esda's and pymannkendall's own figures: checked against esda `G_Local`
run bin by bin and `pymannkendall.original_test` run location by location, on a lattice with
a planted hot spot, ties, all-zero bins and constant series."""

from __future__ import annotations

import warnings

import esda
import libpysal
import numpy as np
import pytest
import pandas as pd
import pymannkendall as mk

from geo.emerging import _trend, emerging_hotspots, gi_star_by_bin
from geo.getis_ord import gi_star_columns
from geo.weights import binary_star


def _lattice(side: int = 12):
    w = libpysal.weights.lat2W(side, side, rook=False)
    w = libpysal.weights.W(w.neighbors, id_order=list(w.id_order), silence_warnings=True)
    return w


def _counts(n: int, bins: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = rng.poisson(0.6, size=(n, bins)).astype(float)
    y[:9, bins // 2:] += rng.poisson(4, size=(9, bins - bins // 2))  # a hot spot growing in the second half
    y[20] = 2  # a village with the same count every month
    y[:, 3] = 0  # a month without a single case
    return y


def _esda(y: np.ndarray, w):
    wb = binary_star(w)
    z = np.zeros_like(y)
    p = np.full_like(y, 0.5)
    for k in range(y.shape[1]):
        if np.allclose(y[:, k], y[0, k]):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = esda.G_Local(y[:, k], wb, transform="B", star=True, permutations=0)
        z[:, k], p[:, k] = g.Zs, g.p_norm
    return z, p


def test_gi_star_of_all_bins_equals_esda_bin_by_bin():
    w = _lattice()
    y = _counts(w.n, 24)
    z, p = gi_star_columns(y, w)
    ez, ep = _esda(y, w)
    np.testing.assert_allclose(z, ez, rtol=0, atol=1e-12)
    np.testing.assert_allclose(p, ep, rtol=0, atol=1e-12)
    assert (z[:, 3] == 0).all() and (p[:, 3] == 0.5).all()
    assert z[:9, -1].min() > 2  # the planted hot spot is found


def test_gi_star_reads_who_neighbours_whom_not_the_weights():
    """Weights of any values (row-standardised, zero, a location its own neighbour) give esda's
    Gi* on their binary star weights: only the neighbour structure counts."""
    base = _lattice(8)
    weights = {i: [0.0 if k == 0 else 0.5 + k for k, _ in enumerate(base.neighbors[i])] for i in base.id_order}
    neighbours = {i: list(base.neighbors[i]) for i in base.id_order}
    neighbours[0], weights[0] = [0, *neighbours[0]], [2.0, *weights[0]]  # location 0 its own neighbour, weight 2
    w = libpysal.weights.W(neighbours, weights, id_order=list(reversed(base.id_order)), silence_warnings=True)
    w.transform = "R"
    y = _counts(w.n, 6)
    z, p = gi_star_columns(y, w)
    ez, ep = _esda(y, w)
    np.testing.assert_allclose(z, ez, rtol=0, atol=1e-12)
    np.testing.assert_allclose(p, ep, rtol=0, atol=1e-12)


def test_mann_kendall_of_every_row_equals_pymannkendall():
    w = _lattice()
    z, _ = gi_star_columns(_counts(w.n, 24), w)
    z = np.round(z, 1)  # ties within a series
    z[5] = 0.0  # a constant series
    tz, tp, trend = _trend(z, 0.05)
    for i in range(len(z)):
        r = mk.original_test(z[i], alpha=0.05)
        assert tz[i] == float(r.z) and tp[i] == float(r.p), i
        assert trend[i] == {"increasing": "up", "decreasing": "down", "no trend": "none"}[r.trend], i
    assert {"up", "none"} <= set(trend)


def test_mann_kendall_leaves_out_missing_bins_as_pymannkendall_does():
    """Gi* is NaN where a star neighbourhood holds every location: those bins are left out."""
    rng = np.random.default_rng(3)
    z = np.round(rng.normal(size=(30, 24)).cumsum(axis=1), 1)
    z[2, 4] = z[7, [0, 9, 20]] = np.nan
    z[11] = np.nan  # nothing left: no trend
    z[12, 1:] = np.nan  # one bin left: no trend
    tz, tp, trend = _trend(z, 0.05)
    for i in range(len(z)):
        if np.isnan(z[i]).sum() >= 23:
            assert (tz[i], tp[i], trend[i]) == (0.0, 1.0, "none"), i
            continue
        r = mk.original_test(z[i], alpha=0.05)
        assert tz[i] == pytest.approx(float(r.z), abs=1e-12) and tp[i] == pytest.approx(float(r.p), abs=1e-12), i
        assert trend[i] == {"increasing": "up", "decreasing": "down", "no trend": "none"}[r.trend], i


def test_emerging_categories_equal_the_per_bin_pipeline(monkeypatch):
    """The whole pipeline against itself with Gi* run through esda one bin at a time (the
    implementation before the sparse product)."""
    import geo.emerging as em

    w = _lattice()
    y = _counts(w.n, 24)
    values = pd.DataFrame([(loc, f"2024-{1 + k:02d}" if k < 12 else f"2025-{k - 11:02d}", y[i, k])
                           for i, loc in enumerate(w.id_order) for k in range(y.shape[1])],
                          columns=["location", "bin", "value"])
    fast_bins = gi_star_by_bin(values, w)
    fast = emerging_hotspots(values, w)

    def per_bin(v, wb):
        ez, ep = _esda(v, wb)
        return ez, ep

    monkeypatch.setattr(em, "gi_star_columns", per_bin)
    slow_bins = gi_star_by_bin(values, w)
    slow = emerging_hotspots(values, w)
    pd.testing.assert_frame_equal(fast_bins.drop(columns=["Zs", "p_norm", "p", "p_cutoff"]),
                                  slow_bins.drop(columns=["Zs", "p_norm", "p", "p_cutoff"]))
    np.testing.assert_allclose(fast_bins["Zs"], slow_bins["Zs"], rtol=0, atol=1e-12)
    pd.testing.assert_series_equal(fast["category"], slow["category"])
    assert fast.loc[:8, "category"].eq("sporadic_hot").sum() >= 5  # the planted spot, hot in its second half


def test_emerging_leaves_out_villages_without_an_outline(demo_db, tmp_path):
    """A village with cases but no outline (a boundary file that missed it) is not on the map:
    emerging hot spots run on the outlined villages instead of failing."""
    import shutil

    from analysis.filters import CaseFilter
    from analysis.hotspots import emerging
    from etl.db import connect, writing
    from etl.keys import key_path

    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    shutil.copy(key_path(demo_db), key_path(db))
    with writing(db) as con:
        busiest = con.execute("SELECT area_code FROM cases WHERE length(area_code) = 12 "
                              "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        con.execute("UPDATE areas SET geom = NULL WHERE code = ?", [busiest])
    con = connect(db, read_only=True)
    try:
        start, end = con.execute("SELECT min(received_at)::DATE, max(received_at)::DATE FROM cases").fetchone()
        cats, bins = emerging(con, CaseFilter(start, end))
        outlined = con.execute("SELECT count(*) FROM areas WHERE level = 'village' AND geom IS NOT NULL").fetchone()[0]
    finally:
        con.close()
    assert busiest not in set(cats["area_code"]) and len(cats) == outlined
