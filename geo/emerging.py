"""Emerging hot spots: Getis-Ord Gi* per time bin, a Mann-Kendall trend per location, and
the categories of Esri's Emerging Hot Spot Analysis (EHSA).

Pipeline (the order of the functions in this file):

1. `_cube`: the (location x bin) matrix of counts, locations in `w.id_order`, bins in
   time order (missing combinations, and missing months of a monthly series, are 0).
2. `_gi_star`: for each bin, `esda.G_Local(y, w, transform="B", star=True)`; esda's
   names `Zs`, `p_norm`, `p_sim` are kept.
3. `_significance`: two-sided p from `p_norm`, Benjamini-Hochberg per bin (`esda.fdr`),
   hot (significant, Z > 0) / cold (significant, Z < 0) / none.
4. `_trend`: Mann-Kendall (`pymannkendall.original_test`) on each location's series of
   Gi* Z scores: Esri tests the trend of the hot spot Z scores, not of the counts.
5. `classify_pattern`: Esri's published rules, checked in Esri's order.

Definitions follow Esri, ArcGIS Pro, "How Emerging Hot Spot Analysis works". One
difference on purpose: Esri's cube uses space-time neighbourhoods (neighbouring bins of the
previous time steps too); here, as asked, each bin is a purely spatial Gi* over the
locations of that bin.

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
row, so "B" loses nothing. Any weights given are reduced to their binary neighbour structure, without self
neighbours, before esda sees them; `w` itself is never modified (esda would otherwise set
its transform, and its permutation engine zeroes the diagonal of the sparse matrix it is
given; without numba it also reseeds NumPy's global random state, which we restore).

Which p-value
-------------
Significance uses the analytical `p_norm` (esda: normal tail of `Zs`, one-sided in the
direction of `Zs`), doubled to a two-sided p, as Esri's Hot Spot Analysis does, because:

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
village-month, 0.1% at 0.3 and 0.02% at 1.5 (23 x 23 queen lattice); over 34 months that
made 0-9 of 529 villages a (false) new or sporadic hot spot at 0.1-0.3, and none at 1.5 or
more. No cold spot can be significant where the data are mostly zeros, which is correct: an
all-zero neighbourhood is not unusual there.

`permutations > 0` adds esda's conditional permutation p-values as `p_sim`, for
reference only: one-sided in the direction of the observed value like esda's, but with ties
counted on both sides (`esda.significance.calculate_significance`, "greater" and
"lesser"), so that a tie with most of the reference distribution gives p near 1, not 0.001.
Without ties it equals esda's `p_sim`.

FDR
---
`esda.fdr(p, alpha)` returns a cut-off, not adjusted p-values: k * alpha / m for the largest
k with p_(k) < k * alpha / m (strict), or alpha / m (Bonferroni) when there is no such k;
its docstring says "when all are rejected", but the code returns alpha / m when *none* are.
A p-value is significant when p < cut-off, which is exactly Benjamini-Hochberg (strict
inequality). The per-bin table keeps the cut-off as `p_cutoff`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

CATEGORY_LABELS = {
    "new_hot": "新增热点",
    "consecutive_hot": "连续热点",
    "intensifying_hot": "加剧热点",
    "persistent_hot": "持续热点",
    "diminishing_hot": "减弱热点",
    "sporadic_hot": "零星热点",
    "oscillating_hot": "波动热点",
    "historical_hot": "历史热点",
    "new_cold": "新增冷点",
    "consecutive_cold": "连续冷点",
    "intensifying_cold": "加剧冷点",
    "persistent_cold": "持续冷点",
    "diminishing_cold": "减弱冷点",
    "sporadic_cold": "零星冷点",
    "oscillating_cold": "波动冷点",
    "historical_cold": "历史冷点",
    "no_pattern": "无显著模式",
}
CATEGORIES = tuple(CATEGORY_LABELS)
TRENDS = ("up", "down", "none")

LOCATION_COLUMNS = ["location", "category", "label_zh", "hot_bins", "cold_bins", "n_bins",
                    "last_z", "last_p", "trend_z", "trend_p", "trend"]
BIN_COLUMNS = ["location", "bin", "value", "Zs", "p_norm", "p_sim", "p", "p_cutoff", "significant", "class"]


def emerging_hotspots(values: pd.DataFrame, w, *, time_col: str = "bin", location_col: str = "location",
                      value_col: str = "value", permutations: int = 0, seed: int = 0, alpha: float = 0.05,
                      fdr: bool = True) -> pd.DataFrame:
    """Esri's Emerging Hot Spot categories, one row per location of `w` (in `w.id_order`).

    `values` has one row per (location, time bin) with a non-negative count in `value_col`;
    missing combinations are 0, location ids are those of `w.id_order`. Bins are put in
    order by sorting; pandas Periods and 'YYYY-MM' strings are also completed, so a month
    without a single case is an all-zero bin rather than missing (the final time step and
    the 90 percent rule depend on it). Other bin types are used as given.

    Returns columns `location`, `category` (a key of `CATEGORY_LABELS`), `label_zh`,
    `hot_bins`, `cold_bins`, `n_bins`, `last_z`, `last_p` (the final bin's Gi* z and
    two-sided p), `trend_z`, `trend_p` (Mann-Kendall on the Gi* z series) and `trend`
    ('up', 'down' or 'none' at `alpha`).

    Significance uses esda's analytical `p_norm` (two-sided), not `p_sim`; see the module
    docstring for why. `permutations` > 0 only adds `p_sim` to `gi_star_by_bin`, seeded by
    `seed`. To get the per-bin table too without computing it twice, call
    `classify_emerging(gi_star_by_bin(...))`.
    """
    bins = gi_star_by_bin(values, w, time_col=time_col, location_col=location_col, value_col=value_col,
                          permutations=permutations, seed=seed, alpha=alpha, fdr=fdr)
    return classify_emerging(bins, alpha=alpha)


def gi_star_by_bin(values: pd.DataFrame, w, *, time_col: str = "bin", location_col: str = "location",
                   value_col: str = "value", permutations: int = 0, seed: int = 0, alpha: float = 0.05,
                   fdr: bool = True) -> pd.DataFrame:
    """Gi* for every (location, bin), for maps: one row per location of `w` and bin, sorted
    by location (in `w.id_order`) then bin.

    Columns: `location`, `bin`, `value`, `Zs` (esda's Gi* z-score), `p_norm` (esda's,
    one-sided in the direction of `Zs`), `p_sim` (one-sided conditional permutation p;
    NaN unless `permutations` > 0), `p` (two-sided, min(1, 2 * p_norm): the one tested),
    `p_cutoff` (the bin's Benjamini-Hochberg cut-off from `esda.fdr`, or `alpha` when
    `fdr` is False), `significant` (p < p_cutoff) and `class` ('hot', 'cold' or 'none').

    A bin in which every location has the same value (e.g. no case at all that month) has
    no Gi*: its `Zs` is 0 and its p-values 1 (two-sided), so it is never significant.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha!r}; expected 0 < alpha < 1")
    if permutations < 0:
        raise ValueError(f"permutations={permutations!r}; expected 0 (analytical only) or more")
    ids, bins, y = _cube(values, w, time_col, location_col, value_col)
    wb = _binary_weights(w)
    n_loc, n_bin = y.shape
    cols = {k: np.empty((n_loc, n_bin)) for k in ("Zs", "p_norm", "p_sim", "p", "p_cutoff")}
    sig = np.zeros((n_loc, n_bin), dtype=bool)
    for k in range(n_bin):
        z, p_norm, p_sim = _gi_star(y[:, k], wb, permutations, seed + k)
        p, cutoff, s = _significance(p_norm, alpha, fdr)
        cols["Zs"][:, k], cols["p_norm"][:, k], cols["p_sim"][:, k] = z, p_norm, p_sim
        cols["p"][:, k], cols["p_cutoff"][:, k], sig[:, k] = p, cutoff, s
    z = cols["Zs"]
    cls = np.where(sig & (z > 0), "hot", np.where(sig & (z < 0), "cold", "none"))
    return pd.DataFrame({
        "location": np.repeat(np.asarray(ids, dtype=object), n_bin),
        "bin": bins[np.tile(np.arange(n_bin), n_loc)],
        "value": y.ravel(),
        **{k: v.ravel() for k, v in cols.items()},
        "significant": sig.ravel(),
        "class": cls.ravel(),
    })[BIN_COLUMNS]


