"""Household aggregates: each equals an independent pandas computation on the raw tables
(the demo), and the history rules hold on a tiny hand-made warehouse."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis import households as hh
from etl.db import connect, run_sql_file

# Written out here (not read from the vocabulary): the categories in order of need.
CATS = ["放心户", "关心户", "连心户"]
KEYS = {"放心户": "assured", "关心户": "attention", "连心户": "key_assistance"}
GROUPS = ["poor", "wubao", "old_party_member", "deputy", "village_cadre"]
DIGITS = {"village": 12, "town": 9, "district": 6}


@pytest.fixture(scope="module")
def raw(demo_db):
    c = connect(demo_db, read_only=True)
    out = {t: c.execute(f"SELECT * FROM {t}").df() for t in ("households", "household_categories", "areas", "cadres")}
    c.close()
    return out


def _areas(raw, level):
    a = raw["areas"]
    return a.loc[a["level"] == level, "code"].sort_values().tolist()


def _held_on(history: pd.DataFrame, day: dt.date) -> pd.Series:
    """Category each household held on `day` (household_id -> category)."""
    d = pd.Timestamp(day)
    vf, vt = pd.to_datetime(history["valid_from"]), pd.to_datetime(history["valid_to"])
    h = history[(vf <= d) & (vt.isna() | (vt > d))].assign(vf=vf)
    return h.sort_values("vf").groupby("household_id")["category"].last()


# --------------------------------------------------------------------------- the demo

@pytest.mark.parametrize("level", ["village", "town", "district"])
def test_category_counts_and_shares_match_pandas(con, raw, level):
    got = hh.category_counts(con, level).set_index("code")
    h = raw["households"].assign(area=lambda x: x["area_code"].str[:DIGITS[level]])
    want = pd.crosstab(h["area"], h["category"]).reindex(index=_areas(raw, level), columns=CATS, fill_value=0)
    assert got.index.tolist() == want.index.tolist()  # every area, zeros included
    total = want.sum(axis=1)
    assert (got["households"] == total).all()
    for cat in CATS:
        assert (got[KEYS[cat]] == want[cat]).all(), cat
        assert np.allclose(got[f"{KEYS[cat]}_share"], want[cat] / total.replace(0, np.nan), equal_nan=True)
    assert set(got.columns) >= {"name"} and not {"household_id", "head_masked", "annual_income"} & set(got.columns)


@pytest.mark.parametrize("day", [dt.date(2024, 6, 30), dt.date(2025, 12, 31), dt.date(2026, 10, 30)])
def test_category_counts_on_a_past_date_use_the_history(con, raw, day):
    got = hh.category_counts(con, "town", on=day).set_index("code")
    held = _held_on(raw["household_categories"], day).rename("category").reset_index()
    h = held.merge(raw["households"][["household_id", "area_code"]], on="household_id")
    want = pd.crosstab(h["area_code"].str[:9], h["category"]).reindex(index=_areas(raw, "town"), columns=CATS,
                                                                        fill_value=0)
    for cat in CATS:
        assert (got[KEYS[cat]] == want[cat]).all(), cat
    assert got["households"].sum() == len(held)


@pytest.mark.parametrize("start,end", [(dt.date(2024, 6, 30), dt.date(2026, 10, 31)),
                                       (dt.date(2025, 12, 30), dt.date(2025, 12, 31)),
                                       (dt.date(2026, 1, 1), dt.date(2026, 10, 31))])
def test_transitions_match_pandas(con, raw, start, end):
    got = hh.category_transitions(con, start, end)
    hist = raw["household_categories"]
    pair = pd.DataFrame({"to": _held_on(hist, end)}).join(_held_on(hist, start).rename("from")).fillna({"from": "未建档"})
    want = pd.crosstab(pair["from"], pair["to"]).reindex(index=CATS + ["未建档"], columns=CATS, fill_value=0)
    assert got.index.tolist() == CATS + ["未建档"] and got.columns.tolist() == CATS
    assert (got.to_numpy() == want.to_numpy()).all()
    s = hh.transition_summary(got)
    rank = {c: i for i, c in enumerate(CATS)}
    known = pair[pair["from"] != "未建档"]
    assert s["households"] == len(pair) and s["new"] == int((pair["from"] == "未建档").sum())
    assert s["worsened"] == int((known["to"].map(rank) > known["from"].map(rank)).sum())
    assert s["improved"] == int((known["to"].map(rank) < known["from"].map(rank)).sum())
    if start.year == 2024:  # the demo's 2025 snapshot changes categories both ways
        assert s["worsened"] > 0 and s["improved"] > 0


def test_transitions_in_one_town(con, raw):
    town = raw["households"]["area_code"].str[:9].value_counts().index[-1]
    got = hh.category_transitions(con, dt.date(2024, 6, 30), dt.date(2026, 10, 31), area_prefix=town)
    assert got.to_numpy().sum() == int(raw["households"]["area_code"].str.startswith(town).sum())


@pytest.mark.parametrize("level", ["village", "town", "district"])
def test_pairing_coverage_matches_pandas(con, raw, level):
    got = hh.pairing_coverage(con, level).set_index("code")
    h = raw["households"].assign(area=lambda x: x["area_code"].str[:DIGITS[level]])
    key = h["category"] == "连心户"
    paired = key & h["paired_cadre_id"].fillna("").str.strip().ne("")
    unknown = paired & ~h["paired_cadre_id"].isin(raw["cadres"]["cadre_id"])
    g = pd.DataFrame({"key": key, "paired": paired, "unknown": unknown, "area": h["area"]}).groupby("area").sum()
    g = g.reindex(_areas(raw, level), fill_value=0)
    assert (got["key_households"] == g["key"]).all() and (got["paired"] == g["paired"]).all()
    assert (got["unpaired"] == g["key"] - g["paired"]).all() and (got["paired_cadre_unknown"] == g["unknown"]).all()
    assert np.allclose(got["coverage"], g["paired"] / g["key"].replace(0, np.nan), equal_nan=True)
    if level == "district":
        cadres = h.loc[paired, "paired_cadre_id"].nunique()
        assert got["cadres"].iloc[0] == cadres and 0 < got["coverage"].iloc[0] < 1


@pytest.mark.parametrize("level", ["village", "town"])
def test_must_see_counts_match_pandas(con, raw, level):
    got = hh.must_see_counts(con, level).set_index("code")
    h = raw["households"].assign(area=lambda x: x["area_code"].str[:DIGITS[level]])
    flags = h[GROUPS].astype(bool)
    g = flags.assign(any_must_see=flags.any(axis=1), area=h["area"]).groupby("area").sum()
    g = g.reindex(_areas(raw, level), fill_value=0)
    for col in GROUPS + ["any_must_see"]:
        assert (got[col] == g[col]).all(), col
    assert got[GROUPS].to_numpy().sum() > 0


# --------------------------------------------------------------------------- a tiny warehouse

TOWN_A, TOWN_B = "610902001", "610902100"
VILLAGE_A, VILLAGE_B = "610902001003", "610902100001"


@pytest.fixture(scope="module")
def tiny_warehouse():
    con = connect()
    run_sql_file(con, "schema")
    con.executemany("INSERT INTO areas (code, name, level, parent_code) VALUES (?, ?, ?, ?)", [
        ("610902", "汉滨区", "district", None), (TOWN_A, "老城街道", "town", "610902"),
        (TOWN_B, "关庙镇", "town", "610902"), (VILLAGE_A, "西大街社区居委会", "village", TOWN_A),
        (VILLAGE_B, "关庙村委会", "village", TOWN_B)])
    con.execute("INSERT INTO cadres (cadre_id, name_masked, role) VALUES ('C1', '王*', '结对帮扶干部'), "
                "('C2', '李*', '结对帮扶干部')")
    yield con
    con.close()


@pytest.fixture
def tiny(tiny_warehouse):
    tiny_warehouse.execute("DELETE FROM households; DELETE FROM household_categories")
    return tiny_warehouse


def add_household(con, hid, area, category, *, history=(), **kw):
    """A household (latest state) and its category history [(category, from, to), ...]."""
    row = dict(household_id=hid, area_code=area, head_masked="张*", members=3, annual_income=50000.0, debt=0.0,
               category=category, poor=False, wubao=False, old_party_member=False, deputy=False, village_cadre=False,
               paired_cadre_id=None)
    row.update(kw)
    con.execute(f"INSERT INTO households ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    for cat, vf, vt in history or [(category, "2023-01-01", None)]:
        con.execute("INSERT INTO household_categories VALUES (?, ?, ?, ?, NULL)", [hid, cat, vf, vt])


def test_history_boundaries_and_transitions(tiny):
    add_household(tiny, "X", VILLAGE_A, "关心户", history=[("放心户", "2024-01-01", "2025-06-01"), ("关心户", "2025-06-01", None)])
    add_household(tiny, "Y", VILLAGE_A, "连心户", history=[("连心户", "2025-01-01", None)])
    add_household(tiny, "Z", VILLAGE_B, "关心户", history=[("关心户", "2023-01-01", None)])
    add_household(tiny, "W", VILLAGE_B, "放心户", history=[("关心户", "2023-01-01", "2024-06-01"), ("放心户", "2024-06-01", None)])
    m = hh.category_transitions(tiny, dt.date(2024, 12, 31), dt.date(2025, 12, 31))
    assert m.loc["放心户", "关心户"] == 1 and m.loc["未建档", "连心户"] == 1
    assert m.loc["关心户", "关心户"] == 1 and m.loc["放心户", "放心户"] == 1 and m.to_numpy().sum() == 4
    assert hh.transition_summary(m) == {"households": 4, "unchanged": 2, "worsened": 1, "improved": 0, "new": 1}
    m = hh.category_transitions(tiny, dt.date(2024, 1, 1), dt.date(2025, 6, 1))  # the change day counts as changed
    assert hh.transition_summary(m) == {"households": 4, "unchanged": 1, "worsened": 1, "improved": 1, "new": 1}
    m = hh.category_transitions(tiny, dt.date(2024, 1, 1), dt.date(2025, 5, 31), area_prefix=TOWN_B)
    assert hh.transition_summary(m) == {"households": 2, "unchanged": 1, "worsened": 0, "improved": 1, "new": 0}

    def town_a(on):
        return hh.category_counts(tiny, "town", on=on).set_index("code").loc[TOWN_A]
    assert town_a(dt.date(2025, 5, 31))[["assured", "attention", "key_assistance"]].tolist() == [1, 0, 1]
    assert town_a(dt.date(2025, 6, 1))[["assured", "attention", "key_assistance"]].tolist() == [0, 1, 1]
    before = hh.category_counts(tiny, "district", on=dt.date(2022, 12, 31))
    assert before["households"].tolist() == [0] and before["assured_share"].isna().all()
    now = hh.category_counts(tiny, "village").set_index("code")
    assert now.loc[VILLAGE_A, "key_assistance_share"] == pytest.approx(0.5)
    assert now.loc[VILLAGE_B, ["assured", "attention", "key_assistance"]].tolist() == [1, 1, 0]


def test_pairing_coverage_counts_only_key_households(tiny):
    add_household(tiny, "K1", VILLAGE_A, "连心户", paired_cadre_id="C1")
    add_household(tiny, "K2", VILLAGE_A, "连心户", paired_cadre_id=" ")
    add_household(tiny, "K3", VILLAGE_A, "连心户", paired_cadre_id="C9")  # not in the cadre table
    add_household(tiny, "K4", VILLAGE_B, "连心户")
    add_household(tiny, "F1", VILLAGE_B, "放心户", paired_cadre_id="C1")  # not a 连心户: not counted
    d = hh.pairing_coverage(tiny, "district").iloc[0]
    assert (d["key_households"], d["paired"], d["unpaired"], d["paired_cadre_unknown"], d["cadres"]) == (4, 2, 2, 1, 2)
    assert d["coverage"] == pytest.approx(0.5)
    v = hh.pairing_coverage(tiny, "village").set_index("code")
    assert v.loc[VILLAGE_A, "coverage"] == pytest.approx(2 / 3) and v.loc[VILLAGE_B, "coverage"] == 0


def test_must_see_groups(tiny):
    add_household(tiny, "A", VILLAGE_A, "连心户", poor=True, wubao=True)
    add_household(tiny, "B", VILLAGE_A, "放心户", old_party_member=True)
    add_household(tiny, "C", VILLAGE_B, "放心户", deputy=True, village_cadre=True)
    add_household(tiny, "D", VILLAGE_B, "放心户")
    t = hh.must_see_counts(tiny, "town").set_index("code")
    assert t.loc[TOWN_A, GROUPS].tolist() == [1, 1, 1, 0, 0] and t.loc[TOWN_A, "any_must_see"] == 2
    assert t.loc[TOWN_B, GROUPS].tolist() == [0, 0, 0, 1, 1] and t.loc[TOWN_B, "any_must_see"] == 1
    assert t["households"].tolist() == [2, 2]
    one = hh.must_see_counts(tiny, "town", area_prefix=VILLAGE_B)
    assert one["code"].tolist() == [TOWN_B] and one["any_must_see"].tolist() == [1]


def test_records_only_on_request_and_without_sensitive_columns(tiny):
    add_household(tiny, "K1", VILLAGE_A, "连心户", paired_cadre_id="C1", poor=True)
    add_household(tiny, "K2", VILLAGE_A, "连心户")
    add_household(tiny, "F1", VILLAGE_B, "放心户")
    with pytest.raises(ValueError):
        hh.household_records(tiny, area_prefix="")
    with pytest.raises(ValueError):
        hh.household_records(tiny, area_prefix="610902")
    r = hh.household_records(tiny, area_prefix=TOWN_A)
    assert r["household_id"].tolist() == ["K1", "K2"]
    assert not {"annual_income", "debt", "head_hash"} & set(r.columns) and r["head_masked"].eq("张*").all()
    assert hh.household_records(tiny, area_prefix=TOWN_A, unpaired_only=True)["household_id"].tolist() == ["K2"]
    assert hh.household_records(tiny, area_prefix=TOWN_A, must_see="poor")["household_id"].tolist() == ["K1"]
    assert hh.household_records(tiny, area_prefix=VILLAGE_B, category="放心")["household_id"].tolist() == ["F1"]
    with pytest.raises(ValueError):
        hh.household_records(tiny, area_prefix=TOWN_A, must_see="rich")


def test_an_empty_livelihood_database_gives_zeros(tiny):
    for level in ("village", "town", "district"):
        c = hh.category_counts(tiny, level)
        assert len(c) == {"village": 2, "town": 2, "district": 1}[level]
        assert c["households"].eq(0).all() and c["key_assistance_share"].isna().all()
        p = hh.pairing_coverage(tiny, level)
        assert p["key_households"].eq(0).all() and p["coverage"].isna().all()
        assert hh.must_see_counts(tiny, level)["any_must_see"].eq(0).all()
    m = hh.category_transitions(tiny, dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    assert m.shape == (4, 3) and m.to_numpy().sum() == 0
    assert hh.transition_summary(m) == {"households": 0, "unchanged": 0, "worsened": 0, "improved": 0, "new": 0}
    with pytest.raises(ValueError):
        hh.category_counts(tiny, "province")


def test_labels_are_chinese():
    labels = hh.labels()
    assert labels["key_assistance"] == "连心户" and labels["key_assistance_share"] == "连心户占比"
    assert labels["poor"] == "贫困户" and labels["coverage"] == "结对覆盖率"
