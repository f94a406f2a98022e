"""Hot spots of cases: smoothed rates, Getis-Ord Gi* classified like Esri's Hot Spot
Analysis (with FDR), and Local Moran (LISA) clusters; on areas or an H3 hexagon grid.

Statistics come from PySAL (esda, libpysal); this module only prepares inputs and
classifies outputs, keeping esda's names (`Zs`, `p_sim`) and a `seed`.

Gi* (`esda.G_Local(star=True)`, binary weights): the self-weight is included, so each
area's own count counts towards its neighbourhood, as in Esri's tool. esda reports two
p-values: `p_sim`, a pseudo p-value from conditional permutations, and `p_norm`, from the
z-score `Zs` under normality (both one-sided, in the direction of the observed value).
Classes use `p_norm`, as Esri's Hot Spot Analysis does: with 999 permutations `p_sim`
cannot go below 0.001, and Benjamini-Hochberg over 529 villages at 99% needs p below
about 1e-5, so permutation p-values could never pass the FDR correction. `p_sim` is kept
in the output for reference. Classes follow Esri: hot/cold at 99, 95 and 90 percent
confidence (two-sided, so a level c is met when the one-sided p <= (1 - c) / 2), or not
significant. With `fdr=True` the critical p-value of each level is lowered by
Benjamini-Hochberg over all locations (Esri's "Apply False Discovery Rate (FDR)
correction"), which keeps false alarms in check when hundreds of villages are tested.
The output's `p` is that two-sided p-value (2 x `p_norm`), as Esri reports it.

Rates: Gi* is run on Assuncao-Reis standardised rates (`esda.smoothing.assuncao_rate`),
not on EB-smoothed rates: after EB shrinkage the remaining spread comes mostly from the
largest villages and the normal p-value is far too permissive (a review simulated 529
villages with no pattern: over half the runs flagged a village after FDR). The EB rate is
kept for display.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVELS = (0.99, 0.95, 0.90)
CLASS_LABELS = {
    "hot_99": "热点 (99%置信)", "hot_95": "热点 (95%置信)", "hot_90": "热点 (90%置信)",
    "cold_99": "冷点 (99%置信)", "cold_95": "冷点 (95%置信)", "cold_90": "冷点 (90%置信)",
    "not_significant": "不显著",
}
LISA_LABELS = {"HH": "高-高聚集", "LL": "低-低聚集", "HL": "高值被低值包围", "LH": "低值被高值包围", "not_significant": "不显著"}


def gi_star(values: np.ndarray, w, *, permutations: int = 0, seed: int = 0, fdr: bool = True) -> pd.DataFrame:
    """Gi* per location (in `w.id_order`): columns `Zs`, `p_norm`, `p_sim`, `class`.

    Classes come from the two-sided `p` (2 x `p_norm`); `permutations` > 0 adds esda's pseudo p-values `p_sim`
    (NaN otherwise), which take seconds per thousand locations without numba."""
    import esda

    y = np.asarray(values, dtype=float)
    if len(y) < 3 or np.allclose(y, y[0]):
        return pd.DataFrame({"Zs": np.zeros(len(y)), "p_norm": np.full(len(y), 0.5), "p": np.ones(len(y)),
                             "p_sim": np.ones(len(y)), "class": "not_significant"})
    # esda computes Zs through the ratio G = sum_j w_ij y_j / sum_j y_j, so with values that sum
    # to about zero (standardised rates) the sign of Zs would flip with the sign of the sum. The
    # Ord-Getis z is invariant to adding a constant, so shift the values to be positive first.
    if y.min() <= 0:
        y = y - y.min() + 1.0
    g = esda.G_Local(y, w, transform="B", star=True, permutations=permutations, seed=seed)
    p_sim = g.p_sim if permutations else np.full(len(y), np.nan)
    p = np.minimum(2 * g.p_norm, 1.0)  # two-sided, as Esri reports it
    return pd.DataFrame({"Zs": g.Zs, "p_norm": g.p_norm, "p": p, "p_sim": p_sim, "class": classify(g.Zs, p, fdr=fdr)})


def classify(z: np.ndarray, p: np.ndarray, *, fdr: bool = True) -> np.ndarray:
    """Esri's hot spot classes from z-scores and two-sided p-values."""
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    out = np.full(len(z), "not_significant", dtype=object)
    for level in sorted(LEVELS):  # 90, then 95, then 99 overwrite: the highest level met wins
        alpha = 1 - level
        crit = _fdr_threshold(p, alpha) if fdr else alpha
        sig = p <= crit
        tag = str(int(round(level * 100)))
        out[sig & (z > 0)] = "hot_" + tag
        out[sig & (z < 0)] = "cold_" + tag
    return out


