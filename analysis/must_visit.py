"""五必去 (five must-visit places): the five flags per village, each with a reason that cites
the numbers, and a priority score. Thresholds are the settings `must_visit_*` (etl/settings.py);
a TOML file can override them (`load_config`, `minqing must-visit --config FILE`).

Criteria (DOMAIN.md, Hanbin): 1 poverty 特困村 (share of 连心户, or the official flag);
2 remote 边远村 (distance from the village seat to its town seat); 3 petitions 信访问题较多
(EB-smoothed case rate against the district's, or a significant Gi* hot spot); 4 difficult
工作推进有难度 (overdue backlog, closure rate, satisfaction rate, as analysis.metrics defines
them); 5 disaster 受自然灾害影响 (intersects a disaster footprint that started within the window).

Priority
--------
Each flag adds its weight (setting `must_visit_weights`) times its severity, a number in
[1, 2] that grows with how far past its thresholds the village is (`severity`): 1 just at a
threshold, 2 at twice a threshold or beyond. Every condition is read as an amount where more
is worse: the 连心户 share, km from the town seat, the recent rate as a multiple of the
district's, overdue cases, and the share of recent cases not closed (1 - 办结率) or not
satisfied (1 - 满意率) against the share the threshold allows (0.15 for 办结率 below 85%). A
flag met on several conditions (difficult) adds them up, still at most 2; a flag without an
amount (an official 特困村 flag, a Gi* hot spot alone, a disaster) has severity 1. Villages
are ordered by score (as shown, two decimals), then overdue cases, then recent cases per
1,000 households (EB-smoothed), all descending, then by area code: a total order (`ORDER`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from etl import settings, views, vocab

from . import metrics
from .filters import CaseFilter
from .hotspots import area_hotspots

PREFIX = "must_visit_"  # the thresholds' setting names start with it; a --config file's keys leave it out
FLAGS = ("poverty", "remote", "petitions", "difficult", "disaster")
FLAG_LABELS = {"poverty": "特困村", "remote": "边远村", "petitions": "信访问题较多", "difficult": "工作推进有难度",
               "disaster": "受自然灾害影响"}
# The priority order (module docstring): columns of must_visit's rows and whether each runs high to low.
ORDER = (("score", False), ("overdue", False), ("rate_eb", False), ("area_code", True))


def severity(past: list[tuple[float, float]]) -> float:
    """How severe one flag is, in [1, 2]: 1 plus, over the (amount, threshold) pairs of the
    conditions it is met on (amounts where more is worse, thresholds > 0), the sum of how far
    each amount is past its threshold as a fraction of the threshold, at most 2. E.g. 42
    overdue cases against 10: 1 + 3.2, so 2; 满意率 69% against 80%: 1 + (0.31 - 0.2) / 0.2 = 1.55."""
    return min(2.0, 1.0 + sum(max(0.0, (amount - threshold) / threshold) for amount, threshold in past))


def must_visit(con: duckdb.DuckDBPyConnection, config: dict | None = None) -> pd.DataFrame:
    """One row per village in priority order (ORDER): area_code, name, town, flags (list), reasons
    and severity (lists, one per flag), score, and the numbers."""
    cfg = load_config() | (config or {})
    now = views.as_of(con).at
    start = _months_before(now.date(), int(cfg["window_months"]))
    facts = _village_facts(con, start, now)
    hot = area_hotspots(con, "village", CaseFilter(start, now.date()), lisa=False)
    facts = facts.merge(hot[["area_code", "rate_eb", "class"]], on="area_code", how="left")
    district_rate = con.execute("SELECT mq_per_1000(?::BIGINT, ?::BIGINT)",  # the one definition (etl/views.py)
                                [int(facts["cases"].sum()), int(facts["households"].sum())]).fetchone()[0] or 0.0
    rows = []
    w = cfg["weights"]
    for r in facts.itertuples(index=False):
        flags, reasons, sev = [], [], []
        share_met = r.households >= cfg["poverty_min_households"] and r.key_share >= cfg["poverty_share"]
        if r.official_poor or share_met:
            flags.append("poverty")
            reasons.append("数据中标为特困村" if r.official_poor else
                           f"连心户占比 {r.key_share:.0%}, 高于阈值 {cfg['poverty_share']:.0%}")
            sev.append(severity([(r.key_share, cfg["poverty_share"])] if share_met else []))
        if r.seat_km is not None and r.seat_km == r.seat_km and r.seat_km >= cfg["remote_km"]:
            flags.append("remote")
            reasons.append(f"距乡镇驻地 {r.seat_km:.1f} 公里, 超过 {cfg['remote_km']:g} 公里")
            sev.append(severity([(r.seat_km, cfg["remote_km"])]))
        ratio = (r.rate_eb / district_rate) if district_rate and r.rate_eb == r.rate_eb else 0
        is_hot = isinstance(r._asdict().get("class"), str) and r._asdict()["class"] in ("hot_99", "hot_95")
        if ratio >= cfg["petition_rate_ratio"] or is_hot:
            flags.append("petitions")
            why = f"近{cfg['window_months']}个月每千户诉求 {r.rate_eb:.0f} 件, 是全区 {district_rate:.0f} 件的 {ratio:.1f} 倍"
            if is_hot:
                why += f"; 热点分析为{'99' if r._asdict()['class'] == 'hot_99' else '95'}%置信热点"
            reasons.append(why)
            sev.append(severity([(ratio, cfg["petition_rate_ratio"])] if ratio >= cfg["petition_rate_ratio"] else []))
        diff, past = [], []
        if r.overdue >= cfg["difficult_overdue"]:
            diff.append(f"超期未办结 {r.overdue} 件 (阈值 {cfg['difficult_overdue']})")
            past.append((r.overdue, cfg["difficult_overdue"]))
        if r.cases >= cfg["difficult_min_cases"] and r.closure_rate is not None and r.closure_rate < cfg["difficult_closure_rate"]:
            diff.append(f"办结率 {r.closure_rate:.0%}, 低于 {cfg['difficult_closure_rate']:.0%}")
            past.append((1 - r.closure_rate, 1 - cfg["difficult_closure_rate"]))
        if r.rated >= cfg["difficult_min_cases"] and r.satisfaction_rate is not None and r.satisfaction_rate < cfg["difficult_satisfaction"]:
            diff.append(f"满意率 {r.satisfaction_rate:.0%}, 低于 {cfg['difficult_satisfaction']:.0%}")
            past.append((1 - r.satisfaction_rate, 1 - cfg["difficult_satisfaction"]))
        if diff:
            flags.append("difficult")
            reasons.append("; ".join(diff))
            sev.append(severity(past))
        if isinstance(r.disasters, str) and r.disasters:
            flags.append("disaster")
            reasons.append(f"近{cfg['window_months']}个月受灾: {r.disasters}")
            sev.append(severity([]))
        score = sum(w[f] * s for f, s in zip(flags, sev))
        rows.append({"area_code": r.area_code, "name": r.name, "town": r.town, "flags": flags, "reasons": reasons,
                     "severity": [round(s, 2) for s in sev],
                     "score": round(score, 2), "households": int(r.households), "cases": int(r.cases),
                     "key_share": r.key_share, "seat_km": r.seat_km, "rate_eb": r.rate_eb, "overdue": int(r.overdue),
                     "closure_rate": r.closure_rate, "satisfaction_rate": r.satisfaction_rate})
    out = pd.DataFrame(rows)
    return out.sort_values([c for c, _ in ORDER], ascending=[a for _, a in ORDER], na_position="last").reset_index(drop=True)


def load_config(path: str | Path | None = None) -> dict:
    """The thresholds by key without the `must_visit_` prefix (window_months, ..., weights): the
    settings' current values, overridden by the TOML file `path` if given (settings.read_toml)."""
    cfg = {s.name.removeprefix(PREFIX): settings.get(s.name) for s in settings.group(PREFIX)}
    if path:
        cfg |= {k.removeprefix(PREFIX): v for k, v in settings.read_toml(path, PREFIX).items()}
    return cfg


