"""导出: the exported rows and numbers equal direct SQL over the raw tables, every format reads
back with the same rows, columns and outlines, and the CLI answers bad input with usage errors."""

from __future__ import annotations

import datetime as dt
import io

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from reports import export
from reports.tables import NOTES_SHEET
from cli import main
from analysis.filters import CaseFilter

CLOSED = ("办结", "已回访", "已归档")
OPEN = ("受理", "交办", "办理中")
START, END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
KEYS = ["received", "closed", "closure_rate", "open", "households", "key_assistance", "key_assistance_share", "paired"]


@pytest.fixture(scope="module")
def busy_town(con) -> str:
    """The town with the most cases in the small demo."""
    return con.execute("SELECT left(area_code, 9) FROM cases GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]


@pytest.fixture(scope="module")
def category(con, busy_town) -> str:
    return con.execute("SELECT category FROM cases WHERE starts_with(area_code, ?) GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                       [busy_town]).fetchone()[0]


def _direct(con, level: str, prefix: str, start, end, category: str | None) -> pd.DataFrame:
    """The expected figures per area, straight from `areas`, `cases` and `households`."""
    n = 9 if level == "town" else 12
    cat = "AND c.category = $cat" if category else ""
    return con.execute(f"""
        SELECT a.code,
          (SELECT count(*) FROM cases c WHERE starts_with(c.area_code, a.code) AND starts_with(c.area_code, $p)
             AND CAST(c.received_at AS DATE) BETWEEN $s AND $e {cat}) AS received,
          (SELECT count(*) FROM cases c WHERE starts_with(c.area_code, a.code) AND starts_with(c.area_code, $p)
             AND CAST(c.received_at AS DATE) BETWEEN $s AND $e AND c.status IN {CLOSED} {cat}) AS closed,
          (SELECT count(*) FROM cases c WHERE starts_with(c.area_code, a.code) AND starts_with(c.area_code, $p)
             AND CAST(c.received_at AS DATE) <= $e AND c.status IN {OPEN} {cat}) AS open,
          (SELECT count(*) FROM households h WHERE starts_with(h.area_code, a.code) AND starts_with(h.area_code, $p)) AS households,
          (SELECT count(*) FROM households h WHERE starts_with(h.area_code, a.code) AND starts_with(h.area_code, $p)
             AND h.category = '连心户') AS key_assistance,
          (SELECT count(*) FROM households h WHERE starts_with(h.area_code, a.code) AND starts_with(h.area_code, $p)
             AND h.category = '连心户' AND nullif(trim(h.paired_cadre_id), '') IS NOT NULL) AS paired
        FROM areas a
        WHERE length(a.code) = {n} AND (starts_with(a.code, $p) OR starts_with($p, a.code))
        ORDER BY a.code""", {"p": prefix, "s": start, "e": end, **({"cat": category} if category else {})}).df()


def _check_against_sql(gdf, want):
    lab = export.metric_labels()
    assert list(gdf[export.CODE_COL]) == list(want["code"])
    for k in ("received", "closed", "open", "households", "key_assistance", "paired"):
        assert list(gdf[lab[k]]) == list(want[k]), k
    closure = want["closed"] / want["received"].where(want["received"] > 0)
    pd.testing.assert_series_equal(gdf[lab["closure_rate"]].reset_index(drop=True), closure, check_names=False)
    share = want["key_assistance"] / want["households"].where(want["households"] > 0)
    pd.testing.assert_series_equal(gdf[lab["key_assistance_share"]].reset_index(drop=True), share, check_names=False)


def test_village_rows_and_values_equal_a_direct_query(con, busy_town, category):
    flt = CaseFilter(START, END, category=(category,), area_prefix=busy_town)
    gdf = export.area_summary(con, flt, "village", KEYS)
    want = _direct(con, "village", busy_town, START, END, category)
    assert len(want) > 1 and want["received"].sum() > 0 and want["households"].sum() > 0
    _check_against_sql(gdf, want)
    labels = export.metric_labels()
    assert list(gdf.columns) == [export.CODE_COL, "村(社区)", export.TOWN_COL, *[labels[k] for k in KEYS], "geometry"]
    town = con.execute("SELECT name FROM areas WHERE code = ?", [busy_town]).fetchone()[0]
    assert set(gdf[export.TOWN_COL]) == {town}


def test_town_rows_count_town_level_cases_too(con):
    gdf = export.area_summary(con, CaseFilter(START, END), "town", KEYS)
    want = _direct(con, "town", "", START, END, None)
    assert len(want) == con.execute("SELECT count(*) FROM areas WHERE level = 'town'").fetchone()[0]
    _check_against_sql(gdf, want)
    total = con.execute("SELECT count(*) FROM cases WHERE CAST(received_at AS DATE) BETWEEN ? AND ?", [START, END]).fetchone()[0]
    assert gdf[export.metric_labels()["received"]].sum() == total  # every case is in some town


def test_a_village_filter_at_town_level_keeps_its_town_counting_that_village(con, busy_town):
    village = con.execute("SELECT left(area_code, 12) FROM cases WHERE starts_with(area_code, ?) AND length(area_code) = 12 "
                          "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", [busy_town]).fetchone()[0]
    gdf = export.area_summary(con, CaseFilter(START, END, area_prefix=village), "town", KEYS)
    assert list(gdf[export.CODE_COL]) == [busy_town]
    _check_against_sql(gdf, _direct(con, "town", village, START, END, None))


def test_metrics_by_key_or_label_and_unknown_ones_are_named():
    assert export.parse_metrics(["received", "办结率", "连心户占比", "received"]) == [
        "received", "closure_rate", "key_assistance_share"]
    with pytest.raises(ValueError, match="nonsense"):
        export.parse_metrics(["received", "nonsense"])


def test_every_case_metric_is_a_figure_of_case_metrics_by(con):
    from analysis import metrics

    df = metrics.case_metrics_by(con, CaseFilter(START, END), "town")
    assert set(export.case_metric_labels()) <= set(df.columns)
    labels = list(export.metric_labels().values())
    assert len(labels) == len(set(labels))  # one column per label


@pytest.fixture(scope="module")
def summary(con, busy_town):
    flt = CaseFilter(START, END, area_prefix=busy_town)
    gdf = export.area_summary(con, flt, "village", KEYS)
    return flt, gdf, export.notes(con, flt, "village", gdf, "受理时段 2025-01-01 至 2025-12-31; 区域 测试镇")


def test_csv_starts_with_a_bom_and_holds_the_table(summary):
    _, gdf, notes = summary
    raw = export.to_bytes(gdf, "csv", notes)
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype={export.CODE_COL: str})
    table = pd.DataFrame(gdf.drop(columns="geometry"))
    assert list(back.columns) == list(table.columns)
    assert_csv_shows(back, table)


def assert_csv_shows(back: pd.DataFrame, table: pd.DataFrame) -> None:
    """A CSV read back holds `table` as the page shows it: codes as Excel text ="…", rates in
    percent with one decimal (empty without a denominator), the other columns as they are."""
    codes = back[export.CODE_COL]
    assert codes.str.fullmatch(r'="\d{9,12}"').all()  # Excel opens ="610902001001" as text
    assert list(codes.str[2:-1]) == list(table[export.CODE_COL])
    rates = [c for c in table.columns if c in export.rate_labels()]
    assert rates
    for c in rates:
        want = ["" if pd.isna(v) else f"{v * 100:.1f}%" for v in table[c]]
        assert list(back[c].fillna("")) == want, c
    rest = [c for c in table.columns if c not in rates and c != export.CODE_COL]
    pd.testing.assert_frame_equal(back[rest], table[rest], check_dtype=False)


def test_xlsx_holds_the_table_and_states_filters_date_and_demo(summary, con):
    _, gdf, notes = summary
    wb = openpyxl.load_workbook(io.BytesIO(export.to_bytes(gdf, "xlsx", notes)))
    assert wb.sheetnames == [export.SHEET, NOTES_SHEET]
    rows = list(wb[export.SHEET].iter_rows(values_only=True))
    table = pd.DataFrame(gdf.drop(columns="geometry"))
    assert list(rows[0]) == list(table.columns)
    assert len(rows) - 1 == len(table)
    for got, want in zip(rows[1:], table.itertuples(index=False)):
        for g, w in zip(got, want):
            if isinstance(w, str):
                assert g == w
            elif pd.isna(w):
                assert g is None
            else:
                assert g == pytest.approx(w)
    rate_col = list(table.columns).index("办结率") + 1
    assert wb[export.SHEET].cell(row=2, column=rate_col).number_format == "0.0%"
    info = dict(list(wb[NOTES_SHEET].iter_rows(values_only=True))[1:])
    assert info["筛选条件"] == "受理时段 2025-01-01 至 2025-12-31; 区域 测试镇"
    assert info["数据截至"] == "2026-10-31"
    assert "演示数据" in info["数据性质"]


def test_xlsx_keeps_formula_like_text_as_text():
    gdf = gpd.GeoDataFrame({export.CODE_COL: ["610902001"], "乡镇(街道)": ["=HYPERLINK(\"x\")"]},
                           geometry=[None], crs="EPSG:4326")
    ws = openpyxl.load_workbook(io.BytesIO(export.to_bytes(gdf, "xlsx")))[export.SHEET]
    assert ws["B2"].value == '=HYPERLINK("x")' and ws["B2"].data_type == "s"


def _warehouse_outlines(con, codes) -> dict:
    rows = con.execute("SELECT code, ST_AsWKB(geom) FROM areas WHERE list_contains(?, code)", [list(codes)]).fetchall()
    return {c: shapely.from_wkb(bytes(w)) for c, w in rows}


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_vector_files_hold_the_table_and_the_unsimplified_outlines(summary, con, tmp_path, fmt):
    _, gdf, notes = summary
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(export.to_bytes(gdf, fmt, notes))
    back = pyogrio.read_dataframe(path)
    assert back.crs.to_epsg() == 4326
    table = pd.DataFrame(gdf.drop(columns="geometry"))
    assert list(back.columns) == [*table.columns, "geometry"]
    assert list(back[export.CODE_COL]) == list(table[export.CODE_COL])
    pd.testing.assert_frame_equal(pd.DataFrame(back.drop(columns="geometry")), table, check_dtype=False)
    truth = _warehouse_outlines(con, table[export.CODE_COL])
    assert len(truth) == len(back)
    for code, geom in zip(back[export.CODE_COL], back.geometry):
        assert geom is not None and geom.is_valid
        want = truth[code]
        assert shapely.get_num_coordinates(geom) == shapely.get_num_coordinates(want)  # not simplified
        assert geom.symmetric_difference(want).area <= 1e-9 * want.area
    assert pyogrio.list_layers(path)[0][0] == export.LAYER


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("export_empty") / "empty.duckdb"
    res = CliRunner().invoke(main, ["--db", str(db), "init", "--district", "610902"])
    assert res.exit_code == 0, res.output
    return db


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_areas_without_outlines_keep_their_rows_with_empty_geometry(empty_db, tmp_path, fmt):
    from etl.db import connect

    c = connect(empty_db, read_only=True)
    try:
        gdf = export.area_summary(c, CaseFilter(), "village", ["received", "households"])
        n = c.execute("SELECT count(*) FROM areas WHERE level = 'village'").fetchone()[0]
        notes = export.notes(c, CaseFilter(), "village", gdf)
    finally:
        c.close()
    assert len(gdf) == n > 0 and gdf.geometry.isna().all()
    assert (gdf["受理诉求"] == 0).all() and (gdf["户数"] == 0).all()
    assert any(f"{n} 个区域无边界" in v for _, v in notes)
    path = tmp_path / f"empty.{fmt}"
    path.write_bytes(export.to_bytes(gdf, fmt, notes))
    back = pyogrio.read_dataframe(path)
    assert len(back) == n and back.geometry.isna().all()


# ---------------------------------------------------------------------------- CLI

def _cli(db, *args):
    return CliRunner().invoke(main, ["--db", str(db), "export", *args])


def test_cli_writes_what_area_summary_returns(demo_db, con, busy_town, category, tmp_path):
    out = tmp_path / "t.csv"
    res = _cli(demo_db, "--level", "village", "--area", busy_town, "--from", "2025-01-01", "--to", "2025-12-31",
               "--category", category, "--metrics", ",".join(KEYS), "-o", str(out))
    assert res.exit_code == 0, res.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype={export.CODE_COL: str})
    gdf = export.area_summary(con, CaseFilter(START, END, category=(category,), area_prefix=busy_town), "village", KEYS)
    assert_csv_shows(back, pd.DataFrame(gdf.drop(columns="geometry")))
    _check_against_sql(gdf, _direct(con, "village", busy_town, START, END, category))


