"""A warehouse written by the last release, upgraded by this code: every row kept, every page opens.

The old warehouse is built by the old code itself: the release's commit (etl/migrations/releases.toml,
so a clone without tags works) is exported with `git archive` and run with its own modules first on
the path. Without that commit in the git history the test fails (it is never skipped).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from cli import main
from conftest import table_rows
from dashboard import pages
from etl import migrations
from etl.db import REPO_ROOT
from etl.migrations import Step

RELEASES = tomllib.loads((REPO_ROOT / "etl" / "migrations" / "releases.toml").read_text(encoding="utf-8"))["releases"]
LAST = max(RELEASES, key=lambda tag: tuple(int(x) for x in tag.lstrip("v").split(".")))


def _old_tree(dest: Path) -> Path:
    sha = RELEASES[LAST]["commit"]
    have = subprocess.run(["git", "-C", str(REPO_ROOT), "cat-file", "-e", f"{sha}^{{commit}}"], capture_output=True)
    if have.returncode != 0:
        pytest.fail(f"release {LAST} (commit {sha}) is not in this clone's git history, so the upgrade from it "
                    f"cannot be tested: fetch it (git fetch --unshallow, or git fetch origin {sha})")
    tar = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", "--format=tar", sha], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(dest, filter="data")
    return dest


def _old_env(old: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINQING_")}
    env["PYTHONPATH"] = str(old)
    return env


@pytest.fixture(scope="module")
def old_warehouse(tmp_path_factory) -> Path:
    """A small demo warehouse (all kinds of ledgers, accounts) made by the last release's code."""
    old = _old_tree(tmp_path_factory.mktemp("old_release"))
    env = _old_env(old)
    probe = subprocess.run([sys.executable, "-c", "import cli, etl; print(etl.__file__)"], cwd=old, env=env,
                           capture_output=True, text=True, check=True)
    assert Path(probe.stdout.strip()).resolve().is_relative_to(old.resolve()), probe.stdout  # the old modules
    db = tmp_path_factory.mktemp("old_wh") / "minqing.duckdb"
    r = subprocess.run([sys.executable, "-m", "cli", "--db", str(db), "demo", "--scale", "0.02", "--seed", "7"],
                       cwd=old, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return db


def _copy(db: Path, dest: Path) -> Path:
    dest.mkdir()
    for f in db.parent.iterdir():
        if f.name.startswith(db.name) and f.is_file() and not f.name.endswith(".lock"):
            shutil.copyfile(f, dest / f.name)
    return dest / db.name


def _version(db: Path) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    finally:
        con.close()


def _touch_cases(con):  # one more step beyond this code's own, so that the path is taken even with none
    con.execute("ALTER TABLE cases ADD COLUMN upgrade_test VARCHAR DEFAULT 'x'")


# "this code's steps" upgrades the last release's version to this code's (v0.1.0's 1 to 2 and on:
# m0002 adds cases.content_md5); the second case adds a step beyond this code's own.
@pytest.mark.parametrize("extra", [False, True], ids=["this code's steps", "with a further step"])
def test_the_last_releases_warehouse_upgrades_keeping_every_row(old_warehouse, tmp_path, monkeypatch, extra):
    db = _copy(old_warehouse, tmp_path / "wh")
    assert _version(db) == str(RELEASES[LAST]["schema_version"])
    steps = migrations.STEPS
    if extra:
        steps = (*steps, Step(migrations.latest() + 1, "m9999_test", _touch_cases))
        monkeypatch.setattr(migrations, "STEPS", steps)
    before = table_rows(db)
    assert before["cases"] > 0 and before["households"] > 0 and before["visits"] > 0
    r = CliRunner().invoke(main, ["--db", str(db), "upgrade"])
    assert r.exit_code == 0, r.output
    assert _version(db) == str(migrations.latest(steps))
    after = table_rows(db)
    assert {t: after.get(t) for t in before} == before
    if not extra:
        r = CliRunner().invoke(main, ["--db", str(db), "check"])
        assert r.exit_code == 0, r.output


@pytest.fixture(scope="module")
def upgraded(old_warehouse, tmp_path_factory) -> Path:
    db = _copy(old_warehouse, tmp_path_factory.mktemp("upgraded") / "wh")
    r = CliRunner().invoke(main, ["--db", str(db), "upgrade"])
    assert r.exit_code == 0, r.output
    return db


@pytest.mark.parametrize("page", [p.file for p in pages.PAGES])
def test_every_page_opens_on_the_upgraded_warehouse(upgraded, monkeypatch, page):
    monkeypatch.setenv("MINQING_DB", str(upgraded))
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app.py"), default_timeout=120)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("演示数据" in w.value for w in at.warning)
