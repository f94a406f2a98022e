"""The warehouse's views: case_facts and household_facts (etl/sql/views.sql), the tables
case_history (etl/sql/case_history.sql) and case_flags (etl/sql/case_flags.sql: every per-case
rule that does not depend on 'today') that case_facts reads, and the macros all of them use:
the area-code rule (etl.codes.sql_macros) and the parameters.

They are part of the warehouse's schema: `init` and every load write them (`create_views`),
so SQL users of the file see the current definitions; `ensure_views` gives a read-only
connection this version's views when the file's are older, and its own temporary case_flags
when the stored one was computed with other definitions (vocabularies, settings). The analyses (analysis/) only
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
        # the aging bucket of `days` overdue: how many edges lie below it (a CASE, not a lambda over
        # mq_overdue_edges(): it is evaluated for every overdue case of every query)
        "mq_overdue_bucket(days)": "CASE " + " ".join(f"WHEN days <= {int(e)} THEN {i}" for i, e in enumerate(OVERDUE_BUCKET_EDGES))
                                   + f" ELSE {len(OVERDUE_BUCKET_EDGES)} END",
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
    SQL users; it also rebuilds the tables case_history (etl/sql/case_history.sql) and
    case_flags (etl/sql/case_flags.sql) that case_facts reads, unless they were computed with the
    same definitions from the same cases (`_flags_stamp`). `temporary=True` creates them for
    this connection only (works read-only): the stored tables are used when they are this
    version's (case_flags: computed with the same definitions), otherwise temporary ones are built.
    """
    sql = (SQL_DIR / "views.sql").read_text(encoding="utf-8")
    con.execute(_macros_sql(temporary))
    if temporary:
        sql = sql.replace("CREATE OR REPLACE VIEW", "CREATE OR REPLACE TEMP VIEW")
        have_history, have_flags, stored = con.execute(
            """SELECT (SELECT count(*) FROM duckdb_tables() WHERE table_name = 'case_history'),
                      (SELECT count(*) FROM duckdb_tables() WHERE table_name = 'case_flags'),
                      (SELECT max(comment) FROM duckdb_tables() WHERE table_name = 'case_flags' AND NOT temporary)""").fetchone()
        if not have_history:  # a warehouse written by an older version: compute both for this connection
            refresh_case_history(con, temporary=True)
        elif not have_flags or _definitions_of(stored) != _flags_fingerprint():  # older, or other settings or vocabularies
            _build_case_flags(con, temporary=True)
    elif con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('case_history', 'case_flags') "
                     "AND temporary").fetchone()[0]:
        refresh_case_history(con, temporary=True)  # this connection's own copies
    else:  # rebuilt unless the stored tables already hold these definitions over these very cases
        stamp = _flags_stamp(con)
        if _stored_flags_stamp(con) != stamp:
            refresh_case_history(con, temporary=False, stamp=stamp)
    con.execute(sql)
    if not temporary:  # the stored views are this version's: read-only connections can use them as they are
        con.execute("INSERT OR REPLACE INTO meta VALUES ('views_fingerprint', ?)", [_views_fingerprint()])


def _views_fingerprint() -> str:
    text = "".join((SQL_DIR / f).read_text(encoding="utf-8") for f in ("views.sql", "case_history.sql", "case_flags.sql"))
    return hashlib.sha256((text + _macros_sql(False)).encode()).hexdigest()[:16]


def _flags_fingerprint() -> str:
    """The definitions case_flags is computed with: its SQL, case_history's and the macros."""
    text = "".join((SQL_DIR / f).read_text(encoding="utf-8") for f in ("case_history.sql", "case_flags.sql"))
    return hashlib.sha256((text + _macros_sql(False)).encode()).hexdigest()[:16]


