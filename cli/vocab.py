"""`minqing vocab`: the terms the warehouse's cases use, and the warehouse's own mappings."""

from __future__ import annotations


import click

from etl.db import Busy, connect
from etl.terms import DOMAIN_LABELS, DOMAINS, HOW_LABELS

from .access import audit
from .paths import existing_db


@click.group(invoke_without_command=True)
@click.pass_context
def vocab(ctx: click.Context) -> None:
    """列出诉求台账中使用的诉求来源、问题类别、办理状态、满意度用词及其映射与件数。"""
    if ctx.invoked_subcommand is not None:
        return
    from etl.terms import terms_in_use

    with connect(existing_db(ctx), read_only=True) as con:
        df = terms_in_use(con)
    if df.empty:
        click.echo("数据仓库中尚无诉求。")
        return
    for domain, part in df.groupby("domain", sort=False):
        click.echo(f"{DOMAIN_LABELS[domain]} ({domain}):")
        for r in part.itertuples():
            to = "" if r.mapped_to == r.term else f" → {r.mapped_to}"
            click.echo(f"  {r.term}{to}  [{HOW_LABELS[r.how]}]  {r.count} 件")
    click.echo("映射一个词: minqing vocab map 原词 词表用词")


@vocab.command(name="map")
@click.argument("term")
@click.argument("target")
@click.option("--domain", type=click.Choice(DOMAINS), help="词表; 原词只出现在一个词表中时可省略。")
@click.pass_context
def map_cmd(ctx: click.Context, term: str, target: str, domain: str | None) -> None:
    """把原词 TERM 映射为词表用词 TARGET, 并立即更新已入库的诉求 (无需重新导入)。"""
    from etl.terms import map_term_in

    try:
        d, canon, changed = map_term_in(existing_db(ctx), domain, term, target)
    except Busy as e:
        raise click.UsageError(str(e)) from None
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="TERM/TARGET") from None
    audit(existing_db(ctx), "vocab_map", target=f"{DOMAIN_LABELS[d]} {term} → {canon}", rows=changed)
    click.echo(f"已将{DOMAIN_LABELS[d]} {term} 映射为 {canon}; 更新诉求 {changed} 件。今后导入的文件同样适用。")




COMMANDS = (vocab,)
