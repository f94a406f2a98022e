"""Emerging hot spots (geo.emerging): Esri's category rules one by one, Gi* against the
Ord-Getis formula on Columbus, and planted patterns on a synthetic lattice."""

from __future__ import annotations

import warnings

import esda
import libpysal
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from geo.emerging import (
    BIN_COLUMNS,
    CATEGORIES,
    CATEGORY_LABELS,
    LOCATION_COLUMNS,
    classify_emerging,
    classify_pattern,
    emerging_hotspots,
    gi_star_by_bin,
)
from geo.getis_ord import classify, gi_star

# ---------------------------------------------------------------------------------------
# Category rules, from Esri's written definitions (ArcGIS Pro, "How Emerging Hot Spot
# Analysis works"). A series is a string, oldest bin first: H hot, C cold, . neither.
# With 20 bins, "90 percent of the time-step intervals" is 18 bins.
# ---------------------------------------------------------------------------------------


def flags(series: str):
    return [c == "H" for c in series], [c == "C" for c in series]


RULES = [
    # New: hot in the final time step, never hot before.
    ("new: only the last bin hot", "." * 19 + "H", "none", "new_hot"),
    ("new: earlier cold spots do not count (only 'never hot'), and new is checked before oscillating",
     "..CC" + "." * 15 + "H", "none", "new_hot"),
    ("new: the trend does not matter", "." * 19 + "H", "up", "new_hot"),
    # Consecutive: one uninterrupted final run of >= 2 hot bins, never hot before, < 90%.
    ("consecutive: last four hot, nothing before", "." * 16 + "HHHH", "up", "consecutive_hot"),
    ("consecutive: a run of two is enough", "." * 18 + "HH", "none", "consecutive_hot"),
    ("consecutive: earlier cold spots are allowed", "C" * 3 + "." * 13 + "HHHH", "none", "consecutive_hot"),
    ("consecutive: 17 of 20 (85%) in one final run", "..." + "H" * 17, "up", "consecutive_hot"),
    # Intensifying / persistent / diminishing: hot in >= 90% of bins.
    ("intensifying: >= 90% hot including the last, upward trend", "." + "H" * 19, "up", "intensifying_hot"),
    ("intensifying: exactly 90% (18 of 20) is enough", ".." + "H" * 18, "up", "intensifying_hot"),
    ("persistent: >= 90% hot, no trend", "H" * 10 + "." + "H" * 9, "none", "persistent_hot"),
    ("persistent: exactly 90%, no trend", "H" * 5 + ".." + "H" * 13, "none", "persistent_hot"),
    ("diminishing: >= 90% hot including the last, downward trend", "H" * 19 + "H", "down", "diminishing_hot"),
    # Persistent states no final-step condition and is checked before historical.
    ("persistent before historical: >= 90% hot, last not hot, no trend", "H" * 19 + ".", "none", "persistent_hot"),
    ("historical: >= 90% hot, last not hot, upward trend", "H" * 18 + "..", "up", "historical_hot"),
    ("historical: >= 90% hot, last not hot, downward trend", "H" * 19 + ".", "down", "historical_hot"),
    # Sporadic: hot in the final bin, on-off history, < 90% hot, never cold.
    ("sporadic: on and off, last hot", "..H...H....HH...H..H", "none", "sporadic_hot"),
    ("sporadic: a final run with an earlier hot bin is not consecutive", "H" + "." * 15 + "HHHH", "none",
     "sporadic_hot"),
    ("sporadic: upward trend but 85% hot (17 of 20, not one run)", "H..." + "H" * 16, "up", "sporadic_hot"),
    ("sporadic: 30 of 34 bins (88%) is below 90%", "HHHH" + "." * 4 + "H" * 26, "none", "sporadic_hot"),
    # Oscillating: hot in the final bin, cold in some earlier bin, < 90% hot.
    ("oscillating: cold earlier, hot before and at the end", "..C...H.....C....H.H", "none", "oscillating_hot"),
    ("oscillating: earlier hot run, cold gap, final run", "HH" + "C" + "." * 13 + "HHHH", "up", "oscillating_hot"),
    # Nothing applies.
    ("no pattern: never significant", "." * 20, "none", "no_pattern"),
    ("no pattern: a trend alone is not a pattern", "." * 20, "up", "no_pattern"),
    ("no pattern: hot for a while, not at the end, < 90%", "....HHHHHH..........", "down", "no_pattern"),
    # 34 monthly bins: 90% is 30.6, so 31 bins are needed.
    ("34 bins: 31 hot (91%) with no trend is persistent", "..." + "H" * 31, "none", "persistent_hot"),
    ("34 bins: 30 hot in one final run (88%) is consecutive", "...." + "H" * 30, "none", "consecutive_hot"),
]


