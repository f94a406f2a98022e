"""Each role signed in through a real browser (headless Chromium): what its navigation offers,
what it sees, and a town account held to its town by URL, page and download alike; a signed-out
browser sees no figure."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest
from browser import goto, needs_browser, open_page, start_app
from conftest import TEST_PASSWORD, ensure_account

from etl.db import connect

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(demo_db):
    with connect(demo_db, read_only=True) as con:
        (mine, my_name), (other, other_name) = con.execute(
            """SELECT a.code, a.name FROM cases c JOIN areas a ON a.code = substr(c.area_code, 1, 9)
               GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 2""").fetchall()
        received = con.execute("SELECT count(*) FROM cases WHERE starts_with(area_code, ?)", [mine]).fetchone()[0]
        villages = {c for (c,) in con.execute(
            "SELECT code FROM areas WHERE level = 'village' AND starts_with(code, ?)", [mine]).fetchall()}
        first = con.execute("SELECT min(received_at)::DATE, max(received_at)::DATE FROM cases").fetchone()
    for role in ("leader", "planner", "admin"):
        ensure_account(demo_db, f"b_{role}", role)
    ensure_account(demo_db, "b_town", "town", (mine, my_name))
    with start_app(demo_db) as url:
        yield {"url": url, "mine": mine, "other": other, "other_name": other_name, "my_name": my_name,
               "received": received, "villages": villages, "period": first}


def _nav(page) -> list[str]:
    return page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()


def _metrics(page) -> dict[str, str]:
    return {m.locator('[data-testid="stMetricLabel"]').inner_text(): m.locator('[data-testid="stMetricValue"]').inner_text()
            for m in page.locator('[data-testid="stMetric"]').all()}


@needs_browser
def test_a_signed_out_browser_sees_the_form_and_no_figure(site):
    def look(page, result):
        result.extra["password_boxes"] = page.locator('input[type="password"]').count()
        result.extra["metrics"] = page.locator('[data-testid="stMetric"]').count()
        result.extra["tables"] = page.locator('[data-testid="stDataFrame"]').count()
        result.extra["text"] = page.locator('[data-testid="stMain"]').inner_text()

    result = open_page(f"{site['url']}/export?town={quote(site['other_name'])}", ARTIFACTS / "signed_out.png",
                       expect_map=False, sign_in_as=(), then=look)
    assert result.exceptions == [] and result.external_requests == []
    assert result.extra["password_boxes"] == 1
    assert result.extra["metrics"] == 0 and result.extra["tables"] == 0 and result.map_paths == 0
    assert "演示数据" not in result.extra["text"] and site["other_name"] not in result.extra["text"]


@needs_browser
@pytest.mark.parametrize("role, pages", [
    ("leader", {"总览", "排名", "导出"}),
    ("planner", {"总览", "数据导入", "账号与审计"}),
    ("admin", {"账号与审计"}),
])
def test_each_role_gets_its_pages(site, role, pages):
    def look(page, result):
        result.extra["nav"] = _nav(page)
        result.extra["metrics"] = _metrics(page)
        result.extra["user"] = page.locator('[data-testid="stSidebar"]').inner_text()

    result = open_page(f"{site['url']}/", ARTIFACTS / f"role_{role}.png", expect_map=False,
                       sign_in_as=(f"b_{role}", TEST_PASSWORD), then=look)
    assert result.exceptions == []
    nav = set(result.extra["nav"])
    assert pages <= nav or (role == "admin" and nav <= pages)
    if role == "leader":
        assert not {"数据导入", "账号与审计"} & nav
    if role == "admin":
        assert result.extra["metrics"] == {}
    assert f"当前用户: b_{role}" in result.extra["user"]


@needs_browser
def test_a_town_account_cannot_reach_another_town_by_url_page_or_download(site, demo_db):
    start, end = site["period"]

    def look(page, result):
        result.extra["overview"] = _metrics(page)
        result.extra["nav"] = _nav(page)
        goto(page, f"{site['url']}/export?town={quote(site['other_name'])}", ("b_town", TEST_PASSWORD))
        page.wait_for_selector("text=下载 CSV", timeout=60_000)
        with page.expect_download(timeout=60_000) as dl:
            page.get_by_role("button", name="下载 CSV").first.click()
        result.extra["csv"] = Path(dl.value.path()).read_bytes()
        page.screenshot(path=str(ARTIFACTS / "town_export.png"), full_page=True)
        result.extra["export_text"] = page.locator('[data-testid="stMain"]').inner_text()

    url = f"{site['url']}/?town={quote(site['other_name'])}&period={start}&period={end}"
    result = open_page(url, ARTIFACTS / "town_overview.png", sign_in_as=("b_town", TEST_PASSWORD), then=look)
    assert result.exceptions == [] and result.external_requests == []
    assert result.extra["overview"]["受理诉求"] == f"{site['received']:,}"
    assert "数据导入" not in result.extra["nav"]
    table = pd.read_csv(io.BytesIO(result.extra["csv"]), dtype=str, encoding="utf-8-sig")
    codes = table[next(c for c in table.columns if "代码" in c)].str.removeprefix('="').str.removesuffix('"')
    assert len(codes) and codes.str.startswith(site["mine"]).all()
    assert site["other_name"] not in result.extra["export_text"]
    # the download is in the audit log: who, which file, the filter in words, how many rows
    from access import store

    taken = store.audit_entries(demo_db, who="b_town", action="download")
    assert taken and taken[0]["target"].endswith(".csv") and taken[0]["rows"] == len(table)
    assert site["my_name"] in taken[0]["detail"]["filter"]
