"""Level of detail on a warehouse with many villages (setting map_max_villages): 总览 draws
towns until a town is chosen, pages whose maps are of villages only ask for a town first.
The demo stands in for a province by lowering the limit below its number of villages."""

from __future__ import annotations

import pytest

from dashboard import pages
from etl.db import connect
from tests.test_app import _run


def test_a_warehouse_with_many_villages_opens_on_a_town_map(monkeypatch, demo_db):
    """Level of detail (setting map_max_villages): above the limit 总览 draws towns and says how
    to see villages; choosing a town draws that town's villages."""
    con = connect(demo_db, read_only=True)
    n_villages, towns = con.execute("SELECT count(*) FILTER (level = 'village'), count(*) FILTER (level = 'town') "
                                    "FROM areas WHERE geom IS NOT NULL").fetchone()
    town = con.execute("SELECT code FROM areas WHERE level = 'town' ORDER BY code LIMIT 1").fetchone()[0]
    con.close()
    monkeypatch.setenv("MINQING_MAP_MAX_VILLAGES", str(n_villages - 1))
    at = _run(monkeypatch, demo_db)
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"本范围有 {n_villages:,} 个村(社区), 地图先按乡镇(街道)显示" in i.value for i in at.info)
    assert any(s.value == "各乡镇(街道)分布" for s in at.subheader)
    at.selectbox(key="town").set_value(town).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.value == "各村(社区)分布" for s in at.subheader)
    assert not any("地图先按乡镇(街道)显示" in i.value for i in at.info)
    assert towns > 1


@pytest.mark.parametrize("name", ["fieldwork", "households", "must_visit"])
def test_village_only_maps_ask_for_a_town_when_there_are_too_many_villages(monkeypatch, demo_db, name):
    con = connect(demo_db, read_only=True)
    n_villages = con.execute("SELECT count(*) FROM areas WHERE level = 'village' AND geom IS NOT NULL").fetchone()[0]
    town = con.execute("SELECT code FROM areas WHERE level = 'town' ORDER BY code LIMIT 1").fetchone()[0]
    con.close()
    monkeypatch.setenv("MINQING_MAP_MAX_VILLAGES", str(n_villages - 1))
    at = _run(monkeypatch, demo_db, pages.page(name).file)
    assert not at.exception, [e.value for e in at.exception]
    ask = f"本范围有 {n_villages:,} 个村(社区), 一张地图画不下"
    assert any(ask in i.value for i in at.info)
    at.selectbox(key="town").set_value(town).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any(ask in i.value for i in at.info)
