"""Case metrics: every figure equals an independent pandas computation on the raw tables
(the demo), and each rule holds on tiny hand-made warehouses where it needs an exact case."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis import metrics
from analysis.filters import CaseFilter
from analysis.rankings import rankings
from etl import views
from etl.db import connect, run_sql_file

# Written out here on purpose (not read from etl/vocab.py): an independent statement of the rules.
OPEN = ("受理", "交办", "办理中")
SATISFIED = ("满意", "基本满意")
NOW = pd.Timestamp("2026-10-31 23:59:59")
BUCKET_LABELS = ["1-7天", "8-14天", "15-30天", "31-90天", "90天以上"]


# --------------------------------------------------------------------------- independent reference

def reference_flags(cases: pd.DataFrame, now: pd.Timestamp = NOW) -> pd.DataFrame:
    """Per-case flags computed with pandas, straight from the definitions."""
    c = cases.copy()
    c["date"] = c["received_at"].dt.normalize()
    c["is_open"] = c["status"].isin(OPEN)
    closed = ~c["is_open"]
    c["is_closed"] = closed
    c["on_time"] = closed & c["closed_at"].notna() & (c["closed_at"] <= c["deadline"])
    c["hours"] = (c["assigned_at"] - c["received_at"]).dt.total_seconds() / 3600
    c["responded"] = c["assigned_at"].notna() & (c["hours"] <= 24)
    c["rated"] = c["satisfaction"].notna()
    c["satisfied"] = c["satisfaction"].isin(SATISFIED)
    c["followed"] = closed & c["followup_at"].notna()
    opinion_missing = c["handling_opinion"].isna() | (c["handling_opinion"].fillna("").str.strip() == "")
    c["v_opinion"] = closed & opinion_missing
    c["v_followup"] = closed & c["followup_at"].isna()
    signed = c["signed_handler"].astype("boolean").fillna(False) & c["signed_leader"].astype("boolean").fillna(False)
    c["v_signature"] = closed & ~signed.astype(bool)
    c["v_any"] = c["v_opinion"] | c["v_followup"] | c["v_signature"]
    c["overdue"] = c["is_open"] & (c["deadline"] < now)
    late_days = np.ceil((now - c["deadline"]).dt.total_seconds() / 86400)
    c["days_overdue"] = late_days.where(c["overdue"])
    # repeat: the previous case of the same petitioner on the same category, at most 90 days before
    s = c[c["petitioner_hash"].notna()].sort_values(["petitioner_hash", "category", "received_at", "case_id"])
    prev = s.groupby(["petitioner_hash", "category"])["date"].shift()
    c["repeat"] = c["case_id"].isin(s.loc[(s["date"] - prev).dt.days <= 90, "case_id"])
    # multi-channel and level-skipping: compare with every earlier case of the pair
    k = s[["case_id", "petitioner_hash", "category", "received_at", "date", "channel", "received_level"]]
    pairs = k.merge(k, on=["petitioner_hash", "category"], suffixes=("", "_e"))
    earlier = (pairs["received_at_e"] < pairs["received_at"]) | (
        (pairs["received_at_e"] == pairs["received_at"]) & (pairs["case_id_e"] < pairs["case_id"]))
    pairs = pairs[earlier]
    within = (pairs["date"] - pairs["date_e"]).dt.days <= 90
    c["multichannel"] = c["case_id"].isin(pairs.loc[within & (pairs["channel"] != pairs["channel_e"]), "case_id"])
    had_local = c["case_id"].isin(pairs.loc[pairs["received_level_e"].isin(["village", "town"]), "case_id"])
    c["skip_city"] = c["received_level"] == "city"
    c["skip_district"] = (c["received_level"] == "district") & (c["channel"] == "接访日") & ~had_local
    c["skipping"] = c["skip_city"] | c["skip_district"]
    c["group"] = c["group_size"] >= 5
    return c


def _rate(a, b):
    return None if b == 0 else a / b


def reference_summary(c: pd.DataFrame, start: dt.date, end: dt.date) -> dict:
    """Figures of cases received in [start, end] (flows) and the open backlog received up to end."""
    d = c["received_at"].dt.date
    p = c[(d >= start) & (d <= end)]
    upto = c[d <= end]
    n = lambda col: int(p[col].sum())  # noqa: E731
    hours = p["hours"].dropna()
    out = {
        "received": len(p), "closed": n("is_closed"), "closed_on_time": n("on_time"),
        "assigned": int(p["assigned_at"].notna().sum()), "responded_on_time": n("responded"),
        "response_hours_median": float(hours.median()) if len(hours) else None,
        "response_hours_mean": float(hours.mean()) if len(hours) else None,
        "rated": n("rated"), "satisfied": n("satisfied"), "followed_up": n("followed"),
        "violations": n("v_any"), "violations_opinion": n("v_opinion"), "violations_followup": n("v_followup"),
        "violations_signature": n("v_signature"), "repeat": n("repeat"), "level_skipping": n("skipping"),
        "level_skipping_city": n("skip_city"), "level_skipping_district": n("skip_district"),
        "multichannel": n("multichannel"), "group_petitions": n("group"),
        "group_people": int(p.loc[p["group"], "group_size"].sum()),
        "open": int(upto["is_open"].sum()), "overdue": int(upto["overdue"].sum()),
    }
    out["closure_rate"] = _rate(out["closed"], out["received"])
    out["on_time_rate"] = _rate(out["closed_on_time"], out["closed"])
    out["response_rate"] = _rate(out["responded_on_time"], out["received"])
    out["satisfaction_rate"] = _rate(out["satisfied"], out["rated"])
    out["followup_rate"] = _rate(out["followed_up"], out["closed"])
    out["violation_rate"] = _rate(out["violations"], out["closed"])
    days = upto["days_overdue"].dropna()
    bins = pd.cut(days, [0, 7, 14, 30, 90, math.inf], labels=BUCKET_LABELS, right=True)
    out["overdue_buckets"] = {k: int(v) for k, v in bins.value_counts().reindex(BUCKET_LABELS, fill_value=0).items()}
    return out


def assert_figures(got: dict, want: dict) -> None:
    for k, v in want.items():
        g = got[k]
        if isinstance(v, float) or isinstance(g, float):
            assert g is not None and v is not None and g == pytest.approx(v, rel=1e-9), k
        else:
            assert g == v, k


# --------------------------------------------------------------------------- the demo

@pytest.fixture(scope="module")
def demo(demo_db):
    con = connect(demo_db, read_only=True)
    cases = con.execute("SELECT * FROM cases").df()
    areas = con.execute("SELECT code, name, level FROM areas").df()
    con.close()
    return reference_flags(cases), areas


PERIODS = [(dt.date(2023, 1, 1), dt.date(2026, 10, 31)), (dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
           (dt.date(2026, 10, 1), dt.date(2026, 10, 31)), (dt.date(2024, 2, 29), dt.date(2024, 3, 6))]


@pytest.mark.parametrize("start,end", PERIODS)
def test_summary_equals_pandas_on_the_demo(con, demo, start, end):
    flags, _ = demo
    got = metrics.case_summary(con, CaseFilter(start, end), compare=False)
    assert_figures(got, reference_summary(flags, start, end))
    assert got["as_of"] == NOW.to_pydatetime()


def test_the_demo_has_every_kind_of_case(demo):
    """The demo exercises every rule, so the comparisons above are not vacuous."""
    flags, _ = demo
    for col in ["repeat", "multichannel", "skip_city", "skip_district", "group", "v_opinion", "v_followup",
                "v_signature", "overdue", "on_time", "satisfied"]:
        assert flags[col].sum() > 0, col
    assert (flags["is_closed"] & ~flags["on_time"]).sum() > 0


def test_filters_change_the_numbers_as_expected(con, demo):
    flags, areas = demo
    start, end = dt.date(2024, 1, 1), dt.date(2026, 10, 31)
    town = flags["area_code"].str[:9].value_counts().index[0]
    cat = flags["category"].value_counts().index[1]
    cases = {
        "area": (dict(area_prefix=town), flags["area_code"].str.startswith(town)),
        "category": (dict(category=cat), flags["category"] == cat),
        "channel": (dict(channel=["群工热线", "接访日"]), flags["channel"].isin(["群工热线", "接访日"])),
        "status": (dict(status="办理中"), flags["status"] == "办理中"),
        "combined": (dict(area_prefix=town, category=cat, channel="群工热线"),
                     flags["area_code"].str.startswith(town) & (flags["category"] == cat) & (flags["channel"] == "群工热线")),
    }
    everything = metrics.case_summary(con, CaseFilter(start, end), compare=False)
    for name, (kw, mask) in cases.items():
        got = metrics.case_summary(con, CaseFilter.of(start, end, **kw), compare=False)
        # flags were computed on all cases: a repeat stays a repeat whatever the filter
        assert_figures(got, reference_summary(flags[mask], start, end))
        assert got["received"] < everything["received"], name
    # a synonym is the term; an unknown term is an error, not silently zero
    assert metrics.case_summary(con, CaseFilter.of(start, end, channel="12345"), compare=False)["received"] == \
        metrics.case_summary(con, CaseFilter.of(start, end, channel="群工热线"), compare=False)["received"]
    with pytest.raises(ValueError, match="unknown category"):
        CaseFilter.of(start, end, category="不存在的类别")


def test_a_filter_selects_the_same_cases_from_cases_and_case_facts(con, demo):
    """CaseFilter.where is the one translation of a filter into SQL: the table and the view agree."""
    flags, _ = demo
    town = flags["area_code"].str[:9].value_counts().index[0]
    flt = CaseFilter.of(dt.date(2024, 1, 1), dt.date(2025, 6, 30), area_prefix=town, channel=["12345", "接访日"],
                        status=["办结", "已回访"])
    where, params = flt.where("c")
    in_cases = con.execute(f"SELECT count(*) FROM cases c WHERE {where}", params).fetchone()[0]
    views.ensure_views(con)
    where, params = flt.where()
    in_facts = con.execute(f"SELECT count(*) FROM case_facts WHERE {where}", params).fetchone()[0]
    assert in_cases == in_facts == metrics.case_summary(con, flt, compare=False)["received"] > 0


def test_figures_need_both_ends_of_the_period(con, demo):
    flags, _ = demo
    with pytest.raises(ValueError, match="both ends"):
        metrics.case_summary(con, CaseFilter(start=dt.date(2025, 1, 1)))
    with pytest.raises(ValueError, match="both ends"):
        metrics.case_metrics_by(con, CaseFilter(end=dt.date(2025, 1, 1)), "town")
    # an open period is the default one: 12 calendar months up to the data's own date (the demo's 2026-10-31)
    assert metrics.resolve_period(con, CaseFilter()) == (dt.date(2025, 11, 1), dt.date(2026, 10, 31))
    assert metrics.resolve_period(con, CaseFilter(start=dt.date(2025, 1, 1))) == (dt.date(2025, 1, 1), dt.date(2026, 10, 31))
    assert metrics.resolve_period(con, CaseFilter(end=dt.date(2025, 6, 30))) == (dt.date(2024, 7, 1), dt.date(2025, 6, 30))
    first = flags["received_at"].min().date()
    assert metrics.resolve_period(con, CaseFilter(end=first)) == (first, first)  # never before the first case


def test_period_over_period_and_year_over_year(con, demo):
    flags, _ = demo
    got = metrics.case_summary(con, CaseFilter(dt.date(2026, 3, 1), dt.date(2026, 3, 31)))
    assert got["periods"]["previous"] == (dt.date(2026, 1, 29), dt.date(2026, 2, 28))
    assert got["periods"]["last_year"] == (dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    cur = reference_summary(flags, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    prev = reference_summary(flags, dt.date(2026, 1, 29), dt.date(2026, 2, 28))
    last = reference_summary(flags, dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    for k in ("open", "overdue", "overdue_buckets"):
        del prev[k], last[k]
    assert_figures(got["previous"], prev)
    assert_figures(got["last_year"], last)
    ch = got["changes"]
    assert ch["received"]["pop_change"] == cur["received"] - prev["received"]
    assert ch["received"]["pop_pct"] == pytest.approx((cur["received"] - prev["received"]) / prev["received"])
    assert ch["received"]["yoy_pct"] == pytest.approx((cur["received"] - last["received"]) / last["received"])
    assert ch["satisfaction_rate"]["yoy_change"] == pytest.approx(cur["satisfaction_rate"] - last["satisfaction_rate"])
    assert ch["satisfaction_rate"]["yoy_pct"] is None  # rates change in points only
    assert set(ch) >= {"received", "closed", "closure_rate", "on_time_rate", "satisfaction_rate", "followup_rate",
                       "violations", "repeat", "level_skipping", "multichannel", "group_petitions"}


def test_a_leap_day_compares_with_28_february():
    assert metrics.comparison_periods(dt.date(2024, 2, 29), dt.date(2024, 2, 29))["last_year"] == \
        (dt.date(2023, 2, 28), dt.date(2023, 2, 28))


def test_metrics_by_town_add_up_and_match_pandas(con, demo):
    flags, areas = demo
    start, end = dt.date(2025, 1, 1), dt.date(2026, 10, 31)
    df = metrics.case_metrics_by(con, CaseFilter(start, end), "town")
    towns = areas[areas["level"] == "town"]
    assert sorted(df["code"]) == sorted(towns["code"])  # every town, zeros included
    total = metrics.case_summary(con, CaseFilter(start, end), compare=False)
    for k in ("received", "closed", "open", "overdue", "violations", "repeat", "group_people"):
        assert df[k].sum() == total[k], k
    code = df.sort_values("received").iloc[-1]["code"]
    want = reference_summary(flags[flags["area_code"].str.startswith(code)], start, end)
    row = df.set_index("code").loc[code]
    for k in ("received", "closed", "open", "overdue", "repeat", "multichannel", "level_skipping", "rated", "satisfied"):
        assert row[k] == want[k], k
    assert row["satisfaction_rate"] == pytest.approx(want["satisfaction_rate"])
    assert row["overdue_90天以上"] == want["overdue_buckets"]["90天以上"]
    months = metrics.case_metrics_by(con, CaseFilter(start, end), "month")
    assert months["received"].sum() == total["received"] and months["month"].iloc[0] <= "2025-01"


def test_metrics_by_measures_computes_only_those_with_the_same_values(con, demo):
    flags, _ = demo
    start, end = dt.date(2025, 1, 1), dt.date(2026, 10, 31)
    cat = flags["category"].value_counts().index[0]
    full = metrics.case_metrics_by(con, CaseFilter.of(start, end, category=cat), "village").set_index("code")
    part = metrics.case_metrics_by(con, CaseFilter.of(start, end, category=cat), "village",
                                   measures=["open", "overdue_90天以上", "satisfaction_rate"]).set_index("code")
    # a rate brings its numerator and denominator; nothing else is computed
    assert set(part.columns) == {"name", "satisfied", "rated", "open", "overdue_90天以上", "satisfaction_rate"}
    pd.testing.assert_frame_equal(part, full[part.columns])
    months = metrics.case_metrics_by(con, CaseFilter(start, end), "month", measures=["received"])
    assert list(months.columns) == ["month", "received"]
    assert months["received"].sum() == metrics.case_summary(con, CaseFilter(start, end), compare=False)["received"]
    with pytest.raises(ValueError, match="unknown measure 'recieved'"):
        metrics.case_metrics_by(con, CaseFilter(start, end), "town", measures=["recieved"])


def _reference_ranking(flags, areas, start, end, min_cases, weights):
    d = flags["received_at"].dt.date
    p = flags[(d >= start) & (d <= end)].assign(town=lambda x: x["area_code"].str[:9])
    g = p.groupby("town").agg(received=("case_id", "size"), responded=("responded", "sum"),
                              closed=("is_closed", "sum"), rated=("rated", "sum"), satisfied=("satisfied", "sum"))
    g = g.reindex(areas.loc[areas["level"] == "town", "code"], fill_value=0)
    rates = pd.DataFrame({"response": g["responded"] / g["received"].replace(0, np.nan),
                          "resolution": g["closed"] / g["received"].replace(0, np.nan),
                          "satisfaction": g["satisfied"] / g["rated"].replace(0, np.nan)})
    w = pd.Series(weights, dtype=float)
    g["score"] = 100 * (rates.fillna(0) * w).sum(axis=1) / (rates.notna() * w).sum(axis=1).replace(0, np.nan)
    g["ranked"] = (g["received"] >= min_cases) & g["score"].notna()
    g["rank"] = g.loc[g["ranked"], "score"].rank(ascending=False, method="min")
    g["satisfaction_rate"] = rates["satisfaction"]
    return g


@pytest.mark.parametrize("weights", [None, {"response": 0, "resolution": 1, "satisfaction": 3}])
def test_town_rankings_match_pandas(con, demo, weights):
    flags, areas = demo
    start, end = dt.date(2023, 1, 1), dt.date(2026, 10, 31)
    got = rankings(con, CaseFilter(start, end), "town", weights=weights).set_index("code")
    want = _reference_ranking(flags, areas, start, end, 30, weights or {"response": 1, "resolution": 1, "satisfaction": 1})
    assert got["ranked"].any() and not got["ranked"].all()  # the demo has towns on both sides of 30
    assert sorted(got.index) == sorted(want.index)
    got = got.loc[want.index]
    assert (got["received"] == want["received"]).all()
    assert np.allclose(got["score"], want["score"], equal_nan=True)
    assert (got["ranked"] == want["ranked"]).all()
    assert got.loc[want["ranked"], "rank"].astype(int).tolist() == want.loc[want["ranked"], "rank"].astype(int).tolist()
    assert got.loc[~want["ranked"], "rank"].isna().all()
    sat = want["satisfaction_rate"]
    assert (got["flag_satisfaction_warn"] == (want["ranked"] & (sat < 0.9))).all()
    assert (got["flag_satisfaction_alarm"] == (want["ranked"] & (sat < 0.7))).all()
    assert (got["flag_score_alarm"] == (want["ranked"] & (want["score"] < 60))).all()
    assert got["flag_last"].sum() >= 1


def test_unit_rankings_cover_the_units_with_cases(con, demo):
    flags, _ = demo
    got = rankings(con, CaseFilter(dt.date(2023, 1, 1), dt.date(2026, 10, 31)), "unit", min_cases=10)
    want = flags.dropna(subset=["handling_unit"]).groupby("handling_unit").size()
    assert got.set_index("handling_unit")["received"].to_dict() == want.to_dict()
    assert got["ranked"].eq(got["received"] >= 10).all()
    # the rates are over every case a unit received: a status filter does not apply
    by_status = rankings(con, CaseFilter(dt.date(2023, 1, 1), dt.date(2026, 10, 31), status=("办理中",)), "unit",
                         min_cases=10)
    pd.testing.assert_frame_equal(by_status, got)


def test_the_overview_maps_village_counts(con, demo):
    """Received and open per village, as the overview map shows them: cases placed at a village only."""
    start, end = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    flags, _ = demo
    rows = metrics.case_metrics_by(con, CaseFilter(start, end), "village", measures=["received", "open"])
    at_village = flags[flags["area_code"].str.len() == 12]
    assert rows["received"].sum() == int(at_village["received_at"].dt.date.between(start, end).sum())
    assert rows["open"].sum() == int((at_village["is_open"] & (at_village["received_at"].dt.date <= end)).sum())


def test_views_can_be_written_into_a_warehouse_and_read_back(tmp_path, demo_db):
    import shutil

    db = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_db, db)
    con = connect(db)
    views.create_views(con)
    con.close()
    con = connect(db, read_only=True)
    n_views = con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name IN ('case_facts', 'household_facts') "
                          "AND database_name = current_database()").fetchone()[0]
    assert n_views == 2
    stored = con.execute("SELECT count(*) FILTER (is_repeat), count(*) FILTER (is_overdue) FROM case_facts").fetchone()
    views.ensure_views(con)  # the temporary ones, from the code, agree with the stored ones
    assert con.execute("SELECT count(*) FILTER (is_repeat), count(*) FILTER (is_overdue) FROM case_facts").fetchone() == stored
    con.close()


# --------------------------------------------------------------------------- tiny warehouses

AS_OF = dt.datetime(2026, 10, 31, 23, 59, 59)
TOWN_A, TOWN_B = "610902001", "610902100"
VILLAGE_A, VILLAGE_B = "610902001003", "610902100001"


@pytest.fixture(scope="module")
def tiny_warehouse():
    """A warehouse with two towns, one village each, and the demo's as-of date (one per module:
    opening a connection with the spatial extension takes half a second)."""
    con = connect()
    run_sql_file(con, "schema")
    con.execute("INSERT INTO meta VALUES ('demo_as_of', '2026-10-31')")
    con.executemany("INSERT INTO areas (code, name, level, parent_code) VALUES (?, ?, ?, ?)", [
        ("610902", "汉滨区", "district", None), (TOWN_A, "老城街道", "town", "610902"),
        (TOWN_B, "关庙镇", "town", "610902"), (VILLAGE_A, "西大街社区居委会", "village", TOWN_A),
        (VILLAGE_B, "关庙村委会", "village", TOWN_B)])
    yield con
    con.close()


@pytest.fixture
def tiny(tiny_warehouse):
    """The tiny warehouse without cases."""
    tiny_warehouse.execute("DELETE FROM cases")
    return tiny_warehouse


_n = iter(range(1, 10**6))


def add_case(con, received: str | dt.datetime, **kw) -> str:
    """A compliant closed case unless told otherwise."""
    received = pd.Timestamp(received).to_pydatetime()
    row = dict(case_id=f"T{next(_n):06d}", received_at=received, channel="群工热线", category="道路", status="已回访",
               area_code=VILLAGE_A, placement="code", major=False, assigned_at=received + dt.timedelta(hours=2),
               deadline=received + dt.timedelta(days=7), closed_at=received + dt.timedelta(days=3),
               satisfaction="满意", petitioner_hash=None, group_size=1, handling_unit="区交通局",
               received_level="village", handling_opinion="已解决", followup_at=received + dt.timedelta(days=4),
               signed_handler=True, signed_leader=True)
    row.update(kw)
    cols = ", ".join(row)
    con.execute(f"INSERT INTO cases ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    views.refresh_case_history(con)  # written outside a load: the derived table follows by hand
    return row["case_id"]


def facts(con) -> pd.DataFrame:
    views.ensure_views(con)
    return con.execute("SELECT * FROM case_facts").df().set_index("case_id")


def test_repeat_within_90_days_but_not_91(tiny):
    a = add_case(tiny, "2026-01-01 09:00", petitioner_hash="P")
    b = add_case(tiny, "2026-04-01 17:00", petitioner_hash="P")  # 90 days after a
    c = add_case(tiny, "2026-01-01 09:00", petitioner_hash="Q")
    d = add_case(tiny, "2026-04-02 08:00", petitioner_hash="Q")  # 91 days after c
    e = add_case(tiny, "2026-04-01 18:00", petitioner_hash="P", category="饮水")  # other category
    f = add_case(tiny, "2026-01-02", petitioner_hash=None)
    g = add_case(tiny, "2026-01-03", petitioner_hash=None)  # unknown petitioners never repeat
    h = add_case(tiny, "2026-06-01 10:00", petitioner_hash="R")
    i = add_case(tiny, "2026-06-01 10:00", petitioner_hash="R")  # same moment: the later id repeats
    rep = facts(tiny)["is_repeat"]
    assert rep[b] and not rep[a]
    assert not rep[c] and not rep[d]
    assert not rep[e] and not rep[f] and not rep[g]
    assert rep[i] and not rep[h]
    s = metrics.case_summary(tiny, CaseFilter(dt.date(2026, 4, 1), dt.date(2026, 4, 30)))
    assert s["repeat"] == 1 and s["received"] == 3


def test_level_skipping(tiny):
    city = add_case(tiny, "2026-05-01", received_level="city", petitioner_hash="P")
    local = add_case(tiny, "2026-01-01", received_level="village", petitioner_hash="Q")
    visit = {"received_level": "district", "channel": "接访日"}  # in person at the district
    after_local = add_case(tiny, "2026-03-01", petitioner_hash="Q", **visit)
    first_at_district = add_case(tiny, "2026-02-01", petitioner_hash="R", **visit)
    then_town = add_case(tiny, "2026-02-05", received_level="town", petitioner_hash="R")
    other_cat = add_case(tiny, "2026-03-01", petitioner_hash="R", category="饮水", **visit)
    long_after = add_case(tiny, "2026-10-01", petitioner_hash="Q", **visit)  # any time before counts
    town = add_case(tiny, "2026-03-01", received_level="town", petitioner_hash="S")
    hotline = add_case(tiny, "2026-04-01", received_level="district", petitioner_hash="T")  # the district's own hotline
    f = facts(tiny)
    assert f.loc[city, "is_level_skipping"] and f.loc[city, "is_level_skipping_city"]
    assert not f.loc[local, "is_level_skipping"] and not f.loc[after_local, "is_level_skipping"]
    assert f.loc[first_at_district, "is_level_skipping_district"]  # the town case came later
    assert not f.loc[then_town, "is_level_skipping"]
    assert f.loc[other_cat, "is_level_skipping"]  # the earlier town case was about another category
    assert not f.loc[long_after, "is_level_skipping"] and not f.loc[town, "is_level_skipping"]
    assert not f.loc[hotline, "is_level_skipping"]
    s = metrics.case_summary(tiny, CaseFilter(dt.date(2026, 1, 1), dt.date(2026, 10, 31)), compare=False)
    assert (s["level_skipping"], s["level_skipping_city"], s["level_skipping_district"]) == (3, 1, 2)


def test_multichannel(tiny):
    a = add_case(tiny, "2026-01-01", petitioner_hash="P", channel="群工热线")
    b = add_case(tiny, "2026-02-01", petitioner_hash="P", channel="接访日")
    c = add_case(tiny, "2026-02-10", petitioner_hash="P", channel="接访日")  # a is still within 90 days
    d = add_case(tiny, "2026-01-01", petitioner_hash="Q", channel="群工热线")
    e = add_case(tiny, "2026-04-02", petitioner_hash="Q", channel="网上信访")  # 91 days later
    f = add_case(tiny, "2026-01-01", petitioner_hash="R", channel="群工热线")
    g = add_case(tiny, "2026-01-05", petitioner_hash="R", channel="群工热线")  # same channel: repeat only
    m = facts(tiny)["is_multichannel"]
    assert not m[a] and m[b] and m[c]
    assert not m[d] and not m[e]
    assert not m[f] and not m[g]


def test_three_conditions_for_closing(tiny):
    ok = add_case(tiny, "2026-09-01")
    no_sign = add_case(tiny, "2026-09-01", signed_leader=False)
    unknown_sign = add_case(tiny, "2026-09-01", signed_handler=None)
    no_opinion = add_case(tiny, "2026-09-01", handling_opinion="  ")
    no_followup = add_case(tiny, "2026-09-01", followup_at=None, status="办结", satisfaction=None)
    open_case = add_case(tiny, "2026-10-30", status="办理中", closed_at=None, followup_at=None, handling_opinion=None,
                         signed_handler=None, signed_leader=None, satisfaction=None)
    f = facts(tiny)
    assert not f.loc[ok, "violation_any"] and not f.loc[open_case, "violation_any"]
    assert f.loc[no_sign, "violation_signature"] and f.loc[unknown_sign, "violation_signature"]
    assert not f.loc[no_sign, "violation_opinion"] and not f.loc[no_sign, "violation_followup"]
    assert f.loc[no_opinion, "violation_opinion"] and f.loc[no_followup, "violation_followup"]
    s = metrics.case_summary(tiny, CaseFilter(dt.date(2026, 9, 1), dt.date(2026, 10, 31)), compare=False)
    assert (s["violations"], s["violations_signature"], s["violations_opinion"], s["violations_followup"]) == (4, 2, 1, 1)
    assert s["closed"] == 5 and s["followed_up"] == 4 and s["followup_rate"] == pytest.approx(4 / 5)
    assert s["violation_rate"] == pytest.approx(4 / 5)


def test_overdue_aging_buckets(tiny):
    late = {  # deadline before as-of by ... -> bucket
        "just": (dt.timedelta(hours=1), "1-7天"), "seven": (dt.timedelta(days=7), "1-7天"),
        "eight": (dt.timedelta(days=7, seconds=1), "8-14天"), "ten": (dt.timedelta(days=10), "8-14天"),
        "twenty": (dt.timedelta(days=20), "15-30天"), "sixty": (dt.timedelta(days=60), "31-90天"),
        "ninety": (dt.timedelta(days=90), "31-90天"), "hundred": (dt.timedelta(days=100), "90天以上"),
    }
    for name, (delta, _) in late.items():
        deadline = AS_OF - delta
        add_case(tiny, deadline - dt.timedelta(days=7), case_id=name, deadline=deadline, status="办理中",
                 closed_at=None, followup_at=None, satisfaction=None)
    add_case(tiny, AS_OF - dt.timedelta(days=7), case_id="not_yet", deadline=AS_OF, status="交办",
             closed_at=None, followup_at=None, satisfaction=None)
    add_case(tiny, AS_OF - dt.timedelta(days=200), case_id="closed_late", status="办结")
    f = facts(tiny)
    assert f.loc["just", "days_overdue"] == 1 and f.loc["seven", "days_overdue"] == 7 and f.loc["eight", "days_overdue"] == 8
    assert not f.loc["not_yet", "is_overdue"] and not f.loc["closed_late", "is_overdue"]
    s = metrics.case_summary(tiny, CaseFilter(dt.date(2026, 1, 1), dt.date(2026, 10, 31)), compare=False)
    assert s["overdue"] == len(late) and s["open"] == len(late) + 1
    want = pd.Series([b for _, b in late.values()]).value_counts().reindex(BUCKET_LABELS, fill_value=0)
    assert s["overdue_buckets"] == want.to_dict()
    assert list(s["overdue_buckets"]) == BUCKET_LABELS


def test_on_time_and_response(tiny):
    add_case(tiny, "2026-09-01 08:00", closed_at=dt.datetime(2026, 9, 8, 8, 0))  # exactly at the deadline
    add_case(tiny, "2026-09-01 08:00", closed_at=dt.datetime(2026, 9, 8, 8, 1))  # a minute late
    add_case(tiny, "2026-09-01 08:00", status="已归档", closed_at=None)  # closed, no closing time
    add_case(tiny, "2026-09-01 08:00", assigned_at=dt.datetime(2026, 9, 2, 8, 0))  # 24 h: responded
    add_case(tiny, "2026-09-01 08:00", assigned_at=dt.datetime(2026, 9, 2, 8, 1), satisfaction="不满意")
    add_case(tiny, "2026-09-01 08:00", assigned_at=None, status="受理", closed_at=None, followup_at=None,
             satisfaction=None)
    s = metrics.case_summary(tiny, CaseFilter(dt.date(2026, 9, 1), dt.date(2026, 9, 1)), compare=False)
    assert s["closed"] == 5 and s["closed_on_time"] == 3 and s["on_time_rate"] == pytest.approx(3 / 5)
    assert s["responded_on_time"] == 4 and s["response_rate"] == pytest.approx(4 / 6) and s["assigned"] == 5
    assert s["response_hours_median"] == pytest.approx(2.0)
    assert s["response_hours_mean"] == pytest.approx((2 * 3 + 24 + 24 + 1 / 60) / 5)
    assert s["rated"] == 5 and s["satisfied"] == 4 and s["satisfaction_rate"] == pytest.approx(0.8)


def test_group_petitions(tiny):
    add_case(tiny, "2026-09-01", group_size=4)
    add_case(tiny, "2026-09-01", group_size=5)
    add_case(tiny, "2026-09-01", group_size=30)
    s = metrics.case_summary(tiny, CaseFilter(dt.date(2026, 9, 1), dt.date(2026, 9, 30)), compare=False)
    assert s["group_petitions"] == 2 and s["group_people"] == 35


def test_a_unit_below_the_minimum_is_listed_not_ranked(tiny):
    for i in range(30):
        add_case(tiny, f"2026-09-{1 + i % 28:02d}", area_code=VILLAGE_A, handling_unit="甲单位",
                 satisfaction="不满意" if i < 5 else "满意")  # 25/30 satisfied
    for i in range(29):
        add_case(tiny, f"2026-09-{1 + i % 28:02d}", area_code=VILLAGE_B, handling_unit="乙单位",
                 satisfaction="不满意")
    r = rankings(tiny, CaseFilter(dt.date(2026, 9, 1), dt.date(2026, 9, 30)), "town").set_index("code")
    assert r.loc[TOWN_A, "ranked"] and r.loc[TOWN_A, "rank"] == 1
    assert not r.loc[TOWN_B, "ranked"] and pd.isna(r.loc[TOWN_B, "rank"])
    assert not r.loc[TOWN_B, ["flag_satisfaction_warn", "flag_satisfaction_alarm", "flag_score_alarm"]].any()
    assert r.loc[TOWN_B, "score"] == pytest.approx(100 * (1 + 1 + 0) / 3)  # still scored, for the record
    assert r.loc[TOWN_A, "score"] == pytest.approx(100 * (1 + 1 + 25 / 30) / 3)
    assert r.loc[TOWN_A, "flag_satisfaction_warn"] and not r.loc[TOWN_A, "flag_satisfaction_alarm"]
    assert r.loc[TOWN_A, "flags"] == "满意率低于90%"  # the only ranked town is not "last"
    u = rankings(tiny, CaseFilter(dt.date(2026, 9, 1), dt.date(2026, 9, 30)), "unit", min_cases=29).set_index("handling_unit")
    assert u["ranked"].all() and u.loc["甲单位", "rank"] == 1 and u.loc["乙单位", "rank"] == 2
    assert u.loc["乙单位", "flag_satisfaction_alarm"] and u.loc["乙单位", "flag_last"]
    weighted = rankings(tiny, CaseFilter(dt.date(2026, 9, 1), dt.date(2026, 9, 30)), "unit", min_cases=29,
                                weights={"satisfaction": 1}).set_index("handling_unit")
    assert weighted.loc["乙单位", "score"] == 0 and weighted.loc["乙单位", "flag_score_alarm"]
    with pytest.raises(ValueError):
        rankings(tiny, CaseFilter(dt.date(2026, 9, 1), dt.date(2026, 9, 30)), weights={"speed": 1})


def test_empty_periods_and_empty_warehouses_give_zeros(tiny):
    empty = metrics.case_summary(tiny, CaseFilter(dt.date(2026, 1, 1), dt.date(2026, 1, 31)))
    assert empty["received"] == 0 and empty["closure_rate"] is None and empty["response_hours_median"] is None
    assert empty["overdue_buckets"] == dict.fromkeys(BUCKET_LABELS, 0)
    assert metrics.resolve_period(tiny, CaseFilter()) is None
    assert empty["changes"]["received"] == {"previous": 0, "pop_change": 0, "pop_pct": None, "last_year": 0,
                                            "yoy_change": 0, "yoy_pct": None}
    assert (empty["closed"], empty["open"], empty["overdue"]) == (0, 0, 0)
    by_town = metrics.case_metrics_by(tiny, CaseFilter(dt.date(2026, 1, 1), dt.date(2026, 1, 31)), "town")
    assert len(by_town) == 2 and by_town["received"].eq(0).all() and by_town["closure_rate"].isna().all()
    assert metrics.case_metrics_by(tiny, CaseFilter(dt.date(2026, 1, 1), dt.date(2026, 1, 31)), "unit").empty
    r = rankings(tiny, CaseFilter(dt.date(2026, 1, 1), dt.date(2026, 1, 31)), "town")
    assert len(r) == 2 and not r["ranked"].any() and r["flags"].eq("").all()
    assert rankings(tiny, CaseFilter(dt.date(2026, 1, 1), dt.date(2026, 1, 31)), "unit").empty
    by_village = metrics.case_metrics_by(tiny, CaseFilter(dt.date(2026, 1, 1), dt.date(2026, 1, 31)), "village",
                                         measures=["received", "open"])
    assert by_village[["code", "received", "open"]].values.tolist() == [[VILLAGE_A, 0, 0], [VILLAGE_B, 0, 0]]
    add_case(tiny, "2026-05-01")
    assert metrics.case_summary(tiny, CaseFilter(dt.date(2026, 1, 1), dt.date(2026, 1, 31)))["changes"]["received"]["yoy_pct"] is None
    with pytest.raises(ValueError, match="after its end"):
        metrics.case_summary(tiny, CaseFilter(dt.date(2026, 2, 1), dt.date(2026, 1, 1)))


def test_a_town_prefix_and_a_village_prefix(tiny):
    add_case(tiny, "2026-09-01", area_code=VILLAGE_A)
    add_case(tiny, "2026-09-01", area_code=TOWN_A)  # placed at town level only
    add_case(tiny, "2026-09-01", area_code=VILLAGE_B)
    sept = CaseFilter(dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    s = lambda p: metrics.case_summary(tiny, replace(sept, area_prefix=p), compare=False)  # noqa: E731
    assert s("")["received"] == 3 and s(TOWN_A)["received"] == 2 and s(VILLAGE_A)["received"] == 1
    by_village = metrics.case_metrics_by(tiny, sept, "village")
    assert by_village["received"].tolist() == [1, 1]  # the town-level case is on no village
    by_town = metrics.case_metrics_by(tiny, replace(sept, area_prefix=VILLAGE_A), "town")
    assert by_town[["code", "received"]].values.tolist() == [[TOWN_A, 1]]
