"""The queries of 驻点走访 (analysis.fieldwork): cached and scoped like every query
(dashboard.data.query), on the one connection dashboard.data owns. Each is the analysis of
the same name called with the page's filter."""

from __future__ import annotations

from analysis import fieldwork as fw
from analysis.filters import CaseFilter
from dashboard.data import query


@query
def missing(con) -> list[str]:
    """The field-work kinds the warehouse has no row of (analysis.fieldwork.missing)."""
    return fw.missing(con)


def _of(name: str):
    """The query `name`: analysis.fieldwork.<name>(con, flt), with the filter declared so that
    dashboard.data.query clamps it into the account's scope."""
    analysis = getattr(fw, name)

    def q(con, flt: CaseFilter):
        return analysis(con, flt)

    q.__name__ = q.__qualname__ = name
    q.__doc__ = analysis.__doc__
    return query(q)


@query
def cadre_summary(con, flt: CaseFilter, by: str):
    """analysis.fieldwork.cadre_summary: cadres meeting the target per town or unit."""
    return fw.cadre_summary(con, flt, by)


period = _of("period")
idle_towns = _of("idle_towns")
stations = _of("stations")
villages_without_station = _of("villages_without_station")
cadre_visits = _of("cadre_visits")
pairing_load = _of("pairing_load")
households_reached = _of("households_reached")
unvisited_key_households = _of("unvisited_key_households")
village_coverage = _of("village_coverage")
must_visit_unvisited = _of("must_visit_unvisited")
buildings = _of("buildings")
