-- Staging for mass-work stations (群众工作站).
CREATE OR REPLACE TEMP TABLE stg_stations AS
WITH typed AS (
    SELECT r._line,
        nullif(trim(r.station_id), '') AS station_id,
        nullif(trim(r.name), '') AS name,
        nullif(trim(r.town), '') AS town, nullif(trim(r.village), '') AS village,
        nullif(trim(r.area_code), '') AS area_code_in,
        TRY_CAST(trim(r.lon) AS DOUBLE) AS lon_in, TRY_CAST(trim(r.lat) AS DOUBLE) AS lat_in,
        nullif(trim(r.building_id), '') AS building_id,
        r.staff AS staff_raw, TRY_CAST(trim(r.staff) AS INTEGER) AS staff,
        nullif(trim(r.reception_days), '') AS reception_days
    FROM raw_rows r
),
checked AS (
    SELECT *, CASE
        WHEN station_id IS NULL THEN ['missing_id', 'station_id', '工作站编号为空']
        WHEN name IS NULL THEN ['missing_value', 'name', '工作站名称为空']
        WHEN NOT is_blank(staff_raw) AND (staff IS NULL OR staff < 0) THEN ['bad_number', 'staff', '工作人员数无法识别 (应为非负整数)']
    END AS _reject
    FROM typed
)
SELECT _line, station_id, name, town, village, area_code_in, lon_in, lat_in, building_id, staff, reception_days,
    _reject[1] AS _reason, _reject[2] AS _field, _reject[3] AS _message
FROM checked;
