"""`minqing alerts`: the current early warnings (抓苗头) and, with --suggest, category suggestions."""

from __future__ import annotations

import json

import click

from etl import settings
from etl.db import connect

from .analysis import _WithSettings
from .paths import existing_db


@click.command(cls=_WithSettings, prefixes=("alert_",))
@click.option("--town", default="", help="只看此乡镇(街道)的预警 (区划代码, 9 位); 统计仍按全区计算。")
@click.option("--suggest", is_flag=True, help="同时列出未映射问题类别的建议类别 (本地训练的文本分类器) 及其交叉验证准确率。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON: 数据日期与预警列表 (每项含原因数字、区域、诉求编号)。")
@click.pass_context
def alerts(ctx: click.Context, town: str, suggest: bool, as_json: bool) -> None:
    """抓苗头: 截至数据日期的预警, 按类型排序: 诉求异常增多 (按 q 值)、集体访苗头 (相近诉求件数)、
    越级访苗头、疑似同一事项 (多头访/重复访)。每项给出原因 (实际件数、预期件数、q 值)、所在区域和
    相关诉求编号; 首次出现的预警标为 新。"""
    from access.seen import recorder
    from analysis.alerts import current_alerts
    from etl.views import as_of

    db = existing_db(ctx)
    if town and not (town.isdigit() and len(town) == 9):
        raise click.UsageError(f"--town: {town!r} 不是乡镇(街道)的 9 位区划代码")
    with connect(db, read_only=True) as con:
        demo = con.execute("SELECT count(*) FROM meta WHERE key = 'demo_as_of'").fetchone()[0] > 0
        day = as_of(con)
        problems: list[str] = []
        items = current_alerts(con, town, seen=recorder(db, problems))
        sugg = _suggestions(con) if suggest else None
    for p in problems:
        click.echo(f"注意: {p}", err=True)
    if as_json:
        out = {"as_of": day.at.date().isoformat(), "label": "演示数据" if demo else "", "town": town,
               "alerts": [a.as_dict() for a in items]}
        if sugg is not None:
            out["suggestions"] = sugg
        click.echo(json.dumps(out, ensure_ascii=False, default=str))
        return
    click.echo(f"{'[演示数据] ' if demo else ''}{day.label()} · 预警 {len(items)} 项"
               f" (近{settings.get('alert_window_days')}天; 相近诉求看近{settings.get('alert_cluster_days')}天)")
    if not items:
        click.echo("目前没有预警。")
    kind = None
    for a in items:
        if a.kind != kind:
            kind = a.kind
            click.echo(f"\n{a.kind_label}:")
        new = "新 " if a.new else f"自 {a.first_seen} 起 "
        click.echo(f"  {a.rank}. [{new.strip()}] {a.title}\n     原因: {a.why}\n     区域: {a.where}\n"
                   f"     诉求 {len(a.case_ids)} 件: {', '.join(a.case_ids[:12])}{' …' if len(a.case_ids) > 12 else ''}")
    if sugg is not None:
        click.echo(f"\n类别建议 (交叉验证准确率 {_pct(sugg['accuracy'])}, {sugg['folds']} 折, 训练 {sugg['n_train']} 件, "
                   f"用时 {sugg['seconds']:.1f} 秒):")
        for t in sugg["terms"]:
            click.echo(f"  {t['category_raw']} ({t['cases']} 件) → 建议 {t['suggested']} (概率 {t['probability']:.0%}); "
                       f"采纳: minqing vocab map {t['category_raw']} {t['suggested']} --domain category")
        if not sugg["terms"]:
            click.echo("  没有未映射的问题类别。")


def _suggestions(con) -> dict:
    from analysis.alerts.classify import suggestions

    terms, _, model = suggestions(con)
    return {"accuracy": model.accuracy, "folds": model.folds, "n_train": model.n_train, "seconds": model.seconds,
            "terms": terms.to_dict("records")}


def _pct(x) -> str:
    return "无 (已分类诉求不足)" if x is None else f"{x:.1%}"


COMMANDS = (alerts,)
