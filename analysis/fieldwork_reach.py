"""驻点走访, the households and villages reached: share of households visited by category and
five must-see group (五必访), 连心户 without a recent visit, and each village's visit coverage next
to its 五必去 flags. Import these from analysis.fieldwork, whose docstring defines the period,
the area and the empty frames; the definitions particular to this module:

- A household is visited in the period when a visit names its household_id in the period
  (wherever the visit was placed); its area is the household's.
- 连心户 (the household category paired one-to-one, vocabulary key `key_assistance`) unvisited:
  no visit naming it in the `fieldwork_key_unvisited_days` days up to the period's end
  (end - days < visited_at <= end); never visited first, then the longest since the last visit.
- Village coverage: households of the village visited in the period / its households; visits:
  every visit placed in the village in the period (with a household or not); last_visit: the
  latest visit placed in it up to the period's end.
- Must-visit villages: those with at least one 五必去 flag (analysis.must_visit, over its own
  window up to the data's date); unvisited: no visit placed in the village in the period.
  Ordered as 五必去 orders them (priority score first), so the first row is the page's first line.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from etl import codes, settings, vocab
from etl.views import ensure_views

from .filters import CaseFilter
from .households import MUST_SEE

REACHED_COLUMNS = ["group", "label", "kind", "households", "visited", "share"]
UNVISITED_COLUMNS = ["household_id", "area_code", "village", "town_code", "town", "paired_cadre_id",
                     "cadre_name_masked", "last_visit", "days_since_visit"]
COVERAGE_COLUMNS = ["area_code", "name", "town_code", "town", "households", "visited_households", "coverage",
                    "visits", "last_visit", "must_visit", "must_visit_flags", "must_visit_score"]


def households_reached(con: duckdb.DuckDBPyConnection, flt: CaseFilter) -> pd.DataFrame:
    """Households of the area and those visited in the period, per category (kind 'category',
    group: the vocabulary key, label: the term) and per 五必访 group (kind 'must_see', group:
    the household flag, plus 'any_must_see'); share = visited / households. Empty without
    households or without visits."""
    from . import fieldwork as fw

    if not (fw._has(con, "households") and fw._has(con, "visits")):
        return fw._empty(REACHED_COLUMNS)
    ensure_views(con)
    flt = fw.closed(con, flt)
    vw, vp = fw._visits_in(flt.without_area())
    hw, hp = fw._area(flt, "f")
    cats = sorted(vocab.vocab("household_category"), key=lambda t: t["rank"])
    terms = {f"cat{i}": t["term"] for i, t in enumerate(cats)}
    groups = [(t["key"], t["term"], "category", f"f.category = $cat{i}") for i, t in enumerate(cats)]
    groups += [(k, label, "must_see", f"f.{k}") for k, label in MUST_SEE.items()]
    groups.append(("any_must_see", "五必访户 (任一)", "must_see", "f.any_must_see"))
    measures = ", ".join(f"count(*) FILTER ({cond}) AS n{i}, count(*) FILTER ({cond} AND f.visited) AS v{i}"
                         for i, (_k, _l, _kind, cond) in enumerate(groups))
    row = con.execute(f"""
        WITH vh AS (SELECT DISTINCT v.household_id FROM {fw._VISITS} v WHERE {vw} AND v.household_id IS NOT NULL),
        f AS (SELECT f.*, f.household_id IN (SELECT household_id FROM vh) AS visited FROM household_facts f WHERE {hw})
        SELECT {measures} FROM f""", vp | hp | terms).fetchone()
    out = pd.DataFrame([{"group": k, "label": label, "kind": kind, "households": int(row[2 * i]),
                         "visited": int(row[2 * i + 1])} for i, (k, label, kind, _c) in enumerate(groups)])
    out["share"] = out["visited"] / out["households"].where(out["households"] > 0)
    return out[REACHED_COLUMNS]


def unvisited_key_households(con: duckdb.DuckDBPyConnection, flt: CaseFilter, days: int | None = None) -> pd.DataFrame:
    """连心户 of the area without a visit in `days` (default `fieldwork_key_unvisited_days`) up to
    the period's end: household_id, its village and town, paired cadre (id and masked name),
    last visit and days since it (up to the end); the most overdue first. Empty without
    households or without visits."""
    from . import fieldwork as fw

    if not (fw._has(con, "households") and fw._has(con, "visits")):
        return fw._empty(UNVISITED_COLUMNS)
    ensure_views(con)
    flt = fw.closed(con, flt)
    days = int(settings.get("fieldwork_key_unvisited_days") if days is None else days)
    hw, hp = fw._area(flt, "f")
    df = con.execute(f"""
        WITH last AS (SELECT household_id, max(visited_at) AS last_visit FROM visits
                      WHERE household_id IS NOT NULL AND visited_at <= $end GROUP BY 1)
        SELECT f.household_id, f.area_code, a.name AS village, f.town_code, t.name AS town, f.paired_cadre_id,
               c.name_masked AS cadre_name_masked, l.last_visit, date_diff('day', l.last_visit, $end) AS days_since_visit
        FROM household_facts f LEFT JOIN last l USING (household_id)
        LEFT JOIN areas a ON a.code = f.village_code LEFT JOIN areas t ON t.code = f.town_code
        LEFT JOIN cadres c ON c.cadre_id = f.paired_cadre_id
        WHERE f.needs_pairing AND {hw} AND (l.last_visit IS NULL OR l.last_visit <= $end - $days::INTEGER)
        ORDER BY l.last_visit NULLS FIRST, f.area_code, f.household_id""",
        hp | {"end": flt.end, "days": days}).df()
    return df[UNVISITED_COLUMNS]


def village_coverage(con: duckdb.DuckDBPyConnection, flt: CaseFilter) -> pd.DataFrame:
    """Per village of the area: households, visited_households (in the period), coverage, visits
    placed in it, last_visit, and its 五必去 flags (must_visit, must_visit_flags: the Chinese
    labels, must_visit_score). Empty without visits or without villages."""
    from . import fieldwork as fw

    if not fw._has(con, "visits"):
        return fw._empty(COVERAGE_COLUMNS)
    ensure_views(con)
    flt = fw.closed(con, flt)
    vw, vp = fw._visits_in(flt.without_area())
    aw, ap = fw._area(flt, "a")
    village = codes.sql_village_code("v.area_code")
    df = con.execute(f"""
        WITH vh AS (SELECT DISTINCT v.household_id FROM {fw._VISITS} v WHERE {vw} AND v.household_id IS NOT NULL),
        h AS (SELECT f.village_code AS code, count(*) AS households,
                     count(*) FILTER (f.household_id IN (SELECT household_id FROM vh)) AS visited_households
              FROM household_facts f GROUP BY 1),
        v AS (SELECT {village} AS code, count(*) AS visits FROM {fw._VISITS} v WHERE {vw} GROUP BY 1),
        lv AS (SELECT {village} AS code, max(v.visited_at) AS last_visit FROM visits v WHERE v.visited_at <= $end GROUP BY 1)
        SELECT a.area_code, a.name, a.parent_code AS town_code, t.name AS town,
               coalesce(h.households, 0) AS households, coalesce(h.visited_households, 0) AS visited_households,
               h.visited_households / nullif(h.households, 0) AS coverage, coalesce(v.visits, 0) AS visits, lv.last_visit
        FROM (SELECT *, code AS area_code FROM areas) a LEFT JOIN areas t ON t.code = a.parent_code
        LEFT JOIN h ON h.code = a.code LEFT JOIN v ON v.code = a.code LEFT JOIN lv ON lv.code = a.code
        WHERE a.level = 'village' AND {aw}
        ORDER BY a.code""", vp | ap | {"end": flt.end}).df()
    df = fw._ints(df, ["households", "visited_households", "visits"])
    flags = _must_visit_flags(con)
    df = df.merge(flags, on="area_code", how="left")
    df["must_visit"] = df["must_visit"].fillna(False).astype(bool)
    df["must_visit_flags"] = df["must_visit_flags"].map(lambda v: v if isinstance(v, list) else [])
    return df[COVERAGE_COLUMNS]


def must_visit_unvisited(con: duckdb.DuckDBPyConnection, flt: CaseFilter,
                         coverage: pd.DataFrame | None = None) -> pd.DataFrame:
    """Villages of the area with a 五必去 flag and no visit in the period, in 五必去's priority
    order (score, then the longest without a visit): the page's first line. Columns of
    village_coverage; `coverage`: its result for the same filter, if already computed."""
    df = village_coverage(con, flt) if coverage is None else coverage
    df = df[df["must_visit"] & (df["visits"] == 0)]
    return df.sort_values(["must_visit_score", "last_visit", "area_code"], ascending=[False, True, True],
                          na_position="first", kind="stable").reset_index(drop=True)


def _must_visit_flags(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """area_code, must_visit, must_visit_flags (Chinese labels), must_visit_score of every village
    (analysis.must_visit); no rows without cases (its criteria need them)."""
    cols = ["area_code", "must_visit", "must_visit_flags", "must_visit_score"]
    if not con.execute("SELECT EXISTS (SELECT 1 FROM cases)").fetchone()[0]:
        return pd.DataFrame(columns=cols)
    from .must_visit import FLAG_LABELS, must_visit

    mv = must_visit(con)
    if mv.empty:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame({"area_code": mv["area_code"], "must_visit": mv["flags"].map(len) > 0,
                         "must_visit_flags": mv["flags"].map(lambda fl: [FLAG_LABELS[f] for f in fl]),
                         "must_visit_score": mv["score"]})
