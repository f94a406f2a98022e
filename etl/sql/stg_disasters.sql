-- Staging for disaster footprints (受自然灾害影响). Geometry arrives as _geom (lon/lat).
CREATE OR REPLACE TEMP TABLE stg_disasters AS
WITH typed AS (
    SELECT r._line, r._geom AS geom,
        nullif(trim(r.disaster_id), '') AS disaster_id,
        nullif(trim(r.kind), '') AS kind,
        nullif(trim(r.name), '') AS name,
        r.started_at AS started_raw, CAST(parse_ts(r.started_at) AS DATE) AS started_at,
        r.ended_at AS ended_raw, CAST(parse_ts(r.ended_at) AS DATE) AS ended_at
    FROM raw_rows r
),
checked AS (
    SELECT *, CASE
        WHEN disaster_id IS NULL THEN ['missing_id', 'disaster_id', '灾害编号为空']
        WHEN kind IS NULL THEN ['missing_value', 'kind', '灾害类型为空']
        WHEN name IS NULL THEN ['missing_value', 'name', '灾害名称为空']
        WHEN started_at IS NULL THEN ['bad_date', 'started_at', CASE WHEN is_blank(started_raw) THEN '开始日期为空' ELSE '开始日期无法识别 (应为日期, 如 2025-03-05 或 2025年3月5日)' END]
        WHEN NOT is_blank(ended_raw) AND ended_at IS NULL THEN ['bad_date', 'ended_at', '结束日期无法识别 (应为日期, 如 2025-03-05 或 2025年3月5日)']
        WHEN ended_at < started_at THEN ['bad_date', 'ended_at', '结束日期早于开始日期']
        WHEN geom IS NULL THEN ['bad_geometry', 'geometry', '缺少或无法识别的几何图形']
        WHEN NOT ST_Intersects(geom, (SELECT geom FROM areas WHERE level = 'district'))
            THEN ['outside_district', 'geometry', '灾害范围不在本区县范围内 (坐标系是否正确? 可用 --crs EPSG:代码 指定)']
    END AS _reject
    FROM typed
)
SELECT _line, disaster_id, kind, name, started_at, ended_at, geom,
    _reject[1] AS _reason, _reject[2] AS _field, _reject[3] AS _message
FROM checked;
