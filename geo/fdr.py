"""Which p-values of one run of a local statistic are significant: at `alpha` each, or with
the false discovery rate controlled by Benjamini-Hochberg over all locations (Esri's "Apply
False Discovery Rate (FDR) correction"), which keeps false alarms in check when hundreds of
villages are tested at once. Hot spots (Gi*), emerging hot spots and LISA clusters all use
`significance`, so a p-value means the same everywhere.

Benjamini & Hochberg (1995): with the m p-values sorted, p_(1) <= ... <= p_(m), let k be the
largest i with p_(i) <= i * alpha / m; p_(1) ... p_(k) are significant, nothing is when
there is no such i. A p-value is significant when p <= the cut-off, which is p_(k) (0 when
nothing is), so the rejected set is exactly Benjamini and Hochberg's.

Not `esda.fdr`: it looks for p_(i) < i * alpha / m (strict), and returns alpha / m
(Bonferroni) when no p-value passes (its docstring says "when all are rejected"); it also
counts NaN p-values in m. With continuous p-values the two rules reject the same set; they
differ only when some p_(i) equals i * alpha / m exactly, where the published rule rejects.
Here m counts the finite p-values; a NaN p-value is never significant.
"""

from __future__ import annotations

import numpy as np


def significance(p, alpha: float, *, fdr: bool = True) -> tuple[np.ndarray, float]:
    """(significant, cut-off) for the p-values `p` at level `alpha`: significant where
    p <= cut-off; the cut-off is `alpha` itself, or with `fdr` Benjamini-Hochberg's."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha!r}; expected 0 < alpha < 1")
    p = np.asarray(p, dtype=float)
    cutoff = benjamini_hochberg(p, alpha) if fdr else float(alpha)
    return p <= cutoff, cutoff


def benjamini_hochberg(p, alpha: float) -> float:
    """The largest p_(i) with p_(i) <= alpha * i / m over the finite p-values (0 when none)."""
    p = np.asarray(p, dtype=float)
    ps = np.sort(p[np.isfinite(p)])
    m = len(ps)
    passed = ps <= alpha * np.arange(1, m + 1) / m
    return float(ps[passed].max()) if passed.any() else 0.0


def q_values(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) over the finite `p`: q_(i) = min over
    j >= i of p_(j) * m / j, capped at 1; NaN stays NaN. q <= alpha exactly where
    `significance(p, alpha)` finds p significant."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m:
        order = ok[np.argsort(p[ok], kind="stable")]
        scaled = p[order] * m / np.arange(1, m + 1)
        q[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return q
