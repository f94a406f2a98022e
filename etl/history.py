"""What a merge appends to the history tables, run after the merge of its kind (etl/kinds.py):
households' category periods and cases' life-cycle events.

Both read the temp tables of the merge (etl/merge.py): `incoming` (the last row of each key
in the file) and `outcome` (loaded, updated or duplicate per key).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import duckdb

from . import vocab
from .views import record_data_date

if TYPE_CHECKING:
    from .kinds import MergeContext


def household_categories(con: duckdb.DuckDBPyConnection, ctx: MergeContext) -> None:
    """Category history (SCD2): close the open record when a household's category changes."""
    batch_id, now = ctx.batch_id, ctx.now
    con.execute("""
        CREATE OR REPLACE TEMP TABLE category_changes AS
        SELECT i.household_id, i.category, coalesce(i.category_since, CAST(? AS DATE)) AS since
        FROM incoming i JOIN outcome o ON o._line = i._line
        LEFT JOIN household_categories h ON h.household_id = i.household_id AND h.valid_to IS NULL
        WHERE o.outcome IN ('loaded', 'updated') AND (h.category IS NULL OR h.category <> i.category)""", [now.date()])
    con.execute("""
        UPDATE household_categories SET valid_to = c.since
        FROM category_changes c
        WHERE household_categories.household_id = c.household_id AND household_categories.valid_to IS NULL""")
    con.execute("INSERT INTO household_categories SELECT household_id, category, since, NULL, ? FROM category_changes", [batch_id])


def stale_cases(con: duckdb.DuckDBPyConnection) -> None:
    """An older export loaded after a newer one never reverts a case: a row whose latest event
    time (received, assigned, closed, visited) is before the stored case's, or equal with a status
    earlier in the life cycle (the vocabulary's order of statuses), is rejected as `stale` and not
    applied. A status the vocabulary does not know has no place in the order and is never stale
    by it."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE stale AS
        WITH t AS (
            SELECT i._line, c.status AS stored_status,
                   greatest(i.received_at, i.assigned_at, i.closed_at, i.followup_at) AS row_at,
                   greatest(c.received_at, c.assigned_at, c.closed_at, c.followup_at) AS stored_at,
                   list_position($order, i.status) AS row_rank, list_position($order, c.status) AS stored_rank
            FROM incoming i JOIN cases c ON c.case_id = i.case_id)
        SELECT _line, stored_status, stored_at FROM t
        WHERE row_at < stored_at OR (row_at = stored_at AND row_rank < stored_rank)""",
                {"order": vocab.terms("status")})
    con.execute("""
        UPDATE staged SET _reason = 'stale', _field = 'status',
            _message = '库中该件已有更新的记录 (' || s.stored_status || ', ' || strftime(s.stored_at, '%Y-%m-%d %H:%M')
                       || '); 本行来自较旧的导出, 未采用'
        FROM stale s WHERE staged._line = s._line""")
    con.execute("DELETE FROM incoming WHERE _line IN (SELECT _line FROM stale)")


def after_cases(con: duckdb.DuckDBPyConnection, ctx: MergeContext) -> None:
    """The cases' events, then the data's own date (etl.views.record_data_date)."""
    case_events(con, ctx.batch_id, ctx.now)
    record_data_date(con, ctx.as_of)


def case_events(con: duckdb.DuckDBPyConnection, batch_id: int, now: dt.datetime) -> None:
    """Append the life-cycle events a ledger row implies and the log does not have yet: received,
    assigned, closed and visited at the ledger's times, any other status at the load time."""
    con.execute("""
        INSERT INTO case_events
        WITH touched AS (  -- the rows just written, as written (the merge wrote them from `incoming`)
            SELECT i.* FROM incoming i JOIN outcome o ON o._line = i._line AND o.outcome IN ('loaded', 'updated')
        ),
        known AS (  -- the stored events of these cases only: never a hash table of the whole log
            SELECT e.case_id, e.status FROM case_events e WHERE e.case_id IN (SELECT case_id FROM touched)
        ),
        implied AS (
            SELECT case_id, received_at AS "at", $received AS status, NULL AS unit FROM touched
            UNION ALL SELECT case_id, assigned_at, $assigned, handling_unit FROM touched WHERE assigned_at IS NOT NULL
            UNION ALL SELECT case_id, closed_at, $closed, handling_unit FROM touched WHERE closed_at IS NOT NULL
            UNION ALL SELECT case_id, followup_at, $visited, NULL FROM touched WHERE followup_at IS NOT NULL
            UNION ALL SELECT case_id, CAST($now AS TIMESTAMP), status, handling_unit FROM touched
                WHERE status <> $received
                  AND NOT (status = $assigned AND assigned_at IS NOT NULL)
                  AND NOT (status = $closed AND closed_at IS NOT NULL)
                  AND NOT (status = $visited AND followup_at IS NOT NULL)
        )
        SELECT i.case_id, i."at", i.status, i.unit, NULL, $batch_id
        FROM implied i
        WHERE NOT EXISTS (SELECT 1 FROM known e WHERE e.case_id = i.case_id AND e.status = i.status)
        ORDER BY i.case_id, i."at"
        """, {"received": vocab.term("status", "received"), "assigned": vocab.term("status", "assigned"),
              "closed": vocab.term("status", "closed"), "visited": vocab.term("status", "visited"),
              "now": now, "batch_id": batch_id})
