"""The embedded demo: 汉滨区 (610902) at realistic scale, deterministic for a seed.

Real codes, names and district outline; everything below the district is synthetic
(演示数据). The demo first writes the source files an office would have (boundary
GeoJSON, household sheets, case ledger, ...) and then loads them through the same
loaders a user's files take. The planted ground truth goes to `demo_truth.json`
beside the warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import divisions, settings
from ..keys import new_warehouse
from ..load import load
from ..warehouse import init_warehouse
from . import alerts as alert_plants
from . import cases as case_gen
from . import people
from .geography import build_geography, disasters, place_remote_seats, remote_villages

DISTRICT = "610902"
START = "2024-01"
LABEL = "演示数据"
# Where the planted patterns sit (real town codes of 汉滨区).
PERSISTENT_TOWNS = {"610902004": "物业管理", "610902107": "征地拆迁补偿"}
EMERGING_TOWNS = {"610902104": "饮水"}
DIMINISHING_TOWNS = {"610902100": "道路"}
DIFFICULT_TOWNS = ["610902115", "610902122", "610902120", "610902002"]
POVERTY_TOWNS = ["610902128", "610902130", "610902124", "610902111"]
OFFICIAL_POOR_TOWNS = ["610902125", "610902118"]
REMOTE_KM = settings.setting("must_visit_remote_km").default  # planted against the default, whatever the environment


def build_demo(db_path: str | Path, *, seed: int = 20241, as_of: str = "2026-10-31", scale: float = 1.0,
               progress=None) -> dict:
    """Write the demo sources next to `db_path`, build the warehouse from them, return the truth."""
    say = progress or (lambda msg: None)
    db_path = Path(db_path)
    src = db_path.parent / f"{db_path.stem}_sources"
    src.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    d = divisions.resolve_district(DISTRICT)
    towns = divisions.towns(d.code)
    vlist = divisions.villages(d.code)
    say("切分演示边界 (splitting the outline into towns and villages)")
    geo = build_geography(divisions.county_outline(d.code), towns, vlist, rng)
    remote_towns = place_remote_seats(geo, 3, rng)
    town_names = dict(zip(towns["code"], towns["name"]))
    vg = geo.villages.reset_index(drop=True)
    vg["town_name"] = vg["town_code"].map(town_names)
    touching = _neighbours(vg)
    months = pd.period_range(START, as_of[:7], freq="M")
    truth: dict = {"district": d.code, "seed": seed, "as_of": as_of, "scale": scale, "label": LABEL}
    plan, truth["hotspots"], (difficult, poverty, official) = _plant(vg, touching, months, rng)

    say("生成户籍与民情分类 (households)")
    hh_counts = people.household_counts(vg, int(270_000 * scale), rng)
    poverty_codes = {vg.at[v, "code"] for v in poverty}
    snaps = people.households(vg, hh_counts, poverty_codes, as_of, rng)
    cadres, paired = people.cadres_and_pairs(vg, snaps[-1], {vg.at[v, "code"] for v in difficult}, rng)
    snaps[-1]["结对干部编号"] = paired
    visits = people.visits(vg, snaps[-1], paired, START + "-01", as_of, rng, scale)
    truth["fieldwork"] = _fieldwork_truth(vg, official)
    visits = people.plant_fieldwork(visits, vg, truth["fieldwork"]["idle_town"],
                                    truth["fieldwork"]["unvisited_must_visit"][0], as_of,
                                    truth["fieldwork"]["idle_months"], truth["fieldwork"]["quiet_months"])
    stations, buildings = people.stations_and_buildings(vg, town_names, geo.to_lonlat, rng)

    say("生成诉求台账 (cases)")
    counts = case_gen.case_counts(vg, hh_counts.astype(float), months, plan, int(40_000 * scale), rng)
    ledger = case_gen.cases(vg, vg.geometry, counts, months, plan, pd.Timestamp(as_of) + pd.Timedelta(hours=23, minutes=59),
                            geo.to_lonlat, rng)
    dis = disasters(geo, rng)
    ledger, truth["alerts"] = alert_plants.plant(ledger, vg, touching, _free_towns(vg, hh_counts)[:4], as_of, seed, hh_counts,
                                                 scale)

    say("写出演示源文件 (writing source files)")
    files = _write_sources(src, d.name, geo, vg, official, snaps, cadres, visits, stations, buildings, ledger, dis)

    say("装入数据仓库 (loading)")
    with new_warehouse(db_path) as (con, key):
        init_warehouse(con, d.code, key=key, demo=True)
        con.execute("INSERT INTO meta VALUES ('demo_as_of', ?), ('demo_seed', ?)", [as_of, str(seed)])
        batches = []
        loaded_at = dt.datetime.fromisoformat(as_of) + dt.timedelta(hours=23)
        for kind, path in files:
            r = load(con, kind, path, synthetic=(kind == "areas"), now=loaded_at, hash_key=key)
            batches.append(r.as_dict())
            say(f"  {kind}: {path.name} 读入 {r.rows_read} 行, 新增 {r.loaded}, 更新 {r.updated}, 重复 {r.duplicates}, 拒收 {r.rejected}")

    truth["must_visit"] = _must_visit_truth(geo, vg, dis, truth["hotspots"], difficult, poverty, official, remote_towns)
    truth["counts"] = {"households": int(hh_counts.sum()), "cases": int(len(ledger)), "cadres": int(len(cadres)),
                       "visits": int(len(visits)), "stations": int(len(stations)), "buildings": int(len(buildings))}
    truth["disasters"] = [{"disaster_id": r.disaster_id, "name": r.name, "started_at": r.started_at} for r in dis.itertuples()]
    truth["loads"] = batches
    truth["classification_rule"] = ("连心户: 困难程度>=2, 或人均年收入<4000, 或负债>2倍年收入且人均<10000; "
                                    "关心户: 困难程度=1, 或人均<10000, 或负债>年收入; 其余放心户")
    (db_path.parent / "demo_truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return truth


def _plant(vg, touching, months, rng):
    """The planted truth: hot-spot clusters with their monthly multipliers (Esri-recognisable
    shapes), then the difficult, poor and officially poor villages, each in its own village."""
    used: set[int] = set()
    plan = case_gen.Plan(np.ones((len(vg), len(months))), {}, set())
    hotspots: dict = {"persistent": [], "emerging": [], "diminishing": []}
    m_idx = np.arange(len(months))
    k26 = int(np.flatnonzero(months == pd.Period("2026-01", "M"))[0])
    for kind, town_map in (("persistent", PERSISTENT_TOWNS), ("emerging", EMERGING_TOWNS), ("diminishing", DIMINISHING_TOWNS)):
        for town, cat in town_map.items():
            members = _cluster(vg, touching, town, used, rng, size=5)
            # Shapes chosen so Esri's Emerging Hot Spot rules can recognise them (monthly Gi*):
            if kind == "persistent":  # hot in every month at a steady level
                curve = np.full(len(months), 5.0)
            elif kind == "emerging":  # quiet until 2026, then hot and rising every month to the end
                curve = np.where(m_idx >= k26, 3.0 + 1.0 * (m_idx - k26), 1.0)
            else:  # diminishing: hot throughout, fading but still well above normal at the end
                curve = 12.0 - 7.0 * m_idx / (len(months) - 1)
            for v in members:
                plan.multiplier[v] = curve
                plan.category[v] = cat
            hotspots[kind].append({"town_code": town, "category": cat, "villages": [vg.at[v, "code"] for v in members],
                                   "multiplier_by_month": {str(p): round(float(c), 2) for p, c in zip(months, curve)}})
    difficult = [_pick(vg, t, used, rng) for t in DIFFICULT_TOWNS]
    plan.difficult = set(difficult)
    poverty = [_pick(vg, t, used, rng) for t in POVERTY_TOWNS]
    official = [_pick(vg, t, used, rng) for t in OFFICIAL_POOR_TOWNS]
    return plan, hotspots, (difficult, poverty, official)


def _free_towns(vg, households=None) -> list[str]:
    """Towns (by code) with no planted pattern: the first is the field-work idle town. With
    `households` (per village): the others, most households first; the first four carry the
    early-warning plants (etl/demo/alerts.py), where a few more cases move the rates least."""
    planted = {*PERSISTENT_TOWNS, *EMERGING_TOWNS, *DIMINISHING_TOWNS, *DIFFICULT_TOWNS, *POVERTY_TOWNS,
               *OFFICIAL_POOR_TOWNS}
    free = sorted(set(vg["town_code"]) - planted)
    if households is None:
        return free
    size = pd.Series(households, index=vg.index).groupby(vg["town_code"]).sum()
    return sorted(free[1:], key=lambda t: (-size[t], t))


def _fieldwork_truth(vg, official) -> dict:
    """Where the field-work patterns sit: the first town (by code) with no other planting, whose
    stationed cadres stop visiting, and the first officially poor village (a 五必去 village
    whatever the thresholds), which nobody visits in the last 12 months."""
    idle = _free_towns(vg)[0]
    return {"idle_town": idle, "idle_months": 3, "unvisited_must_visit": [vg.at[official[0], "code"]], "quiet_months": 12}


def _must_visit_truth(geo, vg, dis, hotspots, difficult, poverty, official, remote_towns) -> dict:
    """Which villages the demo planted for each of the five must-visit criteria."""
    def codes(idx):
        return [vg.at[v, "code"] for v in idx]
    hit = vg[vg.geometry.intersects(shapely.union_all(dis[dis["started_at"] >= "2025-11-01"].geometry))
             & (vg.geometry.intersection(shapely.union_all(dis.geometry)).area > 1000)]
    return {
        "poverty": {"high_key_assistance_share": codes(poverty), "official_flag": codes(official)},
        "remote": {"threshold_km": REMOTE_KM, "towns_with_moved_seat": remote_towns,
                   "villages": remote_villages(geo, REMOTE_KM)},
        "petitions": [c for k in ("persistent", "emerging", "diminishing") for h in hotspots[k] for c in h["villages"]],
        "difficult": codes(difficult),
        "disaster": {"within_12_months": hit["code"].tolist(),
                     "all_events": vg[vg.geometry.intersection(shapely.union_all(dis.geometry)).area > 1000]["code"].tolist()},
    }


def _write_sources(src: Path, dname: str, geo, vg, official, snaps, cadres, visits, stations, buildings, ledger, dis):
    tg = geo.towns.copy()
    seat_lon, seat_lat = geo.to_lonlat.transform(tg["seat_x"].to_numpy(), tg["seat_y"].to_numpy())
    official_codes = {vg.at[v, "code"] for v in official}
    vseat = vg.geometry.representative_point()
    vlon, vlat = geo.to_lonlat.transform(vseat.x.to_numpy(), vseat.y.to_numpy())
    bounds = gpd.GeoDataFrame({
        "区划代码": list(tg["code"]) + list(vg["code"]),
        "名称": list(tg["name"]) + list(vg["name"]),
        "驻地经度": np.round(np.r_[seat_lon, vlon], 6), "驻地纬度": np.round(np.r_[seat_lat, vlat], 6),
        "特困村": ["否"] * len(tg) + ["是" if c in official_codes else "否" for c in vg["code"]],
        "说明": LABEL,
    }, geometry=list(tg.geometry) + list(vg.geometry), crs=geo.towns.crs).to_crs("EPSG:4326")
    files = []
    p = src / f"{dname}_村社区边界_{LABEL}.geojson"
    bounds.to_file(p, driver="GeoJSON")
    files.append(("areas", p))
    for name, df, enc in (("工作站", stations, "utf-8-sig"), ("商务楼宇企业街区", buildings, "utf-8-sig"), ("干部名册", cadres, "gb18030")):
        p = src / f"{dname}_{name}_{LABEL}.csv"
        df.to_csv(p, index=False, encoding=enc)
        files.append(({"工作站": "stations", "商务楼宇企业街区": "buildings", "干部名册": "cadres"}[name], p))
    for snap, date in zip(snaps, [*people.SNAPSHOTS, "最新"]):
        p = src / f"{dname}_民情数据库_{date}_{LABEL}.csv"
        snap.drop(columns=[c for c in snap.columns if c.startswith("_")]).to_csv(p, index=False, encoding="gb18030")
        files.append(("households", p))
    p = src / f"{dname}_走访记录_{LABEL}.csv"
    visits.to_csv(p, index=False, encoding="utf-8")
    files.append(("visits", p))
    p = src / f"{dname}_灾害影响范围_{LABEL}.geojson"
    dis.rename(columns={"disaster_id": "编号", "kind": "灾害类型", "name": "名称", "started_at": "开始日期", "ended_at": "结束日期"}) \
        .to_crs("EPSG:4326").to_file(p, driver="GeoJSON")
    files.append(("disasters", p))
    p = src / f"{dname}_诉求台账_{LABEL}.csv"
    ledger.drop(columns=[c for c in ledger.columns if c.startswith("_")]).to_csv(p, index=False, encoding="gb18030")
    files.append(("cases", p))
    return files


def _neighbours(vg: gpd.GeoDataFrame) -> dict[int, list[int]]:
    left, right = vg.sindex.query(vg.geometry, predicate="intersects")
    out: dict[int, list[int]] = {i: [] for i in range(len(vg))}
    for a, b in zip(left, right):
        if a != b and vg.geometry.iloc[a].intersection(vg.geometry.iloc[b]).length > 0:
            out[int(a)].append(int(b))
    return out


def _cluster(vg, touching, town: str, used: set[int], rng, size: int) -> list[int]:
    """A village of `town` with enough free neighbours, plus its nearest neighbours."""
    cands = [i for i in np.flatnonzero(vg["town_code"].to_numpy() == town)
             if i not in used and sum(j not in used for j in touching[i]) >= size - 1]
    focal = int(rng.choice(cands))
    c = vg.geometry.iloc[focal].representative_point()
    nb = sorted((j for j in touching[focal] if j not in used), key=lambda j: vg.geometry.iloc[j].representative_point().distance(c))
    members = [focal, *nb[: size - 1]]
    for j in members:
        used.add(j)
        used.update(touching[j])  # keep other plantings off the cluster's edge
    return members


def _pick(vg, town: str, used: set[int], rng) -> int:
    cands = [i for i in np.flatnonzero(vg["town_code"].to_numpy() == town) if i not in used]
    v = int(rng.choice(cands))
    used.add(v)
    return v
