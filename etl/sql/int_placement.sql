-- Place each staged row in the finest area that fits: its area code, else the village
-- containing its point (checked against any names given), else its village name, else its
-- town name. Input: to_place(_line, town, village, area_code_in, lon_in, lat_in).
-- Output: placed(_line, area_code, lon, lat, placement, _reason, _field, _message).
CREATE OR REPLACE TEMP TABLE placed AS
WITH pts AS (
    SELECT *,
        -- swapped longitude/latitude: China spans lon 73..136, lat 3..54
        CASE WHEN lat_in BETWEEN 73 AND 136 AND lon_in BETWEEN 3 AND 54 THEN lat_in ELSE lon_in END AS lon,
        CASE WHEN lat_in BETWEEN 73 AND 136 AND lon_in BETWEEN 3 AND 54 THEN lon_in ELSE lat_in END AS lat
    FROM to_place
),
pts_ok AS (
    SELECT *, lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90 AS point_ok FROM pts
),
villages AS (SELECT code, name, parent_code, geom FROM areas WHERE level = 'village'),
towns AS (SELECT code, name FROM areas WHERE level = 'town'),
by_point AS (
    SELECT p._line, min(v.code) AS point_village
    FROM pts_ok p JOIN villages v
      ON p.point_ok AND v.geom IS NOT NULL AND ST_Contains(v.geom, ST_Point(p.lon, p.lat))
    GROUP BY p._line
),
by_code AS (
    SELECT p._line, a.code AS code_area FROM pts_ok p JOIN areas a ON a.code = trim(p.area_code_in)
),
names AS (
    SELECT DISTINCT town, village FROM pts_ok WHERE town IS NOT NULL OR village IS NOT NULL
),
town_hits AS (
    SELECT n.town, n.village, min(t.code) AS town_code, count(*) AS n
    FROM names n JOIN towns t ON n.town IS NOT NULL AND norm_town(t.name) = norm_town(n.town)
    GROUP BY n.town, n.village
),
village_hits AS (
    SELECT n.town, n.village, min(v.code) AS village_code, count(*) AS n
    FROM names n
    LEFT JOIN town_hits th ON th.town IS NOT DISTINCT FROM n.town AND th.village IS NOT DISTINCT FROM n.village AND th.n = 1
    JOIN villages v ON n.village IS NOT NULL AND norm_village(v.name) = norm_village(n.village)
        AND (th.town_code IS NULL OR v.parent_code = th.town_code)
    GROUP BY n.town, n.village
),
by_name AS (
    SELECT n.town, n.village,
        CASE WHEN th.n = 1 THEN th.town_code END AS town_code,
        CASE WHEN vh.n = 1 THEN vh.village_code END AS village_code
    FROM names n
    LEFT JOIN town_hits th ON th.town IS NOT DISTINCT FROM n.town AND th.village IS NOT DISTINCT FROM n.village
    LEFT JOIN village_hits vh ON vh.town IS NOT DISTINCT FROM n.town AND vh.village IS NOT DISTINCT FROM n.village
),
joined AS (
    SELECT p._line, p.lon, p.lat, p.point_ok, p.town, p.village, p.area_code_in,
        c.code_area,
        bp.point_village, bn.town_code, bn.village_code
    FROM pts_ok p
    LEFT JOIN by_code c USING (_line)
    LEFT JOIN by_point bp USING (_line)
    LEFT JOIN by_name bn ON bn.town IS NOT DISTINCT FROM p.town AND bn.village IS NOT DISTINCT FROM p.village
),
decided AS (
    SELECT *,
        CASE
            WHEN area_code_in IS NOT NULL AND code_area IS NULL THEN NULL
            WHEN code_area IS NOT NULL THEN code_area
            WHEN point_village IS NOT NULL AND village_code IS NOT NULL AND point_village <> village_code THEN village_code
            WHEN point_village IS NOT NULL AND village_code IS NULL AND town_code IS NOT NULL
                 AND NOT starts_with(point_village, town_code) THEN town_code
            WHEN point_village IS NOT NULL THEN point_village
            WHEN village_code IS NOT NULL THEN village_code
            WHEN town_code IS NOT NULL AND village IS NULL THEN town_code
            WHEN town_code IS NOT NULL THEN town_code
        END AS area_code,
        CASE
            WHEN area_code_in IS NOT NULL AND code_area IS NULL THEN NULL
            WHEN code_area IS NOT NULL THEN 'code'
            WHEN point_village IS NOT NULL AND village_code IS NOT NULL AND point_village <> village_code THEN 'village_name_point_conflict'
            WHEN point_village IS NOT NULL AND village_code IS NULL AND town_code IS NOT NULL
                 AND NOT starts_with(point_village, town_code) THEN 'town_name_point_conflict'
            WHEN point_village IS NOT NULL THEN 'point'
            WHEN village_code IS NOT NULL THEN 'village_name'
            WHEN town_code IS NOT NULL AND village IS NULL THEN 'town_name'
            WHEN town_code IS NOT NULL THEN 'town_name_village_unknown'
        END AS placement
    FROM joined
)
SELECT _line, area_code,
    CASE WHEN point_ok THEN lon END AS lon,
    CASE WHEN point_ok THEN lat END AS lat,
    placement,
    CASE WHEN area_code IS NOT NULL THEN NULL
         WHEN area_code_in IS NOT NULL THEN 'unknown_area_code'
         WHEN town IS NOT NULL OR village IS NOT NULL THEN 'unknown_area_name'
         WHEN point_ok AND lon IS NOT NULL THEN 'outside_district'
         ELSE 'unplaced' END AS _reason,
    CASE WHEN area_code IS NOT NULL THEN NULL
         WHEN area_code_in IS NOT NULL THEN 'area_code'
         WHEN town IS NOT NULL OR village IS NOT NULL THEN 'town'
         WHEN point_ok AND lon IS NOT NULL THEN 'lon'
         ELSE 'town' END AS _field,
    CASE WHEN area_code IS NOT NULL THEN NULL
         WHEN area_code_in IS NOT NULL THEN '区划代码不属于本区县: ' || area_code_in
         WHEN town IS NOT NULL OR village IS NOT NULL
             THEN '找不到该乡镇/村: ' || coalesce(town, '') || ' ' || coalesce(village, '')
         WHEN point_ok AND lon IS NOT NULL THEN '坐标不在本区县任何村(社区)内: ' || lon || ',' || lat
         ELSE '没有可用的坐标, 也没有乡镇/村名称' END AS _message
FROM decided;
