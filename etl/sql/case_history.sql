-- case_history: for each case with an earlier case of the same petitioner (keyed hash) on the
-- same category, the days since the nearest such case, the days since the nearest one through
-- another channel, and whether any of them was received at village or town level. "Earlier"
-- orders by received_at, then case_id for cases received at the same moment; days count
-- calendar dates (a second case on the same day is 0 days after the first).
-- The view case_facts turns these into 重复访 / 多头访 / 越级访 with the windows of the settings.
-- Rebuilt by etl.views.create_views() after every load: a self-join too costly to repeat
-- in every query at a province's scale.
CREATE OR REPLACE TABLE case_history AS
SELECT c.case_id,
    min(date_diff('day', CAST(e.received_at AS DATE), CAST(c.received_at AS DATE))) AS days_since_same,
    min(date_diff('day', CAST(e.received_at AS DATE), CAST(c.received_at AS DATE)))
        FILTER (e.channel <> c.channel) AS days_since_other_channel,
    bool_or(e.received_level IN ('village', 'town')) AS had_local_case
FROM cases c
JOIN cases e ON e.petitioner_hash = c.petitioner_hash AND e.category = c.category
    AND (e.received_at < c.received_at OR (e.received_at = c.received_at AND e.case_id < c.case_id))
GROUP BY c.case_id;
