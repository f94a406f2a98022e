"""A province-scale hotline export (12345 style): N cases as a GB18030 CSV with GCJ-02 points.

Rows are made by the demo's ledger generator (etl.demo.cases: channels, categories, life
cycles, satisfaction, compliance gaps, repeat and multi-channel petitions, masked-looking
personal data) over the province's synthetic villages (bench.province), 36 monthly bins
from START_MONTH. What differs from the demo's ledger, as a province export would:
- case ids are unique across the province (HE + 10 digits);
- points are GCJ-02 (Amap/Tencent), to be loaded with `--crs gcj02`;
- rows without a point (about a third: in-person receptions, mailbox, proxy petitions)
  carry the 12-digit 区划代码 of their village (or town) instead, since town and village
  names alone are ambiguous across a province.
The file is written in chunks of CHUNK rows, each seeded by (seed, chunk number), so the
first million rows of the 10-million file are the 1-million file.
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from etl.demo import cases as demo_cases
from geo.datum import wgs84_to_gcj02

START_MONTH = "2023-11"
MONTHS = 36
AS_OF = "2026-10-31"
CHUNK = 1_000_000
ENCODING = "gb18030"


def write_cases_csv(villages: gpd.GeoDataFrame, n: int, path: Path, *, seed: int = 20241, progress=None,
                    reuse: Path | None = None) -> Path:
    """Write `n` cases for `villages` (code, name, parent_code, urban, geometry in lon/lat,
    plus town_name) to `path`. `reuse`: a smaller file written by this function with the same
    seed, whose rows are the first rows of this one (copied instead of generated again)."""
    say = progress or (lambda msg: None)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    done = 0
    with open(tmp, "wb") as out:
        if reuse is not None and reuse.exists():
            with open(reuse, "rb") as f:
                while chunk := f.read(1 << 24):
                    out.write(chunk)
            done = _rows_of(reuse)
            if done % CHUNK and done < n:
                raise ValueError(f"{reuse} has {done} rows, not a whole number of {CHUNK}-row chunks")
            say(f"  copied {done:,} rows from {reuse.name}")
        t0 = time.monotonic()
        while done < n:
            k = done // CHUNK
            size = min(CHUNK, n - done)
            df = chunk_frame(villages, size, first_id=done, seed=seed, chunk=k)
            out.write(df.to_csv(index=False, header=(done == 0)).encode(ENCODING))
            done += size
            say(f"  {done:,} rows written ({time.monotonic() - t0:.0f} s)")
    tmp.replace(path)
    return path


def chunk_frame(villages: gpd.GeoDataFrame, size: int, *, first_id: int, seed: int, chunk: int) -> pd.DataFrame:
    """One chunk of the export: `size` rows with ids from `first_id`."""
    rng = np.random.default_rng([seed, chunk])
    months = pd.period_range(START_MONTH, periods=MONTHS, freq="M")
    vg = villages.reset_index(drop=True)
    households = np.where(vg["urban"].to_numpy(), 2500.0, 450.0) * rng.gamma(4.0, 0.25, len(vg))
    plan = demo_cases.Plan(np.ones((len(vg), len(months))), {}, set())
    counts = demo_cases.case_counts(vg, households, months, plan, int(size * 1.02) + 100, rng)
    as_of = pd.Timestamp(AS_OF) + pd.Timedelta(hours=23, minutes=59)
    df = demo_cases.cases(vg, vg.geometry, counts, months, plan, as_of, _Identity(), rng)
    while len(df) < size:  # the Poisson total fell short (very unlikely with the 2% margin)
        df = pd.concat([df, df.iloc[: size - len(df)]], ignore_index=True)
    keep = np.sort(rng.choice(len(df), size, replace=False))
    df = df.iloc[keep].reset_index(drop=True)
    df["受理编号"] = [f"HE{i:010d}" for i in range(first_id + 1, first_id + size + 1)]
    has_point = df["经度"] != ""
    lon = pd.to_numeric(df["经度"].where(has_point), errors="coerce").to_numpy()
    lat = pd.to_numeric(df["纬度"].where(has_point), errors="coerce").to_numpy()
    glon, glat = wgs84_to_gcj02(lon, lat)
    df["经度"] = np.where(has_point, np.char.mod("%.6f", np.round(glon, 6)), "")
    df["纬度"] = np.where(has_point, np.char.mod("%.6f", np.round(glat, 6)), "")
    village = df["_village"].to_numpy().astype(str)
    code = np.where(df["所属村(社区)"] == "", [v[:9] for v in village], village)
    df.insert(df.columns.get_loc("所属村(社区)") + 1, "区划代码", np.where(has_point, "", code))
    return df.drop(columns=[c for c in df.columns if c.startswith("_")])


class _Identity:
    """Points are sampled in lon/lat already (the villages are small enough to ignore the scale change)."""

    @staticmethod
    def transform(x, y):
        return x, y


def _rows_of(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b"")) - 1


def split_csv(path: Path, rows: int) -> list[Path]:
    """`path` cut into files of at most `rows` data rows, each with the header (as an office
    loads a year of monthly exports). Line breaks never occur inside a GB18030 character."""
    parts: list[Path] = []
    with open(path, "rb") as f:
        header = f.readline()
        part = None
        n = 0
        for line in f:
            if part is None or n == rows:
                if part is not None:
                    part.close()
                parts.append(path.with_name(f"{path.stem}.part{len(parts) + 1:02d}{path.suffix}"))
                part = open(parts[-1], "wb")
                part.write(header)
                n = 0
            part.write(line)
            n += 1
        if part is not None:
            part.close()
    return parts
