-- case_flags: one row per case with the columns the view case_facts shows and every per-case
-- rule that does not depend on 'today' (the as-of date): the rules live here, once. The view
-- case_facts (etl/sql/views.sql) reads this table alone and adds what depends on as-of
-- (overdue, days overdue, aging bucket), so a query reads narrow stored columns instead of
-- deriving every flag of every row again.
-- Rebuilt by etl.views.create_views() after every load, right after case_history; it uses the
-- macros of etl/views.py (the vocabularies and settings of the writer). The table's comment is
-- the fingerprint of the definitions it was built with: a connection whose vocabularies or
-- settings differ builds its own temporary copy (etl.views.ensure_views), so a changed setting
-- takes effect without a load.
-- Flags of closed-case rules are false on open cases.
CREATE OR REPLACE TABLE case_flags AS
WITH base AS (
    SELECT c.*,
        NOT list_contains(mq_closed_statuses(), c.status) AS is_open,
        c.handling_opinion IS NULL OR trim(c.handling_opinion) = '' AS no_opinion,
        NOT (coalesce(c.signed_handler, false) AND coalesce(c.signed_leader, false)) AS unsigned
    FROM cases c
),
earlier AS (
    -- What the same petitioner did earlier on the same category, from the table case_history
    -- (etl/sql/case_history.sql): the windows of the settings are applied here.
    SELECT h.case_id,
        h.days_since_same <= mq_repeat_days() AS is_repeat,
        h.days_since_other_channel <= mq_multichannel_days() AS is_multichannel,
        h.had_local_case
    FROM case_history h
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
    b.is_open,
    NOT b.is_open AS is_closed,
    -- closed by the deadline; a closed case without a closing time is not on time
    (NOT b.is_open) AND b.closed_at IS NOT NULL AND b.closed_at <= b.deadline AS on_time,
    epoch(b.assigned_at - b.received_at) / 3600.0 AS response_hours,
    b.assigned_at IS NOT NULL AND epoch(b.assigned_at - b.received_at) <= mq_response_hours() * 3600
        AS responded_on_time,
    b.satisfaction IS NOT NULL AS rated,
    coalesce(list_contains(mq_satisfied_terms(), b.satisfaction), false) AS satisfied,
    (NOT b.is_open) AND b.followup_at IS NOT NULL AS has_followup,
    -- 三不结案: a closed case needs a handling opinion, a follow-up record and both signatures
    -- (a blank opinion counts as missing, an unknown signature as unsigned)
    (NOT b.is_open) AND b.no_opinion AS violation_opinion,
    (NOT b.is_open) AND b.followup_at IS NULL AS violation_followup,
    (NOT b.is_open) AND b.unsigned AS violation_signature,
    (NOT b.is_open) AND (b.no_opinion OR b.followup_at IS NULL OR b.unsigned) AS violation_any,
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
