"""Spatial weights (libpysal `W`) for the local statistics: Queen contiguity of outlines, the
ring neighbours of H3 cells, and the binary Gi* weights built from either.

Every function returns a new `W`: esda sets the transform of the weights it is given and,
with permutations, zeroes the diagonal of their sparse matrix, so a W handed to one
statistic is never shared with another. What is remembered between calls is the neighbour
lists of a set of outlines (a dashboard reruns the analysis on the same villages for every
filter), not the W.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import shapely


def contiguity(geoms, ids: list[str]):
    """Queen contiguity (a shared edge or corner) of `geoms`, ids `ids` in that order; an
    island has no neighbours. The neighbour lists of the last few sets of outlines are kept."""
    from libpysal.weights import W

    key = (tuple(ids), hashlib.blake2b(b"".join(shapely.to_wkb(np.asarray(geoms))), digest_size=16).digest())
    if key not in _NEIGHBOURS:
        while len(_NEIGHBOURS) >= 4:
            _NEIGHBOURS.pop(next(iter(_NEIGHBOURS)))
        _NEIGHBOURS[key] = _queen_neighbours(geoms, ids)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands and disconnected components
        return W({k: list(v) for k, v in _NEIGHBOURS[key].items()}, id_order=list(ids))


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
    """Gi* weights from `w`: its neighbour structure, binary, with each location its own
    neighbour (weight 1), in `w.id_order`. `w` itself is left alone: its weights and any
    self neighbours it has are not read, only who neighbours whom."""
    from libpysal.weights import W

    neighbours = {i: [i, *(j for j in w.neighbors[i] if j != i)] for i in w.id_order}
    return W(neighbours, id_order=list(w.id_order), silence_warnings=True)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------

_NEIGHBOURS: dict = {}  # (ids, digest of the outlines) -> neighbour lists, for contiguity


def _queen_neighbours(geoms, ids: list[str]) -> dict:
    import geopandas as gpd
    from libpysal.weights import Queen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Queen.from_dataframe(gpd.GeoDataFrame({"id": ids}, geometry=list(geoms)), ids=ids, use_index=False)
    return {k: list(v) for k, v in w.neighbors.items()}
