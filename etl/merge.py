"""The merge: apply the valid rows of `staged` to the kind's table by its key.

A new key is loaded; a known key with other content is updated; the same content is a
duplicate. Content is compared by a fingerprint of the kind's content columns. A key repeated
in the file: the last row wins (ledgers append newer states below older ones); earlier
identical rows are duplicates, earlier different ones are rejected as superseded_in_file.

A table with a `content_md5` column (cases) keeps each row's fingerprint as it is merged, so the
outcome join reads that one narrow column instead of fingerprinting every stored row on every
load. Rows without one (a warehouse from before the column, rows changed by `terms.rederive`)
are fingerprinted on the next load, and all of them again when the content columns change
(`meta.<table>_content_md5_of` names the fingerprint's definition).
"""

from __future__ import annotations

import hashlib

import duckdb

from .kinds import Kind, MergeContext

FP_COLUMN = "content_md5"  # the stored fingerprint of a row's content, where the table has it
_NOT_CONTENT = ("batch_id", "synthetic_geom", "derived_geom", FP_COLUMN)  # columns the merge writes from the load, not the file


def merge(con: duckdb.DuckDBPyConnection, spec: Kind, ctx: MergeContext, *,
          synthetic: bool) -> tuple[tuple[int, int, int], dict[str, int]]:
    """Apply valid staged rows to the target table, then the kind's after-merge step;
    return (loaded, updated, duplicates) and the step's notes for the load report."""
    batch_id = ctx.batch_id
    target_cols = _columns(con, spec.table)
    content = _content_columns(con, spec, target_cols)
    fp = _fingerprint(content)
    in_file_dupes = _keep_last_in_file(con, spec.key, fp)
    if spec.before_merge:
        spec.before_merge(con)
    stored = _stored_fingerprints(con, spec, target_cols, fp)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE outcome AS
        SELECT i._line, i.{spec.key} AS k,
               CASE WHEN t.{spec.key} IS NULL THEN 'loaded' WHEN i.fp = t.fp THEN 'duplicate' ELSE 'updated' END AS outcome
        FROM incoming i LEFT JOIN ({stored}) t ON t.{spec.key} = i.{spec.key}""")
    marks = {"synthetic_geom": synthetic} if "synthetic_geom" in target_cols else {}
    if "derived_geom" in target_cols:
        marks["derived_geom"] = False  # an outline from a file replaces one derived from villages
    _write(con, spec, content, batch_id, marks, keep_fp=FP_COLUMN in target_cols)
    notes = (spec.after_merge(con, ctx) if spec.after_merge else None) or {}
    loaded, updated, dup = con.execute("""
        SELECT count(*) FILTER (outcome = 'loaded'), count(*) FILTER (outcome = 'updated'),
               count(*) FILTER (outcome = 'duplicate') FROM outcome""").fetchone()
    return (loaded, updated, dup + in_file_dupes), notes


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' ORDER BY column_index",
        [table]).fetchall()]


def _content_columns(con: duckdb.DuckDBPyConnection, spec: Kind, target_cols: list[str]) -> list[str]:
    """The columns compared and written: the kind's declared ones, else every column of its table
    but the key and those the load sets itself. Staging must give them all."""
    content = list(spec.content) if spec.content else [c for c in target_cols if c not in (spec.key, *_NOT_CONTENT)]
    staged_cols = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'staged'").fetchall()}
    missing = [c for c in content if c not in staged_cols]
    if missing:
        raise AssertionError(f"staging for {spec.table} lacks columns {missing}")
    return content


def _fingerprint(content: list[str]) -> str:
    """SQL for the fingerprint of a row's content (geometry by its WKB)."""
    def text(c: str) -> str:
        return "ST_AsHEXWKB(geom)" if c == "geom" else f"CAST({c} AS VARCHAR)"

    return "md5(concat_ws('\x1f', " + ", ".join(f"coalesce({text(c)}, '\x1e')" for c in content) + "))"


