"""Run the province benchmark and write bench/results.json.

    python -m bench.run --sizes 1m,10m        # what `make bench` runs (BENCH_SIZES)
    python -m bench.run --sizes 100k          # a quick check

Generated data (geometry, CSV exports, warehouses) goes to bench/data/ (git-ignored) and
is reused by later runs; delete the folder to start over. Every workload runs in a child
process and its peak memory is that process's maximum resident set (os.wait4).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from bench import cases as case_gen
from bench import province

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGETS = {
    "load_rows_per_s": (">=", 200_000),
    "load_vs_geopandas": (">=", 2.0),
    # the dashboard's real filter changes: the slowest case page's (bench/pages.py)
    "filter_ms_worst_1m": ("<=", 300),
    "filter_ms_worst_10m": ("<=", 1000),
    "overhead_ratio_worst_10m": ("<=", 3.0),
    "map_bytes_province_page": ("<=", 5 * 1024 * 1024),
    "map_bytes_town": ("<=", 5 * 1024 * 1024),
    "gi_star_s": ("<", 5.0),
    "emerging_s": ("<=", 20.0),
    "peak_mem_gb_10m": ("<", 4.0),
}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "1m,10m"), help="case counts, e.g. 1m,10m or 100k")
    ap.add_argument("--province", default="13", help="NBS code of the province (or city)")
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    ap.add_argument("--geopandas-max", type=_size, default=_size("1m"),
                    help="largest size the geopandas pipeline is run on (it needs several GB per million rows)")
    ap.add_argument("--file-rows", type=_size, default=_size("1m"),
                    help="larger exports are split into files of this many rows, loaded by one `minqing load` in one "
                         "transaction (the loader holds one file at a time in memory)")
    args = ap.parse_args(argv)
    sizes = sorted(_size(s) for s in args.sizes.split(","))
    data: Path = args.data
    data.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()
    res: dict = {"machine": machine(), "started_at": dt.datetime.now().replace(microsecond=0).isoformat(),
                 "sizes": sizes, "province": args.province, "workloads": {}, "_out": args.out}

    geo_path = data / f"province_{args.province}.parquet"
    t0 = time.monotonic()
    built = not geo_path.exists()
    gdf = province.load_or_build(args.province, geo_path, progress=_say)
    villages = gdf[gdf["level"] == "village"].copy()
    towns = dict(zip(gdf["code"], gdf["name"]))
    villages["town_name"] = villages["parent_code"].map(towns)
    res["data"] = {"villages": int(len(villages)), "towns": int((gdf["level"] == "town").sum()),
                   "counties": int(gdf.loc[gdf["level"] == "town", "code"].str[:6].nunique()),
                   "geometry_s": round(time.monotonic() - t0, 1) if built else None}
    _say(f"{res['data']['villages']:,} villages, {res['data']['towns']:,} towns")

    base = data / f"base_{args.province}.duckdb"
    if not base.exists():
        areas = data / f"areas_{args.province}.gpkg"
        if not areas.exists():
            gdf.rename(columns={"code": "区划代码", "name": "名称"})[["区划代码", "名称", "geometry"]].to_file(areas, driver="GPKG")
        tmp = data / "base.tmp.duckdb"
        for p in (tmp, Path(f"{tmp}.key")):
            p.unlink(missing_ok=True)
        res["workloads"]["init"] = _run([str(BIN / "minqing"), "--db", str(tmp), "init", "--region", args.province])
        res["workloads"]["load_areas"] = _run([str(BIN / "minqing"), "--db", str(tmp), "load", "areas", str(areas), "--json"], parse=True)
        shutil.move(f"{tmp}.key", f"{base}.key")
        shutil.move(tmp, base)

    reuse = None
    for n in sizes:
        tag = _tag(n)
        csv = data / f"cases_{args.province}_{tag}.csv"
        if not csv.exists():
            _say(f"writing {csv.name}")
            t0 = time.monotonic()
            case_gen.write_cases_csv(villages, n, csv, progress=_say, reuse=reuse)
            res["data"][f"csv_{tag}_s"] = round(time.monotonic() - t0, 1)
        reuse = csv
        res["data"][f"csv_{tag}_bytes"] = csv.stat().st_size
        wh = data / f"wh_{args.province}_{tag}.duckdb"
        for p in (wh, Path(f"{wh}.key"), Path(f"{wh}.wal")):
            p.unlink(missing_ok=True)
        shutil.copyfile(base, wh)
        shutil.copyfile(f"{base}.key", f"{wh}.key")
        _say(f"loading {n:,} cases with the product")
        files = [csv] if n <= args.file_rows else _parts(csv, args.file_rows)
        r = _load(wh, files, res)  # one `minqing load cases` command, one transaction for all the files
        r["rows_per_s"] = round(n / r["wall_s"])
        r["warehouse_bytes"] = wh.stat().st_size
        res["workloads"][f"load_{tag}"] = r
        _save(res)
        if n <= args.geopandas_max:
            _say(f"the floor under a load of {n:,} cases (read and insert, no checks)")
            fl = _workload("load_floor", csv=str(csv), db=str(base))
            fl["product_share"] = round(fl["floor_wall_s"] / r["wall_s"], 2)
            res["workloads"][f"load_floor_{tag}"] = fl
            _save(res)
            _say(f"loading {n:,} cases with pandas + geopandas")
            out = data / f"geopandas_{tag}.parquet"
            g = _workload("geopandas_load", csv=str(csv), villages=str(geo_path), out=str(out))
            out.unlink(missing_ok=True)
            g["rows_per_s"] = round(n / g["wall_s"])
            g["product_speedup"] = round(g["wall_s"] / r["wall_s"], 2)
            res["workloads"][f"geopandas_load_{tag}"] = g
            _save(res)
        _say(f"filter changes on {n:,} cases")
        res["workloads"][f"filter_{tag}"] = _workload("filter", db=str(wh))
        _save(res)
        if n == sizes[-1]:
            for name in ("maps", "gi_star", "emerging"):
                _say(f"{name} on {n:,} cases")
                res["workloads"][f"{name}_{tag}"] = _workload(name, db=str(wh))
                _save(res)
        if n == sizes[0]:
            _say(f"placement and counts on dask-geopandas, {n:,} cases")
            res["workloads"][f"distributed_{tag}"] = _workload("distributed", db=str(wh), out=str(data / "export"))
            _save(res)
        if n != sizes[-1]:
            wh.unlink(missing_ok=True)  # keep the disk for the next size

    res["total_s"] = round(time.monotonic() - t_start, 1)
    res["results"] = summarise(res)
    res["targets"] = {k: {"target": f"{op} {v:,}", "value": res["results"].get(k),
                          "met": _met(res["results"].get(k), op, v)} for k, (op, v) in TARGETS.items()}
    _save(res)
    _say(f"wrote {args.out} ({res['total_s']:.0f} s)")
    return res


def _load(wh: Path, files: list[Path], res: dict) -> dict:
    """`minqing load cases FILE...` (as `python -m cli`, with faulthandler on): the files in one
    command and one transaction. A load killed by a signal is recorded in res["crashes"] and run
    once more (the copy-on-write load leaves the warehouse as it was). The result carries the
    load's own profile (`seconds`: wall seconds per step, summed over the files)."""
    cmd = [sys.executable, "-X", "faulthandler", "-m", "cli", "--db", str(wh), "load", "cases", *map(str, files),
           "--crs", "gcj02", "--json"]
    try:
        r = _run(cmd, parse=True)
    except _Crash as e:
        res.setdefault("crashes", []).append({"files": [f.name for f in files], "returncode": e.returncode,
                                              "stderr_tail": e.stderr[-4000:]})
        _save(res)
        _say(f"  the load died with signal {-e.returncode}; running it again")
        r = _run(cmd, parse=True)
    if "files" in r:  # several files: their totals, and each file's profile
        per_file = r.pop("files")
        r.update(r.pop("total"))
        r["seconds_by_file"] = [f["seconds"] for f in per_file]
        for what in ("seconds", "cpu_seconds"):
            r[what] = {k: round(sum(f[what].get(k, 0.0) for f in per_file), 2)
                       for k in dict.fromkeys(k for f in per_file for k in f[what])}
        r["reasons"] = {k: sum(f["reasons"].get(k, 0) for f in per_file) for k in {k for f in per_file for k in f["reasons"]}}
    # start-up, copy of the warehouse, checkpoint and swap: the rest of the command
    r["setup_s"] = round(r["wall_s"] - sum(r.get("seconds", {}).values()), 2)
    r["setup_cpu_s"] = round(r["cpu_s"] - sum(r.get("cpu_seconds", {}).values()), 2)
    return r


