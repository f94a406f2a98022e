"""数据导入 in a real browser: upload a GB18030 CSV of cases on a copy of the small demo, load it,
and 总览 counts the new cases without a restart."""

from __future__ import annotations

import shutil
from pathlib import Path

from browser import APP_READY, goto, needs_browser, open_page, start_app

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
HEADER = "受理编号,受理时间,诉求来源,问题类别,诉求内容,所属乡镇,所属村(社区),反映人,联系电话,办理状态"
ROWS = ["BR001,2026-10-30 09:00,12345,物业,楼道灯坏了,老城街道,西大街社区,张三丰,13812345678,受理",
        "BR002,2026-10-30 10:00,来信,道路,路面坑洼,五里镇,,李四,,办理中",
        "BR003,2026-13-45,12345,物业,日期写错,老城街道,,王五,,受理"]  # rejected: no such date


def _received(page) -> int:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="受理诉求").first
    return int(metric.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))


@needs_browser
def test_a_csv_uploaded_in_the_browser_shows_on_the_overview(demo_db, tmp_path):
    db = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_db, db)
    shutil.copyfile(str(demo_db) + ".key", str(db) + ".key")
    csv = tmp_path / "十月台账.csv"
    csv.write_bytes(("\n".join([HEADER, *ROWS]) + "\n").encode("gb18030"))

    def upload_load_and_look(page, result):
        result.extra["before"] = _received(page)
        goto(page, page.url.split("?")[0].rstrip("/") + "/import")
        page.wait_for_selector("text=上传文件", timeout=60_000)
        page.locator('input[type="file"]').set_input_files(str(csv))
        page.wait_for_selector("text=表头对应", timeout=60_000)
        page.get_by_role("button", name="导入", exact=True).click()
        page.wait_for_selector("text=导入结果", timeout=120_000)
        page.wait_for_selector("text=导入记录", timeout=60_000)
        page.wait_for_selector(APP_READY, timeout=60_000)
        metrics = page.locator('[data-testid="stMetric"]')
        result.extra["outcome"] = {m.locator('[data-testid="stMetricLabel"]').inner_text():
                                   m.locator('[data-testid="stMetricValue"]').inner_text() for m in metrics.all()}
        page.screenshot(path=str(ARTIFACTS / "import_done.png"), full_page=True)
        goto(page, page.url.split("/import")[0] + "/")
        page.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
        page.wait_for_selector(APP_READY, timeout=60_000)
        page.wait_for_timeout(1000)
        result.extra["after"] = _received(page)

    with start_app(db) as url:
        result = open_page(f"{url}/", ARTIFACTS / "import_overview.png", expect_map=False, then=upload_load_and_look)
    assert result.exceptions == [] and result.external_requests == []
    assert result.extra["outcome"] == {"读入": "3", "新增": "2", "更新": "0", "重复": "0", "拒收": "1"}
    assert result.extra["after"] == result.extra["before"] + 2
