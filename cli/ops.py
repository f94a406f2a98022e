"""`minqing backup`, `restore`, `check` and `upgrade`: keeping a warehouse safe at an office."""

from __future__ import annotations

from pathlib import Path

import click

from etl import settings
from etl.backup import BackupError
from etl.db import Busy
from etl.keys import KeyError_
from etl.migrations import SchemaError

from .access import audit
from .paths import existing_db

_REFUSED = (BackupError, Busy, KeyError_, SchemaError)


@click.command()
@click.option("-o", "--output", type=click.Path(file_okay=False), help="写入这个新目录 (不存在或为空)。")
@click.option("--into", type=click.Path(file_okay=False),
              help="改为在此目录下新建带时间的子目录 (minqing-年月日-时分秒), 并只保留最新的 --keep 份; "
                   "二者都不给时用设置项 backup_dir。")
@click.option("--keep", type=int, default=lambda: settings.get("backup_keep"), show_default="设置项 backup_keep",
              help="与 --into 同用: 保留的备份份数。")
@click.option("--wait", type=float, default=lambda: settings.get("backup_wait_seconds"),
              show_default="设置项 backup_wait_seconds", help="正在导入数据时, 最多等待的秒数。")
@click.pass_context
def backup(ctx: click.Context, output: str | None, into: str | None, keep: int, wait: float) -> None:
    """备份数据仓库、其密钥及账号与审计库, 附带清单 (各表行数、各文件 SHA-256)。

    \b
    备份时网页照常可用; 若正在导入数据, 等其完成 (最多 --wait 秒) 后再备份。
    每天备份一次 (crontab):  30 2 * * *  minqing --db 数据仓库 backup --into /备份目录 --keep 14
    (设置了 backup_dir 时, 只需 minqing backup)
    """
    from etl import backup as bk

    db = existing_db(ctx)
    if output is not None and into is not None:
        raise click.UsageError("请只给出 -o 新目录 或 --into 备份总目录 (二者之一)")
    if output is None and into is None:
        into = str(settings.get("backup_dir")).strip()
        if not into:
            raise click.UsageError("请给出 -o 新目录 或 --into 备份总目录, 或设置 backup_dir (环境变量 MINQING_BACKUP_DIR)")
    try:
        if output is not None:
            out, manifest, removed = Path(output), bk.backup(db, output, wait=wait), []
        else:
            out, manifest, removed = bk.backup_into(db, into, keep=keep, wait=wait)
    except _REFUSED as e:
        raise click.UsageError(f"备份未完成: {e}") from None
    except settings.SettingError as e:
        raise click.UsageError(str(e)) from None
    rows = sum(manifest["tables"].values())
    audit(db, "backup", target=str(out), detail={"removed": [p.name for p in removed]}, rows=rows)
    size = sum(f["bytes"] for f in manifest["files"].values())
    click.echo(f"已备份到 {out}: {len(manifest['files'])} 个文件, {size / 1e6:.1f} MB, 共 {rows} 行 (结构版本 {manifest['schema_version']})")
    for p in removed:
        click.echo(f"  已删除较早的备份 {p} (保留最新 {keep} 份)")


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="--db 处已有数据仓库时, 用备份替换它 (被替换的文件先另存一份)。")
@click.option("--wait", type=float, default=lambda: settings.get("backup_wait_seconds"),
              show_default="设置项 backup_wait_seconds", help="正在导入数据时, 最多等待的秒数。")
