-- Derived views: every case and household metric is defined here once; analysis/metrics.py and
-- analysis/households.py only filter and aggregate these views. Run by etl.views.create_views(),
-- which first defines the macros the views use: the area-code rule (etl/codes.py)
--   mq_area_codes(code)     {village_code, town_code, district_code} of an area code
--   mq_town_code(code)      its first 9 digits for a town or village code, else NULL
--   mq_village_code(code)   the code if it is a village's (12 digits), else NULL
-- and the parameters (from etl/vocab.toml, the settings):
--   mq_as_of()              'today': the data's own date at 23:59:59 (etl.views.AS_OF_SQL: the demo's date,
--                           else the latest case record or load --as-of), the clock only without cases
--   mq_open_statuses()      statuses of open cases (vocab `status`, open = true)
--   mq_closed_statuses()    statuses of closed cases (open = false); every other status, including
--                           one kept as written because no vocabulary knows it, is open
--   mq_satisfied_terms()    satisfaction terms that count as satisfied (满意, 基本满意)
--   mq_paired_category()    the household category paired one-to-one with a cadre (连心户)
--   mq_repeat_days()        window of a repeat petition (90)
--   mq_multichannel_days()  window of a multi-channel petition (90)
--   mq_response_hours()     assigned within this many hours counts as responded (24)
--   mq_group_min_size()     people from which a petition is a group petition (5)
--   mq_overdue_edges()      upper bounds (days) of the overdue aging buckets ([7, 14, 30, 90])
--   mq_per_1000(n, households)  n per 1,000 households (每千户诉求), NULL without households (for the analyses)
-- A view is bound when it is queried, so redefining a macro changes every view at once.

-- One row per case with its derived flags. Flags of closed-case rules are false on open cases.
CREATE OR REPLACE VIEW case_facts AS
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

-- One row per household, latest state, without names, hashes, income or debt (aggregates only).
CREATE OR REPLACE VIEW household_facts AS
SELECT
    h.household_id,
    h.area_code,
    unnest(mq_area_codes(h.area_code)),  -- village_code, town_code, district_code
    h.members,
    h.category,
    h.category_since,
    h.category = mq_paired_category() AS needs_pairing,
    nullif(trim(h.paired_cadre_id), '') AS paired_cadre_id,
    h.category = mq_paired_category() AND nullif(trim(h.paired_cadre_id), '') IS NOT NULL AS is_paired,
    h.category = mq_paired_category() AND nullif(trim(h.paired_cadre_id), '') IS NOT NULL
        AND h.paired_cadre_id NOT IN (SELECT cadre_id FROM cadres) AS paired_cadre_unknown,
    h.poor,
    h.wubao,
    h.old_party_member,
    h.deputy,
    h.village_cadre,
    h.poor OR h.wubao OR h.old_party_member OR h.deputy OR h.village_cadre AS any_must_see
FROM households h;
