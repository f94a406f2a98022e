"""Open every page in headless Chromium with the internet cut off: the map draws, nothing fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import needs_browser, open_page, start_app

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# page -> (its URL path, "" for the default page; whether it draws a village map)
PAGES = {
    "overview": ("", True),
    "hotspots": ("hotspots", True),
    "households": ("households", True),
    "open_cases": ("open_cases", False),
    "must_visit": ("must_visit", True),
    "rankings": ("rankings", False),
}


@pytest.fixture(scope="module")
def app_url(demo_db):
    with start_app(demo_db) as url:
        yield url


@needs_browser
@pytest.mark.parametrize("page", PAGES)
def test_page_draws_offline_without_errors(app_url, page):
    path, has_map = PAGES[page]
    result = open_page(f"{app_url}/{path}", ARTIFACTS / f"{page}.png", expect_map=has_map)
    assert result.app_ready, result
    assert result.exceptions == []
    assert result.external_requests == []  # everything came from the app itself
    # Streamlit's front end probes for its base path under a page's URL (…/overview/_stcore/health):
    # those 404s are how it finds the server, not missing files.
    assert [e for e in result.http_errors if "/_stcore/" not in e] == []
    if has_map:
        assert result.map_found and result.map_paths >= 529 and result.map_size[1] > 0
    assert "民情地图" in result.title
