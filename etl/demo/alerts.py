"""Planted early-warning signals (抓苗头) at the end of the demo period, appended to the ledger:

- surge: a week's burst of 征地拆迁补偿 demands in one village, each text its own;
- cluster: near-identical texts from two neighbouring villages in ten days (集体访苗头);
- same_matter: one person without name, phone or ID writing through three channels (多头访);
- level_skip: three in-person petitions at city level on 干部作风 from a village whose own
  village and town had no such case before (越级访);
- unmapped: cases whose category the vocabulary does not know (水管维修: water; 待分类: mixed),
  for the category suggestions.

A generator of its own (seed + 18) draws them, so the rest of the demo stays what it was; the
villages are in towns with no other planting. Their truth goes to demo_truth.json["alerts"].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import names as fake

BURST = ["征地补偿标准明显低于周边同类项目，请求重新核定补偿款。", "安置房迟迟未交付，过渡费已停发三个月，生活困难。",
         "房屋评估时漏算附属设施和果木，评估结果不公，请求复核。", "拆迁公司未签协议即断水断电，逼迫搬迁。",
         "集体土地征收款至今未分配到户，群众意见很大。", "被征地农民社保未按政策办理，要求落实。",
         "拆迁协议约定的搬迁奖励未兑现，多次催问无果。", "临时安置点条件差，漏雨无人维修，请求改善。",
         "青苗补偿款被扣留一部分，不知去向，请求公开。", "征收范围划定有误，我家房屋被划入却无人告知。",
         "旧房拆除后宅基地置换面积缩水，请求按原面积安置。", "征地公告未在村里公示就开始施工，程序不合规。"]
CLUSTER = "村口新建石料厂夜间施工噪声扰民、粉尘污染严重，群众要求停工整改{}"
CLUSTER_ENDS = ["。", "！"]
SAME = "本组自来水管道老化破裂，已经停水十多天，请求尽快维修{}"
SAME_ENDS = ["。", "！", "！！"]
SKIP = "反映村干部在土地流转中优亲厚友、账目不公开，村里解决不了，要求上级调查处理{}"
UNMAPPED = [("水管维修", "反映本村饮水问题，自来水经常停水，请求解决。"), ("水管维修", "群众反映饮水水质浑浊，请求检测。"),
            ("水管维修", "反映组里饮水管道破裂，请求维修。"), ("水管维修", "反映饮水工程水压不足，高处农户吃不上水。"),
            ("待分类", "反映道路破损严重，雨天无法通行。"), ("待分类", "反映低保评定不公，请求复核。")]


def plant(ledger: pd.DataFrame, vg, touching: dict[int, list[int]], towns: list[str], as_of: str,
          seed: int, households: np.ndarray, scale: float = 1.0) -> tuple[pd.DataFrame, dict]:
    """`ledger` with the planted rows appended, and their truth. `towns`: four town codes with no
    other planting (surge, cluster, same matter, level skip). The plants go to the villages with
    the most households (`households`, per village of `vg`), where a few more cases change the
    period's rates (and the hot-spot statistics over them) least. The burst and the group have
    12 and 14 cases at full size and 6 each on a small demo (`scale` < 1/4: the tests' 5%), where
    more would move the other planted statistics (LISA's High-High clusters under FDR)."""
    burst, group = (12, 14) if scale >= 0.25 else (6, 6)
    rng = np.random.default_rng(seed + 18)
    end = pd.Timestamp(as_of)
    codes = vg["code"].to_numpy()
    town_of = vg["town_code"].to_numpy()
    rows: list[dict] = []
    truth: dict = {}

    def village(town: str, neighbour: bool = False) -> int:
        idx = [i for i in np.flatnonzero(town_of == town) if not neighbour or any(town_of[j] == town for j in touching[i])]
        return int(max(idx, key=lambda i: (households[i], -i)))

    def add(v: int, days_ago: float, category: str, channel: str, text: str, level: str, person: bool = True) -> None:
        at = (end - pd.Timedelta(days=days_ago)).normalize() + pd.Timedelta(minutes=int(rng.integers(8 * 60, 18 * 60)))
        rows.append({"受理时间": at.strftime("%Y-%m-%d %H:%M"), "诉求来源": channel, "问题类别": category, "诉求内容": text,
                     "所属乡镇": vg.at[v, "town_name"], "所属村(社区)": vg.at[v, "name"], "经度": "", "纬度": "",
                     "反映人": fake.names(rng, 1)[0] if person else "", "联系电话": fake.phones(rng, 1)[0] if person else "",
                     "身份证号": "", "办理状态": "办理中", "交办时间": "", "办结时间": "", "回访时间": "", "满意度": "",
                     "重大疑难": "否", "反映人数": 1, "承办单位": "", "包案领导": "", "化解层级": 1, "问题库层级": "村",
                     "受理层级": level, "办理意见": "", "承办人签字": "", "单位领导签字": "", "_village": codes[v], "_month": -1})

    v = village(towns[0])
    for i, text in enumerate(BURST[:burst]):
        add(v, i % 6, "征地拆迁补偿", ["群工热线", "网上信访", "接访日"][i % 3], text, "区" if i % 3 < 2 else "镇")
    truth["surge"] = {"village": codes[v], "category": "征地拆迁补偿", "cases": burst}

    a = village(towns[1], neighbour=True)
    b = max((j for j in touching[a] if town_of[j] == towns[1]), key=lambda j: (households[j], -j))
    for i in range(group):
        add((a, b)[i % 2], 9 - (i * 0.6), "基础设施", ["群工热线", "网上信访", "代理信访", "驻点走访"][i % 4],
            CLUSTER.format(CLUSTER_ENDS[i % len(CLUSTER_ENDS)]), "区" if i % 4 < 2 else "村")
    truth["cluster"] = {"villages": sorted([codes[a], codes[b]]), "cases": group}

    v = village(towns[2])
    for i, channel in enumerate(["群工热线", "网上信访", "群工信箱"]):
        add(v, 10 - 4 * i, "饮水", channel, SAME.format(SAME_ENDS[i]), "区", person=False)
    truth["same_matter"] = {"village": codes[v], "channels": ["群工热线", "网上信访", "群工信箱"], "cases": 3}

    v = _quiet_village(ledger, vg, towns[3], "干部作风", end, households)
    for i in range(3):
        add(v, 1 + 2 * i, "干部作风", "接访日", SKIP.format("。" if i else "！"), "市")
    truth["level_skip"] = {"village": codes[v], "category": "干部作风", "cases": 3}

    spare = [i for i in np.flatnonzero(np.isin(town_of, towns)) if codes[i] not in
             {truth["surge"]["village"], *truth["cluster"]["villages"], truth["same_matter"]["village"], truth["level_skip"]["village"]}]
    for i, (term, text) in enumerate(UNMAPPED):
        add(int(spare[i % len(spare)]), 20 + 3 * i, term, "群工热线", text, "区")
    truth["unmapped"] = {"terms": {"水管维修": 4, "待分类": 2}, "suggested": {"水管维修": "饮水"}}

    planted = pd.DataFrame(rows)
    ym = pd.to_datetime(planted["受理时间"]).dt.strftime("%Y%m")
    planted.insert(0, "受理编号", "HB" + ym + "-9" + pd.Series(range(1, len(planted) + 1)).map("{:04d}".format))
    return pd.concat([ledger, planted[ledger.columns]], ignore_index=True), truth


def _quiet_village(ledger: pd.DataFrame, vg, town: str, category: str, end: pd.Timestamp, households) -> int:
    """The village of `town` with the most households and no case of `category` in the 60 days before `end`."""
    recent = ledger[(pd.to_datetime(ledger["受理时间"]) > end - pd.Timedelta(days=60)) & (ledger["问题类别"] == category)]
    busy = set(recent["_village"])
    idx = [i for i in np.flatnonzero(vg["town_code"].to_numpy() == town) if vg.at[i, "code"] not in busy]
    return int(max(idx, key=lambda i: (households[i], -i)))
