"""Open every page in headless Chromium with the internet cut off: the map draws, nothing fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import needs_browser, open_page, start_app

from dashboard.pages import PAGES

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
MAP_PAGE_BUDGET = 1_500_000  # bytes a village-level map page may send (issue #5)


@pytest.fixture(scope="module")
def app_url(demo_db):
    with start_app(demo_db) as url:
        yield url


@needs_browser
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_draws_offline_without_errors(app_url, page):
    has_map = page.has_map
    result = open_page(f"{app_url}/{page.url_path}", ARTIFACTS / f"{page.name}.png", expect_map=has_map)
    assert result.app_ready, result
    assert result.exceptions == []
    assert result.external_requests == []  # everything came from the app itself
    # Streamlit's front end probes for its base path under a page's URL (…/overview/_stcore/health):
    # those 404s are how it finds the server, not missing files.
    assert [e for e in result.http_errors if "/_stcore/" not in e] == []
    if has_map:
        assert result.map_found and result.map_paths > 0 and result.map_size[1] > 0
        assert result.ws_bytes < MAP_PAGE_BUDGET, f"{page.name} sent {result.ws_bytes:,} bytes"
    assert "民情地图" in result.title


@needs_browser
def test_overview_draws_every_village(app_url):
    result = open_page(f"{app_url}/", ARTIFACTS / "overview_villages.png")
    assert result.map_paths >= 529  # the demo's villages, all drawn


def _town_with_cases(db) -> tuple[str, str]:
    from etl.db import connect

    con = connect(db, read_only=True)
    row = con.execute("""SELECT t.code, t.name FROM areas t JOIN cases c ON left(c.area_code, 9) = t.code
                         WHERE t.level = 'town' GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1""").fetchone()
    n = con.execute("SELECT count(*) FROM areas WHERE level = 'village' AND starts_with(code, ?)", [row[0]]).fetchone()[0]
    con.close()
    return row[1], n


def _village_code(db, town: str, village: str) -> str:
    from etl.db import connect

    con = connect(db, read_only=True)
    code = con.execute("""SELECT v.code FROM areas v JOIN areas t ON t.code = v.parent_code
                          WHERE v.level = 'village' AND v.name = ? AND t.name = ?""", [village, town]).fetchone()[0]
    con.close()
    return code


@needs_browser
def test_a_shared_link_reproduces_the_view_and_a_click_selects_outlines_and_links_the_area(app_url, demo_db):
    from urllib.parse import quote, unquote

    from browser import FOLIUM_IFRAME

    town, n_villages = _town_with_cases(demo_db)

    def click_a_village(page, result):
        frame = page.frame_locator(FOLIUM_IFRAME).first
        frame.locator("path.leaflet-interactive").nth(0).click(force=True)
        page.wait_for_url("**village=**", timeout=30_000)
        result.extra["after_click"] = unquote(page.url)
        village = result.extra["after_click"].split("village=")[1].split("&")[0]
        result.extra["village"] = village.split(" (")[0]  # a shared name carries its code tail
        code = _village_code(demo_db, town, result.extra["village"])
        main = page.locator('[data-testid="stMain"]')
        link = main.get_by_role("link", name=f"{result.extra['village']} 的区域档案")
        link.first.wait_for(state="visible", timeout=30_000)
        result.extra["links"] = main.get_by_role("link", name="的区域档案").count()
        result.extra["sidebar_links"] = page.locator('[data-testid="stSidebar"]').get_by_text("的区域档案").count()
        outline = page.frame_locator(FOLIUM_IFRAME).first.locator(f"path.mq-selected.mq-area-{code}")
        outline.first.wait_for(state="attached", timeout=30_000)
        result.extra["outlined"] = outline.count()
        page.screenshot(path=str(ARTIFACTS / "drill_selected.png"), full_page=True)
        link.first.click()
        page.wait_for_url("**/area?**", timeout=30_000)
        page.wait_for_timeout(3000)
        result.extra["after_link"] = unquote(page.url)
        result.extra["heading"] = page.locator("h1").first.inner_text()

    result = open_page(f"{app_url}/?town={quote(town)}&category={quote('道路')}", ARTIFACTS / "drill.png",
                       then=click_a_village)
    assert result.exceptions == [] and result.external_requests == []
    assert result.map_paths == n_villages  # the link's town: only its villages are drawn
    assert f"town={town}" in result.extra["after_click"] and "category=道路" in result.extra["after_click"]
    assert result.extra["outlined"] == 1  # the clicked village, outlined on the map
    assert result.extra["links"] == 1  # its profile offered once in the main area
    assert result.extra["sidebar_links"] == 0  # not in the sidebar, where it was cut off
    assert "/area?" in result.extra["after_link"] and f"village={result.extra['village']}" in result.extra["after_link"]
    assert "category=道路" in result.extra["after_link"]  # the other filters travel along
    assert "区域档案" in result.extra["heading"]
