"""Commands of `minqing` that build and fill a warehouse: init, demo, load, template, info, rejected."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
import time
from pathlib import Path

import click

from etl import settings
from etl.db import Busy, connect
from etl import views
from etl.keys import KeyError_, new_warehouse
from etl.kinds import KINDS

from .access import audit, demo_accounts
from .paths import existing_db

# KIND in the help of load and template: every kind with its Chinese name (\b keeps the lines).
_KINDS_HELP = "\b\nKIND 可选:\n" + "\n".join(f"  {k.name:<{max(map(len, KINDS))}}  {k.label}" for k in KINDS.values())



@click.command()
@click.option("--district", help="区县: 6位代码 (610902) 或名称 (汉滨区, 安康市汉滨区)。")
@click.option("--region", help="改为整个省或市: 代码 (13, 1301) 或名称 (河北省, 石家庄市)。")
@click.option("--force", is_flag=True, help="覆盖 --db 处已有的数据仓库。")
@click.pass_context
def init(ctx: click.Context, district: str | None, region: str | None, force: bool) -> None:
    """为一个区县 (或一个省、市) 新建空的数据仓库, 含真实的乡镇(街道)、村(社区)及区县边界。"""
    from etl import divisions
    from etl.warehouse import init_region_warehouse, init_warehouse

    db: Path = ctx.obj["db"]
    if (district is None) == (region is None):
        raise click.UsageError("请给出 --district 区县 或 --region 省/市 (二者之一)")
    if db.exists() and not force:
        raise click.UsageError(f"{db} 已存在; 如需重建请加 --force")
    try:
        if district is not None:
            divisions.resolve_district(district)
        else:
            divisions.resolve_region(region)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--district" if district is not None else "--region") from None
    try:
        with new_warehouse(db) as (con, key):  # the old warehouse and its key stay as they were unless this succeeds
            if district is not None:
                d = init_warehouse(con, district, key=key)
            else:
                d = init_region_warehouse(con, region, key=key)
            n = dict(con.execute("SELECT level, count(*) FROM areas GROUP BY 1").fetchall())
    except Busy as e:
        raise click.UsageError(str(e)) from None
    click.echo(f"已创建 {db}: {d.full_name} ({d.code}), 乡镇/街道 {n.get('town', 0)} 个, 村/社区 {n.get('village', 0)} 个")


@click.command()
@click.option("--seed", type=int, default=lambda: settings.get("demo_seed"), show_default="设置项 demo_seed",
              help="随机种子; 同一种子生成同样的演示数据。")
@click.option("--scale", type=float, default=1.0, show_default=True, help="相对完整规模的比例 (户数、诉求数)。")
@click.option("--force", is_flag=True, help="覆盖 --db 处已有的数据仓库。")
@click.pass_context
def demo(ctx: click.Context, seed: int, scale: float, force: bool) -> None:
    """生成内置的汉滨区演示数据, 并在其旁写出 demo_truth.json (预设的真值)。"""
    from etl.demo import build_demo

    db: Path = ctx.obj["db"]
    if db.exists() and not force:
        raise click.UsageError(f"{db} 已存在; 如需重建请加 --force")
    if not 0 < scale <= 2:
        raise click.BadParameter(f"{scale!r} 不在 (0, 2] 范围内", param_hint="--scale")
    t0 = time.monotonic()

    def progress(msg: str) -> None:
        click.echo(f"[{time.monotonic() - t0:5.1f}s] {msg}")

    try:
        truth = build_demo(db, seed=seed, scale=scale, as_of=str(settings.get("demo_as_of")), progress=progress)
    except Busy as e:
        raise click.UsageError(str(e)) from None
    c = truth["counts"]
    click.echo(f"演示数据已生成: {db} (户 {c['households']}, 诉求 {c['cases']}); 真值: {db.parent / 'demo_truth.json'}")
    click.echo(demo_accounts(db))


@click.command(name="load", epilog=_KINDS_HELP)
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("files", nargs=-1, required=True, metavar="FILE... | 文件夹", type=click.Path(exists=True))
@click.option("--sheet", help="XLSX 工作表名称 (默认: 第一个工作表)。")
@click.option("--crs", default="wgs84", show_default=True,
              help="坐标点的坐标系: wgs84、cgcs2000、gcj02 (高德、腾讯) 或 bd09 (百度)。"
                   "边界文件自带坐标系 (.prj、GeoJSON), 导入时转换; 也可给出 EPSG 代码, 如 EPSG:4545。")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False),
              help="TOML 文件, 含 [columns] 表: \"文件中的表头\" = \"字段名或中文列名\"。")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]),
              help="导出日期 (YYYY-MM-DD): 数据截至这一天 (超期等按此计算); 不填则取记录中最晚的时间。")
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象, 含各结果的行数。")
@click.pass_context
def load_cmd(ctx: click.Context, kind: str, files: tuple[str, ...], sheet: str | None, crs: str, mapping: str | None,
             as_of: dt.datetime | None, as_json: bool) -> None:
    """导入台账或边界文件 FILE; 每一行或新增, 或更新, 或为重复, 或连同原因被拒收。

    可一次给出多个文件或一个文件夹 (取其中的 .csv、.xlsx 文件, 按文件名顺序): 全部在一次事务中导入,
    结果与逐个导入相同 (每个文件一个导入批次); 任一文件无法读取则全部不导入。"""
    db = existing_db(ctx)
    if len(files) == 1 and not Path(files[0]).is_dir():
        _load_one(db, kind, files[0], sheet, crs, mapping, as_of, as_json)
        return
    from .load_many import load_many

    load_many(db, kind, files, sheet=sheet, crs=crs, mapping=_read_mapping(mapping) if mapping else None,
              as_of=as_of and as_of.date(), as_json=as_json)


def _load_one(db: Path, kind: str, file: str, sheet: str | None, crs: str, mapping: str | None,
              as_of: dt.datetime | None, as_json: bool) -> None:
    """One file: `minqing load KIND FILE`."""
    from etl.load import STEPS, XLSX_SUFFIXES, LoadError, load_file
    from etl.readers import ReadError

    if sheet and Path(file).suffix.lower() not in XLSX_SUFFIXES:
        raise click.BadParameter(f"--sheet 只适用于 .xlsx 文件, 而 {file} 不是", param_hint="--sheet")
    columns = _read_mapping(mapping) if mapping else None
    try:
        bar = click.progressbar(length=len(STEPS), label="导入", file=sys.stderr, item_show_func=lambda s: s)
        with contextlib.nullcontext() if as_json else bar:
            r = load_file(db, kind, file, sheet=sheet, crs=crs, mapping=columns, as_of=as_of and as_of.date(),
                          progress=None if as_json else (lambda s: bar.update(1, s)))
    except (LoadError, ReadError, KeyError_, Busy) as e:
        raise click.UsageError(str(e)) from None
    audit_load(db, r)
    if as_json:
        click.echo(json.dumps(r.as_dict(), ensure_ascii=False))
        return
    echo_result(db, file, r)


def audit_load(db: Path, r) -> None:
    """One audit entry per file loaded."""
    audit(db, "load", target=r.kind, detail={"batch": r.batch_id, "loaded": r.loaded, "updated": r.updated,
                                             "rejected": r.rejected}, rows=r.rows_read)


def echo_result(db: Path, file: str, r) -> None:
    """What one file's load did, as `minqing load` prints it."""
    from etl.load import NOTE_LABELS

    click.echo(f"{file}: 读入 {r.rows_read} 行 — 新增 {r.loaded}, 更新 {r.updated}, 重复 {r.duplicates}, 拒收 {r.rejected}")
    for reason, n in r.reasons.items():
        click.echo(f"  拒收原因 {reason}: {n}")
    for note, n in r.notes.items():
        click.echo(f"  {NOTE_LABELS.get(note, note)}: {n}")
    _echo_terms(r.terms)
    if r.rejected:
        click.echo(f"  拒收明细: minqing --db {db} rejected --batch {r.batch_id} -o 拒收明细.xlsx")


