"""The analyses of a warehouse: the case filter, metrics, rankings, households, hot spots, 五必去, area profiles and case lists. Read-only; never imports streamlit."""
