"""The queries of 驻点走访 (analysis.fieldwork): cached and scoped like every query
(dashboard.data.query), on the one connection dashboard.data owns."""

from __future__ import annotations

import pandas as pd

from analysis.filters import CaseFilter
from dashboard.data import query


@query
def missing(con) -> list[str]:
    """The field-work kinds the warehouse has no row of (analysis.fieldwork.missing)."""
    from analysis import fieldwork as fw

    return fw.missing(con)


@query
def idle_towns(con, flt: CaseFilter) -> pd.DataFrame:
    from analysis import fieldwork as fw

    return fw.idle_towns(con, flt)


@query
def stations(con, flt: CaseFilter) -> pd.DataFrame:
    from analysis import fieldwork as fw

    return fw.stations(con, flt)


@query
def villages_without_station(con, flt: CaseFilter) -> pd.DataFrame:
    from analysis import fieldwork as fw

    return fw.villages_without_station(con, flt)


@query
def cadre_visits(con, flt: CaseFilter) -> pd.DataFrame:
    from analysis import fieldwork as fw

    return fw.cadre_visits(con, flt)


@query
def cadre_summary(con, flt: CaseFilter, by: str) -> pd.DataFrame:
    from analysis import fieldwork as fw

    return fw.cadre_summary(con, flt, by)


@query
def pairing_load(con, flt: CaseFilter) -> pd.DataFrame:
    from analysis import fieldwork as fw

    return fw.pairing_load(con, flt)


@query
def households_reached(con, flt: CaseFilter) -> pd.DataFrame:
    from analysis import fieldwork as fw

    return fw.households_reached(con, flt)


@query
def unvisited_key_households(con, flt: CaseFilter) -> pd.DataFrame:
    from analysis import fieldwork as fw

    return fw.unvisited_key_households(con, flt)


@query
def village_coverage(con, flt: CaseFilter) -> pd.DataFrame:
    from analysis import fieldwork as fw

    return fw.village_coverage(con, flt)


@query
def must_visit_unvisited(con, flt: CaseFilter) -> pd.DataFrame:
    from analysis import fieldwork as fw

    return fw.must_visit_unvisited(con, flt)


@query
def buildings(con, flt: CaseFilter) -> pd.DataFrame:
    from analysis import fieldwork as fw

    return fw.buildings(con, flt)


@query
def period(con, flt: CaseFilter):
    """The period the field-work figures cover (analysis.fieldwork.period)."""
    from analysis import fieldwork as fw

    return fw.period(con, flt)
