"""The rejected rows of a load as a table people fix and reload: line, field, reason and the
original row (personal values already masked when they were stored), with Chinese headers.
Used by `minqing rejected` and the dashboard's 数据导入 page."""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from etl.kinds import KINDS

COLUMNS = ["行号", "字段", "原因", "原因代码"]


def latest_batch(con: duckdb.DuckDBPyConnection) -> int | None:
    """The newest load that rejected rows; None when no load rejected any."""
    row = con.execute("SELECT max(batch_id) FROM load_batches WHERE rejected > 0").fetchone()
    return row[0] if row else None


def batch_exists(con: duckdb.DuckDBPyConnection, batch_id: int) -> bool:
    return con.execute("SELECT count(*) FROM load_batches WHERE batch_id = ?", [batch_id]).fetchone()[0] > 0


def rejected_frame(con: duckdb.DuckDBPyConnection, batch_id: int) -> pd.DataFrame:
    """One row per rejected row of the load `batch_id`, by line: 行号, 字段 (the field's Chinese
    label), 原因 (the loader's message), 原因代码, then the row's own columns as the file had them."""
    kind = con.execute("SELECT kind FROM load_batches WHERE batch_id = ?", [batch_id]).fetchone()
    spec = KINDS.get(kind[0]) if kind else None
    rows = con.execute("""SELECT line_no, field, message, reason, raw FROM rejected_rows
                          WHERE batch_id = ? ORDER BY line_no""", [batch_id]).fetchall()
    labels = {f.name: f.label for f in spec.fields} if spec else {}
    labels["geometry"] = "几何图形"
    records = []
    for line, field, message, reason, raw in rows:
        rec = {"行号": line, "字段": labels.get(field, field) if field else "", "原因": message, "原因代码": reason}
        for k, v in json.loads(raw).items():
            rec.setdefault(k if k not in COLUMNS else f"{k} (原文)", v)
        records.append(rec)
    return pd.DataFrame(records, columns=None if records else COLUMNS)
