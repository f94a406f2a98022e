"""Every setting of the product in one place: name, default and help text.

Values can be overridden by environment variables `MINQING_<NAME>` (upper case).
README.md lists the same settings; tests/test_settings.py keeps the two in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "data/minqing.duckdb", "The warehouse file used when --db / MINQING_DB is not given (relative to the repository)."),
    Setting("deadline_days_ordinary", 7, "Days allowed to close an ordinary case (一般问题一周办结)."),
    Setting("deadline_days_major", 14, "Days allowed to close a major or difficult case (重大疑难问题两周办结)."),
    Setting("write_memory_limit", "2GB", "Memory DuckDB may use while loading or building a warehouse; beyond it, work spills to a temporary folder beside the warehouse. Empty for DuckDB's default (80% of RAM)."),
    Setting("demo_seed", 20241, "Random seed of the embedded demo; the same seed gives the same warehouse."),
    Setting("demo_as_of", "2026-10-31", "Last day covered by the demo's records (its 'today')."),
    Setting("map_basemap", "none", "Base map under the dashboard's maps: none (plain background, works on an intranet without internet), osm, tianditu or amap (data shifted to GCJ-02 to match)."),
    Setting("map_tianditu_key", "", "Tianditu (天地图) browser key, required when map_basemap is tianditu."),
    Setting("map_max_villages_tooltip", 5000, "Above this many areas the map drops tooltips to stay light."),
    Setting("metric_repeat_window_days", 90, "A petition repeats an earlier one of the same petitioner and category within this many days (重复访)."),
    Setting("metric_multichannel_window_days", 90, "Channels of one petitioner on one issue are counted within this many days (多头访)."),
    Setting("metric_response_hours", 24, "A case assigned within this many hours of receipt counts as responded (响应率)."),
    Setting("metric_group_min_size", 5, "People from which a petition is a group petition (集体访)."),
    Setting("ranking_min_cases", 30, "Units with fewer cases in the period are listed but not ranked."),
    Setting("ranking_satisfaction_warn", 0.9, "Satisfaction below this loses a unit's excellence eligibility (Luyang)."),
    Setting("ranking_satisfaction_alarm", 0.7, "Satisfaction below this is the reassignment line (Luyang)."),
    Setting("ranking_score_alarm", 60.0, "Units scoring under this are named and criticised (county report)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class SettingError(ValueError):
    """A setting's value from the environment cannot be used (the CLI shows it as a usage error)."""


def get(name: str) -> object:
    """The value of a setting: environment override, else its default (cast to the default's type)."""
    if name not in _BY_NAME:
        raise ValueError(f"unknown setting {name!r}; expected one of {', '.join(_BY_NAME)}")
    s = _BY_NAME[name]
    env = os.environ.get(f"MINQING_{name.upper()}")
    if env is None:
        return s.default
    try:
        return type(s.default)(env)
    except ValueError:
        raise SettingError(f"设置 MINQING_{name.upper()}={env!r} 无效: 应为 {type(s.default).__name__} (默认 {s.default!r})") from None