class _Crash(RuntimeError):
    def __init__(self, returncode: int, stderr: str) -> None:
        super().__init__(f"killed by signal {-returncode}")
        self.returncode, self.stderr = returncode, stderr


def _save(res: dict) -> None:
    """Write what has been measured so far (a later failure keeps the earlier results)."""
    out = res["_out"]
    # the headline figures (the keys) at the top level, the details after them
    partial = {**res.get("results", {}), **{k: v for k, v in res.items() if k != "_out"}}
    out.write_text(json.dumps(partial, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")


def _parts(csv: Path, rows: int) -> list[Path]:
    parts = sorted(csv.parent.glob(f"{csv.stem}.part*{csv.suffix}"))
    if not parts or any(p.stat().st_mtime < csv.stat().st_mtime for p in parts):
        for p in parts:
            p.unlink()
        parts = case_gen.split_csv(csv, rows)
    return parts


def summarise(res: dict) -> dict:
    """The headline keys, from the largest size that ran (each also per size)."""
    w = res["workloads"]
    sizes = res["sizes"]
    top = _tag(sizes[-1])
    out: dict = {}
    for n in sizes:
        tag = _tag(n)
        out[f"load_rows_per_s_{tag}"] = w[f"load_{tag}"]["rows_per_s"]
        if f"geopandas_load_{tag}" in w:
            out[f"load_vs_geopandas_{tag}"] = w[f"geopandas_load_{tag}"]["product_speedup"]
        if f"load_floor_{tag}" in w:
            out[f"load_floor_rows_per_s_{tag}"] = w[f"load_floor_{tag}"]["rows_per_s"]
        out[f"filter_ms_{tag}"] = w[f"filter_{tag}"]["filter_ms"]
        out[f"overhead_ratio_{tag}"] = w[f"filter_{tag}"]["overhead_ratio"]
        for k in ("filter_ms_worst", "filter_worst_page", "overhead_ratio_worst", "filter_ms_pages"):  # bench.pages
            out[f"{k}_{tag}"] = w[f"filter_{tag}"].get(k)
        peaks = {k: v["peak_rss_gb"] for k, v in w.items()
                 if k.endswith("_" + tag) and not k.startswith(("geopandas", "load_floor"))}
        out[f"peak_mem_gb_{tag}"] = max(peaks.values())
        out[f"peak_mem_gb_{tag}_by_workload"] = peaks
    out["load_rows_per_s"] = out[f"load_rows_per_s_{top}"]
    ratios = [k for k in out if k.startswith("load_vs_geopandas_")]
    out["load_vs_geopandas"] = out[ratios[-1]] if ratios else None
    out["overhead_ratio"] = out[f"overhead_ratio_{top}"]
    out.setdefault("filter_ms_1m", None)
    out.setdefault("filter_ms_10m", None)
    out.setdefault("peak_mem_gb_10m", None)
    m = w.get(f"maps_{top}", {})
    for k in ("map_bytes_province_page", "map_bytes_village", "map_bytes_town", "map_bytes_county", "map_bytes_village_city", "map_bytes_village_county"):
        out[k] = m.get(k)
    g = w.get(f"gi_star_{top}", {})
    out["gi_star_s"] = g.get("gi_star_s")
    out["gi_import_s"] = g.get("import_s")
    out["area_hotspots_s"] = g.get("area_hotspots_s")
    out["emerging_s"] = w.get(f"emerging_{top}", {}).get("emerging_s")
    return out


def machine() -> dict:
    import psutil

    model = ""
    try:
        model = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                     if ln.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    return {"cores": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1), "cpu": model,
            "os": platform.platform(), "python": platform.python_version(), "duckdb": duckdb.__version__}


def _workload(name: str, **kwargs) -> dict:
    return _run([sys.executable, "-m", "bench.workloads", name, json.dumps(kwargs)], parse=True)


def _run(cmd: list[str], parse: bool = False) -> dict:
    """Run `cmd` as a child; its wall time, peak memory (max RSS) and, with `parse`, its last stdout line as JSON."""
    import tempfile

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as fout, tempfile.TemporaryFile("w+") as ferr:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, cwd=ROOT, stdout=fout, stderr=ferr, text=True)
        _pid, status, usage = os.wait4(p.pid, 0)  # reaps the child with its own resource usage
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        fout.seek(0), ferr.seek(0)
        out, err = fout.read(), ferr.read()
    if p.returncode < 0:
        raise _Crash(p.returncode, err)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{err[-3000:]}")
    r = json.loads(out.strip().splitlines()[-1]) if parse else {}
    r["wall_s"] = round(wall, 2)
    r["peak_rss_gb"] = round(usage.ru_maxrss / 2**20, 2)  # ru_maxrss is in KiB on Linux
    r["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 1)
    # Other work on the machine slows a run down: the 1-minute load average around it says how much.
    r["load_avg"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    return r


def _size(s: str) -> int:
    s = s.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(s[-1:], 1)
    try:
        return int(float(s.rstrip("km")) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a size like 100k, 1m or 10m") from None


def _tag(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def _met(value, op: str, target) -> bool | None:
    if value is None:
        return None
    return {"<": value < target, "<=": value <= target, ">=": value >= target}[op]


def _say(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


if __name__ == "__main__":
    main()
