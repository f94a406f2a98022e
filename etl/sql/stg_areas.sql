-- Staging for boundary files: each feature must name an area that init created from the
-- NBS codes; its geometry (already in lon/lat as _geom, repaired by etl/geometry.py where it
-- was invalid) replaces the stored one. A feature is rejected, alone, when its outline is not
-- in lon/lat range, lies mostly outside the district (or outside its town's own outline), or is
-- absurdly large for its level (half of the district for a village: an outline of the whole
-- district given a village's code). Shares are of planar area in degrees: fine for ratios
-- within one county.
CREATE OR REPLACE TEMP TABLE stg_areas AS
WITH district AS (SELECT geom, ST_Area(geom) AS area FROM areas WHERE level = 'district'),
typed AS (
    SELECT r._line, r._geom AS geom,
        nullif(trim(r.code), '') AS code,
        nullif(trim(r.name), '') AS name_in,
        r.seat_lon AS seat_lon_raw, TRY_CAST(trim(r.seat_lon) AS DOUBLE) AS seat_lon,
        r.seat_lat AS seat_lat_raw, TRY_CAST(trim(r.seat_lat) AS DOUBLE) AS seat_lat,
        r.official_poor AS poor_raw, parse_bool(r.official_poor) AS official_poor,
        r._geom IS NOT NULL AND (ST_XMin(r._geom) < -180 OR ST_XMax(r._geom) > 180
                                 OR ST_YMin(r._geom) < -90 OR ST_YMax(r._geom) > 90) AS out_of_range
    FROM raw_rows r
),
placed AS (
    SELECT t.*, a.name AS name, a.level, a.parent_code,
        tw.name AS town_name, CASE WHEN NOT tw.derived_geom THEN tw.geom END AS town_geom
    FROM typed t LEFT JOIN areas a ON a.code = t.code LEFT JOIN areas tw ON tw.code = a.parent_code AND tw.level = 'town'
),
shares AS (
    SELECT p.*, nullif(ST_Area(p.geom), 0) AS area, d.area AS district_area,
        CASE WHEN p.geom IS NULL OR p.out_of_range OR ST_Area(p.geom) = 0 THEN NULL
             WHEN ST_Within(p.geom, d.geom) THEN 1.0
             ELSE ST_Area(ST_Intersection(p.geom, d.geom)) / ST_Area(p.geom) END AS in_district,
        CASE WHEN p.geom IS NULL OR p.out_of_range OR p.town_geom IS NULL OR ST_Area(p.geom) = 0 THEN NULL
             WHEN ST_Within(p.geom, p.town_geom) THEN 1.0
             ELSE ST_Area(ST_Intersection(p.geom, p.town_geom)) / ST_Area(p.geom) END AS in_town,
        (SELECT count(*) FROM areas s WHERE s.level = p.level) AS siblings
    FROM placed p, district d
),
checked AS (
    SELECT s.*, CASE
        WHEN s.code IS NULL THEN ['missing_id', 'code', '区划代码为空']
        WHEN s.level IS NULL THEN ['unknown_area_code', 'code', '区划代码不属于本区县 (应为本区县的12位村(社区)或9位乡镇(街道)统计用区划代码)']
        WHEN s.name_in IS NOT NULL AND norm_village(norm_town(s.name_in)) <> norm_village(norm_town(s.name))
            THEN ['name_code_mismatch', 'name', '名称与区划代码不符 (该代码在统计用区划代码中是 ' || s.name || ')']
        WHEN s.geom IS NULL THEN ['bad_geometry', 'geometry', '缺少或无法识别的几何图形']
        WHEN s.out_of_range THEN ['bad_coordinates', 'geometry',
            '坐标超出经纬度范围 (经度应在 -180~180, 纬度在 -90~90); 坐标系是否正确? 可用 --crs EPSG:代码 指定']
        WHEN coalesce(s.in_district, 0) < 0.5 THEN ['outside_district', 'geometry',
            CASE WHEN coalesce(s.in_district, 0) = 0 THEN '边界不在本区县范围内 (坐标系是否正确? 可用 --crs EPSG:代码 指定)'
                 ELSE '边界只有 ' || round(100 * s.in_district, 1) || '% 在本区县范围内 (应大部分在内)' END]
        WHEN s.in_town IS NOT NULL AND s.in_town < 0.5 THEN ['outside_town', 'geometry',
            '边界只有 ' || round(100 * s.in_town, 1) || '% 在所属乡镇(街道) ' || s.town_name || ' 的边界内']
        WHEN s.level = 'village' AND s.siblings >= 3 AND s.area > 0.5 * s.district_area THEN ['too_large', 'geometry',
            '一个村(社区)的边界占全区面积的 ' || round(100 * s.area / s.district_area, 1) || '%, 不像一个村(社区)的边界']
        WHEN s.level = 'town' AND s.siblings >= 2 AND s.area > 0.9 * s.district_area THEN ['too_large', 'geometry',
            '一个乡镇(街道)的边界占全区面积的 ' || round(100 * s.area / s.district_area, 1) || '%, 不像一个乡镇(街道)的边界']
        WHEN NOT is_blank(s.seat_lon_raw) AND s.seat_lon IS NULL THEN ['bad_number', 'seat_lon', '驻地经度不是数字']
        WHEN NOT is_blank(s.seat_lat_raw) AND s.seat_lat IS NULL THEN ['bad_number', 'seat_lat', '驻地纬度不是数字']
        WHEN NOT is_blank(s.poor_raw) AND s.official_poor IS NULL THEN ['bad_flag', 'official_poor', '特困村应为 是/否']
    END AS _reject
    FROM shares s
)
SELECT _line, code, name, level, parent_code, geom, seat_lon, seat_lat,
    coalesce(official_poor, false) AS official_poor,
    _reject[1] AS _reason, _reject[2] AS _field, _reject[3] AS _message
FROM checked;
