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
        assert rows[s.name] == str(s.default), s.name


def test_environment_overrides_a_setting(monkeypatch):
    monkeypatch.setenv("MINQING_DEADLINE_DAYS_MAJOR", "21")
    assert settings.get("deadline_days_major") == 21
    monkeypatch.setenv("MINQING_DEADLINE_DAYS_MAJOR", "two weeks")
    with pytest.raises(ValueError, match="two weeks"):
        settings.get("deadline_days_major")


def test_unknown_setting_is_named():
    with pytest.raises(ValueError, match="nope"):
        settings.get("nope")


@pytest.mark.parametrize("domain", ["channel", "category", "status", "satisfaction", "household_category", "building_kind"])
def test_no_spelling_means_two_terms(domain):
    seen: dict[str, str] = {}
    for t in vocab.vocab(domain):
        for s in [t["term"], t["key"], *t.get("synonyms", [])]:
            k = vocab._norm(s)
            assert seen.setdefault(k, t["term"]) == t["term"], f"{s!r} maps to {seen[k]} and {t['term']}"


def test_household_categories_are_the_hanbin_three_in_order():
    assert vocab.terms("household_category") == ["放心户", "关心户", "连心户"]
