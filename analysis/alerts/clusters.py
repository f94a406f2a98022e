"""Near-duplicate demands (相近诉求): cases of the last `alert_cluster_days` days whose texts
(诉求内容, stored masked) are near-duplicates and whose villages are the same or neighbours,
grouped into one item.

Texts are compared as character 2-3-grams within word boundaries (scikit-learn's
TfidfVectorizer(analyzer='char_wb', ngram_range=(2, 3)); Chinese needs no word segmentation for
this, cf. Manning, Raghavan & Schütze, Introduction to Information Retrieval, 2008, ch. 6 and 19
on tf-idf cosine and near-duplicate detection); two cases are linked when the cosine of their
tf-idf vectors is at least `alert_similarity` and their villages are the same or Queen
contiguous (geo.weights); a group is a connected component of the links (single linkage).

- A group of at least `alert_group_size` cases is a warning: the seed of a group petition
  (集体访苗头), even when each case has one petitioner.
- "Likely the same matter" (疑似同一事项): a group of one village written through at least two
  channels whose cases no personal key ties together (the warehouse's 多头访 needs the same
  keyed petitioner; a case without name, phone and ID has none). Cases without any key come
  first: for them nothing but the text can tell it is the same person.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from etl import settings
from geo import weights


def recent_cases(con: duckdb.DuckDBPyConnection, as_of: dt.date, days: int | None = None) -> pd.DataFrame:
    """Cases received in the `days` (alert_cluster_days) up to `as_of` with a text: case_id,
    received_at, place (village code, else town code), village_code, town_code, category,
    channel, received_level, content (masked), keyed (a petitioner key exists), petitioner_hash."""
    days = int(days or settings.get("alert_cluster_days"))
    start = as_of - dt.timedelta(days=days - 1)
    return con.execute(_CASES + """
        WHERE f.received_date >= ? AND f.received_date <= ? AND nullif(trim(c.content), '') IS NOT NULL
        ORDER BY f.received_at, f.case_id""", [start, as_of]).df()


def cases_by_id(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pd.DataFrame:
    """The cases `ids` with the columns of recent_cases (a group's cases, to summarise part of it)."""
    return con.execute(_CASES + " WHERE list_contains(?, f.case_id) ORDER BY f.received_at, f.case_id", [list(ids)]).df()


_CASES = """
        SELECT f.case_id, f.received_at, coalesce(f.village_code, f.town_code, f.area_code) AS place,
               f.village_code, f.town_code, f.category, f.channel, f.received_level, c.content,
               c.petitioner_hash IS NOT NULL AS keyed, c.petitioner_hash
        FROM case_facts f JOIN cases c USING (case_id)"""


def vectorizer(**options):
    """The one text representation of 抓苗头: character 2-3-grams within word boundaries, tf-idf,
    L2-normalised (scikit-learn TfidfVectorizer; `options` add to it, e.g. sublinear_tf)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), **options)


def vectors(texts: list[str]) -> sparse.csr_matrix:
    """The texts' character 2-3-gram tf-idf vectors, L2-normalised (idf from these texts)."""
    if not texts:
        return sparse.csr_matrix((0, 0))
    try:
        return vectorizer().fit_transform(texts).tocsr()
    except ValueError:  # no text has two characters: nothing is similar
        return sparse.csr_matrix((len(texts), 0))


CHUNK_CELLS = 4_000_000  # similarities computed at once (rows x texts): bounds the memory whatever the number of texts


def similar_pairs(texts: list[str], threshold: float, chunk_cells: int = CHUNK_CELLS) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) with i < j for every pair of texts whose cosine similarity is at least `threshold`.

    Character n-gram vectors of Chinese texts share n-grams with almost every other text, so the
    full n x n product is nearly dense: it is computed a block of rows at a time (at most
    `chunk_cells` similarities held), keeping only the pairs at the threshold."""
    x = vectors(texts)
    n = x.shape[0]
    if n < 2 or x.shape[1] == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    xt = x.T.tocsc()
    step = max(1, int(chunk_cells) // n)
    rows, cols = [], []
    for lo in range(0, n, step):
        s = (x[lo:lo + step] @ xt).tocoo()  # rows are L2-normalised: the product is the cosine
        i = s.row + lo
        keep = (i < s.col) & (s.data >= threshold - 1e-9)
        rows.append(i[keep])
        cols.append(s.col[keep])
    return np.concatenate(rows).astype(int), np.concatenate(cols).astype(int)


def neighbours(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """Each village with an outline -> the villages sharing an edge or a corner with it."""
    rows = con.execute("SELECT code, ST_AsWKB(geom) FROM areas WHERE level = 'village' AND geom IS NOT NULL "
                       "ORDER BY code").fetchall()
    if not rows:
        return {}
    ids = [r[0] for r in rows]
    w = weights.contiguity(shapely.from_wkb([bytes(r[1]) for r in rows]), ids)
    return {i: set(w.neighbors[i]) for i in ids}


def group(cases: pd.DataFrame, threshold: float | None = None, near: dict[str, set[str]] | None = None,
          *, same_place: bool = False) -> np.ndarray:
    """A group label per case: connected components of the links (similarity >= threshold,
    places the same, or neighbours in `near` unless `same_place`)."""
    threshold = float(threshold if threshold is not None else settings.get("alert_similarity"))
    n = len(cases)
    if n == 0:
        return np.zeros(0, dtype=int)
    a, b = similar_pairs(cases["content"].astype(str).tolist(), threshold)
    places = cases["place"].astype(str).to_numpy()
    near = near or {}
    ok = places[a] == places[b]
    if not same_place:
        ok |= np.array([places[j] in near.get(places[i], ()) for i, j in zip(a, b)], dtype=bool)
    g = sparse.coo_matrix((np.ones(int(ok.sum())), (a[ok], b[ok])), shape=(n, n))
    return connected_components(g, directed=False)[1]


def summarise(cases: pd.DataFrame, labels: np.ndarray, min_size: int = 2) -> pd.DataFrame:
    """One row per group of `min_size` or more cases: case_ids, places, n, channels (distinct),
    keyless (cases without a petitioner key), petitioners (distinct keys), categories,
    first and last received_at, text (the earliest case's masked text), main_place and
    main_category (the most frequent, the smallest on a tie: what the warning's key names)."""
    cols = ["case_ids", "places", "n", "channels", "keyless", "petitioners", "categories", "first", "last", "text",
            "main_place", "main_category"]
    if cases.empty:
        return pd.DataFrame(columns=cols)
    df = cases.assign(_g=labels)
    sizes = df["_g"].value_counts()
    df = df[df["_g"].isin(sizes[sizes >= min_size].index)]
    rows = []
    for _, part in df.groupby("_g", sort=False):
        rows.append({
            "case_ids": part["case_id"].tolist(), "places": sorted(part["place"].astype(str).unique()),
            "n": len(part), "channels": sorted(part["channel"].unique()), "keyless": int((~part["keyed"]).sum()),
            "petitioners": int(part["petitioner_hash"].nunique()), "categories": sorted(part["category"].unique()),
            "first": part["received_at"].min(), "last": part["received_at"].max(), "text": part["content"].iloc[0],
            "main_place": _mode(part["place"].astype(str)), "main_category": _mode(part["category"].astype(str)),
        })
    return pd.DataFrame(rows, columns=cols)


def _mode(values: pd.Series) -> str:
    counts = values.value_counts()
    return str(min(counts.index, key=lambda v: (-counts[v], v)))


def clusters(con: duckdb.DuckDBPyConnection, as_of: dt.date, cases: pd.DataFrame | None = None) -> pd.DataFrame:
    """Groups of near-duplicate demands with at least `alert_group_size` cases, largest first
    (then the most villages, the latest case)."""
    cases = recent_cases(con, as_of) if cases is None else cases
    out = summarise(cases, group(cases, near=neighbours(con)))
    out = out[out["n"] >= int(settings.get("alert_group_size"))].copy()
    out["n_places"] = out["places"].map(len)
    return out.sort_values(["n", "n_places", "last"], ascending=[False, False, False]).reset_index(drop=True)


def same_matter(con: duckdb.DuckDBPyConnection, as_of: dt.date, cases: pd.DataFrame | None = None,
                exclude: set[str] | frozenset = frozenset()) -> pd.DataFrame:
    """疑似同一事项: groups of one village's near-duplicate cases through two or more channels that
    no single personal key ties together, the ones without keys first (then most channels, most
    cases). Cases in `exclude` (those of the group warnings, which report them) are left out."""
    cases = recent_cases(con, as_of) if cases is None else cases
    cases = cases[~cases["case_id"].isin(list(exclude))].reset_index(drop=True)
    out = summarise(cases, group(cases, same_place=True))
    out = out[(out["channels"].map(len) >= 2) & ~((out["keyless"] == 0) & (out["petitioners"] == 1))].copy()
    out["n_channels"] = out["channels"].map(len)
    out["all_keyless"] = out["keyless"] == out["n"]
    return out.sort_values(["all_keyless", "keyless", "n_channels", "n", "last"],
                           ascending=[False, False, False, False, False]).reset_index(drop=True)