def local_moran(values: np.ndarray, w, *, permutations: int = 999, seed: int = 0, alpha: float = 0.05,
                fdr: bool = True) -> pd.DataFrame:
    """LISA clusters: HH, LL, HL (high surrounded by low), LH, or not significant.

    Significance: esda's permutation pseudo p-value `p_sim` (Local Moran has no analytical
    one in esda). It is folded (one-sided in the observed direction), so it is compared with
    alpha / 2, and with `fdr` Benjamini-Hochberg is applied over all locations, as in Esri's
    Cluster and Outlier Analysis. Islands (no neighbours) are never significant: every
    permutation ties and esda would report p = 1/(permutations+1)."""
    if permutations < 1:
        raise ValueError(f"permutations={permutations!r}; Local Moran needs at least 1 (e.g. 499)")
    import esda

    y = np.asarray(values, dtype=float)
    if len(y) < 3 or np.allclose(y, y[0]):
        return pd.DataFrame({"Is": np.zeros(len(y)), "p_sim": np.ones(len(y)), "cluster": "not_significant"})
    m = esda.Moran_Local(y, w, transformation="R", permutations=permutations, seed=seed)
    names = np.array(["", "HH", "LH", "LL", "HL"], dtype=object)
    crit = _fdr_threshold(m.p_sim, alpha / 2) if fdr else alpha / 2
    islands = np.array([w.cardinalities[i] == 0 for i in w.id_order])
    sig = (m.p_sim <= crit) & ~islands
    cluster = np.where(sig, names[m.q], "not_significant")
    return pd.DataFrame({"Is": m.Is, "p_sim": m.p_sim, "cluster": cluster})


def standardised_rate(events: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Assuncao-Reis (1999) EB-standardised rates (esda.smoothing.assuncao_rate): the input
    for Gi* and LISA on rates; places with no population get 0."""
    from esda.smoothing import assuncao_rate

    e = np.asarray(events, dtype=float).ravel()
    b = np.asarray(population, dtype=float).ravel()
    out = np.zeros(len(e))
    ok = b > 0
    if ok.sum() >= 2 and e[ok].sum() > 0:
        out[ok] = np.asarray(assuncao_rate(e[ok], b[ok]), dtype=float).ravel()
    return out


def eb_rate(events: np.ndarray, population: np.ndarray, per: float = 1000.0) -> np.ndarray:
    """Empirical-Bayes smoothed rate per `per` people (esda.smoothing.Empirical_Bayes):
    small places shrink towards the overall rate, so 3 cases in 40 households do not top a list."""
    from esda.smoothing import Empirical_Bayes

    e = np.asarray(events, dtype=float).reshape(-1, 1)
    b = np.asarray(population, dtype=float).reshape(-1, 1)
    out = np.full(len(e), np.nan)
    ok = b[:, 0] > 0
    if ok.sum() >= 2 and e[ok].sum() > 0:
        out[ok] = Empirical_Bayes(e[ok], b[ok]).r[:, 0] * per
    elif ok.any():
        out[ok] = e[ok, 0] / b[ok, 0] * per
    return out


def _fdr_threshold(p: np.ndarray, alpha: float) -> float:
    """Benjamini-Hochberg: the largest p_(i) with p_(i) <= alpha * i / m (0 when none)."""
    ps = np.sort(p[np.isfinite(p)])
    m = len(ps)
    if m == 0:
        return 0.0
    ok = ps <= alpha * np.arange(1, m + 1) / m
    return float(ps[ok].max()) if ok.any() else 0.0
