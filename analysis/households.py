"""Household aggregates from the livelihood database (民情数据库): categories (精确分类),
their changes over time, pairing of 连心户 with cadres (一对一帮扶) and the five must-see
groups (五必访). Everything is counted in DuckDB over the view `household_facts`
(etl/sql/views.sql) and the history table `household_categories`.

Only aggregates leave this module; household rows come only from `household_records`,
which a caller must ask for explicitly, and even then without names in clear, income or debt.

Definitions:
- Area levels: `village` (the household's area), `town` and `district` (the town and district
  of its code, etl.codes). Every area of the level is listed, zeros included; `area_prefix`
  keeps areas inside it (or containing it: a town row for a village prefix counts only
  that village's households).
- Category counts and shares: households per category of the vocabulary
  (etl/vocab.toml `household_category`, in rank order: 放心户, 关心户, 连心户); share =
  count / households of the area (NaN when the area has none). Columns are named by the
  vocabulary key (`assured`, `attention`, `key_assistance`, `<key>_share`); LABELS gives
  the Chinese. With `on=date` the categories held on that date are counted, from the
  history: valid_from <= date < valid_to (valid_to NULL: still held); households without
  a record on that date are left out.
- Transitions: each household's category on `start` (row) and on `end` (column), from the
  same history; households first recorded after `start` are in the row NEW_LABEL (未建档).
  worsened / improved compare the vocabulary ranks (a higher rank needs more help).
- Pairing coverage (结对覆盖率): among households whose current category is 连心户, those
  with a paired cadre id (paired) over all of them; paired_cadre_unknown counts pairings
  whose cadre id is not in `cadres` (still counted as paired); cadres: distinct paired cadres.
- Five must-see groups (五必访): households flagged 贫困户 (poor), 五保户 (wubao),
  老党员 (old_party_member), 两代一委 (deputy), 村组干部 (village_cadre); any_must_see
  counts households with at least one flag (a household can be in several groups).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from etl import vocab
from etl.codes import town_of
from etl.views import ensure_views

LEVELS = ("village", "town", "district")
MUST_SEE = {"poor": "贫困户", "wubao": "五保户", "old_party_member": "老党员", "deputy": "两代一委",
            "village_cadre": "村组干部"}
NEW_LABEL = "未建档"

_LEVEL_KEY = {"village": "village_code", "town": "town_code", "district": "district_code"}


def categories() -> list[dict]:
    """The household categories of the vocabulary, by rank (least need first)."""
    return sorted(vocab.vocab("household_category"), key=lambda t: t["rank"])


def labels() -> dict[str, str]:
    """Chinese labels of every column the functions here return."""
    out = {"code": "代码", "name": "名称", "households": "户数", "key_households": "连心户数",
           "paired": "已结对", "unpaired": "未结对", "coverage": "结对覆盖率",
           "paired_cadre_unknown": "结对干部不在干部库", "cadres": "结对干部数", "any_must_see": "五必访户"}
    for t in categories():
        out[t["key"]] = t["term"]
        out[f"{t['key']}_share"] = f"{t['term']}占比"
    out.update(MUST_SEE)
    return out


def _level(level: str) -> str:
    if level not in _LEVEL_KEY:
        raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}")
    return _LEVEL_KEY[level]


def _by_area(con: duckdb.DuckDBPyConnection, level: str, area_prefix: str, measures: str, source: str,
             params: dict | None = None) -> pd.DataFrame:
    """Aggregate `source` (a relation with the household_facts area columns) per area of `level`,
    every area of the level listed (zeros as 0 / NaN)."""
    key = _level(level)
    ensure_views(con)
    p = {"prefix": area_prefix or "", **(params or {})}
    sql = f"""
        WITH src AS ({source}),
        agg AS (SELECT {key} AS code, {measures} FROM src
                WHERE starts_with(area_code, $prefix) AND {key} IS NOT NULL GROUP BY 1)
        SELECT a.code, a.name, agg.* EXCLUDE (code)
        FROM areas a LEFT JOIN agg ON agg.code = a.code
        WHERE a.level = '{level}' AND (starts_with(a.code, $prefix) OR starts_with($prefix, a.code))
        ORDER BY a.code"""
    return con.execute(sql, p).df()


def _fill_counts(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    df[cols] = df[cols].fillna(0).astype("int64")
    return df


def category_counts(con: duckdb.DuckDBPyConnection, level: str = "village", *, area_prefix: str = "",
                    on: dt.date | None = None) -> pd.DataFrame:
    """Households per area with counts and shares of each category (放心户/关心户/连心户).

    Latest state by default; `on` counts the categories held on that date (history)."""
    cats = categories()
    params = {f"c{i}": t["term"] for i, t in enumerate(cats)}
    measures = ", ".join(["count(*) AS households"] +
                         [f"count(*) FILTER (category = $c{i}) AS {t['key']}" for i, t in enumerate(cats)])
    if on is None:
        source = "SELECT area_code, village_code, town_code, district_code, category FROM household_facts"
    else:
        params["on"] = on
        source = """SELECT f.area_code, f.village_code, f.town_code, f.district_code, hc.category
                    FROM household_facts f JOIN (
                        SELECT household_id, arg_max(category, valid_from) AS category FROM household_categories
                        WHERE valid_from <= $on AND (valid_to IS NULL OR valid_to > $on) GROUP BY household_id
                    ) hc USING (household_id)"""
    df = _fill_counts(_by_area(con, level, area_prefix, measures, source, params),
                      ["households"] + [t["key"] for t in cats])
    for t in cats:
        df[f"{t['key']}_share"] = df[t["key"]] / df["households"].where(df["households"] > 0)
    return df


def category_transitions(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, *,
                         area_prefix: str = "") -> pd.DataFrame:
    """Matrix of households by category on `start` (rows) and on `end` (columns), terms as labels.

    Rows: the categories plus NEW_LABEL (no record on `start`); columns: the categories.
    Households without a record on `end` are left out."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    ensure_views(con)
    df = con.execute(
        """
        WITH held AS (  -- the category held on each date (the latest record if periods overlap)
            SELECT household_id,
                   arg_max(category, valid_from) FILTER (valid_from <= $start AND (valid_to IS NULL OR valid_to > $start))
                       AS from_category,
                   arg_max(category, valid_from) FILTER (valid_from <= $end AND (valid_to IS NULL OR valid_to > $end))
                       AS to_category
            FROM household_categories GROUP BY household_id
        )
        SELECT held.from_category, held.to_category, count(*) AS n
        FROM household_facts f JOIN held USING (household_id)
        WHERE starts_with(f.area_code, $prefix) AND held.to_category IS NOT NULL
        GROUP BY ALL
        """,
        {"start": start, "end": end, "prefix": area_prefix or ""},
    ).df()
    terms = [t["term"] for t in categories()]
    df["from_category"] = df["from_category"].fillna(NEW_LABEL)
    matrix = df.pivot_table(index="from_category", columns="to_category", values="n", aggfunc="sum", fill_value=0)
    matrix = matrix.reindex(index=terms + [NEW_LABEL], columns=terms, fill_value=0).astype("int64")
    matrix.index.name, matrix.columns.name = "from", "to"
    return matrix