def test_cli_format_from_suffix_and_default_name(demo_db, tmp_path, monkeypatch):
    res = _cli(demo_db, "--metrics", "受理诉求,户数", "-o", str(tmp_path / "a.gpkg"))
    assert res.exit_code == 0, res.output
    assert pyogrio.read_info(tmp_path / "a.gpkg")["features"] > 0
    monkeypatch.chdir(tmp_path)
    res = _cli(demo_db, "--level", "village", "--format", "xlsx")
    assert res.exit_code == 0, res.output
    made = [p.name for p in tmp_path.glob("区域汇总_村(社区)_*_演示数据.xlsx")]
    assert len(made) == 1, list(tmp_path.iterdir())


@pytest.mark.parametrize("args, named", [
    (["--metrics", "received,bogus"], "bogus"),
    (["--area", "999999999"], "999999999"),
    (["--category", "不存在的类别"], "不存在的类别"),
    (["--from", "2026-02-01", "--to", "2026-01-01"], "2026-02-01"),
    (["--level", "county"], "county"),
    (["--format", "shp"], "shp"),
    (["--from", "2026-13-01"], "2026-13-01"),
])
def test_cli_bad_input_is_a_usage_error_naming_it(demo_db, tmp_path, args, named):
    res = _cli(demo_db, *args, "-o", str(tmp_path / "x.csv"))
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit)  # click's usage error, not a traceback
    assert named in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x.csv").exists()


def test_cli_missing_warehouse_is_a_usage_error(tmp_path):
    res = _cli(tmp_path / "none.duckdb", "-o", str(tmp_path / "x.csv"))
    assert res.exit_code == 2 and "不存在" in res.output
