"""数据导入 page and `minqing rejected`: the header mapping and a masked preview before loading,
the same loader as the CLI (lock included), the outcome and rejected rows after it, the load
history, and the page on demo, empty and missing warehouses."""

from __future__ import annotations

import shutil

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from cli import main
from dashboard import pages
from dashboard.compute import imports
from etl.db import REPO_ROOT, Busy, _exclusive, connect
from etl.load import LoadError, load_file

APP = str(REPO_ROOT / "dashboard" / "app.py")
PAGE = pages.page("import").file
HEADER = "受理编号,受理时间,诉求来源,问题类别,诉求内容,所属乡镇,所属村(社区),经度,纬度,反映人,联系电话,身份证号,办理状态,办结时间,满意度,备注"
ROWS = [
    "H001,2025-03-05 14:30,12345,物业,反映物业乱收费,老城街道,西大街社区,,,张三丰,13812345678,610902199001011234,已办结,2025-03-08 10:00,满意,甲",
    "H002,2025-03-06,来信,低保,申请低保,五里镇,,,,李四,,,办理中,,,乙",
    "H003,2025-13-45,12345,物业,日期写错,老城街道,,,,王五,13900001111,,受理,,,丙",     # line 4: bad date
    "H004,2025-03-07,12345,物业,办结早于受理,老城街道,,,,赵六,,,已办结,2025-03-01,,丁",  # line 5: closed before received
    "H005,2025-03-08,飞鸽传书,物业,来源是本地叫法,老城街道,,,,钱七,,,受理,,,戊",          # line 6: a channel of its own
]


def _csv(path, rows=ROWS, header=HEADER, encoding="gb18030"):
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


@pytest.fixture
def demo_copy(demo_db, tmp_path):
    db = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_db, db)
    shutil.copyfile(str(demo_db) + ".key", str(db) + ".key")
    return db


# ---------------------------------------------------------------- before loading

def test_mapping_says_which_column_became_which_field_and_what_is_ignored(tmp_path):
    ins = imports.inspect("cases", _csv(tmp_path / "台账.csv", header=HEADER.replace("反映人", "来电人")))
    by_field = dict(zip(ins.mapping["字段"], ins.mapping["文件中的列"]))
    assert by_field["受理编号"] == "受理编号" and by_field["反映人"] == "来电人"  # an alias found its field
    assert by_field["区划代码"] == "" and ins.ignored == ["备注"]
    assert ins.missing == [] and ins.rows == 5


def test_missing_required_fields_are_named(tmp_path):
    header = HEADER.replace("受理时间", "日期")
    ins = imports.inspect("cases", _csv(tmp_path / "c.csv", header=header))
    assert ins.missing == ["受理时间"]
    assert "日期" in ins.ignored
    assert ins.mapping.loc[ins.mapping["字段"] == "受理时间", "状态"].item().startswith("缺少")


def test_preview_masks_names_phones_and_id_numbers(tmp_path):
    ins = imports.inspect("cases", _csv(tmp_path / "c.csv"))
    text = ins.preview.to_string()
    for secret in ("张三丰", "13812345678", "610902199001011234", "王五"):
        assert secret not in text
    first = ins.preview.iloc[0]
    assert first["行号"] == 2 and first["受理编号"] == "H001" and first["诉求内容"] == "反映物业乱收费"
    assert first["联系电话"].startswith("138") and "*" in first["联系电话"]


