"""Spatial weights (libpysal `W`) for the local statistics: Queen contiguity of outlines, the
ring neighbours of H3 cells, and Gi*'s binary star weights built from either.

esda sets the transform of the weights it is given and, with permutations, zeroes the
diagonal of their sparse matrix; so each function returns a new `W`, except Gi*'s weights
of a set of outlines (`contiguity(..., star=True)`), which are shared between calls: a
dashboard reruns Gi* on the same villages for every filter, and geo.getis_ord.gi_star
only reads their sparse matrix without permutations and builds its own W otherwise.

Queen neighbours are found with numpy (`_queen_neighbours`: the vertices libpysal's `Queen`
compares, sorted once), the same neighbours as libpysal's several times faster.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import shapely


def contiguity(geoms, ids: list[str], *, star: bool = False):
    """Queen contiguity (a shared edge or corner) of `geoms`, ids `ids` in that order; an
    island has no neighbours. `star=True`: Gi*'s weights instead (`binary_star` of them).
    The neighbour lists of the last few sets of outlines are remembered, with their Gi*
    weights; otherwise each call gets a new W (LISA sets its transform on it)."""
    from libpysal.weights import W

    key = (tuple(ids), hashlib.blake2b(b"".join(shapely.to_wkb(np.asarray(geoms))), digest_size=16).digest())
    if key not in _NEIGHBOURS:
        while len(_NEIGHBOURS) >= 4:
            _NEIGHBOURS.pop(next(iter(_NEIGHBOURS)))
        _NEIGHBOURS[key] = {"neighbours": _queen_neighbours(geoms, ids)}
    entry = _NEIGHBOURS[key]
    if star:
        if "star" not in entry:
            entry["star"] = _star(entry["neighbours"], ids)
        return entry["star"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands and disconnected components
        return W({k: list(v) for k, v in entry["neighbours"].items()}, id_order=list(ids))


def hex_weights(ids: list[str]):
    """H3 cells `ids` (hex strings) with the cells of their first ring that are among `ids`."""
    import h3
    from libpysal.weights import W

    present = set(ids)
    neighbours = {c: [n for n in h3.grid_ring(c, 1) if n in present] for c in ids}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return W(neighbours, id_order=ids)


def binary_star(w):
    """Gi* weights from `w`: a new W with its neighbour structure, binary, and each location
    its own neighbour (weight 1), in `w.id_order`. Only who neighbours whom is read from `w`."""
    return _star(w.neighbors, w.id_order)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------

_NEIGHBOURS: dict = {}  # (ids, digest of the outlines) -> {"neighbours": ..., "star": W}, for contiguity


def _queen_neighbours(geoms, ids: list[str]) -> dict:
    """Queen neighbours as libpysal's `Queen` finds them (two outlines are neighbours when their
    boundaries, holes included, share a vertex: equal coordinates), with numpy: every vertex
    sorted once, then the outlines meeting at each shared vertex paired. The same neighbours
    as libpysal (tests/test_weights.py), several times faster on a province's villages."""
    import pandas as pd

    coords, which = shapely.get_coordinates(shapely.boundary(np.asarray(geoms, dtype=object)), return_index=True)
    out: dict = {i: [] for i in ids}
    if not len(coords):
        return out
    order = np.lexsort((which, coords[:, 1], coords[:, 0]))
    xy, owner = coords[order], which[order]
    vertex = np.cumsum(np.r_[True, (xy[1:] != xy[:-1]).any(axis=1)])
    at = pd.DataFrame({"v": vertex, "g": owner}).drop_duplicates()
    shared = at[at.duplicated("v", keep=False)]
    pairs = shared.merge(shared, on="v")
    pairs = pairs.loc[pairs["g_x"] != pairs["g_y"], ["g_x", "g_y"]].drop_duplicates().sort_values(["g_x", "g_y"])
    idx = np.asarray(ids, dtype=object)
    a, b = pairs["g_x"].to_numpy(), pairs["g_y"].to_numpy()
    if not len(a):  # no outline shares a vertex with another: every one an island
        return out
    cuts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
    for start, end in zip(cuts, np.r_[cuts[1:], len(a)]):
        out[idx[a[start]]] = list(idx[b[start:end]])
    return out


def _star(neighbours: dict, ids):
    from libpysal.weights import W

    star = {i: [i, *(j for j in neighbours[i] if j != i)] for i in ids}
    return W(star, id_order=list(ids), silence_warnings=True)
