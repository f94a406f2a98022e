"""Classes of a choropleth: quantile edges rounded to what the legend shows, and the legend's labels.

The rounding is chosen from the data (`decimals`): whole numbers for counts and for figures that
span tens or more, one decimal for a span of units, two for a span under one, and always enough
that the smallest positive value does not round to 0. Values are rounded before they are classed,
and the class edges are rounded values, so a class is labelled with the very numbers that decide
it: classes never overlap and never repeat after rounding (quantiles that round to the same
edge are one class). Zero (and no value) is a class of its own, labelled "0".
"""

from __future__ import annotations

import math

import numpy as np

MAX_DECIMALS = 3


def decimals(values: np.ndarray) -> int:
    """Decimals the legend of `values` needs: 0 for whole numbers; else from the positive values'
    range (0 when it spans 10 or more, 1 from 1, 2 below), raised until the smallest positive
    value does not round to 0 (at most MAX_DECIMALS)."""
    v = np.asarray(values, dtype=float)
    pos = v[np.isfinite(v) & (v > 0)]
    if len(pos) == 0 or np.all(pos == np.round(pos)):
        return 0
    span = float(pos.max() - pos.min()) or float(pos.max())
    d = min(MAX_DECIMALS, max(0, 1 - math.floor(math.log10(span))))
    while d < MAX_DECIMALS and round(float(pos.min()), d) <= 0:
        d += 1
    return d


def rounded(values: np.ndarray, d: int) -> np.ndarray:
    """`values` rounded to `d` decimals as the classes see them (missing as 0)."""
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    return np.round(v, d)


def class_breaks(values: np.ndarray, k: int = 6) -> list[float]:
    """Upper edges of up to `k` quantile classes of the positive values, after rounding them to
    `decimals(values)` (zeros form their own class); distinct and increasing."""
    d = decimals(values)
    v = rounded(values, d)
    pos = v[v > 0]
    if len(pos) == 0:
        return []
    qs = np.unique(np.quantile(pos, np.linspace(0, 1, k + 1)[1:], method="higher"))
    return [round(float(q), d) for q in qs]


def class_of(v: float, breaks: list[float], d: int) -> int | None:
    """The class (0-based) of value `v` rounded to `d` decimals; None for zero or no value."""
    if v is None or not np.isfinite(v):
        return None
    v = round(float(v), d)
    if v <= 0 or not breaks:
        return None
    for i, hi in enumerate(breaks):
        if v <= hi:
            return i
    return len(breaks) - 1


def number(x: float, d: int) -> str:
    """A legend number: `d` decimals, thousands separators."""
    return f"{x:,.{d}f}"


def labels(breaks: list[float], d: int | None = None, smallest: float | None = None) -> list[str]:
    """The legend's labels: '0' for the zero class, then each class as 'low–high' (a single value
    alone) where low is the previous edge plus one step of the rounding (the smallest positive
    value, `smallest`, for the first class when given)."""
    if d is None:
        d = max((len(f"{b:.{MAX_DECIMALS}f}".rstrip("0").split(".")[1]) for b in breaks), default=0)
    step = 10.0 ** -d
    out = ["0"]
    prev = 0.0
    for i, hi in enumerate(breaks):
        lo = round(prev + step, d) if i or smallest is None else max(round(float(smallest), d), step)
        out.append(number(hi, d) if lo >= hi else f"{number(lo, d)}–{number(hi, d)}")
        prev = hi
    return out
