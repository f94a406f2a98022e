"""analysis.areas: neighbours against shapely on the raw outlines; the comparison, trend and breakdown
figures against direct SQL over the raw cases and households tables."""

from __future__ import annotations

import datetime as dt
import math
import shutil

import pandas as pd
import pytest
import shapely

from analysis import areas
from etl.db import connect
from analysis.filters import CaseFilter

START, END = dt.date(2025, 11, 1), dt.date(2026, 10, 31)
AS_OF = dt.datetime(2026, 10, 31, 23, 59, 59)  # the small demo's 'today' (conftest)
OPEN = ("受理", "交办", "办理中")
SATISFIED = ("满意", "基本满意")


def shapely_neighbours(con, level: str) -> dict[str, set[str]]:
    """Independent adjacency: shapely intersects (shared border or corner) on the raw WKB outlines."""
    rows = con.execute("SELECT code, ST_AsWKB(geom) FROM areas WHERE level = ? AND geom IS NOT NULL ORDER BY code",
                       [level]).fetchall()
    codes = [r[0] for r in rows]
    geoms = shapely.from_wkb([bytes(r[1]) for r in rows])
    tree = shapely.STRtree(geoms)
    out = {c: set() for c in codes}
    for i, j in zip(*tree.query(geoms, predicate="intersects")):
        if i != j:
            out[codes[i]].add(codes[j])
    return out


@pytest.mark.parametrize("level", ["town", "village"])
def test_neighbours_match_shapely_on_the_raw_outlines(con, level):
    want = shapely_neighbours(con, level)
    assert sum(len(v) for v in want.values()) > 2 * len(want)  # a real tiling: most areas have several
    for code, expected in want.items():
        got = areas.neighbours(con, code)
        assert set(got["code"]) == expected, code
        assert code not in set(got["code"])
    # a village's neighbour list names its town, and crosses town borders where villages touch
    some = next(c for c, n in shapely_neighbours(con, "village").items() if any(x[:9] != c[:9] for x in n))
    got = areas.neighbours(con, some)
    towns = dict(con.execute("SELECT code, name FROM areas WHERE level = 'town'").fetchall())
    assert (got["town"] == got["code"].str[:9].map(towns)).all()
    assert (got["town_code"] != some[:9]).any()


def test_the_district_and_unknown_areas_have_no_neighbours(con):
    assert areas.neighbours(con, "").empty
    assert areas.neighbours(con, "610902999999").empty


def _direct(con, prefix: str, start=START, end=END, categories=None) -> dict:
    """Figures of one area straight from the raw tables."""
    cat, params = "", []
    if categories:
        cat = f"AND category IN ({', '.join('?' * len(categories))})"
        params = list(categories)

    def q(cond: str, *p):
        return con.execute(f"SELECT count(*) FROM cases WHERE starts_with(area_code, ?) {cat} AND {cond}",
                           [prefix, *params, *p]).fetchone()[0]

    period = "CAST(received_at AS DATE) BETWEEN ? AND ?"
    d = {
        "received": q(period, start, end),
        "closed": q(f"{period} AND status NOT IN {OPEN}", start, end),
        "rated": q(f"{period} AND satisfaction IS NOT NULL", start, end),
        "satisfied": q(f"{period} AND satisfaction IN {SATISFIED}", start, end),
        "open": q(f"CAST(received_at AS DATE) <= ? AND status IN {OPEN}", end),
        "overdue": q(f"CAST(received_at AS DATE) <= ? AND status IN {OPEN} AND deadline < ?", end, AS_OF),
    }
    d["households"] = con.execute("SELECT count(*) FROM households WHERE starts_with(area_code, ?)", [prefix]).fetchone()[0]
    d["key_assistance"] = con.execute("SELECT count(*) FROM households WHERE starts_with(area_code, ?) AND category = '连心户'",
                                      [prefix]).fetchone()[0]
    return d


def _rates(d: dict) -> dict:
    r = lambda a, b: d[a] / d[b] if d[b] else math.nan  # noqa: E731
    return {"per_1000": r("received", "households") * 1000, "closure_rate": r("closed", "received"),
            "satisfaction_rate": r("satisfied", "rated"), "key_share": r("key_assistance", "households")}


def _close(a, b) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9)


def _check_row(row, want: dict) -> None:
    for k, v in want.items():
        assert row[k] == pytest.approx(v), k
    for k, v in _rates(want).items():
        assert _close(float(row[k]), v), (k, row[k], v)


