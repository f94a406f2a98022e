"""Shared fixtures: one small demo warehouse per test session (fixed seed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.demo import build_demo

SEED = 7
SCALE = 0.05


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("demo")
    build_demo(d / "demo.duckdb", seed=SEED, scale=SCALE, as_of="2026-10-31")
    return d


@pytest.fixture
def wh(tmp_path) -> Path:
    """An empty warehouse of 汉滨区 (610902), made by `minqing init` as a user would."""
    from click.testing import CliRunner

    from cli import main

    db = tmp_path / "w.duckdb"
    result = CliRunner().invoke(main, ["--db", str(db), "init", "--district", "610902"])
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture(scope="session")
def demo_db(demo_dir) -> Path:
    return demo_dir / "demo.duckdb"


@pytest.fixture(scope="session")
def demo_truth(demo_dir) -> dict:
    return json.loads((demo_dir / "demo_truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def con(demo_db):
    """One read-only connection to the small demo, shared by the session (nothing writes it)."""
    from etl.db import connect

    c = connect(demo_db, read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="session")
def full_demo_dir(tmp_path_factory) -> Path:
    """The demo at full size with the default seed (what `make run` builds); ~45 s."""
    from etl import settings

    d = tmp_path_factory.mktemp("full_demo")
    build_demo(d / "demo.duckdb", seed=int(settings.get("demo_seed")), scale=1.0, as_of=str(settings.get("demo_as_of")))
    return d


@pytest.fixture(scope="session")
def full_demo(full_demo_dir):
    from etl.db import connect

    con = connect(full_demo_dir / "demo.duckdb", read_only=True)
    truth = json.loads((full_demo_dir / "demo_truth.json").read_text(encoding="utf-8"))
    yield con, truth
    con.close()


# Tests that need the full-size demo (~45 s to build), a browser or a dask cluster are `slow`:
# `make test-fast` (pytest -m "not slow") leaves them out; `make test` runs everything.
SLOW_FIXTURES = {"full_demo", "full_demo_dir", "app_url", "client"}
SLOW_MODULES = {"test_browser", "test_distributed", "test_bench_region"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


# ---------------------------------------------------------------------------- signed-in pages

from browser import TEST_ACCOUNT  # noqa: E402 - the browser tests sign in with the same account

TEST_PASSWORD = TEST_ACCOUNT[1]


def ensure_account(db, name: str = "tester", role: str = "planner", town: tuple[str, str] | None = None):
    """The account `name` in the store beside `db` (created once, with TEST_PASSWORD)."""
    from access import store

    try:
        return store.get_user(db, name)
    except store.AccessError:
        code, town_name = town or (None, None)
        return store.add_user(db, name, role, TEST_PASSWORD, town_code=code, town_name=town_name, by="tests")


def sign_in_apptest(at, db, name: str = "tester", role: str = "planner", town: tuple[str, str] | None = None):
    """Put the account in the AppTest's session, as the sign-in form would after a right password."""
    from dashboard.session import ACCOUNT_KEY

    at.session_state[ACCOUNT_KEY] = ensure_account(db, name, role, town)
    return at


@pytest.fixture(autouse=True)
def _apptests_signed_in(request, monkeypatch):
    """Every AppTest runs signed in as a planner of the warehouse in MINQING_DB, unless the test
    is marked `signed_out` (the sign-in tests) or puts its own account in the session first."""
    if request.node.get_closest_marker("signed_out"):
        return
    import os

    from streamlit.testing.v1 import AppTest

    from dashboard.session import ACCOUNT_KEY

    original = AppTest.run

    def run(self, *args, **kwargs):
        db = os.environ.get("MINQING_DB")
        if db and ACCOUNT_KEY not in self.session_state and os.path.exists(db):
            sign_in_apptest(self, db)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AppTest, "run", run)


def spy_downloads(monkeypatch) -> dict:
    """Every download button's data (a callable for files built on click), by the button's key,
    as an AppTest run draws them."""
    from streamlit.delta_generator import DeltaGenerator

    seen = {}
    original = DeltaGenerator.download_button

    def spy(self, label, data, file_name=None, *args, **kwargs):
        seen[kwargs.get("key")] = data
        return original(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", spy)
    return seen


def table_rows(db) -> dict[str, int]:
    """Rows of every table of the warehouse file `db`, counted with DuckDB directly (independent of
    etl.migrations.table_counts, which the upgrade and the backups use)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in names}
    finally:
        con.close()
