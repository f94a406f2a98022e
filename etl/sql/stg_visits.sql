-- Staging for cadres' visit logs (走访记录).
CREATE OR REPLACE TEMP TABLE stg_visits AS
WITH typed AS (
    SELECT r._line,
        nullif(trim(r.visit_id), '') AS visit_id,
        nullif(trim(r.cadre_id), '') AS cadre_id,
        r.visited_at AS visited_raw, CAST(parse_ts(r.visited_at) AS DATE) AS visited_at,
        nullif(trim(r.town), '') AS town, nullif(trim(r.village), '') AS village,
        nullif(trim(r.area_code), '') AS area_code_in,
        CAST(NULL AS DOUBLE) AS lon_in, CAST(NULL AS DOUBLE) AS lat_in,
        nullif(trim(r.household_id), '') AS household_id,
        nullif(trim(r.purpose), '') AS purpose
    FROM raw_rows r
),
checked AS (
    SELECT *, CASE
        WHEN visit_id IS NULL THEN ['missing_id', 'visit_id', '走访编号为空']
        WHEN cadre_id IS NULL THEN ['missing_value', 'cadre_id', '干部编号为空']
        WHEN is_blank(visited_raw) THEN ['missing_value', 'visited_at', '走访日期为空']
        WHEN visited_at IS NULL THEN ['bad_date', 'visited_at', '走访日期无法识别 (应为日期, 如 2025-03-05 或 2025年3月5日)']
    END AS _reject
    FROM typed
)
SELECT _line, visit_id, cadre_id, visited_at, town, village, area_code_in, lon_in, lat_in, household_id, purpose,
    _reject[1] AS _reason, _reject[2] AS _field, _reject[3] AS _message
FROM checked;
