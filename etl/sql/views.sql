-- Derived views: every case and household metric is defined here once (a case's rules that do not
-- depend on 'today' in etl/sql/case_flags.sql, which case_facts reads); analysis/metrics.py and
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
--   mq_overdue_bucket(days) the aging bucket of `days` overdue: how many edges are below it (0 to 4)
--   mq_per_1000(n, households)  n per 1,000 households (每千户诉求), NULL without households (for the analyses)
-- A view is bound when it is queried, so redefining a macro changes every view at once; the table
-- case_flags is computed with them at load time (a connection with other settings or vocabularies
-- builds its own temporary copy: etl.views.ensure_views).

-- One row per case with its derived flags. Every rule that does not depend on 'today' is
-- computed at load time into the table case_flags (etl/sql/case_flags.sql, rebuilt after every
-- load); this view adds the ones that do: overdue, days overdue and the aging bucket at as-of.
CREATE OR REPLACE VIEW case_facts AS
WITH base AS (
    SELECT f.*, mq_as_of() AS as_of FROM case_flags f
)
SELECT
    b.case_id,
    b.received_at,
    b.received_date,
    b.channel,
    b.category,
    b.status,
    b.area_code,
    b.village_code,
    b.town_code,
    b.district_code,
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
    b.is_closed,
    -- overdue: still open and the deadline has passed at as-of; days counted in started days
    b.is_open AND b.deadline < b.as_of AS is_overdue,
    CASE WHEN b.is_open AND b.deadline < b.as_of
        THEN CAST(ceil(epoch(b.as_of - b.deadline) / 86400.0) AS INTEGER) END AS days_overdue,
    CASE WHEN b.is_open AND b.deadline < b.as_of
        THEN mq_overdue_bucket(ceil(epoch(b.as_of - b.deadline) / 86400.0)) END AS overdue_bucket,
    b.on_time,
    b.response_hours,
    b.responded_on_time,
    b.rated,
    b.satisfied,
    b.has_followup,
    b.violation_opinion,
    b.violation_followup,
    b.violation_signature,
    b.violation_any,
    b.is_repeat,
    b.is_multichannel,
    b.is_level_skipping_city,
    b.is_level_skipping_district,
    b.is_level_skipping,
    b.is_group,
    b.group_people
FROM base b;

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
