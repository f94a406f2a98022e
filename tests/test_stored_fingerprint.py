"""cases.content_md5: the merge stores each case's content fingerprint and compares later loads
with it. The outcomes a user sees (loaded / updated / duplicates) are the same as when every
stored case was fingerprinted again, also for warehouses from before the column, cases the
vocabulary re-derived, and a changed fingerprint definition."""

from __future__ import annotations

import hashlib

from etl.db import connect, writing
from tests.test_load import GOOD, HEADER, _load, _write


def _fingerprints(db) -> dict[str, str]:
    con = connect(db, read_only=True)
    try:
        return dict(con.execute("SELECT case_id, content_md5 FROM cases").fetchall())
    finally:
        con.close()


def _recomputed(db) -> dict[str, str]:
    """Each stored case's content fingerprint computed from its columns here, in Python."""
    con = connect(db, read_only=True)
    try:
        cols = [c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'cases' ORDER BY column_index").fetchall()
            if c not in ("case_id", "batch_id", "content_md5")]
        rows = con.execute(f"SELECT case_id, {', '.join(f'CAST({c} AS VARCHAR)' for c in cols)} FROM cases").fetchall()
    finally:
        con.close()
    return {r[0]: hashlib.md5("\x1f".join("\x1e" if v is None else v for v in r[1:]).encode()).hexdigest()
            for r in rows}


def _sql(db, *statements):
    with writing(db) as con:
        for s in statements:
            con.execute(s)


def test_each_case_keeps_its_content_fingerprint(wh, tmp_path):
    _load(wh, _write(tmp_path / "l.csv", [HEADER, *GOOD]))
    stored = _fingerprints(wh)
    assert set(stored) == {"A001", "A002", "A003"}
    assert stored == _recomputed(wh)
    changed = GOOD[1].replace("办理中,,", "办结,2025-03-10 09:00,基本满意")
    out = _load(wh, _write(tmp_path / "l2.csv", [HEADER, GOOD[0], changed, GOOD[2]]))
    assert (out["loaded"], out["updated"], out["duplicates"]) == (0, 1, 2)
    after = _fingerprints(wh)
    assert after["A002"] != stored["A002"] and after["A001"] == stored["A001"]
    assert after == _recomputed(wh)


def test_a_warehouse_without_the_column_gets_it_and_still_sees_duplicates(wh, tmp_path):
    f = _write(tmp_path / "l.csv", [HEADER, *GOOD])
    _load(wh, f)
    # as a warehouse of schema 1 (v0.1.0) has it: the first write's migration adds the column
    _sql(wh, "ALTER TABLE cases DROP COLUMN content_md5", "DELETE FROM meta WHERE key = 'cases_content_md5_of'",
         "UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    again = _load(wh, f)
    assert (again["loaded"], again["updated"], again["duplicates"]) == (0, 0, 3)
    assert _fingerprints(wh) == _recomputed(wh)


def test_missing_or_stale_fingerprints_are_recomputed(wh, tmp_path):
    f = _write(tmp_path / "l.csv", [HEADER, *GOOD])
    _load(wh, f)
    # one case without a fingerprint (as after `minqing vocab map`), all made by another definition
    _sql(wh, "UPDATE cases SET content_md5 = NULL WHERE case_id = 'A001'")
    again = _load(wh, f)
    assert (again["loaded"], again["updated"], again["duplicates"]) == (0, 0, 3)
    _sql(wh, "UPDATE cases SET content_md5 = 'not this one'",
         "UPDATE meta SET value = 'an older definition' WHERE key = 'cases_content_md5_of'")
    again = _load(wh, f)
    assert (again["loaded"], again["updated"], again["duplicates"]) == (0, 0, 3)
    assert _fingerprints(wh) == _recomputed(wh)


def test_rederived_terms_forget_the_fingerprint(wh, tmp_path):
    from etl import terms

    _load(wh, _write(tmp_path / "l.csv", [HEADER, *GOOD]))
    with writing(wh) as con:
        con.execute("UPDATE cases SET category = '别的类别' WHERE case_id = 'A003'")  # as an older vocabulary had it
        assert terms.rederive(con) == 1
    stored = _fingerprints(wh)
    assert stored["A003"] is None and stored["A001"] is not None
    again = _load(wh, tmp_path / "l.csv")
    assert (again["loaded"], again["updated"], again["duplicates"]) == (0, 0, 3)
    assert _fingerprints(wh) == _recomputed(wh)
