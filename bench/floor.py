"""The floor under a load: the least any loader of this file into this warehouse must do on this
machine, with no checks at all. It reads and decodes the GB18030 export (pyarrow, all cores) and
inserts its rows, cast to their types, into a table shaped exactly like the warehouse's `cases`
(same columns, types and key) in a new DuckDB file, then checkpoints it.

`minqing load` does this plus what makes the data trustworthy: every date format offices write,
masking personal data in free text, keyed hashes, placement (datum, point in polygon, names and
codes), fingerprints and outcomes against what is stored, case events, rejected rows and the
history table. The floor says how much of a load's time no loader can avoid here, so a missed
rows/s target can be read against it (README "Speed").
"""

from __future__ import annotations

import os
import tempfile
import time

# the export's headers -> the cases columns they fill; a cast where the column is not text
COLUMNS = {
    "case_id": "受理编号", "received_at": "TRY_CAST(受理时间 AS TIMESTAMP)", "channel": "诉求来源",
    "category": "问题类别", "status": "办理状态", "area_code": "coalesce(区划代码, '')",
    "lon": "TRY_CAST(经度 AS DOUBLE)", "lat": "TRY_CAST(纬度 AS DOUBLE)", "placement": "'code'",
    "assigned_at": "TRY_CAST(交办时间 AS TIMESTAMP)", "closed_at": "TRY_CAST(办结时间 AS TIMESTAMP)",
    "deadline": "TRY_CAST(受理时间 AS TIMESTAMP)", "satisfaction": "满意度", "content": "诉求内容",
    "petitioner_masked": "反映人", "phone_masked": "联系电话", "id_masked": "身份证号",
    "group_size": "coalesce(TRY_CAST(反映人数 AS INTEGER), 1)", "handling_unit": "承办单位",
    "leader_in_charge": "包案领导", "tier": "TRY_CAST(化解层级 AS INTEGER)",
    "escalation_level": "问题库层级", "received_level": "受理层级", "handling_opinion": "办理意见",
    "followup_at": "TRY_CAST(回访时间 AS TIMESTAMP)",
}


def load_floor(csv: str, db: str) -> dict:
    """Read `csv` (GB18030) and insert it into a copy of `db`'s `cases` shape; wall and CPU
    seconds (all threads) of each step."""
    import duckdb
    import pyarrow.csv as pv

    with duckdb.connect(db, read_only=True) as src:
        ddl = src.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'cases' AND schema_name = 'main'").fetchone()[0]
    steps: dict[str, dict[str, float]] = {}
    t, c = time.perf_counter(), time.process_time()

    def lap(name: str) -> None:
        nonlocal t, c
        now, cpu = time.perf_counter(), time.process_time()
        steps[name] = {"wall_s": round(now - t, 2), "cpu_s": round(cpu - c, 2)}
        t, c = now, cpu

    table = pv.read_csv(csv, read_options=pv.ReadOptions(encoding="gb18030", block_size=16 << 20),
                        convert_options=pv.ConvertOptions(strings_can_be_null=True,
                                                          column_types={h: "string" for h in _headers()}))
    lap("read")
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(db))) as tmp:
        con = duckdb.connect(os.path.join(tmp, "floor.duckdb"))
        con.execute(ddl)
        con.register("export", table)
        con.execute(f"INSERT INTO cases ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS.values())} FROM export")
        con.execute("CHECKPOINT")
        rows = con.execute("SELECT count(*) FROM cases").fetchone()[0]
        con.close()
        lap("insert")
    wall = sum(s["wall_s"] for s in steps.values())
    return {"rows": rows, "steps": steps, "floor_wall_s": round(wall, 2),
            "floor_cpu_s": round(sum(s["cpu_s"] for s in steps.values()), 2), "rows_per_s": round(rows / wall)}


def _headers() -> list[str]:
    """Every header the floor reads as text (pyarrow would otherwise infer numbers and dates)."""
    import re

    return sorted({h for v in COLUMNS.values() for h in re.findall(r"[\u4e00-\u9fff][\u4e00-\u9fff()]*", v)})
