"""The table case_flags (etl/sql/case_flags.sql): the per-case rules that do not depend on 'today',
computed at load time, give exactly the figures the per-query derivation gave before them.

The oracle is the view case_facts as it was before case_flags existed (etl/sql/views.sql at
main 3903edb, copied below verbatim): it derives every flag from `cases` and `case_history` in
every query. A second connection to the same warehouse reads that old view (a temporary view
case_facts takes precedence over the stored one), so the dashboard's own functions compute
every figure both ways on the same data.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest

from analysis import metrics
from analysis.filters import CaseFilter
from etl import migrations, views
from etl.db import connect

OLD_CASE_FACTS = """
CREATE OR REPLACE TEMP VIEW case_facts AS
WITH earlier AS (
    -- What the same petitioner did earlier on the same category, from the table case_history
    -- (etl/sql/case_history.sql, rebuilt after every load): the windows are applied here, so a
    -- changed setting takes effect without a rebuild.
    SELECT h.case_id,
        h.days_since_same <= mq_repeat_days() AS is_repeat,
        h.days_since_other_channel <= mq_multichannel_days() AS is_multichannel,
        h.had_local_case
    FROM case_history h
),
base AS (
    SELECT c.*,
        mq_as_of() AS as_of,
        NOT list_contains(mq_closed_statuses(), c.status) AS is_open
    FROM cases c
)
SELECT
    b.case_id,
    b.received_at,
    CAST(b.received_at AS DATE) AS received_date,
    b.channel,
    b.category,
    b.status,
    b.area_code,
    unnest(mq_area_codes(b.area_code)),  -- village_code, town_code, district_code
    b.handling_unit,
    b.leader_in_charge,
    b.tier,
    b.escalation_level,
    b.received_level,
    b.major,
    b.group_size,
    b.assigned_at,
    b.deadline,
    b.closed_at,
    b.followup_at,
    b.satisfaction,
    b.as_of,
    b.is_open,
    NOT b.is_open AS is_closed,
    -- overdue: still open and the deadline has passed at as-of; days counted in started days
    b.is_open AND b.deadline < b.as_of AS is_overdue,
    CASE WHEN b.is_open AND b.deadline < b.as_of
        THEN CAST(ceil(epoch(b.as_of - b.deadline) / 86400.0) AS INTEGER) END AS days_overdue,
    CASE WHEN b.is_open AND b.deadline < b.as_of
        THEN len(list_filter(mq_overdue_edges(), lambda x: x < ceil(epoch(b.as_of - b.deadline) / 86400.0))) END
        AS overdue_bucket,
    -- closed by the deadline; a closed case without a closing time is not on time
    (NOT b.is_open) AND b.closed_at IS NOT NULL AND b.closed_at <= b.deadline AS on_time,
    epoch(b.assigned_at - b.received_at) / 3600.0 AS response_hours,
    b.assigned_at IS NOT NULL AND epoch(b.assigned_at - b.received_at) <= mq_response_hours() * 3600
        AS responded_on_time,
    b.satisfaction IS NOT NULL AS rated,
    coalesce(list_contains(mq_satisfied_terms(), b.satisfaction), false) AS satisfied,
    (NOT b.is_open) AND b.followup_at IS NOT NULL AS has_followup,
    -- 三不结案: a closed case needs a handling opinion, a follow-up record and both signatures
    (NOT b.is_open) AND (b.handling_opinion IS NULL OR trim(b.handling_opinion) = '') AS violation_opinion,
    (NOT b.is_open) AND b.followup_at IS NULL AS violation_followup,
    (NOT b.is_open) AND NOT (coalesce(b.signed_handler, false) AND coalesce(b.signed_leader, false))
        AS violation_signature,
    (NOT b.is_open) AND ((b.handling_opinion IS NULL OR trim(b.handling_opinion) = '') OR b.followup_at IS NULL
        OR NOT (coalesce(b.signed_handler, false) AND coalesce(b.signed_leader, false))) AS violation_any,
    -- 重复访 / 多头访 / 越级访 / 集体访
    coalesce(e.is_repeat, false) AS is_repeat,
    coalesce(e.is_multichannel, false) AS is_multichannel,
    coalesce(b.received_level = 'city', false) AS is_level_skipping_city,
    -- at district level only a petition lodged in person (接访日) skips levels: hotline, mailbox
    -- and online channels are run by the district for everyone and are not 越级访
    coalesce(b.received_level = 'district' AND b.channel = mq_term_reception()
             AND NOT coalesce(e.had_local_case, false), false) AS is_level_skipping_district,
    mq_higher_level(b.received_level, b.channel)
        AND NOT (b.received_level = 'district' AND coalesce(e.had_local_case, false)) AS is_level_skipping,
    b.group_size >= mq_group_min_size() AS is_group,
    CASE WHEN b.group_size >= mq_group_min_size() THEN b.group_size ELSE 0 END AS group_people
