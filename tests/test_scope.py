"""The data layer serves each account its rights and a town account its town only, whatever
it asks for (dashboard.data.query with dashboard/compute/scope.py). Queries are called as the
pages call them, as a given account (dashboard.session.as_account), and compared with direct
SQL over the raw tables."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from conftest import ensure_account

from analysis.filters import CaseFilter
from dashboard import area_data, data, import_data
from dashboard.session import as_account
from etl.db import connect


@pytest.fixture(scope="module")
def towns(demo_db):
    """(the town with most cases, another town with cases) as (code, name)."""
    with connect(demo_db, read_only=True) as con:
        rows = con.execute("""SELECT a.code, a.name FROM cases c JOIN areas a ON a.code = substr(c.area_code, 1, 9)
                              GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 2""").fetchall()
    return rows[0], rows[1]


@pytest.fixture
def on_demo(monkeypatch, demo_db):
    monkeypatch.setenv("MINQING_DB", str(demo_db))
    data.forget_warehouse()
    return demo_db


def _account(db, role, town=None):
    return ensure_account(db, f"scope_{role}", role, town)


def test_a_town_account_gets_its_own_town_whatever_area_it_asks_for(on_demo, towns):
    (town, name), (other, _) = towns
    acc = _account(on_demo, "town", (town, name))
    with connect(on_demo, read_only=True) as con:
        period = con.execute("SELECT min(received_at)::DATE, max(received_at)::DATE FROM cases").fetchone()
        mine = con.execute("SELECT count(*) FROM cases WHERE starts_with(area_code, ?)", [town]).fetchone()[0]
        my_villages = {c for (c,) in con.execute(
            "SELECT code FROM areas WHERE level = 'village' AND starts_with(code, ?)", [town]).fetchall()}
    flt = CaseFilter(*period, area_prefix=other)
    with as_account(acc):
        assert data.summary(flt)["received"] == mine  # asked for another town: got its own
        assert data.summary(CaseFilter(*period))["received"] == mine  # asked for the district: the same
        assert data.towns() == {town: name}
        assert set(data.village_shapes("")["code"]) == my_villages
        assert set(data.metrics_by(flt, "village")["code"]) <= my_villages
        assert set(data.must_visit()["area_code"]) <= my_villages
        hot = data.area_hotspots(flt, "village")
        assert set(hot["area_code"]) <= my_villages and len(hot) > 0
        for frame in data.households("village", other).values():
            assert set(_codes(frame)) <= my_villages
        assert data.bounds("") == data.bounds(town)
        categories, bins = data.emerging(flt, "village")
        assert len(bins) and bins["location"].str.startswith(town).all()
        assert categories["area_code"].str.startswith(town).all()
        csv = data.export_file(flt, "village", ("received",), "csv", "")
    exported = pd.read_csv(io.BytesIO(csv), dtype=str, encoding="utf-8-sig")
    code_col = next(c for c in exported.columns if "代码" in c)  # codes written ="…" to open as text in Excel
    assert set(exported[code_col].str.removeprefix('="').str.removesuffix('"')) == my_villages
    # the district-wide statistic is the district's, cut to the town: the same classes as a planner's
    with as_account(_account(on_demo, "planner")):
        whole = data.area_hotspots(flt, "village").set_index("area_code")
    assert len(whole) > len(hot)
    pd.testing.assert_frame_equal(hot.set_index("area_code"), whole.loc[hot["area_code"]], check_like=True)


def _codes(frame: pd.DataFrame) -> pd.Series:
    return frame["code"] if "code" in frame.columns else frame["area_code"]


def test_a_town_account_compares_with_the_district_average_only(on_demo, towns):
    (town, name), (other, _) = towns
    acc = _account(on_demo, "town", (town, name))
    with connect(on_demo, read_only=True) as con:
        period = con.execute("SELECT min(received_at)::DATE, max(received_at)::DATE FROM cases").fetchone()
        village = con.execute("SELECT min(code) FROM areas WHERE level = 'village' AND starts_with(code, ?)",
                              [other]).fetchone()[0]
    with as_account(acc):
        table = area_data.area_comparison(village, CaseFilter(*period))
    assert set(table["role"]) <= {"self", "neighbour", "district_mean", "town_mean"}
    assert "district_total" not in set(table["role"])
    own = table[~table["role"].str.endswith("_mean")]
    assert own["code"].str.startswith(town).all() and (table["role"] == "self").sum() == 1


@pytest.mark.parametrize("role, allowed", [("leader", False), ("town", False), ("planner", True), ("admin", False)])
def test_the_load_history_is_for_those_who_load(on_demo, towns, role, allowed):
    acc = _account(on_demo, role, towns[0] if role == "town" else None)
    with as_account(acc):
        if allowed:
            assert len(import_data.load_history()) > 0
        else:
            with pytest.raises(PermissionError):
                import_data.load_history()


def test_an_administrator_sees_no_case_figure(on_demo):
    with as_account(_account(on_demo, "admin")), pytest.raises(PermissionError):
        data.summary(CaseFilter())


def test_a_leader_sees_the_overdue_list_without_petitioner_and_phone(on_demo):
    with as_account(_account(on_demo, "leader")):
        leader = data.overdue_cases(CaseFilter())
    with as_account(_account(on_demo, "planner")):
        planner = data.overdue_cases(CaseFilter())
    assert len(leader) == len(planner) > 0
    assert {"petitioner_masked", "phone_masked"} <= set(planner.columns)
    assert not {"petitioner_masked", "phone_masked"} & set(leader.columns)


def test_a_town_account_opens_every_page_of_its_navigation(monkeypatch, on_demo, towns):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from access.roles import ROLES
    from dashboard.pages import pages_for
    from dashboard.session import ACCOUNT_KEY

    acc = _account(on_demo, "town", towns[0])
    for page in pages_for(ROLES["town"]):
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py"), default_timeout=180)
        at.session_state[ACCOUNT_KEY] = acc
        at.switch_page(page.file)
        at.run()
        assert not at.exception, (page.file, [e.value for e in at.exception])
        assert not at.error, (page.file, [e.value for e in at.error])