def mirror(series: str, trend: str, expected: str):
    """Cold version: swap H and C; the cold spot intensifies when the z-scores fall."""
    swapped = series.translate(str.maketrans("HC", "CH"))
    flipped = {"up": "down", "down": "up", "none": "none"}[trend]
    return swapped, flipped, expected.replace("_hot", "_cold")


@pytest.mark.parametrize("series,trend,expected", [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_esri_rule(series, trend, expected):
    assert classify_pattern(*flags(series), trend) == expected


@pytest.mark.parametrize("series,trend,expected", [mirror(*r[1:]) for r in RULES], ids=[r[0] for r in RULES])
def test_esri_rule_cold_mirror(series, trend, expected):
    assert classify_pattern(*flags(series), trend) == expected


def test_cold_intensifying_means_falling_z_scores():
    cold = "." + "C" * 19
    assert classify_pattern(*flags(cold), "down") == "intensifying_cold"
    assert classify_pattern(*flags(cold), "up") == "diminishing_cold"
    assert classify_pattern(*flags(cold), "none") == "persistent_cold"


def test_hot_categories_are_checked_before_cold_ones():
    # >= 90% hot, final bin cold, no trend: persistent hot (hot list first) although the
    # final cold bin, never cold before, would also make it a new cold spot.
    assert classify_pattern(*flags("H" * 19 + "C"), "none") == "persistent_hot"
    assert classify_pattern(*flags("H" * 19 + "C"), "down") == "historical_hot"
    # And the other way round: a final hot bin after 19 cold ones is a new hot spot, not a
    # historical cold spot.
    assert classify_pattern(*flags("C" * 19 + "H"), "up") == "new_hot"


def test_every_category_has_a_chinese_label():
    assert len(CATEGORIES) == 17
    assert CATEGORY_LABELS["new_hot"] == "新增热点" and CATEGORY_LABELS["oscillating_cold"] == "波动冷点"
    assert CATEGORY_LABELS["no_pattern"] == "无显著模式"
    found = {classify_pattern(*flags(r[1]), r[2]) for r in RULES} | {
        classify_pattern(*flags(m[0]), m[1]) for m in (mirror(*r[1:]) for r in RULES)}
    assert found == set(CATEGORIES)


@pytest.mark.parametrize("hot,cold,trend", [
    ([True], [True], "none"),        # hot and cold at once
    ([True, False], [False], "none"),  # lengths differ
    ([], [], "none"),
    ([True], [False], "increasing"),  # pymannkendall's word, not ours
])
def test_classify_pattern_rejects_bad_input(hot, cold, trend):
    with pytest.raises(ValueError):
        classify_pattern(hot, cold, trend)


# ---------------------------------------------------------------------------------------
# Gi* on Columbus (libpysal example), CRIME, Queen contiguity, against the Ord-Getis
# z-score computed here with numpy (Getis & Ord 1992; Ord & Getis 1995, eq. for Gi*):
#   z_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n S1_i - W_i^2) / (n - 1)))
# with the self-weight w_ii included, W_i = sum_j w_ij, S1_i = sum_j w_ij^2,
# xbar = mean(x), S^2 = mean(x^2) - xbar^2 (all j, i included: the star version).
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def columbus():
    import geopandas as gpd

    df = gpd.read_file(libpysal.examples.get_path("columbus.shp"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.Queen.from_dataframe(df, use_index=False)
    return df, w


def ord_getis_z(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    n = len(x)
    xbar = x.mean()
    s = np.sqrt((x ** 2).mean() - xbar ** 2)
    wi = weights.sum(axis=1)
    s1 = (weights ** 2).sum(axis=1)
    return (weights @ x - xbar * wi) / (s * np.sqrt((n * s1 - wi ** 2) / (n - 1)))


def dense_star(w) -> np.ndarray:
    """Binary contiguity matrix from the neighbour lists (not from esda), plus w_ii = 1."""
    a = np.eye(w.n)
    for i, nbrs in w.neighbors.items():
        for j in nbrs:
            a[w.id2i[i], w.id2i[j]] = 1.0
    return a


def one_bin(ids, values) -> pd.DataFrame:
    return pd.DataFrame({"location": ids, "bin": "2024-01", "value": values})


def test_gi_star_matches_ord_getis_on_columbus(columbus):
    df, w = columbus
    x = df["CRIME"].to_numpy(dtype=float)
    b = gi_star_by_bin(one_bin(w.id_order, x), w)
    expected = ord_getis_z(x, dense_star(w))
    np.testing.assert_allclose(b["Zs"].to_numpy(), expected, rtol=0, atol=1e-6)
    # The p tested is two-sided from the normal tail of Zs.
    np.testing.assert_allclose(b["p"].to_numpy(), 2 * stats.norm.sf(np.abs(expected)), atol=1e-9)
    assert (b["class"] == "hot").sum() > 0 and (b["class"] == "cold").sum() > 0  # CRIME clusters both ways


def test_row_standardising_would_not_change_the_ord_getis_z(columbus):
    # The z-score is invariant to scaling a row of weights, so binary weights ("B") lose
    # nothing against row-standardised ones with self-weight 1 / (k + 1).
    df, w = columbus
    x = df["CRIME"].to_numpy(dtype=float)
    star = dense_star(w)
    np.testing.assert_allclose(ord_getis_z(x, star / star.sum(axis=1, keepdims=True)), ord_getis_z(x, star),
                               atol=1e-9)


def test_fdr_is_benjamini_hochberg(columbus):
    df, w = columbus
    x = df["CRIME"].to_numpy(dtype=float)
    b = gi_star_by_bin(one_bin(w.id_order, x), w, alpha=0.05)
    bh = stats.false_discovery_control(b["p"].to_numpy(), method="bh") <= 0.05
    np.testing.assert_array_equal(b["significant"].to_numpy(), bh)
    raw = gi_star_by_bin(one_bin(w.id_order, x), w, alpha=0.05, fdr=False)
    np.testing.assert_array_equal(raw["significant"].to_numpy(), raw["p"].to_numpy() <= 0.05)
    assert raw["significant"].sum() > b["significant"].sum()


def test_a_month_is_tested_like_a_hot_spot_map_at_95_percent(columbus):
    # One Gi* and one FDR: a bin's hot/cold spots are the hot spot classes at 95% or 99%.
    df, w = columbus
    x = df["CRIME"].to_numpy(dtype=float)
    b = gi_star_by_bin(one_bin(w.id_order, x), w, alpha=0.05)
    g = gi_star(x, w)
    esri = pd.Series(classify(g["Zs"], g["p"])).replace({"hot_99": "hot", "hot_95": "hot", "cold_99": "cold",
                                                         "cold_95": "cold", "hot_90": "none", "cold_90": "none",
                                                         "not_significant": "none"})
    assert b["class"].tolist() == esri.tolist()
    np.testing.assert_array_equal(b["Zs"].to_numpy(), g["Zs"].to_numpy())


def test_the_callers_weights_are_left_alone(columbus):
    df, w = columbus
    before = (w.transform, w.sparse.diagonal().sum(), w.sparse.sum())
    gi_star_by_bin(one_bin(w.id_order, df["CRIME"].to_numpy()), w, permutations=9)
    assert (w.transform, w.sparse.diagonal().sum(), w.sparse.sum()) == before


def test_numpy_global_random_state_is_left_alone(columbus):
    df, w = columbus
    np.random.seed(123)
    expected = np.random.random_sample()
    np.random.seed(123)
    gi_star_by_bin(one_bin(w.id_order, df["CRIME"].to_numpy()), w, permutations=9, seed=5)
    assert np.random.random_sample() == expected


def test_p_sim_equals_esda_without_ties(columbus):
    df, w = columbus
    x = df["CRIME"].to_numpy(dtype=float)  # continuous: no ties
    b = gi_star_by_bin(one_bin(w.id_order, x), w, permutations=99, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(x, w, transform="B", star=True, permutations=99, seed=3, n_jobs=1)
    np.testing.assert_allclose(b["p_sim"].to_numpy(), g.p_sim)
    np.testing.assert_allclose(b["Zs"].to_numpy(), g.Zs)


def test_p_sim_counts_ties_on_both_sides():
    # Mostly zeros: a location whose whole neighbourhood is 0 ties most permutations.
    # esda's own p_sim calls it extreme (1 / (permutations + 1)); ours does not.
    w = libpysal.weights.lat2W(10, 10, rook=False)
    x = np.zeros(100)
    x[[0, 1, 10, 11, 55]] = [3, 2, 4, 1, 2]
    b = gi_star_by_bin(one_bin(w.id_order, x), w, permutations=99, seed=1)
    far = 99  # the opposite corner: itself and its neighbours are all 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(x, w, transform="B", star=True, permutations=99, seed=1, n_jobs=1)
    assert g.p_sim[far] == pytest.approx(0.01)
    assert b["p_sim"].iloc[far] > 0.5
    assert b["class"].iloc[far] == "none"


# ---------------------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------------------


def test_missing_months_and_pairs_are_zero():
    w = libpysal.weights.lat2W(3, 3)
    # Nothing at all in 2024-02: the month must still be a bin (all zeros).
    values = pd.DataFrame({"location": [0, 4, 8, 4], "bin": ["2024-01", "2024-01", "2024-03", "2024-03"],
                           "value": [1, 5, 2, 7]})
    b = gi_star_by_bin(values, w)
    assert list(b.columns) == BIN_COLUMNS
    assert list(pd.unique(b["bin"])) == ["2024-01", "2024-02", "2024-03"]
    assert len(b) == 9 * 3
    feb = b[b["bin"] == "2024-02"]
    assert (feb["value"] == 0).all() and (feb["Zs"] == 0).all() and (feb["p"] == 1).all()
    assert not feb["significant"].any()
    assert b.loc[(b["location"] == 4) & (b["bin"] == "2024-03"), "value"].item() == 7
    periods = values.assign(bin=pd.PeriodIndex(values["bin"], freq="M"))
    bp = gi_star_by_bin(periods, w)
    assert list(pd.unique(bp["bin"])) == list(pd.period_range("2024-01", "2024-03", freq="M"))
    np.testing.assert_allclose(bp["Zs"].to_numpy(), b["Zs"].to_numpy())
    out = classify_emerging(b)
    assert list(out.columns) == LOCATION_COLUMNS
    assert list(out["location"]) == list(w.id_order) and (out["n_bins"] == 3).all()


@pytest.mark.parametrize("values,message", [
    (pd.DataFrame({"location": [0, 99], "bin": ["2024-01"] * 2, "value": [1, 2]}), "not in w.id_order"),
    (pd.DataFrame({"location": [0, 0], "bin": ["2024-01"] * 2, "value": [1, 2]}), "more than one row"),
    (pd.DataFrame({"location": [0, 1], "bin": ["2024-01"] * 2, "value": [1, -2]}), "non-negative"),
    (pd.DataFrame({"location": [0], "bin": ["2024-01"]}), "lacks columns"),
])
def test_bad_values_are_rejected(values, message):
    with pytest.raises(ValueError, match=message):
        gi_star_by_bin(values, libpysal.weights.lat2W(3, 3))


# ---------------------------------------------------------------------------------------
# End to end on a 15 x 15 queen lattice, 24 months, Poisson counts (mean 2 per cell-month),
# seed fixed. Planted: block P (3 x 3) at 4 times the mean in every month; block E (3 x 3)
# at the mean for 18 months, then growing by 1 a month (3, 4, ..., 8). Checked over seeds
# 0-11: P's centre was persistent_hot and E's centre consecutive_hot in every one (E's
# centre was sporadic_hot in 2 of them at a weaker setting), and no cell outside the blocks
# and their neighbours got any category (0 false alarms out of 175, every seed). Cells that
# touch a block share its counts in their Gi* and may be called hot (1-7 of 32): that is
# the planted cluster seen from next door, not a false alarm.
# ---------------------------------------------------------------------------------------

N, T = 15, 24
PERSISTENT_FAMILY = {"persistent_hot", "intensifying_hot", "diminishing_hot"}
EMERGING_FAMILY = {"new_hot", "consecutive_hot", "intensifying_hot"}


def block(r0: int, c0: int) -> list[int]:
    return [r * N + c for r in range(r0, r0 + 3) for c in range(c0, c0 + 3)]


@pytest.fixture(scope="module")
def lattice():
    w = libpysal.weights.lat2W(N, N, rook=False)
    p_cells, e_cells = block(1, 1), block(N - 4, N - 4)
    lam = np.full((N * N, T), 2.0)
    lam[p_cells] = 8.0
    k = np.arange(T) - 17
    lam[e_cells] = np.where(k > 0, 2.0 + k, 2.0)
    y = np.random.default_rng(0).poisson(lam)
    months = pd.period_range("2024-01", periods=T, freq="M")
    values = pd.DataFrame({"location": np.repeat(np.arange(N * N), T), "bin": np.tile(months, N * N),
                           "value": y.ravel()})
    values = values[values["value"] > 0]  # zeros may be left out
    out = emerging_hotspots(values, w).set_index("location")
    near = set(p_cells) | set(e_cells)
    for c in p_cells + e_cells:
        near |= set(w.neighbors[c])
    return out, p_cells, e_cells, near


def test_planted_persistent_block(lattice):
    out, p_cells, _, _ = lattice
    cat = out["category"]
    assert cat[p_cells[4]] == "persistent_hot"  # the centre
    assert out.loc[p_cells[4], "hot_bins"] >= 0.9 * T
    assert sum(cat[c] in PERSISTENT_FAMILY for c in p_cells) >= 3
    assert not cat[p_cells].str.endswith("_cold").any()


def test_planted_emerging_block(lattice):
    out, _, e_cells, _ = lattice
    cat = out["category"]
    assert cat[e_cells[4]] in EMERGING_FAMILY
    assert sum(cat[c] in EMERGING_FAMILY for c in e_cells) >= 3
    assert set(cat[e_cells]) <= EMERGING_FAMILY | {"sporadic_hot", "no_pattern"}
    assert (out.loc[e_cells, "hot_bins"] <= 7).all()  # never hot before the rise (6 months)
    assert out.loc[e_cells[4], "trend_z"] > 0  # rising z-scores (significant in 15 of seeds 0-15)


def test_background_has_no_false_alarms(lattice):
    out, _, _, near = lattice
    background = out.drop(index=sorted(near))
    assert len(background) == 175
    false_alarms = (background["category"] != "no_pattern").sum()
    assert false_alarms == 0
    assert not out["category"].str.endswith("_cold").any()


def test_label_and_last_bin_columns(lattice):
    out, p_cells, _, _ = lattice
    assert (out["label_zh"] == out["category"].map(CATEGORY_LABELS)).all()
    assert out.loc[p_cells[4], "label_zh"] == "持续热点"
    assert out.loc[p_cells[4], "last_z"] > 0 and out.loc[p_cells[4], "last_p"] < 0.05


def test_no_pattern_at_full_size():
    # 529 villages x 34 months with no spatial pattern (23 x 23 queen lattice, Poisson mean
    # 1.5): a few bins pass by chance, no location gets a category. Also a speed check of
    # the real size: about 2 s on 2 cores without numba.
    w = libpysal.weights.lat2W(23, 23, rook=False)
    months = pd.period_range("2023-01", periods=34, freq="M")
    y = np.random.default_rng(0).poisson(1.5, (529, 34))
    values = pd.DataFrame({"location": np.repeat(np.arange(529), 34), "bin": np.tile(months, 529),
                           "value": y.ravel()})
    b = gi_star_by_bin(values, w)
    out = classify_emerging(b)
    assert len(b) == 529 * 34 and len(out) == 529
    assert b["significant"].mean() < 0.002
    assert (out["category"] != "no_pattern").sum() == 0
