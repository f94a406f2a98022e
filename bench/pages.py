"""What each case page of the dashboard computes on a filter change, without Streamlit, for
bench.workloads.page_changes: the same analysis calls with the same measures as the page
(dashboard/views/*.py through dashboard/data.py and dashboard/area_data.py; keep them in step),
for the area on screen (the filter's). Figures that the dashboard caches regardless of the
filter (households per area, outlines, shapes) are computed once, outside the timing.

`bare_page` runs the bare DuckDB aggregates of the same figures: one plain GROUP BY per figure
call over the stored per-case table case_flags (etl/sql/case_flags.sql) with the same rows and
the same figures (as-of as a literal), no area list, rates, frames or Python. The overdue list and
the rankings' scoring have no bare counterpart: they count on the product's side only.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from analysis import areas, case_lists, households, metrics, rankings
from analysis.filters import CaseFilter
from dashboard.compute import open_cases as open_view
from dashboard.compute.overview import map_level
from etl import views
from etl.codes import sql_village_code


def overview(con, flt: CaseFilter) -> None:
    """总览 (dashboard/views/overview.py): headline figures with changes, monthly trend, categories,
    the map's figures at the level map_level picks for the area on screen, town-level cases."""
    metrics.case_summary(con, flt, compare=True)
    metrics.case_metrics_by(con, flt, "month", measures=("received", "closed"))
    metrics.case_metrics_by(con, flt, "category", measures=("received", "closed", "open", "overdue"))
    level = map_level(_outlined(con, "village", flt.town or ""), _outlined(con, "town", ""))
    areas.figures(con, flt, level, _categories(con, level))
    where, params = flt.where("c")
    con.execute(f"SELECT count(*) FROM cases c WHERE {sql_village_code('c.area_code')} IS NULL AND {where}", params).fetchone()


def open_cases(con, flt: CaseFilter) -> None:
    """未办结 (dashboard/views/open_cases.py): summary, the areas' backlog and 三不结案 (villages of a
    town, else towns), tier and escalation tables, the overdue list."""
    metrics.case_summary(con, flt, compare=False)
    metrics.case_metrics_by(con, flt, "village" if flt.town else "town", measures=open_view.area_measures())
    for by in ("tier", "escalation"):
        metrics.case_metrics_by(con, flt, by, measures=("received", "closed", "closure_rate", "open", "overdue"))
    case_lists.overdue_cases(con, flt)


def ranking(con, flt: CaseFilter) -> None:
    """排名 (dashboard/views/rankings.py): towns ranked by the three rates."""
    rankings.rankings(con, flt, "town")


PAGES = {"总览": overview, "未办结": open_cases, "排名": ranking}


_CACHED: dict = {}  # what the dashboard caches independently of the filter


def _outlined(con, level: str, prefix: str) -> int:
    key = ("outlined", id(con), level, prefix)
    if key not in _CACHED:
        _CACHED[key] = con.execute("SELECT count(*) FROM areas WHERE level = ? AND geom IS NOT NULL AND starts_with(code, ?)",
                                   [level, prefix]).fetchone()[0]
    return _CACHED[key]


def _categories(con, level: str):
    key = ("categories", id(con), level)
    if key not in _CACHED:
        _CACHED[key] = households.category_counts(con, level)
    return _CACHED[key]


# ---------------------------------------------------------------------------- recording and bare

@dataclass
class Call:
    flt: CaseFilter
    by: str | None  # None: case_summary
    measures: tuple[str, ...] | None = None
    compare: bool = False
    result: object = field(default=None, repr=False)  # what the product returned

    def describe(self) -> str:
        what = "case_summary(compare)" if self.by is None and self.compare else "case_summary" if self.by is None \
            else f"case_metrics_by({self.by}, {list(self.measures) if self.measures else 'all'})"
        return what + (f" area={self.flt.area_prefix}" if self.flt.area_prefix else "")


def recorded(con, page: str, flt: CaseFilter) -> list[Call]:
    """Run the page once and return its figure calls."""
    calls: list[Call] = []
    summary, by = metrics.case_summary, metrics.case_metrics_by

    def rec_summary(con, flt, *, compare=True, previous=None):
        calls.append(Call(flt, None, None, compare, summary(con, flt, compare=compare, previous=previous)))
        return calls[-1].result

    def rec_by(con, flt, by_, *, measures=None):
        calls.append(Call(flt, by_, tuple(measures) if measures is not None else None, False,
                          by(con, flt, by_, measures=measures)))
        return calls[-1].result

    with contextlib.ExitStack() as stack:
        for module, name, fn in ((metrics, "case_summary", rec_summary), (metrics, "case_metrics_by", rec_by),
                                 (rankings, "case_metrics_by", rec_by)):
            old = getattr(module, name)
            setattr(module, name, fn)
            stack.callback(setattr, module, name, old)
        PAGES[page](con, flt)
    return calls


