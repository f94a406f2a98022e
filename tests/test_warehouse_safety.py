"""The warehouse's own safety: its key is replaced only together with it, symlinks are written
through, and the warehouse, its key and its lock are readable by their owner only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cli import main
from etl.db import REPO_ROOT, Busy, connect, writing

HEADER = "受理编号,受理时间,诉求来源,问题类别,诉求内容,所属乡镇,所属村(社区),反映人,联系电话,办理状态"
ROWS = ["S001,2025-03-05 14:30,12345,物业,物业乱收费,老城街道,西大街社区,张三丰,13812345678,受理",
        "S002,2025-03-06,来信,道路,修路,五里镇,,李四,13900001111,受理"]


def _csv(path, rows=ROWS):
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _key_file(db):
    return db.with_name(db.name + ".key")


def _fingerprint_in(db) -> str:
    with connect(db, read_only=True) as con:
        return con.execute("SELECT value FROM meta WHERE key = 'key_fingerprint'").fetchone()[0]


def _fingerprint_of_file(path) -> str:
    import hashlib

    # the documented rule, written out independently of etl.keys
    return hashlib.sha256(("fingerprint:" + path.read_text().strip()).encode()).hexdigest()[:16]


def _cases(db) -> list[str]:
    with connect(db, read_only=True) as con:
        return [r[0] for r in con.execute("SELECT case_id FROM cases ORDER BY 1").fetchall()]


def _loads_cases(db, tmp_path, rows=ROWS):
    r = _cli("--db", db, "load", "cases", _csv(tmp_path / "c.csv", rows))
    assert r.exit_code == 0, r.output
    assert "密钥" not in r.output


def test_a_refused_init_keeps_the_old_key_with_the_old_warehouse(wh, tmp_path):
    key_before = _key_file(wh).read_bytes()
    created = _fingerprint_in(wh)
    with writing(wh):  # another writer holds the lock
        r = _cli("--db", wh, "init", "--district", "610902", "--force")
    assert r.exit_code != 0
    assert "另一个进程正在写入" in r.output
    assert _key_file(wh).read_bytes() == key_before
    assert _fingerprint_in(wh) == created == _fingerprint_of_file(_key_file(wh))
    _loads_cases(wh, tmp_path)
    assert _cases(wh) == ["S001", "S002"]


def test_a_failing_init_keeps_the_old_key_and_warehouse(wh, tmp_path, monkeypatch):
    import etl.warehouse

    _loads_cases(wh, tmp_path, ROWS[:1])
    key_before = _key_file(wh).read_bytes()

    def boom(*a, **k):
        raise RuntimeError("init failed part way")
    monkeypatch.setattr(etl.warehouse, "init_warehouse", boom)
    r = _cli("--db", wh, "init", "--district", "610902", "--force")
    assert r.exit_code != 0 and isinstance(r.exception, RuntimeError)
    assert _key_file(wh).read_bytes() == key_before
    assert _fingerprint_in(wh) == _fingerprint_of_file(_key_file(wh))
    assert _cases(wh) == ["S001"]  # the old warehouse, not an empty one
    monkeypatch.undo()
    _loads_cases(wh, tmp_path)
    assert _cases(wh) == ["S001", "S002"]
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith((".new", ".tmp"))]


def test_init_force_replaces_warehouse_and_key_together(wh, tmp_path):
    _loads_cases(wh, tmp_path, ROWS[:1])
    key_before = _key_file(wh).read_bytes()
    r = _cli("--db", wh, "init", "--district", "610902", "--force")
    assert r.exit_code == 0, r.output
    assert _key_file(wh).read_bytes() != key_before
    assert _cases(wh) == []
    assert _fingerprint_in(wh) == _fingerprint_of_file(_key_file(wh))
    _loads_cases(wh, tmp_path)


def test_a_symlinked_warehouse_is_written_through_and_stays_a_link(wh, tmp_path):
    link = tmp_path / "link" / "minqing.duckdb"
    link.parent.mkdir()
    link.symlink_to(wh)
    _loads_cases(link, tmp_path)
    assert link.is_symlink() and os.readlink(link) == str(wh)
    assert _cases(wh) == ["S001", "S002"]
    assert not (link.parent / "minqing.duckdb.key").exists()  # the key stays beside the real file
    # re-created through the link: the real file and its key are replaced, the link kept
    r = _cli("--db", link, "init", "--district", "610902", "--force")
    assert r.exit_code == 0, r.output
    assert link.is_symlink() and _cases(wh) == []
    assert _fingerprint_in(wh) == _fingerprint_of_file(_key_file(wh))


@pytest.mark.parametrize("holder, second", [("link", "real"), ("real", "link")])
def test_writers_through_a_link_and_the_real_path_exclude_each_other(wh, tmp_path, holder, second):
    link = tmp_path / "link.duckdb"
    link.symlink_to(wh)
    names = {"link": link, "real": wh}
    with writing(names[holder]) as con:
        con.execute("INSERT INTO meta VALUES ('first', 'writer')")
        with pytest.raises(Busy, match="另一个进程正在写入"):
            with writing(names[second]) as other:
                other.execute("INSERT INTO meta VALUES ('second', 'writer')")
    with connect(wh, read_only=True) as con:
        assert dict(con.execute("SELECT key, value FROM meta WHERE value = 'writer'").fetchall()) == {"first": "writer"}
    assert link.is_symlink()


@pytest.fixture
def open_umask():
    old = os.umask(0o002)  # as permissive as a shared machine might be: the modes must not come from it
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_warehouse_key_and_lock_are_readable_by_their_owner_only(tmp_path, open_umask):
    db = tmp_path / "w.duckdb"
    r = _cli("--db", db, "init", "--district", "610902")
    assert r.exit_code == 0, r.output
    files = [db, _key_file(db), db.with_name(db.name + ".lock")]
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    _loads_cases(db, tmp_path)
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert _cases(db) == ["S001", "S002"]


def test_an_older_warehouse_readable_by_all_is_made_private_by_the_next_load(wh, tmp_path):
    for p in (wh, wh.with_name(wh.name + ".lock")):
        p.chmod(0o644)
    _loads_cases(wh, tmp_path)
    assert _mode(wh) == 0o600 and _mode(wh.with_name(wh.name + ".lock")) == 0o600


def test_a_kill_between_the_warehouse_swap_and_the_key_swap_is_mended_on_the_next_load(wh, tmp_path):
    _loads_cases(wh, tmp_path, ROWS[:1])
    # `init --force` in a process that dies right after swapping in the new warehouse, before its key
    code = f"""
