"""Settings and vocabularies are data; README and the vocabulary stay consistent."""

from __future__ import annotations

import re

import pytest

from etl import settings, vocab
from etl.db import REPO_ROOT


def test_readme_lists_every_setting_with_its_default():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", readme, flags=re.M))
    assert set(rows) == {s.name for s in settings.SETTINGS}
    for s in settings.SETTINGS:
        assert rows[s.name] == s.show(s.default), s.name
        assert s.parse(rows[s.name], "README") == s.default, s.name  # the default as one would write it


def test_environment_overrides_a_setting(monkeypatch):
    monkeypatch.setenv("MINQING_DEADLINE_DAYS_MAJOR", "21")
    assert settings.get("deadline_days_major") == 21
    monkeypatch.setenv("MINQING_DEADLINE_DAYS_MAJOR", "two weeks")
    with pytest.raises(settings.SettingError, match="MINQING_DEADLINE_DAYS_MAJOR='two weeks' 无效: 应为整数"):
        settings.get("deadline_days_major")


def test_lists_and_weights_are_written_with_commas(monkeypatch):
    monkeypatch.setenv("MINQING_METRIC_OVERDUE_BUCKET_EDGES", "3, 7,30")
    assert settings.get("metric_overdue_bucket_edges") == (3, 7, 30)
    monkeypatch.setenv("MINQING_RANKING_WEIGHTS", "satisfaction=2")  # the others keep their default
    assert settings.get("ranking_weights") == {"response": 1.0, "resolution": 1.0, "satisfaction": 2.0}


@pytest.mark.parametrize("name, value, expected", [
    ("metric_overdue_bucket_edges", "7,30,14", "递增正整数"),
    ("metric_overdue_bucket_edges", "7,x", "递增正整数"),
    ("ranking_weights", "speed=2", "response、resolution、satisfaction"),
    ("ranking_weights", "response=-1", "非负数"),
    ("must_visit_remote_km", "far", "数值"),
    # out of the setting's range
    ("alert_q", "1.5", "0 至 1 之间的数值"),
    ("alert_window_days", "0", "1 至 366 之间的整数"),
    ("alert_baseline_weeks", "0", "1 至 520 之间的整数"),
    ("alert_group_size", "1", "不小于 2 的整数"),
])
def test_a_bad_value_names_the_variable_the_value_and_what_is_expected(monkeypatch, name, value, expected):
    var = f"MINQING_{name.upper()}"
    monkeypatch.setenv(var, value)
    with pytest.raises(settings.SettingError) as e:
        settings.get(name)
    assert f"{var}={value!r}" in str(e.value) and expected in str(e.value)


def test_a_config_file_sets_any_setting_and_the_environment_wins(monkeypatch, tmp_path):
    cfg = tmp_path / "minqing.toml"
    cfg.write_text("ranking_min_cases = 50\n[must_visit_weights]\npoverty = 5\n", encoding="utf-8")
    monkeypatch.setenv("MINQING_CONFIG", str(cfg))
    assert settings.get("ranking_min_cases") == 50
    assert settings.get("must_visit_weights")["poverty"] == 5.0
    assert settings.get("must_visit_weights")["disaster"] == 3.0
    assert settings.get("metric_group_min_size") == 5  # not in the file: the default
    monkeypatch.setenv("MINQING_RANKING_MIN_CASES", "40")
    assert settings.get("ranking_min_cases") == 40
    cfg.write_text("ranking_min_case = 50\n", encoding="utf-8")
    with pytest.raises(settings.SettingError, match="'ranking_min_case'.*ranking_min_cases"):
        settings.get("metric_group_min_size")


def test_texts_name_settings_and_show_their_current_value(monkeypatch):
    assert settings.fill("近{must_visit_window_months}个月") == "近12个月"
    monkeypatch.setenv("MINQING_RANKING_SATISFACTION_WARN", "0.85")
    assert settings.fill("低于{ranking_satisfaction_warn:.0%}") == "低于85%"


@pytest.mark.parametrize("prefix", ["deadline_days_", "metric_", "ranking_", "must_visit_"])
def test_every_threshold_has_a_chinese_meaning(prefix):
    group = settings.group(prefix)
    assert group and all(s.zh for s in group), [s.name for s in group if not s.zh]


def test_unknown_setting_is_named():
    with pytest.raises(ValueError, match="nope"):
        settings.get("nope")


def test_dashboard_help_follows_the_settings(monkeypatch):
    from dashboard.texts import help_text, settings_table

    assert help_text("overdue") == "未办结且已超过办理时限(一般问题7天, 重大疑难14天)"
    monkeypatch.setenv("MINQING_DEADLINE_DAYS_MAJOR", "21")
    monkeypatch.setenv("MINQING_METRIC_GROUP_MIN_SIZE", "10")
    monkeypatch.setenv("MINQING_MUST_VISIT_WINDOW_MONTHS", "6")
    assert help_text("overdue") == "未办结且已超过办理时限(一般问题7天, 重大疑难21天)"
    assert help_text("group_petitions") == "10人及以上共同反映。"
    assert "近6个月" in help_text("must_visit_basis")
    table = settings_table("must_visit_").set_index("设置名")
    assert table.loc["must_visit_window_months", "当前值"] == "6"
    assert table.loc["must_visit_remote_km", "说明"].startswith("边远村")


def test_cli_help_shows_the_current_thresholds(monkeypatch):
    from click.testing import CliRunner

    from cli import main

    r = CliRunner().invoke(main, ["must-visit", "--help"], env={"MINQING_MUST_VISIT_REMOTE_KM": "20"})
    assert r.exit_code == 0, r.output
    assert "must_visit_remote_km = 20.0" in r.output and "边远村" in r.output
    r = CliRunner().invoke(main, ["rankings", "--help"], env={"MINQING_RANKING_WEIGHTS": "fast=1"})
    assert r.exit_code == 2 and "MINQING_RANKING_WEIGHTS='fast=1'" in r.output


def test_ledger_template_states_the_deadline(monkeypatch, tmp_path):
    import openpyxl

    from etl.template import write_template

    monkeypatch.setenv("MINQING_DEADLINE_DAYS_MAJOR", "21")
    doc = openpyxl.load_workbook(write_template("cases", tmp_path / "t.xlsx"))["填写说明"]
    helps = {row[0].value: row[2].value for row in doc.iter_rows(min_row=2)}
    assert helps["重大疑难"] == "是/否; 重大疑难问题21天办结"


@pytest.mark.parametrize("domain", ["channel", "category", "status", "satisfaction", "household_category", "building_kind"])
def test_no_spelling_means_two_terms(domain):
    seen: dict[str, str] = {}
    for t in vocab.vocab(domain):
        for s in [t["term"], t["key"], *t.get("synonyms", [])]:
            k = vocab._norm(s)
            assert seen.setdefault(k, t["term"]) == t["term"], f"{s!r} maps to {seen[k]} and {t['term']}"


def test_household_categories_are_the_hanbin_three_in_order():
    assert vocab.terms("household_category") == ["放心户", "关心户", "连心户"]
