"""Checking a backup folder (etl.backup) before anything in it is used: the manifest's shape, that
it names only plain files of the folder and that the folder holds exactly those, each file's size
and SHA-256, the warehouse's row counts and key, and the accounts store's rows and integrity."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

MANIFEST = "manifest.json"
FORMAT = 1  # of manifest.json
REFUSE = "拒绝使用此备份"
_HEX64 = re.compile(r"[0-9a-f]{64}")


class BackupError(RuntimeError):
    """A backup cannot be made, is damaged or cannot be put back (the message is for the user)."""


@contextlib.contextmanager
def file_errors(doing: str, path: Path) -> Iterator[None]:
    """OSError and sqlite3.Error as a BackupError naming the file (a full disk, a missing permission...)."""
    try:
        yield
    except (OSError, sqlite3.Error) as e:
        where = getattr(e, "filename", None) or path
        raise BackupError(f"{doing}: {where}: {getattr(e, 'strerror', None) or e}") from None


def plain_name(name: object) -> bool:
    """A file name inside the backup folder: no folder part, not absolute, not `.` or `..`."""
    return (isinstance(name, str) and name not in ("", ".", "..") and Path(name).name == name
            and "/" not in name and "\\" not in name and "\0" not in name)


def _counts_ok(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and type(v) is int and v >= 0 for k, v in value.items())


def shape_problem(m: object) -> str | None:
    """What is wrong with the shape of a manifest (in Chinese), or None."""
    if not isinstance(m, dict):
        return "清单不是一个 JSON 对象"
    if m.get("format") != FORMAT:
        return f"清单格式 {m.get('format')!r} 不是本程序支持的 {FORMAT}"
    name = m.get("warehouse")
    if not plain_name(name):
        return f"数据仓库文件名 {name!r} 无效 (只能是备份目录中的文件名)"
    files = m.get("files")
    if not isinstance(files, dict):
        return "files 应为 文件名 → {bytes, sha256}"
    for n, spec in files.items():
        if not plain_name(n):
            return f"文件名 {n!r} 无效 (只能是备份目录中的文件名)"
        if not isinstance(spec, dict):
            return f"{n} 的说明应为 {{bytes, sha256}}"
        if type(spec.get("bytes")) is not int or spec["bytes"] < 0:
            return f"{n} 的 bytes {spec.get('bytes')!r} 不是文件大小"
        if not isinstance(spec.get("sha256"), str) or not _HEX64.fullmatch(spec["sha256"]):
            return f"{n} 的 sha256 {spec.get('sha256')!r} 不是 64 位十六进制校验值"
    store = name + ".access.sqlite"
    required, allowed = {name, name + ".key"}, {name, name + ".key", store}
    if not required <= set(files) or set(files) - allowed:
        return f"files 应列出 {name} 与 {name}.key (及可选的 {store}), 实为 {', '.join(sorted(files)) or '无'}"
    if not _counts_ok(m.get("tables")) or not _counts_ok(m.get("access_tables")):
        return "tables 与 access_tables 应为 表名 → 行数"
    if (store in files) != bool(m["access_tables"]):
        return f"access_tables 与是否列出 {store} 不一致"
    if not isinstance(m.get("key_fingerprint"), str) or not isinstance(m.get("created_at"), str):
        return "缺少 key_fingerprint 或 created_at"
    if type(m.get("schema_version")) is not int:
        return f"schema_version {m.get('schema_version')!r} 不是整数"
    return None


def load_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} 不是民情地图的备份: 缺少 {MANIFEST}") from None
    except (OSError, ValueError) as e:
        raise BackupError(f"备份清单 {path} 无法读取或已损坏 ({e}); {REFUSE}") from None
    problem = shape_problem(manifest)
    if problem:
        raise BackupError(f"备份清单 {path} 已损坏或不完整: {problem}; {REFUSE}")
    return manifest


def verify(folder: str | Path, *, access_schema: int | None = None) -> dict:
    """The manifest of the backup in `folder` after checking it (see the module); BackupError naming
    the file otherwise. With `access_schema`, an accounts store of a newer schema is refused too."""
    folder = Path(folder)
    with file_errors("无法读取备份", folder):
        return _verify(folder, access_schema)


def _verify(folder: Path, access_schema: int | None) -> dict:
    manifest = load_manifest(folder)
    files, name = manifest["files"], manifest["warehouse"]
    present = {p.name for p in folder.iterdir()} - {MANIFEST}
    extra = sorted(present - set(files))
    if extra:
        raise BackupError(f"备份目录 {folder} 中有清单未列出的文件 {', '.join(extra)}; {REFUSE}")
    for fname, spec in files.items():
        f = folder / fname
        if f.is_symlink() or not f.is_file():
            raise BackupError(f"备份文件 {f} 缺失或不是普通文件; {REFUSE}")
        if f.stat().st_size != spec["bytes"] or sha256(f) != spec["sha256"]:
            raise BackupError(f"备份文件 {f} 已损坏 (与备份清单的 SHA-256 校验值不符); {REFUSE}")
    info = describe_or_refuse(folder / name)
    _same_counts(folder / name, manifest["tables"], info["tables"])
    if manifest["key_fingerprint"] != info["key_fingerprint"]:
        raise BackupError(f"备份清单 {folder / MANIFEST} 的密钥指纹不是数据仓库 {name} 的; {REFUSE}")
    key = (folder / (name + ".key")).read_bytes()
    check_key(key, manifest, folder / (name + ".key"))
    store = folder / (name + ".access.sqlite")
    if store.name in files:
        _check_store(store, manifest["access_tables"], access_schema)
    return manifest


def check_key(key: bytes, manifest: dict, path: Path) -> str:
    """The key in `key` (bytes of the file `path`) after checking them against the manifest: its
    SHA-256 and that its fingerprint is the warehouse's."""
    from .keys import fingerprint_of

    spec = manifest["files"][manifest["warehouse"] + ".key"]
    if hashlib.sha256(key).hexdigest() != spec["sha256"]:
        raise BackupError(f"备份文件 {path} 已损坏 (与备份清单的 SHA-256 校验值不符); {REFUSE}")
    try:
        text = key.decode("ascii").strip()
    except UnicodeDecodeError:
        text = ""
    if fingerprint_of(text) != manifest["key_fingerprint"]:
        raise BackupError(f"备份文件 {path} 不是数据仓库 {manifest['warehouse']} 的密钥 (指纹不符); {REFUSE}")
    return text


