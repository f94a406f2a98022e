-- Staging for household sheets (民情数据库 snapshots). Input: raw_rows. Output: stg_households.
CREATE OR REPLACE TEMP TABLE stg_households AS
WITH typed AS (
    SELECT r._line,
        nullif(trim(r.household_id), '') AS household_id,
        nullif(trim(r.town), '') AS town, nullif(trim(r.village), '') AS village,
        nullif(trim(r.area_code), '') AS area_code_in,
        TRY_CAST(trim(r.lon) AS DOUBLE) AS lon_in, TRY_CAST(trim(r.lat) AS DOUBLE) AS lat_in,
        mask_name(r.head) AS head_masked,
        keyed_hash(r.head || '|' || coalesce(r.household_id, ''), $hash_key) AS head_hash,
        r.members AS members_raw, TRY_CAST(trim(r.members) AS INTEGER) AS members,
        r.annual_income AS income_raw, TRY_CAST(replace(trim(r.annual_income), ',', '') AS DOUBLE) AS annual_income,
        r.debt AS debt_raw, TRY_CAST(replace(trim(r.debt), ',', '') AS DOUBLE) AS debt,
        r.difficulty AS difficulty_raw, TRY_CAST(trim(r.difficulty) AS INTEGER) AS difficulty,
        r.category AS category_raw, hc.term AS category,
        r.category_since AS since_raw, CAST(parse_ts(r.category_since) AS DATE) AS category_since,
        r.poor AS poor_raw, parse_bool(r.poor) AS poor,
        r.wubao AS wubao_raw, parse_bool(r.wubao) AS wubao,
        r.old_party_member AS party_raw, parse_bool(r.old_party_member) AS old_party_member,
        r.deputy AS deputy_raw, parse_bool(r.deputy) AS deputy,
        r.village_cadre AS vc_raw, parse_bool(r.village_cadre) AS village_cadre,
        nullif(trim(r.paired_cadre_id), '') AS paired_cadre_id
    FROM raw_rows r
    LEFT JOIN vocab_terms hc ON hc.domain = 'household_category' AND hc.spelling = norm_term(r.category)
),
checked AS (
    SELECT *, CASE
        WHEN household_id IS NULL THEN ['missing_id', 'household_id', '户编号为空']
        WHEN category IS NULL THEN ['unknown_category', 'category', CASE WHEN is_blank(category_raw) THEN '户分类为空 (应为 放心户/关心户/连心户)' ELSE '户分类无法识别 (应为 放心户/关心户/连心户)' END]
        WHEN NOT is_blank(members_raw) AND (members IS NULL OR members < 1) THEN ['bad_number', 'members', '家庭人口无法识别 (应为正整数)']
        WHEN NOT is_blank(income_raw) AND annual_income IS NULL THEN ['bad_number', 'annual_income', '家庭年收入无法识别 (应为数字, 单位元)']
        WHEN NOT is_blank(debt_raw) AND (debt IS NULL OR debt < 0) THEN ['bad_number', 'debt', '家庭负债无法识别 (应为非负数字, 单位元)']
        WHEN NOT is_blank(difficulty_raw) AND (difficulty IS NULL OR difficulty NOT BETWEEN 0 AND 3) THEN ['bad_number', 'difficulty', '困难程度无法识别 (应为 0-3 的整数)']
        WHEN NOT is_blank(since_raw) AND category_since IS NULL THEN ['bad_date', 'category_since', '分类时间无法识别 (应为日期, 如 2025-03-05 或 2025年3月5日)']
        WHEN NOT is_blank(poor_raw) AND poor IS NULL THEN ['bad_flag', 'poor', '贫困户无法识别 (应为 是/否)']
        WHEN NOT is_blank(wubao_raw) AND wubao IS NULL THEN ['bad_flag', 'wubao', '五保户无法识别 (应为 是/否)']
        WHEN NOT is_blank(party_raw) AND old_party_member IS NULL THEN ['bad_flag', 'old_party_member', '老党员无法识别 (应为 是/否)']
        WHEN NOT is_blank(deputy_raw) AND deputy IS NULL THEN ['bad_flag', 'deputy', '两代一委无法识别 (应为 是/否)']
        WHEN NOT is_blank(vc_raw) AND village_cadre IS NULL THEN ['bad_flag', 'village_cadre', '村组干部无法识别 (应为 是/否)']
    END AS _reject
    FROM typed
)
SELECT _line, household_id, town, village, area_code_in, lon_in, lat_in,
    head_masked, head_hash, members, annual_income, debt, difficulty, category, category_since,
    coalesce(poor, false) AS poor, coalesce(wubao, false) AS wubao,
    coalesce(old_party_member, false) AS old_party_member, coalesce(deputy, false) AS deputy,
    coalesce(village_cadre, false) AS village_cadre, paired_cadre_id,
    _reject[1] AS _reason, _reject[2] AS _field, _reject[3] AS _message
FROM checked;
