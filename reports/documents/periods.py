"""Reporting periods: ten-day periods (旬: 上旬 1-10, 中旬 11-20, 下旬 21 to the month's end),
months, their issue numbers (第N期, counted per year) and their names in Chinese."""

from __future__ import annotations

import calendar
import datetime as dt
import re

PARTS = ("上旬", "中旬", "下旬")


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def ten_days(day: dt.date) -> tuple[dt.date, dt.date]:
    """The ten-day period containing `day`: 1-10, 11-20 or 21 to the month's end."""
    part = min((day.day - 1) // 10, 2)
    start = day.replace(day=1 + 10 * part)
    end = day.replace(day=10 * (part + 1)) if part < 2 else month_end(day.year, day.month)
    return start, end


def last_complete_ten_days(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The last ten-day period that ends on or before `as_of` (the data's own date)."""
    start, end = ten_days(as_of)
    if end <= as_of:
        return start, end
    return ten_days(start - dt.timedelta(days=1))


def ten_day_index(day: dt.date) -> int:
    """The number of the ten-day period containing `day` within its year: 1 (1-10 January) to 36."""
    return (day.month - 1) * 3 + min((day.day - 1) // 10, 2) + 1


def is_ten_days(start: dt.date, end: dt.date) -> bool:
    return ten_days(start) == (start, end)


def is_month(start: dt.date, end: dt.date) -> bool:
    return start.day == 1 and end == month_end(start.year, start.month)


def month(text: str) -> tuple[dt.date, dt.date]:
    """'2026-10' (or 2026-1, 2026年10月) -> its first and last day; ValueError in Chinese otherwise."""
    m = re.fullmatch(r"\s*(\d{4})\s*(?:-|/|年)\s*(\d{1,2})\s*月?\s*", text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"「{text}」不是有效的月份, 应写作 YYYY-MM, 如 2026-10")
    y, mo = int(m.group(1)), int(m.group(2))
    return dt.date(y, mo, 1), month_end(y, mo)


def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month containing `day`."""
    return day.replace(day=1), month_end(day.year, day.month)


def of_kind(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The period of a series containing `day`: its 旬 (digest) or its month (monthly)."""
    return ten_days(day) if kind == "digest" else month_of(day)


def is_of_kind(kind: str, start: dt.date, end: dt.date) -> bool:
    """Whether (start, end) is exactly one period of the kind's series (a 旬, a calendar month)."""
    return kind in ("digest", "monthly") and of_kind(kind, start) == (start, end)


def issue_number(kind: str, start: dt.date, end: dt.date) -> int | None:
    """第N期, counted per year: a digest of exactly one 旬 its number, a monthly analysis of
    exactly one calendar month its month; other periods and area reports are no series (None)."""
    if not is_of_kind(kind, start, end):
        return None
    return ten_day_index(end) if kind == "digest" else end.month


def previous(kind: str, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """The period 环比 compares with: the previous 旬 of a digest of one 旬, the previous
    calendar month of a monthly analysis of one month; None otherwise (the analyses' rule: the
    days of the same length before, analysis.metrics.comparison_periods)."""
    if not is_of_kind(kind, start, end):
        return None
    return of_kind(kind, start - dt.timedelta(days=1))


def label(start: dt.date, end: dt.date) -> str:
    """'2026年10月下旬', '2026年10月' or '2026年9月21日至2026年10月20日'."""
    if is_ten_days(start, end):
        return f"{start.year}年{start.month}月{PARTS[(start.day - 1) // 10]}"
    if is_month(start, end):
        return f"{start.year}年{start.month}月"
    if start.day == 1 and end == month_end(end.year, end.month):
        return f"{start.year}年{start.month}月至{end.year}年{end.month}月"
    return f"{cn_date(start)}至{cn_date(end)}"


def cn_date(d: dt.date) -> str:
    """2026年10月31日 (as documents write dates)."""
    return f"{d.year}年{d.month}月{d.day}日"


def cn_month(text: str) -> str:
    """'2026-02' (a month as the analyses name it) -> '2026年2月'."""
    y, m = text.split("-")
    return f"{int(y)}年{int(m)}月"


def recent_ten_days(as_of: dt.date, n: int = 12, first: dt.date | None = None) -> list[tuple[dt.date, dt.date]]:
    """The last `n` complete ten-day periods up to `as_of`, latest first; none ending before `first`
    (the first case)."""
    out = [last_complete_ten_days(as_of)]
    while len(out) < n:
        out.append(ten_days(out[-1][0] - dt.timedelta(days=1)))
    return [p for p in out if first is None or p[1] >= first]


def recent_months(as_of: dt.date, n: int = 12, first: dt.date | None = None) -> list[tuple[dt.date, dt.date]]:
    """The last `n` complete months up to `as_of` (the month of `as_of` when it is its last day),
    latest first; none ending before `first` (the first case)."""
    y, m = as_of.year, as_of.month
    if as_of != month_end(y, m):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    out = []
    while len(out) < n:
        out.append((dt.date(y, m, 1), month_end(y, m)))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return [p for p in out if first is None or p[1] >= first]
