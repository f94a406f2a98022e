"""Figures as an officer writes them: "本期共受理群众诉求312件，环比上升8.3%，同比下降2.1%；
办结298件，办结率95.5%，较上期提高1.2个百分点". Rates and their changes are written by
reports/formats.py (one decimal); counts as plain numbers with thousands separators."""

from __future__ import annotations

from reports import formats

from . import periods


def n(value) -> str:
    """A count: 1234 -> '1,234'."""
    return formats.count(value)


def count_change(pct, label: str, now=None) -> str:
    """'环比上升8.3%', '环比下降2.0%', '环比持平' (as the tables show ±0.0%, or `now` is 0 with
    nothing before either), or '环比无可比数据' (nothing in the earlier period)."""
    if pct is None or pct != pct:
        return f"{label}持平" if now == 0 else f"{label}无可比数据"
    if formats.is_flat(pct):
        return f"{label}持平"
    return f"{label}{'上升' if pct > 0 else '下降'}{formats.rate(abs(pct))}"


def rate_change(diff, label: str = "较上期") -> str:
    """'较上期提高1.2个百分点', '较上期下降0.4个百分点', '与上期持平'; '' when unknown."""
    if diff is None or diff != diff:
        return ""
    if formats.is_flat(diff):
        return f"与{label.removeprefix('较')}持平"
    return f"{label}{'提高' if diff > 0 else '下降'}{formats.points_size(diff)}"


def overall(s: dict, who: str = "本期") -> str:
    """The headline sentence of a case_summary (analysis.metrics) with its changes."""
    ch = s["changes"]
    parts = [f"{who}共受理群众诉求{n(s['received'])}件，{count_change(ch['received']['pop_pct'], '环比', s['received'])}，"
             f"{count_change(ch['received']['yoy_pct'], '同比', s['received'])}"]
    if s["received"]:
        closure = f"办结{n(s['closed'])}件，办结率{formats.rate(s['closure_rate'])}"
        change = rate_change(ch["closure_rate"]["pop_change"])
        parts.append(closure + (f"，{change}" if change else ""))
    if s["closed"]:
        parts.append(f"按期办结{n(s['closed_on_time'])}件，按期办结率{formats.rate(s['on_time_rate'])}")
    if s["rated"]:
        sat = f"满意率{formats.rate(s['satisfaction_rate'])}"
        change = rate_change(ch["satisfaction_rate"]["pop_change"])
        parts.append(sat + (f"，{change}" if change else ""))
    parts.append(f"截至{as_of(s)}，本期末前受理的诉求中尚有未办结{n(s['open'])}件，其中超期{n(s['overdue'])}件")
    return "；".join(parts) + "。"


def as_of(s: dict) -> str:
    """The data's date of a case_summary as documents write it: the date the open and overdue
    counts hold at (they are counted then, not at the period's end)."""
    return periods.cn_date(s["as_of"].date() if hasattr(s["as_of"], "date") else s["as_of"])


def petitions(s: dict) -> str:
    """Repeat, level-skipping, multi-channel and group petitions of a case_summary, in one sentence."""
    ch = s["changes"]
    items = [("重复访", "repeat"), ("越级访", "level_skipping"), ("多头访", "multichannel"), ("集体访", "group_petitions")]
    parts = [f"{label}{n(s[k])}件（{count_change(ch[k]['pop_pct'], '环比', s[k])}）" for label, k in items]
    people = f"，集体访涉及{n(s['group_people'])}人" if s["group_petitions"] else ""
    return f"本期{'、'.join(parts)}{people}。"


def leading(rows: list[tuple[str, int, float | None]], total: int, what: str) -> str:
    """The leading items: '从问题类别看，道路（45件，环比上升8.3%）、饮水（38件，...）居前，合计占受理总量的40.2%。'"""
    if not rows or not total:
        return f"本期没有{what}的诉求记录。"
    shown = "、".join(f"{name}（{n(c)}件，{count_change(p, '环比')}）" for name, c, p in rows)
    share = sum(c for _, c, _ in rows) / total
    return f"从{what}看，{shown}居前，合计占受理总量的{formats.rate(share)}。"