_KEYS = {"village": "village_code", "town": "town_code", "unit": "handling_unit", "category": "category",
         "channel": "channel", "status": "status", "month": "strftime(received_date, '%Y-%m')", "tier": "tier",
         "escalation": "escalation_level", "received_level": "received_level"}
_FLAG = {"closed": "is_closed", "closed_on_time": "on_time", "responded_on_time": "responded_on_time", "rated": "rated",
         "satisfied": "satisfied", "followed_up": "has_followup", "violations": "violation_any",
         "violations_opinion": "violation_opinion", "violations_followup": "violation_followup",
         "violations_signature": "violation_signature", "repeat": "is_repeat", "level_skipping": "is_level_skipping",
         "level_skipping_city": "is_level_skipping_city", "level_skipping_district": "is_level_skipping_district",
         "multichannel": "is_multichannel", "group_petitions": "is_group"}


def _bare_exprs(keys: list[str], inp: str) -> list[str]:
    edges = [0, *views.OVERDUE_BUCKET_EDGES, 10**9]
    special = {"received": f"count_if({inp})", "assigned": f"count_if({inp} AND assigned_at IS NOT NULL)",
               "response_hours_median": f"median(response_hours) FILTER ({inp})",
               "response_hours_mean": f"avg(response_hours) FILTER ({inp})",
               "group_people": f"sum(group_people) FILTER ({inp})", "open": "count_if(is_open)", "overdue": "count(od)",
               **{f"overdue_bucket_{i}": f"count_if(od > {edges[i]} AND od <= {edges[i + 1]})" for i in range(len(edges) - 1)}}
    return [special[k] if k in special else f"count_if({inp} AND {_FLAG[k]})" for k in keys]


def bare_page(con, calls: list[Call]) -> list[dict[str, float]]:
    """The bare aggregates of each call; per call, each figure of the current period summed over the groups."""
    as_of = views.as_of(con).at
    out = []
    for c in calls:
        flows, stocks, _ = metrics._measures(c.measures)
        periods = list(metrics.comparison_periods(c.flt.start, c.flt.end).values()) if c.compare else [(c.flt.start, c.flt.end)]
        exprs = [e for i, _ in enumerate(periods) for e in _bare_exprs([k for k, _ in flows], f"inp{i}")]
        exprs += _bare_exprs([k for k, _ in stocks], "true")
        ins = ", ".join(f"received_date BETWEEN DATE '{s}' AND DATE '{e}' AS inp{i}" for i, (s, e) in enumerate(periods))
        cond, params = ["received_date <= $e"], {"e": c.flt.end, "asof": as_of}
        if c.flt.area_prefix:
            cond.append("starts_with(area_code, $p)")
            params["p"] = c.flt.area_prefix
        for d in ("category", "channel", "status"):
            if getattr(c.flt, d):
                cond.append(f"{d} IN (SELECT unnest(${d}))")
                params[d] = list(getattr(c.flt, d))
        key = _KEYS[c.by] if c.by else None
        if key:
            cond.append(f"{key} IS NOT NULL")
        sql = (f"WITH f AS (SELECT *, {ins}, CASE WHEN is_open AND deadline < $asof THEN ceil(epoch($asof - deadline) / 86400.0) END AS od "
               f"FROM case_flags WHERE {' AND '.join(cond)}) SELECT {key + ', ' if key else ''}{', '.join(exprs or ['count(*)'])} FROM f"
               + (" GROUP BY 1" if key else ""))
        rows = con.execute(sql, params).fetchall()
        names = [f"{k}__{i}" for i, _ in enumerate(periods) for k, _ in flows] + [k for k, _ in stocks]
        first = 1 if key else 0
        out.append({n.removesuffix("__0"): sum(r[first + j] or 0 for r in rows) for j, n in enumerate(names)})
    return out


def differences(calls: list[Call], bare: list[dict[str, float]]) -> list[str]:
    """Counts where the bare aggregates and the product disagree (none: they computed the same figures)."""
    bad = []
    for c, b in zip(calls, bare):
        for k, v in b.items():
            if "__" in k or k.startswith("response_hours"):
                continue  # comparison periods; medians and means do not add up over groups
            if c.by is None:
                got = c.result["overdue_buckets"][metrics.overdue_bucket_labels()[int(k[-1])]] \
                    if k.startswith("overdue_bucket_") else c.result[k]
            else:
                col = f"overdue_{metrics.overdue_bucket_labels()[int(k[-1])]}" if k.startswith("overdue_bucket_") else k
                got = c.result[col].sum()
            if got != v:
                bad.append(f"{c.describe()}: {k} product {got} bare {v}")
    return bad