def _busy_village(con) -> str:
    return con.execute("""SELECT area_code FROM cases WHERE length(area_code) = 12 GROUP BY 1
                          ORDER BY count(*) DESC, 1 LIMIT 1""").fetchone()[0]


def test_comparison_of_a_village_matches_sql(con):
    village = _busy_village(con)
    flt = CaseFilter.of(START, END, category=["道路", "饮水", "土地宅基地纠纷"], area_prefix="ignored")
    cmp = areas.comparison(con, village, flt)
    want_neighbours = shapely_neighbours(con, "village")[village]
    assert list(cmp["role"]) == ["self"] + ["neighbour"] * len(want_neighbours) + ["town_mean", "district_mean"]
    assert set(cmp.loc[cmp["role"] == "neighbour", "code"]) == want_neighbours
    cats = ["道路", "饮水", "土地宅基地纠纷"]
    for row in cmp[cmp["role"].isin(["self", "neighbour"])].to_dict("records"):
        _check_row(row, _direct(con, row["code"], categories=cats))
    # the average rows: the town's and the district's own figures (cases placed only at town level
    # included) over their villages, so their rates are the town's and the district's
    per = _direct_by_village(con, cats)
    for role, prefix in (("town_mean", village[:9]), ("district_mean", "")):
        n = sum(1 for c in per if c.startswith(prefix))
        whole = _direct(con, prefix, categories=cats)
        row = cmp[cmp["role"] == role].iloc[0].to_dict()
        _check_row(row, {k: v / n for k, v in whole.items()})
        assert row["areas"] == n
        for k, v in _rates(whole).items():
            assert _close(float(row[k]), v), (role, k)
    assert con.execute("SELECT count(*) FROM cases WHERE length(area_code) = 9").fetchone()[0] > 0  # they count


def _direct_by_village(con, categories) -> dict[str, dict]:
    """The figures of every village (zeros included) in two grouped queries over the raw tables."""
    cat = ", ".join(f"'{c}'" for c in categories)
    cases = con.execute(f"""
        SELECT a.code,
            count(c.case_id) FILTER (CAST(c.received_at AS DATE) BETWEEN $s AND $e),
            count(c.case_id) FILTER (CAST(c.received_at AS DATE) BETWEEN $s AND $e AND c.status NOT IN {OPEN}),
            count(c.case_id) FILTER (CAST(c.received_at AS DATE) BETWEEN $s AND $e AND c.satisfaction IS NOT NULL),
            count(c.case_id) FILTER (CAST(c.received_at AS DATE) BETWEEN $s AND $e AND c.satisfaction IN {SATISFIED}),
            count(c.case_id) FILTER (CAST(c.received_at AS DATE) <= $e AND c.status IN {OPEN}),
            count(c.case_id) FILTER (CAST(c.received_at AS DATE) <= $e AND c.status IN {OPEN} AND c.deadline < $now)
        FROM areas a LEFT JOIN cases c ON c.area_code = a.code AND c.category IN ({cat})
        WHERE a.level = 'village' GROUP BY 1""", {"s": START, "e": END, "now": AS_OF}).fetchall()
    homes = dict(((c, (n, k)) for c, n, k in con.execute(
        "SELECT area_code, count(*), count(*) FILTER (category = '连心户') FROM households GROUP BY 1").fetchall()))
    keys = ["received", "closed", "rated", "satisfied", "open", "overdue"]
    return {r[0]: dict(zip(keys, r[1:])) | dict(zip(["households", "key_assistance"], homes.get(r[0], (0, 0))))
            for r in cases}


def test_comparison_of_a_town_and_of_the_district_matches_sql(con):
    town = _busy_village(con)[:9]
    flt = CaseFilter(START, END)
    cmp = areas.comparison(con, town, flt)
    assert set(cmp.loc[cmp["role"] == "neighbour", "code"]) == shapely_neighbours(con, "town")[town]
    for row in cmp[cmp["role"].isin(["self", "neighbour"])].to_dict("records"):
        _check_row(row, _direct(con, row["code"]))  # a town counts its town-level cases too

    dist = areas.comparison(con, "", flt)
    towns = [c for (c,) in con.execute("SELECT code FROM areas WHERE level = 'town' ORDER BY code").fetchall()]
    assert list(dist.loc[dist["role"] == "child", "code"]) == towns
    total = dist[dist["role"] == "district_total"].iloc[0].to_dict()
    _check_row(total, _direct(con, ""))
    mean = dist[dist["role"] == "district_mean"].iloc[0].to_dict()
    assert mean["received"] == pytest.approx(total["received"] / len(towns))
    assert _close(mean["per_1000"], total["per_1000"])