def _flags_stamp(con: duckdb.DuckDBPyConnection) -> str:
    """What a stored case_flags is a function of: the definitions' fingerprint and a signature of
    every row of `cases` (count and the sum of the rows' hashes; 0.7 s of CPU per million cases,
    a fraction of a rebuild), so a load that changed no case (households, areas, a file of
    duplicates) does not rebuild case_history and case_flags."""
    n, h = con.execute("SELECT count(*), sum(hash(c)) FROM cases c").fetchone()
    return f"{_flags_fingerprint()}:{n}-{h}"


def _definitions_of(stamp: str | None) -> str:
    """The definitions' fingerprint of a stored case_flags' stamp (`_flags_stamp`); '' without one."""
    return (stamp or "").split(":")[0]


def _stored_flags_stamp(con: duckdb.DuckDBPyConnection) -> str | None:
    return con.execute("""SELECT max(f.comment) FROM duckdb_tables() f WHERE f.table_name = 'case_flags' AND NOT f.temporary
                          AND EXISTS (SELECT 1 FROM duckdb_tables() h WHERE h.table_name = 'case_history' AND NOT h.temporary)""").fetchone()[0]


def refresh_case_history(con: duckdb.DuckDBPyConnection, *, temporary: bool | None = None, stamp: str | None = None) -> None:
    """Rebuild the tables case_history (etl/sql/case_history.sql) and case_flags
    (etl/sql/case_flags.sql) from `cases`. Loads do it through create_views; whoever writes
    `cases` another way calls this afterwards. `temporary`: build them for this connection only;
    None: temporary if a temporary one exists."""
    if temporary is None:
        temporary = bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('case_history', 'case_flags') "
                                     "AND temporary").fetchone()[0])
    sql = (SQL_DIR / "case_history.sql").read_text(encoding="utf-8")
    if temporary:
        sql = sql.replace("CREATE OR REPLACE TABLE", "CREATE OR REPLACE TEMP TABLE")
    con.execute(sql)
    _build_case_flags(con, temporary=temporary, stamp=stamp)


def refresh_case_flags(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the stored table case_flags from `cases` and the stored case_history (etl/migrations
    m0003 creates it so in a warehouse written before it existed)."""
    _build_case_flags(con, temporary=False)


def _build_case_flags(con: duckdb.DuckDBPyConnection, *, temporary: bool, stamp: str | None = None) -> None:
    """case_flags with this code's macros; a stored one records what it was computed from
    (`_flags_stamp`: the definitions' fingerprint, then the cases' signature) as its comment."""
    con.execute(_macros_sql(temporary))
    sql = (SQL_DIR / "case_flags.sql").read_text(encoding="utf-8")
    if temporary:
        sql = sql.replace("CREATE OR REPLACE TABLE", "CREATE OR REPLACE TEMP TABLE")
    con.execute(sql)
    if not temporary:  # the table carries its definitions' fingerprint (no meta row: migrations keep meta's rows)
        con.execute(f"COMMENT ON TABLE case_flags IS '{stamp or _flags_stamp(con)}'")


def ensure_views(con: duckdb.DuckDBPyConnection) -> None:
    """Make sure this connection sees the current code's views: the ones stored in the file
    when they and case_flags were written by this version (same definitions, vocabularies and
    settings), otherwise temporary ones (they take precedence over the stored ones)."""
    have, views_fp, flags_fp = con.execute(
        """SELECT (SELECT count(*) FROM duckdb_views() WHERE database_name = 'temp' AND view_name = 'case_facts'),
                  (SELECT max(value) FROM meta WHERE key = 'views_fingerprint'),
                  (SELECT max(comment) FROM duckdb_tables() WHERE table_name = 'case_flags' AND NOT temporary)""").fetchone()
    if not have and (views_fp, _definitions_of(flags_fp)) != _fingerprints_cached():
        create_views(con, temporary=True)


_FINGERPRINTS: list[tuple[str, str]] = []


def _fingerprints_cached() -> tuple[str, str]:
    if not _FINGERPRINTS:
        _FINGERPRINTS.append((_views_fingerprint(), _flags_fingerprint()))
    return _FINGERPRINTS[0]
