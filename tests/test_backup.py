"""Backups, restores and checks of a warehouse, as an administrator runs them from the command line."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cli import main
from etl.db import connect, writer_lock


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def office(demo_dir, tmp_path) -> Path:
    """A private copy of the small demo (warehouse, key and accounts store) that tests may change."""
    db = tmp_path / "office" / "minqing.duckdb"
    db.parent.mkdir()
    for suffix in ("", ".key", ".access.sqlite"):
        src = demo_dir / f"demo.duckdb{suffix}"
        if src.exists():
            shutil.copyfile(src, Path(str(db) + suffix))
    return db


def snapshot(db: Path) -> dict[str, list]:
    """Every row of every table and view, geometry as WKB text, sorted: what any query could see."""
    con = connect(db, read_only=True)
    try:
        out = {}
        names = con.execute("""SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'
                               UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal""").fetchall()
        for (name,) in names:
            cols = con.execute(f'DESCRIBE "{name}"').fetchall()
            sel = ", ".join(f'ST_AsHEXWKB("{c}")' if t == "GEOMETRY" else f'"{c}"' for c, t, *_ in cols)
            out[name] = sorted(con.execute(f'SELECT {sel} FROM "{name}"').fetchall(), key=repr)
        return out
    finally:
        con.close()


def test_backup_delete_restore_gives_identical_query_results(office, tmp_path):
    before = snapshot(office)
    assert before["cases"] and before["households"] and before["areas"]
    reader = connect(office, read_only=True)  # the dashboard keeps reading during the backup
    r = run("--db", office, "backup", "-o", tmp_path / "bk")
    assert r.exit_code == 0, r.output
    assert reader.execute("SELECT count(*) FROM cases").fetchone()[0] == len(before["cases"])
    reader.close()
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"]["cases"] == len(before["cases"])
    for name, spec in manifest["files"].items():  # an independent SHA-256 of each file
        assert hashlib.sha256((tmp_path / "bk" / name).read_bytes()).hexdigest() == spec["sha256"]
    key = Path(str(office) + ".key").read_text()
    for suffix in ("", ".key", ".access.sqlite"):
        Path(str(office) + suffix).unlink()
    r = run("--db", office, "restore", tmp_path / "bk")
    assert r.exit_code == 0, r.output
    assert snapshot(office) == before
    assert Path(str(office) + ".key").read_text() == key
    assert run("--db", office, "check").exit_code == 0
    assert [e for e in _audit(office) if e["action"] == "restore"]  # the restore is in the audit log


def _audit(db):
    from access import store

    return store.audit_entries(db)


def test_restore_over_an_existing_warehouse_needs_force(office, tmp_path):
    assert run("--db", office, "backup", "-o", tmp_path / "bk").exit_code == 0
    r = run("--db", office, "restore", tmp_path / "bk")
    assert r.exit_code == 2 and "--force" in r.output
    assert run("--db", office, "restore", tmp_path / "bk", "--force").exit_code == 0


@pytest.mark.parametrize("target", ["minqing.duckdb", "minqing.duckdb.key", "manifest.json"])
def test_a_corrupted_backup_is_refused_naming_the_file(office, tmp_path, target):
    assert run("--db", office, "backup", "-o", tmp_path / "bk").exit_code == 0
    f = tmp_path / "bk" / target
    data = bytearray(f.read_bytes())
    i = len(data) // 2 if target != "manifest.json" else data.index(b'"sha256": "') + 12
    data[i] ^= 0x01  # one flipped bit
    f.write_bytes(bytes(data))
    sha_before = hashlib.sha256(office.read_bytes()).hexdigest()
    r = run("--db", office, "restore", tmp_path / "bk", "--force")
    assert r.exit_code == 2
    assert "拒绝使用此备份" in r.output and (target in r.output or "minqing.duckdb" in r.output)
    assert hashlib.sha256(office.read_bytes()).hexdigest() == sha_before  # nothing was put back


def test_backup_refuses_while_a_load_holds_the_lock_then_succeeds_once_it_ends(office, tmp_path):
    with writer_lock(office.resolve()):
        r = run("--db", office, "backup", "-o", tmp_path / "bk", "--wait", "0.3")
    assert r.exit_code == 2
    assert "备份未完成" in r.output and "另一个进程正在写入" in r.output
    assert not (tmp_path / "bk").exists() and not list(tmp_path.glob(".bk.*"))  # nothing half-written

    held = threading.Event()
    release = threading.Event()

    def loader():
        with writer_lock(office.resolve()):
            held.set()
            release.wait(30)

    t = threading.Thread(target=loader)
    t.start()
    held.wait(30)
    threading.Timer(0.5, release.set).start()  # the load ends while the backup waits
    r = run("--db", office, "backup", "-o", tmp_path / "bk", "--wait", "60")
    t.join()
    assert r.exit_code == 0, r.output
    assert (tmp_path / "bk" / "manifest.json").exists()


def test_backup_into_keeps_the_newest_backups_only(office, tmp_path):
    parent = tmp_path / "daily"
    parent.mkdir()
    (parent / "notes.txt").write_text("not a backup")  # other things in the folder are left alone
    made = []
    for _ in range(3):
        r = run("--db", office, "backup", "--into", parent, "--keep", "2")
        assert r.exit_code == 0, r.output
        made.append(re.search(r"已备份到 (\S+):", r.output).group(1))
    kept = sorted(p.name for p in parent.iterdir())
    assert kept == sorted([Path(made[1]).name, Path(made[2]).name, "notes.txt"])


def test_check_passes_on_a_whole_warehouse(office):
    r = run("--db", office, "check")
    assert r.exit_code == 0, r.output
    assert "检查通过" in r.output


def _edit(db: Path, sql: str) -> None:
    con = duckdb.connect(str(db))
    con.execute(sql)
    con.close()


def test_check_finds_a_missing_table(office):
    _edit(office, "DROP TABLE visits")
    r = run("--db", office, "check")
    assert r.exit_code == 1
    assert "缺少表或视图 visits" in r.output


def test_check_finds_lost_rows(office):
    _edit(office, "DELETE FROM cases WHERE case_id IN (SELECT case_id FROM cases LIMIT 3)")
    r = run("--db", office, "check")
    assert r.exit_code == 1
    assert re.search(r"表 cases 有 \d+ 行, 而各批导入共新增 \d+ 行", r.output)


def test_check_finds_a_wrong_key(office, tmp_path):
    Path(str(office) + ".key").write_text("0" * 64 + "\n")
    r = run("--db", office, "check")
    assert r.exit_code == 1
    assert "不属于数据仓库" in r.output


def test_backup_refuses_a_warehouse_without_its_key(office, tmp_path):
    Path(str(office) + ".key").unlink()
    r = run("--db", office, "backup", "-o", tmp_path / "bk")
    assert r.exit_code == 2 and "找不到密钥文件" in r.output
    assert not (tmp_path / "bk").exists()


@pytest.mark.parametrize("command", ["backup", "restore", "check", "upgrade"])
def test_help_is_in_chinese(command):
    r = run(command, "--help")
    assert r.exit_code == 0
    doc = r.output.split("Options:")[0]
    assert len(re.findall(r"[\u4e00-\u9fff]", doc)) >= 10, doc
