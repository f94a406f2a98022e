"""The README's benchmark table from bench/results.json: `python -m bench.table`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.run import TARGETS, _met

RESULTS = Path(__file__).resolve().parent / "results.json"

ROWS = [  # key, what, unit
    ("load_rows_per_s_1m", "`minqing load cases --crs gcj02`, 1M-row GB18030 CSV, end to end", "rows/s"),
    ("load_rows_per_s_10m", "the same, 10M rows as ten 1M-row files in one `minqing load`", "rows/s"),
    ("load_floor_rows_per_s_1m", "the floor on this machine: read the same file and insert it into a `cases` table, no checks (bench/floor.py)", "rows/s"),
    ("load_vs_geopandas", "product speed / pandas+geopandas pipeline speed, same 1M file", "x"),
    ("filter_ms_worst_1m", "filter change on the slowest case page (bench/pages.py: what 总览, 未办结 and 排名 ask, whole province and one town), 1M cases, median", "ms"),
    ("filter_ms_worst_10m", "the same, 10M cases", "ms"),
    ("overhead_ratio_worst_10m", "that page / bare DuckDB aggregates of the same figures, 10M cases", "x"),
    ("filter_ms_1m", "the 2026-11-23 measure: case_summary + every figure of every village, 1M cases, median", "ms"),
    ("filter_ms_10m", "the same, 10M cases", "ms"),
    ("overhead_ratio", "that / bare DuckDB aggregates of two figures, 10M cases", "x"),
    ("map_bytes_province_page", "总览's map as a province warehouse opens it (level of detail: towns until a town is chosen)", "bytes"),
    ("map_bytes_village", "all 54,145 villages in one map (no page draws it: above `map_max_villages` pages show towns until one is chosen)", "bytes"),
    ("map_bytes_town", "map page, all 2,365 towns", "bytes"),
    ("map_bytes_county", "map page, all 190 counties", "bytes"),
    ("map_bytes_village_city", "map page, the villages of one city (保定市, 6,899)", "bytes"),
    ("gi_star_s", "Gi* on every village: counts query + Queen weights + statistic (esda and libpysal imported before)", "s"),
    ("gi_import_s", "importing esda and libpysal (once per server process, at its first hot spot analysis)", "s"),
    ("area_hotspots_s", "the whole analysis.hotspots.area_hotspots (adds EB rates and LISA)", "s"),
    ("emerging_s", "emerging hot spots, 36 monthly bins, every village", "s"),
    ("peak_mem_gb_1m", "peak memory, largest workload at 1M (the load)", "GB"),
    ("peak_mem_gb_10m", "peak memory, largest workload at 10M", "GB"),
]


def table(res: dict) -> str:
    r = res["results"]
    out = ["| measure | result | target | met |", "|---|---|---|---|"]
    for key, what, unit in ROWS:
        v = r.get(key)
        if v is None:
            continue
        goal = TARGETS.get(key) or TARGETS.get(key.rsplit("_", 1)[0] if key.startswith("load_rows") else "")
        met = "" if goal is None else "yes" if _met(v, *goal) else f"**no** ({_miss(v, *goal)})"
        target = f"{goal[0]} {_fmt(goal[1], unit)}" if goal else ""
        out.append(f"| {what} | {_fmt(v, unit)} | {target} | {met} |")
    return "\n".join(out)


# the steps of a load (etl.load.LoadResult.seconds), in order, with what each does
STEPS = [
    ("setup_s", "start-up (imports), copy of the warehouse, checkpoint and swap"),
    ("read", "read and decode the file (etl/readers.py, etl/csv_stream.py)"),
    ("stage", "mask text cells, cast, parse, validate (etl/staging.py, stg_cases.sql)"),
    ("place", "datum conversion, point in polygon, names and codes (int_placement.sql)"),
    ("merge", "fingerprints, outcomes, insert, case events (etl/merge.py, etl/history.py)"),
    ("rejects", "rejected rows with their masked content, the terms report"),
    ("views", "case_history and the views (etl/views.py), once per command"),
]


def profile_table(res: dict) -> str:
    """Where a load's time goes: each step's wall and CPU seconds (all threads) at each size, and
    the step's share of the wall time."""
    loads = [(k.removeprefix("load_"), w) for k, w in res["workloads"].items()
             if k.startswith("load_") and k != "load_areas" and "seconds" in w]
    if not loads:
        return ""
    head = "| step | " + " | ".join(f"{tag} wall s | CPU s | share" for tag, _ in loads) + " |"
    out = [head, "|---|" + "---|---|---|" * len(loads)]
    for key, what in STEPS:
        cells = []
        for _tag, w in loads:
            setup = key == "setup_s"
            v = w.get(key) if setup else w["seconds"].get(key)
            c = w.get("setup_cpu_s") if setup else w.get("cpu_seconds", {}).get(key)
            cells += ["" if v is None else f"{v:,.1f}", "" if c is None else f"{c:,.1f}",
                      "" if v is None else f"{v / w['wall_s']:.0%}"]
        out.append(f"| {key.removesuffix('_s')}: {what} | " + " | ".join(cells) + " |")
    out.append("| total | " + " | ".join(f"{w['wall_s']:,.1f} | {w['cpu_s']:,.1f} | 100%" for _t, w in loads) + " |")
    return "\n".join(out)


def machine_line(res: dict) -> str:
    m = res["machine"]
    return (f"{m['cores']} cores ({m['cpu']}), {m['ram_gb']} GB, {m['os']}, Python {m['python']}, "
            f"duckdb {m['duckdb']}")


def _miss(value, op: str, target) -> str:
    """How far from the target: the factor to gain."""
    factor = target / value if op == ">=" else value / target
    return f"{factor:.1f}x off"


def _fmt(v, unit: str) -> str:
    if unit == "bytes":
        return f"{v / 2**20:.1f} MB"
    if unit == "ms":
        return f"{v:,.0f} ms"
    if unit == "x":
        return f"{v:.2f}x"
    if unit == "rows/s":
        return f"{v:,.0f} rows/s"
    return f"{v:,.2f} {unit}" if isinstance(v, float) and v < 10 else f"{v:,.0f} {unit}"


if __name__ == "__main__":
    res = json.loads((Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS).read_text(encoding="utf-8"))
    print(machine_line(res))
    print()
    print(table(res))
    print()
    print(profile_table(res))
