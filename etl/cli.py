"""The `minqing` command line."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from . import settings
from .db import REPO_ROOT, connect, writing
from .keys import KeyError_, create_key, read_key


def _default_db() -> str:
    env = os.environ.get("MINQING_DB")
    if env:
        return env
    return str(REPO_ROOT / str(settings.get("db")))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db", type=click.Path(dir_okay=False), default=_default_db, show_default="$MINQING_DB or data/minqing.duckdb",
              help="The warehouse file (DuckDB).")
@click.pass_context
def main(ctx: click.Context, db: str) -> None:
    """民情地图 (Minqing Map): load a district's mass-work records and analyse them."""
    ctx.obj = {"db": Path(db)}


@main.command()
@click.option("--district", required=True, help="6-digit code (610902) or name (汉滨区, 安康市汉滨区).")
@click.option("--force", is_flag=True, help="Replace an existing warehouse at --db.")
@click.pass_context
def init(ctx: click.Context, district: str, force: bool) -> None:
    """Create an empty warehouse for one district with its real towns, villages and outline."""
    from . import divisions
    from .warehouse import init_warehouse

    db: Path = ctx.obj["db"]
    if db.exists() and not force:
        raise click.UsageError(f"{db} 已存在; 如需重建请加 --force")
    try:
        divisions.resolve_district(district)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--district") from None
    key = create_key(db)
    with writing(db, fresh=True) as con:
        d = init_warehouse(con, district, key=key)
        n = dict(con.execute("SELECT level, count(*) FROM areas GROUP BY 1").fetchall())
    click.echo(f"已创建 {db}: {d.full_name} ({d.code}), 乡镇/街道 {n.get('town', 0)} 个, 村/社区 {n.get('village', 0)} 个")


@main.command()
@click.option("--seed", type=int, default=lambda: settings.get("demo_seed"), show_default="demo_seed setting",
              help="Random seed; the same seed builds the same demo.")
@click.option("--scale", type=float, default=1.0, show_default=True, help="Fraction of the full size (households, cases).")
@click.option("--force", is_flag=True, help="Replace an existing warehouse at --db.")
@click.pass_context
def demo(ctx: click.Context, seed: int, scale: float, force: bool) -> None:
    """Build the embedded 汉滨区 demo (演示数据) and write demo_truth.json beside it."""
    from .demo import build_demo

    db: Path = ctx.obj["db"]
    if db.exists() and not force:
        raise click.UsageError(f"{db} 已存在; 如需重建请加 --force")
    if not 0 < scale <= 2:
        raise click.BadParameter(f"{scale!r} is not in (0, 2]", param_hint="--scale")
    t0 = time.monotonic()

    def progress(msg: str) -> None:
        click.echo(f"[{time.monotonic() - t0:5.1f}s] {msg}")

    truth = build_demo(db, seed=seed, scale=scale, as_of=str(settings.get("demo_as_of")), progress=progress)
    c = truth["counts"]
    click.echo(f"演示数据已生成: {db} (户 {c['households']}, 诉求 {c['cases']}); 真值: {db.parent / 'demo_truth.json'}")


@main.command(name="load")
@click.argument("kind", type=click.Choice(["areas", "buildings", "stations", "households", "cadres", "visits", "cases", "disasters"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--sheet", help="XLSX sheet name (default: the first sheet).")
@click.option("--crs", default="wgs84", show_default=True, help="Datum of the points: wgs84 or cgcs2000.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the outcome counts.")
@click.pass_context
def load_cmd(ctx: click.Context, kind: str, file: str, sheet: str | None, crs: str, as_json: bool) -> None:
    """Load a ledger or boundary file; every row is loaded, updated, a duplicate or rejected with its reason."""
    from .load import LoadError, load
    from .readers import ReadError

    db: Path = ctx.obj["db"]
    if not db.exists():
        raise click.UsageError(f"{db} 不存在; 请先创建: minqing --db {db} init --district 区县代码或名称")
    try:
        with connect(db, read_only=True) as ro:
            fp = dict(ro.execute("SELECT key, value FROM meta").fetchall()).get("key_fingerprint")
        key = read_key(db, fp)
        with writing(db) as con:
            r = load(con, kind, file, sheet=sheet, crs=crs, hash_key=key)
    except (LoadError, ReadError, KeyError_) as e:
        raise click.UsageError(str(e)) from None
    if as_json:
        click.echo(json.dumps(r.as_dict(), ensure_ascii=False))
        return
    click.echo(f"{file}: 读入 {r.rows_read} 行 — 新增 {r.loaded}, 更新 {r.updated}, 重复 {r.duplicates}, 拒收 {r.rejected}")
    for reason, n in r.reasons.items():
        click.echo(f"  拒收原因 {reason}: {n}")
    if r.rejected:
        click.echo(f"  明细: SELECT * FROM rejected_rows WHERE batch_id = {r.batch_id}")


@main.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """Show what the warehouse holds: district, row counts per table, last loads."""
    db: Path = ctx.obj["db"]
    if not db.exists():
        raise click.UsageError(f"{db} 不存在")
    con = connect(db, read_only=True)
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    click.echo(f"{meta.get('district_full_name')} ({meta.get('district_code')})" + (" [演示数据]" if meta.get("demo") == "true" else ""))
    for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1").fetchall():
        click.echo(f"  {t}: {con.execute(f'SELECT count(*) FROM {t}').fetchone()[0]}")
    loads = con.execute("""SELECT batch_id, kind, source_file, loaded_at, rows_read, loaded, updated, duplicates, rejected
                           FROM load_batches ORDER BY batch_id DESC LIMIT 5""").fetchall()
    if loads:
        click.echo("最近的导入:")
        for b, k, f, at, n, lo, up, du, rj in loads:
            click.echo(f"  #{b} {at:%Y-%m-%d %H:%M} {k} {f}: 读入 {n}, 新增 {lo}, 更新 {up}, 重复 {du}, 拒收 {rj}")


def run() -> None:  # pragma: no cover - console entry for python -m
    main(prog_name="minqing")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
