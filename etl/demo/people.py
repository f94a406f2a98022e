"""Demo households (three yearly snapshots of the 民情数据库), cadres, visits, stations and
commercial buildings (演示数据). Everything is vectorised with numpy; nothing here is real."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.sample import sample_points

from . import names as fake

SNAPSHOTS = ["2024-12-31", "2025-12-31"]  # plus the demo's as-of date


def household_counts(villages: pd.DataFrame, total: int, rng: np.random.Generator) -> np.ndarray:
    """Households per village: urban communities larger than rural villages; sums to `total`."""
    mean = np.where(villages["urban"], 1100.0, 430.0)
    raw = rng.lognormal(np.log(mean) - 0.18, 0.6)
    counts = np.maximum(np.round(raw / raw.sum() * total), 40).astype(int)
    return counts


def classify(income: np.ndarray, members: np.ndarray, debt: np.ndarray, difficulty: np.ndarray) -> np.ndarray:
    """The demo's classification rule (精确分类): income per head, debt and difficulty."""
    pc = income / np.maximum(members, 1)
    key = (difficulty >= 2) | (pc < 4000) | ((debt > 2 * income) & (pc < 10000))
    attention = (difficulty == 1) | (pc < 10000) | (debt > income)
    return np.where(key, "连心户", np.where(attention, "关心户", "放心户"))


def households(villages: pd.DataFrame, counts: np.ndarray, poor_villages: set[str], as_of: str,
               rng: np.random.Generator) -> list[pd.DataFrame]:
    """One DataFrame per snapshot (same households, evolving), ready to write as sheets."""
    n = int(counts.sum())
    vidx = np.repeat(np.arange(len(villages)), counts)
    code = villages["code"].to_numpy()[vidx]
    urban = villages["urban"].to_numpy()[vidx]
    poor_v = np.isin(code, list(poor_villages))
    members = np.clip(rng.poisson(np.where(urban, 2.2, 2.9)) + 1, 1, 8)
    income = rng.lognormal(np.log(np.where(urban, 95000, 48000) * np.where(poor_v, 0.45, 1.0)), 0.55)
    has_debt = rng.random(n) < np.where(poor_v, 0.55, 0.3)
    debt = np.where(has_debt, rng.lognormal(np.log(30000), 0.9, n), 0.0)
    p_diff = np.where(poor_v[:, None], [[0.45, 0.25, 0.2, 0.1]], [[0.82, 0.12, 0.045, 0.015]])
    difficulty = (rng.random(n)[:, None] > np.cumsum(p_diff, axis=1)).sum(axis=1)
    heads = fake.names(rng, n)
    ids = np.array([f"HH{c}{i:05d}" for c, i in zip(code, _rank_within(code))])
    wubao = (~urban) & (members == 1) & (rng.random(n) < 0.12)
    party = rng.random(n) < 0.03
    deputy = rng.random(n) < 0.004
    vcadre = (~urban) & (rng.random(n) < 0.012)
    since = np.datetime64("2023-03-01") + rng.integers(0, 600, n).astype("timedelta64[D]")
    category = classify(income, members, debt, difficulty)
    snaps = []
    for k, date in enumerate([*SNAPSHOTS, as_of]):
        if k:
            income = income * rng.lognormal(0.05, 0.15, n)
            debt = np.maximum(debt * rng.lognormal(-0.05, 0.3, n), 0)
            step = rng.random(n)
            difficulty = np.clip(difficulty + (step < 0.04) - ((step > 0.93) & (difficulty > 0)), 0, 3)
            new_cat = classify(income, members, debt, difficulty)
            since = np.where(new_cat != category, np.datetime64(date), since)
            category = new_cat
        pc = income / members
        snaps.append(pd.DataFrame({
            "户编号": ids, "所属乡镇": villages["town_name"].to_numpy()[vidx],
            "所属村(社区)": villages["name"].to_numpy()[vidx], "户主姓名": heads,
            "家庭人口": members, "家庭年收入": np.round(income, -1).astype(int),
            "家庭负债": np.round(debt, -2).astype(int), "困难程度": difficulty,
            "分类": category, "分类时间": pd.to_datetime(since).strftime("%Y-%m-%d"),
            "贫困户": np.where((pc < 6000) | ((difficulty == 3) & (pc < 9000)), "是", "否"),
            "五保户": np.where(wubao, "是", "否"), "老党员": np.where(party, "是", "否"),
            "两代一委": np.where(deputy, "是", "否"), "村组干部": np.where(vcadre, "是", "否"),
            "结对干部编号": "", "_code": code,
        }))
    return snaps


