"""五必去 on the demo: every planted village is flagged for its reason, reasons cite numbers."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from cli import main
from analysis.must_visit import FLAGS, load_config, must_visit


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


# Flags raised beyond the planted ones, measured on the demo (seed 20241): remote 2 (villages just
# over 15 km by great-circle distance), petitions 2 (neighbours of planted clusters), difficult 16
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


def test_scores_rank_by_the_weights(result):
    df, _ = result
    w = load_config()["weights"]
    assert (df["score"] == df["flags"].map(lambda fl: sum(w[f] for f in fl))).all()
    assert df["score"].is_monotonic_decreasing


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
