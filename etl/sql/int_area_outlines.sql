-- Outlines a district really has: offices often have village outlines only. A town without an
-- outline of its own (or with one derived before) gets the union of its villages' outlines,
-- marked derived_geom; the district too when it has none. An outline from a file always wins:
-- loading a town's own outline clears derived_geom (etl/load.py).
CREATE OR REPLACE TEMP TABLE derived_outlines AS
SELECT t.code, ST_Union_Agg(v.geom) AS geom
FROM areas t JOIN areas v ON v.parent_code = t.code AND v.level = 'village' AND v.geom IS NOT NULL
WHERE t.level = 'town' AND (t.geom IS NULL OR t.derived_geom)
GROUP BY t.code;

INSERT INTO derived_outlines
SELECT d.code, ST_Union_Agg(coalesce(o.geom, t.geom))
FROM areas d JOIN areas t ON t.parent_code = d.code AND t.level = 'town'
LEFT JOIN derived_outlines o ON o.code = t.code
WHERE d.level = 'district' AND (d.geom IS NULL OR d.derived_geom) AND coalesce(o.geom, t.geom) IS NOT NULL
GROUP BY d.code;

UPDATE areas SET geom = o.geom, derived_geom = true
FROM derived_outlines o WHERE areas.code = o.code;
