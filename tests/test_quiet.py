"""DuckDB's progress bar never reaches stdout (it would corrupt `--json` output)."""

from __future__ import annotations

import subprocess
import sys

from etl.db import REPO_ROOT

SLOW = "SELECT sum(hash(range)) FROM range(100000000)"


def _stdout(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=300, check=True).stdout


def test_a_slow_query_prints_nothing_on_our_connections_and_cursors():
    code = ("from etl.db import connect, cursor\n"
            "con = connect()\n"
            "for c in (con, cursor(con)):\n"
            "    c.execute('SET progress_bar_time = 0')\n"
            f"    c.execute({SLOW!r}).fetchall()\n")
    assert _stdout(code) == ""


def test_the_same_query_on_a_plain_duckdb_connection_would_print_a_bar():
    # the check above can fail: DuckDB's Python client prints the bar to stdout by default
    code = ("import duckdb\n"
            "con = duckdb.connect()\n"
            "con.execute('SET progress_bar_time = 0')\n"
            f"con.execute({SLOW!r}).fetchall()\n")
    assert "%" in _stdout(code)
