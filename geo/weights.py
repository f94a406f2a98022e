"""Spatial weights (libpysal `W`) for the local statistics: Queen contiguity of outlines, the
ring neighbours of H3 cells, and Gi*'s binary star weights built from either.

esda sets the transform of the weights it is given and, with permutations, zeroes the
diagonal of their sparse matrix; so each function returns a new `W`, except Gi*'s weights
of a set of outlines (`contiguity(..., star=True)`), which are shared between calls: a
dashboard reruns Gi* on the same villages for every filter, and geo.getis_ord.gi_star
uses binary star weights without permutations as they are (esda then only sets their
transform to "B", which changes none of their weights) and copies them otherwise.
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


def is_binary_star(w) -> bool:
    """Whether `w` already is Gi*'s weights: every location its own neighbour, every weight 1."""
    return (all(i in w.neighbors[i] for i in w.id_order)
            and all(x == 1 for weights in w.weights.values() for x in weights))


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------

_NEIGHBOURS: dict = {}  # (ids, digest of the outlines) -> {"neighbours": ..., "star": W}, for contiguity


def _queen_neighbours(geoms, ids: list[str]) -> dict:
    import geopandas as gpd
    from libpysal.weights import Queen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Queen.from_dataframe(gpd.GeoDataFrame({"id": ids}, geometry=list(geoms)), ids=ids, use_index=False)
    return {k: list(v) for k, v in w.neighbors.items()}


def _star(neighbours: dict, ids):
    from libpysal.weights import W

    star = {i: [i, *(j for j in neighbours[i] if j != i)] for i in ids}
    return W(star, id_order=list(ids), silence_warnings=True)
