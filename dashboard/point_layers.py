"""Points on a folium map (stations, buildings): small circles with escaped tooltips."""

from __future__ import annotations

import html

import folium
import pandas as pd


def add_points(m: folium.Map, df: pd.DataFrame, name: str, colour: str, label: str = "name") -> None:
    """One circle per row with a lon/lat (rows without are skipped), in a layer called `name`;
    the tooltip is the row's `label` text, escaped (it comes from a ledger)."""
    if df is None or df.empty or not {"lon", "lat"} <= set(df.columns):
        return
    layer = folium.FeatureGroup(name=name)
    for r in df.dropna(subset=["lon", "lat"]).itertuples(index=False):
        folium.CircleMarker([r.lat, r.lon], radius=3, color=colour, fill=True, fill_opacity=0.9, weight=1,
                            tooltip=html.escape(str(getattr(r, label)))).add_to(layer)
    layer.add_to(m)