def transition_summary(matrix: pd.DataFrame) -> dict:
    """Totals of a transition matrix: households, unchanged, worsened (to a higher-need
    category), improved, new (no record at the start)."""
    rank = {t["term"]: t["rank"] for t in categories()}
    out = {"households": int(matrix.to_numpy().sum()), "unchanged": 0, "worsened": 0, "improved": 0,
           "new": int(matrix.loc[NEW_LABEL].sum()) if NEW_LABEL in matrix.index else 0}
    for f in matrix.index:  # at most a handful of categories
        if f not in rank:
            continue
        for t in matrix.columns:
            n = int(matrix.loc[f, t])
            key = "unchanged" if rank[t] == rank[f] else "worsened" if rank[t] > rank[f] else "improved"
            out[key] += n
    return out


def pairing_coverage(con: duckdb.DuckDBPyConnection, level: str = "village", *, area_prefix: str = "") -> pd.DataFrame:
    """Per area: 连心户 (key_households), paired with a cadre, unpaired, coverage = paired / key_households."""
    measures = """count(*) FILTER (needs_pairing) AS key_households,
                  count(*) FILTER (is_paired) AS paired,
                  count(*) FILTER (needs_pairing AND NOT is_paired) AS unpaired,
                  count(*) FILTER (paired_cadre_unknown) AS paired_cadre_unknown,
                  count(DISTINCT paired_cadre_id) FILTER (is_paired) AS cadres"""
    df = _fill_counts(_by_area(con, level, area_prefix, measures, "SELECT * FROM household_facts"),
                      ["key_households", "paired", "unpaired", "paired_cadre_unknown", "cadres"])
    df["coverage"] = df["paired"] / df["key_households"].where(df["key_households"] > 0)
    return df


def must_see_counts(con: duckdb.DuckDBPyConnection, level: str = "village", *, area_prefix: str = "") -> pd.DataFrame:
    """Per area: households in each of the five must-see groups (五必访) and in any of them."""
    measures = ", ".join(["count(*) AS households"] + [f"count(*) FILTER ({k}) AS {k}" for k in MUST_SEE] +
                         ["count(*) FILTER (any_must_see) AS any_must_see"])
    return _fill_counts(_by_area(con, level, area_prefix, measures, "SELECT * FROM household_facts"),
                        ["households", *MUST_SEE, "any_must_see"])


def household_records(con: duckdb.DuckDBPyConnection, *, area_prefix: str, category: str | None = None,
                      must_see: str | None = None, unpaired_only: bool = False) -> pd.DataFrame:
    """Household rows, for a caller that needs them (e.g. a cadre's visit list): masked head
    of household, no hash, income or debt. `area_prefix` is required (at least a town code)
    so a whole district is never listed by accident; `category` a term or synonym; `must_see`
    one of MUST_SEE's keys; `unpaired_only` keeps 连心户 without a paired cadre."""
    if town_of(area_prefix) is None:
        raise ValueError(f"household_records needs a town or village code as area_prefix, not {area_prefix!r}")
    ensure_views(con)
    clauses, params = ["starts_with(f.area_code, $prefix)"], {"prefix": area_prefix}
    if category is not None:
        term = vocab.synonym_map("household_category").get(vocab._norm(category))
        if term is None:
            raise ValueError(f"unknown household category {category!r}")
        clauses.append("f.category = $category")
        params["category"] = term
    if must_see is not None:
        if must_see not in MUST_SEE:
            raise ValueError(f"unknown must-see group {must_see!r}; expected one of {list(MUST_SEE)}")
        clauses.append(f"f.{must_see}")
    if unpaired_only:
        clauses.append("f.needs_pairing AND NOT f.is_paired")
    return con.execute(
        f"""SELECT f.household_id, f.area_code, a.name AS area_name, h.head_masked, f.members, f.category,
                   f.category_since, {', '.join('f.' + k for k in MUST_SEE)}, f.paired_cadre_id
            FROM household_facts f JOIN households h USING (household_id)
            LEFT JOIN areas a ON a.code = f.area_code
            WHERE {' AND '.join(clauses)} ORDER BY f.area_code, f.household_id""",
        params,
    ).df()
