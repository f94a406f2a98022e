"""`minqing user`, `minqing audit` and `minqing serve`: accounts, the audit trail and the dashboard's server."""

from __future__ import annotations

import getpass
import json
import os
import sys
import unicodedata
from pathlib import Path

import click

from access import store
from access.roles import ROLES
from etl import settings
from etl.db import REPO_ROOT

from .paths import existing_db

_ROLES_HELP = "\b\n角色:\n" + "\n".join(f"  {r.name:<8} {r.label}: {r.summary}" for r in ROLES.values())


def operator() -> str:
    """Who ran a command, as the audit log names them: 'cli:<system user>'."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a container without /etc/passwd entry
        return f"cli:uid{os.getuid()}"


def audit(db: Path, action: str, **kw) -> None:
    """Record a command's action in the warehouse's audit log (never fails the command)."""
    try:
        store.audit(db, operator(), action, **kw)
    except Exception as e:  # an unwritable store must not undo a finished load
        click.echo(f"注意: 未能写入审计记录 ({e})", err=True)


@click.group(epilog=_ROLES_HELP)
def user() -> None:
    """管理登录账号 (账号与数据仓库放在一起, 密码只存哈希)。"""


@user.command(name="add", epilog=_ROLES_HELP)
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(list(ROLES)), help="角色 (见下)。")
@click.option("--town", help="乡镇(街道)名称或代码; 角色 town 必填。")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False),
              help="从文件第一行读取密码 (不给则在终端输入两次)。")
@click.option("--sso", is_flag=True, help="不设密码, 只能通过单位统一身份认证 (OIDC) 登录; NAME 为其返回的 email。")
@click.pass_context
def add_cmd(ctx: click.Context, name: str, role: str, town: str | None, password_file: str | None, sso: bool) -> None:
    """新建账号 NAME。"""
    db = existing_db(ctx)
    code, town_name = _town(db, town) if town else (None, None)
    password = None if sso else _password(password_file)
    try:
        acc = store.add_user(db, name, role, password, town_code=code, town_name=town_name, by=operator())
    except store.AccessError as e:
        raise click.UsageError(str(e)) from None
    click.echo(f"已新建账号 {acc.describe()}")


@user.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON。")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """列出账号 (不含密码)。"""
    users = store.list_users(existing_db(ctx))
    if as_json:
        click.echo(json.dumps([u.__dict__ for u in users], ensure_ascii=False))
        return
    if not users:
        click.echo("还没有账号。新建: minqing user add 名称 --role planner")
    for u in users:
        state = "已停用" if u.disabled else "正常"
        how = "密码" if u.has_password else "统一身份认证"
        click.echo(f"  {u.name}  {ROLES[u.role].label}{' · ' + u.town_name if u.town_name else ''}  {state}  {how}  创建于 {u.created_at}")


@user.command(name="disable")
@click.argument("name")
@click.pass_context
def disable_cmd(ctx: click.Context, name: str) -> None:
    """停用账号 NAME (立即生效, 已登录的会话在下一次操作时退出)。"""
    _set_disabled(ctx, name, True)


@user.command(name="enable")
@click.argument("name")
@click.pass_context
def enable_cmd(ctx: click.Context, name: str) -> None:
    """重新启用账号 NAME。"""
    _set_disabled(ctx, name, False)


def _set_disabled(ctx: click.Context, name: str, disabled: bool) -> None:
    _change(lambda: store.set_disabled(existing_db(ctx), name, disabled, by=operator()))
    click.echo(f"已{'停用' if disabled else '启用'}账号 {name}")


@user.command(name="passwd")
@click.argument("name")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False), help="从文件第一行读取新密码。")
@click.pass_context
def passwd_cmd(ctx: click.Context, name: str, password_file: str | None) -> None:
    """为账号 NAME 设置新密码 (同时解除锁定)。"""
    db = existing_db(ctx)
    _exists(db, name)
    password = _password(password_file)
    _change(lambda: store.set_password(db, name, password, by=operator()))
    click.echo(f"已更新账号 {name} 的密码")


@click.command(name="audit")
@click.option("--user", "who", help="只看这个账号。")
@click.option("--action", type=click.Choice(list(store.ACTION_LABELS)), help="只看这类操作。")
@click.option("--limit", type=int, default=200, show_default=True, help="最多列出的条数 (最新的在前)。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON (每行一条)。")
@click.pass_context
def audit_cmd(ctx: click.Context, who: str | None, action: str | None, limit: int, as_json: bool) -> None:
    """列出审计记录: 登录、导出与下载、导入、词表与账号的变更。"""
    rows = store.audit_entries(existing_db(ctx), limit=limit, who=who, action=action)
    for r in rows:
        if as_json:
            click.echo(json.dumps(r, ensure_ascii=False))
            continue
        detail = "; ".join(f"{k}={v}" for k, v in (r["detail"] or {}).items())
        n = f" {r['rows']} 行" if r["rows"] is not None else ""
        click.echo(f"{r['at']}  {r['who']}  {r['action_label']}  {r['target'] or ''}{n}  {detail}".rstrip())
    if not rows and not as_json:
        click.echo("没有审计记录。")


@click.command()
@click.option("--address", default=lambda: settings.get("server_address"), show_default="设置项 server_address",
              help="监听地址; 127.0.0.1 只供本机访问, 0.0.0.0 供局域网访问 (需先建账号)。")
@click.option("--port", type=int, default=lambda: settings.get("server_port"), show_default="设置项 server_port",
              help="端口。")
@click.pass_context
def serve(ctx: click.Context, address: str, port: int) -> None:
    """启动民情地图网页 (需先用 minqing user add 建立账号)。"""
    db = existing_db(ctx)
    _upgrade_first(ctx, db)
    _demo_sign_in(db)
    if not store.list_users(db):
        raise click.UsageError(f"{db} 还没有任何账号, 无人能登录。先运行: minqing --db {db} user add 名称 --role planner")
    env = {**os.environ, "MINQING_DB": str(db.resolve())}
    args = [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "app.py"),
            "--server.address", address, "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    click.echo(f"民情地图: http://{address}:{port}  (数据仓库 {db})")
    os.chdir(REPO_ROOT)  # Streamlit reads .streamlit/config.toml (static serving of the map scripts) from here
    os.execvpe(args[0], args, env)


def _upgrade_first(ctx: click.Context, db: Path) -> None:
    """A warehouse written by an earlier release is upgraded before the dashboard opens it."""
    from .ops import upgrade_audited

    done = upgrade_audited(db)
    if done is not None:
        click.echo(f"已将 {db} 从结构版本 {done[0]} 升级到 {done[1]}")


def demo_accounts(db: Path) -> str:
    """On a demo warehouse: make sure its demo accounts exist; how to sign in, in Chinese ('' otherwise)."""
    from access.demo import DEMO_PASSWORD, ensure_demo_accounts
    from etl.db import connect

    with connect(db, read_only=True) as con:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        town = con.execute("SELECT code, name FROM areas WHERE level = 'town' ORDER BY code LIMIT 1").fetchone()
    if meta.get("demo") != "true" or town is None:
        return ""
    accounts = ensure_demo_accounts(db, *town)
    lines = [f"演示账号 (密码均为 {DEMO_PASSWORD}):"]
    for name, role in accounts:
        r = ROLES[role]
        lines.append(f"  {name:<8} {r.label}{' · ' + town[1] if r.scoped else ''}: {r.summary}")
    return "\n".join(lines)


def _demo_sign_in(db: Path) -> None:
    text = demo_accounts(db)
    if text:
        click.echo(text)




def _exists(db: Path, name: str) -> bool:
    try:
        store.get_user(db, name)
    except store.AccessError as e:
        raise click.UsageError(str(e)) from None
    return True


def _change(fn) -> None:
    try:
        fn()
    except store.AccessError as e:
        raise click.UsageError(str(e)) from None


def _password(path: str | None) -> str:
    if path:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        password = lines[0].strip() if lines else ""
    else:
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再输入一次")
    if len(password) < store.MIN_PASSWORD:
        raise click.UsageError(f"密码至少 {store.MIN_PASSWORD} 个字符")
    return password


def _town(db: Path, town: str) -> tuple[str, str]:
    """(code, name) of the warehouse's town written as its name (大河镇, 大河) or code."""
    from etl.db import connect

    def norm(s: str) -> str:
        s = "".join(unicodedata.normalize("NFKC", s).split())
        for suffix in ("街道办事处", "街道办", "街道", "人民政府", "镇", "乡"):
            if s.endswith(suffix) and len(s) > len(suffix):
                return s[: -len(suffix)]
        return s

    with connect(db, read_only=True) as con:
        towns = con.execute("SELECT code, name FROM areas WHERE level = 'town' ORDER BY code").fetchall()
    hits = [(c, n) for c, n in towns if town.strip() in (c, n)] or [(c, n) for c, n in towns if norm(n) == norm(town)]
    if len(hits) != 1:
        names = "、".join(n for _, n in towns[:30])
        why = "有多个同名乡镇(街道), 请用代码" if hits else "不是本数据仓库的乡镇(街道)"
        raise click.BadParameter(f"{town!r} {why}; 可选: {names}{' 等' if len(towns) > 30 else ''}", param_hint="--town")
    return hits[0]


COMMANDS = (user, audit_cmd, serve)
