"""The warehouse's views: case_facts and household_facts (etl/sql/views.sql), the table
case_history they read (etl/sql/case_history.sql), and the parameter macros both use.

They are part of the warehouse's schema: `init` and every load write them (`create_views`),
so SQL users of the file see the current definitions; `ensure_views` gives a read-only
connection this version's views when the file's are older. The analyses (analysis/) only
read them. Parameters come from etl/settings.py and the vocabularies (etl/vocab.toml).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import duckdb

from . import settings, vocab
from .db import SQL_DIR

# Upper bounds (days) of the overdue aging buckets (超期天数): 1-7, 8-14, 15-30, 31-90, over 90.
OVERDUE_BUCKET_EDGES = (7, 14, 30, 90)


def _sql_str(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _sql_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(_sql_str(i) for i in items) + "]::VARCHAR[]"


def _macros_sql(temp: bool) -> str:
    """The parameter macros of views.sql, from the vocabularies and the constants above."""
    kw = "TEMP MACRO" if temp else "MACRO"
    satisfied = [t["term"] for t in vocab.vocab("satisfaction") if t.get("satisfied")]
    paired = vocab.term("household_category", "key_assistance")
    macros = {
        "mq_as_of": "(SELECT coalesce(max(CAST(value AS DATE)) + INTERVAL '23:59:59', "
                    "date_trunc('second', current_localtimestamp())) FROM meta WHERE key = 'demo_as_of')",
        "mq_open_statuses": _sql_list(vocab.open_statuses()),
        "mq_satisfied_terms": _sql_list(satisfied),
        "mq_paired_category": _sql_str(paired),
        "mq_term_reception": _sql_str(vocab.term("channel", "reception")),
        "mq_repeat_days": str(int(settings.get("metric_repeat_window_days"))),
        "mq_multichannel_days": str(int(settings.get("metric_multichannel_window_days"))),
        "mq_response_hours": repr(float(settings.get("metric_response_hours"))),
        "mq_group_min_size": str(int(settings.get("metric_group_min_size"))),
        "mq_overdue_edges": "[" + ", ".join(str(int(e)) for e in OVERDUE_BUCKET_EDGES) + "]::INTEGER[]",
    }
    lines = [f"CREATE OR REPLACE {kw} {name}() AS {body};" for name, body in macros.items()]
    return "\n".join(lines + [f"CREATE OR REPLACE {kw} {sig} AS {body};" for sig, body in _FORMULAS.items()])


# Figures with arguments, defined once for every query that shows them (signature -> body).
_FORMULAS = {
    # cases per 1,000 households (每千户诉求): NULL when there are no households (0 or NULL)
    "mq_per_1000(n, households)": "CASE WHEN households > 0 THEN CAST(n AS DOUBLE) / households * 1000 END",
}


def create_views(con: duckdb.DuckDBPyConnection, *, temporary: bool = False) -> None:
    """Define the parameter macros and run etl/sql/views.sql (case_facts, household_facts).

    Call it after init and after every load so the warehouse file carries the views for
    SQL users; it also rebuilds the table case_history (etl/sql/case_history.sql) that
    case_facts reads. `temporary=True` creates them for this connection only (works read-only).
    """
    sql = (SQL_DIR / "views.sql").read_text(encoding="utf-8")
    if temporary:
        sql = sql.replace("CREATE OR REPLACE VIEW", "CREATE OR REPLACE TEMP VIEW")
        have = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'case_history'").fetchone()[0]
        if not have:  # a warehouse written by an older version: compute it for this connection
            refresh_case_history(con, temporary=True)
    else:
        refresh_case_history(con)
    con.execute(_macros_sql(temporary))
    con.execute(sql)
    if not temporary:  # the stored views are this version's: read-only connections can use them as they are
        con.execute("INSERT OR REPLACE INTO meta VALUES ('views_fingerprint', ?)", [_views_fingerprint()])


def _views_fingerprint() -> str:
    text = "".join((SQL_DIR / f).read_text(encoding="utf-8") for f in ("views.sql", "case_history.sql"))
    return hashlib.sha256((text + _macros_sql(False)).encode()).hexdigest()[:16]


def refresh_case_history(con: duckdb.DuckDBPyConnection, *, temporary: bool | None = None) -> None:
    """Rebuild the table case_history from `cases` (etl/sql/case_history.sql). Loads do it
    through create_views; whoever writes `cases` another way calls this afterwards.
    `temporary`: build it for this connection only; None: temporary if a temporary one exists."""
    if temporary is None:
        temporary = bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'case_history' "
                                     "AND temporary").fetchone()[0])
    sql = (SQL_DIR / "case_history.sql").read_text(encoding="utf-8")
    if temporary:
        sql = sql.replace("CREATE OR REPLACE TABLE", "CREATE OR REPLACE TEMP TABLE")
    con.execute(sql)


def ensure_views(con: duckdb.DuckDBPyConnection) -> None:
    """Make sure this connection sees the current code's views: the ones stored in the file
    when they were written by this version (same definitions, vocabularies and settings),
    otherwise temporary ones (they take precedence over the stored ones)."""
    have, stored = con.execute(
        """SELECT (SELECT count(*) FROM duckdb_views() WHERE database_name = 'temp' AND view_name = 'case_facts'),
                  (SELECT max(value) FROM meta WHERE key = 'views_fingerprint')""").fetchone()
    if not have and stored != _fingerprint_cached():
        create_views(con, temporary=True)


_FINGERPRINT: list[str] = []


def _fingerprint_cached() -> str:
    if not _FINGERPRINT:
        _FINGERPRINT.append(_views_fingerprint())
    return _FINGERPRINT[0]
