-- Parsing, masking and naming helpers shared by the staging models.

-- Dates as offices write them: 2025-03-05 14:30, 2025/3/5, 2025.3.5, 2025年3月5日, 20250305,
-- and Excel serial numbers (days since 1899-12-30).
CREATE OR REPLACE MACRO parse_ts(s) AS CASE
    WHEN s IS NULL OR trim(s) = '' THEN NULL
    -- hotline exports write ISO dates: each ISO shape straight to the one format that can parse it
    -- (7x faster than the list below, same results)
    WHEN trim(s) LIKE '____-__-__ __:__:__' THEN try_strptime(trim(s), '%Y-%m-%d %H:%M:%S')
    WHEN trim(s) LIKE '____-__-__ __:__' THEN try_strptime(trim(s), '%Y-%m-%d %H:%M')
    WHEN trim(s) LIKE '____-__-__' THEN try_strptime(trim(s), '%Y-%m-%d')
    WHEN regexp_full_match(trim(s), '[0-9]{5}(\.[0-9]+)?') AND TRY_CAST(trim(s) AS DOUBLE) BETWEEN 20000 AND 80000
        THEN TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(TRY_CAST(trim(s) AS DOUBLE) * 86400000000) AS BIGINT))
    ELSE try_strptime(
        regexp_replace(regexp_replace(trim(s), '\s+', ' ', 'g'), '(日|号)', '日'),
        ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d',
         '%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M', '%Y/%m/%d',
         '%Y.%m.%d %H:%M:%S', '%Y.%m.%d %H:%M', '%Y.%m.%d',
         '%Y年%m月%d日 %H:%M:%S', '%Y年%m月%d日 %H:%M', '%Y年%m月%d日%H:%M', '%Y年%m月%d日', '%Y%m%d'])
    END;

CREATE OR REPLACE MACRO is_blank(s) AS s IS NULL OR trim(s) = '';

-- 是/否 style flags; NULL when blank, 'invalid' detection uses parse_bool(s) IS NULL AND NOT is_blank(s).
CREATE OR REPLACE MACRO parse_bool(s) AS CASE
    WHEN lower(trim(s)) IN ('是', 'y', 'yes', 'true', '1', '有', '√', '重大', '疑难', '重大疑难') THEN true
    WHEN lower(trim(s)) IN ('否', 'n', 'no', 'false', '0', '无', '×', '一般', '普通') THEN false
    ELSE NULL END;

CREATE OR REPLACE MACRO norm_term(s) AS lower(regexp_replace(coalesce(s, ''), '\s', '', 'g'));

-- Place names without their administrative suffixes, so 五里镇 = 五里 and 东坝社区居委会 = 东坝.
CREATE OR REPLACE MACRO norm_village(s) AS regexp_replace(norm_term(s),
    '(社区居民委员会|村民委员会|居民委员会|社区居委会|村委会|居委会|社区|村)$', '');
CREATE OR REPLACE MACRO norm_town(s) AS regexp_replace(norm_term(s),
    '(街道办事处|街道办|街道|镇人民政府|人民政府|镇|乡)$', '');

-- Phone numbers as digits, without a +86 / 86 country prefix.
CREATE OR REPLACE MACRO norm_phone(s) AS CASE
    WHEN is_blank(s) THEN NULL
    ELSE nullif(regexp_replace(regexp_replace(s, '[^0-9]', '', 'g'), '^86([0-9]{11})$', '\1'), '') END;

-- Phones, ID numbers and names inside free text are masked before staging, in Python (etl/privacy.py).

-- Personal identifiers: a display mask and a keyed hash (key generated per warehouse at init).
CREATE OR REPLACE MACRO mask_name(s) AS CASE WHEN is_blank(s) THEN NULL
    ELSE left(trim(s), 1) || repeat('*', greatest(length(trim(s)) - 1, 1)) END;
CREATE OR REPLACE MACRO mask_phone(s) AS CASE WHEN is_blank(s) THEN NULL
    -- norm_phone once per value (a macro argument is substituted, so `d` would be recomputed)
    ELSE list_transform([norm_phone(s)],
        d -> CASE WHEN length(d) >= 7 THEN left(d, 3) || '****' || right(d, 4) ELSE '****' END)[1] END;
-- ID numbers: only the last four characters stay (the first digits would give away place and birth date).
CREATE OR REPLACE MACRO mask_id(s) AS CASE WHEN is_blank(s) THEN NULL
    WHEN length(trim(s)) >= 8 THEN repeat('*', length(trim(s)) - 4) || upper(right(trim(s), 4))
    ELSE '****' END;
CREATE OR REPLACE MACRO keyed_hash(s, k) AS CASE WHEN is_blank(s) THEN NULL
    ELSE sha256(k || ':' || upper(regexp_replace(s, '\s', '', 'g'))) END;

