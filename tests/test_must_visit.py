"""五必去 on the demo: every planted village is flagged for its reason, reasons cite numbers."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from cli import main
from analysis.must_visit import FLAGS, load_config, must_visit, severity


@pytest.fixture(scope="module")
def result(full_demo):
    con, truth = full_demo
    return must_visit(con).set_index("area_code"), truth["must_visit"]


def _expected(truth):
    return {
        "poverty": set(truth["poverty"]["high_key_assistance_share"]) | set(truth["poverty"]["official_flag"]),
        "remote": {r["area_code"] for r in truth["remote"]["villages"]},
        "petitions": set(truth["petitions"]),
        "difficult": set(truth["difficult"]),
        "disaster": set(truth["disaster"]["within_12_months"]),
    }


# Flags raised beyond the planted ones, measured on the demo (seed 20241): remote 0 (2 while the
# seat distance had its axes swapped), petitions 2 (neighbours of planted clusters), difficult 16
# (large communities with 10+ overdue cases: the absolute threshold favours big places), poverty 0,
# disaster 0. The bounds leave a little room for other seeds.
MAX_EXTRA = {"poverty": 0, "remote": 4, "petitions": 6, "difficult": 20, "disaster": 0}


@pytest.mark.parametrize("flag", FLAGS)
def test_every_planted_village_is_flagged_for_its_reason(result, flag):
    df, truth = result
    expected = _expected(truth)[flag]
    assert expected, flag
    flagged = set(df.index[df["flags"].map(lambda f: flag in f)])
    assert expected <= flagged, sorted(expected - flagged)
    assert len(flagged - expected) <= MAX_EXTRA[flag], len(flagged - expected)


def test_reasons_cite_the_numbers(result):
    df, _ = result
    for flags, reasons in zip(df["flags"], df["reasons"]):
        assert len(flags) == len(reasons)
        for f, why in zip(flags, reasons):
            if f != "disaster" and "特困村" not in why:
                assert re.search(r"\d", why), why


def _severity(r, cfg):
    """Each flag's severity recomputed from the row's published numbers: 1 + how far past each
    threshold it was met on, as a fraction of that threshold, summed, at most 2."""
    def past(amount, threshold):
        return max(0.0, (amount - threshold) / threshold)

    out = []
    for f in r["flags"]:
        if f == "poverty":
            met = r["households"] >= cfg["poverty_min_households"] and r["key_share"] >= cfg["poverty_share"]
            e = past(r["key_share"], cfg["poverty_share"]) if met else 0.0
        elif f == "remote":
            e = past(r["seat_km"], cfg["remote_km"])
        elif f == "petitions":
            e = past(r["ratio"], cfg["petition_rate_ratio"])
        elif f == "difficult":
            e = past(r["overdue"], cfg["difficult_overdue"]) if r["overdue"] >= cfg["difficult_overdue"] else 0.0
            for rate, key, n in (("closure_rate", "difficult_closure_rate", "cases"),
                                 ("satisfaction_rate", "difficult_satisfaction", None)):
                if r[rate] == r[rate] and r[rate] < cfg[key] and (n is None or r[n] >= cfg["difficult_min_cases"]):
                    # the reason cites it only when enough cases count: trust the reason
                    if ("办结率" if rate == "closure_rate" else "满意率") in r["reasons"][r["flags"].index(f)]:
                        e += past(1 - r[rate], 1 - cfg[key])
        else:
            e = 0.0
        out.append(min(2.0, 1.0 + e))
    return out


def test_scores_add_each_weight_times_its_severity(result, full_demo):
    """Score = sum of weight x severity, recomputed from the rows' own numbers (the rate
    multiple from the district's rate, summed here from the villages' cases and households)."""
    df, _ = result
    con, _ = full_demo
    cfg = load_config()
    district = con.execute("SELECT mq_per_1000(?::BIGINT, ?::BIGINT)", [int(df["cases"].sum()), int(df["households"].sum())]).fetchone()[0]
    rows = df.reset_index().assign(ratio=lambda d: d["rate_eb"] / district).to_dict("records")
    for r in rows:
        sev = _severity(r, cfg)
        assert r["severity"] == pytest.approx(sev, abs=0.006), (r["name"], r["flags"], r["reasons"])
        assert r["score"] == pytest.approx(sum(cfg["weights"][f] * s for f, s in zip(r["flags"], sev)), abs=0.01)
    assert all(1.0 <= s <= 2.0 for ss in df["severity"] for s in ss)


def test_the_order_is_total_and_as_stated(result):
    """Score, then overdue cases, then cases per 1,000 households (high to low), then the code:
    no two villages share a sort key, and the rows come in exactly that order."""
    df, _ = result
    d = df.reset_index()
    key = list(zip(-d["score"], -d["overdue"], -d["rate_eb"].fillna(-1), d["area_code"]))
    assert len(set(key)) == len(key)
    assert key == sorted(key)


def test_the_most_overdue_village_ranks_with_the_most_severe(result):
    """The full demo's village with most overdue cases (42, 办结率 73%, 满意率 69%) ranked about
    33rd on weights alone; past every 'difficult' threshold by far, it now ranks above every
    village flagged once for a lighter-weighted or barely-met reason."""
    df, _ = result
    d = df[df["flags"].map(len) > 0].reset_index()
    top = d["overdue"].idxmax()
    assert d.loc[top, "overdue"] >= 30 and d.loc[top, "severity"] == [2.0]
    # everything above it scores at least its 4.0, i.e. carries two flags or one at least as heavy
    assert (d.loc[:top - 1, "score"] >= d.loc[top, "score"]).all()
    just_past = d[(d["flags"].map(len) == 1) & (d["severity"].map(lambda s: s[0] < 1.5))]
    assert (just_past.index > top).all()


@pytest.mark.parametrize("past, want", [
    ([], 1.0),                       # a flag without an amount: an official flag, a hot spot, a disaster
    ([(10, 10)], 1.0),               # just at a threshold
    ([(15, 10)], 1.5),               # half as far again
    ([(42, 10)], 2.0),               # far past: capped
    ([(0.20, 0.15), (0.25, 0.20)], 1.0 + 1 / 3 + 0.25),  # 办结率 80% < 85%, 满意率 75% < 80%: summed
])
def test_severity_grows_with_how_far_past_the_threshold(past, want):
    assert severity(past) == pytest.approx(want)


def test_a_village_further_past_or_past_more_ranks_above(con):
    """On the small demo, every pair of flagged villages where one has every flag of the other,
    each at least as severe, and one more flag or one flag clearly more severe: it ranks above."""
    d = must_visit(con)
    d = d[d["flags"].map(len) > 0]
    rows = [(i, dict(zip(r["flags"], r["severity"]))) for i, r in d.iterrows()]
    pairs = {"more flags": 0, "further past": 0}
    for i, a in rows:
        for j, b in rows:
            if i == j or not set(b) <= set(a) or any(a[f] < b[f] for f in b):
                continue
            if len(a) > len(b):
                pairs["more flags"] += 1
            elif any(a[f] > b[f] + 0.01 for f in b):
                pairs["further past"] += 1
            else:
                continue
            assert i < j, (d.loc[i, ["name", "flags", "severity", "score"]].tolist(), d.loc[j, ["name", "flags", "severity", "score"]].tolist())
    assert pairs["more flags"] > 0 and pairs["further past"] > 0, pairs


def test_a_config_file_changes_a_threshold(full_demo, tmp_path):
    con, truth = full_demo
    cfg = tmp_path / "mv.toml"
    cfg.write_text("[remote_km]\nvalue = 1000.0\n", encoding="utf-8")
    df = must_visit(con, load_config(cfg))
    assert not df["flags"].map(lambda f: "remote" in f).any()
    cfg.write_text("remote_km = 1000\n[weights]\npoverty = 4\n", encoding="utf-8")
    assert load_config(cfg)["remote_km"] == 1000.0
    assert load_config(cfg)["weights"] == {"poverty": 4.0, "remote": 1.0, "petitions": 2.0, "difficult": 2.0, "disaster": 3.0}
    cfg.write_text("[nonsense]\nvalue = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'nonsense'.*window_months, poverty_share"):
        load_config(cfg)


def test_the_environment_changes_a_threshold(con, monkeypatch):
    assert must_visit(con)["flags"].map(lambda f: "remote" in f).any()
    monkeypatch.setenv("MINQING_MUST_VISIT_REMOTE_KM", "1000")
    assert not must_visit(con)["flags"].map(lambda f: "remote" in f).any()


def test_cli_names_a_bad_config_value(demo_db, tmp_path):
    cfg = tmp_path / "mv.toml"
    cfg.write_text("window_months = \"half a year\"\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["--db", str(demo_db), "must-visit", "--config", str(cfg)])
    assert r.exit_code == 2
    assert "window_months='half a year' 无效: 应为整数" in r.output


def test_cli_json_has_the_five_keys(full_demo_dir):
    r = CliRunner().invoke(main, ["--db", str(full_demo_dir / "demo.duckdb"), "must-visit", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows and all({"area_code", "flags", "reasons"} <= set(x) for x in rows)
    assert all(set(x["flags"]) <= set(FLAGS) and x["flags"] for x in rows)


@pytest.mark.parametrize("args, keys", [
    (["metrics", "--json", "--from", "2026-01-01"], {"received", "closed", "closure_rate", "overdue", "repeat"}),
    (["households", "--level", "town", "--json"], {"categories", "pairing", "must_see"}),
])
def test_metric_commands_print_json(full_demo_dir, args, keys):
    r = CliRunner().invoke(main, ["--db", str(full_demo_dir / "demo.duckdb"), *args])
    assert r.exit_code == 0, r.output
    assert keys <= set(json.loads(r.stdout))


def test_rankings_command_lists_every_town(full_demo_dir):
    r = CliRunner().invoke(main, ["--db", str(full_demo_dir / "demo.duckdb"), "rankings", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 28 and all({"score", "ranked", "flags"} <= set(x) for x in rows)


def test_rankings_command_names_the_figures_as_the_pages_do(demo_db):
    r = CliRunner().invoke(main, ["--db", str(demo_db), "rankings", "--by", "town"])
    assert r.exit_code == 0, r.output
    header = r.stdout.splitlines()[0].split()
    assert {"排名", "乡镇(街道)", "受理诉求", "响应率", "办结率", "满意率", "综合得分", "标记"} <= set(header)
    assert "解决率" not in r.stdout and "resolution_rate" not in r.stdout
    help_text = CliRunner().invoke(main, ["rankings", "--help"]).output
    assert "办结率" in help_text and "解决率" not in help_text


def test_the_seat_distance_is_the_great_circle_distance_of_the_two_seats(con):
    """边远村 is judged on great-circle km (an independent haversine here); DuckDB's
    ST_Distance_Sphere reads points as (lat, lon), and read the other way north-south
    distances came out about a third of the truth."""
    import math

    from analysis.must_visit import _village_facts
    from etl.views import as_of

    now = as_of(con).at
    facts = _village_facts(con, now.date().replace(year=now.year - 1), now).set_index("area_code")
    rows = con.execute("""SELECT v.code, v.seat_lon, v.seat_lat, t.seat_lon, t.seat_lat FROM areas v
                          JOIN areas t ON t.code = v.parent_code
                          WHERE v.level = 'village' AND v.seat_lon IS NOT NULL AND t.seat_lon IS NOT NULL""").fetchall()
    assert rows
    for code, lon1, lat1, lon2, lat2 in rows:
        p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
        a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        km = 2 * 6371.0088 * math.asin(math.sqrt(a))
        assert facts.at[code, "seat_km"] == pytest.approx(km, rel=0.005, abs=0.01), code
