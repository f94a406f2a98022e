"""What a backup folder must be before it is put back, and what a restore keeps: manifests rewritten
consistently (their SHA-256 recomputed) but lying, names outside the folder, unlisted files, malformed
manifests; file errors as Chinese messages; the folder kept of what a restore replaced."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from etl import backup as bk
from etl import migrations
from etl.migrations import Step
from tests.test_backup import office, run  # noqa: F401 (the fixture)


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def made(office, tmp_path) -> Path:  # noqa: F811
    """A backup with an accounts store (the first backup's audit entry makes one)."""
    assert run("--db", office, "backup", "-o", tmp_path / "first").exit_code == 0
    assert Path(str(office) + ".access.sqlite").exists()
    r = run("--db", office, "backup", "-o", tmp_path / "bk")
    assert r.exit_code == 0, r.output
    return tmp_path / "bk"


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _write(folder: Path, m: object) -> None:
    (folder / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")


def _relist(folder: Path, m: dict) -> dict:
    """The manifest with each listed file's size and SHA-256 recomputed: consistent, whatever else it says."""
    for name in m["files"]:
        f = folder / name
        m["files"][name] = {"bytes": f.stat().st_size, "sha256": _sha(f)}
    return m


def _refused(office, folder, *words):  # noqa: F811
    sha = _sha(office)
    r = run("--db", office, "restore", folder, "--force")
    assert r.exit_code == 2, r.output
    assert "拒绝使用此备份" in r.output or "恢复未完成" in r.output, r.output
    assert "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)  # a message, not an exception
    for w in words:
        assert w in r.output, r.output
    assert _sha(office) == sha  # nothing was put back
    return r


def test_a_key_of_another_warehouse_is_refused_even_when_the_manifest_lists_it(office, made):  # noqa: F811
    (made / "minqing.duckdb.key").write_text("ab" * 32 + "\n")
    _write(made, _relist(made, _manifest(made)))
    _refused(office, made, "minqing.duckdb.key", "指纹不符")


@pytest.mark.parametrize("field", ["tables", "access_tables"])
def test_row_counts_off_by_one_are_refused(office, made, field):  # noqa: F811
    m = _manifest(made)
    table = sorted(m[field])[0]
    m[field][table] += 1
    _write(made, m)
    _refused(office, made, "行数与备份清单不符", table)


@pytest.mark.parametrize("bad", ["../minqing.duckdb.key", "/tmp/minqing.duckdb.key", "..", "sub/minqing.duckdb.key"])
def test_names_outside_the_folder_are_refused(office, made, bad):  # noqa: F811
    m = _manifest(made)
    m["files"][bad] = m["files"].pop("minqing.duckdb.key")
    _write(made, m)
    _refused(office, made, "无效")


def test_an_absolute_warehouse_name_is_refused(office, made, tmp_path):  # noqa: F811
    outside = tmp_path / "elsewhere.duckdb"
    shutil.copyfile(made / "minqing.duckdb", outside)
    m = _manifest(made)
    m["warehouse"] = str(outside)
    _write(made, m)
    _refused(office, made, "无效")


def test_an_accounts_store_the_manifest_does_not_list_is_refused_not_restored(office, made):  # noqa: F811
    m = _manifest(made)
    del m["files"]["minqing.duckdb.access.sqlite"]
    m["access_tables"] = {}
    _write(made, m)
    store = Path(str(office) + ".access.sqlite")
    before = _sha(store)
    _refused(office, made, "清单未列出的文件", "minqing.duckdb.access.sqlite")
    assert _sha(store) == before


def test_an_extra_file_in_the_folder_is_refused(office, made):  # noqa: F811
    (made / "notes.txt").write_text("x")
    _refused(office, made, "notes.txt")


@pytest.mark.parametrize("edit", [
    lambda m: m.update(files=list(m["files"])),
    lambda m: m["files"]["minqing.duckdb"].pop("bytes"),
    lambda m: m["files"]["minqing.duckdb"].update(sha256="xyz"),
    lambda m: m.update(format=2),
    lambda m: m.update(tables=[1, 2]),
    lambda m: m.clear(),
])
def test_a_malformed_manifest_is_a_chinese_message(office, made, edit):  # noqa: F811
    m = _manifest(made)
    edit(m)
    _write(made, m)
    _refused(office, made, "备份清单")


def test_a_manifest_that_is_not_an_object_is_refused(office, made):  # noqa: F811
    _write(made, ["files"])
    _refused(office, made, "不是一个 JSON 对象")


def test_the_backup_is_private_and_restore_keeps_what_it_replaced(office, made):  # noqa: F811
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in made.iterdir())
    old = {s: _sha(Path(str(office) + s)) for s in ("", ".key", ".access.sqlite")}
    r = run("--db", office, "restore", made)
    assert r.exit_code == 2
    assert "备份于" in r.output and re.search(r"区划 .*\d{6}", r.output), r.output  # which district, which day
    r = run("--db", office, "restore", made, "--force")
    assert r.exit_code == 0, r.output
    saved = Path(re.search(r"已保存在 (\S+)", r.output).group(1))
    assert saved.name.startswith("minqing.duckdb.before-restore-") and saved.parent == office.parent
    assert stat.S_IMODE(saved.stat().st_mode) == 0o700
    assert {f.name: _sha(f) for f in saved.iterdir() if not f.name.endswith(".access.sqlite")} == {
        "minqing.duckdb": old[""], "minqing.duckdb.key": old[".key"]}
    for f in [*saved.iterdir(), *(Path(str(office) + s) for s in ("", ".key", ".access.sqlite"))]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_restore_writes_the_store_into_the_live_file(office, made):  # noqa: F811
    store = Path(str(office) + ".access.sqlite")
    reader = sqlite3.connect(store)  # the dashboard holds it open
    inode = store.stat().st_ino
    con = sqlite3.connect(store)
    con.execute("DELETE FROM audit_log")
    con.commit()
    con.close()
    assert run("--db", office, "restore", made, "--force").exit_code == 0
    assert store.stat().st_ino == inode  # the same file, not one swapped under the reader
    assert reader.execute("SELECT count(*) FROM audit_log").fetchone()[0] > 0
    reader.close()


def test_backup_into_a_file_path_is_a_chinese_message(office, tmp_path):  # noqa: F811
    (tmp_path / "afile").write_text("x")
    r = run("--db", office, "backup", "-o", tmp_path / "afile" / "x")
    assert r.exit_code == 2 and "备份未完成" in r.output and "afile" in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_a_damaged_accounts_store_stops_the_backup_with_a_message(office, tmp_path):  # noqa: F811
    Path(str(office) + ".access.sqlite").write_bytes(b"not a database" * 100)  # whatever the demo's store held
    r = run("--db", office, "backup", "-o", tmp_path / "bk")
    assert r.exit_code == 2 and "账号库" in r.output and ".access.sqlite" in r.output, r.output
    assert not (tmp_path / "bk").exists()


def test_an_existing_empty_folder_receives_the_backup_in_place(office, tmp_path):  # noqa: F811
    Path(str(office) + ".access.sqlite").unlink(missing_ok=True)  # a warehouse without accounts yet (other tests may have made some)
    mount = tmp_path / "usb"
    mount.mkdir()
    r = run("--db", office, "backup", "-o", mount)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in mount.iterdir()) == ["manifest.json", "minqing.duckdb", "minqing.duckdb.key"]
    bk.verify(mount)


