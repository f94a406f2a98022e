"""Lists of individual cases for the people who follow them up, with masked identifiers only.

The rules (open, overdue, days overdue, 三不结案) come from the view `case_facts`
(etl/sql/views.sql) so a list agrees with every count of analysis/metrics.py.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from .filters import CaseFilter
from etl.views import ensure_views

# Output columns and their Chinese headers, in order.
OVERDUE_COLUMNS = {
    "case_id": "诉求编号", "received_date": "受理日期", "deadline": "办理时限", "days_overdue": "超期天数",
    "town": "乡镇(街道)", "village": "村(社区)", "category": "问题类别", "channel": "诉求来源", "status": "办理状态",
    "handling_unit": "承办单位", "tier": "化解层级", "escalation_level": "升级层级",
    "petitioner_masked": "诉求人", "phone_masked": "联系电话", "content": "诉求内容",
}


def overdue_cases(con: duckdb.DuckDBPyConnection, flt: CaseFilter, *, limit: int | None = None) -> pd.DataFrame:
    """Open cases past their deadline, received up to the filter's end and matching its area and
    terms (`CaseFilter.backlog`: not limited by the period's start, as metrics' `overdue`), most
    overdue first. Names and phones are the masked forms kept by the loader."""
    ensure_views(con)
    where, params = flt.backlog().where("f")
    sql = f"""
        SELECT f.case_id, f.received_date, f.deadline::DATE AS deadline, f.days_overdue,
               t.name AS town, v.name AS village, f.category, f.channel, f.status, f.handling_unit,
               f.tier, f.escalation_level, c.petitioner_masked, c.phone_masked, c.content
        FROM case_facts f JOIN cases c USING (case_id)
        LEFT JOIN areas t ON t.code = f.town_code
        LEFT JOIN areas v ON v.code = f.village_code
        WHERE f.is_overdue AND {where}
        ORDER BY f.days_overdue DESC, f.received_date, f.case_id
        {'LIMIT ' + str(int(limit)) if limit else ''}"""
    return con.execute(sql, params).df()

