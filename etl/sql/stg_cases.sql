-- Staging for case ledgers: cast, parse and validate each raw row; nothing is joined to
-- other tables except the vocabularies. Input: raw_rows (all VARCHAR, _line).
-- Output: stg_cases, one row per input row, with _reason/_field/_message set on rejects.
-- Parameters (etl/kinds.py): $hash_key, $ordinary_days and $major_days (settings), $latest,
-- $open_statuses (the vocabulary's statuses with open = true). Channel, category, status and
-- satisfaction come resolved in term_resolution (etl/terms.py): a term no vocabulary knows is
-- kept as written, never a reason to reject the row.
CREATE OR REPLACE TEMP TABLE stg_cases AS
WITH typed AS (
    SELECT
        r._line,
        nullif(trim(r.case_id), '') AS case_id,
        r.received_at AS received_at_raw,
        parse_ts(r.received_at) AS received_at,
        r.channel AS channel_raw,
        ch.term AS channel,
        r.category AS category_raw,
        cat.term AS category,
        r.status AS status_raw,
        st.term AS status,
        nullif(trim(r.content), '') AS content,  -- text cells come masked (etl/privacy.py)
        nullif(trim(r.town), '') AS town,
        nullif(trim(r.village), '') AS village,
        nullif(trim(r.area_code), '') AS area_code_in,
        TRY_CAST(trim(r.lon) AS DOUBLE) AS lon_in,
        TRY_CAST(trim(r.lat) AS DOUBLE) AS lat_in,
        mask_name(r.petitioner) AS petitioner_masked,
        mask_phone(r.phone) AS phone_masked,
        mask_id(r.id_number) AS id_masked,
        coalesce(keyed_hash(r.id_number, $hash_key),
                 keyed_hash(nullif(concat_ws('|', nullif(trim(r.petitioner), ''), norm_phone(r.phone)), ''), $hash_key))
            AS petitioner_hash,
        r.assigned_at AS assigned_at_raw, parse_ts(r.assigned_at) AS assigned_at,
        r.closed_at AS closed_at_raw, parse_ts(r.closed_at) AS closed_at,
        r.followup_at AS followup_at_raw, parse_ts(r.followup_at) AS followup_at,
        r.satisfaction AS satisfaction_raw, sat.term AS satisfaction,
        r.major AS major_raw, parse_bool(r.major) AS major_in,
        r.group_size AS group_size_raw, TRY_CAST(trim(r.group_size) AS INTEGER) AS group_size_in,
        nullif(trim(r.handling_unit), '') AS handling_unit,
        nullif(trim(r.leader_in_charge), '') AS leader_in_charge,
        r.tier AS tier_raw, TRY_CAST(trim(r.tier) AS INTEGER) AS tier,
        CASE WHEN is_blank(r.escalation_level) THEN NULL
             WHEN trim(r.escalation_level) IN ('村', '村级', '社区', 'village') THEN 'village'
             WHEN trim(r.escalation_level) IN ('镇', '镇级', '乡镇', '街道', 'town') THEN 'town'
             WHEN trim(r.escalation_level) IN ('区', '区级', '县', '县级', 'district') THEN 'district'
             ELSE '?' END AS escalation_level,
        CASE WHEN is_blank(r.received_level) THEN NULL
             WHEN trim(r.received_level) IN ('村', '村级', '社区', 'village') THEN 'village'
             WHEN trim(r.received_level) IN ('镇', '镇级', '乡镇', '街道', 'town') THEN 'town'
             WHEN trim(r.received_level) IN ('区', '区级', '县', '县级', 'district') THEN 'district'
             WHEN trim(r.received_level) IN ('市', '市级', '省', '省级', '国家', 'city') THEN 'city'
             ELSE '?' END AS received_level,
        nullif(trim(r.handling_opinion), '') AS handling_opinion,
        r.signed_handler AS signed_handler_raw, parse_bool(r.signed_handler) AS signed_handler,
        r.signed_leader AS signed_leader_raw, parse_bool(r.signed_leader) AS signed_leader
    FROM raw_rows r
    LEFT JOIN term_resolution ch ON ch.domain = 'channel' AND ch.raw = r.channel
    LEFT JOIN term_resolution cat ON cat.domain = 'category' AND cat.raw = r.category
    LEFT JOIN term_resolution st ON st.domain = 'status' AND st.raw = r.status
    LEFT JOIN term_resolution sat ON sat.domain = 'satisfaction' AND sat.raw = r.satisfaction
),
checked AS (
    SELECT *,
        CASE
            WHEN case_id IS NULL THEN ['missing_id', 'case_id', '受理编号为空']
            WHEN is_blank(received_at_raw) THEN ['missing_value', 'received_at', '受理时间为空']
            WHEN received_at IS NULL THEN ['bad_date', 'received_at', '受理时间无法识别 (应为日期, 如 2025-03-05 或 2025年3月5日)']
            WHEN received_at < TIMESTAMP '2000-01-01' OR received_at > $latest
                THEN ['date_out_of_range', 'received_at', '受理时间不在 2000年 至今 范围内 (应为 2000年以后、不晚于今天的日期)']
            WHEN is_blank(channel_raw) THEN ['missing_value', 'channel', '诉求来源为空']
            WHEN is_blank(category_raw) THEN ['missing_value', 'category', '问题类别为空']
            WHEN is_blank(status_raw) THEN ['missing_value', 'status', '办理状态为空']
            WHEN NOT is_blank(assigned_at_raw) AND assigned_at IS NULL THEN ['bad_date', 'assigned_at', '交办时间无法识别 (应为日期, 如 2025-03-05 或 2025年3月5日)']
            WHEN NOT is_blank(closed_at_raw) AND closed_at IS NULL THEN ['bad_date', 'closed_at', '办结时间无法识别 (应为日期, 如 2025-03-05 或 2025年3月5日)']
            WHEN NOT is_blank(followup_at_raw) AND followup_at IS NULL THEN ['bad_date', 'followup_at', '回访时间无法识别 (应为日期, 如 2025-03-05 或 2025年3月5日)']
            WHEN closed_at < received_at THEN ['closed_before_received', 'closed_at', '办结时间早于受理时间']
            WHEN closed_at > $latest OR followup_at > $latest OR assigned_at > $latest
                THEN ['date_out_of_range', CASE WHEN closed_at > $latest THEN 'closed_at' WHEN followup_at > $latest THEN 'followup_at' ELSE 'assigned_at' END, '时间晚于今天']
            WHEN closed_at IS NOT NULL AND list_contains($open_statuses, status)
                THEN ['status_conflict', 'status', '办理状态为 ' || status || ' 却有办结时间; 请核对状态或办结时间']
            WHEN NOT is_blank(major_raw) AND major_in IS NULL THEN ['bad_flag', 'major', '重大疑难无法识别 (应为 是/否)']
            WHEN NOT is_blank(group_size_raw) AND (group_size_in IS NULL OR group_size_in < 1) THEN ['bad_number', 'group_size', '反映人数无法识别 (应为正整数, 如 1 或 12)']
            WHEN NOT is_blank(tier_raw) AND (tier IS NULL OR tier NOT BETWEEN 1 AND 4) THEN ['bad_number', 'tier', '化解层级无法识别 (应为 1-4 的整数)']
            WHEN escalation_level = '?' THEN ['bad_value', 'escalation_level', '问题库层级应为 村/镇/区']
            WHEN received_level = '?' THEN ['bad_value', 'received_level', '受理层级应为 村/镇/区/市']
            WHEN NOT is_blank(signed_handler_raw) AND signed_handler IS NULL THEN ['bad_flag', 'signed_handler', '承办人签字无法识别 (应为 是/否)']
            WHEN NOT is_blank(signed_leader_raw) AND signed_leader IS NULL THEN ['bad_flag', 'signed_leader', '单位领导签字无法识别 (应为 是/否)']
        END AS _reject
    FROM typed
)
SELECT
    _line, case_id, received_at, channel, category, status,
    town, village, area_code_in, lon_in, lat_in,
    coalesce(major_in, false) AS major,
    assigned_at,
    received_at + to_days(CASE WHEN coalesce(major_in, false) THEN $major_days ELSE $ordinary_days END) AS deadline,
    closed_at, satisfaction, content,
    petitioner_masked, phone_masked, id_masked, petitioner_hash,
    coalesce(group_size_in, 1) AS group_size,
    handling_unit, leader_in_charge, tier, escalation_level, received_level,
    handling_opinion, followup_at, signed_handler, signed_leader,
    nullif(trim(channel_raw), '') AS channel_raw, nullif(trim(category_raw), '') AS category_raw,
    nullif(trim(status_raw), '') AS status_raw, nullif(trim(satisfaction_raw), '') AS satisfaction_raw,
    _reject[1] AS _reason, _reject[2] AS _field, _reject[3] AS _message
FROM checked;
