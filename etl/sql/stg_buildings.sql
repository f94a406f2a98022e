-- Staging for commercial buildings, enterprises and commercial streets.
CREATE OR REPLACE TEMP TABLE stg_buildings AS
WITH typed AS (
    SELECT r._line,
        nullif(trim(r.building_id), '') AS building_id,
        r.kind AS kind_raw, bk.term AS kind,
        nullif(trim(r.name), '') AS name,
        nullif(trim(r.town), '') AS town, nullif(trim(r.village), '') AS village,
        nullif(trim(r.area_code), '') AS area_code_in,
        TRY_CAST(trim(r.lon) AS DOUBLE) AS lon_in, TRY_CAST(trim(r.lat) AS DOUBLE) AS lat_in,
        r.units AS units_raw, TRY_CAST(trim(r.units) AS INTEGER) AS units,
        r.has_station AS hs_raw, parse_bool(r.has_station) AS has_station
    FROM raw_rows r
    LEFT JOIN vocab_terms bk ON bk.domain = 'building_kind' AND bk.spelling = norm_term(r.kind)
),
checked AS (
    SELECT *, CASE
        WHEN building_id IS NULL THEN ['missing_id', 'building_id', '编号为空']
        WHEN kind IS NULL THEN ['unknown_kind', 'kind', CASE WHEN is_blank(kind_raw) THEN '类型为空 (应为 商务楼宇/非公企业/商业街区)' ELSE '类型无法识别 (应为 商务楼宇/非公企业/商业街区)' END]
        WHEN name IS NULL THEN ['missing_value', 'name', '名称为空']
        WHEN NOT is_blank(units_raw) AND (units IS NULL OR units < 0) THEN ['bad_number', 'units', '入驻单位数无法识别 (应为非负整数)']
        WHEN NOT is_blank(hs_raw) AND has_station IS NULL THEN ['bad_flag', 'has_station', '设工作站无法识别 (应为 是/否)']
    END AS _reject
    FROM typed
)
SELECT _line, building_id, kind, name, town, village, area_code_in, lon_in, lat_in, units,
    coalesce(has_station, false) AS has_station,
    _reject[1] AS _reason, _reject[2] AS _field, _reject[3] AS _message
FROM checked;
