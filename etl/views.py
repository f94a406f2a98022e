"""The warehouse's views: case_facts and household_facts (etl/sql/views.sql), the table
case_history they read (etl/sql/case_history.sql), and the macros both use: the area-code
rule (etl.codes.sql_macros) and the parameters.

They are part of the warehouse's schema: `init` and every load write them (`create_views`),
so SQL users of the file see the current definitions; `ensure_views` gives a read-only
connection this version's views when the file's are older. The analyses (analysis/) only
read them. Parameters come from etl/settings.py and the vocabularies (etl/vocab.toml).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from collections.abc import Iterable

import duckdb

from . import codes, settings, vocab
from .db import SQL_DIR

# Upper bounds (days) of the overdue aging buckets (超期天数): the setting metric_overdue_bucket_edges, read once at import.
OVERDUE_BUCKET_EDGES = settings.get("metric_overdue_bucket_edges")


def _sql_str(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _sql_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(_sql_str(i) for i in items) + "]::VARCHAR[]"


def _macros_sql(temp: bool) -> str:
    """The macros of views.sql: the area-code rule (etl.codes) and the parameters, from the
    vocabularies and the settings."""
    kw = "TEMP MACRO" if temp else "MACRO"
    satisfied = [t["term"] for t in vocab.vocab("satisfaction") if t.get("satisfied")]
    paired = vocab.term("household_category", "key_assistance")
    macros = {
        **codes.sql_macros(),
        "mq_as_of()": f"coalesce({AS_OF_SQL}, {AS_OF_CLOCK})",
        "mq_open_statuses()": _sql_list(vocab.open_statuses()),
        "mq_closed_statuses()": _sql_list(vocab.closed_statuses()),
        "mq_satisfied_terms()": _sql_list(satisfied),
        "mq_paired_category()": _sql_str(paired),
        "mq_term_reception()": _sql_str(vocab.term("channel", "reception")),
        # received above the village and town: at city level (市/省), or at district level in person
        # (接访日); the district's hotline, mailbox and online channels serve everyone (越级访 and 抓苗头)
        "mq_higher_level(level, channel)": "coalesce(level = 'city' OR (level = 'district' AND channel = mq_term_reception()), false)",
        "mq_repeat_days()": str(int(settings.get("metric_repeat_window_days"))),
        "mq_multichannel_days()": str(int(settings.get("metric_multichannel_window_days"))),
        "mq_response_hours()": repr(float(settings.get("metric_response_hours"))),
        "mq_group_min_size()": str(int(settings.get("metric_group_min_size"))),
        "mq_overdue_edges()": "[" + ", ".join(str(int(e)) for e in OVERDUE_BUCKET_EDGES) + "]::INTEGER[]",
        # cases per 1,000 households (每千户诉求): NULL when there are no households (0 or NULL)
        "mq_per_1000(n, households)": "CASE WHEN households > 0 THEN CAST(n AS DOUBLE) / households * 1000 END",
    }
    return "\n".join(f"CREATE OR REPLACE {kw} {name} AS {body};" for name, body in macros.items())


# The warehouse's 'today' (as of): the demo's fixed date; else the data's own date, the later
# of the latest time in the case records (written by every load of cases, meta.data_as_of) and
# any date a user gave with `load --as-of` (meta.given_as_of); the clock only for a warehouse
# with no cases. End of that day, so a deadline on it is not yet overdue.
AS_OF_SQL = ("(SELECT coalesce(max(TRY_CAST(value AS DATE)) FILTER (key = 'demo_as_of'), "
             "max(TRY_CAST(value AS DATE)) FILTER (key IN ('data_as_of', 'given_as_of'))) + INTERVAL '23:59:59' "
             "FROM meta)")
AS_OF_CLOCK = "date_trunc('second', current_localtimestamp())"


@dataclass(frozen=True)
class AsOf:
    at: dt.datetime  # end of the day the data reaches
    source: str  # demo, data (latest record), given (load --as-of) or clock (no cases yet)

    def label(self) -> str:
        """'数据截至 2025-12-28' as pages and commands show it."""
        return f"数据截至 {self.at:%Y-%m-%d}" + ("" if self.source != "clock" else " (尚无诉求数据, 按今天计)")

    def lag_days(self, today: dt.date | None = None) -> int:
        """Whole days between the data's date and today (wall clock)."""
        return ((today or dt.date.today()) - self.at.date()).days


def as_of(con: duckdb.DuckDBPyConnection) -> AsOf:
    """The warehouse's 'today' (AS_OF_SQL) and where it comes from."""
    at, demo, given, data = con.execute(f"""
        SELECT coalesce({AS_OF_SQL}, {AS_OF_CLOCK}),
               max(value) FILTER (key = 'demo_as_of'), max(value) FILTER (key = 'given_as_of'),
               max(value) FILTER (key = 'data_as_of') FROM meta""").fetchone()
    source = "demo" if demo else "clock" if not (given or data) else "given" if (given or "") > (data or "") else "data"
    return AsOf(at, source)


def record_data_date(con: duckdb.DuckDBPyConnection, given: dt.date | None = None) -> None:
    """After a load of cases: the latest time in the case records (meta.data_as_of) and, with
    `given` (load --as-of), the latest date a user gave (meta.given_as_of)."""
    con.execute("""INSERT OR REPLACE INTO meta
                   SELECT 'data_as_of', CAST(max(greatest(received_at, assigned_at, closed_at, followup_at))::DATE AS VARCHAR)
                   FROM cases HAVING count(*) > 0""")
    if given is not None:
        con.execute("""INSERT OR REPLACE INTO meta
                       SELECT 'given_as_of', CAST(greatest(?::DATE, max(CAST(value AS DATE))) AS VARCHAR)
                       FROM meta WHERE key = 'given_as_of'""", [given])


def create_views(con: duckdb.DuckDBPyConnection, *, temporary: bool = False) -> None:
    """Define the macros and run etl/sql/views.sql (case_facts, household_facts).

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
