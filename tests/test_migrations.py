"""Schema versions: an older warehouse is upgraded on a copy keeping every row; a newer one is refused."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cli import main
from conftest import table_rows
from etl import migrations
from etl.db import connect
from etl.migrations import SchemaError, Step

NEXT = migrations.latest() + 1  # a test step after this code's real ones


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def office(demo_dir, tmp_path) -> Path:
    db = tmp_path / "minqing.duckdb"
    for suffix in ("", ".key", ".access.sqlite"):
        if (demo_dir / f"demo.duckdb{suffix}").exists():
            shutil.copyfile(demo_dir / f"demo.duckdb{suffix}", Path(str(db) + suffix))
    return db


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _raw(db: Path, sql: str, params=()):
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _add_level(con):  # what a real step looks like: a column with its values derived from stored ones
    con.execute("ALTER TABLE cases ADD COLUMN receive_level_test VARCHAR")
    con.execute("UPDATE cases SET receive_level_test = coalesce(received_level, 'unknown')")


def test_the_first_write_upgrades_an_older_warehouse_keeping_every_row(office, monkeypatch):
    monkeypatch.setattr(migrations, "STEPS", (*migrations.STEPS, Step(NEXT, "m9999_test_level", _add_level),))
    before = table_rows(office)
    r = run("--db", office, "vocab", "map", "--domain", "channel", "12345热线", "群工热线")  # any write
    assert r.exit_code == 0, r.output
    assert _raw(office, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(NEXT),)]
    after = table_rows(office)
    assert after.pop("vocab_map") == before.pop("vocab_map") + 1  # the write itself
    assert {t: after[t] for t in before} == before
    assert _raw(office, "SELECT count(*) FROM cases WHERE receive_level_test IS NULL") == [(0,)]


def test_minqing_upgrade_says_what_it_did_and_is_audited(office, monkeypatch):
    from access import store

    monkeypatch.setattr(migrations, "STEPS", (*migrations.STEPS, Step(NEXT, "m9999_test_level", _add_level),))
    r = run("--db", office, "upgrade")
    assert r.exit_code == 0, r.output
    assert f"从结构版本 {NEXT - 1} 升级到 {NEXT}" in r.output
    assert [e for e in store.audit_entries(office) if e["action"] == "upgrade"]
    r = run("--db", office, "upgrade")
    assert r.exit_code == 0 and "无需升级" in r.output


def test_a_step_that_loses_rows_is_refused_and_the_file_is_untouched(office, monkeypatch):
    monkeypatch.setattr(migrations, "STEPS", (*migrations.STEPS, Step(NEXT, "m9999_bad", lambda con: con.execute("DELETE FROM visits WHERE true")),))
    sha = _sha(office)
    r = run("--db", office, "upgrade")
    assert r.exit_code == 2
    assert "visits" in r.output and "原文件未改动" in r.output
    assert _sha(office) == sha


def test_a_failing_step_leaves_the_warehouse_as_it_was(office, monkeypatch):
    monkeypatch.setattr(migrations, "STEPS", (*migrations.STEPS, Step(NEXT, "m9999_broken", lambda con: con.execute("ALTER TABLE nowhere ADD COLUMN x INT")),))
    sha = _sha(office)
    r = run("--db", office, "upgrade")
    assert r.exit_code == 2 and "m9999_broken" in r.output
    assert _sha(office) == sha


def test_a_newer_warehouse_is_refused_for_reading_and_writing(office):
    newer = migrations.latest() + 1
    _raw(office, "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(newer)])
    sha = _sha(office)
    with pytest.raises(SchemaError, match=f"结构版本为 {newer}.*更新版本的民情地图写成"):
        connect(office, read_only=True)
    for args in (["info"], ["vocab", "map", "--domain", "channel", "12345热线", "群工热线"], ["upgrade"], ["backup", "-o", office.parent / "bk"]):
        r = run("--db", office, *args)
        assert r.exit_code == 2, (args, r.output)
        assert "更新版本的民情地图写成" in r.output and "Traceback" not in r.output
    assert _sha(office) == sha
    r = run("--db", office, "check")
    assert r.exit_code == 1 and "更新版本的民情地图写成" in r.output


def test_a_newer_warehouse_is_explained_on_the_dashboard(office, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from etl.db import REPO_ROOT

    _raw(office, "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(migrations.latest() + 1)])
    monkeypatch.setenv("MINQING_DB", str(office))
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]  # a message, not a traceback
    assert "更新版本的民情地图写成" in " ".join(e.value for e in at.error)


def test_init_writes_the_newest_version_and_steps_have_no_gaps(wh):
    assert _raw(wh, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(migrations.latest()),)]
    with pytest.raises(RuntimeError, match="without gaps"):
        migrations.check_steps([Step(3, "m0003_x", lambda con: None)])
    assert [s.version for s in migrations.discover()] == list(range(2, migrations.latest() + 1))


def test_serve_upgrades_an_older_warehouse_before_the_dashboard_starts(office, monkeypatch):
    import os

    monkeypatch.setattr(migrations, "STEPS", (*migrations.STEPS, Step(NEXT, "m9999_test_level", _add_level),))
    started = []
    monkeypatch.setattr(os, "execvpe", lambda *args: started.append(args))  # not the real server
    monkeypatch.chdir(os.getcwd())  # serve moves to the repository; back afterwards
    r = run("--db", office, "serve", "--port", "8777")
    assert r.exit_code == 0, r.output
    assert f"从结构版本 {NEXT - 1} 升级到 {NEXT}" in r.output
    assert _raw(office, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(NEXT),)]
    assert started and "streamlit" in started[0][1]
