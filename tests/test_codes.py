"""The area-code rule (etl.codes): the level is the length of a code, a town's code is the first
9 digits of its villages' codes; Python, the SQL expressions and the SQL macros agree."""

from __future__ import annotations

import duckdb
import pytest

from etl.codes import level_of, sql_macros, sql_town_code, sql_village_code, town_of, village_of

VILLAGE, TOWN, DISTRICT = "610902004215", "610902004", "610902"


def test_levels_and_the_town_of_a_code():
    assert [level_of(c) for c in ("", DISTRICT, TOWN, VILLAGE)] == ["district", "district", "town", "village"]
    assert town_of(VILLAGE) == TOWN and town_of(TOWN) == TOWN
    assert town_of(DISTRICT) is None and town_of("") is None
    assert village_of(VILLAGE) == VILLAGE and village_of(TOWN) is None and village_of("") is None
    with pytest.raises(ValueError, match="6109020042"):
        level_of("6109020042")


@pytest.mark.parametrize("code", [VILLAGE, TOWN, DISTRICT, None])
def test_sql_gives_what_python_gives(code):
    con = duckdb.connect()
    for signature, body in sql_macros().items():
        con.execute(f"CREATE MACRO {signature} AS {body}")
    row = con.execute(f"SELECT {sql_town_code('$c')}, {sql_village_code('$c')}, mq_area_codes($c)",
                      {"c": code}).fetchone()
    assert row[:2] == (town_of(code), village_of(code))
    assert row[2] == {"village_code": village_of(code), "town_code": town_of(code),
                      "district_code": code[:6] if code else None}
