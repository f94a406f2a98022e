"""`minqing fieldwork`: the field-work figures (驻点走访) of analysis.fieldwork, in Chinese or as JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import click
import pandas as pd

from reports import formats

from .analysis import _area_code, _case_filter, _clean, _filter_options, _open, _period, _WithSettings

# The tables of --json, by key, in the order they are written (see `tables`).
TABLES = ("must_visit_unvisited", "idle_towns", "stations", "villages_without_station", "cadres", "cadres_by_town", "cadres_by_unit",
          "cadres_without_visits", "pairing", "households_reached", "unvisited_key_households", "village_coverage",
          "buildings")


def tables(con, flt) -> dict[str, pd.DataFrame]:
    """Every field-work table of the filter, by the keys of TABLES."""
    from analysis import fieldwork as fw

    coverage = fw.village_coverage(con, flt)  # computes 五必去 once for both tables
    return {"must_visit_unvisited": fw.must_visit_unvisited(con, flt, coverage), "idle_towns": fw.idle_towns(con, flt),
            "stations": fw.stations(con, flt),
            "villages_without_station": fw.villages_without_station(con, flt), "cadres": fw.cadre_visits(con, flt),
            "cadres_by_town": fw.cadre_summary(con, flt, "town"), "cadres_by_unit": fw.cadre_summary(con, flt, "unit"),
            "cadres_without_visits": fw.cadres_without_visits(con, flt), "pairing": fw.pairing_load(con, flt),
            "households_reached": fw.households_reached(con, flt),
            "unvisited_key_households": fw.unvisited_key_households(con, flt),
            "village_coverage": coverage, "buildings": fw.buildings(con, flt)}


@click.command(cls=_WithSettings, prefixes=("fieldwork_",))
@click.option("--area", default="", help="只看此乡镇或村(社区) (区划代码或准确名称); 默认: 全区。")
@_filter_options
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象: 时段、尚未导入的数据和每张表 (每行一项)。")
@click.pass_context
def fieldwork(ctx, area, start, end, category, channel, status, as_json):
    """驻点走访: 工作站坐班与受理、干部走访达标、结对帮扶户数、走访到户与村(社区)走访覆盖、
    楼宇企业街区附近的诉求; 本时段无人走访的五必去村(社区)列在最前。

    时段按走访日期 (走访) 和受理时间 (诉求) 计; 问题类别、诉求来源、办理状态只用于诉求件数。"""
    from analysis import fieldwork as fw

    con = _open(ctx)
    prefix, area_label = _area_code(con, area)
    flt = dataclasses.replace(_case_filter(start, end, category, channel, status, con=con), area_prefix=prefix)
    flt = fw.closed(con, _period(con, flt, required=False))
    out = tables(con, flt)
    missing = fw.missing(con)
    if as_json:
        doc = {"period": [flt.start.isoformat(), flt.end.isoformat()], "area": prefix, "missing": missing,
               **{k: _rows(out[k]) for k in TABLES}}
        click.echo(json.dumps(doc, ensure_ascii=False))
        return
    click.echo(f"驻点走访 {flt.start} 至 {flt.end}; 区域 {area_label or '全区'}")
    if missing:
        click.echo("尚未导入: " + "、".join(fw.NEEDS[k] for k in missing) + "。请用 "
                   + "; ".join(f"minqing load {k} 文件" for k in missing) + " 导入 (minqing template 可生成模板)。")
    for line in _headlines(out):
        click.echo(line)


def _headlines(t: dict[str, pd.DataFrame]) -> list[str]:
    """The headline figures in Chinese, the unvisited must-visit villages first."""
    from etl import settings

    lines = []
    mv = t["must_visit_unvisited"]
    if not t["village_coverage"].empty:
        lines.append(f"五必去村(社区)本时段无走访: {len(mv)} 个")
        for r in mv.head(20).itertuples():
            last = f"最近走访 {r.last_visit:%Y-%m-%d}" if pd.notna(r.last_visit) else "从未走访"
            lines.append(f"  {r.town} {r.name} ({r.area_code}): {'、'.join(r.must_visit_flags)}; {last}")
    idle = t["idle_towns"]
    if len(idle):
        days = int(settings.get("fieldwork_idle_days"))
        lines.append(f"走访中断 (时段末 {days} 天内无走访记录) 的乡镇(街道): {len(idle)} 个")
        for r in idle.itertuples():
            lines.append(f"  {r.town} ({r.area_code}): 此前 {r.visits_before} 次, 最近走访 {r.last_visit:%Y-%m-%d}")
    st = t["stations"]
    if not st.empty:
        days, present = int(st["reception_days_in_period"].sum()), int(st["days_with_visits"].sum())
        lines.append(f"群众工作站: {len(st)} 个; 坐班日有走访记录 {present}/{days} 天 ({formats.rate(present / days if days else None)}); "
                     f"受理诉求 {int(st['cases'].sum())} 件, 其中代理信访 {int(st['proxy_petitions'].sum())} 件 (按工作站所在村计)")
        lines.append(f"没有工作站的村(社区): {len(t['villages_without_station'])} 个")
    cad = t["cadres"]
    if not cad.empty:
        roster = cad[cad["in_roster"]]
        meeting = int(roster["meets_target"].sum())
        lines.append(f"干部: {len(roster)} 名; 每月走访不少于 {settings.get('fieldwork_visits_per_month')} 户的 {meeting} 名 "
                     f"({formats.rate(meeting / len(roster) if len(roster) else None)}); "
                     f"本时段无走访 {len(t['cadres_without_visits'])} 名")
        for r in t["cadres_by_town"].head(5).itertuples():
            lines.append(f"  {r.town}: {r.cadres} 名, 达标 {r.meeting} 名 ({formats.rate(r.share)}), 无走访 {r.without_visits} 名")
    pr = t["pairing"]
    if not pr.empty:
        lo, hi = settings.get("fieldwork_pairs_min"), settings.get("fieldwork_pairs_max")
        lines.append(f"结对帮扶干部: {len(pr)} 名; 结对过多 (>{hi} 户) {int((pr['load'] == 'over').sum())} 名, "
                     f"结对不足 (<{lo} 户) {int((pr['load'] == 'under').sum())} 名")
    hr = t["households_reached"]
    if not hr.empty:
        lines.append("走访到户: " + "; ".join(f"{r.label} {r.visited}/{r.households} ({formats.rate(r.share)})"
                                         for r in hr.itertuples()))
        days = settings.get("fieldwork_key_unvisited_days")
        lines.append(f"连心户 {days} 天内无走访: {len(t['unvisited_key_households'])} 户")
    vc = t["village_coverage"]
    if not vc.empty:
        lines.append(f"本时段有走访的村(社区): {int((vc['visits'] > 0).sum())}/{len(vc)} 个")
    b = t["buildings"]
    if not b.empty:
        lines.append(f"商务楼宇、非公企业、商业街区: {len(b)} 处 (设工作站 {int(b['has_station'].sum())} 处); "
                     f"{settings.get('fieldwork_building_radius_m'):g} 米内的诉求 {int(b['cases'].sum())} 件")
    return lines


def _rows(df: pd.DataFrame) -> list[dict]:
    """A table as JSON-ready rows: missing values as null, dates as YYYY-MM-DD, lists kept."""
    def value(v):
        if isinstance(v, (list, tuple)):
            return [value(x) for x in v]
        if v is None or v is pd.NaT or (not hasattr(v, "__len__") and pd.isna(v)):
            return None
        if isinstance(v, pd.Timestamp):
            return v.date().isoformat() if v == v.normalize() else v.isoformat()
        if isinstance(v, (dt.date, dt.datetime)):
            return v.isoformat()
        return _clean(v)

    return [{c: value(v) for c, v in r.items()} for r in df.to_dict("records")]


COMMANDS = (fieldwork,)
