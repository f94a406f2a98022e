"""民情分类 (and the households row of 区域档案): the headline counts, the table per area and the
map of 连心户 shares, from analysis.households' aggregates."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from analysis import households as hh
from reports import formats


def summary(cats: pd.DataFrame, pairing: pd.DataFrame, must_see: pd.DataFrame | None = None) -> dict:
    """Totals over the areas of `category_counts` / `pairing_coverage` / `must_see_counts`:
    households, kinds ([(term, count, share of households)] in vocabulary order), key_households
    and paired (连心户 and those paired with a cadre), coverage (None without 连心户) and, with
    `must_see`, must_see ({group label: households}) and any_must_see."""
    total = int(cats["households"].sum()) if not cats.empty else 0
    kinds = [(k["term"], int(cats[k["key"]].sum()), int(cats[k["key"]].sum()) / total if total else None)
             for k in hh.categories()]
    key_n, paired = int(pairing["key_households"].sum()), int(pairing["paired"].sum())
    out = {"households": total, "kinds": kinds, "key_households": key_n, "paired": paired,
           "coverage": paired / key_n if key_n else None}
    if must_see is not None:
        out["must_see"] = {label: int(must_see[k].sum()) for k, label in hh.MUST_SEE.items()}
        out["any_must_see"] = int(must_see["any_must_see"].sum())
    return out


def area_table(tables: dict[str, pd.DataFrame], unit: str) -> pd.DataFrame:
    """One row per area of `data.households(...)`: households, each category with its share,
    paired 连心户 and coverage, the 五必访 groups; Chinese headers, the area column named `unit`."""
    kinds = hh.categories()
    cats, pair = tables["categories"], tables["pairing"]
    table = cats.merge(pair[["code", "key_households", "paired", "coverage"]], on="code", how="left") \
                .merge(tables["must_see"].drop(columns=["name", "households"]), on="code", how="left")
    show = ["name", "households", *[k["key"] for k in kinds], *[f"{k['key']}_share" for k in kinds], "paired",
            "coverage", *hh.MUST_SEE, "any_must_see"]
    return table[show].rename(columns=hh.labels() | {"name": unit})


def share_map_frame(shapes: gpd.GeoDataFrame, villages: pd.DataFrame) -> gpd.GeoDataFrame:
    """Village outlines with households, 连心户 and their share in percent (share_pct, one
    decimal: the colour; share_text '12.4%': the tooltip); villages without households at 0."""
    vil = villages[["code", "households", "key_assistance", "key_assistance_share"]]
    gdf = shapes.merge(vil, on="code", how="left").fillna({"households": 0, "key_assistance": 0, "key_assistance_share": 0})
    gdf["share_pct"] = (gdf["key_assistance_share"] * 100).round(1)
    gdf["share_text"] = gdf["key_assistance_share"].map(formats.rate)
    return gdf