def classify_emerging(bins: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Categories per location from a per-bin table (`gi_star_by_bin`): needs `location`,
    `bin`, `Zs`, `p` and `class` for every (location, bin). Bins are taken in sorted order;
    locations in order of first appearance. Columns as in `emerging_hotspots`."""
    missing = {"location", "bin", "Zs", "p", "class"} - set(bins.columns)
    if missing:
        raise ValueError(f"per-bin table lacks columns {sorted(missing)}")
    locs = pd.unique(bins["location"])
    order = pd.Index(pd.unique(bins["bin"])).sort_values()
    wide = {c: bins.pivot(index="location", columns="bin", values=c).reindex(index=locs, columns=order)
            for c in ("Zs", "p", "class")}
    if wide["Zs"].isna().to_numpy().any():
        raise ValueError("per-bin table is not a complete cube: some (location, bin) pairs are missing")
    z = wide["Zs"].to_numpy(dtype=float)
    cls = wide["class"].to_numpy(dtype=object)
    hot, cold = cls == "hot", cls == "cold"
    trend_z, trend_p, trend = _trend(z, alpha)
    category = [classify_pattern(h, c, t) for h, c, t in zip(hot, cold, trend)]
    out = pd.DataFrame({
        "location": locs,
        "category": category,
        "label_zh": [CATEGORY_LABELS[c] for c in category],
        "hot_bins": hot.sum(axis=1),
        "cold_bins": cold.sum(axis=1),
        "n_bins": np.full(len(locs), z.shape[1]),
        "last_z": z[:, -1],
        "last_p": wide["p"].to_numpy(dtype=float)[:, -1],
        "trend_z": trend_z,
        "trend_p": trend_p,
        "trend": trend,
    })
    return out[LOCATION_COLUMNS]


def classify_pattern(hot: Sequence[bool], cold: Sequence[bool], trend: str) -> str:
    """Esri's Emerging Hot Spot category of one location from its per-bin flags (oldest bin
    first) and the Mann-Kendall trend of its Gi* z-scores ('up', 'down' or 'none').

    Esri's definitions (ArcGIS Pro, "How Emerging Hot Spot Analysis works"), checked in
    Esri's order, hot spots first; the first that applies wins. "90 percent" means at least
    90 percent of the bins (counted exactly: 10 * bins >= 9 * n).

    - new: hot in the final time step and never hot before.
    - consecutive: a single uninterrupted run of at least two hot bins in the final time
      steps, never hot before that run, and less than 90 percent of bins hot.
    - intensifying: hot in at least 90 percent of bins including the final one, and the
      intensity of clustering increases significantly (trend 'up' for hot spots).
    - persistent: hot in at least 90 percent of bins, no significant trend. Esri states no
      final-step condition here, and persistent is checked before historical, so a
      location hot in >= 90 percent of bins but not in the last is persistent when there is
      no trend and historical only when there is one.
    - diminishing: hot in at least 90 percent of bins including the final one, intensity
      decreases significantly.
    - sporadic: hot in the final bin, an on-again off-again hot spot, less than 90 percent
      of bins hot and never a cold spot. (The on-off history is implied: a location hot in
      the last bin and never before a single final run was already new or consecutive.)
    - oscillating: hot in the final bin, cold in some prior bin, less than 90 percent hot.
    - historical: not hot in the final bin, hot in at least 90 percent of bins.

    Cold spots mirror these with hot and cold swapped; for them "intensifying" means the
    z-scores fall (trend 'down') and "diminishing" that they rise. Anything else is
    no_pattern.
    """
    hot = np.asarray(hot, dtype=bool)
    cold = np.asarray(cold, dtype=bool)
    if hot.ndim != 1 or hot.shape != cold.shape or len(hot) == 0:
        raise ValueError("hot and cold must be non-empty 1-d sequences of the same length")
    if (hot & cold).any():
        raise ValueError("a bin cannot be both a hot and a cold spot")
    if trend not in TRENDS:
        raise ValueError(f"trend={trend!r}; expected one of {TRENDS}")
    kind = _esri_rules(hot, cold, trend == "up", trend == "down", trend == "none")
    if kind:
        return kind + "_hot"
    kind = _esri_rules(cold, hot, trend == "down", trend == "up", trend == "none")
    if kind:
        return kind + "_cold"
    return "no_pattern"


# --------------------------------------------------------------------------------------
# helpers, in pipeline order
# --------------------------------------------------------------------------------------

_YYYY_MM = re.compile(r"^\d{4}-\d{2}$")


def _cube(values: pd.DataFrame, w, time_col: str, location_col: str, value_col: str):
    """(location ids in w.id_order, ordered bins, counts matrix locations x bins)."""
    missing = {time_col, location_col, value_col} - set(values.columns)
    if missing:
        raise ValueError(f"values lacks columns {sorted(missing)}")
    ids = list(w.id_order)
    if len(values) == 0:
        raise ValueError("values is empty: no time bins to analyse")
    v = pd.to_numeric(values[value_col], errors="raise").to_numpy(dtype=float)
    if not np.isfinite(v).all() or (v < 0).any():
        raise ValueError(f"{value_col!r} must hold finite, non-negative counts")
    if values.duplicated([location_col, time_col]).any():
        raise ValueError(f"more than one row for some ({location_col}, {time_col}) pairs; aggregate first")
    bins = _ordered_bins(values[time_col])
    li = pd.Index(ids).get_indexer(values[location_col])
    if (li < 0).any():
        unknown = pd.unique(values[location_col][li < 0])[:5]
        raise ValueError(f"locations not in w.id_order: {list(unknown)}")
    bi = bins.get_indexer(values[time_col])
    y = np.zeros((len(ids), len(bins)))
    y[li, bi] = v
    return ids, bins, y


def _ordered_bins(col: pd.Series) -> pd.Index:
    """Bins in time order; monthly Periods and 'YYYY-MM' strings without gaps."""
    if isinstance(col.dtype, pd.PeriodDtype):
        return pd.period_range(col.min(), col.max(), freq=col.dtype.freq)
    uniq = pd.Index(pd.unique(col))
    if uniq.dtype == object or pd.api.types.is_string_dtype(uniq.dtype):
        if all(isinstance(b, str) and _YYYY_MM.match(b) for b in uniq):
            months = pd.PeriodIndex(uniq, freq="M")
            return pd.Index(pd.period_range(months.min(), months.max(), freq="M").strftime("%Y-%m"), dtype=object)
    return uniq.sort_values()


def _binary_weights(w):
    """A fresh binary W with w's neighbour structure, no self neighbours, same id_order:
    esda never touches the caller's w, and Gi* gets self-weight 1 from star=True."""
    from libpysal.weights import W

    neighbors = {i: [j for j in w.neighbors[i] if j != i] for i in w.id_order}
    return W(neighbors, id_order=list(w.id_order), silence_warnings=True)


