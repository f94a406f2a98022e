"""Case metrics, one definition each, used by every page, export and command.

The per-case rules live in SQL, in the view `case_facts` (etl/sql/views.sql, one row per
case with its derived flags; those that do not depend on 'today' are computed at load time in
the table case_flags, etl/sql/case_flags.sql); the functions here only filter and aggregate that
view in DuckDB. `create_views(con)` writes the views into a warehouse; every function below also
creates them as temporary views on its own connection when they are missing, so a
read-only connection to any warehouse works.

Every function takes an `analysis.filters.CaseFilter` (period on the received date (受理时间),
both ends inclusive; area; categories, channels, statuses) whose period has both ends:
`resolve_period` closes an open one as the CLI and the exports do: the end at the data's own
date, the start at `default_period`'s (the last 12 months, setting period_default_months).
'As of' (now, for 超期) is `etl.views.as_of(con)`: the end of the data's own date (the demo's
fixed date, else the latest case record or the export date given with load --as-of).

Definitions (a rate is None (NaN in DataFrames) when its denominator is 0):
- received (受理): cases received in the period.
- closed (办结): of those, cases whose status is not open (办结, 已回访, 已归档).
- closure_rate (办结率): closed / received.
- closed_on_time, on_time_rate (按期办结率): closed cases with closed_at <= deadline, over
  closed. A closed case without a closing time is not on time.
- open (未办结): cases received up to the period's end (any start) whose status is open now
  (受理, 交办, 办理中): the backlog carried into the period's end.
- overdue (超期): open cases whose deadline is before as-of. days_overdue counts started
  days past the deadline (1 hour late = 1 day). Aging buckets (超期天数): 1-7, 8-14, 15-30,
  31-90, over 90 days (OVERDUE_BUCKET_EDGES), `overdue_buckets` in order.
- response_hours (响应时长): hours from received_at to assigned_at (交办), over cases with an
  assignment; median and mean. responded_on_time: assigned within RESPONSE_HOURS (24) of
  receipt; response_rate (响应率) = responded_on_time / received (cases never assigned count
  as not responded).
- rated (已评价): cases with a satisfaction answer; satisfied: 满意 or 基本满意;
  satisfaction_rate (满意率) = satisfied / rated.
- followed_up (已回访): closed cases with a follow-up record (followup_at);
  followup_rate (回访率) = followed_up / closed.
- violations (违反"三不结案"): closed cases missing a handling opinion (blank counts as
  missing: violations_opinion), a follow-up record (violations_followup), or either of the
  two signatures (violations_signature; unknown counts as unsigned); `violations` counts
  cases with at least one; violation_rate = violations / closed.
- repeat (重复访): a case of a petitioner (keyed hash) on a category when the same
  petitioner had an earlier case on the same category at most REPEAT_WINDOW_DAYS (90)
  calendar days before (received dates; a second case on the same day is a repeat).
  "Earlier" orders by received_at, then case_id. Cases without a petitioner hash never repeat.
- level_skipping (越级访): received at city level, or at district level when the same
  petitioner had no earlier case on the same category received at town or village level
  (any time before). level_skipping_city / level_skipping_district split the two.
  A district-level case without a petitioner hash counts as level-skipping.
- multichannel (多头访): a case when the same petitioner had an earlier case on the same
  category through another channel at most MULTICHANNEL_WINDOW_DAYS (90) days before, i.e.
  the case that brings the petitioner's channels on that issue to two or more.
- group_petitions (集体访): cases with group_size >= GROUP_MIN_SIZE (5); group_people: the
  people in them.
- Changes (`case_summary(...)["changes"]`): for each headline figure, the value in the
  previous period of the same length ending the day before `start` (环比) and in the same
  dates one year earlier (同比; 29 February maps to 28 February); `*_change` is the
  difference (for rates in fraction points, 0.05 = 5 percentage points), `*_pct` the
  relative change for counts and hours (None for rates, or when the earlier value is 0).
  Open and overdue have no change: they are the state now, not a flow of the period.
- Rankings: analysis/rankings.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb
import pandas as pd

from etl import settings, views
from etl.views import OVERDUE_BUCKET_EDGES, ensure_views

from .filters import CaseFilter

# Labels shown to users (Chinese), by metric key.
LABELS: dict[str, str] = {
    "received": "受理诉求", "closed": "已办结", "closure_rate": "办结率",
    "closed_on_time": "按期办结", "on_time_rate": "按期办结率",
    "open": "未办结", "overdue": "超期未办结",
    "assigned": "已交办", "responded_on_time": "及时响应", "response_rate": "响应率",
    "response_hours_median": "响应时长中位数(小时)", "response_hours_mean": "平均响应时长(小时)",
    "rated": "已评价", "satisfied": "满意(含基本满意)", "satisfaction_rate": "满意率",
    "followed_up": "已回访", "followup_rate": "回访率",
    "violations": "违反三不结案", "violation_rate": "三不结案违规率",
    "violations_opinion": "无办理意见结案", "violations_followup": "无回访记录结案",
    "violations_signature": "缺签字结案",
    "repeat": "重复访", "level_skipping": "越级访", "level_skipping_city": "越级访(到市)",
    "level_skipping_district": "越级访(到区)", "multichannel": "多头访",
    "group_petitions": "集体访", "group_people": "集体访人数",
    "score": "综合得分", "rank": "排名",
}
LABELS["resolution_rate"] = LABELS["closure_rate"]  # rankings' name of the closure rate: one figure, one term


def overdue_bucket_labels(edges: Iterable[int] = OVERDUE_BUCKET_EDGES) -> list[str]:
    """Labels of the aging buckets, e.g. ['1-7天', '8-14天', '15-30天', '31-90天', '90天以上']."""
    edges = list(edges)
    lows = [1] + [e + 1 for e in edges]
    return [f"{lo}-{hi}天" for lo, hi in zip(lows, edges)] + [f"{edges[-1]}天以上"]


# ---------------------------------------------------------------------------- basics

def case_period(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date] | None:
    """First and last day with a received case, or None when there are no cases."""
    lo, hi = con.execute("SELECT min(received_at)::DATE, max(received_at)::DATE FROM cases").fetchone()
    return None if lo is None else (lo, hi)


def default_period(con: duckdb.DuckDBPyConnection, end: dt.date | None = None) -> tuple[dt.date, dt.date] | None:
    """The period shown when none is chosen, by the dashboard and the CLI alike: the last
    `period_default_months` calendar months up to `end` (default: the data's own date,
    etl.views.as_of), this month included, from the first received case at the earliest.
    None when there are no cases."""
    period = case_period(con)
    if period is None:
        return None
    end = end or views.as_of(con).at.date()
    return max(period[0], months_back(end, int(settings.get("period_default_months")))), end


def months_back(end: dt.date, months: int) -> dt.date:
    """The first day of a window of `months` calendar months ending in the month of `end`
    (`end`'s month counted): months_back(2026-10-31, 12) = 2025-11-01."""
    y, m = divmod(end.year * 12 + end.month - 1 - (months - 1), 12)
    return dt.date(y, m + 1, 1)


def resolve_period(con: duckdb.DuckDBPyConnection, flt: CaseFilter) -> tuple[dt.date, dt.date] | None:
    """The filter's period with an open end closed by the data's own date and an open start by
    the default period's (`default_period`); None when there are no cases."""
    period = default_period(con, flt.end)
    if period is None:
        return None
    return flt.start or period[0], period[1]


def comparison_periods(start: dt.date, end: dt.date,
                       previous: tuple[dt.date, dt.date] | None = None) -> dict[str, tuple[dt.date, dt.date]]:
    """The period itself, the previous period (环比) and the same dates a year earlier (同比).
    The previous period is `previous` when the caller's series has one (the previous 旬 or
    calendar month of a report), else the days of the same length just before `start`."""
    days = (end - start).days + 1
    return {
        "current": (start, end),
        "previous": previous or (start - dt.timedelta(days=days), start - dt.timedelta(days=1)),
        "last_year": (_year_earlier(start), _year_earlier(end)),
    }


def _year_earlier(d: dt.date) -> dt.date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


# ---------------------------------------------------------------------------- aggregation

# Flow measures over the cases received in a period: (key, SQL with {c} = the period condition).
_FLOWS: tuple[tuple[str, str], ...] = (
    ("received", "count_if({c})"),
    ("closed", "count_if({c} AND is_closed)"),
    ("closed_on_time", "count_if({c} AND on_time)"),
    ("assigned", "count_if({c} AND assigned_at IS NOT NULL)"),
    ("responded_on_time", "count_if({c} AND responded_on_time)"),
    ("response_hours_median", "median(response_hours) FILTER ({c})"),
    ("response_hours_mean", "avg(response_hours) FILTER ({c})"),
    ("rated", "count_if({c} AND rated)"),
    ("satisfied", "count_if({c} AND satisfied)"),
    ("followed_up", "count_if({c} AND has_followup)"),
    ("violations", "count_if({c} AND violation_any)"),
    ("violations_opinion", "count_if({c} AND violation_opinion)"),
    ("violations_followup", "count_if({c} AND violation_followup)"),
    ("violations_signature", "count_if({c} AND violation_signature)"),
    ("repeat", "count_if({c} AND is_repeat)"),
    ("level_skipping", "count_if({c} AND is_level_skipping)"),
    ("level_skipping_city", "count_if({c} AND is_level_skipping_city)"),
    ("level_skipping_district", "count_if({c} AND is_level_skipping_district)"),
    ("multichannel", "count_if({c} AND is_multichannel)"),
    ("group_petitions", "count_if({c} AND is_group)"),
    ("group_people", "coalesce(sum(group_people) FILTER ({c}), 0)"),
)
# Rates: key -> (numerator, denominator).
_RATES: dict[str, tuple[str, str]] = {
    "closure_rate": ("closed", "received"),
    "on_time_rate": ("closed_on_time", "closed"),
    "response_rate": ("responded_on_time", "received"),
    "satisfaction_rate": ("satisfied", "rated"),
    "followup_rate": ("followed_up", "closed"),
    "violation_rate": ("violations", "closed"),
}
_FLOAT_FLOWS = {"response_hours_median", "response_hours_mean"}
# The figures that get 环比/同比 changes; rates get a difference only.
HEADLINE = ("received", "closed", "closure_rate", "on_time_rate", "response_rate", "response_hours_median",
            "satisfaction_rate", "followup_rate", "violations", "repeat", "level_skipping", "multichannel",
            "group_petitions", "group_people")


def _stocks() -> list[tuple[str, str]]:
    """Open backlog measures (the WHERE clause already keeps cases received up to the period's end)."""
    out = [("open", "count_if(is_open)"), ("overdue", "count_if(is_overdue)")]
    out += [(f"overdue_bucket_{i}", f"count_if(overdue_bucket = {i})")
            for i in range(len(OVERDUE_BUCKET_EDGES) + 1)]
    return out


def _flow_sql(cond: str, suffix: str = "") -> str:
    return ",\n".join(f"{expr.format(c=cond)} AS {key}{suffix}" for key, expr in _FLOWS)


def _ratio(num, den):
    if isinstance(den, pd.Series):
        return num / den.where(den > 0)
    return None if not den else num / den


def _add_rates(d):
    for key, (num, den) in _RATES.items():
        d[key] = _ratio(d[num], d[den])
    return d


def _period(flt: CaseFilter) -> tuple[dt.date, dt.date]:
    """The filter's period; the figures need both ends (`resolve_period` closes open ones)."""
    if flt.start is None or flt.end is None:
        raise ValueError(f"case figures need a period with both ends, not {flt.start} to {flt.end}")
    return flt.start, flt.end


def case_summary(con: duckdb.DuckDBPyConnection, flt: CaseFilter, *, compare: bool = True,
                 previous: tuple[dt.date, dt.date] | None = None) -> dict:
    """Every headline figure for the cases of the filter (definitions: module docstring).

    Keys: the flows and rates of `_FLOWS`/`_RATES`, open, overdue, overdue_buckets ({label: n}),
    as_of, periods; with `compare`, `previous` and `last_year` (the same figures for the two
    comparison periods) and `changes` ({figure: previous, pop_change, pop_pct, last_year,
    yoy_change, yoy_pct}). `previous`: the 环比 period when not the same length before
    (`comparison_periods`).
    """
    start, end = _period(flt)
    ensure_views(con)
    periods = comparison_periods(start, end, previous) if compare else {"current": (start, end)}
    where, params = flt.backlog().where()
    parts = []
    for i, (name, (s, e)) in enumerate(periods.items()):
        params[f"s{i}"], params[f"e{i}"] = s, e
        parts.append(_flow_sql(f"received_date BETWEEN $s{i} AND $e{i}", f"__{name}"))
    stocks = ",\n".join(f"{expr} AS {key}" for key, expr in _stocks())
    cur = con.execute(f"SELECT {', '.join(parts)}, {stocks} FROM case_facts WHERE {where}", params)
    row = dict(zip([c[0] for c in cur.description], cur.fetchone()))
    for key, _ in _stocks():  # count_if over no rows at all is NULL
        row[key] = row[key] or 0

    def figures(name: str) -> dict:
        d = {key: row[f"{key}__{name}"] for key, _ in _FLOWS}
        for key in d:
            if d[key] is None and key not in _FLOAT_FLOWS:
                d[key] = 0
        return _add_rates(d)

    out = figures("current")
    out["open"], out["overdue"] = row["open"], row["overdue"]
    out["overdue_buckets"] = {label: row[f"overdue_bucket_{i}"] for i, label in enumerate(overdue_bucket_labels())}
    out["as_of"] = views.as_of(con).at
    out["periods"] = periods
    if compare:
        out["previous"], out["last_year"] = figures("previous"), figures("last_year")
        out["changes"] = {k: _change(out[k], out["previous"][k], out["last_year"][k], k in _RATES) for k in HEADLINE}
    return out


def relative_change(cur, before):
    """(cur - before) / before; None when there was nothing before (or a value is missing)."""
    return None if cur is None or before is None or not before else (cur - before) / before


def _change(cur, prev, last_year, is_rate: bool) -> dict:
    def diff(a, b):
        return None if a is None or b is None else a - b

    def pct(a, b):
        return None if is_rate else relative_change(a, b)

    return {"previous": prev, "pop_change": diff(cur, prev), "pop_pct": pct(cur, prev),
            "last_year": last_year, "yoy_change": diff(cur, last_year), "yoy_pct": pct(cur, last_year)}


# Groupings of case_metrics_by: name -> (SQL key over case_facts, output column, area level to list fully).
_GROUPS: dict[str, tuple[str, str, str | None]] = {
    "village": ("village_code", "code", "village"),
    "town": ("town_code", "code", "town"),
    "unit": ("handling_unit", "handling_unit", None),
    "category": ("category", "category", None),
    "channel": ("channel", "channel", None),
    "status": ("status", "status", None),
    "month": ("strftime(received_date, '%Y-%m')", "month", None),
    "tier": ("tier", "tier", None),
    "escalation": ("escalation_level", "escalation_level", None),
    "received_level": ("received_level", "received_level", None),
}


def case_metrics_by(con: duckdb.DuckDBPyConnection, flt: CaseFilter, by: str, *,
                    measures: Iterable[str] | None = None) -> pd.DataFrame:
    """The summary's figures per group, one row per group (no comparisons).

    `by`: village or town (every area of that level inside the filter's area, or containing it,
    is listed, zeros included, with `code` and `name`), unit (handling unit; cases without one are left out),
    category, channel, status, month (YYYY-MM of the received date), tier, escalation (the
    level of the problem database, escalation_level), received_level.
    open/overdue count the backlog received up to the period's end, so a group can have open
    cases and nothing received in the period.
    `measures`: only these figures (names of the output columns; a rate brings its numerator
    and denominator), all of them when None. A page that shows four figures need not pay for forty.
    """
    if by not in _GROUPS:
        raise ValueError(f"unknown grouping {by!r}; expected one of {list(_GROUPS)}")
    start, end = _period(flt)
    ensure_views(con)
    key, col, level = _GROUPS[by]
    flows, stocks, rates = _measures(measures)
    where, params = flt.backlog().where()
    if flows:
        params.update(s=start, e=end)
    if level:
        params["prefix"] = flt.area_prefix
    cond = "received_date BETWEEN $s AND $e"
    aggs = ", ".join([f"{expr.format(c=cond)} AS {k}" for k, expr in flows] + [f"{expr} AS {k}" for k, expr in stocks])
    agg = f"SELECT {key} AS {col}{', ' + aggs if aggs else ''} FROM case_facts WHERE {where} AND {key} IS NOT NULL GROUP BY 1"
    # zeros for groups without cases and the rates are computed in SQL: doing it in pandas
    # cost as much as the aggregate itself (a dashboard filter change runs several of these)
    filled = "".join(f", agg.{k}" if k in _FLOAT_FLOWS else f", CAST(coalesce(agg.{k}, 0) AS BIGINT) AS {k}"
                     for k, _ in flows + stocks)
    rate_sql = "".join(f", {num} / nullif({den}, 0) AS {k}" for k, (num, den) in rates)
    if level:
        sql = f"""WITH agg AS ({agg}),
                  filled AS (SELECT a.code, a.name{filled} FROM areas a LEFT JOIN agg ON agg.code = a.code
                             WHERE a.level = '{level}' AND (starts_with(a.code, $prefix) OR starts_with($prefix, a.code)))
                  SELECT *{rate_sql} FROM filled ORDER BY code"""
    else:
        sql = f"WITH agg AS ({agg}), filled AS (SELECT agg.{col}{filled} FROM agg) SELECT *{rate_sql} FROM filled ORDER BY 1"
    df = con.execute(sql, params).df()
    labels = overdue_bucket_labels()
    return df.rename(columns={f"overdue_bucket_{i}": f"overdue_{label}" for i, label in enumerate(labels)})


def _measures(names: Iterable[str] | None):
    """(flows, stocks, rates) to compute for the output columns `names` (every one when None)."""
    stocks_all = _stocks()
    if names is None:
        return list(_FLOWS), stocks_all, list(_RATES.items())
    labels = {f"overdue_{label}": f"overdue_bucket_{i}" for i, label in enumerate(overdue_bucket_labels())}
    known = {k for k, _ in _FLOWS} | {k for k, _ in stocks_all} | set(_RATES) | set(labels)
    wanted = [labels.get(n, n) for n in names]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown measure {unknown[0]!r}; expected one of {sorted(known)}")
    rates = [(k, _RATES[k]) for k in _RATES if k in wanted]
    need = set(wanted) | {x for _, pair in rates for x in pair}
    return ([(k, e) for k, e in _FLOWS if k in need], [(k, e) for k, e in stocks_all if k in need], rates)