def _echo_terms(terms: list[dict]) -> None:
    """The terms the vocabulary did not know as written: matched by containment, or kept as written."""
    from etl.terms import DOMAIN_LABELS

    if not terms:
        return
    click.echo("  词表外的用词 (均已入库, 未拒收):")
    for t in terms:
        how = f"按包含匹配为 {t['mapped_to']}" if t["how"] == "containment" else "按原词保留"
        click.echo(f"    {DOMAIN_LABELS[t['domain']]} {t['term']}: {t['count']} 行, {how}")
    click.echo("  如需归入词表用词: minqing vocab map 原词 词表用词")


def _read_mapping(path: str) -> dict[str, str]:
    import tomllib

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise click.BadParameter(f"{path}: 不是有效的 TOML ({e})", param_hint="--mapping") from None
    cols = data.get("columns")
    if not isinstance(cols, dict) or not all(isinstance(v, str) for v in cols.values()):
        raise click.BadParameter(f'{path}: 需要一个 [columns] 表, 每行形如 "来电号码" = "phone"', param_hint="--mapping")
    return cols


@click.command(epilog=_KINDS_HELP)
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="要写出的 .xlsx 文件。")
def template(kind: str, output: str) -> None:
    """写出 KIND 的空白台账模板: 标准中文表头, 另有一页逐列填写说明。"""
    from etl.template import write_template

    if not output.lower().endswith(".xlsx"):
        raise click.BadParameter(f"{output!r} 应以 .xlsx 结尾", param_hint="--output")
    path = write_template(kind, output)
    click.echo(f"已生成模板 {path} (第一页填写台账, 第二页为填写说明)")