def describe_or_refuse(path: Path) -> dict:
    try:
        return describe(path)
    except BackupError:
        raise
    except Exception as e:  # a damaged file: DuckDB's own errors, a newer schema (SchemaError)
        raise BackupError(f"备份文件 {path} 无法作为数据仓库打开 ({e}); {REFUSE}") from None


def describe(path: Path) -> dict:
    """Schema version, key fingerprint, district and rows per table of the warehouse file `path`."""
    from .db import connect
    from .migrations import table_counts, version_of

    con = connect(path, read_only=True)
    try:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        return {"schema_version": version_of(con), "key_fingerprint": meta.get("key_fingerprint"),
                "district_code": meta.get("district_code"), "district_name": meta.get("district_name"),
                "tables": table_counts(con)}
    finally:
        con.close()


def _same_counts(path: Path, listed: dict, found: dict) -> None:
    if listed != found:
        diff = [f"{t} ({listed.get(t, '无')} → {found.get(t, '无')})" for t in sorted(set(listed) | set(found))
                if listed.get(t) != found.get(t)]
        raise BackupError(f"备份文件 {path} 的行数与备份清单不符: {', '.join(diff)}; {REFUSE}")


def _check_store(path: Path, listed: dict, access_schema: int | None) -> None:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            ok = con.execute("PRAGMA integrity_check").fetchall()
            found = sqlite_counts(con)
            version = None
            if "meta" in found:
                row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                version = int(row[0]) if row and str(row[0]).isdigit() else None
        finally:
            con.close()
    except sqlite3.Error as e:
        raise BackupError(f"备份文件 {path} 无法作为账号库打开 ({e}); {REFUSE}") from None
    if ok != [("ok",)]:
        raise BackupError(f"备份文件 {path} 未通过完整性检查 ({ok[0][0]}); {REFUSE}")
    _same_counts(path, listed, found)
    if access_schema is not None and version is not None and version > access_schema:
        raise BackupError(f"备份文件 {path} 的账号库结构版本为 {version}, 由更新版本的民情地图写成 "
                          f"(本程序支持到 {access_schema}); 请先升级民情地图再恢复")


def sqlite_counts(con: sqlite3.Connection) -> dict[str, int]:
    names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
