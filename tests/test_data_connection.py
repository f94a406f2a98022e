"""The dashboard's one read-only connection (dashboard.data._Holder): reopened when a load swaps
the warehouse in, tried once more on a fresh connection when opening fails, and left with no
connection (never a half-closed one) when both tries fail."""

from __future__ import annotations

import pytest

from dashboard.data import _Holder


def test_the_connection_is_reopened_when_the_file_changes_and_kept_otherwise(wh):
    holder = _Holder()
    holder.get(lambda: (str(wh), 1.0)).execute("SELECT count(*) FROM areas").fetchone()
    first = holder.con
    holder.get(lambda: (str(wh), 1.0))
    assert holder.con is first
    cur = holder.get(lambda: (str(wh), 2.0))  # a load swapped the file in: a new modification time
    assert holder.con is not first and holder.key == (str(wh), 2.0)
    assert cur.execute("SELECT count(*) FROM areas").fetchone()[0] > 0


def test_a_failed_open_is_tried_once_more_on_a_fresh_connection(wh, tmp_path):
    bad = tmp_path / "not_a_warehouse.duckdb"
    bad.write_bytes(b"this is not a DuckDB file" * 100)
    versions = iter([(str(bad), 1.0), (str(wh), 2.0)])  # the file was swapped between the two tries
    holder = _Holder()
    cur = holder.get(lambda: next(versions))
    assert cur.execute("SELECT count(*) FROM areas").fetchone()[0] > 0
    assert holder.key == (str(wh), 2.0)


def test_when_both_tries_fail_nothing_half_open_is_kept(wh, tmp_path):
    holder = _Holder()
    holder.get(lambda: (str(wh), 1.0))
    bad = tmp_path / "not_a_warehouse.duckdb"
    bad.write_bytes(b"this is not a DuckDB file" * 100)
    with pytest.raises(Exception):
        holder.get(lambda: (str(bad), 2.0))
    assert (holder.con, holder.key) == (None, None)
    assert holder.get(lambda: (str(wh), 3.0)).execute("SELECT 1").fetchone() == (1,)
