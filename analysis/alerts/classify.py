"""Category suggestions (类别建议) for cases whose category the vocabulary does not know (kept as
written at load time, etl/terms.py 'unmapped'), from their masked text, with a classifier trained
on the warehouse's own categorised cases, offline (no network, no downloaded model).

Model: character 2-3-gram tf-idf (as clusters.vectors) and a Complement Naive Bayes classifier
(Rennie, Shih, Teevan & Karger 2003, "Tackling the poor assumptions of naive Bayes text
classifiers", ICML), scikit-learn. Its accuracy is estimated by stratified k-fold
cross-validation on the same cases (k = 5, fewer when a category has fewer cases).

A suggestion never changes a case: a planner who accepts one maps the written term to the
suggested category (etl.terms.map_term, the warehouse's own vocabulary, table vocab_map), which
re-derives the stored cases at once, survives reloads and is audited like `minqing vocab map`.
Suggestions are made per written term: the mean of its cases' predicted probabilities.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from etl import vocab

MIN_PER_CLASS = 2  # categories with fewer cases are left out of training (no stratified split)
FOLDS = 5  # stratified cross-validation folds (fewer when a category has fewer cases)
MAX_TRAIN = 20_000  # a stratified sample of at most this many cases trains the model (and is cross-validated)


@dataclass
class Model:
    pipeline: object | None
    classes: list[str]
    accuracy: float | None  # mean stratified cross-validated accuracy
    folds: int
    n_train: int
    seconds: float  # to cross-validate and train, on this machine
    per_fold: list[float] = field(default_factory=list)

    def predict(self, texts: list[str]) -> pd.DataFrame:
        """Per text: suggested category and its probability."""
        if self.pipeline is None or not texts:
            return pd.DataFrame({"suggested": pd.Series(dtype=str), "probability": pd.Series(dtype=float)})
        return self.best(self.pipeline.predict_proba(texts))

    def best(self, proba: np.ndarray) -> pd.DataFrame:
        """Per row of class probabilities (the pipeline's predict_proba): the most likely category and its probability."""
        return pd.DataFrame({"suggested": np.asarray(self.pipeline.classes_)[proba.argmax(axis=1)],
                             "probability": proba.max(axis=1)})


def training_cases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Cases with a text and a category of the vocabulary (content, category)."""
    known = vocab.terms("category")
    return con.execute("""
        SELECT content, category FROM cases
        WHERE nullif(trim(content), '') IS NOT NULL AND list_contains(?, category)
        ORDER BY case_id""", [known]).df()


def pipeline():
    from sklearn.naive_bayes import ComplementNB
    from sklearn.pipeline import make_pipeline

    from .clusters import vectorizer

    return make_pipeline(vectorizer(sublinear_tf=True), ComplementNB(alpha=0.3))


def train(df: pd.DataFrame, *, seed: int = 0) -> Model:
    """Cross-validate and fit the model on `df` (content, category)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    t0 = time.perf_counter()
    counts = df["category"].value_counts()
    df = df[df["category"].isin(counts[counts >= MIN_PER_CLASS].index)]
    if df["category"].nunique() < 2:
        return Model(None, sorted(df["category"].unique()), None, 0, len(df), time.perf_counter() - t0)
    if len(df) > MAX_TRAIN:
        df = sample(df, MAX_TRAIN, seed)
    folds = int(min(FOLDS, df["category"].value_counts().min()))
    if folds < 2 or df["category"].nunique() < 2:  # not reached after sample(); kept so no split can fail
        return Model(None, sorted(df["category"].unique()), None, 0, len(df), time.perf_counter() - t0)
    texts, labels = df["content"].astype(str).tolist(), df["category"].to_numpy()
    scores = cross_val_score(pipeline(), texts, labels, cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    model = pipeline().fit(texts, labels)
    return Model(model, list(model.classes_), float(scores.mean()), folds, len(df), time.perf_counter() - t0,
                 [float(s) for s in scores])


def sample(df: pd.DataFrame, size: int, seed: int = 0) -> pd.DataFrame:
    """A stratified sample of about `size` cases of `df`: each category in proportion, but never
    fewer than FOLDS cases (or all it has), so a rare category can still be cross-validated."""
    frac = size / len(df)
    parts = [part.sample(n=min(len(part), max(FOLDS, round(frac * len(part)))), random_state=seed)
             for _, part in df.groupby("category", sort=True)]
    return pd.concat(parts)


def unmapped_cases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Cases whose category is not a term of the vocabulary: case_id, area_code, category_raw
    (as written), category (as stored), content (masked)."""
    return con.execute("""
        SELECT case_id, area_code, coalesce(category_raw, category) AS category_raw, category,
               coalesce(content, '') AS content
        FROM cases WHERE NOT list_contains(?, category) ORDER BY case_id""", [vocab.terms("category")]).df()


def suggestions(con: duckdb.DuckDBPyConnection, model: Model | None = None) -> tuple[pd.DataFrame, pd.DataFrame, Model]:
    """(per written term: category_raw, cases, suggested, probability, agree (share of its cases
    whose own suggestion is the term's); per case: case_id,
    area_code, category_raw, suggested, probability; the model). Nothing is written. Without
    unmapped cases no model is trained (its accuracy is None)."""
    cases = unmapped_cases(con)
    terms_cols = ["category_raw", "cases", "suggested", "probability", "agree"]
    if model is None and cases.empty:  # nothing to suggest: no model trained
        return pd.DataFrame(columns=terms_cols), cases.assign(suggested=None, probability=np.nan), Model(None, [], None, 0, 0, 0.0)
    if model is None:
        model = train(training_cases(con))
    if cases.empty or model.pipeline is None:
        return pd.DataFrame(columns=terms_cols), cases.assign(suggested=None, probability=np.nan), model
    texts = cases["content"].astype(str).tolist()
    proba = model.pipeline.predict_proba(texts)  # once: the per-case and per-term suggestions both read it
    per_case = pd.concat([cases.reset_index(drop=True), model.best(proba)], axis=1)
    suggested = per_case["suggested"].to_numpy()
    rows = []
    for term, idx in per_case.groupby("category_raw").indices.items():
        mean = proba[idx].mean(axis=0)
        best = int(mean.argmax())
        agree = float((suggested[idx] == model.classes[best]).mean())
        rows.append({"category_raw": term, "cases": len(idx), "suggested": model.classes[best], "probability": float(mean[best]),
                     "agree": agree})
    per_term = pd.DataFrame(rows, columns=terms_cols).sort_values(["cases", "category_raw"], ascending=[False, True])
    return per_term.reset_index(drop=True), per_case, model