FROM base b
LEFT JOIN earlier e ON e.case_id = b.case_id;
"""

START, END = dt.date(2025, 11, 1), dt.date(2026, 10, 31)


def _old(db):
    """A read-only connection whose case_facts is the pre-case_flags derivation."""
    con = connect(db, read_only=True)
    views.ensure_views(con)  # this code's macros (the parameters the old view also reads)
    con.execute(OLD_CASE_FACTS)
    return con


@pytest.fixture(scope="module")
def both(demo_db):
    new, old = connect(demo_db, read_only=True), _old(demo_db)
    yield new, old
    new.close()
    old.close()


def _filters(con) -> list[CaseFilter]:
    town, village = con.execute("""SELECT left(area_code, 9), max(area_code) FILTER (length(area_code) = 12)
                                   FROM cases GROUP BY 1 ORDER BY count(*) DESC LIMIT 1""").fetchone()
    category, channel = con.execute("SELECT mode(category), mode(channel) FROM cases").fetchone()
    return [CaseFilter(START, END), CaseFilter.of(START, END, category=category), CaseFilter.of(START, END, area_prefix=town),
            CaseFilter.of(START, END, area_prefix=village), CaseFilter.of(START, END, channel=channel, status=["办理中", "已回访"]),
            CaseFilter(dt.date(2024, 3, 1), dt.date(2024, 8, 31))]


def test_every_row_of_case_facts_is_what_the_old_derivation_gives(both):
    new, old = both
    views.ensure_views(new)
    cols = [r[0] for r in old.execute("DESCRIBE case_facts").fetchall()]
    assert [r[0] for r in new.execute("DESCRIBE case_facts").fetchall()] == cols  # same columns, same order
    a = new.execute("SELECT * FROM case_facts ORDER BY case_id").df()
    b = old.execute("SELECT * FROM case_facts ORDER BY case_id").df()
    assert len(a) == len(b) == new.execute("SELECT count(*) FROM cases").fetchone()[0]
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    # the demo exercises every rule, so the comparison above can fail
    flags = ["is_overdue", "on_time", "responded_on_time", "satisfied", "has_followup", "violation_opinion",
             "violation_followup", "violation_signature", "is_repeat", "is_multichannel", "is_level_skipping_city",
             "is_level_skipping_district", "is_group"]
    assert all(b[f].sum() > 0 for f in flags), {f: int(b[f].sum()) for f in flags}
    assert (~b[flags].astype(bool)).sum().min() > 0
    assert b["overdue_bucket"].nunique() == 5


def test_the_dashboards_figures_are_unchanged(both):
    new, old = both
    for flt in _filters(new):
        s_new, s_old = metrics.case_summary(new, flt), metrics.case_summary(old, flt)
        assert _same(s_new, s_old), flt
        for by in metrics._GROUPS:
            for measures in (None, ["received", "open"], ["open", "overdue", "violation_rate", "overdue_1-7天"]):
                pd.testing.assert_frame_equal(metrics.case_metrics_by(new, flt, by, measures=measures),
                                              metrics.case_metrics_by(old, flt, by, measures=measures),
                                              check_exact=False, rtol=1e-12, obj=f"{flt} by {by} {measures}")


def _same(a, b) -> bool:
    """Equal dicts of figures (nested), floats to 12 digits (the median and mean are summed in any order)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12) or (a != a and b != b)
    return a == b


