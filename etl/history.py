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


def after_cases(con: duckdb.DuckDBPyConnection, ctx: MergeContext) -> None:
    """The cases' events, then the data's own date (etl.views.record_data_date)."""
    case_events(con, ctx.batch_id, ctx.now)
    record_data_date(con, ctx.as_of)


def case_events(con: duckdb.DuckDBPyConnection, batch_id: int, now: dt.datetime) -> None:
    """Append the life-cycle events a ledger row implies and the log does not have yet: received,
    assigned, closed and visited at the ledger's times, any other status at the load time."""
    con.execute("""
        INSERT INTO case_events
        WITH touched AS (
            SELECT c.* FROM cases c JOIN outcome o ON o.k = c.case_id AND o.outcome IN ('loaded', 'updated')
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
        WHERE NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = i.case_id AND e.status = i.status)
        ORDER BY i.case_id, i."at"
        """, {"received": vocab.term("status", "received"), "assigned": vocab.term("status", "assigned"),
              "closed": vocab.term("status", "closed"), "visited": vocab.term("status", "visited"),
              "now": now, "batch_id": batch_id})