def test_xlsx_sheets_are_listed_in_order(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.create_sheet("三月台账")
    wb.save(tmp_path / "t.xlsx")
    assert imports.xlsx_sheets(tmp_path / "t.xlsx") == ["说明", "三月台账"]


def test_a_chart_sheet_is_not_offered_and_a_damaged_workbook_is_a_chinese_message(tmp_path):
    """The sheets offered are those the loader can read (a chart sheet is not), and a file that
    is no workbook is a ReadError naming it, never an English library error."""
    from etl.readers import ReadError

    wb = openpyxl.Workbook()
    wb.active.title = "台账"
    wb.active.append(["编号"])
    wb.create_chartsheet("图表", 0)
    wb.save(tmp_path / "c.xlsx")
    assert imports.xlsx_sheets(tmp_path / "c.xlsx") == ["台账"]
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(ReadError, match="bad.xlsx: 不是可读取的 XLSX 工作簿"):
        imports.xlsx_sheets(tmp_path / "bad.xlsx")


def test_an_upload_keeps_its_name_and_suffix(tmp_path):
    p = imports.save_upload("../三月 台账.csv", b"a,b\n", folder=tmp_path)
    assert p.name == "三月 台账.csv" and p.read_bytes() == b"a,b\n" and p.parent.parent == tmp_path


# ---------------------------------------------------------------- loading and after

def test_load_file_loads_like_the_cli_and_rejections_come_back_with_line_field_reason(wh, tmp_path):
    steps = []
    r = load_file(wh, "cases", _csv(tmp_path / "c.csv"), progress=steps.append)
    assert steps == ["读取文件", "校验", "定位", "入库"]
    assert (r.rows_read, r.loaded, r.rejected) == (5, 3, 2)
    out = imports.outcome_table(r)
    assert out.to_dict("records") == [{"读入": 5, "新增": 3, "更新": 0, "重复": 0, "拒收": 2}]
    from reports.rejected import rejected_frame

    with connect(wh, read_only=True) as con:
        rej = rejected_frame(con, r.batch_id)
        hist = imports.history_table(con.execute("SELECT * FROM load_batches").df())
    assert list(rej["行号"]) == [4, 5] and list(rej["字段"]) == ["受理时间", "办结时间"]
    assert all(rej["原因"].str.len() > 0) and "王五" not in rej.to_string() and rej.loc[0, "受理编号"] == "H003"
    assert hist.loc[0, "批次"] == r.batch_id and hist.loc[0, "类型"] == "诉求台账" and hist.loc[0, "文件"] == "c.csv"


def test_a_load_while_another_writes_is_busy_and_writes_nothing(wh, tmp_path):
    with _exclusive(wh):
        with pytest.raises(Busy):
            load_file(wh, "cases", _csv(tmp_path / "c.csv"))
    with connect(wh, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM cases").fetchone()[0] == 0


def test_a_missing_warehouse_says_how_to_create_it(tmp_path):
    with pytest.raises(LoadError, match="init --district"):
        load_file(tmp_path / "none.duckdb", "cases", _csv(tmp_path / "c.csv"))


def test_cli_rejected_writes_the_latest_batch_with_rejections(wh, tmp_path):
    r = load_file(wh, "cases", _csv(tmp_path / "c.csv"))
    load_file(wh, "cases", _csv(tmp_path / "ok.csv", rows=ROWS[:2]))  # a later load without rejections
    out = tmp_path / "拒收明细.xlsx"
    res = CliRunner().invoke(main, ["--db", str(wh), "rejected", "-o", str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_excel(out)
    with connect(wh, read_only=True) as con:
        direct = con.execute("SELECT line_no, reason FROM rejected_rows WHERE batch_id = ? ORDER BY 1",
                             [r.batch_id]).fetchall()
    assert list(zip(df["行号"], df["原因代码"])) == direct
    csv = tmp_path / "r.csv"
    assert CliRunner().invoke(main, ["--db", str(wh), "rejected", "--batch", str(r.batch_id), "-o", str(csv)]).exit_code == 0
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf") and len(pd.read_csv(csv)) == 2
    bad = CliRunner().invoke(main, ["--db", str(wh), "rejected", "--batch", "99", "-o", str(csv)])
    assert bad.exit_code != 0 and "99" in bad.output


# ---------------------------------------------------------------- the page

def _table(at, column: str) -> pd.DataFrame:
    """The page's table with a column named `column` (st.dataframe keeps no key in AppTest)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with {column}"
    return found[0]


def _run(monkeypatch, db) -> AppTest:
    monkeypatch.setenv("MINQING_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(PAGE)
    return at.run()


def test_upload_preview_load_and_outcome_in_the_page(monkeypatch, demo_copy, tmp_path):
    at = _run(monkeypatch, demo_copy)
    assert not at.exception and not at.error
    before = len(_table(at, "批次"))
    at.selectbox(key="im_kind").set_value("cases")
    at.file_uploader(key="im_file").set_value(("三月台账.csv", _csv(tmp_path / "c.csv").read_bytes(), "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    mapping = _table(at, "状态")
    assert dict(zip(mapping["字段"], mapping["文件中的列"]))["受理编号"] == "受理编号"
    assert "张三丰" not in _table(at, "受理编号").to_string()
    at.button(key="im_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert {m.label: m.value for m in at.metric} == {"读入": "5", "新增": "3", "更新": "0", "重复": "0", "拒收": "2"}
    assert list(_table(at, "原因")["行号"]) == [4, 5]
    # the channel the vocabulary does not know was loaded under its own name and can be mapped here
    terms = _table(at, "原词")
    assert terms.to_dict("records") == [{"词表": "诉求来源", "原词": "飞鸽传书", "行数": 1, "现按": "原词 (自成一类)"}]
    at.selectbox(key="im_target").set_value("群工信箱")
    at.button(key="im_map").click().run()
    assert not at.exception and any("已将 飞鸽传书 归入 群工信箱" in s.value for s in at.success)
    with connect(demo_copy, read_only=True) as con:
        assert con.execute("SELECT channel, channel_raw FROM cases WHERE case_id = 'H005'").fetchone() == ("群工信箱", "飞鸽传书")
    history = _table(at, "批次")
    assert len(history) == before + 1 and history.iloc[0]["文件"] == "三月台账.csv"


def test_page_runs_on_an_empty_warehouse(monkeypatch, wh):
    at = _run(monkeypatch, wh)
    assert not at.exception and not at.error
    assert any("上传诉求台账" in i.value for i in at.info)


def test_page_says_how_to_create_a_missing_warehouse(monkeypatch, tmp_path):
    at = _run(monkeypatch, tmp_path / "none.duckdb")
    assert not at.exception
    assert at.error and "init --district" in at.error[0].value