def test_two_backups_into_one_folder_in_the_same_second_get_two_names(office, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(bk, "_stamp", lambda: "minqing-20261130-023000")  # both in the same second
    out, errors = [], []

    def one():
        try:
            out.append(bk.backup_into(office, tmp_path / "daily", keep=5)[0])
        except Exception as e:  # noqa: BLE001 (what the test reports)
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(p.name for p in out) == ["minqing-20261130-023000", "minqing-20261130-023000-2"]


def test_retention_leaves_other_warehouses_backups_and_stale_partials_go(office, tmp_path):  # noqa: F811
    other = tmp_path / "other" / "minqing.duckdb"
    shutil.copytree(office.parent, other.parent)
    parent = tmp_path / "daily"
    assert run("--db", other, "backup", "--into", parent).exit_code == 0
    theirs = [p.name for p in parent.iterdir()]
    stale = parent / ".minqing.999999999.partial"
    stale.mkdir()
    for _ in range(2):
        assert run("--db", office, "backup", "--into", parent, "--keep", "1").exit_code == 0
    names = [p.name for p in parent.iterdir()]
    assert set(theirs) <= set(names) and len(names) == 2 and stale.name not in names


def test_old_backups_stay_when_the_new_one_does_not_verify(office, tmp_path, monkeypatch):  # noqa: F811
    parent = tmp_path / "daily"
    assert run("--db", office, "backup", "--into", parent).exit_code == 0
    first = sorted(parent.iterdir())

    def bad(folder, **kw):
        raise bk.BackupError("模拟的核对失败")

    monkeypatch.setattr(bk, "verify", bad)
    r = run("--db", office, "backup", "--into", parent, "--keep", "1")
    assert r.exit_code == 2 and "较早的备份均未删除" in r.output
    assert set(first) <= set(parent.iterdir())


def test_stale_restore_copies_are_cleaned_up(office, made):  # noqa: F811
    stale = [office.with_name(".minqing.duckdb.999999999.restore"),
             office.with_name(".minqing.duckdb.access.sqlite.999999999.restore")]
    for s in stale:
        s.write_bytes(b"x" * 10)
    assert run("--db", office, "restore", made, "--force").exit_code == 0
    assert not any(s.exists() for s in stale)


def test_restoring_an_older_schema_upgrades_it(office, made, monkeypatch):  # noqa: F811
    def add(con):
        con.execute("ALTER TABLE cases ADD COLUMN restored_test VARCHAR")

    nxt = migrations.latest() + 1  # the backup was made by this code: one step beyond it
    monkeypatch.setattr(migrations, "STEPS", (*migrations.STEPS, Step(nxt, "m9999_restored_test", add)))
    r = run("--db", office, "restore", made, "--force")
    assert r.exit_code == 0, r.output
    assert f"从结构版本 {nxt - 1} 升级到 {nxt}" in r.output


def test_an_accounts_store_of_a_newer_release_is_refused(office, tmp_path):  # noqa: F811
    from access.store import SCHEMA_VERSION

    assert run("--db", office, "backup", "-o", tmp_path / "first").exit_code == 0

    con = sqlite3.connect(Path(str(office) + ".access.sqlite"))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.commit()
    con.close()
    assert run("--db", office, "backup", "-o", tmp_path / "bk").exit_code == 0
    _refused(office, tmp_path / "bk", f"账号库结构版本为 {SCHEMA_VERSION + 1}", "更新版本的民情地图")


def test_backup_without_a_folder_uses_backup_dir_or_says_what_is_missing(office, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MINQING_BACKUP_DIR", "")
    r = run("--db", office, "backup")
    assert r.exit_code == 2 and "backup_dir" in r.output and "MINQING_BACKUP_DIR" in r.output
    monkeypatch.setenv("MINQING_BACKUP_DIR", str(tmp_path / "daily"))
    r = run("--db", office, "backup")
    assert r.exit_code == 0, r.output
    assert [p.name.startswith("minqing-") for p in (tmp_path / "daily").iterdir()] == [True]


def test_the_backup_unit_runs_at_low_priority_into_backup_dir():
    from etl.db import REPO_ROOT

    unit = (REPO_ROOT / "ops" / "minqing-backup.service").read_text(encoding="utf-8")
    assert "Nice=10" in unit and "IOSchedulingClass=idle" in unit and "OnFailure=" in unit
    assert re.search(r"^ExecStart=\S+/minqing backup$", unit, re.M)
