"""The 报告 page's query: a document built on the one connection dashboard.data owns, within the
signed-in account's scope (dashboard.data.query clamps the filter's area into a town account's
town, and `visible`, '' for the others, becomes that town: rows of other areas stay out)."""

from __future__ import annotations

from analysis.filters import CaseFilter
from dashboard.data import query


@query(areas=("visible",))
def report_file(con, kind: str, flt: CaseFilter, visible: str) -> tuple[bytes, str]:
    """(the .docx bytes, its file name) of a report (reports.documents.build). `visible` has no
    default on purpose: only an argument passed is clamped, so every caller passes "" (the scope
    comes from the account, not the caller)."""
    from reports.documents.build import build, file_name

    data, doc = build(con, kind, flt, visible=visible)
    return data, file_name(kind, doc)
