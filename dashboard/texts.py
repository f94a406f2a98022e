"""Help texts of the pages that state a threshold, built from the settings' current values
(etl/settings.py), so a changed setting changes the page; and the data's own date as every
page states it."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from etl import settings, views

_HELP = {
    "overdue": "未办结且已超过办理时限(一般问题{deadline_days_ordinary}天, 重大疑难{deadline_days_major}天)",
    "repeat": "同一群众就同一类问题{metric_repeat_window_days}天内再次反映。",
    "multichannel": "同一群众就同一问题{metric_multichannel_window_days}天内通过两种以上渠道反映。",
    "group_petitions": "{metric_group_min_size}人及以上共同反映。",
    "must_visit_flags": "特困村、边远村、信访问题较多、工作推进有难度、受自然灾害影响; "
                        "按近{must_visit_window_months}个月的诉求与灾情判定",
    "must_visit_unused": ": 五必去按近{must_visit_window_months}个月的固定窗口判定",
    "must_visit_basis": "按近{must_visit_window_months}个月的固定时间窗口判定 "
                        "(不随受理时段、问题类别、诉求来源、办理状态的筛选而变)",
    "must_visit_order": "优先得分 = 各项标记的「权重 × 严重程度」之和 (权重见「五必去判定标准与阈值」)。"
                        "严重程度在 1 到 2 之间, 超出阈值越多越高: 1 + 超出阈值的部分占阈值的比例 "
                        "(同一标记满足多项条件时相加), 最多为 2, 即刚达到阈值为 1、达到阈值的 2 倍及以上为 2。"
                        "办结率、满意率看未办结、不满意所占的比例与阈值所允许的比例 "
                        "(办结率阈值 {must_visit_difficult_closure_rate:.0%}: 允许未办结 100% 减去它; 未办结比例达到其 2 倍即为 2)。"
                        "数据中标为特困村、仅因热点列为信访较多、受灾, 严重程度为 1。"
                        "同分时依次按超期未办结件数、近{must_visit_window_months}个月每千户诉求(平滑)从多到少排列, "
                        "再按区划代码排列, 顺序唯一。",
}

# Each 五必去 criterion in words with its current thresholds (analysis.must_visit applies them).
_MUST_VISIT_CRITERIA = {
    "poverty": "连心户占比不低于{must_visit_poverty_share:.0%} (建档不少于{must_visit_poverty_min_households}户的村), "
               "或数据中标为特困村",
    "remote": "村(社区)驻地到乡镇(街道)驻地的直线距离不低于{must_visit_remote_km:g}公里",
    "petitions": "近{must_visit_window_months}个月每千户诉求(经平滑)不低于全区的{must_visit_petition_rate_ratio:g}倍, "
                 "或为95%以上置信的热点",
    "difficult": "超期未办结不少于{must_visit_difficult_overdue}件, 或近{must_visit_window_months}个月"
                 "办结率低于{must_visit_difficult_closure_rate:.0%}、满意率低于{must_visit_difficult_satisfaction:.0%} "
                 "(相应诉求不少于{must_visit_difficult_min_cases}件时)",
    "disaster": "近{must_visit_window_months}个月内发生的自然灾害影响范围覆盖本村(社区)",
}


def help_text(key: str) -> str:
    """The help text `key` (overdue, repeat, multichannel, group_petitions, must_visit_*) with current values."""
    return settings.fill(_HELP[key])


def must_visit_criteria(flags, labels: dict[str, str]) -> list[str]:
    """Each of the 五必去 criteria `flags` (keys of analysis.must_visit.FLAGS) in words with its
    current thresholds, e.g. '边远村: 村(社区)驻地到乡镇(街道)驻地的直线距离不低于15公里'."""
    return [f"{labels[f]}: {settings.fill(_MUST_VISIT_CRITERIA[f])}" for f in flags]


def settings_table(prefix: str) -> pd.DataFrame:
    """The settings whose names start with `prefix`: Chinese meaning, current value, setting name."""
    rows = settings.group(prefix)
    return pd.DataFrame({"说明": [s.zh for s in rows], "当前值": [s.show(settings.get(s.name)) for s in rows],
                         "设置名": [s.name for s in rows]})


def as_of_notice(as_of: views.AsOf, today: dt.date | None = None) -> tuple[str, str | None]:
    """The caption every page shows (数据截至 ...) and, when the data's date lags today by more than
    the setting as_of_lag_warn_days (not for the demo, whose date is fixed), a warning."""
    lag = as_of.lag_days(today)
    if as_of.source in ("demo", "clock") or lag <= int(settings.get("as_of_lag_warn_days")):
        return as_of.label(), None
    return as_of.label(), (f"数据截至 {as_of.at:%Y-%m-%d}, 比今天早 {lag} 天: 超期、环比同比和默认时段都按数据日期计算。"
                           "如有更新的导出, 导入后本页即更新。")
