"""`minqing load cases a.csv b.xlsx ...` or a folder: one transaction, the same warehouse as loading
the files one after another, each file with its own batch, rejects, counts and audit entry;
a file that cannot be loaded refuses them all."""

from __future__ import annotations

import json
import shutil

import duckdb
import openpyxl
from click.testing import CliRunner

from access import store
from cli import main

from conftest import table_rows

HEADER = ["受理编号", "受理时间", "诉求来源", "问题类别", "诉求内容", "所属乡镇", "所属村(社区)", "办理状态", "办结时间"]
# file 1: two new cases, K1 repeated identically within the file (a duplicate)
FIRST = [
    ["K1", "2025-03-01 09:00", "12345", "道路", "路灯不亮", "老城街道", "西大街社区", "受理", ""],
    ["K2", "2025-03-02 09:00", "12345", "物业", "乱收费", "老城街道", "西大街社区", "受理", ""],
    ["K1", "2025-03-01 09:00", "12345", "道路", "路灯不亮", "老城街道", "西大街社区", "受理", ""],
]
# file 2: K1 again as in file 1 (duplicate), K2 closed (updated), K3 new, K4 a bad date (rejected, line 5)
SECOND = [
    ["K1", "2025-03-01 09:00", "12345", "道路", "路灯不亮", "老城街道", "西大街社区", "受理", ""],
    ["K2", "2025-03-02 09:00", "12345", "物业", "乱收费", "老城街道", "西大街社区", "已办结", "2025-03-06 16:00"],
    ["K3", "2025-03-04 10:00", "来信", "低保", "申请低保", "五里镇", "", "受理", ""],
    ["K4", "三月五日", "12345", "道路", "修路", "老城街道", "西大街社区", "受理", ""],
]


def _csv(path, rows):
    path.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="gb18030")
    return path


def _xlsx(path, rows):
    wb = openpyxl.Workbook()
    for r in [HEADER, *rows]:
        wb.active.append(r)
    wb.save(path)
    return path


def _cli(db, *args):
    return CliRunner().invoke(main, ["--db", str(db), "load", "cases", *map(str, args)])


def _loaded_one_by_one(wh, tmp_path, *files):
    """A copy of the warehouse `wh` with `files` loaded one command each (the reference)."""
    one_by_one = tmp_path / "one_by_one.duckdb"
    shutil.copyfile(wh, one_by_one)
    shutil.copyfile(str(wh) + ".key", str(one_by_one) + ".key")
    for f in files:
        assert _cli(one_by_one, f).exit_code == 0
    return one_by_one


