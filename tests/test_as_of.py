"""The data's own date: a warehouse loaded from an export that ends last December is analysed
as of that export, not of the wall clock."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from cli import main
from etl.db import connect
from etl.views import as_of, ensure_views

HEADER = "受理编号,受理时间,诉求来源,问题类别,诉求内容,所属乡镇,所属村(社区),办理状态,办结时间"
ROWS = ["D1,2025-12-01 09:00,12345,道路,路灯,老城街道,西大街社区,受理,",       # open 27 days by 12-28: overdue
        "D2,2025-12-26 09:00,12345,道路,路灯,老城街道,西大街社区,受理,",       # open 2 days: not overdue
        "D3,2025-11-20 09:00,12345,道路,路灯,老城街道,西大街社区,办结,2025-12-28 16:00"]


def _load(db, path, *extra):
    r = CliRunner().invoke(main, ["--db", str(db), "load", "cases", str(path), "--json", *extra])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _overdue(db) -> list[str]:
    con = connect(db, read_only=True)
    ensure_views(con)
    return [c for (c,) in con.execute("SELECT case_id FROM case_facts WHERE is_overdue ORDER BY 1").fetchall()]


def test_the_latest_record_is_the_warehouses_today(wh, tmp_path):
    path = tmp_path / "导出.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="gb18030")
    _load(wh, path)
    con = connect(wh, read_only=True)
    got = as_of(con)
    assert (got.at, got.source) == (dt.datetime(2025, 12, 28, 23, 59, 59), "data")
    assert got.label() == "数据截至 2025-12-28"
    assert _overdue(wh) == ["D1"]  # by the wall clock (2026 or later) D2 would be overdue too
    out = CliRunner().invoke(main, ["--db", str(wh), "info"])
    assert "数据截至 2025-12-28" in out.output


def test_a_given_export_date_is_kept_and_a_later_record_moves_it_on(wh, tmp_path):
    path = tmp_path / "导出.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    _load(wh, path, "--as-of", "2026-01-03")
    con = connect(wh, read_only=True)
    assert (as_of(con).at.date(), as_of(con).source) == (dt.date(2026, 1, 3), "given")
    con.close()
    assert _overdue(wh) == ["D1", "D2"]  # D2's week ran out on 2026-01-02
    later = tmp_path / "新导出.csv"
    later.write_text("\n".join([HEADER, "D4,2026-01-20 10:00,12345,道路,路灯,老城街道,西大街社区,受理,"]) + "\n", encoding="utf-8")
    _load(wh, later)
    con = connect(wh, read_only=True)
    assert (as_of(con).at.date(), as_of(con).source) == (dt.date(2026, 1, 20), "data")


def test_an_empty_warehouse_uses_the_clock_and_says_so(wh):
    con = connect(wh, read_only=True)
    got = as_of(con)
    assert got.source == "clock" and abs((got.at - dt.datetime.now()).total_seconds()) < 120
    assert "尚无诉求数据" in got.label()


def test_an_older_export_loaded_after_a_newer_one_never_reverts_a_case(wh, tmp_path):
    newer = tmp_path / "12月导出.csv"
    newer.write_text("\n".join([HEADER, ROWS[0].replace(",受理,", ",办结,").rstrip(",") + ",2025-12-20 10:00",
                                "D2,2025-12-26 09:00,12345,道路,路灯,老城街道,西大街社区,办理中,"]) + "\n", encoding="gb18030")
    older = tmp_path / "11月导出.csv"  # D1 still open then, D2 already known as 受理 (earlier in the life cycle)
    older.write_text("\n".join([HEADER, ROWS[0], ROWS[1],
                                "D9,2025-11-30 09:00,12345,道路,路灯,老城街道,西大街社区,受理,"]) + "\n", encoding="gb18030")
    _load(wh, newer)
    out = _load(wh, older)
    assert (out["rows_read"], out["loaded"], out["updated"], out["rejected"]) == (3, 1, 0, 2)
    assert out["reasons"] == {"stale": 2}
    con = connect(wh, read_only=True)
    assert dict(con.execute("SELECT case_id, status FROM cases").fetchall()) == {"D1": "办结", "D2": "办理中", "D9": "受理"}
    lines = con.execute("SELECT line_no, reason FROM rejected_rows WHERE batch_id = 2 ORDER BY 1").fetchall()
    assert lines == [(2, "stale"), (3, "stale")]
    # the newer export again: nothing is stale, nothing changes
    assert _load(wh, newer)["duplicates"] == 2
