"""Local Moran's I (LISA) clusters: HH, LL, HL (high surrounded by low), LH, or not
significant, from esda `Moran_Local` with row-standardised weights.

Significance: esda's permutation pseudo p-value `p_sim` (Local Moran has no analytical one
in esda). It is folded (one-sided in the observed direction), so it is compared with
alpha / 2, and with `fdr` Benjamini-Hochberg is applied over all locations (geo.fdr), as in
Esri's Cluster and Outlier Analysis. Islands (no neighbours) are never significant: every
permutation ties and esda would report p = 1/(permutations+1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .fdr import significance

LISA_LABELS = {"HH": "高-高聚集", "LL": "低-低聚集", "HL": "高值被低值包围", "LH": "低值被高值包围", "not_significant": "不显著"}


def local_moran(values, w, *, permutations: int = 999, seed: int = 0, alpha: float = 0.05,
                fdr: bool = True) -> pd.DataFrame:
    """LISA per location of `w` (in `w.id_order`): columns `Is`, `p_sim` and `cluster` (a key
    of LISA_LABELS). esda sets the transform of `w` to "R"."""
    if permutations < 1:
        raise ValueError(f"permutations={permutations!r}; Local Moran needs at least 1 (e.g. 499)")
    import esda

    y = np.asarray(values, dtype=float)
    if len(y) < 3 or np.allclose(y, y[0]):
        return pd.DataFrame({"Is": np.zeros(len(y)), "p_sim": np.ones(len(y)), "cluster": "not_significant"})
    m = esda.Moran_Local(y, w, transformation="R", permutations=permutations, seed=seed)
    names = np.array(["", "HH", "LH", "LL", "HL"], dtype=object)
    sig, _ = significance(m.p_sim, alpha / 2, fdr=fdr)
    islands = np.array([w.cardinalities[i] == 0 for i in w.id_order])
    cluster = np.where(sig & ~islands, names[m.q], "not_significant")
    return pd.DataFrame({"Is": m.Is, "p_sim": m.p_sim, "cluster": cluster})
