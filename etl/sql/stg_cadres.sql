-- Staging for cadres (干部).
CREATE OR REPLACE TEMP TABLE stg_cadres AS
WITH typed AS (
    SELECT r._line,
        nullif(trim(r.cadre_id), '') AS cadre_id,
        mask_name(r.name) AS name_masked,
        keyed_hash(r.name || '|' || coalesce(r.cadre_id, ''), $hash_key) AS name_hash,
        nullif(trim(r.unit), '') AS unit, nullif(trim(r.role), '') AS role,
        nullif(trim(r.town), '') AS town, nullif(trim(r.village), '') AS village,
        nullif(trim(r.area_code), '') AS area_code_in,
        CAST(NULL AS DOUBLE) AS lon_in, CAST(NULL AS DOUBLE) AS lat_in
    FROM raw_rows r
)
SELECT *,
    CASE WHEN cadre_id IS NULL THEN 'missing_id' END AS _reason,
    CASE WHEN cadre_id IS NULL THEN 'cadre_id' END AS _field,
    CASE WHEN cadre_id IS NULL THEN '干部编号为空' END AS _message
FROM typed;
