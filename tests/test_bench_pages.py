"""The benchmark's pages (bench/pages.py) against their bare aggregates: the bare SQL computes the
same figures over the same rows as the product, so their ratio compares like with like."""

from __future__ import annotations

import datetime as dt

import pytest

from analysis.filters import CaseFilter
from bench import pages


@pytest.mark.parametrize("page", list(pages.PAGES))
def test_bare_aggregates_give_the_products_figures(con, page):
    town = con.execute("SELECT left(area_code, 9) FROM cases GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    for flt in (CaseFilter.of(dt.date(2025, 11, 1), dt.date(2026, 10, 31), category="道路"),
                CaseFilter.of(dt.date(2025, 11, 1), dt.date(2026, 10, 31), area_prefix=town)):
        calls = pages.recorded(con, page, flt)
        assert calls, page
        bare = pages.bare_page(con, calls)
        assert any(b.get("received") or b.get("open") for b in bare)  # figures to compare, not zeros
        assert pages.differences(calls, bare) == []


def test_a_wrong_bare_figure_is_caught(con):
    calls = pages.recorded(con, "未办结", CaseFilter(dt.date(2025, 11, 1), dt.date(2026, 10, 31)))
    bare = pages.bare_page(con, calls)
    bare[0]["open"] += 1
    assert pages.differences(calls, bare)
