"""docs/warehouse.md documents exactly the tables and columns the schema creates."""

from __future__ import annotations

import re

from etl.db import REPO_ROOT, connect, run_sql_file

DOC = REPO_ROOT / "docs" / "warehouse.md"


def _documented() -> dict[str, list[tuple[str, str]]]:
    tables: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^## (\w+)\s*$", line)
        if m:
            current = m.group(1)
            tables[current] = []
            continue
        m = re.match(r"^\| (\w+) \| ([A-Z]+) \|", line)
        if current and m:
            tables[current].append((m.group(1), m.group(2)))
    return tables


def _schema() -> dict[str, list[tuple[str, str]]]:
    con = connect()
    run_sql_file(con, "schema")
    rows = con.execute("""SELECT table_name, column_name, data_type FROM duckdb_columns()
                          WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
                          ORDER BY table_name, column_index""").fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for t, c, ty in rows:
        out.setdefault(t, []).append((c, ty.split("(")[0]))
    return out


def test_every_table_is_documented_and_nothing_else():
    assert set(_documented()) == set(_schema())


def test_every_column_is_documented_in_order_with_its_type():
    doc, schema = _documented(), _schema()
    for table, cols in schema.items():
        assert doc[table] == cols, f"docs/warehouse.md is out of step for table {table}"