def test_a_connection_with_another_setting_computes_its_own_flags(demo_db, monkeypatch):
    """case_flags holds the writer's repeat window; a reader with another one gets its own, right, figures."""
    monkeypatch.setenv("MINQING_METRIC_REPEAT_WINDOW_DAYS", "30")
    monkeypatch.setattr(views, "_FINGERPRINTS", [])  # this process's settings changed under it
    con = connect(demo_db, read_only=True)
    try:
        got = metrics.case_summary(con, CaseFilter(START, END), compare=False)["repeat"]
        # independently: an earlier case of the same petitioner on the same category at most 30 days before
        want = con.execute("""
            SELECT count(*) FROM cases c
            WHERE CAST(c.received_at AS DATE) BETWEEN $s AND $e AND EXISTS (
                SELECT 1 FROM cases e WHERE e.petitioner_hash = c.petitioner_hash AND e.category = c.category
                  AND (e.received_at < c.received_at OR (e.received_at = c.received_at AND e.case_id < c.case_id))
                  AND date_diff('day', CAST(e.received_at AS DATE), CAST(c.received_at AS DATE)) <= 30)""",
                           {"s": START, "e": END}).fetchone()[0]
        assert got == want
        plain = connect(demo_db, read_only=True)  # no temporary table here: the stored one, the writer's 90 days
        stored = plain.execute("SELECT count(*) FROM case_flags WHERE is_repeat AND received_date BETWEEN ? AND ?",
                               [START, END]).fetchone()[0]
        plain.close()
        assert want < stored  # the reader did not use the stored table
    finally:
        con.close()


def test_a_warehouse_written_before_case_flags_reads_and_upgrades(tmp_path, demo_db, both):
    """Read-only, it computes case_flags for the connection; the upgrade (m0003) stores it."""
    db = tmp_path / "older.duckdb"
    shutil.copyfile(demo_db, db)
    con = connect(db)
    con.execute("DROP TABLE case_flags")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.close()
    flt = _filters(both[0])[2]
    want = metrics.case_metrics_by(both[1], flt, "village")
    con = connect(db, read_only=True)
    pd.testing.assert_frame_equal(metrics.case_metrics_by(con, flt, "village"), want, check_exact=False, rtol=1e-12)
    con.close()
    con = connect(db)
    assert migrations.migrate(con) == (2, migrations.latest())
    con.close()
    con = connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM case_flags").fetchone()[0] == con.execute("SELECT count(*) FROM cases").fetchone()[0]
    pd.testing.assert_frame_equal(metrics.case_metrics_by(con, flt, "village"), want, check_exact=False, rtol=1e-12)
    # the stored table is this code's: no temporary copy was built
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'case_flags' AND temporary").fetchone()[0]
    con.close()


def test_a_refresh_follows_any_change_to_the_cases_and_skips_when_there_is_none(tmp_path, demo_db):
    """create_views after a write: case_flags follows a changed case (here one open case closed by
    hand, the way etl/terms.py rewrites terms), and is left alone when no case changed."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(demo_db, db)
    con = connect(db)
    views.create_views(con)  # nothing changed since the demo's load: kept as it is
    marker = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'case_flags'").fetchone()[0]
    case_id = con.execute("SELECT case_id FROM case_flags WHERE is_open ORDER BY case_id LIMIT 1").fetchone()[0]
    con.execute("UPDATE cases SET status = '办结', closed_at = received_at + INTERVAL 2 DAY WHERE case_id = ?", [case_id])
    views.create_views(con)
    assert con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'case_flags'").fetchone()[0] != marker
    con.close()
    new, old = connect(db, read_only=True), _old(db)
    cols = "case_id, is_open, is_closed, on_time, violation_any, is_overdue"
    assert new.execute(f"SELECT {cols} FROM case_facts WHERE case_id = ?", [case_id]).fetchall() == \
        old.execute(f"SELECT {cols} FROM case_facts WHERE case_id = ?", [case_id]).fetchall()
    assert new.execute("SELECT is_closed FROM case_facts WHERE case_id = ?", [case_id]).fetchone()[0]
    new.close()
    old.close()