def _village_facts(con: duckdb.DuckDBPyConnection, start: dt.date, now: dt.datetime) -> pd.DataFrame:
    """Per village: households, key_share, seat_km, disasters of the window, and the case figures
    of analysis.metrics (cases received since `start`, closure and satisfaction rates over them,
    overdue: the open backlog past its deadline now, whenever received)."""
    cases = metrics.case_metrics_by(con, CaseFilter(start, now.date()), "village",
                                    measures=["received", "overdue", "closure_rate", "satisfaction_rate"])
    cases = cases.rename(columns={"code": "area_code", "received": "cases"})
    places = con.execute("""
        WITH v AS (SELECT a.code, a.name, t.name AS town, a.official_poor, a.seat_lon, a.seat_lat,
                          t.seat_lon AS t_lon, t.seat_lat AS t_lat, a.geom
                   FROM areas a JOIN areas t ON t.code = a.parent_code WHERE a.level = 'village'),
        h AS (SELECT area_code, count(*) AS n, avg((category = $key_term)::INT) AS key_share FROM households GROUP BY 1),
        d AS (SELECT v.code, string_agg(DISTINCT d.name || ' (' || d.started_at || ')', '; ') AS disasters
              FROM v JOIN disasters d ON v.geom IS NOT NULL AND ST_Intersects(v.geom, d.geom)
                   AND d.started_at >= $start AND d.started_at <= $now::DATE
              GROUP BY 1)
        SELECT v.code AS area_code, v.name, v.town, v.official_poor,
               coalesce(h.n, 0) AS households, coalesce(h.key_share, 0) AS key_share,
               CASE WHEN v.seat_lon IS NOT NULL AND v.t_lon IS NOT NULL
                    THEN ST_Distance_Sphere(ST_Point(v.seat_lat, v.seat_lon), ST_Point(v.t_lat, v.t_lon)) / 1000 END AS seat_km,  -- (lat, lon): the order ST_Distance_Sphere reads
               d.disasters
        FROM v LEFT JOIN h ON h.area_code = v.code LEFT JOIN d ON d.code = v.code
        ORDER BY v.code""", {"start": start, "now": now,
                              "key_term": vocab.term("household_category", "key_assistance")}).df()
    return places.merge(cases[["area_code", "cases", "overdue", "rated", "closure_rate", "satisfaction_rate"]],
                        on="area_code", how="left")


def _months_before(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months - 1` months before `day`'s month (a window of `months` months)."""
    y, m = divmod(day.year * 12 + day.month - 1 - (months - 1), 12)
    return dt.date(y, m + 1, 1)
