"""Accounts and the audit log in `<warehouse>.access.sqlite`: add, list, disable, change a
password, sign in (throttled), and record what a user did.

Every function takes the warehouse path; the store beside it is created on first use,
readable by its owner only. Names are what people type at the sign-in form (or the e-mail
an OIDC provider returns); towns are stored with their code (the scope) and name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from etl import settings
from etl.backup import access_store_path

from .roles import ROLES, role as role_of

SCHEMA_VERSION = 1
MIN_PASSWORD = 8

ACTION_LABELS = {
    "sign_in": "登录", "sign_in_failed": "登录失败", "sign_out": "退出", "session_expired": "超时退出",
    "download": "下载", "export": "导出", "load": "导入数据", "vocab_map": "词表映射",
    "backup": "备份", "restore": "恢复备份", "upgrade": "升级数据仓库",
    "user_add": "新增账号", "user_disable": "停用账号", "user_enable": "启用账号", "user_passwd": "修改密码",
}

_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters


@functools.cache
def _dummy() -> str:
    """A hash verified for unknown names, so they take as long as a real check (made on first
    use: an argon2 hash costs a third of a second, which every CLI command would pay at import)."""
    return _HASHER.hash("not a password of anyone")


class AccessError(ValueError):
    """A refused account change or sign-in; the message is for the user (Chinese)."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    town_code: str | None
    town_name: str | None
    disabled: bool
    has_password: bool
    created_at: str

    @property
    def scope(self) -> str:
        """The area code prefix this account sees ('' the whole warehouse)."""
        return (self.town_code or "") if ROLES[self.role].scoped else ""

    def describe(self) -> str:
        """'张三 (乡镇(街道) · 大河镇)' as the page header shows it."""
        where = f" · {self.town_name}" if self.scope else ""
        return f"{self.name} ({ROLES[self.role].label}{where})"


def store_path(db: str | os.PathLike) -> Path:
    return access_store_path(db)  # one name for the backups (etl.backup) and the accounts


# ---------------------------------------------------------------------------- accounts

def add_user(db, name: str, role: str, password: str | None, *, town_code: str | None = None,
             town_name: str | None = None, by: str = "") -> Account:
    """A new account. A `town` account needs its town; others must not have one. Without a
    password the account can only sign in through the office's single sign-on (OIDC)."""
    name = _check_name(name)
    r = role_of(role)
    if r.scoped and not town_code:
        raise AccessError(f"角色 {role} 需要指定乡镇(街道): --town 名称")
    if not r.scoped and town_code:
        raise AccessError(f"角色 {role} 看全区, 不需要 --town")
    hashed = _hash(password) if password is not None else None
    now = _now()
    with _db(db) as con:
        if con.execute("SELECT 1 FROM accounts WHERE name = ?", [name]).fetchone():
            raise AccessError(f"账号 {name} 已存在")
        con.execute("INSERT INTO accounts (name, role, town_code, town_name, password_hash, created_at, changed_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)", [name, role, town_code, town_name, hashed, now, now])
        _audit(con, by or "system", "user_add", target=name,
               detail={"role": role, "town": town_name} if town_name else {"role": role})
    return get_user(db, name)


def get_user(db, name: str) -> Account:
    with _db(db) as con:
        row = con.execute(f"SELECT {_COLS} FROM accounts WHERE name = ?", [name]).fetchone()
    if row is None:
        raise AccessError(f"没有账号 {name}")
    return _account(row)


def list_users(db) -> list[Account]:
    with _db(db) as con:
        return [_account(r) for r in con.execute(f"SELECT {_COLS} FROM accounts ORDER BY role, name")]


def set_disabled(db, name: str, disabled: bool = True, *, by: str = "") -> None:
    with _db(db) as con:
        if con.execute("UPDATE accounts SET disabled = ?, changed_at = ? WHERE name = ?",
                       [int(disabled), _now(), name]).rowcount == 0:
            raise AccessError(f"没有账号 {name}")
        _audit(con, by or "system", "user_disable" if disabled else "user_enable", target=name)


def set_password(db, name: str, password: str, *, by: str = "") -> None:
    hashed = _hash(password)
    with _db(db) as con:
        if con.execute("UPDATE accounts SET password_hash = ?, changed_at = ? WHERE name = ?",
                       [hashed, _now(), name]).rowcount == 0:
            raise AccessError(f"没有账号 {name}")
        con.execute("DELETE FROM throttle WHERE kind = 'name' AND key = ?", [_digest(name)])  # a reset unlocks
        _audit(con, by or "system", "user_passwd", target=name)


