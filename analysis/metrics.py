"""Case metrics, one definition each, used by every page, export and command.

The per-case rules live in SQL, in the view `case_facts` (etl/sql/views.sql, one row per
case with its derived flags); the functions here only filter and aggregate that view in
DuckDB. `create_views(con)` writes the views into a warehouse; every function below also
creates them as temporary views on its own connection when they are missing, so a
read-only connection to any warehouse works.

Filters, common to every function: the period [start, end] (both dates inclusive) on the
received date (受理时间); `area_prefix` (an area code: the district, a town or a village,
matched as a prefix of the case's area code); `category`, `channel`, `status` (a term or
a list of terms from etl/vocab.toml; synonyms are accepted). 'As of' is `as_of(con)`: the
demo's fixed date at 23:59:59, otherwise the current time.

Definitions (a rate is None (NaN in DataFrames) when its denominator is 0):
- received (受理): cases received in the period.
- closed (办结): of those, cases whose status is not open (办结, 已回访, 已归档).
- closure_rate (办结率): closed / received.
- closed_on_time, on_time_rate (按期办结率): closed cases with closed_at <= deadline, over
  closed. A closed case without a closing time is not on time.
- open (未办结): cases received up to `end` (any start) whose status is open now
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
- Rankings (`rankings`): towns (乡镇/街道; a case placed at a village counts for its town)
  or handling units (承办单位; cases without one are left out) by response rate, resolution
  rate (= closure_rate) and satisfaction rate. score = 100 x weighted mean of the three
  (weights RANKING_WEIGHTS, equal by default; a rate that is None is left out and the
  other weights rescaled). Units with fewer than RANKING_MIN_CASES (30) cases received are
  listed but neither ranked nor flagged. Rank 1 is the highest score; ties share a rank.
  Flags (考核), on ranked units only: satisfaction below 90% and below 70%, score below 60,
  last rank (when at least two units are ranked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import duckdb
import pandas as pd

from etl import settings, vocab
from etl import views
from etl.views import OVERDUE_BUCKET_EDGES, ensure_views

# Thresholds of the rankings: settings of etl/settings.py (their meaning is there), read once at import.
RANKING_MIN_CASES = settings.get("ranking_min_cases")
RANKING_WEIGHTS = settings.get("ranking_weights")
SATISFACTION_WARN = settings.get("ranking_satisfaction_warn")
SATISFACTION_ALARM = settings.get("ranking_satisfaction_alarm")
SCORE_ALARM = settings.get("ranking_score_alarm")

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
    "resolution_rate": "解决率", "score": "综合得分", "rank": "排名",
}
FLAG_LABELS = {
    "flag_satisfaction_warn": f"满意率低于{SATISFACTION_WARN:.0%}",
    "flag_satisfaction_alarm": f"满意率低于{SATISFACTION_ALARM:.0%}",
    "flag_score_alarm": f"综合得分低于{SCORE_ALARM:g}分",
    "flag_last": "排名末位",
}


def overdue_bucket_labels(edges: Iterable[int] = OVERDUE_BUCKET_EDGES) -> list[str]:
    """Labels of the aging buckets, e.g. ['1-7天', '8-14天', '15-30天', '31-90天', '90天以上']."""
    edges = list(edges)
    lows = [1] + [e + 1 for e in edges]
    return [f"{lo}-{hi}天" for lo, hi in zip(lows, edges)] + [f"{edges[-1]}天以上"]


# ---------------------------------------------------------------------------- basics

def as_of(con: duckdb.DuckDBPyConnection) -> dt.datetime:
    """'Today' for the warehouse: the end of the data's own date (etl.views.as_of)."""
    return views.as_of(con).at


def case_period(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date] | None:
    """First and last day with a received case, or None when there are no cases."""
    lo, hi = con.execute("SELECT min(received_at)::DATE, max(received_at)::DATE FROM cases").fetchone()
    return None if lo is None else (lo, hi)