@click.pass_context
def restore(ctx: click.Context, folder: str, force: bool, wait: float) -> None:
    """从备份目录 FOLDER 恢复到 --db: 先逐一核对清单中的 SHA-256 与行数, 再整体替换 (数据仓库与密钥一同替换)。

    被替换的数据仓库、密钥与账号库先复制到 <数据仓库>.before-restore-<时间>/; 较早结构版本的备份恢复后自动升级。
    """
    from access.store import SCHEMA_VERSION
    from etl import backup as bk

    db: Path = ctx.obj["db"]
    if db.exists() and not force:
        try:
            manifest = bk.verify(folder, access_schema=SCHEMA_VERSION)
        except BackupError as e:
            raise click.UsageError(str(e)) from None
        raise click.UsageError(
            f"{db} 已存在 ({_district_of(db)}); 备份 {folder} ({_district(manifest)}, 备份于 {manifest['created_at']}) "
            "核对无误。确认要用备份替换它, 请加 --force")
    try:
        manifest, saved = bk.restore(folder, db, wait=wait, access_schema=SCHEMA_VERSION)
    except _REFUSED as e:
        raise click.UsageError(f"恢复未完成: {e}") from None
    rows = sum(manifest["tables"].values())
    audit(db, "restore", target=str(folder),
          detail={"created_at": manifest["created_at"], "saved": str(saved) if saved else None}, rows=rows)
    click.echo(f"已从 {folder} (备份于 {manifest['created_at']}) 恢复到 {db}: 共 {rows} 行, 核对无误")
    if saved:
        click.echo(f"  恢复前的数据仓库、密钥与账号库已保存在 {saved}")
    try:
        done = upgrade_warehouse(db)
    except _REFUSED as e:
        raise click.UsageError(f"已恢复, 但升级结构版本未完成: {e}") from None
    if done:
        click.echo(f"  已将恢复的数据仓库从结构版本 {done[0]} 升级到 {done[1]}")


def _district(manifest: dict) -> str:
    code, name = manifest.get("district_code"), manifest.get("district_name")
    return f"区划 {name or ''} {code}".replace("  ", " ") if code else "区划不详"


def _district_of(db: Path) -> str:
    from etl.backup_verify import describe

    try:
        return _district(describe(db))
    except Exception:  # a damaged warehouse: the restore is what mends it
        return "无法读取其区划"


@click.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """检查数据仓库是否完整: 结构版本、各表与列、各批导入的行数、密钥与账号库; 有问题时以非零状态退出。"""
    from etl.check import check as run_check

    db = existing_db(ctx)
    report = run_check(db)
    for note in report.notes:
        click.echo(note)
    if report.ok:
        click.echo(f"{db}: 检查通过")
        return
    for p in report.problems:
        click.echo(f"问题: {p}", err=True)
    click.echo(f"{db}: 发现 {len(report.problems)} 个问题; 可用 minqing restore 从最近的备份恢复", err=True)
    ctx.exit(1)


@click.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """把较早版本写成的数据仓库升级到本程序的结构版本 (在副本上升级, 核对各表行数后整体替换)。

    升级后第一次写入 (导入数据等) 也会自动升级; minqing serve 启动时同样如此。
    """
    db = existing_db(ctx)
    done = upgrade_audited(db)
    if done is None:
        click.echo(f"{db} 已是最新的结构版本, 无需升级")
        return
    click.echo(f"已将 {db} 从结构版本 {done[0]} 升级到 {done[1]}, 各表行数不变")


def upgrade_audited(db: Path) -> tuple[int, int] | None:
    """`minqing upgrade` and `serve`'s upgrade: upgrade_warehouse with its audit entry, a refusal
    (a newer warehouse, a running load) as a usage error."""
    try:
        done = upgrade_warehouse(db)
    except _REFUSED as e:
        raise click.UsageError(str(e)) from None
    if done is not None:
        audit(db, "upgrade", target=str(db), detail={"from": done[0], "to": done[1]})
    return done


def upgrade_warehouse(db: Path) -> tuple[int, int] | None:
    """Upgrade `db` if its schema is older (etl.migrations through etl.db.writing): (from, to), or None."""
    from etl.db import connect, writing
    from etl.migrations import latest, version_of

    with connect(db, read_only=True) as con:  # refuses a newer warehouse
        v = version_of(con)
    if v is None or v >= latest():
        return None
    with writing(db) as con:  # the copy is migrated on opening; nothing else to do
        pass
    return v, latest()


COMMANDS = (backup, restore, check, upgrade)
