"""What 驻点走访 shows, shaped without streamlit: the headline figures and each table with its
Chinese headers (rates as fractions: the page shows them in percent, reports/formats.py)."""

from __future__ import annotations

import pandas as pd

from analysis.fieldwork import LOAD_LABELS, NEEDS, NO_TOWN


def headline(stations: pd.DataFrame, no_station: pd.DataFrame, cadres: pd.DataFrame, reached: pd.DataFrame,
             unvisited: pd.DataFrame, gaps: pd.DataFrame) -> dict:
    """The page's cards: stations, villages without one, cadres (in the roster) meeting the
    monthly target and their share, households visited and their share, 连心户 unvisited,
    must-visit villages without a visit."""
    n_cadres, meeting = _roster_meeting(cadres)
    everyone = reached[reached["kind"] == "category"] if len(reached) else reached
    households = int(everyone["households"].sum()) if len(everyone) else 0
    visited = int(everyone["visited"].sum()) if len(everyone) else 0
    return {
        "stations": len(stations), "villages_without_station": len(no_station),
        "cadres": n_cadres, "meeting": meeting, "meeting_share": meeting / n_cadres if n_cadres else None,
        "households": households, "visited": visited, "visited_share": visited / households if households else None,
        "key_unvisited": len(unvisited), "must_visit_unvisited": len(gaps),
    }


def _roster_meeting(cadres: pd.DataFrame) -> tuple[int, int]:
    """(cadres of the roster, of whom meeting the monthly target) in analysis.fieldwork.cadre_visits."""
    if not len(cadres):
        return 0, 0
    roster = cadres[cadres["in_roster"].astype(bool)]
    return len(roster), int(roster["meets_target"].astype(bool).sum())


def gaps_line(gaps: pd.DataFrame, limit: int = 8) -> str:
    """The first line: the must-visit villages no cadre visited in the period, by priority."""
    names = [f"{t} · {n}" for t, n in zip(gaps["town"], gaps["name"])]
    more = f" 等 {len(names)} 个" if len(names) > limit else ""
    return "、".join(names[:limit]) + more


def missing_text(missing: list[str]) -> str:
    """What to load for the parts of the page that have no data yet."""
    return "、".join(NEEDS[k] for k in missing)


def gaps_table(gaps: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"乡镇(街道)": gaps["town"], "村(社区)": gaps["name"], "区划代码": gaps["area_code"],
                         "五必去标记": gaps["must_visit_flags"], "优先得分": gaps["must_visit_score"],
                         "最近一次走访": gaps["last_visit"]})


def stations_table(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"工作站": df["name"], "乡镇(街道)": df["town"], "村(社区)": df["village"],
                         "坐班日": df["reception_days"], "时段内坐班日": df["reception_days_in_period"],
                         "有走访记录的坐班日": df["days_with_visits"], "坐班日在岗率": df["presence_share"],
                         "所在村受理诉求": df["cases"], "代理信访": df["proxy_petitions"]})


def villages_table(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"乡镇(街道)": df["town"], "村(社区)": df["name"], "区划代码": df["area_code"]})


def cadre_summary_table(df: pd.DataFrame, by: str) -> pd.DataFrame:
    key = {"town": ("town", "乡镇(街道)"), "unit": ("unit", "单位")}[by]
    return pd.DataFrame({key[1]: df[key[0]], "干部数": df["cadres"], "达标人数": df["meeting"],
                         "达标率": df["share"], "无走访干部": df["without_visits"], "走访次数": df["visits"]})


def cadres_table(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"干部编号": df["cadre_id"], "姓名": df["name_masked"], "单位": df["unit"],
                         "乡镇(街道)": df["town"].fillna(NO_TOWN), "走访次数": df["visits"], "月均走访": df["visits_per_month"].round(1),
                         "每月目标": df["target"], "达标": df["meets_target"].map({True: "是", False: "否"})})


def pairing_table(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"干部编号": df["cadre_id"], "姓名": df["name_masked"], "单位": df["unit"],
                         "乡镇(街道)": df["town"].fillna(NO_TOWN), "结对户数": df["households"], "其中连心户": df["key_households"],
                         "结对负荷": df["load"].map(LOAD_LABELS)})


def reached_table(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"户类": df["label"], "户数": df["households"], "时段内走访户数": df["visited"],
                         "走访覆盖率": df["share"]})


def unvisited_table(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"户编号": df["household_id"], "乡镇(街道)": df["town"], "村(社区)": df["village"],
                         "结对干部编号": df["paired_cadre_id"], "结对干部": df["cadre_name_masked"],
                         "最近一次走访": df["last_visit"], "距今天数": df["days_since_visit"]})


def buildings_table(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"名称": df["name"], "类型": df["kind"], "乡镇(街道)": df["town"], "村(社区)": df["village"],
                         "设工作站": df["has_station"].map({True: "是", False: "否"}), "附近诉求": df["cases"]})


def area_figures(stations: pd.DataFrame, cadres: pd.DataFrame, coverage: pd.DataFrame, buildings: pd.DataFrame) -> dict:
    """区域档案's field-work lines for one area: its stations (name and 坐班日), cadres of the
    roster and those meeting the target, visit coverage over its villages, its buildings."""
    n_cadres, meeting = _roster_meeting(cadres)
    households = int(coverage["households"].sum()) if len(coverage) else 0
    visited = int(coverage["visited_households"].sum()) if len(coverage) else 0
    return {
        "stations": [f"{n} (坐班日 {d or '未填'})" for n, d in zip(stations["name"], stations["reception_days"])],
        "cadres": n_cadres, "meeting": meeting,
        "households": households, "visited": visited, "coverage": visited / households if households else None,
        "buildings": [f"{n} ({k}, 附近诉求 {c})" for n, k, c in zip(buildings["name"], buildings["kind"], buildings["cases"])],
    }


def building_points(df: pd.DataFrame) -> pd.DataFrame:
    """Buildings as map points, labelled with their kind, station and nearby cases."""
    station = df["has_station"].map({True: "设工作站", False: "未设站"})
    return df.assign(label=df["name"] + " · " + df["kind"] + " · " + station + " · 附近诉求 " + df["cases"].astype(str))