def comparison_periods(start: dt.date, end: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    """The period itself, the previous period of the same length (环比) and the same dates a year earlier (同比)."""
    days = (end - start).days + 1
    return {
        "current": (start, end),
        "previous": (start - dt.timedelta(days=days), start - dt.timedelta(days=1)),
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
    """Open backlog measures (the WHERE clause already keeps cases received up to `end`)."""
    out = [("open", "count_if(is_open)"), ("overdue", "count_if(is_overdue)")]
    out += [(f"overdue_bucket_{i}", f"count_if(overdue_bucket = {i})")
            for i in range(len(OVERDUE_BUCKET_EDGES) + 1)]
    return out


def _flow_sql(cond: str, suffix: str = "") -> str:
    return ",\n".join(f"{expr.format(c=cond)} AS {key}{suffix}" for key, expr in _FLOWS)


def _terms(domain: str, value: str | Iterable[str] | None) -> list[str] | None:
    """Canonical terms of a filter value (a term, a synonym or a list of them)."""
    if value is None:
        return None
    values = [value] if isinstance(value, str) else list(value)
    syn = vocab.synonym_map(domain)
    out = []
    for v in values:
        t = syn.get(vocab._norm(v))
        if t is None:
            raise ValueError(f"unknown {domain} {v!r}; expected one of {vocab.terms(domain)}")
        out.append(t)
    return out


def _where(end: dt.date, area_prefix: str, category, channel, status) -> tuple[str, dict]:
    """WHERE clause (cases received up to `end` matching the filters) and its parameters."""
    clauses = ["received_date <= $end", "starts_with(area_code, $prefix)"]
    params: dict[str, object] = {"end": end, "prefix": area_prefix or ""}
    for name, domain, value in (("category", "category", category), ("channel", "channel", channel),
                                ("status", "status", status)):
        terms = _terms(domain, value)
        if terms is not None:
            clauses.append(f"list_contains(${name}, {name})")
            params[name] = terms
    return " AND ".join(clauses), params


def _ratio(num, den):
    if isinstance(den, pd.Series):
        return num / den.where(den > 0)
    return None if not den else num / den


def _add_rates(d):
    for key, (num, den) in _RATES.items():
        d[key] = _ratio(d[num], d[den])
    return d


def _check_period(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise ValueError(f"period start {start} is after its end {end}")


def case_summary(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, *, area_prefix: str = "",
                 category: str | Iterable[str] | None = None, channel: str | Iterable[str] | None = None,
                 status: str | Iterable[str] | None = None, compare: bool = True) -> dict:
    """Every headline figure for the filtered cases of [start, end] (definitions: module docstring).

    Keys: the flows and rates of `_FLOWS`/`_RATES`, open, overdue, overdue_buckets ({label: n}),
    as_of, periods; with `compare`, `previous` and `last_year` (the same figures for the two
    comparison periods) and `changes` ({figure: previous, pop_change, pop_pct, last_year,
    yoy_change, yoy_pct}).
    """
    _check_period(start, end)
    ensure_views(con)
    periods = comparison_periods(start, end) if compare else {"current": (start, end)}
    where, params = _where(end, area_prefix, category, channel, status)
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
    out["as_of"] = as_of(con)
    out["periods"] = periods
    if compare:
        out["previous"], out["last_year"] = figures("previous"), figures("last_year")
        out["changes"] = {k: _change(out[k], out["previous"][k], out["last_year"][k], k in _RATES) for k in HEADLINE}
    return out


def _change(cur, prev, last_year, is_rate: bool) -> dict:
    def diff(a, b):
        return None if a is None or b is None else a - b

    def pct(a, b):
        return None if is_rate or a is None or not b else (a - b) / b

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


def case_metrics_by(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, by: str, *, area_prefix: str = "",
                    category: str | Iterable[str] | None = None, channel: str | Iterable[str] | None = None,
                    status: str | Iterable[str] | None = None, measures: Iterable[str] | None = None) -> pd.DataFrame:
    """The summary's figures per group, one row per group (no comparisons).

    `by`: village or town (every area of that level inside `area_prefix`, or containing it,
    is listed, zeros included, with `code` and `name`), unit (handling unit; cases without one are left out),
    category, channel, status, month (YYYY-MM of the received date), tier, escalation (the
    level of the problem database, escalation_level), received_level.
    open/overdue count the backlog received up to `end`, so a group can have open cases and
    nothing received in the period.
    `measures`: only these figures (names of the output columns; a rate brings its numerator
    and denominator), all of them when None. A page that shows four figures need not pay for forty.
    """
    if by not in _GROUPS:
        raise ValueError(f"unknown grouping {by!r}; expected one of {list(_GROUPS)}")
    _check_period(start, end)
    ensure_views(con)
    key, col, level = _GROUPS[by]
    flows, stocks, rates = _measures(measures)
    where, params = _where(end, area_prefix, category, channel, status)
    if flows:
        params.update(s=start, e=end)
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


def rankings(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, by: str = "town", *,
             weights: Mapping[str, float] | None = None, min_cases: int = RANKING_MIN_CASES,
             area_prefix: str = "", category: str | Iterable[str] | None = None,
             channel: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Towns (`by='town'`) or handling units (`by='unit'`) ranked by the three rates (三率).

    Columns: code and name (towns) or handling_unit, received, response_rate, resolution_rate,
    satisfaction_rate, rated, score (0-100), ranked (received >= min_cases), rank (1 = best,
    NA when not ranked), the flag_* columns and `flags` (the raised flags in Chinese).
    `weights` maps response / resolution / satisfaction to a weight (missing keys: 0).
    There is no status filter: the rates are over every case the unit received.
    """
    if by not in ("town", "unit"):
        raise ValueError(f"rankings are by 'town' or 'unit', not {by!r}")
    w = dict(RANKING_WEIGHTS if weights is None else weights)
    unknown = set(w) - set(RANKING_WEIGHTS)
    if unknown or any(v < 0 for v in w.values()) or not sum(w.values()):
        raise ValueError(f"weights must map {sorted(RANKING_WEIGHTS)} to non-negative numbers, not all 0: {w}")
    df = case_metrics_by(con, start, end, by, area_prefix=area_prefix, category=category, channel=channel)
    keep = (["code", "name"] if by == "town" else ["handling_unit"]) + [
        "received", "responded_on_time", "closed", "rated", "satisfied", "response_rate", "closure_rate",
        "satisfaction_rate"]
    df = df[keep].rename(columns={"closure_rate": "resolution_rate"})
    rates = pd.DataFrame({k: df[f"{k}_rate"] for k in RANKING_WEIGHTS})
    wts = pd.Series({k: float(w.get(k, 0.0)) for k in RANKING_WEIGHTS})
    present = rates.notna().mul(wts, axis=1)
    denom = present.sum(axis=1)
    df["score"] = 100 * rates.fillna(0).mul(wts, axis=1).sum(axis=1) / denom.where(denom > 0)
    df["ranked"] = (df["received"] >= min_cases) & df["score"].notna()
    df["rank"] = df["score"].where(df["ranked"]).rank(ascending=False, method="min").astype("Int64")
    ranked, sat = df["ranked"], df["satisfaction_rate"]
    df["flag_satisfaction_warn"] = ranked & (sat < SATISFACTION_WARN)
    df["flag_satisfaction_alarm"] = ranked & (sat < SATISFACTION_ALARM)
    df["flag_score_alarm"] = ranked & (df["score"] < SCORE_ALARM)
    last = (df["rank"] == df["rank"].max()) & (ranked.sum() >= 2)  # one ranked unit is not "last"
    df["flag_last"] = (ranked & last).fillna(False).astype(bool)
    flag_cols = list(FLAG_LABELS)
    df["flags"] = df[flag_cols].apply(lambda r: "、".join(FLAG_LABELS[c] for c in flag_cols if r[c]), axis=1) \
        if len(df) else pd.Series(dtype=str)
    df = df.sort_values(["ranked", "rank", "received"], ascending=[False, True, False], na_position="last")
    return df.reset_index(drop=True)


# ---------------------------------------------------------------------------- used by the dashboard

def case_kpis(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, area_prefix: str = "") -> dict:
    """The headline figures for cases received in [start, end] in areas whose code starts with `area_prefix`."""
    s = case_summary(con, start, end, area_prefix=area_prefix, compare=False)
    return {k: s[k] for k in ("received", "closed", "closure_rate", "open", "overdue")}


def cases_by_village(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> list[tuple]:
    """(village code, cases received in the period, open now) for every village, zeros included."""
    ensure_views(con)
    return con.execute(
        """
        SELECT a.code,
               count(f.case_id) FILTER (f.received_date BETWEEN $start AND $end) AS cases,
               count(f.case_id) FILTER (f.received_date <= $end AND f.is_open) AS open
        FROM areas a LEFT JOIN case_facts f ON f.area_code = a.code
        WHERE a.level = 'village'
        GROUP BY a.code ORDER BY a.code
        """,
        {"start": start, "end": end},
    ).fetchall()