# ---------------------------------------------------------------------------- sign-in

def authenticate(db, name: str, password: str, *, source: str = "") -> Account:
    """The account if `password` is its own; otherwise AccessError (the same words whether the
    name exists or not). `signin_max_failures` wrong passwords for one name lock it for
    `signin_lockout_minutes` (see _attempt). Every attempt is in the audit log."""
    name = (name or "").strip()
    now = dt.datetime.now()
    detail = {"source": source} if source else {}
    with _db(db) as con:  # the failure is recorded (committed) before it is raised
        error = _attempt(con, name, password, now, detail)
    if error:
        raise AccessError(error)
    return get_user(db, name)


def _attempt(con: sqlite3.Connection, name: str, password: str, now: dt.datetime, detail: dict) -> str | None:
    """Check one sign-in inside a transaction; the user's error message, or None when it succeeds.

    Throttling counts wrong tries per typed name (known or not, so the answers do not tell which
    accounts exist) and per browser address (ten times the per-name limit); either reaching its
    limit locks that name or address for `signin_lockout_minutes`. A count older than the lockout
    starts again."""
    limit = int(settings.get("signin_max_failures"))
    lockout = dt.timedelta(minutes=float(settings.get("signin_lockout_minutes")))
    keys = [("name", _digest(name), limit)] + ([("addr", _digest(detail["source"]), 10 * limit)] if detail.get("source") else [])
    row = con.execute("SELECT password_hash, disabled, role FROM accounts WHERE name = ?", [name]).fetchone()
    who, role = (name, row[2]) if row else (_unknown(name), None)
    if any(_locked(con, kind, key, now) for kind, key, _ in keys):
        _audit(con, who, "sign_in_failed", role=role, detail={**detail, "why": "locked"})
        return LOCKED
    dummy = _dummy()  # made for known and unknown names alike, so the first check times the same
    hashed = row[0] if row else dummy
    ok = _verify(hashed, password) and row is not None
    if ok and not row[1]:
        for kind, key, _ in keys[:1]:
            con.execute("DELETE FROM throttle WHERE kind = ? AND key = ?", [kind, key])
        _audit(con, name, "sign_in", role=role, detail=detail or None)
        return None
    if ok:  # the right password of a disabled account
        _audit(con, who, "sign_in_failed", role=role, detail={**detail, "why": "disabled"})
        return "账号已停用, 请联系管理员"
    for kind, key, most in keys:
        _count_failure(con, kind, key, most, now, lockout)
    _audit(con, who, "sign_in_failed", role=role, detail={**detail, "why": "password" if row else "unknown"})
    return WRONG


WRONG = "账号或密码不正确; 多次输错后将暂时锁定"
LOCKED = "登录失败次数过多, 已暂时锁定; 请稍后再试, 或请管理员重设密码"


def _locked(con: sqlite3.Connection, kind: str, key: str, now: dt.datetime) -> bool:
    row = con.execute("SELECT locked_until FROM throttle WHERE kind = ? AND key = ?", [kind, key]).fetchone()
    return bool(row and row[0] and dt.datetime.fromisoformat(row[0]) > now)


def _count_failure(con: sqlite3.Connection, kind: str, key: str, most: int, now: dt.datetime,
                   lockout: dt.timedelta) -> None:
    row = con.execute("SELECT failed, last_failed FROM throttle WHERE kind = ? AND key = ?", [kind, key]).fetchone()
    failed = 1
    if row and row[1] and now - dt.datetime.fromisoformat(row[1]) < lockout:
        failed = row[0] + 1
    locked = (now + lockout).isoformat() if failed >= most else None
    con.execute("INSERT OR REPLACE INTO throttle (kind, key, failed, last_failed, locked_until) VALUES (?, ?, ?, ?, ?)",
                [kind, key, 0 if locked else failed, now.isoformat(), locked])


def _digest(text: str) -> str:
    return hashlib.sha256(("minqing-throttle:" + (text or "")).encode()).hexdigest()[:32]


def _unknown(name: str) -> str:
    """A typed name that is no account, as the audit log keeps it: people type passwords into
    the name box, so only its first character and length are kept."""
    return f"(未知账号 {name[:1]}{'*' * max(len(name) - 1, 0)})" if name else "(未填账号)"


