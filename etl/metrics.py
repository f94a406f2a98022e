"""Case metrics, one definition each, used by every page, export and command.

Definitions (period = received_at within [start, end], both dates inclusive):
- received (受理): cases received in the period;
- closed (办结): of those, cases whose status is no longer open (办结, 已回访, 已归档);
- closure_rate (办结率): closed / received, None when nothing was received;
- open (未办结): cases received up to `end` whose status is open (受理, 交办, 办理中);
- overdue (超期): open cases whose deadline is before the as-of moment
  (the demo's as-of date, or now for a real warehouse).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from . import vocab


def as_of(con: duckdb.DuckDBPyConnection) -> dt.datetime:
    """'Today' for the warehouse: the demo's fixed date, otherwise the current time."""
    row = con.execute("SELECT value FROM meta WHERE key = 'demo_as_of'").fetchone()
    if row:
        return dt.datetime.fromisoformat(row[0]) + dt.timedelta(hours=23, minutes=59, seconds=59)
    return dt.datetime.now().replace(microsecond=0)


def case_period(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date] | None:
    """First and last day with a received case, or None when there are no cases."""
    lo, hi = con.execute("SELECT min(received_at)::DATE, max(received_at)::DATE FROM cases").fetchone()
    return None if lo is None else (lo, hi)


def case_kpis(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, area_prefix: str = "") -> dict:
    """The headline figures for cases received in [start, end] in areas whose code starts with `area_prefix`."""
    now = as_of(con)
    open_ = vocab.open_statuses()
    received, closed, open_n, overdue = con.execute(
        """
        SELECT count(*) FILTER (received_at::DATE BETWEEN $start AND $end),
               count(*) FILTER (received_at::DATE BETWEEN $start AND $end AND NOT list_contains($open, status)),
               count(*) FILTER (received_at::DATE <= $end AND list_contains($open, status)),
               count(*) FILTER (received_at::DATE <= $end AND list_contains($open, status) AND deadline < $now)
        FROM cases WHERE starts_with(area_code, $prefix)
        """,
        {"start": start, "end": end, "open": open_, "now": now, "prefix": area_prefix},
    ).fetchone()
    return {
        "received": received,
        "closed": closed,
        "closure_rate": (closed / received) if received else None,
        "open": open_n,
        "overdue": overdue,
    }


def cases_by_village(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> list[tuple]:
    """(village code, cases received in the period, open now) for every village, zeros included."""
    return con.execute(
        """
        SELECT a.code,
               count(c.case_id) FILTER (c.received_at::DATE BETWEEN $start AND $end) AS cases,
               count(c.case_id) FILTER (c.received_at::DATE <= $end AND list_contains($open, c.status)) AS open
        FROM areas a LEFT JOIN cases c ON c.area_code = a.code
        WHERE a.level = 'village'
        GROUP BY a.code ORDER BY a.code
        """,
        {"start": start, "end": end, "open": vocab.open_statuses()},
    ).fetchall()
