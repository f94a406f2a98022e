-- Place each staged row in the finest area that fits, and never trust a point silently.
-- Input: to_place(_line, town, village, area_code_in, lon_in, lat_in).
-- Output: placed(_line, area_code, lon, lat, placement, _reason, _field, _message).
--
-- Order: the area code if given; else the village containing the point when it agrees with
-- the names given; else the named village; else the named town. A point outside the
-- district, contradicting the names, or unreadable is dropped (lon/lat NULL) and noted in
-- `placement` as `<method>+point_outside`, `+point_conflict` or `+bad_point`.
-- Names match in tiers: the name as written (committee suffix ignored: 东村 = 东村村委会),
-- then without 村/社区 (西大街 = 西大街社区居委会), then with the other type (刘家沟村 for a
-- 刘家沟社区 when no 刘家沟村 exists); a tier counts only if it gives exactly one area.
CREATE OR REPLACE TEMP TABLE placed AS
WITH pts AS (
    SELECT *,
        lat_in BETWEEN 73 AND 136 AND lon_in BETWEEN 3 AND 54 AS swapped,
        lon_in IS NOT NULL OR lat_in IS NOT NULL AS point_given
    FROM to_place
),
unswapped AS (
    SELECT *,
        CASE WHEN swapped THEN lat_in ELSE lon_in END AS lon_d,
        CASE WHEN swapped THEN lon_in ELSE lat_in END AS lat_d
    FROM pts
),
pts_ok AS (  -- in WGS84: points of GCJ-02 / BD-09 exports converted ($datum)
    SELECT *,
        CASE WHEN $datum IN ('wgs84', 'cgcs2000') THEN lon_d ELSE datum_lon(lon_d, lat_d, $datum) END AS lon,
        CASE WHEN $datum IN ('wgs84', 'cgcs2000') THEN lat_d ELSE datum_lat(lon_d, lat_d, $datum) END AS lat,
        lon_d IS NOT NULL AND lat_d IS NOT NULL AND lon_d BETWEEN -180 AND 180 AND lat_d BETWEEN -90 AND 90 AS point_ok
    FROM unswapped
),
villages AS (
    SELECT code, parent_code, geom,
        regexp_replace(norm_term(name), '(村民委员会|居民委员会|村委会|居委会)$', '') AS k1,
        regexp_replace(regexp_replace(norm_term(name), '(村民委员会|居民委员会|村委会|居委会)$', ''), '(社区|村)$', '') AS k2
    FROM areas WHERE level = 'village'
),
towns AS (SELECT code, norm_term(name) AS k1, norm_town(name) AS k2 FROM areas WHERE level = 'town'),
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
    SELECT DISTINCT town, village,
        norm_term(town) AS t1, norm_town(town) AS t2,
        regexp_replace(norm_term(village), '(村民委员会|居民委员会|村委会|居委会)$', '') AS u1
    FROM pts_ok WHERE town IS NOT NULL OR village IS NOT NULL
),
town_cands AS (  -- one equi-join per tier (hash joins), not an OR join (nested loops at a province's scale)
    SELECT town, village, code, min(tier) AS tier FROM (
        SELECT n.town, n.village, t.code, 1 AS tier FROM names n JOIN towns t ON t.k1 = n.t1 WHERE n.town IS NOT NULL
        UNION ALL
        SELECT n.town, n.village, t.code, 2 AS tier FROM names n JOIN towns t ON t.k2 = n.t2 WHERE n.town IS NOT NULL
    ) GROUP BY ALL
),
town_hits AS (  -- the best tier, if it names exactly one town
    SELECT town, village, CASE WHEN count(*) = 1 THEN min(code) END AS town_code
    FROM town_cands c
    WHERE tier = (SELECT min(tier) FROM town_cands d WHERE d.town IS NOT DISTINCT FROM c.town AND d.village IS NOT DISTINCT FROM c.village)
    GROUP BY town, village
),
village_cands AS (
    SELECT c.town, c.village, c.code, min(c.tier) AS tier
    FROM (
        SELECT n.town, n.village, v.code, v.parent_code, 1 AS tier FROM names n JOIN villages v ON v.k1 = n.u1
        UNION ALL
        SELECT n.town, n.village, v.code, v.parent_code, 2 FROM names n JOIN villages v ON v.k2 = n.u1
        UNION ALL
        SELECT n.town, n.village, v.code, v.parent_code, 3 FROM names n
        JOIN villages v ON v.k2 = regexp_replace(n.u1, '(社区|村)$', '')
    ) c
    LEFT JOIN town_hits th ON th.town IS NOT DISTINCT FROM c.town AND th.village IS NOT DISTINCT FROM c.village
    WHERE c.village IS NOT NULL AND (th.town_code IS NULL OR c.parent_code = th.town_code)
    GROUP BY ALL
),
village_hits AS (
    SELECT town, village, CASE WHEN count(*) = 1 THEN min(code) END AS village_code
    FROM village_cands c
    WHERE tier = (SELECT min(tier) FROM village_cands d WHERE d.town IS NOT DISTINCT FROM c.town AND d.village IS NOT DISTINCT FROM c.village)
    GROUP BY town, village
),
by_name AS (
    SELECT n.town, n.village, th.town_code, vh.village_code
    FROM names n
    LEFT JOIN town_hits th ON th.town IS NOT DISTINCT FROM n.town AND th.village IS NOT DISTINCT FROM n.village
    LEFT JOIN village_hits vh ON vh.town IS NOT DISTINCT FROM n.town AND vh.village IS NOT DISTINCT FROM n.village
),
joined AS (
    SELECT p._line, p.lon, p.lat, p.point_ok, p.point_given, p.swapped, p.town, p.village, p.area_code_in,
        c.code_area, bp.point_village, bn.town_code, bn.village_code,
        -- the named area, finest first
        coalesce(bn.village_code, bn.town_code) AS named
    FROM pts_ok p
    LEFT JOIN by_code c USING (_line)
    LEFT JOIN by_point bp USING (_line)
    LEFT JOIN by_name bn ON bn.town IS NOT DISTINCT FROM p.town AND bn.village IS NOT DISTINCT FROM p.village
),
judged AS (
    SELECT *,
        CASE
            WHEN NOT point_given THEN NULL
            WHEN NOT point_ok THEN 'bad_point'
            WHEN point_village IS NULL THEN 'point_outside'
            WHEN coalesce(code_area, named) IS NOT NULL AND NOT starts_with(point_village, coalesce(code_area, named)) THEN 'point_conflict'
            ELSE 'point_ok'
        END AS point_note
    FROM joined
),
decided AS (
    SELECT *,
        CASE
            WHEN area_code_in IS NOT NULL AND code_area IS NULL THEN NULL
            WHEN code_area IS NOT NULL THEN code_area
            WHEN point_note = 'point_ok' THEN point_village
            ELSE named
        END AS area_code,
        CASE
            WHEN area_code_in IS NOT NULL AND code_area IS NULL THEN NULL
            WHEN code_area IS NOT NULL THEN 'code'
            WHEN point_note = 'point_ok' THEN CASE WHEN swapped THEN 'point_swapped' ELSE 'point' END
            WHEN village_code IS NOT NULL THEN 'village_name'
            WHEN town_code IS NOT NULL AND village IS NOT NULL THEN 'town_name_village_unknown'
            WHEN town_code IS NOT NULL THEN 'town_name'
        END AS method
    FROM judged
)
SELECT _line, area_code,
    CASE WHEN point_note = 'point_ok' THEN lon END AS lon,
    CASE WHEN point_note = 'point_ok' THEN lat END AS lat,
    CASE WHEN area_code IS NULL THEN NULL
         WHEN point_note IS NULL OR point_note = 'point_ok' THEN method
         ELSE method || '+' || point_note END AS placement,
    CASE WHEN area_code IS NOT NULL THEN NULL
         WHEN area_code_in IS NOT NULL THEN 'unknown_area_code'
         WHEN town IS NOT NULL OR village IS NOT NULL THEN 'unknown_area_name'
         WHEN point_note = 'point_outside' THEN 'outside_district'
         WHEN point_note = 'bad_point' THEN 'bad_coordinates'
         ELSE 'unplaced' END AS _reason,
    CASE WHEN area_code IS NOT NULL THEN NULL
         WHEN area_code_in IS NOT NULL THEN 'area_code'
         WHEN town IS NOT NULL OR village IS NOT NULL THEN CASE WHEN town IS NOT NULL THEN 'town' ELSE 'village' END
         WHEN point_note IN ('point_outside', 'bad_point') THEN 'lon'
         ELSE 'town' END AS _field,
    CASE WHEN area_code IS NOT NULL THEN NULL
         WHEN area_code_in IS NOT NULL THEN '区划代码不属于本区县 (应为本区县的12位村(社区)或9位乡镇(街道)统计用区划代码)'
         WHEN town IS NOT NULL OR village IS NOT NULL
             THEN '找不到所填的乡镇/村(社区), 或名称有歧义 (应为本区县的乡镇(街道)和村(社区)名称)'
         WHEN point_note = 'point_outside' THEN '坐标不在本区县任何村(社区)内 (坐标系是否正确? 可用 --crs 指定)'
         WHEN point_note = 'bad_point' THEN '无法使用的坐标 (经度、纬度须都为十进制度)'
         ELSE '没有可用的坐标, 也没有乡镇/村名称' END AS _message
FROM decided;
