"""A kind of ledger is one declaration (etl/kinds.py): its staging SQL, its table, its docs and
the CLI's choices all follow it."""

from __future__ import annotations

import re

from click.testing import CliRunner

from cli import main
from etl.db import REPO_ROOT, SQL_DIR, connect, run_sql_file
from etl.kinds import KINDS


def test_every_kind_has_its_staging_sql_its_table_and_its_docs():
    con = connect()
    run_sql_file(con, "schema")
    docs = (REPO_ROOT / "docs" / "warehouse.md").read_text(encoding="utf-8")
    for spec in KINDS.values():
        sql = (SQL_DIR / f"{spec.staging}.sql").read_text(encoding="utf-8")
        assert f"TEMP TABLE {spec.staging} AS" in sql
        cols = {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [spec.table]).fetchall()}
        assert {spec.key, "batch_id", *(spec.content or ())} <= cols, spec.name
        assert re.search(rf"^## {spec.table}$", docs, re.M), spec.name
        assert ("area_code" in cols) == spec.placed, spec.name  # placement writes the area


def test_the_cli_offers_exactly_the_declared_kinds_with_their_chinese_names():
    for command in ("load", "template"):
        out = CliRunner().invoke(main, [command, "--help"]).output
        assert "{" + "|".join(KINDS) + "}" in "".join(out.split())
        for spec in KINDS.values():
            assert re.search(rf"{spec.name}\s+{re.escape(spec.label)}", out)
    r = CliRunner().invoke(main, ["template", "roads", "-o", "x.xlsx"])
    assert r.exit_code == 2 and "roads" in r.output