def _dump(db) -> dict[str, list]:
    """Every table's rows, sorted, but the load time (which differs between two runs)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall():
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' ORDER BY column_index",
                [t]).fetchall() if c != "loaded_at"]
            rows = con.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{t}"').fetchall()
            out[t] = sorted(map(repr, rows))
        return out
    finally:
        con.close()


def test_several_files_in_one_load_equal_loading_them_one_by_one(wh, tmp_path):
    a, b = _csv(tmp_path / "a.csv", FIRST), _xlsx(tmp_path / "b.xlsx", SECOND)
    one_by_one = _loaded_one_by_one(wh, tmp_path, a, b)

    r = _cli(wh, "--json", a, b)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    counts = [(f["rows_read"], f["loaded"], f["updated"], f["duplicates"], f["rejected"]) for f in out["files"]]
    assert counts == [(3, 2, 0, 1, 0), (4, 1, 1, 1, 1)]
    assert out["total"] == {"files": 2, "rows_read": 7, "loaded": 3, "updated": 1, "duplicates": 2, "rejected": 1}
    assert _dump(wh) == _dump(one_by_one)

    con = duckdb.connect(str(wh), read_only=True)
    batches = con.execute("SELECT batch_id, source_file, rows_read FROM load_batches ORDER BY 1").fetchall()
    assert [(f, n) for _, f, n in batches] == [("a.csv", 3), ("b.xlsx", 4)]
    rejected = con.execute("""SELECT b.source_file, r.line_no, r.field FROM rejected_rows r
                              JOIN load_batches b USING (batch_id)""").fetchall()
    assert rejected == [("b.xlsx", 5, "received_at")]
    assert con.execute("SELECT status FROM cases WHERE case_id = 'K2'").fetchone()[0] == "办结"
    con.close()
    loads = [e for e in store.audit_entries(wh) if e["action"] == "load"]
    assert sorted(e["detail"]["batch"] for e in loads) == [b for b, _, _ in batches]


def test_a_folder_loads_its_ledgers_in_name_order_and_says_which(wh, tmp_path):
    folder = tmp_path / "三月"
    folder.mkdir()
    _xlsx(folder / "2_下旬.xlsx", SECOND)
    _csv(folder / "1_上旬.csv", FIRST)
    (folder / "说明.docx").write_bytes(b"not a ledger")
    (folder / "~$2_下旬.xlsx").write_bytes(b"excel lock file")
    r = _cli(wh, folder)
    assert r.exit_code == 0, r.output
    assert "按文件名顺序导入 2 个文件: 1_上旬.csv, 2_下旬.xlsx" in r.output
    assert f"{folder / '1_上旬.csv'}: 读入 3 行 — 新增 2, 更新 0, 重复 1, 拒收 0" in r.output
    assert f"{folder / '2_下旬.xlsx'}: 读入 4 行 — 新增 1, 更新 1, 重复 1, 拒收 1" in r.output
    assert "合计 2 个文件: 读入 7 行 — 新增 3, 更新 1, 重复 2, 拒收 1" in r.output
    assert "rejected --batch 2" in r.output  # the rejects of the second file, by its own batch


def test_a_file_named_twice_is_loaded_once_and_text_ledgers_count(wh, tmp_path):
    folder = tmp_path / "四月"
    folder.mkdir()
    first = _csv(folder / "1_上旬.csv", FIRST)
    (folder / "2_中旬.txt").write_bytes((folder / "1_上旬.csv").read_bytes())  # a .txt export loads as a single file does
    r = _cli(wh, folder, first)
    assert r.exit_code == 0, r.output
    assert "按文件名顺序导入 2 个文件: 1_上旬.csv, 2_中旬.txt" in r.output
    assert "不再重复导入" in r.output
    assert "合计 2 个文件: 读入 6 行" in r.output


def test_an_empty_folder_is_a_chinese_message(wh, tmp_path):
    (tmp_path / "空").mkdir()
    r = _cli(wh, tmp_path / "空")
    assert r.exit_code == 2 and "没有可导入的台账文件" in r.output and "Traceback" not in r.output


def test_a_file_that_cannot_be_loaded_refuses_them_all(wh, tmp_path):
    before = (table_rows(wh), wh.read_bytes())
    good = _csv(tmp_path / "a.csv", FIRST)
    empty = tmp_path / "b.csv"
    empty.write_bytes(b"")  # read inside the transaction, after a.csv was loaded into the copy
    wrong = tmp_path / "c.csv"
    wrong.write_text("户主,人口\n张三,3\n", encoding="utf-8")  # a households-like file given as cases
    old = tmp_path / "d.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    for bad, says in ((empty, "文件是空的"), (wrong, "缺少必填字段"), (old, "另存为 .xlsx")):
        r = _cli(wh, good, bad)
        assert r.exit_code == 2, r.output
        assert str(bad) in r.output and says in r.output and "均未导入" in r.output, r.output
        assert (table_rows(wh), wh.read_bytes()) == before
    assert not [e for e in store.audit_entries(wh) if e["action"] == "load"]


def test_the_files_are_written_in_one_copy_and_one_swap(wh, tmp_path, monkeypatch):
    import etl.db
    from etl.load import load_files

    opened = []
    real = etl.db.writing

    def counting(*args, **kwargs):
        opened.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(etl.db, "writing", counting)
    results = load_files(wh, "cases", [_csv(tmp_path / "a.csv", FIRST), _csv(tmp_path / "b.csv", SECOND)])
    assert len(opened) == 1
    assert [r.batch_id for r in results] == [1, 2] and [r.file for r in results] == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]


def test_repeat_visits_across_the_files_count_as_after_separate_loads(wh, tmp_path):
    """The history (重复访) is rebuilt once after the last file, from every file's cases, and the
    JSON gives each file's own profile: wall and CPU seconds per step."""
    header = ["受理编号", "受理时间", "诉求来源", "问题类别", "诉求内容", "所属乡镇", "所属村(社区)", "办理状态", "反映人", "联系电话"]
    first = [["R1", "2025-03-01 09:00", "12345", "道路", "路灯不亮", "老城街道", "西大街社区", "受理", "张三", "13800138000"]]
    second = [["R2", "2025-03-20 09:00", "来信", "道路", "路灯还是不亮", "老城街道", "西大街社区", "受理", "张三", "13800138000"]]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for path, rows in ((a, first), (b, second)):
        path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    one_by_one = _loaded_one_by_one(wh, tmp_path, a, b)
    r = _cli(wh, "--json", a, b)
    assert r.exit_code == 0, r.output

    def history(db):
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("SELECT case_id, days_since_same, days_since_other_channel FROM case_history").fetchall()

    assert history(wh) == history(one_by_one) == [("R2", 19, 19)]
    files = json.loads(r.stdout)["files"]
    steps = ["read", "stage", "place", "merge", "rejects"]
    assert [list(f["seconds"]) for f in files] == [steps, [*steps, "views"]]  # the views once, after the last file
    assert all(list(f["cpu_seconds"]) == list(f["seconds"]) for f in files)
    assert all(v >= 0 for f in files for v in [*f["seconds"].values(), *f["cpu_seconds"].values()])
