"""The layers stay apart (import-linter contracts in pyproject.toml): geo imports nothing of the
project, etl (loading) never imports the analyses, outputs, CLI or dashboard, and nothing but
dashboard/ imports streamlit (and of it neither the page list nor dashboard/compute/)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from etl.db import REPO_ROOT

LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_every_layer_contract_is_kept():
    out = _lint(REPO_ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_a_loader_importing_the_analyses_breaks_the_contract(tmp_path):
    # the same contracts over a copy of the project where etl/ reaches into analysis/ and geo/ into etl/
    for pkg in ("etl", "geo", "analysis", "reports", "cli", "dashboard"):
        shutil.copytree(REPO_ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("*.parquet", "static", "__pycache__"))
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "etl" / "zz_bad.py").write_text("from analysis import metrics  # noqa\n")
    (tmp_path / "geo" / "zz_bad.py").write_text("import etl.db  # noqa\n")
    (tmp_path / "analysis" / "zz_bad.py").write_text("import streamlit  # noqa\n")
    (tmp_path / "dashboard" / "compute" / "zz_bad.py").write_text("from dashboard import data  # noqa\n")
    out = _lint(tmp_path)
    assert out.returncode != 0
    text = " ".join(out.stdout.split())
    for contract in ("geo imports nothing of the project BROKEN",
                     "etl (loading) imports neither the analyses, the outputs, the CLI nor the dashboard BROKEN",
                     "only the dashboard imports streamlit BROKEN",
                     "the page list and what pages compute (dashboard.pages, dashboard.compute) do without streamlit BROKEN"):
        assert contract in text, out.stdout
    assert "etl.zz_bad -> analysis.metrics" in out.stdout
