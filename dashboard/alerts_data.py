"""The 预警 (抓苗头) page's queries and what it computes from them, testable without a running page.

The warnings are computed over the whole district (analysis.alerts.current_alerts) and cut to a
town account's town (`in_scope`: the warnings touching its areas, with only its areas and
cases); the first data date each warning was seen is kept in the access store
(access.seen). Category suggestions (analysis.alerts.classify) are for accounts that may map
vocabulary terms (the `load` right): accepting one is `etl.terms.map_term_in`, audited.
"""

from __future__ import annotations

import copy

import geopandas as gpd
import pandas as pd

from analysis import alerts as al
from dashboard.data import db_path, query

NO_ALERTS = ("截至数据日期没有预警: 近{alert_window_days}天没有村(社区)或乡镇的某类诉求异常增多, 近{alert_cluster_days}天"
             "没有达到{alert_group_size}件的相近诉求, 也没有越级访或疑似同一事项的多渠道反映。")
CASE_COLUMNS = {"case_id": "诉求编号", "received_at": "受理时间", "town": "乡镇(街道)", "village": "村(社区)",
                "category": "问题类别", "channel": "诉求来源", "received_level": "受理层级", "status": "办理状态",
                "content": "诉求内容(已脱敏)", "petitioner_masked": "诉求人", "phone_masked": "联系电话"}
PEOPLE = ("诉求人", "联系电话")
# staging stores 受理层级 市, 省 and 国家 as city
LEVEL_LABELS = {"village": "村", "town": "镇", "district": "区", "city": "市及以上"}


def in_scope(con, out: dict, scope: str) -> dict:
    """The page's data cut to `scope`: warnings touching it (analysis.alerts.cut) and their cases in it."""
    out = dict(out)
    out["items"] = al.cut(con, copy.deepcopy(out["items"]), scope)
    cases = out["cases"]
    out["cases"] = cases[cases["area_code"].astype(str).str.startswith(scope)].reset_index(drop=True)
    return out


@query(whole_district=True, restrict=in_scope)
def alerts(con) -> dict:
    """{as_of, items (analysis.alerts.Alert, ranked), cases (one row per case behind them), has_cases,
    problems (the access store could not record first-seen dates)}, first-seen dates recorded in the access store."""
    from access.seen import recorder
    from etl.views import as_of

    problems: list[str] = []
    items = al.current_alerts(con, seen=recorder(db_path(), problems))
    return {"as_of": as_of(con).at.date(), "items": items, "problems": problems, "cases": case_rows(con, sorted({c for a in items for c in a.case_ids})),
            "has_cases": con.execute("SELECT count(*) > 0 FROM cases").fetchone()[0]}


@query(needs="load")
def suggestions(con) -> dict:
    """Category suggestions for unmapped terms with the classifier's cross-validated accuracy."""
    from analysis.alerts.classify import suggestions as run

    terms, cases, model = run(con)
    return {"terms": terms, "cases": cases.drop(columns=["content"], errors="ignore"), "accuracy": model.accuracy,
            "folds": model.folds, "n_train": model.n_train, "seconds": model.seconds, "classes": len(model.classes)}


def case_rows(con, ids: list[str]) -> pd.DataFrame:
    """The cases `ids` with masked text and identifiers (as stored), area_code for the scope."""
    if not ids:
        return pd.DataFrame(columns=[*CASE_COLUMNS, "area_code"])
    return con.execute("""
        SELECT c.case_id, c.received_at, t.name AS town, v.name AS village, c.category, c.channel, c.received_level,
               c.status, c.content, c.petitioner_masked, c.phone_masked, c.area_code
        FROM cases c LEFT JOIN areas t ON t.code = substr(c.area_code, 1, 9) AND t.level = 'town'
        LEFT JOIN areas v ON v.code = c.area_code AND v.level = 'village'
        WHERE list_contains(?, c.case_id) ORDER BY c.received_at, c.case_id""", [ids]).df()


# ---------------------------------------------------------------------------- what the page shows

def items_table(items: list[al.Alert]) -> pd.DataFrame:
    """One row per warning, in rank order, with Chinese headers."""
    return pd.DataFrame([{"类型": a.kind_label, "序号": a.rank, "预警": a.title, "原因": a.why, "区域": a.where,
                          "诉求件数": len(a.case_ids), "首次出现(数据日期)": a.first_seen or "", "新": "新" if a.new else ""}
                         for a in items], columns=["类型", "序号", "预警", "原因", "区域", "诉求件数", "首次出现(数据日期)", "新"])


def counts_by_kind(items: list[al.Alert]) -> dict[str, int]:
    """Warnings per kind label, every kind listed (0 where none)."""
    return {label: sum(a.kind == k for a in items) for k, label in al.KIND_LABELS.items()}


def cases_table(cases: pd.DataFrame, item: al.Alert) -> pd.DataFrame:
    """The cases behind `item` (those in the scope), Chinese headers, levels in words."""
    df = cases[cases["case_id"].isin(item.case_ids)].copy()
    df["received_level"] = df["received_level"].map(LEVEL_LABELS).fillna("")
    return df[list(CASE_COLUMNS)].rename(columns=CASE_COLUMNS).reset_index(drop=True)


def map_towns(item: al.Alert) -> tuple[str, ...]:
    """The towns whose villages the map of `item` draws (those it touches)."""
    return tuple(sorted({c[:9] for c in item.area_codes}))


def map_frame(shapes: gpd.GeoDataFrame, item: al.Alert) -> gpd.GeoDataFrame:
    """The villages of the towns `item` touches, `cls` 'hit' where the warning lies (a village of
    it, or every village of a town it names), else 'other'; name for the tooltip."""
    towns = map_towns(item)
    gdf = shapes[shapes["code"].astype(str).str[:9].isin(towns)].copy()
    hit = gdf["code"].isin(item.area_codes) | gdf["code"].astype(str).str[:9].isin(
        [c for c in item.area_codes if len(c) == 9])
    gdf["cls"] = ["hit" if h else "other" for h in hit]
    return gdf


def suggestion_tables(s: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per written term, per case) with Chinese headers; probabilities in percent."""
    terms = s["terms"].rename(columns={"category_raw": "原词(未映射)", "cases": "诉求件数", "suggested": "建议类别",
                                       "probability": "平均概率", "agree": "逐件建议一致"})
    cases = s["cases"].rename(columns={"case_id": "诉求编号", "category_raw": "原词(未映射)", "suggested": "建议类别",
                                       "probability": "概率"})
    cases = cases[[c for c in ["诉求编号", "原词(未映射)", "建议类别", "概率"] if c in cases.columns]]
    return terms, cases


def acceptable(terms: pd.DataFrame) -> list[int]:
    """Rows of the per-term table (suggestion_tables) a planner may accept in one step: every case
    of the written term gets the same suggestion (a catch-all term like 待分类 does not)."""
    return [i for i, a in enumerate(terms["逐件建议一致"]) if a >= 1.0]