def test_per_1000_rank_orders_every_area_of_the_level(con):
    figs = areas.figures(con, CaseFilter(START, END), "village")
    per = {c: _rates(_direct(con, c))["per_1000"] for c in figs["code"].head(40)}
    for c, v in per.items():
        higher = sum(1 for x in figs["per_1000"] if x == x and x > v + 1e-9)
        assert figs.loc[figs["code"] == c, "per_1000_rank"].iloc[0] == higher + 1
    assert figs["ranked"].iloc[0] == figs["per_1000"].notna().sum()


def test_monthly_trend_matches_sql_and_lists_every_month(con):
    village = _busy_village(con)
    flt = CaseFilter(START, END)
    mon = areas.monthly(con, village, flt)
    months = [f"2025-{m:02d}" for m in (11, 12)] + [f"2026-{m:02d}" for m in range(1, 11)]
    for scope, prefix in (("area", village), ("district", "")):
        part = mon[mon["scope"] == scope]
        assert list(part["month"]) == months
        want = dict(con.execute("""SELECT strftime(received_at, '%Y-%m'), count(*) FROM cases
                                   WHERE starts_with(area_code, ?) AND CAST(received_at AS DATE) BETWEEN ? AND ?
                                   GROUP BY 1""", [prefix, START, END]).fetchall())
        assert dict(zip(part["month"], part["received"])) == {m: want.get(m, 0) for m in months}
        homes = con.execute("SELECT count(*) FROM households WHERE starts_with(area_code, ?)", [prefix]).fetchone()[0]
        assert (part["received_per_1000"] == part["received"] / homes * 1000).all()
    assert set(areas.monthly(con, "", flt)["scope"]) == {"district"}


@pytest.mark.parametrize("by", ["category", "channel"])
def test_breakdown_matches_sql(con, by):
    town = _busy_village(con)[:9]
    df = areas.breakdown(con, town, CaseFilter(START, END), by)
    q = f"""SELECT {by}, count(*) FROM cases WHERE starts_with(area_code, ?) AND CAST(received_at AS DATE) BETWEEN ? AND ?
            GROUP BY 1"""
    area = dict(con.execute(q, [town, START, END]).fetchall())
    dist = dict(con.execute(q, ["", START, END]).fetchall())
    assert dict(zip(df[by], df["received"])) == {k: area.get(k, 0) for k in dist}
    assert dict(zip(df[by], df["district_received"])) == dist
    assert df["share"].sum() == pytest.approx(1) and df["district_share"].sum() == pytest.approx(1)
    assert list(df["received"]) == sorted(df["received"], reverse=True)


def test_an_area_without_households_has_no_rates(demo_db, tmp_path):
    db = tmp_path / "no_homes.duckdb"
    shutil.copy(demo_db, db)
    c = connect(db)
    village = _busy_village(c)
    c.execute("DELETE FROM households WHERE area_code = ?", [village])
    c.close()
    c = connect(db, read_only=True)
    cmp = areas.comparison(c, village, CaseFilter(START, END))
    me = cmp[cmp["role"] == "self"].iloc[0]
    assert me["households"] == 0 and me["received"] > 0
    assert math.isnan(me["per_1000"]) and math.isnan(me["key_share"]) and pd.isna(me["per_1000_rank"])
    assert me["ranked"] == len(areas.figures(c, CaseFilter(START, END), "village")) - 1
    assert areas.monthly(c, village, CaseFilter(START, END)).query("scope == 'area'")["received_per_1000"].isna().all()
    c.close()


def test_an_empty_warehouse_gives_zeros_and_no_neighbours(tmp_path):
    from click.testing import CliRunner

    from cli import main

    db = tmp_path / "empty.duckdb"
    assert CliRunner().invoke(main, ["--db", str(db), "init", "--district", "610902"]).exit_code == 0
    c = connect(db, read_only=True)
    village = c.execute("SELECT min(code) FROM areas WHERE level = 'village'").fetchone()[0]
    assert areas.neighbours(c, village).empty  # no outlines below the district yet
    cmp = areas.comparison(c, village, CaseFilter())
    assert list(cmp["role"]) == ["self", "town_mean", "district_mean"]
    assert (cmp["received"] == 0).all() and cmp["per_1000"].isna().all()
    assert len(areas.comparison(c, "", CaseFilter())) == 28 + 2
    assert areas.monthly(c, village, CaseFilter()).empty
    assert areas.breakdown(c, village, CaseFilter(), "category").empty
    c.close()
