"""Demo case ledger (诉求台账, 演示数据): about 40,000 cases with seasonal and spatial
structure, planted hotspots, life cycles, satisfaction, compliance gaps, repeat and
group petitions. Vectorised: one Poisson draw per village-month, then columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.sample import sample_points

from . import names as fake

URBAN_CHANNELS = {"群工热线": .42, "网上信访": .16, "群工信箱": .08, "接访日": .12, "代理信访": .08, "驻点走访": .09, "政务广场": .05}
RURAL_CHANNELS = {"群工热线": .24, "网上信访": .06, "群工信箱": .05, "接访日": .15, "代理信访": .25, "驻点走访": .22, "政务广场": .03}
URBAN_CATEGORIES = {"物业管理": .14, "老旧小区改造": .10, "交通": .08, "治安": .06, "就业": .09, "就学": .08, "医疗": .07,
                    "社会保障": .07, "住房": .07, "征地拆迁补偿": .05, "基础设施": .06, "邻里纠纷": .05, "干部作风": .03,
                    "低保": .03, "饮水": .01, "道路": .01}
RURAL_CATEGORIES = {"土地宅基地纠纷": .14, "道路": .11, "饮水": .09, "低保": .10, "住房": .07, "医疗": .08, "社会保障": .08,
                    "就学": .06, "就业": .06, "基础设施": .07, "邻里纠纷": .07, "征地拆迁补偿": .03, "干部作风": .03, "治安": .01}
UNITS = {"就学": "区教体局", "就业": "区人社局", "医疗": "区卫健局", "社会保障": "区人社局", "住房": "区住建局", "低保": "区民政局",
         "饮水": "区水利局", "道路": "区交通局", "土地宅基地纠纷": "区自然资源局", "征地拆迁补偿": "区征收办", "物业管理": "区住建局",
         "老旧小区改造": "区住建局", "交通": "公安分局交警大队", "治安": "公安分局", "基础设施": "区城管局", "邻里纠纷": "区司法局",
         "干部作风": "区纪委监委"}
LEADERS = ["区委副书记(演示)", "常务副区长(演示)", "分管副区长甲(演示)", "分管副区长乙(演示)", "区政法委书记(演示)"]
TEMPLATES = ["反映{v}{c}方面的问题，请求尽快解决。", "{v}群众反映{c}问题，多次反映未果。", "来电反映{v}一带{c}问题，希望有关部门核实处理。",
             "反映{c}：{v}相关诉求，请求协调。"]
MARKUP = ["反映<某某小区>物业乱收费 & 服务差，请核查", "诉求内容含标记<b>加粗</b>与<script>alert(1)</script>，按原样保存"]


@dataclass
class Plan:
    """Multipliers per village (rows) and month (columns), and the planted category per village."""
    multiplier: np.ndarray
    category: dict[int, str]
    difficult: set[int]


def case_counts(villages: pd.DataFrame, households: np.ndarray, months: pd.PeriodIndex, plan: Plan,
                target: int, rng: np.random.Generator) -> np.ndarray:
    """Poisson counts per village-month calibrated so the expected total is `target`."""
    m = months.month.to_numpy()
    season = 1 + 0.22 * np.cos(2 * np.pi * (m - 1) / 12) + 0.12 * np.isin(m, [3, 4])
    effect = rng.gamma(5.0, 1 / 5.0, len(villages))
    planted = (plan.multiplier != 1).any(axis=1)
    effect[planted] = np.maximum(effect[planted], 1.0)  # a planted pattern is not hidden by a quiet village
    difficult = np.isin(np.arange(len(villages)), list(plan.difficult))
    effect[difficult] = np.maximum(effect[difficult], 1.5)
    lam = households[:, None] * effect[:, None] * season[None, :] * plan.multiplier
    lam *= target / lam.sum()
    return rng.poisson(lam)


def cases(villages, geoms, counts: np.ndarray, months: pd.PeriodIndex, plan: Plan, as_of: pd.Timestamp,
          to_lonlat, rng: np.random.Generator) -> pd.DataFrame:
    """The ledger, one row per case, with Chinese headers as a hotline system would export."""
    nv, nm = counts.shape
    vi = np.repeat(np.repeat(np.arange(nv), nm), counts.ravel())
    mi = np.repeat(np.tile(np.arange(nm), nv), counts.ravel())
    n = len(vi)
    urban = villages["urban"].to_numpy()[vi]
    start = months.to_timestamp().to_numpy()[mi]
    days = months.days_in_month.to_numpy()[mi]
    received = pd.to_datetime(start) + pd.to_timedelta(rng.random(n) * days, "D").floor("D") \
        + pd.to_timedelta(rng.integers(8 * 60, 18 * 60, n), "min")
    received = received.where(received <= as_of, as_of - pd.Timedelta(hours=1))

    channel = np.where(urban, _draw(URBAN_CHANNELS, n, rng), _draw(RURAL_CHANNELS, n, rng))
    category = np.where(urban, _draw(URBAN_CATEGORIES, n, rng), _draw(RURAL_CATEGORIES, n, rng))
    for v, cat in plan.category.items():
        sel = (vi == v) & (rng.random(n) < 0.5)
        category[sel] = cat
    major = rng.random(n) < np.where(np.isin(category, ["征地拆迁补偿", "土地宅基地纠纷"]), 0.3, 0.1)
    group = rng.random(n) < np.where(np.isin(category, ["征地拆迁补偿", "就业", "土地宅基地纠纷"]), 0.08, 0.01)
    group_size = np.where(group, rng.integers(5, 60, n), 1)
    major |= group

    difficult = np.isin(vi, list(plan.difficult))
    mean_days = np.where(major, 9.0, 4.5) * np.where(difficult, 2.6, 1.0)
    duration = pd.to_timedelta(rng.gamma(2.0, mean_days / 2.0) * 86400, "s").round("min")
    stuck = rng.random(n) < np.where(difficult, 0.5, 0.01)
    closed_at = received + duration
    closed = (~stuck) & (closed_at <= as_of)
    assigned = received + pd.to_timedelta(rng.integers(60, 30 * 60, n), "min")
    assigned_ok = assigned <= as_of
    followed = closed & (rng.random(n) < 0.93)
    followup = closed_at + pd.to_timedelta(rng.integers(1, 7, n), "D")
    followed &= followup <= as_of
    age = (as_of - received).total_seconds().to_numpy() / 86400
    status = np.where(~closed, np.where(age < 1, "受理", np.where(age < 3, "交办", "办理中")),
                      np.where(followed, np.where((age > 120) & (rng.random(n) < 0.6), "已归档", "已回访"), "办结"))
    p_sat = np.where(difficult[:, None], [[0.35, 0.3, 0.35]], [[0.74, 0.19, 0.07]])
    sat_idx = (rng.random(n)[:, None] > np.cumsum(p_sat, axis=1)).sum(axis=1)
    satisfaction = np.where(followed, np.array(["满意", "基本满意", "不满意"])[np.minimum(sat_idx, 2)], "")
    tier = 1 + (rng.random(n)[:, None] > np.cumsum(np.where(major[:, None], [[.15, .35, .35, .15]], [[.47, .36, .13, .04]]), axis=1)).sum(axis=1)
    tier = np.minimum(tier, 4)
    escalation = np.array(["村", "镇", "区", "区"])[tier - 1]
    level_by_channel = {"群工热线": "区", "网上信访": "区", "群工信箱": "区", "政务广场": "区", "代理信访": "村", "驻点走访": "村"}
    received_level = np.array([level_by_channel.get(c, "镇") for c in channel], dtype=object)
    rec = channel == "接访日"
    r = rng.random(n)
    received_level[rec & (r > 0.6)] = "区"
    received_level[rec & (r > 0.9)] = "市"

    town_name = villages["town_name"].to_numpy()[vi]
    vname = villages["name"].to_numpy()[vi]
    unit = np.where(tier <= 2, np.char.add(town_name.astype(str), "人民政府"), [UNITS.get(c, "区信访局") for c in category])
    leader = np.where(tier >= 3, rng.choice(LEADERS, n), "")
    short = pd.Series(vname).str.replace(r"(社区居委会|居委会|村委会)$", "", regex=True).to_numpy()
    content = np.array([TEMPLATES[i].format(v=s, c=c) for i, s, c in zip(rng.integers(0, len(TEMPLATES), n), short, category)], dtype=object)
    markup = rng.choice(n, size=min(6, n), replace=False)
    content[markup] = rng.choice(MARKUP, len(markup))

    order = np.lexsort((received.to_numpy(), vi))
    petitioner = fake.names(rng, n).astype(object)
    phone = fake.phones(rng, n).astype(object)
    ids = fake.id_numbers(rng, n).astype(object)
    _plant_repeats(order, vi, received, category, channel, petitioner, phone, ids, rng)
    phone[rng.random(n) < 0.05] = ""
    ids[rng.random(n) < 0.2] = ""

    x, y = _points(geoms, vi, rng)
    lon, lat = to_lonlat.transform(x, y)
    no_point = rng.random(n) < np.where(np.isin(channel, ["接访日", "群工信箱", "代理信访"]), 0.6, 0.15)
    town_only = rng.random(n) < 0.02
    fmt = "%Y-%m-%d %H:%M"
    df = pd.DataFrame({
        "受理时间": received.strftime(fmt), "诉求来源": channel, "问题类别": category, "诉求内容": content,
        "所属乡镇": town_name, "所属村(社区)": np.where(town_only & no_point, "", vname),
        "经度": np.where(no_point, "", np.round(lon, 6).astype(str)), "纬度": np.where(no_point, "", np.round(lat, 6).astype(str)),
        "反映人": petitioner, "联系电话": phone, "身份证号": ids, "办理状态": status,
        "交办时间": np.where(assigned_ok, assigned.strftime(fmt), ""),
        "办结时间": np.where(closed, closed_at.strftime(fmt), ""),
        "回访时间": np.where(followed, followup.strftime(fmt), ""), "满意度": satisfaction,
        "重大疑难": np.where(major, "是", "否"), "反映人数": group_size, "承办单位": unit, "包案领导": leader,
        "化解层级": tier, "问题库层级": escalation, "受理层级": received_level,
        "办理意见": np.where(closed & (rng.random(n) > 0.025), "经核实已协调解决，已向群众答复。", ""),
        "承办人签字": np.where(closed & (rng.random(n) < 0.025), "否", "是"),
        "单位领导签字": np.where(closed & (rng.random(n) < 0.025), "否", "是"),
        "_village": villages["code"].to_numpy()[vi], "_month": mi,
    })
    df = df.iloc[np.argsort(received.to_numpy(), kind="stable")].reset_index(drop=True)
    ym = pd.to_datetime(df["受理时间"]).dt.strftime("%Y%m")
    df.insert(0, "受理编号", "HB" + ym + "-" + (df.groupby(ym).cumcount() + 1).map("{:05d}".format))
    return df


def _plant_repeats(order, vi, received, category, channel, petitioner, phone, ids, rng) -> None:
    """About 8% of cases repeat an earlier petitioner of the same village on the same category
    within 90 days, some through another channel (重复访, 多头访)."""
    o = order
    same_v = np.r_[False, vi[o][1:] == vi[o][:-1]]
    rt = received.to_numpy()[o]
    gap = np.r_[np.inf, (rt[1:] - rt[:-1]) / np.timedelta64(1, "D")]
    pick = same_v & (gap <= 90) & (rng.random(len(o)) < 0.09)
    for k in np.flatnonzero(pick):  # sequential by design: a chain of repeats follows its first case
        cur, prev = o[k], o[k - 1]
        petitioner[cur], phone[cur], ids[cur], category[cur] = petitioner[prev], phone[prev], ids[prev], category[prev]
        if rng.random() < 0.3:
            channel[cur] = "接访日" if channel[prev] != "接访日" else "群工热线"


def _points(geoms, vi: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    x = np.empty(len(vi))
    y = np.empty(len(vi))
    order = np.argsort(vi, kind="stable")
    counts = np.bincount(vi, minlength=len(geoms))
    px, py = sample_points(list(geoms), counts, rng)
    x[order], y[order] = px, py
    return x, y


def _draw(probs: dict[str, float], n: int, rng) -> np.ndarray:
    keys = list(probs)
    p = np.array([probs[k] for k in keys])
    return rng.choice(np.array(keys, dtype=object), n, p=p / p.sum())
