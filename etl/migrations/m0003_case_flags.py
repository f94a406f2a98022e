"""Schema 3: the derived table `case_flags` (etl/sql/case_flags.sql), one row per case with every
per-case rule that does not depend on 'today', which the view case_facts now reads.

It is computed from `cases` and the stored `case_history` (every release so far builds that table
with the same etl/sql/case_history.sql; a warehouse without it gets both) with this code's
definitions; every later load rebuilds it with the views.
"""

from __future__ import annotations


def upgrade(con) -> None:
    from etl import views

    has_history = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' "
                              "AND table_name = 'case_history' AND NOT temporary").fetchone()[0]
    if has_history:
        views.refresh_case_flags(con)
    else:
        views.refresh_case_history(con, temporary=False)