def cadres_and_pairs(villages: pd.DataFrame, latest: pd.DataFrame, weak_villages: set[str],
                     rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Cadres (one stationed per village, plus district-department cadres paired 1:3-5 with
    连心户) and the pairing column for the latest snapshot."""
    units = ["区教体局", "区人社局", "区卫健局", "区民政局", "区住建局", "区水利局", "区交通局", "区农业农村局",
             "区自然资源局", "区财政局", "区司法局", "区信访局", "区城管局", "区市场监管局"]
    stationed = pd.DataFrame({
        "干部编号": [f"C{i:05d}" for i in range(len(villages))],
        "姓名": fake.names(rng, len(villages)),
        "单位": villages["town_name"].to_numpy() + "人民政府",
        "职务": "驻村(社区)干部",
        "所属乡镇": villages["town_name"].to_numpy(), "所属村(社区)": villages["name"].to_numpy(),
    })
    key = np.flatnonzero(latest["分类"].to_numpy() == "连心户")
    weak = np.isin(latest["_code"].to_numpy()[key], list(weak_villages))
    covered = key[rng.random(len(key)) < np.where(weak, 0.55, 0.96)]
    per = rng.integers(3, 6, len(covered))
    owner = np.repeat(np.arange(len(per)), per)[: len(covered)]
    n_pair = int(owner.max()) + 1 if len(owner) else 0
    pairing = pd.DataFrame({
        "干部编号": [f"C{len(villages) + i:05d}" for i in range(n_pair)],
        "姓名": fake.names(rng, n_pair), "单位": rng.choice(units, n_pair), "职务": "结对帮扶干部",
        "所属乡镇": "", "所属村(社区)": "",
    })
    paired = np.full(len(latest), "", dtype=object)
    paired[covered] = pairing["干部编号"].to_numpy()[owner]
    return pd.concat([stationed, pairing], ignore_index=True), paired


def visits(villages: pd.DataFrame, latest: pd.DataFrame, paired: np.ndarray, start: str, as_of: str,
           rng: np.random.Generator, scale: float) -> pd.DataFrame:
    """Visit logs: stationed cadres' monthly rounds and pairing cadres' regular visits."""
    months = pd.period_range(start, as_of, freq="M")
    nv = len(villages)
    per_month = rng.poisson(5 * max(scale, 0.05), (nv, len(months)))
    vi = np.repeat(np.tile(np.arange(nv), len(months)), per_month.T.ravel())
    mi = np.repeat(np.repeat(np.arange(len(months)), nv), per_month.T.ravel())
    day = rng.integers(0, 28, len(vi))
    stationed = pd.DataFrame({
        "干部编号": [f"C{i:05d}" for i in vi],
        "走访日期": (months[mi].to_timestamp() + pd.to_timedelta(day, "D")).strftime("%Y-%m-%d"),
        "所属乡镇": villages["town_name"].to_numpy()[vi], "所属村(社区)": villages["name"].to_numpy()[vi],
        "户编号": "", "走访事由": rng.choice(["入户走访", "政策宣传", "矛盾排查", "民情收集"], len(vi)),
    })
    has = np.flatnonzero(paired != "")
    rounds = max(1, int(len(months) / 6))
    hi = np.repeat(has, rounds)
    when = pd.Timestamp(start) + pd.to_timedelta(np.tile(np.arange(rounds) * 180, len(has)) + rng.integers(0, 170, len(hi)), "D")
    keep = when <= pd.Timestamp(as_of)
    pair_rows = pd.DataFrame({
        "干部编号": paired[hi][keep], "走访日期": when[keep].strftime("%Y-%m-%d"),
        "所属乡镇": latest["所属乡镇"].to_numpy()[hi][keep], "所属村(社区)": latest["所属村(社区)"].to_numpy()[hi][keep],
        "户编号": latest["户编号"].to_numpy()[hi][keep], "走访事由": "结对帮扶",
    })
    out = pd.concat([stationed, pair_rows], ignore_index=True).sort_values("走访日期", kind="stable")
    out.insert(0, "走访编号", [f"V{i:07d}" for i in range(len(out))])
    return out


def stations_and_buildings(geo_villages, town_names: dict[str, str], to_lonlat, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A station in every village at its seat; buildings, enterprises and streets in urban streets."""
    seats = geo_villages.geometry.representative_point()
    lon, lat = to_lonlat.transform(seats.x.to_numpy(), seats.y.to_numpy())
    stations = pd.DataFrame({
        "工作站编号": [f"S{c}" for c in geo_villages["code"]],
        "工作站名称": geo_villages["name"].str.replace(r"(村民委员会|居民委员会|社区居委会|村委会|居委会)$", "", regex=True) + "群众工作站",
        "所属乡镇": geo_villages["town_code"].map(town_names).to_numpy(), "所属村(社区)": geo_villages["name"].to_numpy(),
        "经度": np.round(lon, 6), "纬度": np.round(lat, 6), "楼宇编号": "",
        "工作人员数": rng.integers(2, 6, len(geo_villages)), "坐班日": "5,15,25",
    })
    urban = geo_villages[geo_villages["urban"]]
    kinds = ["商务楼宇"] * 30 + ["非公企业"] * 20 + ["商业街区"] * 4
    pick = rng.integers(0, len(urban), len(kinds))
    x, y = sample_points([urban.geometry.iloc[i] for i in pick], np.ones(len(pick)), rng)
    blon, blat = to_lonlat.transform(x, y)
    stems = ["汉江", "兴安", "金州", "香溪", "安澜", "秦巴", "江北", "巴山", "龙舟", "新城"]
    bnames = [f"{stems[i % 10]}{['大厦', '商务中心', '国际广场', '金融中心'][i % 4]}" if k == "商务楼宇"
              else f"{stems[i % 10]}{['富硒食品', '新材料', '丝绸', '物流', '电子'][i % 5]}有限公司" if k == "非公企业"
              else f"{['安澜老街', '汉江美食街', '金州步行街', '香溪商业街'][i % 4]}"
              for i, k in enumerate(kinds)]
    has_station = rng.random(len(kinds)) < 0.6
    buildings = pd.DataFrame({
        "编号": [f"B{i:03d}" for i in range(len(kinds))], "类型": kinds, "名称": bnames,
        "所属乡镇": urban["town_code"].map(town_names).to_numpy()[pick], "所属村(社区)": urban["name"].to_numpy()[pick],
        "经度": np.round(blon, 6), "纬度": np.round(blat, 6),
        "入驻单位数": rng.integers(5, 120, len(kinds)), "设工作站": np.where(has_station, "是", "否"),
    })
    extra = buildings[has_station]
    bstations = pd.DataFrame({
        "工作站编号": "S" + extra["编号"], "工作站名称": extra["名称"] + "群众工作站",
        "所属乡镇": extra["所属乡镇"], "所属村(社区)": extra["所属村(社区)"], "经度": extra["经度"], "纬度": extra["纬度"],
        "楼宇编号": extra["编号"], "工作人员数": 2, "坐班日": "10",
    })
    return pd.concat([stations, bstations], ignore_index=True), buildings


def _rank_within(codes: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal codes (codes are grouped)."""
    idx = np.arange(len(codes))
    starts = np.r_[0, np.flatnonzero(codes[1:] != codes[:-1]) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
    return idx - first + 1


def plant_fieldwork(visits: pd.DataFrame, villages: pd.DataFrame, idle_town: str, quiet_village: str,
                    as_of: str, idle_months: int = 3, quiet_months: int = 12) -> pd.DataFrame:
    """The field-work patterns (驻点走访): the stationed cadres of `idle_town` log no visit in the
    last `idle_months` calendar months, and nobody visits the village `quiet_village` in the
    last `quiet_months` months. Rows are only dropped, so nothing random changes."""
    end = pd.Timestamp(as_of)
    idle_from = (end.to_period("M") - (idle_months - 1)).to_timestamp()
    quiet_from = end - pd.DateOffset(months=quiet_months) + pd.Timedelta(days=1)
    idle_cadres = {f"C{i:05d}" for i in np.flatnonzero(villages["town_code"].to_numpy() == idle_town)}
    v = villages[villages["code"] == quiet_village].iloc[0]
    when = pd.to_datetime(visits["走访日期"])
    idle = visits["干部编号"].isin(idle_cadres) & (when >= idle_from)
    quiet = (visits["所属乡镇"] == v["town_name"]) & (visits["所属村(社区)"] == v["name"]) & (when >= quiet_from)
    return visits[~(idle | quiet)].reset_index(drop=True)
