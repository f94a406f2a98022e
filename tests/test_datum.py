"""GCJ-02 / BD-09 conversions against an independent implementation (prcoords, public domain)."""

from __future__ import annotations

import math

import numpy as np
import prcoords
import pytest
from hypothesis import given, settings, strategies as st

from geo import datum

CHINA_LON = st.floats(74.0, 134.0)
CHINA_LAT = st.floats(18.0, 53.0)


def _metres(lon1, lat1, lon2, lat2) -> float:
    k = 111_320.0
    return math.hypot((lon1 - lon2) * k * math.cos(math.radians(lat1)), (lat1 - lat2) * k)


@settings(max_examples=300, deadline=None)
@given(CHINA_LON, CHINA_LAT)
def test_forward_gcj02_equals_prcoords(lon, lat):
    ref = prcoords.wgs_gcj((lat, lon))
    x, y = datum.wgs84_to_gcj02(lon, lat)
    assert _metres(float(x), float(y), ref.lon, ref.lat) < 0.001


@settings(max_examples=300, deadline=None)
@given(CHINA_LON, CHINA_LAT)
def test_forward_bd09_equals_prcoords(lon, lat):
    ref = prcoords.gcj_bd((lat, lon))
    x, y = datum.gcj02_to_bd09(lon, lat)
    assert _metres(float(x), float(y), ref.lon, ref.lat) < 0.001


@settings(max_examples=300, deadline=None)
@given(CHINA_LON, CHINA_LAT, st.sampled_from(["gcj02", "bd09"]))
def test_round_trip_is_within_half_a_metre(lon, lat, which):
    """Shift a true WGS84 point with the independent forward transform, convert back with ours."""
    ref = prcoords.wgs_gcj((lat, lon)) if which == "gcj02" else prcoords.wgs_bd((lat, lon))
    x, y = datum.to_wgs84(ref.lon, ref.lat, which)
    assert _metres(float(x), float(y), lon, lat) < 0.5
    assert _metres(float(x), float(y), lon, lat) < 0.01  # in fact to the centimetre


def test_shift_near_ankang_is_hundreds_of_metres():
    x, y = datum.wgs84_to_gcj02(109.02, 32.68)
    assert 300 < _metres(109.02, 32.68, float(x), float(y)) < 1000


def test_outside_china_nothing_moves_and_nan_stays_nan():
    x, y = datum.to_wgs84([2.35, np.nan], [48.85, 30.0], "gcj02")
    assert x[0] == 2.35 and y[0] == 48.85 and np.isnan(x[1])


def test_unknown_datum_is_named():
    with pytest.raises(ValueError, match="'gcj'"):
        datum.to_wgs84([109.0], [32.0], "gcj")
