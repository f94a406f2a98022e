"""The current warnings (抓苗头), ranked, each with why (numbers), where (areas) and the cases
behind it: what the 预警 page, `minqing alerts` and the digest's 需关注事项 show.

Statistics are computed over the whole district (a surge is judged against the district's trend,
a group may span two towns) and then cut to a town's scope: a town sees the warnings touching
its villages, with only its own areas and cases.

Order: surges (most improbable first), groups of near-duplicate demands (largest first),
level-skipping (most cases first), likely-the-same-matter (keyless first); within a kind, each
module's order. "Seen before" is recorded by the caller (`seen`): the CLI and the dashboard pass
access.seen.first_seen, which keeps the data date a warning key first appeared on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import duckdb
import numpy as np
import pandas as pd

from etl import settings, views

from . import clusters, level_skip, surges

KIND_LABELS = {"surge": "诉求异常增多", "cluster": "集体访苗头", "level_skip": "越级访苗头", "same_matter": "疑似同一事项(多头访/重复访)"}


@dataclass
class Alert:
    kind: str
    key: str  # stable while the warning persists: places and category, not the day
    rank: int  # 1 = first of its kind
    title: str
    why: str
    where: str  # area names, 、-separated
    area_codes: list[str]
    case_ids: list[str]
    numbers: dict = field(default_factory=dict)
    first_seen: str | None = None  # data date (YYYY-MM-DD) the key first appeared on
    new: bool = True

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def as_dict(self) -> dict:
        return {**asdict(self), "kind_label": self.kind_label}


def current_alerts(con: duckdb.DuckDBPyConnection, scope: str = "", *,
                   seen: Callable[[list[str], str], dict[str, str]] | None = None,
                   as_of: dt.date | None = None) -> list[Alert]:
    """The warnings at the data's own date (etl.views.as_of; `as_of` to look at another day),
    ranked; `scope`: an area-code prefix (a town account's) the warnings are cut to; `seen`:
    (keys, data date) -> first data date of each key, recording the new ones."""
    views.ensure_views(con)
    day = as_of or views.as_of(con).at.date()
    names = _names(con)
    recent = clusters.recent_cases(con, day)
    groups = clusters.clusters(con, day, recent)
    in_groups = {c for ids in groups["case_ids"] for c in ids}
    items = (_surges(surges.surges(con, day), names)
             + _clusters(groups, names)
             + _skips(level_skip.level_skips(con, day), names)
             + _same(clusters.same_matter(con, day, recent, exclude=in_groups), names))
    _distinct_keys(items)
    if seen is not None and items:  # district-wide keys, whoever looks: a town's view is cut afterwards
        first = seen([a.key for a in items], day.isoformat())
        for a in items:
            a.first_seen = first.get(a.key, day.isoformat())
            a.new = a.first_seen == day.isoformat()
    if scope:
        items = cut(con, items, scope, names)
    return items


def _distinct_keys(items: list[Alert]) -> None:
    """Two warnings of one kind, place and category (two groups of a village) get :2, :3, ..."""
    count: dict[str, int] = {}
    for a in items:
        count[a.key] = count.get(a.key, 0) + 1
        if count[a.key] > 1:
            a.key = f"{a.key}:{count[a.key]}"


# ---------------------------------------------------------------------------- helpers

def _names(con) -> dict[str, str]:
    """Area code -> '镇 · 村' (a town's or district's own name)."""
    rows = con.execute("SELECT a.code, a.name, t.name FROM areas a LEFT JOIN areas t ON t.code = a.parent_code "
                       "AND a.level = 'village'").fetchall()
    return {c: f"{t} · {n}" if t else n for c, n, t in rows}


def _where(codes: list[str], names: dict[str, str]) -> str:
    return "、".join(names.get(c, c) for c in codes)


def _surges(df: pd.DataFrame, names) -> list[Alert]:
    w, weeks = settings.get("alert_window_days"), settings.get("alert_baseline_weeks")
    out = []
    for i, r in enumerate(df.itertuples(), 1):
        where = names.get(r.area_code, r.area_name)
        out.append(Alert(
            "surge", f"surge:{r.area_code}:{r.category}", i, f"{where} {r.category}诉求异常增多",
            f"近{w}天 {int(r.observed)} 件, 预期 {r.expected:.1f} 件 (本地此前{weeks}周 {int(r.baseline)} 件, "
            f"全区同类趋势 ×{r.trend:.2f}); p={r.p:.1e}, q={r.q:.1e}",
            where, [r.area_code], list(r.case_ids),
            {"observed": int(r.observed), "expected": round(float(r.expected), 3), "baseline": int(r.baseline),
             "trend": round(float(r.trend), 3), "p": float(r.p), "q": float(r.q), "level": r.level, "category": r.category}))
    return out


def _clusters(df: pd.DataFrame, names) -> list[Alert]:
    days, s = settings.get("alert_cluster_days"), settings.get("alert_similarity")
    out = []
    for i, r in enumerate(df.itertuples(), 1):
        where = _where(r.places, names)
        cat = "、".join(r.categories)
        out.append(Alert(
            "cluster", f"cluster:{r.main_place}:{r.main_category}", i, f"{where} 相近诉求 {r.n} 件 ({cat})",
            f"近{days}天 {r.n} 件内容相近的诉求 (文本相似度 ≥ {s}), 来自 {len(r.places)} 个相同或相邻的村(社区)、"
            f"{len(r.channels)} 种渠道、{r.petitioners} 个可识别的反映人; 集体访苗头标准 ≥ {settings.get('alert_group_size')} 件",
            where, list(r.places), list(r.case_ids),
            {"cases": int(r.n), "places": len(r.places), "channels": list(r.channels), "categories": list(r.categories),
             "first": str(r.first), "last": str(r.last)}))
    return out


def _skips(df: pd.DataFrame, names) -> list[Alert]:
    w, back = settings.get("alert_window_days"), settings.get("alert_level_skip_days")
    out = []
    for i, r in enumerate(df.itertuples(), 1):
        where = names.get(r.place, r.place)
        out.append(Alert(
            "level_skip", f"level_skip:{r.place}:{r.category}", i, f"{where} {r.category}越级访 {r.n} 件",
            f"近{w}天 市级受理 {r.city} 件、区级接访 {r.n - r.city} 件; 此前{back}天本地无村、镇级受理的同类或相近诉求",
            where, [r.place], list(r.case_ids),
            {"cases": int(r.n), "city": int(r.city), "category": r.category, "first": str(r.first), "last": str(r.last)}))
    return out


def _same(df: pd.DataFrame, names) -> list[Alert]:
    days = settings.get("alert_cluster_days")
    out = []
    for i, r in enumerate(df.itertuples(), 1):
        where = _where(r.places, names)
        out.append(Alert(
            "same_matter", f"same_matter:{r.main_place}:{r.main_category}", i,
            f"{where} 疑似同一事项经 {len(r.channels)} 种渠道反映 {r.n} 件",
            f"近{days}天 内容相近, 渠道: {'、'.join(r.channels)}; 其中 {r.keyless} 件无姓名、电话、身份证号可关联",
            where, list(r.places), list(r.case_ids),
            {"cases": int(r.n), "channels": list(r.channels), "keyless": int(r.keyless), "first": str(r.first),
             "last": str(r.last)}))
    return out


def cut(con, items: list[Alert], scope: str, names: dict[str, str] | None = None) -> list[Alert]:
    """The warnings touching `scope` (an area-code prefix), with only its areas and cases; ranks
    renumbered per kind. A warning that also lies outside the scope (a group spanning two towns)
    is rebuilt from its cases in the scope: title, why and numbers count only those, and its key
    is a hash of the district-wide one, naming no other town's area. `items` are not changed."""
    names = _names(con) if names is None else names
    ids = sorted({c for a in items for c in a.case_ids})
    area = dict(con.execute("SELECT case_id, area_code FROM cases WHERE list_contains(?, case_id)", [ids]).fetchall()) if ids else {}
    out, rank = [], {}
    for a in items:
        codes = [c for c in a.area_codes if c.startswith(scope)]
        if not codes:
            continue
        mine = [c for c in a.case_ids if str(area.get(c, "")).startswith(scope)]
        if codes == a.area_codes:
            a = replace(a, area_codes=codes, where=_where(codes, names), case_ids=mine)
        else:
            a = _rebuilt(con, a, mine, names)
        rank[a.kind] = rank.get(a.kind, 0) + 1
        a.rank = rank[a.kind]
        out.append(a)
    return out


def _rebuilt(con, a: Alert, case_ids: list[str], names: dict[str, str]) -> Alert:
    """A group warning from only its cases `case_ids` (those in a scope), by its kind's own formatter."""
    cases = clusters.cases_by_id(con, case_ids)
    row = clusters.summarise(cases, np.zeros(len(cases), dtype=int), min_size=1)
    b = {"cluster": _clusters, "same_matter": _same}[a.kind](row, names)[0]
    b.why += "; 另有其他乡镇(街道)的相近诉求, 不在本账号范围内"
    b.key = f"{a.kind}:{hashlib.sha256(a.key.encode()).hexdigest()[:16]}"
    b.first_seen, b.new = a.first_seen, a.new
    return b