@click.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """显示数据仓库的内容: 区县、各表行数、最近的导入。"""
    db = existing_db(ctx)
    con = connect(db, read_only=True)
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    click.echo(f"{meta.get('district_full_name')} ({meta.get('district_code')})" + (" [演示数据]" if meta.get("demo") == "true" else ""))
    click.echo(views.as_of(con).label())
    for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1").fetchall():
        click.echo(f"  {t}: {con.execute(f'SELECT count(*) FROM {t}').fetchone()[0]}")
    loads = con.execute("""SELECT batch_id, kind, source_file, loaded_at, rows_read, loaded, updated, duplicates, rejected
                           FROM load_batches ORDER BY batch_id DESC LIMIT 5""").fetchall()
    _echo_mappings(con)
    if loads:
        click.echo("最近的导入:")
        for b, k, f, at, n, lo, up, du, rj in loads:
            click.echo(f"  #{b} {at:%Y-%m-%d %H:%M} {k} {f}: 读入 {n}, 新增 {lo}, 更新 {up}, 重复 {du}, 拒收 {rj}")


def _echo_mappings(con) -> None:
    """The warehouse's own vocabulary (table vocab_map), if any."""
    from etl.terms import DOMAIN_LABELS

    have = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'vocab_map'").fetchone()[0]
    rows = con.execute("SELECT domain, term, mapped_to FROM vocab_map ORDER BY domain, term").fetchall() if have else []
    if rows:
        click.echo("本库的用词映射:")
        for d, t, m in rows:
            click.echo(f"  {DOMAIN_LABELS.get(d, d)} {t} → {m}")



@click.command()
@click.option("--batch", type=int, help="导入批次号 (见 minqing info); 默认: 最近一次有拒收的导入。")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="要写出的文件: .xlsx 或 .csv (UTF-8 带BOM)。")
@click.pass_context
def rejected(ctx: click.Context, batch: int | None, output: str) -> None:
    """写出一次导入被拒收的行: 行号、字段、原因及原始内容 (身份信息已脱敏), 修改后可重新导入。"""
    from reports import rejected as rj
    from reports.tables import csv_bytes, xlsx_bytes

    db = existing_db(ctx)
    if not output.lower().endswith((".xlsx", ".csv")):
        raise click.BadParameter(f"{output!r} 应以 .xlsx 或 .csv 结尾", param_hint="--output")
    with connect(db, read_only=True) as con:
        if batch is None:
            batch = rj.latest_batch(con)
            if batch is None:
                click.echo("还没有任何导入拒收过数据行。")
                return
        elif not rj.batch_exists(con, batch):
            raise click.BadParameter(f"没有第 {batch} 批导入; 见 minqing info", param_hint="--batch")
        df = rj.rejected_frame(con, batch)
    data = xlsx_bytes(df, "拒收明细") if output.lower().endswith(".xlsx") else csv_bytes(df)
    Path(output).write_bytes(data)
    audit(db, "export", target=f"拒收明细 第{batch}批", rows=len(df))
    click.echo(f"第 {batch} 批导入的拒收行 {len(df)} 行已写入 {output}")


COMMANDS = (init, demo, load_cmd, template, info, rejected)