def _gi_star(y: np.ndarray, wb, permutations: int, seed: int):
    """esda Gi* for one bin: (Zs, p_norm one-sided, p_sim one-sided or NaN)."""
    import esda
    from esda.significance import calculate_significance

    n = len(y)
    if n < 2 or np.ptp(y) == 0:  # constant bin: Gi* undefined (0 / 0); no clustering
        return np.zeros(n), np.full(n, 0.5), np.full(n, 1.0 if permutations else np.nan)
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
        return g.Zs, g.p_norm, np.full(n, np.nan)
    greater = calculate_significance(g.Gs, g.rGs, alternative="greater")
    lesser = calculate_significance(g.Gs, g.rGs, alternative="lesser")
    return g.Zs, g.p_norm, np.minimum(greater, lesser)


def _significance(p_norm: np.ndarray, alpha: float, fdr: bool):
    """(two-sided p, cut-off, significant) for one bin, Benjamini-Hochberg via esda.fdr."""
    import esda

    p = np.minimum(1.0, 2.0 * np.asarray(p_norm, dtype=float))
    cutoff = float(esda.fdr(p, alpha)) if fdr else alpha
    return p, np.full(len(p), cutoff), p < cutoff


def _trend(z: np.ndarray, alpha: float):
    """Mann-Kendall per row of z (locations x bins, oldest first): (z, p, 'up'/'down'/'none')."""
    import pymannkendall as mk

    n_loc, n_bin = z.shape
    tz, tp = np.zeros(n_loc), np.ones(n_loc)
    trend = np.full(n_loc, "none", dtype=object)
    if n_bin < 2:  # no trend in a single bin (pymannkendall divides by zero)
        return tz, tp, trend
    for i in range(n_loc):
        r = mk.original_test(z[i], alpha=alpha)
        tz[i], tp[i] = float(r.z), float(r.p)
        if tp[i] < alpha:
            trend[i] = "up" if tz[i] > 0 else "down"
    return tz, tp, trend


def _esri_rules(spot: np.ndarray, other: np.ndarray, intensifying: bool, diminishing: bool,
                no_trend: bool) -> str | None:
    """One side of Esri's table (hot or, mirrored, cold), in Esri's order."""
    n = len(spot)
    k = int(spot.sum())
    last = bool(spot[-1])
    most = 10 * k >= 9 * n  # at least 90 percent of the time-step intervals
    run = _final_run(spot)
    if last and k == 1:
        return "new"
    if last and run >= 2 and k == run and not most:
        return "consecutive"
    if most and last and intensifying:
        return "intensifying"
    if most and no_trend:
        return "persistent"
    if most and last and diminishing:
        return "diminishing"
    if last and not most and not other.any():
        return "sporadic"
    if last and not most and other[:-1].any():
        return "oscillating"
    if most and not last:
        return "historical"
    return None


def _final_run(flags: np.ndarray) -> int:
    """Length of the run of True ending at the last element (0 if the last is False)."""
    off = np.flatnonzero(~flags)
    return len(flags) if len(off) == 0 else len(flags) - 1 - int(off[-1])
