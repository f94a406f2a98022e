"""The spatial extension comes from its PyPI package, with no network; writes are atomic."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from etl import db


def test_extension_file_matches_duckdb_version():
    path = db.spatial_extension_path()
    assert path.exists()
    assert f"v{duckdb.__version__}" in str(path)


def test_spatial_loads_without_network_into_an_empty_extension_directory(tmp_path):
    # A fresh process whose extension directory is empty and whose autoinstall is off:
    # only the file shipped by duckdb-extension-spatial can make ST_ functions work.
    code = f"""
import duckdb
from etl import db
con = duckdb.connect(config={{"extension_directory": {str(tmp_path / 'ext')!r},
                             "autoinstall_known_extensions": False, "autoload_known_extensions": False}})
db.load_spatial(con)
print(con.execute("SELECT ST_Area(ST_GeomFromText('POLYGON((0 0,2 0,2 3,0 3,0 0))'))").fetchone()[0])
"""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "no_proxy": "*", "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=db.REPO_ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "6.0"


def test_writing_leaves_the_original_untouched_on_error(tmp_path):
    path = tmp_path / "w.duckdb"
    with db.writing(path, fresh=True) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    with pytest.raises(RuntimeError):
        with db.writing(path) as con:
            con.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError("boom")
    c = db.connect(path, read_only=True)
    assert c.execute("SELECT list(x) FROM t").fetchone()[0] == [1]
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temporary copy left behind


def test_a_reader_keeps_working_while_a_write_is_swapped_in(tmp_path):
    path = tmp_path / "w.duckdb"
    with db.writing(path, fresh=True) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    reader = db.connect(path, read_only=True)
    with db.writing(path) as con:
        con.execute("INSERT INTO t VALUES (2)")
    assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 1  # still its own snapshot
    reader.close()
    assert db.connect(path, read_only=True).execute("SELECT count(*) FROM t").fetchone()[0] == 2


def test_spatial_loads_for_a_service_without_home(tmp_path):
    code = "from etl import db; print(db.connect().execute('SELECT ST_X(ST_Point(3, 4))').fetchone()[0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin"}, cwd=db.REPO_ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3.0"


def test_a_second_writer_is_refused_while_the_first_writes(tmp_path):
    path = tmp_path / "w.duckdb"
    with db.writing(path, fresh=True) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    with db.writing(path) as con:
        con.execute("INSERT INTO t VALUES (2)")
        code = f"from etl import db\nwith db.writing({str(path)!r}) as c:\n    c.execute('INSERT INTO t VALUES (3)')\n"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=db.REPO_ROOT, timeout=120)
        assert out.returncode != 0 and "另一个进程正在写入" in out.stderr
    assert db.connect(path, read_only=True).execute("SELECT list(x ORDER BY x) FROM t").fetchone()[0] == [1, 2]


def test_a_write_larger_than_the_memory_cap_spills_and_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_WRITE_MEMORY_LIMIT", "100MB")
    path = tmp_path / "w.duckdb"
    with db.writing(path, fresh=True) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] in ("95.3 MiB", "100.0 MB")
        # about 400 MB of strings sorted: more than the cap, so DuckDB has to spill to disk
        con.execute("CREATE TABLE t AS SELECT i, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) AS s FROM range(4000000) r(i) ORDER BY s")
    c = db.connect(path, read_only=True)
    assert c.execute("SELECT count(*), count(DISTINCT i) FROM t").fetchone() == (4000000, 4000000)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".lock") == ["w.duckdb"]  # no copy, WAL or spill folder


def test_a_bad_memory_cap_is_a_usage_error_naming_the_setting(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli import main

    monkeypatch.setenv("MINQING_WRITE_MEMORY_LIMIT", "lots")
    out = CliRunner().invoke(main, ["--db", str(tmp_path / "w.duckdb"), "init", "--district", "610902"])
    assert out.exit_code == 2, out.output
    assert "MINQING_WRITE_MEMORY_LIMIT='lots'" in out.output and "Traceback" not in out.output
    assert not (tmp_path / "w.duckdb").exists()
