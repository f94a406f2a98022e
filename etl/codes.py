"""Area codes (统计用区划代码 of the National Bureau of Statistics): the level of an area is the
length of its code, and a code begins with the codes of the areas that contain it.

- 6 digits: the district (区/县), the root of a warehouse; '' stands for it too;
- 9 digits: a town (乡镇/街道): the first 9 digits of its villages' codes;
- 12 digits: a village (村/社区).

This module is the rule's one home. Python calls `level_of`, `town_of` and `village_of`; SQL
built in Python calls `sql_town_code` and `sql_village_code` (plain expressions, so a query
needs nothing defined on its connection); the SQL files call the macros of `sql_macros`,
which etl.views defines with the warehouse's other macros:

- mq_town_code(code): the town's code of a town or village code, else NULL;
- mq_village_code(code): the code when it is a village's, else NULL;
- mq_area_codes(code): {village_code, town_code, district_code} of a code (the area columns
  of the views case_facts and household_facts).
"""

from __future__ import annotations

LEVEL_DIGITS = {"district": 6, "town": 9, "village": 12}

_DISTRICT, _TOWN, _VILLAGE = LEVEL_DIGITS["district"], LEVEL_DIGITS["town"], LEVEL_DIGITS["village"]


def level_of(code: str | None) -> str:
    """'district', 'town' or 'village' from the length of an area code ('' is the district)."""
    n = len(code or "")
    if n <= _DISTRICT:
        return "district"
    if n == _TOWN:
        return "town"
    if n == _VILLAGE:
        return "village"
    raise ValueError(f"not an area code: {code!r}")


def town_of(code: str | None) -> str | None:
    """The code of the town of a town or village code (its first 9 digits); None above a town."""
    code = code or ""
    return code[:_TOWN] if len(code) >= _TOWN else None


def village_of(code: str | None) -> str | None:
    """The code itself when it is a village's; None for a town or the district."""
    return code if code and len(code) == _VILLAGE else None


def sql_town_code(expr: str) -> str:
    """SQL for `town_of` of the area-code expression `expr` (NULL above a town)."""
    return f"CASE WHEN length({expr}) >= {_TOWN} THEN left({expr}, {_TOWN}) END"


def sql_village_code(expr: str) -> str:
    """SQL for `village_of` of the area-code expression `expr` (NULL for a town or the district)."""
    return f"CASE WHEN length({expr}) = {_VILLAGE} THEN {expr} END"


def sql_macros() -> dict[str, str]:
    """The area-code macros for the SQL files: signature -> body (module docstring)."""
    return {
        "mq_town_code(code)": sql_town_code("code"),
        "mq_village_code(code)": sql_village_code("code"),
        "mq_area_codes(code)": "{'village_code': mq_village_code(code), 'town_code': mq_town_code(code), "
                               f"'district_code': left(code, {_DISTRICT})}}",
    }
