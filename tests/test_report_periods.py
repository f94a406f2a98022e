"""Ten-day periods (旬), months and issue numbers (第N期) of the generated documents."""

from __future__ import annotations

import datetime as dt

import pytest

from reports.documents import periods

D = dt.date


@pytest.mark.parametrize("day, period", [
    (D(2026, 10, 1), (D(2026, 10, 1), D(2026, 10, 10))),
    (D(2026, 10, 10), (D(2026, 10, 1), D(2026, 10, 10))),
    (D(2026, 10, 11), (D(2026, 10, 11), D(2026, 10, 20))),
    (D(2026, 10, 21), (D(2026, 10, 21), D(2026, 10, 31))),   # 下旬 runs to the 31st
    (D(2026, 2, 25), (D(2026, 2, 21), D(2026, 2, 28))),      # and ends on the 28th in February
    (D(2028, 2, 29), (D(2028, 2, 21), D(2028, 2, 29))),      # a leap year's 29th
    (D(2026, 4, 30), (D(2026, 4, 21), D(2026, 4, 30))),
])
def test_the_ten_day_period_of_a_day(day, period):
    assert periods.ten_days(day) == period


@pytest.mark.parametrize("as_of, period", [
    (D(2026, 10, 31), (D(2026, 10, 21), D(2026, 10, 31))),  # the data reaches the period's last day: it is complete
    (D(2026, 10, 30), (D(2026, 10, 11), D(2026, 10, 20))),  # one day short: the one before
    (D(2026, 3, 5), (D(2026, 2, 21), D(2026, 2, 28))),      # back across a month: February's 下旬
    (D(2028, 3, 1), (D(2028, 2, 21), D(2028, 2, 29))),
    (D(2027, 1, 9), (D(2026, 12, 21), D(2026, 12, 31))),    # and across a year
    (D(2026, 1, 10), (D(2026, 1, 1), D(2026, 1, 10))),
])
def test_the_last_complete_ten_days_end_at_or_before_the_data_date(as_of, period):
    assert periods.last_complete_ten_days(as_of) == period


def test_issue_numbers_count_within_the_year():
    assert periods.issue_number("digest", D(2026, 1, 1), D(2026, 1, 10)) == 1
    assert periods.issue_number("digest", D(2026, 2, 21), D(2026, 2, 28)) == 6
    assert periods.issue_number("digest", D(2026, 10, 21), D(2026, 10, 31)) == 30
    assert periods.issue_number("digest", D(2026, 12, 21), D(2026, 12, 31)) == 36
    assert periods.issue_number("monthly", D(2026, 10, 1), D(2026, 10, 31)) == 10
    assert periods.issue_number("area", D(2025, 11, 1), D(2026, 10, 31)) is None  # an area report is no series
    # every ten-day period of a leap year has its own number, 1 to 36, in order
    starts = sorted({periods.ten_days(D(2028, 1, 1) + dt.timedelta(days=i)) for i in range(366)})
    assert [periods.ten_day_index(s) for s, _ in starts] == list(range(1, 37))
    assert sum((e - s).days + 1 for s, e in starts) == 366


def test_months_are_read_or_refused_in_chinese():
    assert periods.month("2026-10") == (D(2026, 10, 1), D(2026, 10, 31))
    assert periods.month("2028年2月") == (D(2028, 2, 1), D(2028, 2, 29))
    for bad in ("2026-13", "10/2026", "", "2026-00"):
        with pytest.raises(ValueError, match="不是有效的月份.*YYYY-MM"):
            periods.month(bad)


def test_labels_and_recent_choices():
    assert periods.label(D(2026, 10, 21), D(2026, 10, 31)) == "2026年10月下旬"
    assert periods.label(D(2026, 10, 1), D(2026, 10, 31)) == "2026年10月"
    assert periods.label(D(2025, 11, 1), D(2026, 10, 31)) == "2025年11月至2026年10月"
    assert periods.label(D(2026, 10, 3), D(2026, 10, 9)) == "2026年10月3日至2026年10月9日"
    tens = periods.recent_ten_days(D(2026, 10, 30), 4)
    assert tens == [(D(2026, 10, 11), D(2026, 10, 20)), (D(2026, 10, 1), D(2026, 10, 10)),
                    (D(2026, 9, 21), D(2026, 9, 30)), (D(2026, 9, 11), D(2026, 9, 20))]
    assert periods.recent_months(D(2026, 10, 30), 2) == [(D(2026, 9, 1), D(2026, 9, 30)), (D(2026, 8, 1), D(2026, 8, 31))]
    assert periods.recent_months(D(2026, 10, 31), 1) == [(D(2026, 10, 1), D(2026, 10, 31))]


def test_only_a_whole_ten_days_or_month_gets_an_issue_number():
    assert periods.issue_number("digest", D(2026, 10, 3), D(2026, 10, 9)) is None
    assert periods.issue_number("digest", D(2026, 10, 1), D(2026, 10, 31)) is None  # a month is no 旬
    assert periods.issue_number("digest", D(2026, 10, 21), D(2026, 11, 10)) is None
    assert periods.issue_number("monthly", D(2026, 10, 1), D(2026, 10, 20)) is None
    assert periods.issue_number("monthly", D(2026, 10, 11), D(2026, 10, 20)) is None


def test_the_previous_period_is_the_previous_ten_days_or_calendar_month():
    assert periods.previous("digest", D(2026, 3, 1), D(2026, 3, 10)) == (D(2026, 2, 21), D(2026, 2, 28))
    assert periods.previous("digest", D(2026, 3, 21), D(2026, 3, 31)) == (D(2026, 3, 11), D(2026, 3, 20))
    assert periods.previous("digest", D(2026, 1, 1), D(2026, 1, 10)) == (D(2025, 12, 21), D(2025, 12, 31))
    assert periods.previous("monthly", D(2026, 3, 1), D(2026, 3, 31)) == (D(2026, 2, 1), D(2026, 2, 28))
    assert periods.previous("monthly", D(2026, 1, 1), D(2026, 1, 31)) == (D(2025, 12, 1), D(2025, 12, 31))
    # other periods: the analyses' rule (the same number of days before), from analysis.metrics
    assert periods.previous("area", D(2026, 3, 1), D(2026, 3, 31)) is None
    assert periods.previous("digest", D(2026, 3, 3), D(2026, 3, 9)) is None


def test_no_period_ending_before_the_first_case_is_offered():
    from dashboard.compute.report import period_options

    tens = period_options("digest", D(2026, 10, 31), first=D(2026, 9, 25))
    assert list(tens.values()) == [(D(2026, 10, 21), D(2026, 10, 31)), (D(2026, 10, 11), D(2026, 10, 20)),
                                   (D(2026, 10, 1), D(2026, 10, 10)), (D(2026, 9, 21), D(2026, 9, 30))]
    months = period_options("monthly", D(2026, 10, 31), first=D(2026, 9, 25))
    assert list(months) == ["2026年10月", "2026年9月"]
    assert len(period_options("monthly", D(2026, 10, 31))) == 12
