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
