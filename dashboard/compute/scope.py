"""A town account's scope applied to the data layer's queries (dashboard.data.query): the
arguments that name an area are clamped into the scope before the query runs, and what it
returns is cut to the scope before it is cached and shown.

`scope` is an area-code prefix ('' the whole warehouse). A district-wide statistic (Gi*,
LISA, emerging hot spots) is computed over the whole district, since its neighbours count,
and only its rows inside the scope are returned. Rows of averages for comparison (a
`role` ending in `_mean`, as analysis.areas.comparison writes them) are kept: a town account
sees district figures only as the district average.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from analysis.filters import CaseFilter

CODE_COLUMNS = ("code", "area_code", "village_code", "town_code", "location")  # location: emerging hot spots


class ScopeError(RuntimeError):
    """A district-wide result whose rows carry no area code: it cannot be cut to a town."""


def clamp_filter(flt: CaseFilter, scope: str) -> CaseFilter:
    """The filter inside the scope: its area when that lies inside, else the scope itself."""
    if not scope or flt.area_prefix.startswith(scope):
        return flt
    return replace(flt, area_prefix=scope)


def clamp_area(code: str | None, scope: str, *, district_ok: bool = False) -> str:
    """An area argument inside the scope; '' (the district) stays only where `district_ok`
    (a comparison with the district's average)."""
    code = code or ""
    if not scope or code.startswith(scope) or (district_ok and code == ""):
        return code
    return scope


def restrict(value, scope: str, *, strict: bool = False):
    """`value` with every row of an area outside the scope removed: data frames (by their code
    column), dicts of them, tuples of them, and dicts keyed by area code (names). With `strict`
    (a district-wide statistic) a frame without an area column fails closed (ScopeError)."""
    if not scope:
        return value
    if isinstance(value, pd.DataFrame):
        return _rows_in_scope(value, scope, strict)
    if isinstance(value, tuple):
        return tuple(restrict(v, scope, strict=strict) for v in value)
    if isinstance(value, dict):
        if value and all(isinstance(k, str) and k.isdigit() for k in value):
            return {k: v for k, v in value.items() if k.startswith(scope)}
        return {k: restrict(v, scope, strict=strict) for k, v in value.items()}
    return value


def hexagons_in_scope(con, df: pd.DataFrame, scope: str) -> pd.DataFrame:
    """The hexagons whose centre lies in the scope's outline (hexagon rows carry no area code)."""
    import h3

    if df.empty or not scope.isdigit():
        return df.iloc[0:0] if scope else df
    centres = [h3.cell_to_latlng(c) for c in df["h3"]]
    pts = pd.DataFrame({"i": range(len(df)), "lat": [c[0] for c in centres], "lon": [c[1] for c in centres]})
    inside = con.from_df(pts).query("p", f"""
        SELECT p.i FROM p JOIN areas a ON a.code = '{scope}' AND a.geom IS NOT NULL
        WHERE ST_Within(ST_Point(p.lon, p.lat), a.geom)""").df()["i"]
    return df.iloc[sorted(inside)].reset_index(drop=True)


def one_area(con, value, scope: str):
    """The cut of a query about one area whose area argument was clamped into the scope (its
    rows are that area's, or the district's average for comparison): nothing to remove."""
    return value


def _rows_in_scope(df: pd.DataFrame, scope: str, strict: bool) -> pd.DataFrame:
    col = next((c for c in CODE_COLUMNS if c in df.columns), None)
    if col is None:
        if strict:
            raise ScopeError(f"a district-wide result with columns {list(df.columns)} has no area column to cut by")
        return df
    codes = df[col].astype("string")
    keep = codes.str.startswith(scope).fillna(False)
    if "role" in df.columns:  # averages for comparison
        keep |= df["role"].astype("string").str.endswith("_mean").fillna(False)
    out = df[keep.to_numpy(dtype=bool)]
    return out.reset_index(drop=True) if isinstance(df.index, pd.RangeIndex) else out
