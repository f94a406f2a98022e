"""Level of detail on a warehouse with many villages (setting map_max_villages): 总览 draws
towns until a town is chosen, pages whose maps are of villages only ask for a town first.
The demo stands in for a province by lowering the limit below its number of villages."""

from __future__ import annotations

import pandas as pd
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


def _hotspots_page(monkeypatch, db, mode: str, limit: int):
    from tests.test_page_hotspots import _page

    monkeypatch.setenv("MINQING_MAP_MAX_VILLAGES", str(limit))
    return _page(monkeypatch, db, mode)


def _demo_towns(db) -> tuple[int, str, list[str]]:
    """(outlined villages of the demo, the town with the most cases, its outlined villages' codes)."""
    con = connect(db, read_only=True)
    n = con.execute("SELECT count(*) FROM areas WHERE level = 'village' AND geom IS NOT NULL").fetchone()[0]
    town = con.execute("SELECT left(area_code, 9) FROM cases WHERE length(area_code) = 12 "
                       "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
    codes = [r[0] for r in con.execute("SELECT code FROM areas WHERE level = 'village' AND geom IS NOT NULL "
                                       "AND starts_with(code, ?) ORDER BY code", [town]).fetchall()]
    con.close()
    return n, town, codes


@pytest.mark.parametrize("mode", ["gi", "lisa", "emerging", "month"])
def test_hot_spot_maps_above_the_limit_draw_only_a_chosen_towns_villages(monkeypatch, demo_db, mode):
    """热点分析 under level of detail: with more villages than map_max_villages and no town, no
    village map (the page asks for a town); with a town, its villages, each with the class the
    district-wide analysis gives it (computed here directly, no limit involved)."""
    from analysis.filters import CaseFilter
    from analysis.hotspots import area_hotspots, emerging
    from geo.emerging import CATEGORY_LABELS
    from geo.getis_ord import CLASS_LABELS
    from geo.moran import LISA_LABELS
    from tests.test_page_hotspots import _legend, _maps, _period

    n_villages, town, codes = _demo_towns(demo_db)
    limit = n_villages - 1
    assert 0 < len(codes) <= limit
    at = _hotspots_page(monkeypatch, demo_db, mode, limit)
    assert not _maps(at)  # nothing drawn: at most `limit` village shapes (none)
    assert any(f"本范围有 {n_villages:,} 个村(社区), 一张地图画不下" in i.value for i in at.info), [i.value for i in at.info]
    if mode == "month":  # the district-wide monthly counts still show
        assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")

    at.selectbox(key="town").set_value(town).run()
    assert not at.exception, [e.value for e in at.exception]
    maps = _maps(at)
    assert len(maps) == 1
    legend = _legend(maps[0])
    assert sum(legend.values()) == len(codes)  # all of the town's villages and nothing else

    start, end = _period(at)
    flt = CaseFilter(start, end)
    con = connect(demo_db, read_only=True)
    village = pd.DataFrame({"area_code": codes})
    if mode in ("gi", "lisa"):
        hs = area_hotspots(con, "village", flt, lisa=mode == "lisa")
        column, labels = ("class", CLASS_LABELS) if mode == "gi" else ("lisa", LISA_LABELS)
    else:
        cats, bins = emerging(con, flt)
        if mode == "emerging":
            hs, column, labels = cats, "category", CATEGORY_LABELS
        else:
            month = at.select_slider(key="hs_month").value
            hs = bins[bins["bin"].astype(str) == month].rename(columns={"location": "area_code"})
            column = "class"
            labels = {k: CLASS_LABELS[v] for k, v in {"hot": "hot_95", "cold": "cold_95", "none": "not_significant"}.items()}
    con.close()
    cut = village.merge(hs[["area_code", column]], on="area_code", how="left")
    want = cut[column].map(labels).fillna("无数据").value_counts().to_dict()
    assert legend == want
    assert len(hs) > len(codes)  # the statistic covered more than the town
    if mode == "gi":
        n_hot = int(cut[column].isin(["hot_99", "hot_95", "hot_90"]).sum())
        assert any(s.value == f"热点村(社区): {n_hot:,} 个" for s in at.subheader), [s.value for s in at.subheader]


def test_hot_spot_maps_within_the_limit_still_draw_the_whole_district(monkeypatch, demo_db):
    """On a district within map_max_villages (the demo, the default) the Gi* map keeps drawing every
    village, with or without a town chosen (the map zooms to the town)."""
    from tests.test_page_hotspots import _legend, _maps

    n_villages, town, _codes = _demo_towns(demo_db)
    at = _hotspots_page(monkeypatch, demo_db, "gi", n_villages)
    assert sum(_legend(_maps(at)[0]).values()) == n_villages
    at.selectbox(key="town").set_value(town).run()
    assert not at.exception, [e.value for e in at.exception]
    assert sum(_legend(_maps(at)[0]).values()) == n_villages
    assert not any("一张地图画不下" in i.value for i in at.info)
