"""数据导入: what the page shows before and after a load, without streamlit. Before: which column
of the file became which field, which columns are ignored, which required fields are missing,
and the first rows with personal values masked. After: the outcome counts and the load history."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from etl.fields import match_headers
from etl.kinds import KINDS, Kind
from etl.readers import RawTable, read_file
from etl.staging import masked_preview
from geo.datum import DATUMS

# What the uploader accepts; a Shapefile comes zipped with its .dbf, .shx and .prj.
SUFFIXES = ("csv", "txt", "tsv", "xlsx", "xlsm", "geojson", "json", "zip", "gpkg")
DATUM_LABELS = {"wgs84": "WGS84 (GPS 原始坐标)", "cgcs2000": "CGCS2000 (国家2000)",
                "gcj02": "GCJ-02 (高德、腾讯地图)", "bd09": "BD-09 (百度地图)"}
OUTCOMES = (("rows_read", "读入"), ("loaded", "新增"), ("updated", "更新"), ("duplicates", "重复"), ("rejected", "拒收"))


def kind_labels() -> dict[str, str]:
    """Kind name -> its Chinese label, in declaration order."""
    return {k.name: k.label for k in KINDS.values()}


def crs_options(kind: str) -> list[str] | None:
    """The map datums a point kind takes; None for a boundary kind (an EPSG code, or the file's own)."""
    return None if KINDS[kind].geometry else list(DATUMS)


def save_upload(name: str, data: bytes, folder: str | Path | None = None, replaces: str | Path | None = None) -> Path:
    """The uploaded bytes as a temporary file keeping the upload's name (and so its suffix, by which
    the reader chooses; the name is what the load history shows, masked). The raw ledger holds
    personal data in clear: it lives in a folder only its owner can read (mkdtemp), the upload it
    `replaces` is deleted, and so is any upload older than UPLOAD_MAX_AGE_HOURS."""
    forget_upload(replaces)
    _remove_stale_uploads(folder)
    safe = Path(name).name or "upload"
    d = Path(tempfile.mkdtemp(prefix="minqing_upload_", dir=folder))
    path = d / safe
    path.write_bytes(data)
    return path


UPLOAD_MAX_AGE_HOURS = 12


def forget_upload(path: str | Path | None) -> None:
    """Delete a saved upload and its folder."""
    import shutil

    if path:
        shutil.rmtree(Path(path).parent, ignore_errors=True)


def _remove_stale_uploads(folder: str | Path | None) -> None:
    import shutil
    import time

    root = Path(folder or tempfile.gettempdir())
    for d in root.glob("minqing_upload_*"):
        try:
            if time.time() - d.stat().st_mtime > UPLOAD_MAX_AGE_HOURS * 3600:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def xlsx_sheets(path: str | Path) -> list[str]:
    """The data sheets of an XLSX workbook, in order, as the loader reads them (etl.xlsx_stream:
    chart sheets left out). ReadError (a Chinese message naming the file) for a damaged one."""
    from etl.xlsx_stream import worksheet_names

    return worksheet_names(Path(path))


@dataclass
class Inspection:
    raw: RawTable
    columns: dict[str, int]  # field -> column of the file (etl.fields.match_headers)
    mapping: pd.DataFrame    # one row per field: 字段, 必填, 文件中的列
    ignored: list[str]       # the file's columns no field takes
    missing: list[str]       # labels of required fields without a column
    preview: pd.DataFrame    # the first rows, personal values masked

    @property
    def rows(self) -> int:
        return self.raw.table.num_rows


def inspect(kind: str, path: str | Path, sheet: str | None = None, limit: int = 20) -> Inspection:
    """Read the file as the loader will and show how its headers map onto the kind's fields.
    Raises etl.readers.ReadError for a file that cannot be read."""
    spec = KINDS[kind]
    raw = read_file(path, sheet=sheet)
    columns = match_headers(spec.fields, raw.headers, None)
    return Inspection(raw, columns, mapping_table(spec, raw.headers, columns),
                      ignored_columns(raw.headers, columns),
                      [f.label for f in spec.fields if f.required and f.name not in columns],
                      preview_table(spec, raw, columns, limit))


def mapping_table(spec: Kind, headers: list[str], columns: dict[str, int]) -> pd.DataFrame:
    """One row per field of the kind: its label, whether required, and the file's column it takes
    ('' when none; a required field without a column is marked 缺少)."""
    rows = []
    for f in spec.fields:
        i = columns.get(f.name)
        found = headers[i] if i is not None else ""
        state = "已对应" if i is not None else ("缺少 (必填)" if f.required else "未提供")
        rows.append({"字段": f.label, "必填": "是" if f.required else "", "文件中的列": found, "状态": state})
    return pd.DataFrame(rows, columns=["字段", "必填", "文件中的列", "状态"])


def ignored_columns(headers: list[str], columns: dict[str, int]) -> list[str]:
    taken = set(columns.values())
    return [h for i, h in enumerate(headers) if i not in taken]


def preview_table(spec: Kind, raw: RawTable, columns: dict[str, int], limit: int = 20) -> pd.DataFrame:
    """The first `limit` rows under the file's own headers, names, phones and ID numbers masked as
    rejected rows keep them (etl.staging.masked_preview), with the line number first."""
    rows = masked_preview(spec, raw, columns, limit)
    lines = raw.table.column("_line").slice(0, limit).to_pylist() if "_line" in raw.table.column_names else []
    df = pd.DataFrame(rows, columns=[h for h in raw.table.column_names if not h.startswith("_")]).fillna("")
    if lines:
        df.insert(0, "行号", lines[:len(df)])
    return df


def outcome_table(result) -> pd.DataFrame:
    """The counts of a load (etl.load.LoadResult) as one row: 读入 新增 更新 重复 拒收."""
    return pd.DataFrame([{label: getattr(result, key) for key, label in OUTCOMES}])


def reasons_table(result) -> pd.DataFrame:
    """Rejected rows per reason code, most first."""
    items = sorted(result.reasons.items(), key=lambda kv: -kv[1])
    return pd.DataFrame(items, columns=["原因代码", "行数"])


def history_table(batches: pd.DataFrame) -> pd.DataFrame:
    """load_batches, newest first, with Chinese headers and the kind's label (there are no accounts:
    who loaded is not recorded, so it is not shown)."""
    labels = kind_labels()
    df = batches.sort_values("batch_id", ascending=False)
    return pd.DataFrame({
        "批次": df["batch_id"], "导入时间": df["loaded_at"], "类型": df["kind"].map(lambda k: labels.get(k, k)),
        "文件": df["source_file"], "读入": df["rows_read"], "新增": df["loaded"], "更新": df["updated"],
        "重复": df["duplicates"], "拒收": df["rejected"]}).reset_index(drop=True)


def terms_table(terms: list[dict]) -> pd.DataFrame:
    """The load report's terms the vocabulary did not know as written (LoadResult.terms), as the
    page lists them: vocabulary, the term as written, its rows, and what it counts as now."""
    from etl.terms import DOMAIN_LABELS

    return pd.DataFrame({
        "词表": [DOMAIN_LABELS[t["domain"]] for t in terms],
        "原词": [t["term"] for t in terms],
        "行数": [t["count"] for t in terms],
        "现按": [f"{t['mapped_to']} (按包含匹配)" if t["how"] == "containment" else "原词 (自成一类)" for t in terms],
    })
