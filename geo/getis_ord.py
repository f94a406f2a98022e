"""Getis-Ord Gi* per location (esda `G_Local(star=True)`, binary weights) and Esri's hot spot
classes. Hot spots on areas and on H3 cells, and each time bin of the emerging hot spots,
all go through `gi_star`; significance comes from geo.fdr.

Gi* and the weights
-------------------
esda's `star=True` puts a self-weight on the diagonal when `w` has none: 1 with
`transform="B"`; with `transform="R"` (esda's default) the row maximum, then the rows are
standardised. We always use binary weights ("B"): the Gi* z-score of Ord & Getis (1995),
z_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n S1_i - W_i^2) / (n - 1))), with
w_ii = 1, W_i = sum_j w_ij, S1_i = sum_j w_ij^2, is what esda's `Zs` equals with "B"
(to rounding error; the tests check 1e-6 on Columbus). With "R", esda's variance still uses
the binary formula (cardinality times (n - cardinality)), so its `Zs` is not the Ord-Getis
z (it is smaller, off by up to 2.4 on Columbus CRIME); the z-score is invariant to scaling a
row, so "B" loses nothing. Any weights given are reduced to their binary neighbour
structure, each location its own neighbour (geo.weights.binary_star), before esda sees
them, so each area's own count counts towards its neighbourhood, as in Esri's tool. Without
permutations only the sparse matrix of that structure is made (the weights given are not
touched); with them esda gets a new W, as its permutation engine zeroes the diagonal of the
sparse matrix it is given.
Without numba esda also reseeds NumPy's global random state, which we restore.

esda computes Zs through the ratio G = sum_j w_ij y_j / sum_j y_j, so with values that sum
to about zero (standardised rates) the sign of Zs would flip with the sign of the sum. The
Ord-Getis z is invariant to adding a constant, so values with a negative one are shifted
to be positive first.

Which p-value
-------------
Significance uses the analytical `p_norm` (esda: normal tail of `Zs`, one-sided in the
direction of `Zs`), doubled to a two-sided `p`, as Esri's Hot Spot Analysis reports it,
because:

* with FDR, permutation p-values cannot pass. They never go below 1 / (permutations + 1),
  and Benjamini-Hochberg over m locations at `alpha` rejects nothing unless at least
  m * 2 / ((permutations + 1) * alpha) locations reach that floor: 22 of 529 villages with
  999 permutations. A cluster of a few villages would never be found (measured: 0 of 9
  planted cells found, against about half with `p_norm`);
* esda's `G_Local.p_sim` mishandles ties, which sparse counts are full of: a village whose
  neighbourhood is all zeros, in a month where most are, gets p_sim = 0.001 and would be a
  cold spot (measured: 44% of village-months called cold at 0.1 cases per village-month
  with no pattern at all). esda folds the reference distribution with ">=" on one side and
  "<" on the other;
* it is deterministic and seed-free, and faster without numba (529 villages x 34 months:
  0.8 s for Gi*, against 3.5 s with 999 permutations).

The price: for very sparse counts the normal tail is too light on the hot side. Under no
pattern, after FDR, about 0.5% of village-months come out hot at a mean of 0.1 cases per
village-month, 0.1% at 0.3 and 0.02% at 1.5 (23 x 23 queen lattice). No cold spot can be
significant where the data are mostly zeros, which is correct: an all-zero neighbourhood
is not unusual there.

`permutations > 0` adds esda's conditional permutation p-values as `p_sim`, for
reference only: one-sided in the direction of the observed value like esda's, but with ties
counted on both sides (`esda.significance.calculate_significance`, "greater" and
"lesser"), so that a tie with most of the reference distribution gives p near 1, not 0.001.
Without ties it equals esda's `p_sim`.

Classes
-------
`classify` follows Esri: hot/cold at 99, 95 and 90 percent confidence (two-sided, so a level
c is met when p <= 1 - c), or not significant; with `fdr=True` the critical p-value of each
level is Benjamini-Hochberg's over all locations (geo.fdr).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .fdr import significance
from .weights import binary_star

LEVELS = (0.99, 0.95, 0.90)
CLASS_LABELS = {
    "hot_99": "热点 (99%置信)", "hot_95": "热点 (95%置信)", "hot_90": "热点 (90%置信)",
    "cold_99": "冷点 (99%置信)", "cold_95": "冷点 (95%置信)", "cold_90": "冷点 (90%置信)",
    "not_significant": "不显著",
}


def gi_star(values, w, *, permutations: int = 0, seed: int = 0) -> pd.DataFrame:
    """Gi* per location of `w` (in `w.id_order`): columns `Zs` (esda's z-score), `p_norm`
    (one-sided, in the direction of `Zs`), `p` (two-sided, min(1, 2 * p_norm): the one tested)
    and `p_sim` (one-sided conditional permutation p, seeded by `seed`; NaN unless
    `permutations` > 0, which takes seconds per thousand locations without numba).

    With fewer than 3 locations, or the same value everywhere (e.g. no case at all that
    month), there is no Gi*: `Zs` is 0 and `p` is 1, so nothing is significant."""
    if permutations < 0:
        raise ValueError(f"permutations={permutations!r}; expected 0 (analytical only) or more")
    y = np.asarray(values, dtype=float)
    n = len(y)
    if n < 3 or np.allclose(y, y[0]):
        return pd.DataFrame({"Zs": np.zeros(n), "p_norm": np.full(n, 0.5), "p": np.ones(n),
                             "p_sim": np.full(n, 1.0 if permutations else np.nan)})
    if not permutations:  # esda's formulas as one sparse product (gi_star_columns)
        z, p_norm = (a[:, 0] for a in gi_star_columns(y.reshape(-1, 1), w))
        return pd.DataFrame({"Zs": z, "p_norm": p_norm, "p": np.minimum(1.0, 2.0 * p_norm),
                             "p_sim": np.full(n, np.nan)})
    if y.min() < 0:  # esda divides by the sum (module docstring)
        y = y - y.min() + 1.0
    z, p_norm, p_sim = _esda_gi_star(y, binary_star(w), permutations, seed)
    return pd.DataFrame({"Zs": z, "p_norm": p_norm, "p": np.minimum(1.0, 2.0 * p_norm), "p_sim": p_sim})


def gi_star_columns(values: np.ndarray, w) -> tuple[np.ndarray, np.ndarray]:
    """`gi_star` without permutations for every column of `values` (locations in `w.id_order`
    x bins) at once: (Zs, p_norm), each locations x bins. One sparse product over the matrix
    instead of one esda run per column, with esda's own formulas for binary star weights
    (`G_Local.calc` with star=True, transform "B"), so the figures are esda's; columns with
    fewer than 3 locations or one value everywhere get Zs 0 and p_norm 0.5, as in `gi_star`."""
    from scipy import stats

    y = np.array(values, dtype=float)
    n, k = y.shape
    z, p_norm = np.zeros((n, k)), np.full((n, k), 0.5)
    live = np.array([n >= 3 and not np.allclose(y[:, j], y[0, j]) for j in range(k)], dtype=bool)
    if not live.any():
        return z, p_norm
    y = y[:, live]
    low = y.min(axis=0)
    y = np.where(low < 0, y - low + 1.0, y)  # esda divides by the sum (module docstring)
    m = _star_matrix(w)
    by_bin = np.ascontiguousarray(y.T)  # sums along rows add up in esda's order (pairwise, per bin)
    total = by_bin.sum(axis=1)
    statistic = (m @ y) / total
    mean = total / n
    variance = (by_bin**2).sum(axis=1) / n - mean**2
    cardinality = np.asarray(m.sum(axis=1)).reshape(-1, 1)
    expected = cardinality / n
    spread = cardinality * (n - cardinality)
    spread = spread / (n - 1)
    spread = spread * (1 / n**2)
    spread = spread * (variance / mean**2)
    zs = (statistic - expected) / np.sqrt(spread)
    z[:, live], p_norm[:, live] = zs, stats.norm.sf(np.abs(zs))
    return z, p_norm


def classify(z, p, *, fdr: bool = True) -> np.ndarray:
    """Esri's hot spot classes (keys of CLASS_LABELS) from z-scores and two-sided p-values."""
    z = np.asarray(z, dtype=float)
    out = np.full(len(z), "not_significant", dtype=object)
    for level in sorted(LEVELS):  # 90, then 95, then 99 overwrite: the highest level met wins
        sig, _ = significance(p, 1 - level, fdr=fdr)
        tag = str(int(round(level * 100)))
        out[sig & (z > 0)] = "hot_" + tag
        out[sig & (z < 0)] = "cold_" + tag
    return out


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _star_matrix(w):
    """Gi*'s binary star weights of `w` as a sparse matrix in `w.id_order`: 1 for each neighbour
    (whatever its weight) and for the location itself, from `w.sparse`'s structure without
    building a second W (a W of a province's villages takes a second). `w` is left as it is."""
    from scipy import sparse

    m = sparse.csr_matrix(w.sparse, dtype=float, copy=True)  # its structure: every neighbour, even of weight 0
    m.data[:] = 1.0
    return sparse.csr_matrix(m - sparse.diags(m.diagonal()) + sparse.identity(m.shape[0], format="csr"))


def _esda_gi_star(y: np.ndarray, wb, permutations: int, seed: int):
    """esda Gi* on binary star weights `wb`: (Zs, p_norm one-sided, p_sim one-sided or NaN)."""
    import esda
    from esda.significance import calculate_significance

    state = np.random.get_state()  # esda's permutations call np.random.seed(seed)
    try:
        with warnings.catch_warnings():
            # esda warns on every call that the permutation alternative will change; we do
            # not use its p_sim (see the module docstring).
            warnings.simplefilter("ignore", DeprecationWarning)
            # n_jobs=1: without numba, joblib's worker start-up costs more than it saves.
            g = esda.G_Local(y, wb, transform="B", star=True, permutations=permutations,
                             keep_simulations=bool(permutations), n_jobs=1, seed=seed)
    finally:
        np.random.set_state(state)
    if not permutations:
        return g.Zs, g.p_norm, np.full(len(y), np.nan)
    greater = calculate_significance(g.Gs, g.rGs, alternative="greater")
    lesser = calculate_significance(g.Gs, g.rGs, alternative="lesser")
    return g.Zs, g.p_norm, np.minimum(greater, lesser)