def account_for_sso(db, email: str | None, verified: bool | None = None) -> Account:
    """The enabled single-sign-on account named by the provider's e-mail; AccessError otherwise.
    Only accounts made for single sign-on (`user add --sso`, no password) match, and never an
    e-mail the provider says is not verified."""
    if not email or verified is False:
        raise AccessError("统一身份认证没有返回已验证的 email, 无法确定账号")
    try:
        acc = get_user(db, email)
    except AccessError:
        acc = None
    if acc is None or acc.has_password:
        raise AccessError(f"{email} 尚未开通统一身份认证账号; 请管理员运行 minqing user add {email} --role 角色 --sso")
    if acc.disabled:
        raise AccessError("账号已停用, 请联系管理员")
    return acc


# ---------------------------------------------------------------------------- audit

def audit(db, who: str, action: str, *, role: str | None = None, target: str | None = None,
          detail: dict | None = None, rows: int | None = None) -> None:
    """Record one action: who did it, what (ACTION_LABELS), on what, with which filter (`detail`), how many rows."""
    with _db(db) as con:
        _audit(con, who, action, role=role, target=target, detail=detail, rows=rows)


def audit_entries(db, *, limit: int = 1000, who: str | None = None, action: str | None = None) -> list[dict]:
    """The newest entries first: at, who, role, action, action_label, target, detail, rows."""
    where, params = ["true"], []
    if who:
        where.append("who = ?")
        params.append(who)
    if action:
        where.append("action = ?")
        params.append(action)
    with _db(db) as con:
        rows = con.execute(f"SELECT at, who, role, action, target, detail, rows FROM audit_log WHERE {' AND '.join(where)}"
                           " ORDER BY id DESC LIMIT ?", [*params, int(limit)]).fetchall()
    return [{"at": at, "who": w, "role": r, "action": a, "action_label": ACTION_LABELS.get(a, a), "target": t,
             "detail": json.loads(d) if d else None, "rows": n} for at, w, r, a, t, d, n in rows]


# ---------------------------------------------------------------------------- helpers

_COLS = "name, role, town_code, town_name, disabled, password_hash IS NOT NULL, created_at"


def _account(row) -> Account:
    name, role, code, town, disabled, has_pw, created = row
    return Account(name, role, code, town, bool(disabled), bool(has_pw), created)


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise AccessError(f"账号名 {name!r} 无效: 应为 1-64 个字符, 不含空格")
    return name


def _hash(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise AccessError(f"密码至少 {MIN_PASSWORD} 个字符")
    return _HASHER.hash(password)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password or "")
    except (VerificationError, InvalidHashError):
        return False


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def _audit(con: sqlite3.Connection, who: str, action: str, *, role: str | None = None, target: str | None = None,
           detail: dict | None = None, rows: int | None = None) -> None:
    con.execute("INSERT INTO audit_log (at, who, role, action, target, detail, rows) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [_now(), who, role, action, target,
                 json.dumps(detail, ensure_ascii=False, default=str) if detail else None, rows])


@contextlib.contextmanager
def _db(db) -> Iterator[sqlite3.Connection]:
    """A connection in one transaction (committed on success); the store is created on first use."""
    path = store_path(db)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        ready = (str(path), path.stat().st_ino)  # a store put back from a copy is a new file: prepared again
        if ready not in _READY:  # the tables once per store and process, not on every sign-in check
            _schema(con)
        yield con
        con.execute("COMMIT")
        _READY.add(ready)
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()


_READY: set[tuple[str, int]] = set()

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    """CREATE TABLE IF NOT EXISTS accounts (
        name TEXT PRIMARY KEY, role TEXT NOT NULL, town_code TEXT, town_name TEXT, password_hash TEXT,
        disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, changed_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS throttle (
        kind TEXT NOT NULL, key TEXT NOT NULL, failed INTEGER NOT NULL, last_failed TEXT, locked_until TEXT,
        PRIMARY KEY (kind, key))""",
    """CREATE TABLE IF NOT EXISTS audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, who TEXT NOT NULL, role TEXT,
        action TEXT NOT NULL, target TEXT, detail TEXT, rows INTEGER)""",
    # the data date each early warning (analysis.alerts) was first shown on: access.seen
    """CREATE TABLE IF NOT EXISTS alerts_seen (
        key TEXT PRIMARY KEY, first_as_of TEXT NOT NULL, first_seen_at TEXT NOT NULL)""",
)


def _schema(con: sqlite3.Connection) -> None:
    for stmt in _SCHEMA:  # one by one: executescript would commit the open transaction
        con.execute(stmt)
    con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
