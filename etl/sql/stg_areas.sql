-- Staging for boundary files: each feature must name an area that init created from the
-- NBS codes; its geometry (already in lon/lat as _geom) replaces the stored one.
CREATE OR REPLACE TEMP TABLE stg_areas AS
WITH typed AS (
    SELECT r._line, r._geom AS geom,
        nullif(trim(r.code), '') AS code,
        nullif(trim(r.name), '') AS name_in,
        r.seat_lon AS seat_lon_raw, TRY_CAST(trim(r.seat_lon) AS DOUBLE) AS seat_lon,
        r.seat_lat AS seat_lat_raw, TRY_CAST(trim(r.seat_lat) AS DOUBLE) AS seat_lat,
        r.official_poor AS poor_raw, parse_bool(r.official_poor) AS official_poor
    FROM raw_rows r
),
checked AS (
    SELECT t.*, a.name AS name, a.level, a.parent_code, CASE
        WHEN t.code IS NULL THEN ['missing_id', 'code', '区划代码为空']
        WHEN a.code IS NULL THEN ['unknown_area_code', 'code', '区划代码不属于本区县: ' || t.code]
        WHEN t.name_in IS NOT NULL AND norm_village(norm_town(t.name_in)) <> norm_village(norm_town(a.name))
            THEN ['name_code_mismatch', 'name', '名称与区划代码不符: ' || t.name_in || ' (代码 ' || t.code || ' 是 ' || a.name || ')']
        WHEN t.geom IS NULL THEN ['bad_geometry', 'geometry', '缺少或无法识别的几何图形']
        WHEN NOT ST_Intersects(t.geom, (SELECT geom FROM areas WHERE level = 'district'))
            THEN ['outside_district', 'geometry', '边界不在本区县范围内 (坐标系是否正确? 可用 --crs EPSG:代码 指定)']
        WHEN NOT is_blank(t.seat_lon_raw) AND t.seat_lon IS NULL THEN ['bad_number', 'seat_lon', '驻地经度不是数字']
        WHEN NOT is_blank(t.seat_lat_raw) AND t.seat_lat IS NULL THEN ['bad_number', 'seat_lat', '驻地纬度不是数字']
        WHEN NOT is_blank(t.poor_raw) AND t.official_poor IS NULL THEN ['bad_flag', 'official_poor', '特困村应为 是/否']
    END AS _reject
    FROM typed t LEFT JOIN areas a ON a.code = t.code
)
SELECT _line, code, name, level, parent_code, geom, seat_lon, seat_lat,
    coalesce(official_poor, false) AS official_poor,
    _reject[1] AS _reason, _reject[2] AS _field, _reject[3] AS _message
FROM checked;