def _stored_fingerprints(con: duckdb.DuckDBPyConnection, spec: Kind, target_cols: list[str], fp: str) -> str:
    """SQL for (key, fp) of the rows already in the table: the stored `content_md5` (filled in
    first where missing or made by another definition), else computed from every row."""
    if FP_COLUMN not in target_cols:
        return f"SELECT {spec.key}, {fp} AS fp FROM {spec.table}"
    definition = hashlib.md5(fp.encode()).hexdigest()
    name = f"{spec.table}_{FP_COLUMN}_of"
    row = con.execute("SELECT value FROM meta WHERE key = ?", [name]).fetchone()
    where = "" if row is None or row[0] != definition else f" WHERE {FP_COLUMN} IS NULL"
    con.execute(f"UPDATE {spec.table} SET {FP_COLUMN} = {fp}{where}")
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [name, definition])
    return f"SELECT {spec.key}, {FP_COLUMN} AS fp FROM {spec.table}"


def _keep_last_in_file(con: duckdb.DuckDBPyConnection, key: str, fp: str) -> int:
    """TEMP TABLE incoming: the last valid row of each key in the file, with its fingerprint;
    earlier rows with other content are rejected as superseded. Returns the earlier identical rows."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE keyed AS
        SELECT _line, {key} AS k, {fp} AS fp,
               row_number() OVER (PARTITION BY {key} ORDER BY _line DESC) AS occurrence
        FROM staged WHERE _reason IS NULL""")
    con.execute("""
        UPDATE staged SET _reason = 'superseded_in_file', _field = ?,
            _message = '同一编号在文件后面(第 ' || f._line || ' 行)有不同内容, 以后者为准'
        FROM (SELECT k.k, k._line AS this_line, f._line FROM keyed k JOIN keyed f ON f.k = k.k AND f.occurrence = 1
              WHERE k.occurrence > 1 AND k.fp <> f.fp) f
        WHERE staged._line = f.this_line""", [key])
    con.execute("""
        CREATE OR REPLACE TEMP TABLE incoming AS
        SELECT s.*, k.fp FROM staged s JOIN keyed k ON k._line = s._line AND k.occurrence = 1""")
    return con.execute("SELECT count(*) FROM keyed k JOIN keyed f ON f.k = k.k AND f.occurrence = 1 "
                       "WHERE k.occurrence > 1 AND k.fp = f.fp").fetchone()[0]


def _write(con: duckdb.DuckDBPyConnection, spec: Kind, content: list[str], batch_id: int,
           marks: dict[str, object], keep_fp: bool) -> None:
    """Update the rows whose outcome is 'updated', insert those 'loaded'; `marks` are columns set
    from the load (synthetic_geom) on the rows written; `keep_fp`: store each row's fingerprint."""
    table, key = spec.table, spec.key
    from_row = {FP_COLUMN: "i.fp"} if keep_fp else {}
    mark_cols = list(marks)
    upd = con.execute("SELECT count(*) FROM outcome WHERE outcome = 'updated'").fetchone()[0]
    if upd:
        sets = ", ".join([*(f"{c} = i.{c}" for c in content), *(f"{c} = {v}" for c, v in from_row.items())]) \
            + "".join(f", {c} = ?" for c in mark_cols)
        con.execute(f"""
            UPDATE {table} SET {sets}, batch_id = ?
            FROM incoming i JOIN outcome o ON o._line = i._line AND o.outcome = 'updated'
            WHERE {table}.{key} = i.{key}""", [*marks.values(), batch_id])
    cols = ", ".join([key, *content, *from_row, *mark_cols, "batch_id"])
    values = ", ".join([f"i.{key}", *(f"i.{c}" for c in content), *from_row.values(), *("?" for _ in mark_cols), "?"])
    con.execute(f"""
        INSERT INTO {table} ({cols})
        SELECT {values}
        FROM incoming i JOIN outcome o ON o._line = i._line AND o.outcome = 'loaded'
        ORDER BY i._line""", [*marks.values(), batch_id])
