"""Rates of events (cases) per population (households) for small areas: Empirical-Bayes
smoothed rates to show, and Assuncao-Reis standardised rates to test (esda.smoothing).

Gi* and LISA are run on Assuncao-Reis standardised rates, not on EB-smoothed rates: after EB
shrinkage the remaining spread comes mostly from the largest villages and the normal
p-value is far too permissive (a review simulated 529 villages with no pattern: over half
the runs flagged a village after FDR). The EB rate is kept for display.
"""

from __future__ import annotations

import numpy as np


def eb_rate(events, population, per: float = 1000.0) -> np.ndarray:
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


def standardised_rate(events, population) -> np.ndarray:
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