import os, sys
import etl.keys
etl.keys._install = lambda *a, **k: os._exit(9)
from cli import main
main(["--db", {str(wh)!r}, "init", "--district", "610902", "--force"])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert out.returncode == 9, out.stderr
    assert _cases(wh) == []  # the new warehouse is in place...
    assert _fingerprint_in(wh) != _fingerprint_of_file(_key_file(wh))  # ...but not yet its key
    _loads_cases(wh, tmp_path)  # the next load finds the key that belongs to the warehouse
    assert _cases(wh) == ["S001", "S002"]
    assert _fingerprint_in(wh) == _fingerprint_of_file(_key_file(wh))
    assert _mode(_key_file(wh)) == 0o600
    assert not _key_file(wh).with_name(_key_file(wh).name + ".new").exists()


def test_a_kill_before_the_warehouse_swap_leaves_the_old_pair(wh, tmp_path):
    _loads_cases(wh, tmp_path, ROWS[:1])
    key_before = _key_file(wh).read_bytes()
    code = f"""
import os
import etl.warehouse
etl.warehouse.init_warehouse = lambda *a, **k: os._exit(9)
from cli import main
main(["--db", {str(wh)!r}, "init", "--district", "610902", "--force"])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert out.returncode == 9, out.stderr
    assert _key_file(wh).read_bytes() == key_before and _cases(wh) == ["S001"]
    _loads_cases(wh, tmp_path)
    assert _cases(wh) == ["S001", "S002"]
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # the dead writer's copy is cleared
