"""Loading ledgers: encodings, header aliases, dates, rejections that add up, idempotence."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings as hsettings, strategies as st

from cli import main
from etl.db import connect, run_sql_file, writing
from etl.load import LoadError, load

HEADER = "受理编号,受理时间,诉求来源,问题类别,诉求内容,所属乡镇,所属村(社区),经度,纬度,反映人,联系电话,身份证号,办理状态,办结时间,满意度"
GOOD = [
    "A001,2025-03-05 14:30,12345,物业,反映<b>物业</b>乱收费 & 服务差,老城街道,西大街社区,,,张三丰,13812345678,610902199001011234,已办结,2025-03-08 10:00,满意",
    "A002,2025年3月6日,来信,低保,申请低保,五里镇,,,,李四,,,办理中,,",
    "A003,2025/3/7,走访,道路,修路,老城街道,西大街社区居委会,,,王五,13900001111,,受理,,",
]


def _write(path, lines, encoding="utf-8"):
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _load(db, path, kind="cases"):
    r = CliRunner().invoke(main, ["--db", str(db), "load", kind, str(path), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_every_encoding_loads_the_same_chinese_text(wh, tmp_path, encoding):
    out = _load(wh, _write(tmp_path / "l.csv", [HEADER, *GOOD], encoding))
    assert out["rows_read"] == 3 and out["loaded"] == 3 and out["rejected"] == 0
    con = connect(wh, read_only=True)
    assert con.execute("SELECT content FROM cases WHERE case_id = 'A001'").fetchone()[0] == "反映<b>物业</b>乱收费 & 服务差"
    assert con.execute("SELECT channel, category, status, satisfaction FROM cases WHERE case_id = 'A001'").fetchone() == \
        ("群工热线", "物业管理", "办结", "满意")


def test_places_by_village_then_town_names(wh, tmp_path):
    _load(wh, _write(tmp_path / "l.csv", [HEADER, *GOOD]))
    con = connect(wh, read_only=True)
    got = dict(con.execute("SELECT case_id, area_code || ':' || placement FROM cases").fetchall())
    assert got == {"A001": "610902001003:village_name", "A002": "610902104:town_name", "A003": "610902001003:village_name"}


def test_personal_data_is_masked_and_hashed_everywhere(wh, tmp_path):
    bad = "B001,not a date,12345,物业,x,老城街道,,,,赵六,13712345678,610902198001011234,受理,,"
    in_text = "B002,2025-03-09,12345,物业,本人身份证610902197001019876，电话13811112222，请回电,老城街道,,,,,,,受理,,"
    _load(wh, _write(tmp_path / "l.csv", [HEADER, *GOOD, bad, in_text]))
    con = connect(wh, read_only=True)
    assert con.execute("SELECT petitioner_masked, phone_masked, id_masked FROM cases WHERE case_id = 'A001'").fetchone() == \
        ("张**", "138****5678", "**************1234")
    dump = json.dumps(con.execute("SELECT * FROM cases").fetchall(), default=str, ensure_ascii=False) + \
        json.dumps(con.execute("SELECT * FROM rejected_rows").fetchall(), default=str, ensure_ascii=False)
    for secret in ("张三丰", "13812345678", "610902199001011234", "赵六", "13712345678", "610902198001011234",
                   "610902197001019876", "13811112222"):
        assert secret not in dump
    assert con.execute("SELECT content FROM cases WHERE case_id = 'B002'").fetchone()[0] == \
        "本人身份证**************9876，电话138****2222，请回电"


def test_the_hash_key_lives_beside_the_warehouse_not_in_it(wh):
    from etl.keys import key_path, read_key

    con = connect(wh, read_only=True)
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    key = read_key(wh, meta["key_fingerprint"])
    assert "hash_key" not in meta and key not in json.dumps(meta)
    assert key_path(wh).stat().st_mode & 0o077 == 0  # owner only


def test_a_repeat_petitioner_is_linked_across_phone_spellings(wh, tmp_path):
    rows = [HEADER, "P1,2025-03-05,12345,物业,x,老城街道,,,,钱七,13912345678,,受理,,",
            "P2,2025-03-20,来访,物业,x,老城街道,,,,钱七,+86 139-1234-5678,,受理,,"]
    _load(wh, _write(tmp_path / "l.csv", rows))
    con = connect(wh, read_only=True)
    hashes = [h for (h,) in con.execute("SELECT petitioner_hash FROM cases ORDER BY case_id").fetchall()]
    assert hashes[0] is not None and hashes[0] == hashes[1]


def test_outcomes_add_up_with_a_reason_for_every_rejection(wh, tmp_path):
    rows = [HEADER, *GOOD,
            ",2025-03-05,12345,物业,x,老城街道,,,,,,,受理,,",          # line 5: no id
            "C1,2025-13-45,12345,物业,x,老城街道,,,,,,,受理,,",        # line 6: bad date
            "C2,2025-03-05,飞鸽传书,物业,x,老城街道,,,,,,,受理,,",      # line 7: a channel of its own: kept
            "C3,2025-03-05,12345,物业,x,不存在镇,,,,,,,受理,,",        # line 8: unknown town
            "C4,2025-03-05,12345,物业,x,,,116.40,39.90,,,,受理,,",     # line 9: Beijing, outside the district
            "C5,2025-03-05,12345,物业,x,老城街道,,,,,,,受理,2025-03-01,",  # line 10: closed before received
            GOOD[0],                                                  # line 11: identical repeat
            GOOD[1].replace("办理中", "受理")]                         # line 12: same id as line 3, newer content
    out = _load(wh, _write(tmp_path / "l.csv", rows))
    assert out["rows_read"] == 11
    assert out["loaded"] + out["updated"] + out["duplicates"] + out["rejected"] == out["rows_read"]
    assert (out["loaded"], out["duplicates"], out["rejected"]) == (4, 1, 6)
    con = connect(wh, read_only=True)
    got = {(line, reason, field) for line, reason, field in con.execute("SELECT line_no, reason, field FROM rejected_rows").fetchall()}
    assert got == {(5, "missing_id", "case_id"), (6, "bad_date", "received_at"),
                   (8, "unknown_area_name", "town"), (9, "outside_district", "lon"),
                   (10, "closed_before_received", "closed_at"), (3, "superseded_in_file", "case_id")}
    raw = json.loads(con.execute("SELECT raw FROM rejected_rows WHERE line_no = 8").fetchone()[0])
    assert raw["所属乡镇"] == "不存在镇"  # the original row, as the user wrote it
    assert con.execute("SELECT channel, channel_raw FROM cases WHERE case_id = 'C2'").fetchone() == ("飞鸽传书", "飞鸽传书")
    assert out["terms"] == [{"domain": "channel", "term": "飞鸽传书", "mapped_to": "飞鸽传书", "how": "unmapped", "count": 1}]
    assert con.execute("SELECT status FROM cases WHERE case_id = 'A002'").fetchone()[0] == "受理"  # the later row won


def test_same_file_twice_changes_nothing_and_a_new_status_appends_an_event(wh, tmp_path):
    f = _write(tmp_path / "l.csv", [HEADER, *GOOD])
    _load(wh, f)
    again = _load(wh, f)
    assert (again["loaded"], again["updated"], again["duplicates"]) == (0, 0, 3)
    con = connect(wh, read_only=True)
    events = con.execute("SELECT count(*) FROM case_events").fetchone()[0]
    con.close()
    later = _write(tmp_path / "l2.csv", [HEADER, GOOD[0], GOOD[1].replace("办理中,,", "办结,2025-03-10 09:00,基本满意"), GOOD[2]])
    out = _load(wh, later)
    assert (out["updated"], out["duplicates"]) == (1, 2)
    con = connect(wh, read_only=True)
    assert con.execute("SELECT status, closed_at FROM cases WHERE case_id = 'A002'").fetchone() == ("办结", dt.datetime(2025, 3, 10, 9))
    assert con.execute("SELECT count(*) FROM case_events").fetchone()[0] == events + 1
    assert con.execute("""SELECT "at" FROM case_events WHERE case_id = 'A002' AND status = '办结'""").fetchone()[0] == dt.datetime(2025, 3, 10, 9)


def test_missing_required_field_names_it_and_the_headers_seen(wh, tmp_path):
    f = _write(tmp_path / "l.csv", ["受理编号,诉求来源,问题类别,办理状态", "A1,12345,物业,受理"])
    r = CliRunner().invoke(main, ["--db", str(wh), "load", "cases", str(f)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "受理时间" in r.output and "受理编号, 诉求来源, 问题类别, 办理状态" in r.output
    assert str(f) in r.output


def test_xlsx_with_excel_dates(wh, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.split(","))
    ws.append(["X1", dt.datetime(2025, 3, 5, 14, 30), "热线", "物业", "x", "老城街道", "西大街社区", None, None, "张三", None, None, "受理", None, None])
    ws.append([None] * 15)  # a blank row is not data
    ws.append(["X2", 45722, "热线", "物业", "x", "老城街道", "", None, None, None, None, None, "受理", None, None])  # serial 45722 = 2025-03-06
    wb.save(tmp_path / "l.xlsx")
    out = _load(wh, tmp_path / "l.xlsx")
    assert out["loaded"] == 2 and out["rows_read"] == 2
    con = connect(wh, read_only=True)
    assert dict(con.execute("SELECT case_id, received_at FROM cases").fetchall()) == {
        "X1": dt.datetime(2025, 3, 5, 14, 30), "X2": dt.datetime(2025, 3, 6)}


def test_a_failed_load_leaves_the_warehouse_as_it_was(wh, tmp_path, monkeypatch):
    import dataclasses

    from etl.kinds import KINDS

    f = _write(tmp_path / "l.csv", [HEADER, *GOOD])
    def boom(*a, **k):
        raise RuntimeError("killed part way")
    monkeypatch.setitem(KINDS, "cases", dataclasses.replace(KINDS["cases"], after_merge=boom))  # fails after the merge
    from etl.keys import read_key

    with pytest.raises(RuntimeError, match="killed part way"):
        with writing(wh) as con:
            load(con, "cases", f, hash_key=read_key(wh))
    con = connect(wh, read_only=True)
    assert con.execute("SELECT count(*) FROM cases").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM load_batches").fetchone()[0] == 0


DATE_FORMATS = ["{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}.{m}.{d}", "{y}年{m}月{d}日", "{y}-{m:02d}-{d:02d} {H:02d}:{M:02d}",
                "{y}-{m:02d}-{d:02d} {H:02d}:{M:02d}:{S:02d}", " {y}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d} ",
                "{y}-{m}-{d} {H}:{M:02d}", "{y}年{m}月{d}日 {H}:{M:02d}", "{y}{m:02d}{d:02d}"]


@hsettings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2099, 12, 31)), st.sampled_from(DATE_FORMATS))
def test_dates_parse_in_every_office_style(when, fmt):
    con = _macros()
    text = fmt.format(y=when.year, m=when.month, d=when.day, H=when.hour, M=when.minute, S=when.second)
    expected = dt.datetime(when.year, when.month, when.day)
    if "{H" in fmt:
        expected = when.replace(second=when.second if "{S" in fmt else 0, microsecond=0)
    assert con.execute("SELECT parse_ts(?)", [text]).fetchone()[0] == expected


@pytest.mark.parametrize("text", ["2025-02-30", "2025-02-30 10:00:00", "2025-03-05 24:00", "2025-03-05 14:30:61",
                                  "2025-13-01 08:00", "2025-03-05 14:3a", "abcd-ef-gh", "2025-03-05 14:30:00+08"])
def test_impossible_dates_in_iso_shape_do_not_parse(text):
    assert _macros().execute("SELECT parse_ts(?)", [text]).fetchone()[0] is None


def _mask_phone_reference(text):
    """The rule in words: digits only, a +86/86 country prefix dropped from 13 digits, then the first
    three and last four digits kept; fewer than seven digits show as ****."""
    if text is None or not text.strip():
        return None
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 7 else "****"


@hsettings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet="0123456789+- ()86a转", max_size=20), st.from_regex(r"(\+?86)?[ -]?1[3-9][0-9]{9}", fullmatch=True)))
def test_phones_are_masked_as_the_rule_says(text):
    assert _macros().execute("SELECT mask_phone(?)", [text]).fetchone()[0] == _mask_phone_reference(text)


@hsettings(max_examples=100, deadline=None)
@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_excel_serial_dates(day):
    serial = (day - dt.date(1899, 12, 30)).days
    assert _macros().execute("SELECT parse_ts(?)", [str(serial)]).fetchone()[0] == dt.datetime(day.year, day.month, day.day)


_CON = None


def _macros():
    global _CON
    if _CON is None:
        _CON = connect()
        run_sql_file(_CON, "macros")
    return _CON


def test_a_ragged_row_is_rejected_with_its_physical_line_and_the_rest_loads(wh, tmp_path):
    rows = [HEADER, GOOD[0], "", '"A009","2025-03-05","12345","物业","多行', '内容","老城街道",,,,,,,"受理",,',
            GOOD[2] + ",多出来的一格,又一格", GOOD[1]]
    out = _load(wh, _write(tmp_path / "l.csv", rows))
    assert (out["rows_read"], out["loaded"], out["rejected"]) == (4, 3, 1)
    con = connect(wh, read_only=True)
    assert con.execute("SELECT line_no, reason FROM rejected_rows").fetchall() == [(6, "bad_column_count")]
    assert con.execute("SELECT content FROM cases WHERE case_id = 'A009'").fetchone()[0] == "多行\n内容"


def test_a_header_only_file_loads_nothing_and_says_so(wh, tmp_path):
    f = tmp_path / "h.csv"
    f.write_text(HEADER, encoding="utf-8")  # no trailing newline
    out = _load(wh, f)
    assert out["rows_read"] == 0 and out["loaded"] == 0


@pytest.mark.parametrize("village, expected", [
    ("西大街社区居委会", "610902001003"), ("西大街社区", "610902001003"), ("西大街", "610902001003"),
])
def test_village_names_match_with_or_without_suffixes(wh, tmp_path, village, expected):
    row = f"V1,2025-03-05,12345,物业,x,老城街道,{village},,,,,,受理,,"
    _load(wh, _write(tmp_path / "l.csv", [HEADER, row]))
    con = connect(wh, read_only=True)
    assert con.execute("SELECT area_code, placement FROM cases").fetchone() == (expected, "village_name")


def test_a_point_outside_the_district_is_not_kept_when_names_place_the_case(wh, tmp_path):
    row = "V1,2025-03-05,12345,物业,x,老城街道,西大街社区,116.397,39.908,,,,受理,,"
    _load(wh, _write(tmp_path / "l.csv", [HEADER, row]))
    con = connect(wh, read_only=True)
    assert con.execute("SELECT area_code, placement, lon, lat FROM cases").fetchone() == \
        ("610902001003", "village_name+point_outside", None, None)


@pytest.mark.parametrize("when", ["25-3-5", "1900-01-01", "2099-03-09"])
def test_implausible_dates_are_rejected(wh, tmp_path, when):
    out = _load(wh, _write(tmp_path / "l.csv", [HEADER, f"D1,{when},12345,物业,x,老城街道,,,,,,,受理,,"]))
    assert out["rejected"] == 1
    assert set(out["reasons"]) <= {"bad_date", "date_out_of_range"}


def test_an_open_status_with_a_closing_time_is_a_conflict(wh, tmp_path):
    out = _load(wh, _write(tmp_path / "l.csv", [HEADER, "S1,2025-03-05,12345,物业,x,老城街道,,,,,,,办理中,2025-03-08,"]))
    assert out["reasons"] == {"status_conflict": 1}


@pytest.fixture
def edited_vocab(tmp_path, monkeypatch):
    """Edit etl/vocab.toml for one test: edited_vocab(old, new) replaces text in a copy of it."""
    from etl import vocab

    copy = tmp_path / "vocab.toml"
    copy.write_text(vocab.VOCAB_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(vocab, "VOCAB_FILE", copy)
    vocab.vocab.cache_clear()

    def edit(old: str, new: str) -> None:
        text = copy.read_text(encoding="utf-8")
        assert old in text
        copy.write_text(text.replace(old, new), encoding="utf-8")
        vocab.vocab.cache_clear()

    yield edit
    vocab.vocab.cache_clear()


def test_which_statuses_are_open_comes_from_the_vocabulary(wh, tmp_path, edited_vocab):
    edited_vocab('term = "办理中"\nopen = true', 'term = "办理中"\nopen = false')
    out = _load(wh, _write(tmp_path / "l.csv", [HEADER, "S1,2025-03-05,12345,物业,x,老城街道,,,,,,,办理中,2025-03-08,"]))
    assert out["loaded"] == 1 and out["reasons"] == {}


def test_case_events_are_named_by_the_vocabulary(wh, tmp_path, edited_vocab):
    edited_vocab('term = "受理"\nopen = true\nsynonyms = [', 'term = "收件"\nopen = true\nsynonyms = ["受理", ')
    _load(wh, _write(tmp_path / "l.csv", [HEADER, "E1,2025-03-05 09:00,12345,物业,x,老城街道,,,,,,,受理,,",
                                          "E2,2025-03-06 09:00,12345,物业,x,老城街道,,,,,,,办结,2025-03-08,"]))
    con = connect(wh, read_only=True)
    assert con.execute("""SELECT case_id, status, "at" FROM case_events ORDER BY case_id, "at" """).fetchall() == [
        ("E1", "收件", dt.datetime(2025, 3, 5, 9)),
        ("E2", "收件", dt.datetime(2025, 3, 6, 9)), ("E2", "办结", dt.datetime(2025, 3, 8))]


@pytest.fixture
def demo_copy(demo_db, tmp_path):
    import shutil

    from etl.keys import key_path

    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    shutil.copy(key_path(demo_db), key_path(db))
    return db


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_points_from_amap_or_baidu_exports_land_in_the_right_village(demo_copy, tmp_path, crs):
    from geo import datum

    con = connect(demo_copy, read_only=True)
    seats = con.execute("""SELECT s.area_code, s.lon, s.lat FROM stations s WHERE s.building_id IS NULL
                           ORDER BY s.station_id LIMIT 40""").fetchall()
    con.close()
    lon = np.array([r[1] for r in seats])
    lat = np.array([r[2] for r in seats])
    gx, gy = datum.wgs84_to_gcj02(lon, lat)
    if crs == "bd09":
        gx, gy = datum.gcj02_to_bd09(gx, gy)
    rows = [HEADER] + [f"G{i},2025-03-05,12345,物业,x,,,{x:.7f},{y:.7f},,,,受理,," for i, (x, y) in enumerate(zip(gx, gy))]
    r = CliRunner().invoke(main, ["--db", str(demo_copy), "load", "cases", str(_write(tmp_path / "g.csv", rows)),
                                  "--crs", crs, "--json"])
    assert r.exit_code == 0, r.output
    con = connect(demo_copy, read_only=True)
    got = con.execute("SELECT case_id, area_code, placement, lon, lat FROM cases WHERE case_id LIKE 'G%' ORDER BY 1").fetchall()
    assert len(got) == len(seats)
    for (cid, area, placement, x, y) in got:
        i = int(cid[1:])
        assert area == seats[i][0] and placement == "point"
        assert abs(x - lon[i]) < 5e-6 and abs(y - lat[i]) < 5e-6  # back to WGS84 within half a metre
